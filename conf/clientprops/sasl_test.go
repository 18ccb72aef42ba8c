package clientprops

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/linkproxy/linkproxy/auth/keystore/keystoretest"
)

const (
	scramMod = "org.apache.kafka.common.security.scram.ScramLoginModule"
	oauthMod = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
	krb5Mod  = "com.sun.security.auth.module.Krb5LoginModule"
	secretPW = "s3cret-pw"
)

func saslProps(bootstrap any, kv ...any) map[string]any {
	m := map[string]any{"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT"}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func jaas(module string, kv ...string) string {
	s := module + " required"
	for i := 0; i < len(kv); i += 2 {
		s += fmt.Sprintf(" %s=%q", kv[i], kv[i+1])
	}
	return s + ";"
}

func TestSASLPropertyErrors(t *testing.T) {
	plainJAAS := jaas(plainMod, "username", "u", "password", secretPW)
	for _, tt := range []struct {
		name  string
		props map[string]any
		want  []string // one per error, in order
	}{
		{"no jaas config, mechanism set", saslProps("a:1", "sasl.mechanism", "PLAIN"),
			[]string{`"sasl.jaas.config": missing: required with security.protocol SASL_PLAINTEXT: write the login module and its options, e.g. '` + plainMod + ` required username="linkproxy" password="...";'`}},
		{"empty jaas config", saslProps("a:1", "sasl.mechanism", "SCRAM-SHA-256", "sasl.jaas.config", ""),
			[]string{`"sasl.jaas.config": missing: required with security.protocol SASL_PLAINTEXT: write the login module and its options, e.g. '` + scramMod}},
		{"mechanism and module disagree", saslProps("a:1", "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", plainJAAS),
			[]string{`"sasl.jaas.config": names ` + plainMod + `, but sasl.mechanism SCRAM-SHA-512 needs ` + scramMod + ` (` + plainMod + ` serves sasl.mechanism PLAIN): make sasl.mechanism and sasl.jaas.config agree`}},
		{"default mechanism GSSAPI with a SCRAM module", saslProps("a:1", "sasl.jaas.config", jaas(scramMod, "username", "u", "password", secretPW)),
			[]string{`sasl.mechanism GSSAPI needs ` + krb5Mod + ` (` + scramMod + ` serves sasl.mechanism SCRAM-SHA-256 or SCRAM-SHA-512)`}},
		{"unknown module", saslProps("a:1", "sasl.mechanism", "PLAIN", "sasl.jaas.config", "com.example.Login required;"),
			[]string{`com.example.Login is not a login module linkproxy knows`}},
		{"not JAAS", saslProps("a:1", "sasl.mechanism", "PLAIN", "sasl.jaas.config", plainMod+` required username="u" password="`+secretPW+`"`),
			[]string{`"sasl.jaas.config": not valid JAAS: ` + plainMod + `: entry not terminated by a semicolon`}},
		{"two modules", saslProps("a:1", "sasl.mechanism", "PLAIN", "sasl.jaas.config", plainJAAS+plainJAAS),
			[]string{`"sasl.jaas.config": holds 2 login modules: a client uses exactly one, ` + plainMod + ` for sasl.mechanism PLAIN`}},
		{"no password", saslProps("a:1", "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", jaas(scramMod, "username", "u")),
			[]string{`"sasl.jaas.config": ` + scramMod + ` option password missing or empty: write e.g.`}},
		{"bad tokenauth", saslProps("a:1", "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", jaas(scramMod, "username", "u", "password", secretPW, "tokenauth", "yes")),
			[]string{`ScramLoginModule option tokenauth must be true or false`}},
		{"lower-case mechanism", saslProps("a:1", "sasl.mechanism", "plain"),
			[]string{`"sasl.mechanism": "plain" is not valid: SASL mechanism names are upper case, write "PLAIN"`}},
		{"unknown mechanism", saslProps("a:1", "sasl.mechanism", "DIGEST-MD5"),
			[]string{`"sasl.mechanism": "DIGEST-MD5" is not supported: use one of GSSAPI, OAUTHBEARER, PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`}},
		{"OAUTHBEARER without endpoint", saslProps("a:1", "sasl.mechanism", "OAUTHBEARER", "sasl.jaas.config", jaas(oauthMod, "clientId", "c", "clientSecret", secretPW)),
			[]string{`"sasl.oauthbearer.token.endpoint.url": missing: required with sasl.mechanism OAUTHBEARER`}},
		{"OAUTHBEARER without secret", saslProps("a:1", "sasl.mechanism", "OAUTHBEARER", "sasl.oauthbearer.token.endpoint.url", "https://idp.example/token", "sasl.jaas.config", jaas(oauthMod, "clientId", "c")),
			[]string{`"sasl.jaas.config": ` + oauthMod + ` option clientSecret missing or empty`}},
		{"token endpoint not http", saslProps("a:1", "sasl.mechanism", "OAUTHBEARER", "sasl.oauthbearer.token.endpoint.url", "file:///tmp/token"),
			[]string{`"sasl.oauthbearer.token.endpoint.url": "file:///tmp/token" is not an http(s) URL`}},
		{"OAuth property with PLAIN", saslProps("a:1", "sasl.mechanism", "PLAIN", "sasl.jaas.config", plainJAAS, "sasl.oauthbearer.token.endpoint.url", "https://idp.example/token"),
			[]string{`"sasl.oauthbearer.token.endpoint.url": set, but sasl.mechanism is PLAIN: it is used with OAUTHBEARER only`}},
		{"Kafka's OAuth handler with PLAIN", saslProps("a:1", "sasl.mechanism", "PLAIN", "sasl.jaas.config", plainJAAS, "sasl.login.callback.handler.class", oauthHandlers[0]),
			[]string{`"sasl.login.callback.handler.class": set, but sasl.mechanism is PLAIN: it is used with OAUTHBEARER only`}},
		{"Kerberos property with SCRAM", saslProps("a:1", "sasl.mechanism", "SCRAM-SHA-256", "sasl.jaas.config", jaas(scramMod, "username", "u", "password", secretPW), "sasl.kerberos.service.name", "kafka"),
			[]string{`"sasl.kerberos.service.name": set, but sasl.mechanism is SCRAM-SHA-256: it is used with GSSAPI only`}},
		{"jaas config without SASL", map[string]any{"bootstrap.servers": "a:1", "security.protocol": "SSL", "sasl.jaas.config": plainJAAS},
			[]string{`"sasl.jaas.config": set, but security.protocol is SSL, which does not use SASL: set security.protocol to SASL_SSL (or SASL_PLAINTEXT)`}},
		{"ssl property with SASL_PLAINTEXT", saslProps("a:1", "sasl.mechanism", "PLAIN", "sasl.jaas.config", plainJAAS, "ssl.truststore.location", "/etc/ts.jks"),
			[]string{`"ssl.truststore.location": set, but security.protocol is SASL_PLAINTEXT, which does not use TLS: set security.protocol to SASL_SSL to reach the brokers over TLS`}},
		{"Java callback handler", saslProps("a:1", "sasl.client.callback.handler.class", "com.example.Handler"),
			[]string{`"sasl.client.callback.handler.class": linkproxy cannot load Java classes: give the credentials in sasl.jaas.config (username and password for PlainLoginModule and ScramLoginModule; clientId, clientSecret and scope for OAuthBearerLoginModule, with sasl.oauthbearer.token.endpoint.url), or remove it`}},
		{"refresh factor out of Kafka's range", saslProps("a:1", "sasl.login.refresh.window.factor", 0.3),
			[]string{`"sasl.login.refresh.window.factor": 0.3 is out of range 0.5..1`}},
		{"GSSAPI goes to kerberos.go", saslProps("a:1", "sasl.jaas.config", jaas(krb5Mod, "useKeyTab", "true", "principal", "p@R")),
			nil}, // whatever kerberos.go answers, named and without secrets (below)
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, errs := Parse(tt.props)
			if tt.want == nil {
				for _, err := range errs {
					if strings.Contains(err.Error(), secretPW) {
						t.Errorf("secret in %v", err)
					}
				}
				return
			}
			if p != nil || len(errs) != len(tt.want) {
				t.Fatalf("got %v, want %d errors", errs, len(tt.want))
			}
			for i, err := range errs {
				if !strings.Contains(err.Error(), tt.want[i]) {
					t.Errorf("error %d:\n got %v\nwant %s", i, err, tt.want[i])
				}
				if strings.Contains(err.Error(), secretPW) {
					t.Errorf("error %d holds the password: %v", i, err)
				}
				var pe *Error
				if !errors.As(err, &pe) || pe.Name == "" {
					t.Errorf("error %d = %#v is not a named *Error", i, err)
				}
			}
		})
	}
}

// TestSASLAccepted: configurations Kafka clients use parse, pasted Kafka
// OAuth configuration included.
func TestSASLAccepted(t *testing.T) {
	for name, props := range map[string]map[string]any{
		"PLAIN":    saslProps("a:1", "sasl.mechanism", "PLAIN", "sasl.jaas.config", jaas(plainMod, "username", "u", "password", "p")),
		"SCRAM":    saslProps("a:1", "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", jaas(scramMod, "username", "u", "password", "p", "tokenauth", "true")),
		"SASL_SSL": {"bootstrap.servers": "a:1", "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256", "sasl.jaas.config": jaas(scramMod, "username", "u", "password", "p")},
		"OAUTHBEARER, Kafka's handler class": saslProps("a:1", "sasl.mechanism", "OAUTHBEARER",
			"sasl.login.callback.handler.class", "org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler",
			"sasl.oauthbearer.token.endpoint.url", "https://idp.example/token", "sasl.login.connect.timeout.ms", "5000",
			"sasl.jaas.config", jaas(oauthMod, "clientId", "c", "clientSecret", "s", "scope", "kafka", "extension_logicalCluster", "lkc-1")),
		"defaults written out": saslProps("a:1", "sasl.mechanism", "PLAIN", "sasl.jaas.config", jaas(plainMod, "username", "u", "password", "p"),
			"sasl.login.refresh.window.factor", 0.8, "sasl.kerberos.kinit.cmd", "/usr/bin/kinit"),
	} {
		p, errs := Parse(props)
		if errs != nil {
			t.Errorf("%s: %v", name, errs)
			continue
		}
		if p.sasl == nil {
			t.Errorf("%s: no mechanism", name)
		}
		if len(p.KgoOpts()) != len(mustParse(t, map[string]any{"bootstrap.servers": "a:1"}).KgoOpts())+1 {
			t.Errorf("%s: KgoOpts has no kgo.SASL", name)
		}
	}
}

// TestSASLErrorsHideSecrets: the JAAS configuration shows nowhere.
func TestSASLErrorsHideSecrets(t *testing.T) {
	p := mustParse(t, saslProps("a:1", "sasl.mechanism", "PLAIN", "sasl.jaas.config", jaas(plainMod, "username", "u", "password", secretPW)))
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%+v", *p), fmt.Sprintf("%#v", p), fmt.Sprint(p.Redacted())} {
		if strings.Contains(s, secretPW) || strings.Contains(s, "PlainLoginModule") {
			t.Errorf("sasl.jaas.config shown: %s", s)
		}
	}
	if got := p.Redacted()["sasl.jaas.config"]; got != "[hidden]" {
		t.Errorf("Redacted sasl.jaas.config = %q", got)
	}
}

func TestRefreshAt(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	def := refreshConfig{windowFactor: 0.8, windowJitter: 0.05, minPeriod: 60 * time.Second, buffer: 300 * time.Second}
	for _, tt := range []struct {
		name          string
		start, expire time.Time
		c             refreshConfig
		rnd           float64
		want          time.Time
	}{
		{"one hour, factor 0.8", now, now.Add(time.Hour), def, 0, now.Add(48 * time.Minute)},
		{"with the full jitter", now, now.Add(time.Hour), def, 1, now.Add(51 * time.Minute)},
		{"issued before now: the window counts from iat", now.Add(-30 * time.Minute), now.Add(30 * time.Minute), def, 0, now.Add(18 * time.Minute)},
		{"no iat: from now", time.Time{}, now.Add(time.Hour), def, 0, now.Add(48 * time.Minute)},
		{"into the end buffer: at its start", now, now.Add(20 * time.Minute), refreshConfig{windowFactor: 1, minPeriod: 60 * time.Second, buffer: 300 * time.Second}, 0, now.Add(15 * time.Minute)},
		{"sooner than the minimum period: at its end", now.Add(-50 * time.Minute), now.Add(10 * time.Minute), def, 0, now.Add(time.Minute)},
		{"lifetime below both buffers: the window of what is left", now, now.Add(5 * time.Minute), def, 0, now.Add(4 * time.Minute)},
		{"already expired: retry in 10s", now.Add(-2 * time.Hour), now.Add(-time.Hour), def, 0, now.Add(10 * time.Second)},
		{"milliseconds truncate as Java's (long)", now, now.Add(1001 * time.Millisecond), refreshConfig{windowFactor: 0.5}, 0, now.Add(500 * time.Millisecond)},
	} {
		if got := refreshAt(now, tt.start, tt.expire, tt.c, tt.rnd); !got.Equal(tt.want) {
			t.Errorf("%s: refresh at now+%s, want now+%s", tt.name, got.Sub(now), tt.want.Sub(now))
		}
	}
}

func TestReauthAt(t *testing.T) {
	end := time.Unix(1_000_000, 0)
	for _, tt := range []struct {
		lifetimeMs int64
		rnd        float64
		want       time.Duration
	}{
		{0, 0.5, -1},
		{-5, 0.5, -1},
		{100_000, 0, 85 * time.Second},
		{100_000, 1, 95 * time.Second},
		{1 << 62, 0, time.Duration(float64(365*24*time.Hour) * 0.85)},
	} {
		got := reauthAt(end, tt.lifetimeMs, tt.rnd)
		switch {
		case tt.want < 0 && !got.IsZero():
			t.Errorf("lifetime %d: reauth at %v, want none", tt.lifetimeMs, got)
		case tt.want >= 0 && got.Sub(end).Round(time.Millisecond) != tt.want.Round(time.Millisecond):
			t.Errorf("lifetime %d, rnd %v: reauth after %s, want %s", tt.lifetimeMs, tt.rnd, got.Sub(end), tt.want)
		}
	}
}

// saslCluster is a kfake cluster whose only user is linkproxy, for
// mechanism, over TLS when ca is not nil.
func saslCluster(t *testing.T, mechanism string, ca *keystoretest.CA, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	opts = append(opts, kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(mechanism, "linkproxy", secretPW))
	if ca != nil {
		opts = append(opts, kfake.TLS(ca.Issue(t, "broker", "127.0.0.1").ServerConfig(nil)))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func saslTestProps(addrs []string, mechanism string, ca *keystoretest.CA, password string) map[string]any {
	module := scramMod
	if mechanism == "PLAIN" {
		module = plainMod
	}
	m := saslProps(addrs, "sasl.mechanism", mechanism, "sasl.jaas.config", jaas(module, "username", "linkproxy", "password", password))
	if ca != nil {
		m["security.protocol"] = "SASL_SSL"
		m["ssl.truststore.type"] = "PEM"
		m["ssl.truststore.certificates"] = string(ca.PEM())
	}
	return m
}

// rawMetadata asks for metadata on conn, which a SASL broker answers only
// on an authenticated connection.
func rawMetadata(t *testing.T, conn interface {
	Write([]byte) (int, error)
	Read([]byte) (int, error)
}, corr int32) *kmsg.MetadataResponse {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 4
	if _, err := conn.Write(kmsg.NewRequestFormatter().AppendRequest(nil, req, corr)); err != nil {
		t.Fatal(err)
	}
	frame, err := readFrame(conn)
	if err != nil {
		t.Fatalf("metadata: %v (the broker closes unauthenticated connections)", err)
	}
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	if err := resp.ReadFrom(frame[8:]); err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestSASLKfake authenticates franz-go clients (KgoOpts) and the proxy's
// raw connections (Dialer) to kfake clusters with each mechanism kfake
// serves, over SASL_PLAINTEXT and SASL_SSL.
func TestSASLKfake(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		for _, withTLS := range []bool{false, true} {
			name := mech + " SASL_PLAINTEXT"
			var ca *keystoretest.CA
			if withTLS {
				name = mech + " SASL_SSL"
				ca = keystoretest.NewCA(t, "broker CA")
			}
			t.Run(name, func(t *testing.T) {
				c := saslCluster(t, mech, ca)
				addrs := c.ListenAddrs()
				p := mustParse(t, saslTestProps(addrs, mech, ca, secretPW))

				cl, err := kgo.NewClient(p.KgoOpts()...)
				if err != nil {
					t.Fatal(err)
				}
				defer cl.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl); err != nil {
					t.Fatalf("kgo metadata: %v", err)
				}

				conn, err := p.Dialer()(ctx, "tcp", addrs[0])
				if err != nil {
					t.Fatalf("Dialer: %v", err)
				}
				defer conn.Close()
				if _, isTLS := conn.(*tls.Conn); isTLS != withTLS {
					t.Errorf("Dialer returned a %T", conn)
				}
				if resp := rawMetadata(t, conn, 7); len(resp.Brokers) != 1 {
					t.Errorf("metadata brokers %v", resp.Brokers)
				}

				// kfake closes the connection where Apache Kafka answers
				// SASL_AUTHENTICATION_FAILED with a reason first; both
				// name the property to check.
				bad := mustParse(t, saslTestProps(addrs, mech, ca, "wrong-"+secretPW))
				_, err = bad.Dialer()(ctx, "tcp", addrs[0])
				if err == nil || !strings.Contains(err.Error(), "authentication failed") || !strings.Contains(err.Error(), "check the credentials in sasl.jaas.config") {
					t.Errorf("wrong password: %v", err)
				}
				if !errors.Is(err, ErrAuthentication) {
					t.Errorf("wrong password: %v is not ErrAuthentication", err)
				}
				if err != nil && strings.Contains(err.Error(), secretPW) {
					t.Errorf("error holds the password: %v", err)
				}
			})
		}
	}

	t.Run("mechanism the broker does not enable", func(t *testing.T) {
		c := saslCluster(t, "PLAIN", nil)
		p := mustParse(t, saslProps(c.ListenAddrs(), "sasl.mechanism", "OAUTHBEARER",
			"sasl.oauthbearer.token.endpoint.url", "http://127.0.0.1:1/token",
			"sasl.jaas.config", jaas(oauthMod, "clientId", "c", "clientSecret", secretPW)))
		_, err := p.Dialer()(context.Background(), "tcp", c.ListenAddrs()[0])
		if err == nil || !strings.Contains(err.Error(), "the broker does not enable sasl.mechanism OAUTHBEARER (it enables PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)") {
			t.Errorf("got %v", err)
		}
	})

	t.Run("broker without SASL", func(t *testing.T) {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		p := mustParse(t, saslTestProps(c.ListenAddrs(), "PLAIN", nil, secretPW))
		if _, err := p.Dialer()(context.Background(), "tcp", c.ListenAddrs()[0]); err == nil {
			t.Error("authenticated to a broker without SASL") // kfake then refuses SaslAuthenticate; Apache Kafka the handshake
		}
	})
}

// TestSASLReauthenticate: with connections.max.reauth.ms the broker gives
// the session a lifetime; SessionDialer's session says when to
// re-authenticate, and a new exchange on the same connection, between
// requests, succeeds (KIP-368).
func TestSASLReauthenticate(t *testing.T) {
	c := saslCluster(t, "SCRAM-SHA-512", nil, kfake.BrokerConfigs(map[string]string{"connections.max.reauth.ms": "60000"}))
	p := mustParse(t, saslTestProps(c.ListenAddrs(), "SCRAM-SHA-512", nil, secretPW))
	before := time.Now()
	conn, s, err := p.SessionDialer()(context.Background(), "tcp", c.ListenAddrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if s == nil || s.Mechanism() != "SCRAM-SHA-512" {
		t.Fatalf("session %v", s)
	}
	if lo, hi := before.Add(51*time.Second), time.Now().Add(57*time.Second); s.ReauthAt.Before(lo) || s.ReauthAt.After(hi) {
		t.Errorf("reauth at now+%s, want 85%%..95%% of 60s", time.Until(s.ReauthAt))
	}
	rawMetadata(t, conn, 1)

	s.ReauthAt = time.Time{}
	e, req, err := s.Begin(context.Background())
	for err == nil && req != nil {
		if _, err = conn.Write(req); err != nil {
			break
		}
		var resp []byte
		if resp, err = readFrame(conn); err == nil {
			req, err = e.Next(resp)
		}
	}
	if err != nil {
		t.Fatalf("re-authentication: %v", err)
	}
	if s.ReauthAt.Before(time.Now().Add(50 * time.Second)) {
		t.Errorf("after re-authentication, reauth at now+%s", time.Until(s.ReauthAt))
	}
	rawMetadata(t, conn, 2)

	// Without a lifetime, no re-authentication is due.
	c2 := saslCluster(t, "PLAIN", nil)
	_, s2, err := mustParse(t, saslTestProps(c2.ListenAddrs(), "PLAIN", nil, secretPW)).SessionDialer()(context.Background(), "tcp", c2.ListenAddrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	if !s2.ReauthAt.IsZero() {
		t.Errorf("reauth at %v without a session lifetime", s2.ReauthAt)
	}
	// Without SASL there is no session.
	c3, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	conn3, s3, err := mustParse(t, map[string]any{"bootstrap.servers": c3.ListenAddrs()}).SessionDialer()(context.Background(), "tcp", c3.ListenAddrs()[0])
	if err != nil || s3 != nil {
		t.Fatalf("PLAINTEXT: session %v, error %v", s3, err)
	}
	conn3.Close()
}

// TestSASLBrokerErrors: Apache Kafka answers a refused SaslAuthenticate
// with its reason (kfake closes instead); the error carries it.
func TestSASLBrokerErrors(t *testing.T) {
	err := authenticateError(kerr.SaslAuthenticationFailed, "SCRAM-SHA-512", "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512")
	if !errors.Is(err, ErrAuthentication) || !errors.Is(err, kerr.SaslAuthenticationFailed) ||
		err.Error() != "SASL SCRAM-SHA-512 authentication failed: SASL_AUTHENTICATION_FAILED: SASL Authentication failed.: the broker says: "+
			"Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512; check the credentials in sasl.jaas.config" {
		t.Errorf("got %v", err)
	}
	if err := authenticateError(kerr.IllegalSaslState, "PLAIN", ""); errors.Is(err, ErrAuthentication) || !strings.Contains(err.Error(), "SASL PLAIN authentication: ILLEGAL_SASL_STATE") {
		t.Errorf("got %v", err)
	}
	if err := handshakeError(kerr.IllegalSaslState, "PLAIN", nil); !strings.Contains(err.Error(), "check that the broker's listener at bootstrap.servers uses SASL") {
		t.Errorf("got %v", err)
	}
}
