package conf

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"github.com/linkproxy/linkproxy/auth/keystore"
	"github.com/linkproxy/linkproxy/auth/principal"
	"github.com/linkproxy/linkproxy/conf/clientprops"
)

// The values of ssl.client.auth, Kafka's.
const (
	ClientAuthNone      = "none"
	ClientAuthRequested = "requested"
	ClientAuthRequired  = "required"
)

const (
	keySslClientAuth       = "ssl.client.auth"
	keySslPrincipalRules   = "ssl.principal.mapping.rules"
	keySslKeyManagerAlg    = "ssl.keymanager.algorithm"
	keySslTrustManagerAlg  = "ssl.trustmanager.algorithm"
	keySslEndpointIdentAlg = "ssl.endpoint.identification.algorithm"
)

// tlsListenerKeys are the [[listener]] keys parseListenerTLS reads:
// Kafka's broker ssl.* properties.
var tlsListenerKeys = []string{
	keySslClientAuth, keystore.PropCipherSuites, keystore.PropEnabledProtocols, keySslEndpointIdentAlg,
	keystore.PropKeyPassword, keySslKeyManagerAlg, keystore.PropKeystoreChain, keystore.PropKeystoreKey,
	keystore.PropKeystoreLocation, keystore.PropKeystorePassword, keystore.PropKeystoreType,
	keySslPrincipalRules, keystore.PropProtocol, keySslTrustManagerAlg, keystore.PropTruststoreCerts,
	keystore.PropTruststoreLocation, keystore.PropTruststorePassword, keystore.PropTruststoreType,
}

// ListenerTLS is how a TLS listener (SSL, SASL_SSL) serves TLS. The stores
// were loaded once when the config was read, so that their errors name the
// property; the listener loads them again when their files change.
type ListenerTLS struct {
	// Keystore is the certificate the listener presents (required).
	Keystore keystore.KeyConfig
	// Truststore verifies client certificates; its zero value is none,
	// in which case, as a Java broker trusts the JDK's CAs, the system's
	// CAs verify them.
	Truststore keystore.TrustConfig
	// ClientAuth is ssl.client.auth: ClientAuthNone (Kafka's default),
	// ClientAuthRequested or ClientAuthRequired.
	ClientAuth string
	// PrincipalMappingRules is ssl.principal.mapping.rules as written and
	// Principal the parsed rules, which name the principal of a client
	// certificate on SSL listeners.
	PrincipalMappingRules string
	Principal             *principal.Mapper
	// Params are ssl.enabled.protocols, ssl.protocol and ssl.cipher.suites.
	Params keystore.Params
}

// Format keeps passwords and inline keys out of anything that prints a
// listener.
func (t ListenerTLS) Format(f fmt.State, _ rune) {
	ks := t.Keystore.Location
	if ks == "" {
		ks = "inline PEM"
	}
	ts := t.Truststore.Location
	switch {
	case t.Truststore.Certificates != "":
		ts = "inline PEM"
	case ts == "":
		ts = "none"
	}
	fmt.Fprintf(f, "{keystore: %s, truststore: %s, client.auth: %s, principal.mapping.rules: %s}", ks, ts, t.ClientAuth, t.PrincipalMappingRules)
}

func usesTLS(protocol string) bool { return protocol == "SSL" || protocol == "SASL_SSL" }

// parseListenerTLS reads the TLS keys of a listener: required on TLS
// listeners, refused on the others.
func parseListenerTLS(errs *errorList, at place, flat map[string]any, l *Listener) {
	if v, set := flat[keySecurity]; set {
		if _, err := parseListenerSecurity(v, ""); err != nil {
			return // reported already; the ssl.* keys may be right for it
		}
	}
	if !usesTLS(l.SecurityProtocol) {
		for _, key := range tlsListenerKeys {
			if _, ok := flat[key]; ok {
				errs.add(at, key, "set, but security.protocol is %s, which does not use TLS: set security.protocol to SSL (or SASL_SSL) to serve TLS, or remove %s", l.SecurityProtocol, key)
			}
		}
		return
	}
	fail := func(key string, err error) { errs.add(at, key, "%v", err) }
	failStore := func(err error) {
		var ke *keystore.Error
		if errors.As(err, &ke) {
			errs.add(at, ke.Property, "%s", ke.Reason)
			return
		}
		errs.add(at, "", "%v", err)
	}
	str := func(key string) (string, bool) {
		v, ok := flat[key]
		if !ok {
			return "", true
		}
		s, err := asString(v)
		if err != nil {
			fail(key, err)
			return "", false
		}
		return s, true
	}
	t := &ListenerTLS{ClientAuth: ClientAuthNone, PrincipalMappingRules: principal.DefaultRules,
		Params: keystore.Params{EnabledProtocols: []string{"TLSv1.2", "TLSv1.3"}, Protocol: "TLSv1.3", Server: true}}
	l.TLS = t
	ok := true
	get := func(key string, dst *string) {
		s, good := str(key)
		ok = ok && good
		*dst = s
	}
	get(keystore.PropKeystoreType, &t.Keystore.Type)
	get(keystore.PropKeystoreLocation, &t.Keystore.Location)
	get(keystore.PropKeystorePassword, &t.Keystore.Password)
	get(keystore.PropKeyPassword, &t.Keystore.KeyPassword)
	get(keystore.PropKeystoreKey, &t.Keystore.Key)
	get(keystore.PropKeystoreChain, &t.Keystore.CertificateChain)
	get(keystore.PropTruststoreType, &t.Truststore.Type)
	get(keystore.PropTruststoreLocation, &t.Truststore.Location)
	get(keystore.PropTruststorePassword, &t.Truststore.Password)
	get(keystore.PropTruststoreCerts, &t.Truststore.Certificates)
	if ok {
		if ks, err := keystore.LoadKeystore(t.Keystore); err != nil {
			failStore(err)
		} else if ks == nil {
			errs.add(at, keystore.PropKeystoreLocation, "missing: required with security.protocol %s: the key store of the certificate the listener presents (or ssl.keystore.type = \"PEM\" with ssl.keystore.key and ssl.keystore.certificate.chain)", l.SecurityProtocol)
		}
		if _, err := keystore.LoadTruststore(t.Truststore); err != nil {
			failStore(err)
		}
	}

	if s, good := str(keySslClientAuth); good && s != "" {
		switch v := strings.ToLower(strings.TrimSpace(s)); v {
		case ClientAuthNone, ClientAuthRequested, ClientAuthRequired:
			t.ClientAuth = v
		default:
			errs.add(at, keySslClientAuth, "%q is not valid: use required, requested or none", s)
		}
	}
	if s, good := str(keySslPrincipalRules); good && flat[keySslPrincipalRules] != nil {
		t.PrincipalMappingRules = s
	}
	if m, err := principal.ParseRules(t.PrincipalMappingRules); err != nil {
		fail(keySslPrincipalRules, err)
	} else if m.Len() == 0 {
		errs.add(at, keySslPrincipalRules, "no rule: every client certificate would be refused; list rules ending with DEFAULT, or remove the key for Kafka's default, DEFAULT")
	} else {
		t.Principal = m
	}

	paramsOK := true
	if v, set := flat[keystore.PropEnabledProtocols]; set {
		list, err := clientprops.ParseList(v)
		if err == nil {
			_, _, err = keystore.ProtocolVersions(list)
		}
		if err != nil {
			fail(keystore.PropEnabledProtocols, err)
			paramsOK = false
		}
		t.Params.EnabledProtocols = list
	}
	if v, set := flat[keystore.PropCipherSuites]; set {
		list, err := clientprops.ParseList(v)
		if err == nil {
			_, _, err = keystore.ParseCipherSuites(list)
		}
		if err != nil {
			fail(keystore.PropCipherSuites, err)
			paramsOK = false
		}
		t.Params.CipherSuites = list
	}
	if s, good := str(keystore.PropProtocol); !good {
		paramsOK = false
	} else if _, set := flat[keystore.PropProtocol]; set {
		if _, err := keystore.ParseProtocol(s); err != nil {
			fail(keystore.PropProtocol, err)
			paramsOK = false
		}
		t.Params.Protocol, t.Params.ProtocolSet = s, true
	}
	if paramsOK {
		if err := t.Params.Apply(new(tls.Config)); err != nil {
			failStore(err)
		}
	}

	for key, java := range map[string]struct{ def, what string }{
		keySslKeyManagerAlg:   {"SunX509", "key manager"},
		keySslTrustManagerAlg: {"PKIX", "trust manager"},
	} {
		if s, good := str(key); good && flat[key] != nil {
			if _, err := keystore.JavaDefault(s, java.def, java.what); err != nil {
				fail(key, err)
			}
		}
	}
	// Kafka sets the endpoint identification algorithm on client-mode
	// engines only: a broker's server sockets do not verify client host
	// names. It is accepted with Kafka's values and, as there, has no
	// effect on the listener.
	if s, good := str(keySslEndpointIdentAlg); good && flat[keySslEndpointIdentAlg] != nil {
		if v := strings.ToLower(s); v != "https" && v != "" {
			errs.add(at, keySslEndpointIdentAlg, `%q is not valid: use https or "" (a listener does not verify client host names either way, as in Kafka)`, s)
		}
	}
}
