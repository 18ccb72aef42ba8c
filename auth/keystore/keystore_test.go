package keystore_test

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkproxy/linkproxy/auth/keystore"
	"github.com/linkproxy/linkproxy/auth/keystore/keystoretest"
)

// Passwords distinctive enough that finding one in an error is a leak.
const (
	storePass = "St0re-Secret-7731"
	keyPass   = "K3y-Secret-1904"
	wrongPass = "Wr0ng-Secret-5512"
)

// wantErr checks that err is a *keystore.Error naming property, with a
// reason containing each of want, and no password anywhere.
func wantErr(t *testing.T, err error, property string, want ...string) {
	t.Helper()
	var ke *keystore.Error
	if !errors.As(err, &ke) {
		t.Fatalf("error %v (%T) is not a *keystore.Error", err, err)
	}
	if ke.Property != property {
		t.Errorf("error names %s, want %s: %v", ke.Property, property, err)
	}
	for _, w := range want {
		if !strings.Contains(ke.Reason, w) {
			t.Errorf("reason %q does not contain %q", ke.Reason, w)
		}
	}
	for _, secret := range []string{storePass, keyPass, wrongPass, "fixture-pass", "key-pass"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error contains a password: %v", err)
		}
	}
}

// checkKeystore checks that ks presents leaf's certificate, chain after it.
func checkKeystore(t *testing.T, ks *keystore.Keystore, err error, leaf *x509.Certificate) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if ks == nil {
		t.Fatal("no key store")
	}
	certs := ks.Certificates()
	if len(certs) != 1 {
		t.Fatalf("%d certificates, want 1", len(certs))
	}
	c := certs[0]
	if c.Leaf == nil || !c.Leaf.Equal(leaf) || string(c.Certificate[0]) != string(leaf.Raw) {
		t.Errorf("leaf is not first")
	}
	if len(c.Certificate) != 2 {
		t.Errorf("chain of %d, want leaf and CA", len(c.Certificate))
	}
	if c.PrivateKey == nil {
		t.Error("no private key")
	}
}

func TestKeystorePEM(t *testing.T) {
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "ca")
	leaf := ca.Issue(t, "client", "localhost")
	plain := leaf.WritePEM(t, dir, "plain.pem", "")
	encrypted := leaf.WritePEM(t, dir, "encrypted.pem", keyPass)

	t.Run("file, unencrypted key", func(t *testing.T) {
		ks, err := keystore.LoadKeystore(keystore.KeyConfig{Type: "pem", Location: plain})
		checkKeystore(t, ks, err, leaf.Cert)
	})
	t.Run("file, encrypted key", func(t *testing.T) {
		ks, err := keystore.LoadKeystore(keystore.KeyConfig{Type: "PEM", Location: encrypted, KeyPassword: keyPass})
		checkKeystore(t, ks, err, leaf.Cert)
	})
	t.Run("inline, chain in any order", func(t *testing.T) {
		ks, err := keystore.LoadKeystore(keystore.KeyConfig{
			Type:             "PEM",
			Key:              string(leaf.EncryptedKeyPEM(t, keyPass)),
			KeyPassword:      keyPass,
			CertificateChain: string(append(ca.PEM(), leaf.ChainPEM()[:len(leaf.ChainPEM())-len(ca.PEM())]...)),
		})
		checkKeystore(t, ks, err, leaf.Cert)
	})
	t.Run("encrypted key without its password", func(t *testing.T) {
		_, err := keystore.LoadKeystore(keystore.KeyConfig{Type: "PEM", Location: encrypted})
		wantErr(t, err, keystore.PropKeyPassword, "missing", "is encrypted", encrypted)
	})
	t.Run("encrypted key, wrong password", func(t *testing.T) {
		_, err := keystore.LoadKeystore(keystore.KeyConfig{Type: "PEM", Location: encrypted, KeyPassword: wrongPass})
		wantErr(t, err, keystore.PropKeyPassword, "wrong password")
	})
	t.Run("key password for an unencrypted key", func(t *testing.T) {
		_, err := keystore.LoadKeystore(keystore.KeyConfig{Type: "PEM", Location: plain, KeyPassword: keyPass})
		wantErr(t, err, keystore.PropKeyPassword, "not encrypted")
	})
	t.Run("store password with PEM", func(t *testing.T) {
		_, err := keystore.LoadKeystore(keystore.KeyConfig{Type: "PEM", Location: plain, Password: storePass})
		wantErr(t, err, keystore.PropKeystorePassword, "no store password")
	})
	t.Run("inline key without chain", func(t *testing.T) {
		_, err := keystore.LoadKeystore(keystore.KeyConfig{Type: "PEM", Key: string(leaf.KeyPEM(t))})
		wantErr(t, err, keystore.PropKeystoreChain, "missing")
	})
	t.Run("inline key with the default type", func(t *testing.T) {
		_, err := keystore.LoadKeystore(keystore.KeyConfig{Key: string(leaf.KeyPEM(t)), CertificateChain: string(leaf.ChainPEM())})
		wantErr(t, err, keystore.PropKeystoreType, "is JKS", "set ssl.keystore.type to PEM")
	})
	t.Run("inline key and a file", func(t *testing.T) {
		_, err := keystore.LoadKeystore(keystore.KeyConfig{Type: "PEM", Location: plain, Key: string(leaf.KeyPEM(t)), CertificateChain: string(leaf.ChainPEM())})
		wantErr(t, err, keystore.PropKeystoreLocation, "not both")
	})
	t.Run("chain of another key", func(t *testing.T) {
		other := ca.Issue(t, "other")
		_, err := keystore.LoadKeystore(keystore.KeyConfig{Type: "PEM", Key: string(leaf.KeyPEM(t)), CertificateChain: string(other.ChainPEM())})
		wantErr(t, err, keystore.PropKeystoreChain, "no certificate in the chain matches the private key")
	})
	t.Run("inline garbage", func(t *testing.T) {
		_, err := keystore.LoadKeystore(keystore.KeyConfig{Type: "PEM", Key: "not a key", CertificateChain: string(leaf.ChainPEM())})
		wantErr(t, err, keystore.PropKeystoreKey, "holds no PEM private key")
	})
}

func TestKeystorePKCS12(t *testing.T) {
	dir := t.TempDir()
	leaf := keystoretest.NewCA(t, "ca").Issue(t, "client")
	path := keystoretest.Write(t, dir, "client.p12", leaf.PKCS12(t, storePass))

	for _, typ := range []string{"PKCS12", "pkcs12", "JKS", ""} { // JKS reads PKCS12, as in Java
		ks, err := keystore.LoadKeystore(keystore.KeyConfig{Type: typ, Location: path, Password: storePass})
		checkKeystore(t, ks, err, leaf.Cert)
	}
	ks, err := keystore.LoadKeystore(keystore.KeyConfig{Type: "PKCS12", Location: path, Password: storePass, KeyPassword: storePass})
	checkKeystore(t, ks, err, leaf.Cert)

	_, err = keystore.LoadKeystore(keystore.KeyConfig{Type: "PKCS12", Location: path, Password: wrongPass})
	wantErr(t, err, keystore.PropKeystorePassword, "wrong password", path)
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Type: "PKCS12", Location: path})
	wantErr(t, err, keystore.PropKeystorePassword, "missing")
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Type: "PKCS12", Location: path, Password: storePass, KeyPassword: keyPass})
	wantErr(t, err, keystore.PropKeyPassword, "differs from ssl.keystore.password")
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Type: "PEM", Location: path})
	wantErr(t, err, keystore.PropKeystoreType, "is PEM, but", "is a PKCS12 store: set ssl.keystore.type to PKCS12")
}

func TestKeystoreJKS(t *testing.T) {
	dir := t.TempDir()
	leaf := keystoretest.NewCA(t, "ca").Issue(t, "client")
	same := keystoretest.Write(t, dir, "same.jks", leaf.JKS(t, storePass, storePass))
	own := keystoretest.Write(t, dir, "own.jks", leaf.JKS(t, storePass, keyPass))

	for _, typ := range []string{"JKS", "", "PKCS12"} { // PKCS12 reads JKS, as in Java
		ks, err := keystore.LoadKeystore(keystore.KeyConfig{Type: typ, Location: same, Password: storePass})
		checkKeystore(t, ks, err, leaf.Cert)
	}
	ks, err := keystore.LoadKeystore(keystore.KeyConfig{Location: own, Password: storePass, KeyPassword: keyPass})
	checkKeystore(t, ks, err, leaf.Cert)

	_, err = keystore.LoadKeystore(keystore.KeyConfig{Location: same})
	wantErr(t, err, keystore.PropKeystorePassword, "missing", same)
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Location: same, Password: wrongPass})
	wantErr(t, err, keystore.PropKeystorePassword, "wrong password", same)
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Location: own, Password: storePass})
	wantErr(t, err, keystore.PropKeyPassword, "does not decrypt with ssl.keystore.password")
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Location: own, Password: storePass, KeyPassword: wrongPass})
	wantErr(t, err, keystore.PropKeyPassword, "wrong password")
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Type: "PEM", Location: same})
	wantErr(t, err, keystore.PropKeystoreType, "is a JKS store: set ssl.keystore.type to JKS")

	trust := keystoretest.Write(t, dir, "trust.jks", leaf.CA.TrustJKS(t, storePass))
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Location: trust, Password: storePass})
	wantErr(t, err, keystore.PropKeystoreLocation, "holds no private key entry")
}

func TestKeystoreConfigErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.jks")
	garbage := keystoretest.Write(t, dir, "garbage", []byte("\x00\x01 not a store"))
	jceks := keystoretest.Write(t, dir, "x.jceks", []byte{0xce, 0xce, 0xce, 0xce, 0, 0, 0, 2})

	ks, err := keystore.LoadKeystore(keystore.KeyConfig{})
	if ks != nil || err != nil {
		t.Errorf("empty config: %v, %v; want nil, nil", ks, err)
	}
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Location: missing, Password: storePass})
	wantErr(t, err, keystore.PropKeystoreLocation, missing, "no such file", "check the path")
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Location: garbage, Password: storePass})
	wantErr(t, err, keystore.PropKeystoreLocation, "is not a JKS, PKCS12 or PEM store")
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Location: jceks, Password: storePass})
	wantErr(t, err, keystore.PropKeystoreLocation, "JCEKS")
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Type: "JCEKS", Location: jceks})
	wantErr(t, err, keystore.PropKeystoreType, "JCEKS stores are not supported")
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Type: "BCFKS", Location: jceks})
	wantErr(t, err, keystore.PropKeystoreType, `"BCFKS" is not supported: use JKS, PKCS12 or PEM`)
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Password: storePass})
	wantErr(t, err, keystore.PropKeystorePassword, "ssl.keystore.location is not")
	_, err = keystore.LoadKeystore(keystore.KeyConfig{KeyPassword: keyPass})
	wantErr(t, err, keystore.PropKeyPassword, "no key store is")
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Type: "PEM", Location: garbage})
	wantErr(t, err, keystore.PropKeystoreLocation, "is not a PEM file")
}

func TestTruststore(t *testing.T) {
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "ca")
	leaf := ca.Issue(t, "broker", "localhost")
	pemFile := keystoretest.Write(t, dir, "ca.pem", ca.PEM())
	jksFile := keystoretest.Write(t, dir, "trust.jks", ca.TrustJKS(t, storePass))
	p12File := keystoretest.Write(t, dir, "trust.p12", ca.TrustPKCS12(t, storePass))
	keyP12 := keystoretest.Write(t, dir, "key.p12", leaf.PKCS12(t, storePass))

	verifies := func(t *testing.T, ts *keystore.Truststore, err error, cert *x509.Certificate) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: ts.Pool(), DNSName: "localhost"}); err != nil {
			t.Errorf("chain does not verify against the trust store: %v", err)
		}
	}
	for name, c := range map[string]keystore.TrustConfig{
		"PEM file":             {Type: "PEM", Location: pemFile},
		"PEM inline":           {Type: "PEM", Certificates: string(ca.PEM())},
		"JKS":                  {Location: jksFile, Password: storePass},
		"JKS without password": {Type: "JKS", Location: jksFile}, // read unchecked, as Java does
		"PKCS12":               {Type: "PKCS12", Location: p12File, Password: storePass},
		"PKCS12 as JKS type":   {Location: p12File, Password: storePass},
	} {
		t.Run(name, func(t *testing.T) {
			ts, err := keystore.LoadTruststore(c)
			verifies(t, ts, err, leaf.Cert)
			if got := ts.Certificates(); len(got) != 1 || !got[0].Equal(ca.Cert) {
				t.Errorf("certificates %v", got)
			}
		})
	}
	t.Run("PKCS12 key store trusts its leaf", func(t *testing.T) {
		ts, err := keystore.LoadTruststore(keystore.TrustConfig{Type: "PKCS12", Location: keyP12, Password: storePass})
		if err != nil {
			t.Fatal(err)
		}
		if got := ts.Certificates(); len(got) != 1 || !got[0].Equal(leaf.Cert) {
			t.Errorf("certificates %v", got)
		}
	})

	ts, err := keystore.LoadTruststore(keystore.TrustConfig{})
	if ts != nil || err != nil {
		t.Errorf("empty config: %v, %v; want nil, nil", ts, err)
	}
	_, err = keystore.LoadTruststore(keystore.TrustConfig{Location: jksFile, Password: wrongPass})
	wantErr(t, err, keystore.PropTruststorePassword, "wrong password", jksFile)
	_, err = keystore.LoadTruststore(keystore.TrustConfig{Type: "PKCS12", Location: p12File, Password: wrongPass})
	wantErr(t, err, keystore.PropTruststorePassword, "wrong password", p12File)
	_, err = keystore.LoadTruststore(keystore.TrustConfig{Type: "PKCS12", Location: p12File})
	wantErr(t, err, keystore.PropTruststorePassword, "missing")
	missing := filepath.Join(dir, "nope.p12")
	_, err = keystore.LoadTruststore(keystore.TrustConfig{Location: missing})
	wantErr(t, err, keystore.PropTruststoreLocation, missing, "no such file")
	_, err = keystore.LoadTruststore(keystore.TrustConfig{Type: "PEM", Location: jksFile})
	wantErr(t, err, keystore.PropTruststoreType, "is a JKS store: set ssl.truststore.type to JKS")
	_, err = keystore.LoadTruststore(keystore.TrustConfig{Type: "PKCS12", Location: pemFile})
	wantErr(t, err, keystore.PropTruststoreType, "is a PEM file: set ssl.truststore.type to PEM")
	_, err = keystore.LoadTruststore(keystore.TrustConfig{Type: "PEM", Location: pemFile, Password: storePass})
	wantErr(t, err, keystore.PropTruststorePassword, "no password")
	_, err = keystore.LoadTruststore(keystore.TrustConfig{Certificates: string(ca.PEM())})
	wantErr(t, err, keystore.PropTruststoreType, "set ssl.truststore.type to PEM")
	_, err = keystore.LoadTruststore(keystore.TrustConfig{Type: "PEM", Certificates: string(ca.PEM()), Location: pemFile})
	wantErr(t, err, keystore.PropTruststoreLocation, "not both")
	_, err = keystore.LoadTruststore(keystore.TrustConfig{Type: "PEM", Certificates: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"})
	wantErr(t, err, keystore.PropTruststoreCerts, "certificate 1")
	_, err = keystore.LoadTruststore(keystore.TrustConfig{Password: storePass})
	wantErr(t, err, keystore.PropTruststorePassword, "ssl.truststore.location is not")
}

// TestToolFixtures reads stores written by OpenSSL 3 and the JDK's keytool
// (testdata/gen.sh), the tools operators make them with.
func TestToolFixtures(t *testing.T) {
	const pass = "fixture-pass"
	fixture := func(name string) string { return filepath.Join("testdata", name) }
	crt, err := os.ReadFile(fixture("client.crt.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := keystore.LoadTruststore(keystore.TrustConfig{Type: "PEM", Location: fixture("ca.pem")})
	if err != nil {
		t.Fatal(err)
	}
	leafTS, err := keystore.LoadTruststore(keystore.TrustConfig{Type: "PEM", Certificates: string(crt)})
	if err != nil {
		t.Fatal(err)
	}
	leaf := leafTS.Certificates()[0]

	for name, c := range map[string]keystore.KeyConfig{
		"OpenSSL PKCS12":               {Type: "PKCS12", Location: fixture("client.openssl.p12"), Password: pass},
		"keytool PKCS12":               {Type: "PKCS12", Location: fixture("client.keytool.p12"), Password: pass},
		"keytool JKS":                  {Location: fixture("client.jks"), Password: pass},
		"keytool JKS, own key pass":    {Location: fixture("jks-keypass.jks"), Password: pass, KeyPassword: "key-pass"},
		"PEM, PBKDF2-SHA256 AES-256":   {Type: "PEM", Key: readFile(t, fixture("client.key.aes256.pem")), KeyPassword: pass, CertificateChain: string(crt)},
		"PEM, PBKDF2-SHA256 3DES":      {Type: "PEM", Key: readFile(t, fixture("client.key.des3.pem")), KeyPassword: pass, CertificateChain: string(crt)},
		"PEM, PBKDF2-SHA1 AES-128":     {Type: "PEM", Key: readFile(t, fixture("client.key.aes128sha1.pem")), KeyPassword: pass, CertificateChain: string(crt)},
		"PEM, unencrypted PKCS#8 file": {Type: "PEM", Key: readFile(t, fixture("client.key.pem")), CertificateChain: string(crt)},
	} {
		t.Run(name, func(t *testing.T) {
			ks, err := keystore.LoadKeystore(c)
			if err != nil {
				t.Fatal(err)
			}
			certs := ks.Certificates()
			if len(certs) != 1 || !certs[0].Leaf.Equal(leaf) {
				t.Fatalf("certificates %v", certs)
			}
			if _, err := certs[0].Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Error(err)
			}
		})
	}

	_, err = keystore.LoadKeystore(keystore.KeyConfig{Location: fixture("jks-keypass.jks"), Password: pass})
	wantErr(t, err, keystore.PropKeyPassword, "set ssl.key.password to the key's password")
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Type: "PEM", Key: readFile(t, fixture("client.key.aes256.pem")), KeyPassword: "nope", CertificateChain: string(crt)})
	wantErr(t, err, keystore.PropKeyPassword, "wrong password")
	_, err = keystore.LoadKeystore(keystore.KeyConfig{Type: "PEM", Key: readFile(t, fixture("client.key.pbes1.pem")), KeyPassword: pass, CertificateChain: string(crt)})
	wantErr(t, err, keystore.PropKeystoreKey, "legacy scheme", "openssl pkcs8 -topk8 -v2 aes-256-cbc")

	for name, c := range map[string]keystore.TrustConfig{
		"keytool JKS":                  {Location: fixture("truststore.jks"), Password: pass},
		"keytool JKS without password": {Location: fixture("truststore.jks")},
		"keytool PKCS12":               {Type: "PKCS12", Location: fixture("truststore.p12"), Password: pass},
	} {
		t.Run(name, func(t *testing.T) {
			ts, err := keystore.LoadTruststore(c)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: ts.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				t.Error(err)
			}
		})
	}
	_, err = keystore.LoadTruststore(keystore.TrustConfig{Type: "PKCS12", Location: fixture("truststore.openssl.p12"), Password: pass})
	wantErr(t, err, keystore.PropTruststoreLocation, "not marked as trusted")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
