package keystore

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// The Kafka properties of the TLS parameters both sides share.
const (
	PropEnabledProtocols = "ssl.enabled.protocols"
	PropProtocol         = "ssl.protocol"
	PropCipherSuites     = "ssl.cipher.suites"
)

// Params are ssl.enabled.protocols, ssl.protocol and ssl.cipher.suites
// together, each already valid alone (ProtocolVersions, ParseProtocol,
// ParseCipherSuites); Apply checks how they combine.
type Params struct {
	EnabledProtocols []string
	Protocol         string
	// ProtocolSet says whether ssl.protocol was set, so that an error
	// names the property the operator wrote.
	ProtocolSet  bool
	CipherSuites []string
	// Server is set for a listener. As in Java, ssl.protocol caps the
	// versions of a client only: a server's SSLContext accepts every
	// version ssl.enabled.protocols lists.
	Server bool
}

// Apply sets cfg's MinVersion, MaxVersion and CipherSuites, or returns an
// *Error naming the property to change.
func (p Params) Apply(cfg *tls.Config) error {
	lo, hi, err := ProtocolVersions(p.EnabledProtocols)
	if err != nil {
		return &Error{PropEnabledProtocols, err.Error()}
	}
	top, err := ParseProtocol(p.Protocol)
	if err != nil {
		return &Error{PropProtocol, err.Error()}
	}
	if !p.Server && hi > top {
		hi = top
	}
	if lo > hi {
		name := PropProtocol
		if !p.ProtocolSet {
			name = PropEnabledProtocols
		}
		return errorf(name, "ssl.protocol %s leaves none of ssl.enabled.protocols (%s): a client whose ssl.protocol is TLSv1.2 does not use TLS 1.3; set ssl.protocol to TLSv1.3 or enable TLSv1.2",
			p.Protocol, strings.Join(p.EnabledProtocols, ","))
	}
	suites, custom, err := ParseCipherSuites(p.CipherSuites)
	if err != nil {
		return &Error{PropCipherSuites, err.Error()}
	}
	if custom {
		if lo, hi, err = suites.Versions(lo, hi); err != nil {
			return &Error{PropCipherSuites, err.Error()}
		}
		cfg.CipherSuites = suites.TLS12
	}
	cfg.MinVersion, cfg.MaxVersion = lo, hi
	return nil
}

// JavaDefault checks a Java algorithm property (ssl.keymanager.algorithm,
// ssl.trustmanager.algorithm): Go's TLS has one implementation of each,
// which is what Java's default, def, names. It returns def.
func JavaDefault(v, def, what string) (string, error) {
	if strings.EqualFold(strings.TrimSpace(v), def) {
		return def, nil
	}
	return "", fmt.Errorf("%q is not supported: linkproxy's TLS (Go's) has one %s, Java's default %s; remove it or set %s", v, what, def, def)
}
