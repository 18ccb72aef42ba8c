package keystore

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
)

// pemBlocks returns the PEM blocks in data, skipping text between them as
// Kafka's parser does.
func pemBlocks(data []byte) []*pem.Block {
	var blocks []*pem.Block
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return blocks
		}
		blocks = append(blocks, b)
	}
}

// pemCertificates parses every CERTIFICATE block; other blocks are skipped.
func pemCertificates(data []byte, property, where string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for _, b := range pemBlocks(data) {
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, errorf(property, "%s: certificate %d: %v", where, len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errorf(property, "%s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", where)
	}
	return certs, nil
}

// pemKeystore reads one private key from keyPEM and its chain from
// chainPEM (the same bytes for a PEM file).
func pemKeystore(keyPEM, chainPEM []byte, keyPassword, keyProp, chainProp, where string) (*Keystore, error) {
	var keys []*pem.Block
	for _, b := range pemBlocks(keyPEM) {
		if strings.HasSuffix(b.Type, "PRIVATE KEY") {
			keys = append(keys, b)
		}
	}
	switch len(keys) {
	case 0:
		return nil, errorf(keyProp, "%s holds no PEM private key (-----BEGIN PRIVATE KEY----- or ENCRYPTED PRIVATE KEY)", where)
	case 1:
	default:
		return nil, errorf(keyProp, "%s holds %d private keys: a key store has one", where, len(keys))
	}
	key, err := pemPrivateKey(keys[0], keyPassword, keyProp, where)
	if err != nil {
		return nil, err
	}
	chainWhere := where // "the value" for inline PEM, as the property is named
	certs, err := pemCertificates(chainPEM, chainProp, chainWhere)
	if err != nil {
		return nil, err
	}
	tc, err := buildCertificate(key, certs, chainProp, chainWhere)
	if err != nil {
		return nil, err
	}
	return &Keystore{certs: []tls.Certificate{tc}}, nil
}

// pemPrivateKey decodes a private key block, decrypting it with password
// when it is an encrypted PKCS#8 key.
func pemPrivateKey(b *pem.Block, password, property, where string) (crypto.PrivateKey, error) {
	if _, legacy := b.Headers["Proc-Type"]; legacy {
		return nil, errorf(property, "%s: the key is encrypted the legacy OpenSSL way (Proc-Type header), which neither Kafka nor linkproxy reads: %s", where, convertHint)
	}
	der := b.Bytes
	encrypted := b.Type == "ENCRYPTED PRIVATE KEY"
	switch {
	case encrypted && password == "":
		return nil, errorf(PropKeyPassword, "missing: the private key in %s is encrypted: set ssl.key.password to its password", where)
	case !encrypted && password != "":
		return nil, errorf(PropKeyPassword, "set, but the private key in %s is not encrypted: remove ssl.key.password", where)
	case encrypted:
		var err error
		if der, err = decryptPKCS8(der, password); err != nil {
			if errors.Is(err, errWrongKeyPassword) {
				return nil, errorf(PropKeyPassword, "%s: %v", where, err)
			}
			return nil, errorf(property, "%s: %v", where, err)
		}
	}
	var key crypto.PrivateKey
	var err error
	switch b.Type {
	case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(der)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(der)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(der)
	default:
		return nil, errorf(property, "%s: a %q block is not a key linkproxy reads: use PKCS#8 (-----BEGIN PRIVATE KEY-----, `openssl pkcs8 -topk8`)", where, b.Type)
	}
	if err != nil {
		if encrypted {
			// The padding came out right by chance: still a wrong password.
			return nil, errorf(PropKeyPassword, "%s: %v", where, errWrongKeyPassword)
		}
		return nil, errorf(property, "%s: the private key does not parse: %v", where, err)
	}
	return key, nil
}
