// Package keystoretest makes certificates and writes them as the key
// stores and trust stores package keystore reads (PEM, PKCS12 with
// go-pkcs12, JKS with keystore-go), for tests of linkproxy's TLS.
package keystoretest

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// CA is a certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

func nextSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err)
	}
	return n
}

func newKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// NewCA returns a new self-signed CA named name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: cert, Key: key}
}

// Leaf is a certificate issued by a CA, with its key.
type Leaf struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	CA   *CA
}

// Issue returns a certificate named cn for hosts (DNS names or IP
// addresses), good for both server and client authentication.
func (ca *CA) Issue(t testing.TB, cn string, hosts ...string) *Leaf {
	t.Helper()
	return ca.IssueSubject(t, pkix.Name{CommonName: cn}, hosts...)
}

// PEM returns the CA's certificate as PEM.
func (ca *CA) PEM() []byte { return certPEM(ca.Cert) }

// Pool returns a pool of the CA's certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// ChainPEM returns the leaf's certificate then its CA's, as PEM.
func (l *Leaf) ChainPEM() []byte { return append(certPEM(l.Cert), certPEM(l.CA.Cert)...) }

func (l *Leaf) pkcs8(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(l.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// KeyPEM returns the leaf's private key as unencrypted PKCS#8 PEM.
func (l *Leaf) KeyPEM(t testing.TB) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: l.pkcs8(t)})
}

// EncryptedKeyPEM returns the leaf's private key as encrypted PKCS#8 PEM,
// the way OpenSSL 3 writes it by default: PBES2, PBKDF2-HMAC-SHA256,
// AES-256-CBC.
func (l *Leaf) EncryptedKeyPEM(t testing.TB, password string) []byte {
	t.Helper()
	salt, iv := make([]byte, 16), make([]byte, aes.BlockSize)
	rand.Read(salt)
	rand.Read(iv)
	const iterations = 2048
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		t.Fatal(err)
	}
	plain := l.pkcs8(t)
	n := aes.BlockSize - len(plain)%aes.BlockSize
	plain = append(plain, bytes.Repeat([]byte{byte(n)}, n)...)
	block, _ := aes.NewCipher(key)
	enc := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(enc, plain)

	type algo struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue
	}
	raw := func(v any) asn1.RawValue {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return asn1.RawValue{FullBytes: b}
	}
	kdf := algo{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}, raw(struct {
		Salt       []byte
		Iterations int
		PRF        algo
	}{salt, iterations, algo{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}, asn1.NullRawValue}})}
	scheme := algo{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, raw(iv)}
	der, err := asn1.Marshal(struct {
		Algo algo
		Data []byte
	}{algo{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}, raw(struct{ KDF, Scheme algo }{kdf, scheme})}, enc})
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
}

// TLSCertificate returns the leaf as a tls.Certificate with its chain.
func (l *Leaf) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{l.Cert.Raw, l.CA.Cert.Raw}, PrivateKey: l.Key, Leaf: l.Cert}
}

// ServerConfig returns a TLS server configuration presenting the leaf;
// with clientCAs, client certificates signed by them are required.
func (l *Leaf) ServerConfig(clientCAs *CA) *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{l.TLSCertificate()}}
	if clientCAs != nil {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = clientCAs.Pool()
	}
	return cfg
}

// Write writes data to dir/name and returns the path.
func Write(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// WritePEM writes the leaf's key (encrypted with keyPassword unless it is
// empty) and chain to one PEM file, a PEM key store.
func (l *Leaf) WritePEM(t testing.TB, dir, name, keyPassword string) string {
	key := l.KeyPEM(t)
	if keyPassword != "" {
		key = l.EncryptedKeyPEM(t, keyPassword)
	}
	return Write(t, dir, name, append(key, l.ChainPEM()...))
}

// PKCS12 returns a PKCS12 key store of the leaf, its key and chain.
func (l *Leaf) PKCS12(t testing.TB, password string) []byte {
	t.Helper()
	data, err := pkcs12.Modern.Encode(l.Key, l.Cert, []*x509.Certificate{l.CA.Cert}, password)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// JKS returns a JKS key store with the leaf under alias "client", the
// store protected by storePassword and the key by keyPassword.
func (l *Leaf) JKS(t testing.TB, storePassword, keyPassword string) []byte {
	t.Helper()
	ks := jks.New()
	entry := jks.PrivateKeyEntry{
		CreationTime: time.Now(),
		PrivateKey:   l.pkcs8(t),
		CertificateChain: []jks.Certificate{
			{Type: "X.509", Content: l.Cert.Raw},
			{Type: "X.509", Content: l.CA.Cert.Raw},
		},
	}
	if err := ks.SetPrivateKeyEntry("client", entry, []byte(keyPassword)); err != nil {
		t.Fatal(err)
	}
	return storeJKS(t, ks, storePassword)
}

// TrustPKCS12 returns a PKCS12 trust store of the CA, marked trusted as
// keytool marks it.
func (ca *CA) TrustPKCS12(t testing.TB, password string) []byte {
	t.Helper()
	data, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{ca.Cert}, password)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TrustJKS returns a JKS trust store of the CA.
func (ca *CA) TrustJKS(t testing.TB, password string) []byte {
	t.Helper()
	ks := jks.New()
	err := ks.SetTrustedCertificateEntry("ca", jks.TrustedCertificateEntry{
		CreationTime: time.Now(),
		Certificate:  jks.Certificate{Type: "X.509", Content: ca.Cert.Raw},
	})
	if err != nil {
		t.Fatal(err)
	}
	return storeJKS(t, ks, password)
}

func storeJKS(t testing.TB, ks jks.KeyStore, password string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := ks.Store(&b, []byte(password)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
