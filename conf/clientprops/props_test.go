package clientprops

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAccessors(t *testing.T) {
	r := Client.With(
		Def{Name: "x.enabled", Type: TypeBoolean, Default: false},
		Def{Name: "x.ratio", Type: TypeDouble, Default: 0.5},
		Def{Name: "x.optional", Type: TypeString},
		Def{Name: "x.topics", Type: TypeList},
	)
	p, errs := r.Parse(map[string]any{
		"bootstrap.servers":   "a:1,b:2",
		"x.enabled":           "true",
		"metadata.max.age.ms": "60000",
	})
	if errs != nil {
		t.Fatal(errs)
	}
	if got := p.List("bootstrap.servers"); len(got) != 2 || got[1] != "b:2" {
		t.Errorf("List = %v", got)
	}
	p.List("bootstrap.servers")[0] = "mutated"
	if p.List("bootstrap.servers")[0] != "a:1" {
		t.Error("List returned internal storage")
	}
	if !p.Bool("x.enabled") || p.Float("x.ratio") != 0.5 {
		t.Error("Bool or Float wrong")
	}
	if p.Duration("metadata.max.age.ms") != time.Minute || p.Duration("request.timeout.ms") != 30*time.Second {
		t.Error("Duration wrong")
	}
	if p.String("x.optional") != "" || p.List("x.topics") != nil || p.IsSet("x.optional") {
		t.Error("unset property without default should read as zero")
	}
	wantNames := "bootstrap.servers client.dns.lookup client.id connections.max.idle.ms metadata.max.age.ms " +
		"receive.buffer.bytes reconnect.backoff.max.ms reconnect.backoff.ms request.timeout.ms retry.backoff.max.ms " +
		"retry.backoff.ms sasl.kerberos.kinit.cmd sasl.kerberos.min.time.before.relogin sasl.kerberos.ticket.renew.jitter " +
		"sasl.kerberos.ticket.renew.window.factor sasl.login.refresh.buffer.seconds sasl.login.refresh.min.period.seconds " +
		"sasl.login.refresh.window.factor sasl.login.refresh.window.jitter sasl.login.retry.backoff.max.ms " +
		"sasl.login.retry.backoff.ms sasl.mechanism sasl.oauthbearer.scope.claim.name sasl.oauthbearer.sub.claim.name " +
		"security.protocol send.buffer.bytes socket.connection.setup.timeout.max.ms " +
		"socket.connection.setup.timeout.ms ssl.enabled.protocols ssl.endpoint.identification.algorithm " +
		"ssl.keymanager.algorithm ssl.keystore.type ssl.protocol ssl.trustmanager.algorithm ssl.truststore.type " +
		"x.enabled x.ratio"
	if got := strings.Join(p.Names(), " "); got != wantNames {
		t.Errorf("Names() = %s", got)
	}
}

func TestAccessorsPanic(t *testing.T) {
	p, errs := Client.With(Def{Name: "x.unsupported", Type: TypeString, Unsupported: "not yet"}).
		Parse(map[string]any{"bootstrap.servers": "a:1"})
	if errs != nil {
		t.Fatal(errs)
	}
	for name, f := range map[string]func(){
		"undefined":     func() { p.String("bootstrap.server") },
		"wrong type":    func() { p.Int("client.id") },
		"not .ms":       func() { p.Duration("send.buffer.bytes") },
		"unsupported":   func() { p.String("x.unsupported") },
		"IsSet unknown": func() { p.IsSet("nope") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestPasswordsNeverShown covers every way a password could reach an
// operator's screen or a log: errors of every kind, Redacted and fmt.
func TestPasswordsNeverShown(t *testing.T) {
	const pw = "hunter2-s3cret"
	r := Client.With(
		Def{Name: "link.password", Type: TypePassword},
		Def{Name: "link.required.password", Type: TypePassword, Required: true},
		Def{Name: "link.checked.password", Type: TypePassword, Validate: func(v any) (any, error) {
			return v, nil
		}},
	)
	p, errs := r.Parse(map[string]any{
		"bootstrap.servers":      "a:1",
		"link.password":          pw,
		"link.required.password": pw,
		"link.checked.password":  pw,
	})
	if errs != nil {
		t.Fatal(errs)
	}
	if p.String("link.password") != pw {
		t.Error("String must return the password to the code that needs it")
	}
	for _, out := range []string{
		fmt.Sprint(p), fmt.Sprintf("%v|%+v|%#v|%s|%q", p, p, p, p, p), fmt.Sprint(*p),
		fmt.Sprint(p.Redacted()), fmt.Sprintf("%#v", p.vals),
	} {
		if strings.Contains(out, pw) {
			t.Errorf("password leaked: %s", out)
		}
		if !strings.Contains(out, hidden) {
			t.Errorf("no %s marker in %s", hidden, out)
		}
	}
	// Inside an unexported field fmt cannot call Format; it must still
	// not reach the password.
	if out := fmt.Sprintf("%+v", struct{ p Props }{*p}); strings.Contains(out, pw) {
		t.Errorf("password leaked: %s", out)
	}
	if got := fmt.Sprint((*Props)(nil)); got != "<nil>" {
		t.Errorf("nil Props prints %q", got)
	}
	if got := p.Redacted()["link.password"]; got != "[hidden]" {
		t.Errorf("Redacted password = %q", got)
	}

	// Errors, for every password property Client knows and for a
	// password of the wrong type, carry no value.
	bad := map[string]any{"bootstrap.servers": "a:1", "link.password": []any{pw}}
	for _, name := range Client.Names() {
		if d, _ := Client.Lookup(name); d.Type == TypePassword {
			bad[name] = pw
		}
	}
	bad["ssl.keystore.passwrd"] = pw // unknown, near a password name
	_, errs = r.Parse(bad)
	// link.password, the misspelling and link.required.password
	// missing; the supported ssl.* and sasl.* passwords pass alone
	// (TestTLSErrorsHideSecrets and TestSASLErrorsHideSecrets cover
	// their use).
	if len(errs) != 3 {
		t.Errorf("got %d errors, want 3: %v", len(errs), errs)
	}
	for _, err := range errs {
		if strings.Contains(err.Error(), pw) {
			t.Errorf("password leaked in error: %v", err)
		}
	}
}
