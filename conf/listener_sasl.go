package conf

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/linkproxy/linkproxy/auth/oauth"
	"github.com/linkproxy/linkproxy/auth/sasl"
	"github.com/linkproxy/linkproxy/conf/clientprops"
)

const (
	keySaslMechanisms  = "sasl.enabled.mechanisms"
	keySaslCredFile    = "sasl.credentials.file"
	keyMaxReauth       = "connections.max.reauth.ms"
	keyFailedAuthDelay = "connection.failed.authentication.delay.ms"

	// Kafka's broker settings for OAUTHBEARER token validation (KIP-768).
	keyOAuthJWKSURL        = "sasl.oauthbearer.jwks.endpoint.url"
	keyOAuthJWKSRefresh    = "sasl.oauthbearer.jwks.endpoint.refresh.ms"
	keyOAuthJWKSBackoff    = "sasl.oauthbearer.jwks.endpoint.retry.backoff.ms"
	keyOAuthJWKSBackoffMax = "sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms"
	keyOAuthExpectedIssuer = "sasl.oauthbearer.expected.issuer"
	keyOAuthExpectedAud    = "sasl.oauthbearer.expected.audience"
	keyOAuthSubClaim       = "sasl.oauthbearer.sub.claim.name"
	keyOAuthScopeClaim     = "sasl.oauthbearer.scope.claim.name"
	keyOAuthClockSkew      = "sasl.oauthbearer.clock.skew.seconds"
)

// oauthKeys are the keys of OAUTHBEARER, refused when it is not enabled.
var oauthKeys = []string{keyOAuthClockSkew, keyOAuthExpectedAud, keyOAuthExpectedIssuer, keyOAuthJWKSRefresh,
	keyOAuthJWKSBackoff, keyOAuthJWKSBackoffMax, keyOAuthJWKSURL, keyOAuthScopeClaim, keyOAuthSubClaim}

// saslListenerKeys are the [[listener]] keys parseListenerSASL reads.
var saslListenerKeys = append(append([]string{keyFailedAuthDelay, keyMaxReauth, keySaslCredFile, keySaslMechanisms}, oauthKeys...), kerberosKeys...)

// DefaultFailedAuthenticationDelay is Kafka's
// connection.failed.authentication.delay.ms default.
const DefaultFailedAuthenticationDelay = 100 * time.Millisecond

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
	// re-authenticate; 0 means never (but an OAUTHBEARER session still
	// ends when its token expires, as in Kafka).
	ConnectionsMaxReauth time.Duration
	// FailedAuthenticationDelay is Kafka's
	// connection.failed.authentication.delay.ms: how long the answer to a
	// failed authentication, and the close after it, are held back, to
	// slow down clients guessing passwords; 0 means not at all. The proxy
	// refuses it unless it is below connections.max.idle.ms, as Kafka
	// requires.
	FailedAuthenticationDelay time.Duration
	// OAuthBearer is the sasl.oauthbearer.* token validation, set when
	// OAUTHBEARER is enabled. A file JWKS parsed when the config was
	// read.
	OAuthBearer *oauth.Config
	// Kerberos is the GSSAPI acceptor (listener_kerberos.go), set when
	// GSSAPI is enabled.
	Kerberos *ListenerKerberos
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
		for _, key := range saslListenerKeys {
			if _, ok := flat[key]; ok {
				errs.add(at, key, "set, but security.protocol is %s, which does not use SASL: set security.protocol to SASL_PLAINTEXT or SASL_SSL to authenticate clients, or remove %s", l.SecurityProtocol, key)
			}
		}
		return
	}
	fail := func(key string, err error) { errs.add(at, key, "%v", err) }
	sl := &ListenerSASL{FailedAuthenticationDelay: DefaultFailedAuthenticationDelay}
	l.SASL = sl

	if v, ok := flat[keySaslMechanisms]; !ok {
		errs.add(at, keySaslMechanisms, `missing: required with security.protocol %s: list the mechanisms clients may use, e.g. ["SCRAM-SHA-512", "PLAIN"] (Kafka's default is GSSAPI, which needs gssapi.sasl.jaas.config)`, l.SecurityProtocol)
	} else if ms, err := parseMechanisms(v); err != nil {
		fail(keySaslMechanisms, err)
	} else {
		sl.EnabledMechanisms = ms
	}

	// Which keys are required or refused depends on the mechanisms; when
	// those are wrong only the values are checked.
	mechsKnown := sl.EnabledMechanisms != nil
	usesCreds := slices.ContainsFunc(sl.EnabledMechanisms, func(m string) bool {
		return m == sasl.Plain || m == sasl.ScramSHA256 || m == sasl.ScramSHA512
	})
	usesOAuth := slices.Contains(sl.EnabledMechanisms, sasl.OAuthBearer)

	if v, ok := flat[keySaslCredFile]; !ok {
		if mechsKnown && usesCreds {
			errs.add(at, keySaslCredFile, `missing: required with PLAIN or SCRAM in sasl.enabled.mechanisms: the file of users' salted passwords that "linkproxy scram" writes entries for`)
		} else if !mechsKnown && !hasOAuthKeys(flat) {
			errs.add(at, keySaslCredFile, `missing: required with security.protocol %s: the file of users' salted passwords that "linkproxy scram" writes entries for`, l.SecurityProtocol)
		}
	} else if mechsKnown && !usesCreds {
		errs.add(at, keySaslCredFile, "set, but sasl.enabled.mechanisms %v has neither PLAIN nor SCRAM, which use it: enable them, or remove %s", sl.EnabledMechanisms, keySaslCredFile)
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
	if v, ok := flat[keyFailedAuthDelay]; ok {
		// An INT in Kafka, at least 0.
		if n, err := asIntIn(v, 0, math.MaxInt32); err != nil {
			fail(keyFailedAuthDelay, err)
		} else {
			sl.FailedAuthenticationDelay = time.Duration(n) * time.Millisecond
		}
	}
	switch {
	case usesOAuth:
		sl.OAuthBearer = parseOAuthBearer(errs, at, flat)
	case mechsKnown:
		for _, key := range oauthKeys {
			if _, ok := flat[key]; ok {
				errs.add(at, key, "set, but OAUTHBEARER is not in sasl.enabled.mechanisms %v: add it to validate tokens, or remove %s", sl.EnabledMechanisms, key)
			}
		}
	case hasOAuthKeys(flat):
		parseOAuthBearer(errs, at, flat) // for the values' errors only
	}
	sl.Kerberos = parseListenerKerberos(errs, at, flat, sl.EnabledMechanisms, mechsKnown)
}

func hasOAuthKeys(flat map[string]any) bool {
	return slices.ContainsFunc(oauthKeys, func(k string) bool { _, ok := flat[k]; return ok })
}

// parseOAuthBearer reads the sasl.oauthbearer.* keys with Kafka's
// defaults. A file JWKS is loaded now so that its errors show at startup.
func parseOAuthBearer(errs *errorList, at place, flat map[string]any) *oauth.Config {
	c := &oauth.Config{
		Refresh:         oauth.DefaultRefresh,
		RetryBackoff:    oauth.DefaultRetryBackoff,
		RetryBackoffMax: oauth.DefaultRetryBackoffMax,
		SubClaim:        oauth.DefaultSubClaim,
		ScopeClaim:      oauth.DefaultScopeClaim,
		ClockSkew:       oauth.DefaultClockSkew,
	}
	fail := func(key string, err error) { errs.add(at, key, "%v", err) }
	if v, ok := flat[keyOAuthJWKSURL]; !ok {
		errs.add(at, keyOAuthJWKSURL, "missing: required with OAUTHBEARER in sasl.enabled.mechanisms: the JWKS endpoint of the token issuer (https://...), or a file: URL of a JWKS file")
	} else if s, err := asString(v); err != nil {
		fail(keyOAuthJWKSURL, err)
	} else if err := oauth.CheckJWKSURL(s); err != nil {
		fail(keyOAuthJWKSURL, err)
	} else {
		c.JWKSURL = s
	}
	millis := func(key string, lo int64, d *time.Duration) {
		if v, ok := flat[key]; ok {
			if n, err := asIntIn(v, lo, math.MaxInt64/int64(time.Millisecond)); err != nil {
				fail(key, err)
			} else {
				*d = time.Duration(n) * time.Millisecond
			}
		}
	}
	millis(keyOAuthJWKSRefresh, 1, &c.Refresh)
	millis(keyOAuthJWKSBackoff, 1, &c.RetryBackoff)
	millis(keyOAuthJWKSBackoffMax, 1, &c.RetryBackoffMax)
	if c.RetryBackoff > c.RetryBackoffMax {
		errs.add(at, keyOAuthJWKSBackoff, "%d ms is above %s (%d ms): make it smaller or equal", c.RetryBackoff.Milliseconds(), keyOAuthJWKSBackoffMax, c.RetryBackoffMax.Milliseconds())
	}
	if v, ok := flat[keyOAuthClockSkew]; ok {
		if n, err := asIntIn(v, 0, math.MaxInt32); err != nil {
			fail(keyOAuthClockSkew, err)
		} else {
			c.ClockSkew = time.Duration(n) * time.Second
		}
	}
	if v, ok := flat[keyOAuthExpectedIssuer]; ok {
		if s, err := asString(v); err != nil {
			fail(keyOAuthExpectedIssuer, err)
		} else {
			c.ExpectedIssuer = s
		}
	}
	if v, ok := flat[keyOAuthExpectedAud]; ok {
		if l, err := clientprops.ParseList(v); err != nil {
			fail(keyOAuthExpectedAud, err)
		} else {
			c.ExpectedAudience = l
		}
	}
	for key, dst := range map[string]*string{keyOAuthSubClaim: &c.SubClaim, keyOAuthScopeClaim: &c.ScopeClaim} {
		if v, ok := flat[key]; ok {
			if s, err := asString(v); err != nil {
				fail(key, err)
			} else if s = strings.TrimSpace(s); s == "" {
				errs.add(at, key, "empty: name the claim, or remove the key for Kafka's default")
			} else {
				*dst = s
			}
		}
	}
	return c
}

// parseMechanisms reads sasl.enabled.mechanisms. Names are
// case-sensitive, as Kafka compares them.
func parseMechanisms(v any) ([]string, error) {
	names, err := clientprops.ParseList(v)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf(`empty: list the mechanisms clients may use, e.g. ["SCRAM-SHA-512", "PLAIN"]`)
	}
	for i, n := range names {
		switch {
		case slices.Contains(sasl.Mechanisms, n):
		case slices.Contains(sasl.Mechanisms, strings.ToUpper(n)):
			return nil, fmt.Errorf("%q: mechanism names are case-sensitive, as in Kafka: write %q", n, strings.ToUpper(n))
		default:
			return nil, fmt.Errorf("%q is not a mechanism linkproxy serves: use %s", n, strings.Join(sasl.Mechanisms, ", "))
		}
		if slices.Contains(names[:i], n) {
			return nil, fmt.Errorf("%s is listed twice", n)
		}
	}
	return names, nil
}

// checkFailedAuthDelay applies Kafka's rule that a failed authentication's
// delayed close must come before the idle close
// (connections.max.idle.ms of [proxy]).
func checkFailedAuthDelay(errs *errorList, cfg *Config) {
	for i, l := range cfg.Listeners {
		if l.SASL == nil {
			continue
		}
		if d := l.SASL.FailedAuthenticationDelay; d >= cfg.Proxy.ConnectionsMaxIdle {
			errs.add(place{table: listenerTable, index: i + 1}, keyFailedAuthDelay,
				"%d must be less than connections.max.idle.ms of [proxy] (%d): lower it, or raise connections.max.idle.ms",
				d.Milliseconds(), cfg.Proxy.ConnectionsMaxIdle.Milliseconds())
		}
	}
}
