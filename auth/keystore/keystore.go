// Package keystore loads the key stores and trust stores of Kafka's ssl.*
// properties for linkproxy's TLS: the client side (the proxy's upstream
// connection and every cluster link, through conf/clientprops) and, later,
// the server side of its listeners.
//
// A key store ([KeyConfig], [LoadKeystore]) gives the certificates linkproxy
// presents ([Keystore.Certificates], for tls.Config.Certificates); a trust
// store ([TrustConfig], [LoadTruststore]) gives the certificates it trusts
// ([Truststore.Pool], for tls.Config.RootCAs or ClientCAs). Both read the
// three types Kafka reads (ssl.keystore.type, ssl.truststore.type):
//
//   - JKS, Kafka's default, and PKCS12 files. As in Java, whose JKS and
//     PKCS12 key stores each read both formats, either type reads either
//     file: the format is taken from the file's contents.
//   - PEM: a file (ssl.keystore.location, ssl.truststore.location) or the
//     PEM text itself (ssl.keystore.key with ssl.keystore.certificate.chain,
//     ssl.truststore.certificates), as Kafka 2.7 and later allow. A private
//     key is PKCS#8, plain or encrypted ("ENCRYPTED PRIVATE KEY", PBES2 as
//     OpenSSL and Java write it) with ssl.key.password; PKCS#1 and SEC 1
//     keys ("RSA PRIVATE KEY", "EC PRIVATE KEY") are read too, unencrypted.
//
// Passwords follow Kafka: ssl.keystore.password protects a JKS or PKCS12
// file, ssl.key.password the key inside (a JKS entry's, defaulting to the
// store password; a PEM key's), ssl.truststore.password a trust store file,
// which Java also reads without one (no integrity check, as here for JKS).
// The combinations Kafka refuses are refused with its reasons.
//
// Every error is an [*Error] naming the Kafka property to fix and the
// reason. No error contains a password, a key or a PEM value; file paths
// appear, as they are no secret and say which file is meant.
//
// [ProtocolVersions], [ParseProtocol] and [ParseCipherSuites] translate
// ssl.enabled.protocols, ssl.protocol and ssl.cipher.suites, which both
// sides share.
package keystore

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
)

// The store types of ssl.keystore.type and ssl.truststore.type.
const (
	TypeJKS    = "JKS"
	TypePKCS12 = "PKCS12"
	TypePEM    = "PEM"
)

// The Kafka properties errors name.
const (
	PropKeystoreType       = "ssl.keystore.type"
	PropKeystoreLocation   = "ssl.keystore.location"
	PropKeystorePassword   = "ssl.keystore.password"
	PropKeyPassword        = "ssl.key.password"
	PropKeystoreKey        = "ssl.keystore.key"
	PropKeystoreChain      = "ssl.keystore.certificate.chain"
	PropTruststoreType     = "ssl.truststore.type"
	PropTruststoreLocation = "ssl.truststore.location"
	PropTruststorePassword = "ssl.truststore.password"
	PropTruststoreCerts    = "ssl.truststore.certificates"
)

// Error is a problem with a store, named by the Kafka property to fix.
// Reason never holds a password or key material.
type Error struct {
	Property string
	Reason   string
}

func (e *Error) Error() string { return e.Property + ": " + e.Reason }

func errorf(property, format string, args ...any) *Error {
	return &Error{Property: property, Reason: fmt.Sprintf(format, args...)}
}

// ParseType validates a store type as Kafka names it, in any case, and
// returns it in upper case; "" is Kafka's default, JKS. The error is the
// reason only, for the caller to attach to ssl.keystore.type or
// ssl.truststore.type.
func ParseType(s string) (string, error) {
	switch t := strings.ToUpper(strings.TrimSpace(s)); t {
	case "":
		return TypeJKS, nil
	case TypeJKS, TypePKCS12, TypePEM:
		return t, nil
	case "JCEKS":
		return "", fmt.Errorf("JCEKS stores are not supported: convert the store to PKCS12 (keytool -importkeystore -srckeystore FILE -srcstoretype JCEKS -destkeystore NEW.p12 -deststoretype PKCS12)")
	default:
		return "", fmt.Errorf("%q is not supported: use JKS, PKCS12 or PEM", s)
	}
}

// KeyConfig says where a key store comes from, with Kafka's properties.
// Empty strings are unset properties.
type KeyConfig struct {
	Type             string // ssl.keystore.type: JKS (when empty), PKCS12 or PEM
	Location         string // ssl.keystore.location: a JKS, PKCS12 or PEM file
	Password         string // ssl.keystore.password: the JKS or PKCS12 file's
	KeyPassword      string // ssl.key.password: the private key's
	Key              string // ssl.keystore.key: a PEM private key, inline
	CertificateChain string // ssl.keystore.certificate.chain: PEM certificates, inline
}

// Keystore is a loaded key store: the certificate chains linkproxy can
// present, each with its private key.
type Keystore struct {
	certs []tls.Certificate
}

// Certificates returns the key store's certificates, leaf first in each
// chain, with Leaf set, ready for tls.Config.Certificates. A TLS client
// presents the first one that fits the server's request; a JKS store may
// hold several private key entries, the other types hold one.
func (k *Keystore) Certificates() []tls.Certificate {
	return append([]tls.Certificate(nil), k.certs...)
}

// LoadKeystore reads the key store c describes: the file is read now, and
// the returned Keystore does not change when the file does. It returns nil
// and no error when c configures no key store (a client without a
// certificate), and an *Error otherwise.
func LoadKeystore(c KeyConfig) (*Keystore, error) {
	typ, err := ParseType(c.Type)
	if err != nil {
		return nil, &Error{PropKeystoreType, err.Error()}
	}
	switch {
	case c.Key != "" || c.CertificateChain != "":
		switch {
		case c.Key == "":
			return nil, errorf(PropKeystoreKey, "missing: ssl.keystore.certificate.chain is set, so the PEM private key must be too")
		case c.CertificateChain == "":
			return nil, errorf(PropKeystoreChain, "missing: ssl.keystore.key is set, so its PEM certificate chain must be too")
		case typ != TypePEM:
			return nil, errorf(PropKeystoreType, "is %s, but ssl.keystore.key is set: an inline key is PEM, set ssl.keystore.type to PEM", typ)
		case c.Location != "":
			return nil, errorf(PropKeystoreLocation, "set together with ssl.keystore.key: use the file or the inline PEM key, not both")
		case c.Password != "":
			return nil, errorf(PropKeystorePassword, "a PEM key store has no store password: remove it, and protect the key with ssl.key.password")
		}
		return pemKeystore([]byte(c.Key), []byte(c.CertificateChain), c.KeyPassword, PropKeystoreKey, PropKeystoreChain, "the value")
	case c.Location == "":
		switch {
		case c.Password != "":
			return nil, errorf(PropKeystorePassword, "set, but ssl.keystore.location is not: set the key store file too, or remove the password")
		case c.KeyPassword != "":
			return nil, errorf(PropKeyPassword, "set, but no key store is: set ssl.keystore.location, or ssl.keystore.key, or remove the password")
		}
		return nil, nil
	}

	data, err := os.ReadFile(c.Location)
	if err != nil {
		return nil, &Error{PropKeystoreLocation, readError(err)}
	}
	format := sniff(data)
	if typ == TypePEM {
		switch {
		case format != TypePEM:
			return nil, typeMismatch(PropKeystoreType, typ, c.Location, format)
		case c.Password != "":
			return nil, errorf(PropKeystorePassword, "a PEM key store has no store password: remove it, and protect the key with ssl.key.password")
		}
		where := fmt.Sprintf("the PEM file %s", c.Location)
		return pemKeystore(data, data, c.KeyPassword, PropKeystoreLocation, PropKeystoreLocation, where)
	}
	switch format {
	case TypeJKS:
		return jksKeystore(data, c)
	case TypePKCS12:
		return pkcs12Keystore(data, c)
	}
	return nil, typeMismatch(PropKeystoreType, typ, c.Location, format)
}

// buildCertificate puts the certificate that matches key first, the others
// after it in their order, as a TLS peer expects the chain.
func buildCertificate(key crypto.PrivateKey, certs []*x509.Certificate, property, where string) (tls.Certificate, error) {
	signer, ok := key.(crypto.Signer)
	if !ok {
		return tls.Certificate{}, errorf(property, "%s: the private key is a %T, which TLS cannot sign with", where, key)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return tls.Certificate{}, errorf(property, "%s: unsupported private key type %T", where, key)
	}
	leaf := -1
	for i, c := range certs {
		if pub.Equal(c.PublicKey) {
			leaf = i
			break
		}
	}
	if leaf < 0 {
		return tls.Certificate{}, errorf(property, "%s: no certificate in the chain matches the private key", where)
	}
	tc := tls.Certificate{PrivateKey: key, Leaf: certs[leaf]}
	tc.Certificate = append(tc.Certificate, certs[leaf].Raw)
	for i, c := range certs {
		if i != leaf {
			tc.Certificate = append(tc.Certificate, c.Raw)
		}
	}
	return tc, nil
}

// sniff tells a store's format from its first bytes: JKS, PKCS12 (any DER
// SEQUENCE), PEM, JCEKS, or "".
func sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0xfe, 0xed, 0xfe, 0xed}):
		return TypeJKS
	case bytes.HasPrefix(data, []byte{0xce, 0xce, 0xce, 0xce}):
		return "JCEKS"
	case bytes.Contains(data, []byte("-----BEGIN ")):
		return TypePEM
	case len(data) > 0 && data[0] == 0x30:
		return TypePKCS12
	}
	return ""
}

// typeMismatch explains a file whose format is not the configured type.
func typeMismatch(property, typ, path, format string) *Error {
	switch format {
	case "":
		if typ == TypePEM {
			return errorf(sibling(property, "location"), "%s is not a PEM file (no -----BEGIN line)", path)
		}
		return errorf(sibling(property, "location"), "%s is not a JKS, PKCS12 or PEM store", path)
	case "JCEKS":
		return errorf(sibling(property, "location"), "%s is a JCEKS store, which linkproxy does not read: convert it to PKCS12 (keytool -importkeystore -srckeystore FILE -srcstoretype JCEKS -destkeystore NEW.p12 -deststoretype PKCS12)", path)
	case TypePEM:
		return errorf(property, "is %s, but %s is a PEM file: set %s to PEM", typ, path, property)
	}
	return errorf(property, "is %s, but %s is a %s store: set %s to %s", typ, path, format, property, format)
}

// sibling returns the sibling of a store property: sibling("ssl.keystore.type",
// "location") is "ssl.keystore.location".
func sibling(property, leaf string) string {
	if i := strings.LastIndexByte(property, '.'); i >= 0 {
		return property[:i+1] + leaf
	}
	return leaf
}

// readError renders a file error without Go's "open" prefix noise but with
// the path, which os errors carry.
func readError(err error) string {
	if os.IsNotExist(err) {
		return fmt.Sprintf("%v: check the path", err)
	}
	return err.Error()
}
