package clientprops

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		props  map[string]any
		errors []string // one per expected error, in name order: `"name": reason` substrings
	}{
		{
			name:   "unknown with suggestion",
			props:  map[string]any{"bootstrap.servers": "a:1", "bootstrap.server": "b:2"},
			errors: []string{`"bootstrap.server": unknown Kafka client property (did you mean "bootstrap.servers"?)`},
		},
		{
			name:   "unknown without suggestion",
			props:  map[string]any{"bootstrap.servers": "a:1", "acks": "all"},
			errors: []string{`"acks": unknown Kafka client property`},
		},
		{
			name:   "missing required",
			props:  map[string]any{"client.id": "x"},
			errors: []string{`"bootstrap.servers": missing: set it to the upstream brokers, e.g. "10.0.0.1:9092"`},
		},
		{
			name:   "empty required",
			props:  map[string]any{"bootstrap.servers": ""},
			errors: []string{`"bootstrap.servers": empty: set it to the upstream brokers, e.g. "10.0.0.1:9092"`},
		},
		{
			name:   "empty required array",
			props:  map[string]any{"bootstrap.servers": []any{}},
			errors: []string{`"bootstrap.servers": empty: set it to the upstream brokers`},
		},
		{
			name:  "bad bootstrap entries, all reported",
			props: map[string]any{"bootstrap.servers": "a:1,,b,a:1,c:0,[::1]:99999"},
			errors: []string{`"bootstrap.servers": entry 2 is empty (a stray comma?); "b": missing port: write host:port; ` +
				`"a:1" is listed twice; "c:0": port 0 is not a broker port; "[::1]:99999": port 99999 is out of range`},
		},
		{
			name:   "bad type",
			props:  map[string]any{"bootstrap.servers": "a:1", "request.timeout.ms": true},
			errors: []string{`"request.timeout.ms": expected an integer, got a boolean (true)`},
		},
		{
			name:   "bad value below minimum",
			props:  map[string]any{"bootstrap.servers": "a:1", "retry.backoff.ms": "-5"},
			errors: []string{`"retry.backoff.ms": -5 is below the minimum 0`},
		},
		{
			name:   "bad value beyond franz-go",
			props:  map[string]any{"bootstrap.servers": "a:1", "metadata.max.age.ms": int64(7200000)},
			errors: []string{`"metadata.max.age.ms": 7200000 is out of range 10..3600000, the range linkproxy's Kafka client (franz-go) accepts`},
		},
		{
			name:   "enum",
			props:  map[string]any{"bootstrap.servers": "a:1", "client.dns.lookup": "default"},
			errors: []string{`"client.dns.lookup": "default" is not valid: use one of use_all_dns_ips, resolve_canonical_bootstrap_servers_only`},
		},
		{
			name:   "buffer size zero",
			props:  map[string]any{"bootstrap.servers": "a:1", "send.buffer.bytes": int64(0)},
			errors: []string{`"send.buffer.bytes": 0 is not valid: use -1 for the OS default`},
		},
		{
			name:   "SASL without sasl.jaas.config",
			props:  map[string]any{"bootstrap.servers": "a:1", "security.protocol": "sasl_ssl"},
			errors: []string{`"sasl.jaas.config": missing: required with security.protocol SASL_SSL: set sasl.mechanism (Kafka's default is GSSAPI) and sasl.jaas.config, e.g.`},
		},
		{
			name:   "security protocol invalid",
			props:  map[string]any{"bootstrap.servers": "a:1", "security.protocol": "TLS"},
			errors: []string{`"security.protocol": "TLS" is not valid: use one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL`},
		},
		{
			name:   "sasl property without SASL",
			props:  map[string]any{"bootstrap.servers": "a:1", "sasl.mechanism": "PLAIN"},
			errors: []string{`"sasl.mechanism": set, but security.protocol is PLAINTEXT, which does not use SASL: set security.protocol to SASL_SSL (or SASL_PLAINTEXT) to authenticate to the brokers, or remove sasl.mechanism`},
		},
		{
			name:   "Java class property",
			props:  map[string]any{"bootstrap.servers": "a:1", "sasl.login.class": "com.example.Login"},
			errors: []string{`"sasl.login.class": linkproxy cannot load Java classes: give the credentials in sasl.jaas.config`},
		},
		{
			name:  "ssl property without TLS",
			props: map[string]any{"bootstrap.servers": "a:1", "ssl.truststore.location": "/etc/ts.jks", "ssl.protocol": "TLSv1.2"},
			errors: []string{
				`"ssl.protocol": set, but security.protocol is PLAINTEXT, which does not use TLS: set security.protocol to SSL`,
				`"ssl.truststore.location": set, but security.protocol is PLAINTEXT, which does not use TLS: set security.protocol to SSL`,
			},
		},
		{
			name:   "duration overflow",
			props:  map[string]any{"bootstrap.servers": "a:1", "retry.backoff.max.ms": int64(1) << 62},
			errors: []string{`"retry.backoff.max.ms": 4611686018427387904 ms is too long`},
		},
		{
			name:   "base above max, base set",
			props:  map[string]any{"bootstrap.servers": "a:1", "retry.backoff.ms": int64(2000)},
			errors: []string{`"retry.backoff.ms": retry.backoff.ms (2000) is greater than retry.backoff.max.ms (1000): raise retry.backoff.max.ms or lower retry.backoff.ms`},
		},
		{
			name:   "base above max, max set",
			props:  map[string]any{"bootstrap.servers": "a:1", "reconnect.backoff.max.ms": int64(10)},
			errors: []string{`"reconnect.backoff.max.ms": reconnect.backoff.ms (50) is greater than reconnect.backoff.max.ms (10)`},
		},
		{
			name: "several, sorted by name",
			props: map[string]any{
				"request.timeout.ms": "x", "bootstrap.servers": "a", "client.idd": "y",
			},
			errors: []string{`"bootstrap.servers": "a": missing port`, `"client.idd": unknown Kafka client property (did you mean "client.id"?)`, `"request.timeout.ms": "x" is not an integer`},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, errs := Parse(tt.props)
			if p != nil {
				t.Errorf("got Props %v with errors expected", p)
			}
			if len(errs) != len(tt.errors) {
				t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(tt.errors))
			}
			for i, err := range errs {
				if !strings.Contains(err.Error(), tt.errors[i]) {
					t.Errorf("error %d = %q, want it to contain %q", i, err, tt.errors[i])
				}
				var pe *Error
				if !errors.As(err, &pe) || pe.Name == "" {
					t.Errorf("error %d = %#v is not a named *Error", i, err)
				}
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	p, errs := Parse(map[string]any{"bootstrap.servers": "10.0.0.1:9092, 10.0.0.2:9092"})
	if errs != nil {
		t.Fatal(errs)
	}
	want := map[string]string{
		"bootstrap.servers":                        "10.0.0.1:9092,10.0.0.2:9092",
		"client.id":                                "linkproxy",
		"client.dns.lookup":                        "use_all_dns_ips",
		"security.protocol":                        "PLAINTEXT",
		"metadata.max.age.ms":                      "300000",
		"request.timeout.ms":                       "30000",
		"retry.backoff.ms":                         "100",
		"retry.backoff.max.ms":                     "1000",
		"reconnect.backoff.ms":                     "50",
		"reconnect.backoff.max.ms":                 "1000",
		"socket.connection.setup.timeout.ms":       "10000",
		"socket.connection.setup.timeout.max.ms":   "30000",
		"connections.max.idle.ms":                  "540000",
		"send.buffer.bytes":                        "131072",
		"receive.buffer.bytes":                     "65536",
		"ssl.enabled.protocols":                    "TLSv1.2,TLSv1.3",
		"ssl.endpoint.identification.algorithm":    "https",
		"ssl.keymanager.algorithm":                 "SunX509",
		"ssl.keystore.type":                        "JKS",
		"ssl.protocol":                             "TLSv1.3",
		"ssl.trustmanager.algorithm":               "PKIX",
		"ssl.truststore.type":                      "JKS",
		"sasl.mechanism":                           "GSSAPI",
		"sasl.kerberos.kinit.cmd":                  "/usr/bin/kinit",
		"sasl.kerberos.min.time.before.relogin":    "60000",
		"sasl.kerberos.ticket.renew.jitter":        "0.05",
		"sasl.kerberos.ticket.renew.window.factor": "0.8",
		"sasl.login.refresh.buffer.seconds":        "300",
		"sasl.login.refresh.min.period.seconds":    "60",
		"sasl.login.refresh.window.factor":         "0.8",
		"sasl.login.refresh.window.jitter":         "0.05",
		"sasl.login.retry.backoff.max.ms":          "10000",
		"sasl.login.retry.backoff.ms":              "100",
		"sasl.oauthbearer.scope.claim.name":        "scope",
		"sasl.oauthbearer.sub.claim.name":          "sub",
	}
	if got := p.Redacted(); !reflect.DeepEqual(got, want) {
		t.Errorf("Redacted() =\n%v\nwant\n%v", got, want)
	}
	if !p.IsSet("bootstrap.servers") || p.IsSet("client.id") {
		t.Error("IsSet does not tell set from default")
	}
}

func TestParseCanonicalizes(t *testing.T) {
	p, errs := Parse(map[string]any{
		"bootstrap.servers":  []any{"a:1", "b:2"},
		"security.protocol":  "plaintext",
		"request.timeout.ms": "45000",
		"send.buffer.bytes":  int64(-1),
	})
	if errs != nil {
		t.Fatal(errs)
	}
	if got := p.String("security.protocol"); got != "PLAINTEXT" {
		t.Errorf("security.protocol = %q, want PLAINTEXT", got)
	}
	if got := p.Int("request.timeout.ms"); got != 45000 {
		t.Errorf("request.timeout.ms = %d", got)
	}
	if got := p.Int("send.buffer.bytes"); got != -1 {
		t.Errorf("send.buffer.bytes = %d", got)
	}
}

func TestRegistryWith(t *testing.T) {
	links := Client.With(
		Def{Name: "link.mode", Type: TypeString, Default: "destination", Validate: OneOf("destination", "bidirectional")},
		Def{Name: "client.id", Type: TypeString, Default: "linkproxy-link"},
	).WithRule(func(p *Props) error {
		if p.String("link.mode") == "bidirectional" && !p.IsSet("client.id") {
			return &Error{Name: "link.mode", Reason: "bidirectional links need an explicit client.id"}
		}
		return nil
	})

	p, errs := links.Parse(map[string]any{"bootstrap.servers": "a:1"})
	if errs != nil {
		t.Fatal(errs)
	}
	if p.String("link.mode") != "destination" || p.String("client.id") != "linkproxy-link" {
		t.Errorf("extended defaults not applied: %v", p)
	}
	if _, errs := links.Parse(map[string]any{"bootstrap.servers": "a:1", "link.mode": "both"}); len(errs) != 1 ||
		!strings.Contains(errs[0].Error(), `"link.mode": "both" is not valid`) {
		t.Errorf("link.mode validation: %v", errs)
	}
	if _, errs := links.Parse(map[string]any{"bootstrap.servers": "a:1", "link.mode": "bidirectional"}); len(errs) != 1 ||
		!strings.Contains(errs[0].Error(), "need an explicit client.id") {
		t.Errorf("rule: %v", errs)
	}
	// The inherited rules still run.
	if _, errs := links.Parse(map[string]any{"bootstrap.servers": "a:1", "retry.backoff.ms": "5000"}); len(errs) != 1 {
		t.Errorf("inherited rule: %v", errs)
	}

	// Client itself is untouched.
	if _, ok := Client.Lookup("link.mode"); ok {
		t.Error("With modified Client")
	}
	if d, _ := Client.Lookup("client.id"); d.Default != "linkproxy" {
		t.Errorf("With modified Client's client.id default: %v", d.Default)
	}
	if _, errs := Client.Parse(map[string]any{"bootstrap.servers": "a:1", "link.mode": "destination"}); len(errs) != 1 {
		t.Errorf("Client accepts link.mode: %v", errs)
	}
}

func TestRegistryWithRuleDoesNotShare(t *testing.T) {
	base := NewRegistry(Def{Name: "a", Type: TypeInt, Default: int64(1)})
	fail := func(name string) func(*Props) error {
		return func(*Props) error { return &Error{Name: name, Reason: "rule"} }
	}
	b1 := base.WithRule(fail("b1"))
	b2 := base.WithRule(fail("b2"))
	_, e1 := b1.Parse(nil)
	_, e2 := b2.Parse(nil)
	if len(e1) != 1 || len(e2) != 1 || !strings.Contains(e1[0].Error(), "b1") || !strings.Contains(e2[0].Error(), "b2") {
		t.Errorf("rules shared between copies: %v / %v", e1, e2)
	}
}

func TestNewRegistryPanicsOnBadDef(t *testing.T) {
	for _, d := range []Def{
		{Type: TypeString},
		{Name: "x"},
		{Name: "x", Type: TypeInt, Default: 5}, // int, not int64
		{Name: "x", Type: TypeInt, Default: int64(-1), Validate: AtLeast(0)},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewRegistry(%+v) did not panic", d)
				}
			}()
			NewRegistry(d)
		}()
	}
}

// TestClientDefsSupported pins the properties the brief says linkproxy
// supports now, and that every other known one is refused with a reason.
func TestClientDefsSupported(t *testing.T) {
	supported := map[string]bool{
		"bootstrap.servers": true, "client.id": true, "client.dns.lookup": true, "security.protocol": true,
		"metadata.max.age.ms": true, "request.timeout.ms": true, "retry.backoff.ms": true, "retry.backoff.max.ms": true,
		"reconnect.backoff.ms": true, "reconnect.backoff.max.ms": true, "socket.connection.setup.timeout.ms": true,
		"socket.connection.setup.timeout.max.ms": true, "connections.max.idle.ms": true,
		"send.buffer.bytes": true, "receive.buffer.bytes": true,
	}
	for _, name := range []string{
		"ssl.cipher.suites", "ssl.enabled.protocols", "ssl.endpoint.identification.algorithm",
		"ssl.engine.factory.class", "ssl.key.password", "ssl.keymanager.algorithm",
		"ssl.keystore.certificate.chain", "ssl.keystore.key", "ssl.keystore.location",
		"ssl.keystore.password", "ssl.keystore.type", "ssl.protocol", "ssl.provider",
		"ssl.secure.random.implementation", "ssl.trustmanager.algorithm", "ssl.truststore.certificates",
		"ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.type",
		"sasl.client.callback.handler.class", "sasl.jaas.config", "sasl.kerberos.kinit.cmd",
		"sasl.kerberos.min.time.before.relogin", "sasl.kerberos.service.name", "sasl.kerberos.ticket.renew.jitter",
		"sasl.kerberos.ticket.renew.window.factor", "sasl.login.callback.handler.class", "sasl.login.class",
		"sasl.login.connect.timeout.ms", "sasl.login.read.timeout.ms", "sasl.login.refresh.buffer.seconds",
		"sasl.login.refresh.min.period.seconds", "sasl.login.refresh.window.factor", "sasl.login.refresh.window.jitter",
		"sasl.login.retry.backoff.max.ms", "sasl.login.retry.backoff.ms", "sasl.mechanism",
		"sasl.oauthbearer.scope.claim.name", "sasl.oauthbearer.sub.claim.name", "sasl.oauthbearer.token.endpoint.url",
	} {
		supported[name] = true
	}
	for _, name := range Client.Names() {
		d, _ := Client.Lookup(name)
		if supported[name] == (d.Unsupported != "") {
			t.Errorf("%s: Unsupported = %q", name, d.Unsupported)
		}
	}
	if n := len(Client.Names()); n != len(supported) {
		t.Errorf("Client has %d properties, want %d", n, len(supported))
	}
}
