package clientprops

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/linkproxy/linkproxy/auth/keystore"
)

// tlsDefs are Kafka's ssl.* client properties (the seed's list, plus the
// inline PEM properties of Kafka 2.7 and ssl.secure.random.implementation).
// They take effect with security.protocol SSL; the TLS configuration is
// built once, when the properties are parsed (tlsRule), so that a missing
// file or a wrong password is reported at start, naming the property.
var tlsDefs = []Def{
	{Name: "ssl.cipher.suites", Type: TypeList, Validate: validateCipherSuites},
	{Name: "ssl.enabled.protocols", Type: TypeList, Default: []string{"TLSv1.2", "TLSv1.3"}, Validate: validateEnabledProtocols},
	{Name: "ssl.endpoint.identification.algorithm", Type: TypeString, Default: "https", Validate: validateEndpointIdentification},
	{Name: "ssl.engine.factory.class", Type: TypeClass, Validate: emptyOnly(
		"linkproxy cannot load a Java SSL engine factory: configure its TLS with ssl.keystore.*, ssl.truststore.* (JKS, PKCS12 or PEM), ssl.enabled.protocols and ssl.cipher.suites instead")},
	{Name: "ssl.key.password", Type: TypePassword},
	{Name: "ssl.keymanager.algorithm", Type: TypeString, Default: "SunX509", Validate: javaDefault("SunX509", "key manager")},
	// Kafka types these three PASSWORD: they may hold a private key.
	{Name: "ssl.keystore.certificate.chain", Type: TypePassword},
	{Name: "ssl.keystore.key", Type: TypePassword},
	{Name: "ssl.keystore.location", Type: TypeString},
	{Name: "ssl.keystore.password", Type: TypePassword},
	{Name: "ssl.keystore.type", Type: TypeString, Default: "JKS", Validate: validateStoreType},
	{Name: "ssl.protocol", Type: TypeString, Default: "TLSv1.3", Validate: validateProtocol},
	{Name: "ssl.provider", Type: TypeString, Validate: emptyOnly(
		"Java security providers do not apply to linkproxy's TLS (Go's crypto/tls): remove it, and choose protocols and suites with ssl.enabled.protocols and ssl.cipher.suites")},
	{Name: "ssl.secure.random.implementation", Type: TypeString, Validate: emptyOnly(
		"linkproxy's TLS takes its randomness from the operating system (Go's crypto/rand), which cannot be replaced: remove it")},
	{Name: "ssl.trustmanager.algorithm", Type: TypeString, Default: "PKIX", Validate: javaDefault("PKIX", "trust manager")},
	{Name: "ssl.truststore.certificates", Type: TypePassword},
	{Name: "ssl.truststore.location", Type: TypeString},
	{Name: "ssl.truststore.password", Type: TypePassword},
	{Name: "ssl.truststore.type", Type: TypeString, Default: "JKS", Validate: validateStoreType},
}

func validateCipherSuites(v any) (any, error) {
	if _, _, err := keystore.ParseCipherSuites(v.([]string)); err != nil {
		return nil, err
	}
	return v, nil
}

func validateEnabledProtocols(v any) (any, error) {
	if _, _, err := keystore.ProtocolVersions(v.([]string)); err != nil {
		return nil, err
	}
	return v, nil
}

func validateProtocol(v any) (any, error) {
	if _, err := keystore.ParseProtocol(v.(string)); err != nil {
		return nil, err
	}
	return v, nil
}

func validateStoreType(v any) (any, error) {
	t, err := keystore.ParseType(v.(string))
	if err != nil {
		return nil, err
	}
	return t, nil
}

// validateEndpointIdentification keeps Kafka's two meanings: https (in any
// case, as Java takes it) verifies the broker's host name, "" does not.
func validateEndpointIdentification(v any) (any, error) {
	switch s := strings.ToLower(v.(string)); s {
	case "https", "":
		return s, nil
	}
	return nil, fmt.Errorf(`%q is not supported: use https to verify the broker's host name against its certificate, or "" not to`, v)
}

// emptyOnly accepts only the empty value, which Kafka takes as unset.
func emptyOnly(reason string) func(any) (any, error) {
	return func(v any) (any, error) {
		if v.(string) == "" {
			return v, nil
		}
		return nil, errors.New(reason)
	}
}

// javaDefault accepts a Java algorithm property at its default only: Go's
// TLS has one implementation of each, which is what the default names.
func javaDefault(def, what string) func(any) (any, error) {
	return func(v any) (any, error) { return keystore.JavaDefault(v.(string), def, what) }
}

// usesTLS reports whether a security protocol runs over TLS.
func usesTLS(protocol string) bool { return protocol == "SSL" || protocol == "SASL_SSL" }

// tlsRule builds the TLS configuration of security.protocol SSL into
// p.tls, reading the key and trust stores now. With a protocol without
// TLS, an ssl.* property set to anything but its default is a mistake
// (most likely security.protocol itself), refused rather than ignored; one
// written at its default changes nothing either way and passes, so that a
// file may state every default.
func tlsRule(p *Props) error {
	protocol := p.String("security.protocol")
	if !usesTLS(protocol) {
		var errs []error
		withTLS := "SSL"
		if usesSASL(protocol) {
			withTLS = "SASL_SSL"
		}
		for _, name := range p.reg.Names() {
			d := p.reg.defs[name]
			if strings.HasPrefix(name, "ssl.") && p.set[name] && (d.Default == nil || display(p.vals[name]) != display(d.Default)) {
				errs = append(errs, &Error{Name: name, Reason: fmt.Sprintf(
					"set, but security.protocol is %s, which does not use TLS: set security.protocol to %s to reach the brokers over TLS, or remove %s", protocol, withTLS, name)})
			}
		}
		return errors.Join(errs...)
	}
	cfg, errs := buildTLS(p)
	p.tls = cfg
	return errors.Join(errs...)
}

func buildTLS(p *Props) (*tls.Config, []error) {
	var errs []error
	fail := func(err error) {
		var ke *keystore.Error
		if errors.As(err, &ke) {
			err = &Error{Name: ke.Property, Reason: ke.Reason}
		}
		errs = append(errs, err)
	}
	ks, err := keystore.LoadKeystore(keystore.KeyConfig{
		Type:             p.String("ssl.keystore.type"),
		Location:         p.String("ssl.keystore.location"),
		Password:         p.String("ssl.keystore.password"),
		KeyPassword:      p.String("ssl.key.password"),
		Key:              p.String("ssl.keystore.key"),
		CertificateChain: p.String("ssl.keystore.certificate.chain"),
	})
	if err != nil {
		fail(err)
	}
	ts, err := keystore.LoadTruststore(keystore.TrustConfig{
		Type:         p.String("ssl.truststore.type"),
		Location:     p.String("ssl.truststore.location"),
		Password:     p.String("ssl.truststore.password"),
		Certificates: p.String("ssl.truststore.certificates"),
	})
	if err != nil {
		fail(err)
	}

	// Each property was validated alone; what is left is how they combine.
	cfg := &tls.Config{}
	if err := (keystore.Params{EnabledProtocols: p.List("ssl.enabled.protocols"), Protocol: p.String("ssl.protocol"),
		ProtocolSet: p.IsSet("ssl.protocol"), CipherSuites: p.List("ssl.cipher.suites")}).Apply(cfg); err != nil {
		fail(err)
	}
	if errs != nil {
		return nil, errs
	}

	if ks != nil {
		cfg.Certificates = ks.Certificates()
	}
	if ts != nil {
		cfg.RootCAs = ts.Pool()
	}
	if p.String("ssl.endpoint.identification.algorithm") == "" {
		// Go verifies the chain and the host name together; to check
		// the chain alone, its own verification is off and
		// VerifyConnection does the chain's.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = verifyChain(cfg.RootCAs)
	}
	return cfg, nil
}

// verifyChain verifies the broker's certificate chain against roots (nil:
// the system's), but not its host name.
func verifyChain(roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the broker sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
		return err
	}
}

// TLSConfig returns the TLS configuration that security.protocol SSL and
// the ssl.* properties give, built when the properties were parsed, or nil
// when the protocol does not use TLS. Each call returns a new clone.
func (p *Props) TLSConfig() *tls.Config {
	if p.tls == nil {
		return nil
	}
	return p.tls.Clone()
}

// handshake runs the TLS client handshake on conn, dialed to address,
// within timeout, and names the likely fix when it fails.
func handshake(ctx context.Context, cfg *tls.Config, conn net.Conn, address string, timeout time.Duration) (net.Conn, error) {
	c := cfg.Clone()
	if c.ServerName == "" {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		c.ServerName = host // an IP address is verified against the IP SANs, and sent as no SNI
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tc := tls.Client(conn, c)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("TLS handshake: %w%s", err, handshakeHint(err))
	}
	return tc, nil
}

func handshakeHint(err error) string {
	var host x509.HostnameError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var header tls.RecordHeaderError
	switch {
	case errors.As(err, &host):
		return `; the broker's certificate does not hold the host name dialed: fix the certificate or bootstrap.servers, or set ssl.endpoint.identification.algorithm = "" not to verify host names`
	case errors.As(err, &unknown):
		return "; the broker's certificate is not signed by a CA of ssl.truststore.* (without one, of the system's): add its CA to the trust store"
	case errors.As(err, &invalid):
		return "; the broker's certificate is not valid (expired, or not for a server)"
	case strings.Contains(err.Error(), "remote error: tls:"): // an alert from the broker
		return "; the broker refused the handshake: check ssl.enabled.protocols, ssl.cipher.suites, and the client certificate (ssl.keystore.*) if the broker requires one"
	case errors.As(err, &header):
		return "; the broker does not speak TLS on this port: check security.protocol and bootstrap.servers"
	}
	return ""
}
