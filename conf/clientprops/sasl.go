package clientprops

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// The login modules sasl.jaas.config may name, and the mechanism each
// serves (Kafka's pairing).
const (
	plainModule    = "org.apache.kafka.common.security.plain.PlainLoginModule"
	scramModule    = "org.apache.kafka.common.security.scram.ScramLoginModule"
	oauthModule    = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
	kerberosModule = "com.sun.security.auth.module.Krb5LoginModule"
)

var moduleOf = map[string]string{
	"PLAIN":         plainModule,
	"SCRAM-SHA-256": scramModule,
	"SCRAM-SHA-512": scramModule,
	"OAUTHBEARER":   oauthModule,
	"GSSAPI":        kerberosModule,
}

// oauthHandlers are Kafka's OAuth client-credentials login callback
// handler, under its current and its pre-3.4 package: what linkproxy's
// token endpoint client (oauth.go) does, so a pasted Kafka configuration
// naming it is accepted.
var oauthHandlers = []string{
	"org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
	"org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler",
}

// noJavaClass is the reason a Java class property other than Kafka's
// OAuth login handler is refused, with what to configure instead.
const noJavaClass = "linkproxy cannot load Java classes: give the credentials in sasl.jaas.config " +
	"(username and password for PlainLoginModule and ScramLoginModule; clientId, clientSecret and scope " +
	"for OAuthBearerLoginModule, with sasl.oauthbearer.token.endpoint.url), or remove it"

// saslDefs are Kafka's sasl.* client properties. They take effect with
// security.protocol SASL_PLAINTEXT or SASL_SSL; saslRule builds the
// mechanism once, at parse, so that a broken sasl.jaas.config is reported
// at start.
var saslDefs = []Def{
	{Name: "sasl.mechanism", Type: TypeString, Default: "GSSAPI", Validate: validateMechanism},
	{Name: "sasl.jaas.config", Type: TypePassword},
	{Name: "sasl.client.callback.handler.class", Type: TypeClass, Validate: emptyOnly(noJavaClass)},
	{Name: "sasl.login.class", Type: TypeClass, Validate: emptyOnly(noJavaClass)},
	{Name: "sasl.login.callback.handler.class", Type: TypeClass, Validate: validateLoginHandler},

	// Token refresh for OAUTHBEARER (Kafka's ExpiringCredentialRefreshingLogin,
	// see refreshAt), with Kafka's bounds.
	{Name: "sasl.login.refresh.buffer.seconds", Type: TypeShort, Default: int64(300), Validate: Between(0, 3600)},
	{Name: "sasl.login.refresh.min.period.seconds", Type: TypeShort, Default: int64(60), Validate: Between(0, 900)},
	{Name: "sasl.login.refresh.window.factor", Type: TypeDouble, Default: 0.8, Validate: floatBetween(0.5, 1.0)},
	{Name: "sasl.login.refresh.window.jitter", Type: TypeDouble, Default: 0.05, Validate: floatBetween(0, 0.25)},

	// The token endpoint client (oauth.go). Kafka has no default for
	// the two timeouts (Java's: none); 0 is Java's "no timeout" too.
	{Name: "sasl.login.connect.timeout.ms", Type: TypeInt, Validate: AtLeast(0)},
	{Name: "sasl.login.read.timeout.ms", Type: TypeInt, Validate: AtLeast(0)},
	{Name: "sasl.login.retry.backoff.ms", Type: TypeLong, Default: int64(100), Validate: AtLeast(0)},
	{Name: "sasl.login.retry.backoff.max.ms", Type: TypeLong, Default: int64(10000), Validate: AtLeast(0)},
	{Name: "sasl.oauthbearer.token.endpoint.url", Type: TypeString, Validate: validateTokenURL},
	{Name: "sasl.oauthbearer.scope.claim.name", Type: TypeString, Default: "scope"},
	{Name: "sasl.oauthbearer.sub.claim.name", Type: TypeString, Default: "sub"},

	// GSSAPI's, read by kerberos.go.
	{Name: "sasl.kerberos.service.name", Type: TypeString},
	{Name: "sasl.kerberos.kinit.cmd", Type: TypeString, Default: "/usr/bin/kinit"},
	{Name: "sasl.kerberos.min.time.before.relogin", Type: TypeLong, Default: int64(60000)},
	{Name: "sasl.kerberos.ticket.renew.jitter", Type: TypeDouble, Default: 0.05},
	{Name: "sasl.kerberos.ticket.renew.window.factor", Type: TypeDouble, Default: 0.8},
}

// validateMechanism is case-sensitive, as mechanism names are in Kafka
// (a broker refuses "plain"); a near miss is named.
func validateMechanism(v any) (any, error) {
	s := v.(string)
	if _, ok := moduleOf[s]; ok {
		return s, nil
	}
	if _, ok := moduleOf[strings.ToUpper(s)]; ok {
		return nil, fmt.Errorf("%q is not valid: SASL mechanism names are upper case, write %q", s, strings.ToUpper(s))
	}
	return nil, fmt.Errorf("%q is not supported: use one of GSSAPI, OAUTHBEARER, PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", s)
}

func validateLoginHandler(v any) (any, error) {
	s := v.(string)
	if s == "" {
		return s, nil
	}
	for _, h := range oauthHandlers {
		if s == h {
			return s, nil
		}
	}
	return nil, errors.New(noJavaClass)
}

func validateTokenURL(v any) (any, error) {
	s := v.(string)
	if s == "" {
		return s, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// file: URLs (a token kept in a file) are Kafka's too, but
		// not linkproxy's.
		return nil, fmt.Errorf("%q is not an http(s) URL: set the OAuth token endpoint, e.g. https://idp.example/oauth2/token", s)
	}
	return s, nil
}

func floatBetween(lo, hi float64) func(any) (any, error) {
	return func(v any) (any, error) {
		if f := v.(float64); math.IsNaN(f) || f < lo || f > hi {
			return nil, fmt.Errorf("%v is out of range %v..%v", f, lo, hi)
		}
		return v, nil
	}
}

// usesSASL reports whether a security protocol authenticates with SASL.
func usesSASL(protocol string) bool { return strings.HasPrefix(protocol, "SASL_") }

// saslGroups are the properties that matter only with SASL, or only with
// one mechanism, for saslRule's check of properties set but unused.
var saslGroups = []struct {
	prefix, mechanism string
}{
	{"sasl.oauthbearer.", "OAUTHBEARER"},
	{"sasl.login.", "OAUTHBEARER"},
	{"sasl.kerberos.", "GSSAPI"},
}

// saslRule builds the SASL mechanism of security.protocol SASL_* into
// p.sasl. As for ssl.* (tlsRule), a sasl.* property that cannot take
// effect, set to anything but its default, is refused rather than
// ignored: with a protocol without SASL, any; with another mechanism,
// those of OAUTHBEARER or GSSAPI.
func saslRule(p *Props) error {
	protocol := p.String("security.protocol")
	mech := p.String("sasl.mechanism")
	var errs []error
	for _, name := range p.reg.Names() {
		d := p.reg.defs[name]
		if !strings.HasPrefix(name, "sasl.") || !p.set[name] || (d.Default != nil && display(p.vals[name]) == display(d.Default)) {
			continue
		}
		if !usesSASL(protocol) {
			if d.Default != nil || !isEmpty(p.vals[name]) {
				errs = append(errs, &Error{Name: name, Reason: fmt.Sprintf(
					"set, but security.protocol is %s, which does not use SASL: set security.protocol to SASL_SSL (or SASL_PLAINTEXT) to authenticate to the brokers, or remove %s", protocol, name)})
			}
			continue
		}
		for _, g := range saslGroups {
			if strings.HasPrefix(name, g.prefix) && mech != g.mechanism {
				errs = append(errs, &Error{Name: name, Reason: fmt.Sprintf(
					"set, but sasl.mechanism is %s: it is used with %s only; remove %s or set sasl.mechanism to %s", mech, g.mechanism, name, g.mechanism)})
			}
		}
	}
	if errs != nil || !usesSASL(protocol) {
		return errors.Join(errs...)
	}
	m, err := buildMechanism(p)
	if err != nil {
		return err
	}
	p.sasl = m
	return nil
}

// buildMechanism reads sasl.jaas.config and returns the client side of
// sasl.mechanism. Errors name the properties but never hold a value of
// sasl.jaas.config.
func buildMechanism(p *Props) (sasl.Mechanism, error) {
	mech := p.String("sasl.mechanism")
	module := moduleOf[mech]
	if !p.IsSet("sasl.jaas.config") || p.String("sasl.jaas.config") == "" {
		how := "write the login module and its options, e.g. " + jaasExample(mech)
		if !p.IsSet("sasl.mechanism") {
			how = "set sasl.mechanism (Kafka's default is GSSAPI) and sasl.jaas.config, e.g. sasl.mechanism = \"SCRAM-SHA-512\" and sasl.jaas.config = " + jaasExample("SCRAM-SHA-512")
		}
		return nil, &Error{Name: "sasl.jaas.config", Reason: fmt.Sprintf(
			"missing: required with security.protocol %s: %s", p.String("security.protocol"), how)}
	}
	entries, err := ParseJAAS(p.String("sasl.jaas.config"))
	if err != nil {
		return nil, &Error{Name: "sasl.jaas.config", Reason: "not valid JAAS: " + err.Error()}
	}
	if len(entries) != 1 {
		return nil, &Error{Name: "sasl.jaas.config", Reason: fmt.Sprintf(
			"holds %d login modules: a client uses exactly one, %s for sasl.mechanism %s", len(entries), module, mech)}
	}
	e := entries[0]
	if e.Module != module {
		var want []string
		for m, mod := range moduleOf {
			if mod == e.Module {
				want = append(want, m)
			}
		}
		sort.Strings(want)
		hint := fmt.Sprintf("%s is not a login module linkproxy knows", e.Module)
		if want != nil {
			hint = fmt.Sprintf("%s serves sasl.mechanism %s", e.Module, strings.Join(want, " or "))
		}
		return nil, &Error{Name: "sasl.jaas.config", Reason: fmt.Sprintf(
			"names %s, but sasl.mechanism %s needs %s (%s): make sasl.mechanism and sasl.jaas.config agree",
			e.Module, mech, module, hint)}
	}
	switch mech {
	case "PLAIN":
		user, pass, err := userPass(e)
		if err != nil {
			return nil, err
		}
		return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		user, pass, err := userPass(e)
		if err != nil {
			return nil, err
		}
		a := scram.Auth{User: user, Pass: pass}
		switch t := e.Options["tokenauth"]; {
		case strings.EqualFold(t, "true"):
			a.IsToken = true // a delegation token: its id and HMAC
		case t == "" || strings.EqualFold(t, "false"):
		default:
			return nil, &Error{Name: "sasl.jaas.config", Reason: "ScramLoginModule option tokenauth must be true or false"}
		}
		if mech == "SCRAM-SHA-256" {
			return a.AsSha256Mechanism(), nil
		}
		return a.AsSha512Mechanism(), nil
	case "OAUTHBEARER":
		return oauthMechanism(e.Options, p)
	}
	m, err := kerberosMechanism(e.Options, p)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, &Error{Name: "sasl.jaas.config", Reason: "sasl.mechanism GSSAPI: " + err.Error()}
	}
	return m, nil
}

// userPass reads the username and password options of PlainLoginModule
// and ScramLoginModule; both are required, as Kafka's login modules
// require them for a client.
func userPass(e JAASEntry) (string, string, error) {
	var missing []string
	for _, k := range []string{"username", "password"} {
		if e.Options[k] == "" {
			missing = append(missing, k)
		}
	}
	if missing != nil {
		return "", "", &Error{Name: "sasl.jaas.config", Reason: fmt.Sprintf(
			"%s option %s missing or empty: write e.g. %s", e.Module, strings.Join(missing, " and "), jaasExample(mechanismOf(e.Module)))}
	}
	return e.Options["username"], e.Options["password"], nil
}

func mechanismOf(module string) string {
	if module == scramModule {
		return "SCRAM-SHA-512"
	}
	return "PLAIN"
}

// jaasExample is a sasl.jaas.config value for mechanism, for error texts.
func jaasExample(mechanism string) string {
	switch mechanism {
	case "OAUTHBEARER":
		return `'` + oauthModule + ` required clientId="linkproxy" clientSecret="..." scope="kafka";' with sasl.oauthbearer.token.endpoint.url`
	case "GSSAPI":
		return `'` + kerberosModule + ` required useKeyTab=true keyTab="/etc/linkproxy/linkproxy.keytab" principal="linkproxy@EXAMPLE.COM";' with sasl.kerberos.service.name = "kafka"`
	case "PLAIN":
		return `'` + plainModule + ` required username="linkproxy" password="...";'`
	}
	return `'` + scramModule + ` required username="linkproxy" password="...";'`
}

// SetLogger names the logger of the SASL login's background work (the
// Kerberos TGT refresh) for the connections p configures; without it
// that work logs nothing. Call it before the first connection.
func (p *Props) SetLogger(log hclog.Logger) {
	if m, ok := p.sasl.(*krbMechanism); ok {
		l := log.Named("kerberos")
		m.l.logp.Store(&l)
	}
}

// Close stops the SASL login's background work (the Kerberos TGT
// refresh). The login belongs to p and is shared by every client and
// dialer built from it, so p's owner closes it once those are closed. An
// authentication after Close logs in again.
func (p *Props) Close() {
	if m, ok := p.sasl.(*krbMechanism); ok {
		m.l.stop()
	}
}
