#!/usr/bin/env bash
# Regenerates the interoperability fixtures: stores written by the tools
# operators use (OpenSSL 3 and the JDK's keytool), read by keystore_test.go.
# Tests generate everything else themselves. Run from this directory; the
# certificates are valid for 100 years. Needs openssl and keytool.
set -euo pipefail
cd "$(dirname "$0")"
P=fixture-pass   # every store and key password
K=key-pass       # the separate key password of jks-keypass.jks
rm -f *.pem *.p12 *.jks *.srl

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 \
  -subj "/CN=fixture CA" -keyout ca.key.pem -out ca.pem \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=fixture client" \
  -keyout client.key.pem -out client.csr.pem
openssl x509 -req -in client.csr.pem -CA ca.pem -CAkey ca.key.pem -CAcreateserial -days 36500 \
  -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n') \
  -out client.crt.pem
rm client.csr.pem ca.srl

# Encrypted PKCS#8 keys: OpenSSL's default (PBKDF2-HMAC-SHA256, AES-256-CBC), and two other PBES2 choices.
openssl pkcs8 -topk8 -in client.key.pem -passout pass:$P -out client.key.aes256.pem
openssl pkcs8 -topk8 -in client.key.pem -passout pass:$P -v2 des3 -out client.key.des3.pem
openssl pkcs8 -topk8 -in client.key.pem -passout pass:$P -v2 aes-128-cbc -v2prf hmacWithSHA1 -out client.key.aes128sha1.pem
# A legacy PBES1 key, which is refused with how to convert it.
openssl pkcs8 -topk8 -in client.key.pem -passout pass:$P -v1 PBE-SHA1-3DES -out client.key.pbes1.pem

# PKCS12 key stores: OpenSSL's, and keytool's from it; JKS from the same.
openssl pkcs12 -export -inkey client.key.pem -in client.crt.pem -certfile ca.pem -name client \
  -passout pass:$P -out client.openssl.p12
keytool -importkeystore -noprompt -srckeystore client.openssl.p12 -srcstoretype PKCS12 -srcstorepass $P \
  -destkeystore client.keytool.p12 -deststoretype PKCS12 -deststorepass $P
keytool -importkeystore -noprompt -srckeystore client.openssl.p12 -srcstoretype PKCS12 -srcstorepass $P \
  -destkeystore client.jks -deststoretype JKS -deststorepass $P 2>/dev/null
# A JKS entry whose key has its own password.
cp client.jks jks-keypass.jks
keytool -keypasswd -alias client -keystore jks-keypass.jks -storepass $P -keypass $P -new $K 2>/dev/null

# Trust stores: keytool's JKS and PKCS12, and OpenSSL's PKCS12 (certificates not marked trusted).
keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.jks -storetype JKS -storepass $P 2>/dev/null
keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.p12 -storetype PKCS12 -storepass $P
openssl pkcs12 -export -nokeys -in ca.pem -passout pass:$P -out truststore.openssl.p12
rm ca.key.pem   # not needed by the tests
