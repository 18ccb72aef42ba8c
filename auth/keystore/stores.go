package keystore

import (
	"bytes"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// jksKeystore reads every private key entry of a JKS file. Each entry's
// key is protected by ssl.key.password, or the store password when that
// is not set, as in Kafka.
func jksKeystore(data []byte, c KeyConfig) (*Keystore, error) {
	if c.Password == "" {
		return nil, errorf(PropKeystorePassword, "missing: set the password of the JKS key store %s", c.Location)
	}
	ks, err := loadJKS(data, c.Password, c.Location, PropKeystoreLocation, PropKeystorePassword)
	if err != nil {
		return nil, err
	}
	keyPassword, keyProp := c.KeyPassword, PropKeyPassword
	if keyPassword == "" {
		keyPassword, keyProp = c.Password, PropKeystorePassword
	}
	var certs []tls.Certificate
	for _, alias := range ks.Aliases() {
		if !ks.IsPrivateKeyEntry(alias) {
			continue
		}
		where := fmt.Sprintf("entry %q of the JKS file %s", alias, c.Location)
		e, err := ks.GetPrivateKeyEntry(alias, []byte(keyPassword))
		if err != nil {
			if keyProp == PropKeystorePassword {
				return nil, errorf(PropKeyPassword, "missing or wrong: the private key of %s does not decrypt with ssl.keystore.password: set ssl.key.password to the key's password", where)
			}
			return nil, errorf(PropKeyPassword, "wrong password: the private key of %s does not decrypt with it", where)
		}
		key, err := x509.ParsePKCS8PrivateKey(e.PrivateKey)
		if err != nil {
			return nil, errorf(PropKeystoreLocation, "%s: the private key does not parse: %v", where, err)
		}
		chain, err := jksCertificates(e.CertificateChain, where)
		if err != nil {
			return nil, err
		}
		tc, err := buildCertificate(key, chain, PropKeystoreLocation, where)
		if err != nil {
			return nil, err
		}
		certs = append(certs, tc)
	}
	if len(certs) == 0 {
		return nil, errorf(PropKeystoreLocation, "the JKS file %s holds no private key entry: it is a trust store, not a key store", c.Location)
	}
	return &Keystore{certs: certs}, nil
}

// loadJKS reads a JKS file and checks its integrity with password. With
// no password it reads the store unchecked, as Java does for a trust
// store loaded without one.
func loadJKS(data []byte, password, path, locationProp, passwordProp string) (jks.KeyStore, error) {
	ks := jks.New(jks.WithOrderedAliases(), jks.WithCaseExactAliases())
	if password == "" {
		data = unsealJKS(data)
	}
	if err := ks.Load(bytes.NewReader(data), []byte(password)); err != nil {
		if strings.Contains(err.Error(), "invalid digest") && password != "" {
			return ks, errorf(passwordProp, "wrong password for the JKS file %s (or the file is damaged): its integrity check fails", path)
		}
		return ks, errorf(locationProp, "the JKS file %s does not read: %v", path, err)
	}
	return ks, nil
}

// unsealJKS replaces a JKS file's trailing integrity digest with the one
// an empty password gives, so that the store reads without its password,
// as java.security.KeyStore.load(in, null) reads it. Only certificates can
// be read that way: private keys stay encrypted with their own password.
func unsealJKS(data []byte) []byte {
	if len(data) < sha1.Size {
		return data
	}
	body := data[:len(data)-sha1.Size]
	h := sha1.New()
	h.Write([]byte("Mighty Aphrodite")) // JKS's whitener, after the (empty) password
	h.Write(body)
	return append(append([]byte(nil), body...), h.Sum(nil)...)
}

func jksCertificates(chain []jks.Certificate, where string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for i, c := range chain {
		if c.Type != "X509" && c.Type != "X.509" {
			return nil, errorf(PropKeystoreLocation, "%s: certificate %d is of type %q, not X.509", where, i+1, c.Type)
		}
		cert, err := x509.ParseCertificate(c.Content)
		if err != nil {
			return nil, errorf(PropKeystoreLocation, "%s: certificate %d: %v", where, i+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errorf(PropKeystoreLocation, "%s has no certificate", where)
	}
	return certs, nil
}

// pkcs12Keystore reads the one private key of a PKCS12 file and its
// chain. PKCS12 protects its key with the store password (keytool ignores
// a different -keypass for PKCS12), so ssl.key.password, if set, must be
// the same.
func pkcs12Keystore(data []byte, c KeyConfig) (*Keystore, error) {
	if c.KeyPassword != "" && c.KeyPassword != c.Password {
		return nil, errorf(PropKeyPassword, "differs from ssl.keystore.password, but a PKCS12 file protects its key with the store password: remove ssl.key.password or set it to the same")
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, c.Password)
	if err != nil {
		return nil, pkcs12Error(err, c.Password, c.Location, PropKeystoreLocation, PropKeystorePassword)
	}
	where := fmt.Sprintf("the PKCS12 file %s", c.Location)
	tc, err := buildCertificate(key, append([]*x509.Certificate{leaf}, cas...), PropKeystoreLocation, where)
	if err != nil {
		return nil, err
	}
	return &Keystore{certs: []tls.Certificate{tc}}, nil
}

// pkcs12Error explains a go-pkcs12 error, whose texts never hold the
// password.
func pkcs12Error(err error, password, path, locationProp, passwordProp string) *Error {
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
		if password == "" {
			return errorf(passwordProp, "missing: the PKCS12 file %s is protected by a password", path)
		}
		return errorf(passwordProp, "wrong password for the PKCS12 file %s (or the file is damaged)", path)
	case strings.Contains(err.Error(), "expected exactly one key bag"):
		return errorf(locationProp, "the PKCS12 file %s holds several private keys; linkproxy reads a PKCS12 key store with one: export the one to use (keytool -importkeystore -srcalias NAME), or use a JKS store", path)
	case strings.Contains(err.Error(), "private key missing"):
		return errorf(locationProp, "the PKCS12 file %s holds no private key: it is a trust store, not a key store", path)
	}
	return errorf(locationProp, "the PKCS12 file %s does not read: %v", path, err)
}

// jksTrusted returns the certificates a JKS trust store trusts: its
// trusted certificate entries and, as Java's PKIX trust manager does, the
// end-entity certificate of each private key entry.
func jksTrusted(ks jks.KeyStore, path string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for _, alias := range ks.Aliases() {
		var c jks.Certificate
		switch {
		case ks.IsTrustedCertificateEntry(alias):
			e, err := ks.GetTrustedCertificateEntry(alias)
			if err != nil {
				return nil, errorf(PropTruststoreLocation, "entry %q of the JKS file %s: %v", alias, path, err)
			}
			c = e.Certificate
		case ks.IsPrivateKeyEntry(alias):
			chain, err := ks.GetPrivateKeyEntryCertificateChain(alias)
			if err != nil || len(chain) == 0 {
				continue
			}
			c = chain[0]
		default:
			continue
		}
		cert, err := x509.ParseCertificate(c.Content)
		if err != nil {
			return nil, errorf(PropTruststoreLocation, "entry %q of the JKS file %s: %v", alias, path, err)
		}
		certs = append(certs, cert)
	}
	return certs, nil
}

// pkcs12Trusted returns the certificates of a PKCS12 trust store: those
// Java marks as trusted, or, for a PKCS12 key store used as a trust store,
// its end-entity certificate, as Java's trust manager takes it.
func pkcs12Trusted(data []byte, password, path string) ([]*x509.Certificate, error) {
	certs, err := pkcs12.DecodeTrustStore(data, password)
	if err == nil {
		return certs, nil
	}
	if errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption) {
		return nil, pkcs12Error(err, password, path, PropTruststoreLocation, PropTruststorePassword)
	}
	if strings.Contains(err.Error(), "not marked as trusted") {
		return nil, errorf(PropTruststoreLocation, "the PKCS12 file %s holds certificates not marked as trusted (as OpenSSL writes them), which Java does not trust either: import them with keytool -importcert, or give the CA certificates as PEM (ssl.truststore.type=PEM)", path)
	}
	if _, leaf, _, kerr := pkcs12.DecodeChain(data, password); kerr == nil {
		return []*x509.Certificate{leaf}, nil
	}
	return nil, pkcs12Error(err, password, path, PropTruststoreLocation, PropTruststorePassword)
}
