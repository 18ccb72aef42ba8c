package keystore

import (
	"crypto/x509"
	"fmt"
	"os"
)

// TrustConfig says where a trust store comes from, with Kafka's
// properties. Empty strings are unset properties.
type TrustConfig struct {
	Type         string // ssl.truststore.type: JKS (when empty), PKCS12 or PEM
	Location     string // ssl.truststore.location: a JKS, PKCS12 or PEM file
	Password     string // ssl.truststore.password: the JKS or PKCS12 file's; optional
	Certificates string // ssl.truststore.certificates: PEM certificates, inline
}

// Truststore is a loaded trust store: the certificates trusted to sign a
// peer's chain.
type Truststore struct {
	certs []*x509.Certificate
}

// Certificates returns the trusted certificates.
func (t *Truststore) Certificates() []*x509.Certificate {
	return append([]*x509.Certificate(nil), t.certs...)
}

// Pool returns a new pool of the trusted certificates, for
// tls.Config.RootCAs (a client verifying servers) or ClientCAs (a server
// verifying clients).
func (t *Truststore) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range t.certs {
		pool.AddCert(c)
	}
	return pool
}

// LoadTruststore reads the trust store c describes: the file is read now.
// It returns nil and no error when c configures none, in which case a
// client trusts the system's certificate authorities, as a Java client
// trusts the JDK's. Errors are *Error.
func LoadTruststore(c TrustConfig) (*Truststore, error) {
	typ, err := ParseType(c.Type)
	if err != nil {
		return nil, &Error{PropTruststoreType, err.Error()}
	}
	var certs []*x509.Certificate
	switch {
	case c.Certificates != "":
		switch {
		case typ != TypePEM:
			return nil, errorf(PropTruststoreType, "is %s, but ssl.truststore.certificates is set: inline certificates are PEM, set ssl.truststore.type to PEM", typ)
		case c.Location != "":
			return nil, errorf(PropTruststoreLocation, "set together with ssl.truststore.certificates: use the file or the inline PEM certificates, not both")
		case c.Password != "":
			return nil, errorf(PropTruststorePassword, "a PEM trust store has no password: remove it")
		}
		if certs, err = pemCertificates([]byte(c.Certificates), PropTruststoreCerts, "the value"); err != nil {
			return nil, err
		}
	case c.Location == "":
		if c.Password != "" {
			return nil, errorf(PropTruststorePassword, "set, but ssl.truststore.location is not: set the trust store file too, or remove the password")
		}
		return nil, nil
	default:
		if certs, err = readTrusted(typ, c); err != nil {
			return nil, err
		}
	}
	if len(certs) == 0 {
		return nil, errorf(PropTruststoreLocation, "the trust store %s holds no certificate", c.Location)
	}
	return &Truststore{certs: certs}, nil
}

func readTrusted(typ string, c TrustConfig) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(c.Location)
	if err != nil {
		return nil, &Error{PropTruststoreLocation, readError(err)}
	}
	format := sniff(data)
	if typ == TypePEM {
		switch {
		case format != TypePEM:
			return nil, typeMismatch(PropTruststoreType, typ, c.Location, format)
		case c.Password != "":
			return nil, errorf(PropTruststorePassword, "a PEM trust store has no password: remove it")
		}
		return pemCertificates(data, PropTruststoreLocation, fmt.Sprintf("the PEM file %s", c.Location))
	}
	switch format {
	case TypeJKS:
		ks, err := loadJKS(data, c.Password, c.Location, PropTruststoreLocation, PropTruststorePassword)
		if err != nil {
			return nil, err
		}
		return jksTrusted(ks, c.Location)
	case TypePKCS12:
		return pkcs12Trusted(data, c.Password, c.Location)
	}
	return nil, typeMismatch(PropTruststoreType, typ, c.Location, format)
}
