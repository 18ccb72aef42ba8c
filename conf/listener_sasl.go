package conf

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/linkproxy/linkproxy/auth/sasl"
	"github.com/linkproxy/linkproxy/conf/internal/tomlval"
)

const (
	keySaslMechanisms = "sasl.enabled.mechanisms"
	keySaslCredFile   = "sasl.credentials.file"
	keyMaxReauth      = "connections.max.reauth.ms"
)

// saslListenerKeys are the [[listener]] keys parseListenerSASL reads.
var saslListenerKeys = []string{keyMaxReauth, keySaslCredFile, keySaslMechanisms}

// ListenerSASL is how a SASL listener authenticates its clients.
type ListenerSASL struct {
	// EnabledMechanisms are the mechanisms clients may use, in the order
	// SaslHandshake lists them (Kafka's sasl.enabled.mechanisms).
	EnabledMechanisms []string
	// CredentialsFile holds the users' salted hashes (auth/sasl). It
	// parsed when the config was read; the proxy re-reads it when it
	// changes.
	CredentialsFile string
	// ConnectionsMaxReauth is Kafka's connections.max.reauth.ms
	// (KIP-368): the session lifetime after which a client must
	// re-authenticate; 0 means never.
	ConnectionsMaxReauth time.Duration
}

func usesSASL(protocol string) bool {
	return protocol == "SASL_PLAINTEXT" || protocol == "SASL_SSL"
}

// parseListenerSASL reads the SASL keys of a listener: required on SASL
// listeners, refused on the others.
func parseListenerSASL(errs *errorList, at place, flat map[string]any, l *Listener) {
	if v, set := flat[keySecurity]; set {
		if _, err := parseListenerSecurity(v, ""); err != nil {
			return // reported already; the SASL keys may be right for it
		}
	}
	if !usesSASL(l.SecurityProtocol) {
		for _, key := range []string{keyMaxReauth, keySaslCredFile, keySaslMechanisms} {
			if _, ok := flat[key]; ok {
				errs.add(at, key, "set, but security.protocol is %s, which does not use SASL: set security.protocol to SASL_PLAINTEXT to authenticate clients, or remove %s", l.SecurityProtocol, key)
			}
		}
		return
	}
	fail := func(key string, err error) { errs.add(at, key, "%v", err) }
	sl := &ListenerSASL{}
	l.SASL = sl

	if v, ok := flat[keySaslMechanisms]; !ok {
		errs.add(at, keySaslMechanisms, `missing: required with security.protocol %s: list the mechanisms clients may use, e.g. ["SCRAM-SHA-512", "PLAIN"] (Kafka's default, GSSAPI, is not supported)`, l.SecurityProtocol)
	} else if ms, err := parseMechanisms(v); err != nil {
		fail(keySaslMechanisms, err)
	} else {
		sl.EnabledMechanisms = ms
	}

	if v, ok := flat[keySaslCredFile]; !ok {
		errs.add(at, keySaslCredFile, `missing: required with security.protocol %s: the file of users' salted passwords that "linkproxy scram" writes entries for`, l.SecurityProtocol)
	} else if path, err := asString(v); err != nil {
		fail(keySaslCredFile, err)
	} else if path == "" {
		errs.add(at, keySaslCredFile, `empty: give the path of the credentials file that "linkproxy scram" writes entries for`)
	} else if _, err := sasl.OpenFile(path); err != nil {
		fail(keySaslCredFile, err)
	} else {
		sl.CredentialsFile = path
	}

	if v, ok := flat[keyMaxReauth]; ok {
		if n, err := asIntIn(v, 0, math.MaxInt64/int64(time.Millisecond)); err != nil {
			fail(keyMaxReauth, err)
		} else {
			sl.ConnectionsMaxReauth = time.Duration(n) * time.Millisecond
		}
	}
}

// parseMechanisms accepts an array of names or, as in Kafka's
// server.properties, one comma-separated string. Names are case-sensitive,
// as Kafka compares them.
func parseMechanisms(v any) ([]string, error) {
	var names []string
	switch x := v.(type) {
	case string:
		for _, s := range strings.Split(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				names = append(names, s)
			}
		}
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("expected mechanism names, got %s in the array", tomlval.Describe(e, true))
			}
			names = append(names, strings.TrimSpace(s))
		}
	default:
		return nil, fmt.Errorf("expected an array of mechanism names, got %s", tomlval.Describe(v, true))
	}
	if len(names) == 0 {
		return nil, fmt.Errorf(`empty: list the mechanisms clients may use, e.g. ["SCRAM-SHA-512", "PLAIN"]`)
	}
	for i, n := range names {
		switch {
		case slices.Contains(sasl.Mechanisms, n):
		case slices.Contains(sasl.Mechanisms, strings.ToUpper(n)):
			return nil, fmt.Errorf("%q: mechanism names are case-sensitive, as in Kafka: write %q", n, strings.ToUpper(n))
		case n == "GSSAPI" || n == "OAUTHBEARER":
			return nil, fmt.Errorf("%s is not supported on listeners yet: use %s", n, strings.Join(sasl.Mechanisms, ", "))
		default:
			return nil, fmt.Errorf("%q is not a mechanism linkproxy serves: use %s", n, strings.Join(sasl.Mechanisms, ", "))
		}
		if slices.Contains(names[:i], n) {
			return nil, fmt.Errorf("%s is listed twice", n)
		}
	}
	return names, nil
}
