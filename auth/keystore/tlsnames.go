package keystore

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
)

// Kafka names TLS versions and cipher suites the Java way; these functions
// turn ssl.protocol, ssl.enabled.protocols and ssl.cipher.suites into
// crypto/tls values. Errors are reasons only, for the caller to attach to
// the property.

var protocolVersions = map[string]uint16{
	"tlsv1.2": tls.VersionTLS12,
	"tlsv1.3": tls.VersionTLS13,
}

// legacyProtocols are Java protocol names that current JVMs disable.
var legacyProtocols = map[string]bool{
	"tlsv1": true, "tlsv1.1": true, "sslv3": true, "sslv2": true, "ssl": true, "sslv2hello": true,
}

func protocolName(v uint16) string {
	if v == tls.VersionTLS13 {
		return "TLSv1.3"
	}
	return "TLSv1.2"
}

// ParseProtocol returns the highest TLS version of ssl.protocol: TLSv1.3
// (Kafka's default), TLSv1.2, or TLS (Java's context for every version).
// As Kafka documents, a client whose ssl.protocol is TLSv1.2 does not use
// TLS 1.3 even where ssl.enabled.protocols lists it.
func ParseProtocol(s string) (uint16, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	if v, ok := protocolVersions[n]; ok {
		return v, nil
	}
	switch {
	case n == "tls":
		return tls.VersionTLS13, nil
	case legacyProtocols[n]:
		return 0, fmt.Errorf("%s is disabled in current JVMs and not offered by linkproxy: use TLSv1.3 or TLSv1.2", s)
	}
	return 0, fmt.Errorf("%q is not a TLS protocol: use TLSv1.3, TLSv1.2 or TLS", s)
}

// ProtocolVersions returns the range of TLS versions ssl.enabled.protocols
// allows: TLSv1.2 and TLSv1.3, in any order and case.
func ProtocolVersions(enabled []string) (lo, hi uint16, err error) {
	var bad []string
	for _, p := range enabled {
		n := strings.ToLower(p)
		v, ok := protocolVersions[n]
		switch {
		case ok:
			if lo == 0 || v < lo {
				lo = v
			}
			hi = max(hi, v)
		case legacyProtocols[n]:
			bad = append(bad, p+" (disabled in current JVMs)")
		default:
			bad = append(bad, fmt.Sprintf("%q (not a TLS protocol)", p))
		}
	}
	switch {
	case bad != nil:
		return 0, 0, fmt.Errorf("not supported: %s: list TLSv1.2 and/or TLSv1.3", strings.Join(bad, ", "))
	case lo == 0:
		return 0, 0, fmt.Errorf("empty: list TLSv1.2 and/or TLSv1.3")
	}
	return lo, hi, nil
}

// tls13Suites are the TLS 1.3 suites, which Go always offers all of.
var tls13Suites = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}

// CipherSuites is ssl.cipher.suites for crypto/tls.
type CipherSuites struct {
	// TLS12 are the suites for TLS 1.2, for tls.Config.CipherSuites.
	TLS12 []uint16
	// TLS13 tells whether the list names the TLS 1.3 suites. Go does not
	// let TLS 1.3 suites be chosen: it offers all three, so a list names
	// all three or none, and with none TLS 1.3 is off, as it is in Java
	// when no TLS 1.3 suite is enabled.
	TLS13 bool
}

// ParseCipherSuites maps Java suite names (IANA names; "SSL_" prefixed
// aliases too) to Go's. An empty list is Java's and Go's defaults and
// returns ok false. Suites Go does not implement, and the RC4 and 3DES
// ones that Java disables, are refused by name.
func ParseCipherSuites(names []string) (suites CipherSuites, ok bool, err error) {
	if len(names) == 0 {
		return CipherSuites{}, false, nil
	}
	byName := make(map[string]*tls.CipherSuite)
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		byName[s.Name] = s
	}
	var unknown, disabled []string
	var n13 int
	for _, name := range names {
		n := strings.ToUpper(strings.TrimSpace(name))
		if strings.HasPrefix(n, "SSL_") {
			n = "TLS_" + strings.TrimPrefix(n, "SSL_")
		}
		switch {
		case n == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV":
			continue // a signal Go always sends, not a suite
		case slices.Contains(tls13Suites, n):
			n13++
			continue
		}
		s, found := byName[n]
		switch {
		case !found:
			unknown = append(unknown, name)
		case strings.Contains(n, "_RC4_") || strings.Contains(n, "_3DES_"):
			disabled = append(disabled, name)
		default:
			if !slices.Contains(suites.TLS12, s.ID) {
				suites.TLS12 = append(suites.TLS12, s.ID)
			}
		}
	}
	switch {
	case unknown != nil:
		var known []string
		for name, s := range byName {
			if !strings.Contains(name, "_RC4_") && !strings.Contains(name, "_3DES_") && !slices.Contains(s.SupportedVersions, tls.VersionTLS13) {
				known = append(known, name)
			}
		}
		slices.Sort(known)
		return CipherSuites{}, false, fmt.Errorf("not implemented by linkproxy's TLS (Go's): %s; it implements %s, and for TLS 1.3 %s",
			strings.Join(unknown, ", "), strings.Join(known, ", "), strings.Join(tls13Suites, ", "))
	case disabled != nil:
		return CipherSuites{}, false, fmt.Errorf("insecure and disabled in Java too: %s", strings.Join(disabled, ", "))
	case n13 > 0 && n13 < len(tls13Suites):
		return CipherSuites{}, false, fmt.Errorf("lists some TLS 1.3 suites but not all: Go's TLS 1.3 always offers %s, so list all three, or none to leave TLS 1.3 off", strings.Join(tls13Suites, ", "))
	}
	suites.TLS13 = n13 > 0
	return suites, true, nil
}

// Versions narrows the enabled range [lo, hi] to what the cipher suites
// allow: no TLS 1.2 suite leaves TLS 1.2 off, no TLS 1.3 suite TLS 1.3.
// It fails when nothing is left.
func (s CipherSuites) Versions(lo, hi uint16) (uint16, uint16, error) {
	nlo, nhi := lo, hi
	if !s.TLS13 {
		nhi = min(nhi, tls.VersionTLS12)
	}
	if len(s.TLS12) == 0 {
		nlo = max(nlo, tls.VersionTLS13)
	}
	if nlo > nhi {
		span := protocolName(lo)
		if hi != lo {
			span += " and " + protocolName(hi)
		}
		return 0, 0, fmt.Errorf("no suite listed is usable with the enabled protocols (%s)", span)
	}
	return nlo, nhi, nil
}
