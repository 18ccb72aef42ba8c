package conf

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkproxy/linkproxy/auth/oauth/oauthtest"
	"github.com/linkproxy/linkproxy/auth/sasl"
)

// credFile writes a credentials file with one user and returns its path.
func credFile(t *testing.T) string {
	t.Helper()
	e, err := sasl.NewEntry("alice", sasl.ScramSHA512, []byte("Al1ce-Secret-4471"), 4096)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "users.creds")
	if err := os.WriteFile(path, []byte(e.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestListenerSASL(t *testing.T) {
	path := credFile(t)
	src := validCluster + `
[[listener]]
name = "PLAIN"
listen = "127.0.0.2:19092"

[[listener]]
name = "SASL"
listen = "127.0.0.2:19192"
"security.protocol" = "sasl_plaintext"
"sasl.enabled.mechanisms" = ["SCRAM-SHA-512", "PLAIN"]
"sasl.credentials.file" = ` + tomlString(path) + `
"connections.max.reauth.ms" = 60000
"connection.failed.authentication.delay.ms" = 250

[[listener]]
name = "DOTTED"
listen = "127.0.0.2:19292"
security.protocol = "SASL_PLAINTEXT"
sasl.enabled.mechanisms = "SCRAM-SHA-256, SCRAM-SHA-512"
sasl.credentials.file = ` + tomlString(path) + `
`
	cfg, err := Parse([]byte(src), "sasl.toml")
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Listeners[0]; l.SASL != nil || l.SecurityProtocol != "PLAINTEXT" {
		t.Errorf("PLAINTEXT listener: %+v", l)
	}
	want := ListenerSASL{EnabledMechanisms: []string{"SCRAM-SHA-512", "PLAIN"}, CredentialsFile: path, ConnectionsMaxReauth: time.Minute}
	l := cfg.Listeners[1]
	if l.SecurityProtocol != "SASL_PLAINTEXT" || l.SASL == nil || !slices.Equal(l.SASL.EnabledMechanisms, want.EnabledMechanisms) ||
		l.SASL.CredentialsFile != want.CredentialsFile || l.SASL.ConnectionsMaxReauth != want.ConnectionsMaxReauth ||
		l.SASL.FailedAuthenticationDelay != 250*time.Millisecond {
		t.Errorf("SASL listener: %+v %+v", l, l.SASL)
	}
	l = cfg.Listeners[2]
	if l.SASL == nil || !slices.Equal(l.SASL.EnabledMechanisms, []string{"SCRAM-SHA-256", "SCRAM-SHA-512"}) || l.SASL.ConnectionsMaxReauth != 0 ||
		l.SASL.FailedAuthenticationDelay != DefaultFailedAuthenticationDelay {
		t.Errorf("dotted keys, comma-separated mechanisms: %+v", l.SASL)
	}
}

func tomlString(s string) string { return `"` + strings.ReplaceAll(s, `\`, `\\`) + `"` }

func TestListenerSASLErrors(t *testing.T) {
	path := credFile(t)
	bad := filepath.Join(t.TempDir(), "bad.creds")
	if err := os.WriteFile(bad, []byte("# users\nalice:SCRAM-SHA-512:100:c2FsdA==:eA==:eA==\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.creds")
	src := validCluster + `
[[listener]]
name = "A"
listen = "127.0.0.2:19092"
"sasl.enabled.mechanisms" = ["PLAIN"]
"connections.max.reauth.ms" = 1000

[[listener]]
name = "B"
listen = "127.0.0.2:19192"
"security.protocol" = "SASL_PLAINTEXT"

[[listener]]
name = "C"
listen = "127.0.0.2:19292"
"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = ["scram-sha-512"]
"sasl.credentials.file" = ` + tomlString(bad) + `
"connections.max.reauth.ms" = -1

[[listener]]
name = "D"
listen = "127.0.0.2:19392"
"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = ["PLAIN"]
"sasl.credentials.file" = ` + tomlString(missing) + `

[[listener]]
name = "E"
listen = "127.0.0.2:19492"
"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = []
"sasl.credentials.file" = ""

[[listener]]
name = "F"
listen = "127.0.0.2:19592"
"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = ["PLAIN", "PLAIN"]
"sasl.credentials.file" = ` + tomlString(path) + `

[[listener]]
name = "G"
listen = "127.0.0.2:19692"
"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = ["DIGEST-MD5"]
"sasl.credentials.file" = ` + tomlString(path) + `

[[listener]]
name = "I"
listen = "127.0.0.2:19892"
"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = ["PLAIN", 3]
"sasl.credentials.file" = ` + tomlString(path) + `

[[listener]]
name = "J"
listen = "127.0.0.2:19992"
"connection.failed.authentication.delay.ms" = 100

[[listener]]
name = "K"
listen = "127.0.0.2:20092"
"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = ["PLAIN"]
"sasl.credentials.file" = ` + tomlString(path) + `
"connection.failed.authentication.delay.ms" = -1

[[listener]]
name = "L"
listen = "127.0.0.2:20192"
"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = ["PLAIN"]
"sasl.credentials.file" = ` + tomlString(path) + `
"connection.failed.authentication.delay.ms" = 2147483648
`
	_, err := Parse([]byte(src), "sasl.toml")
	if err == nil {
		t.Fatal("parsed")
	}
	want := []string{
		`conf: sasl.toml:8: [[listener]] #1 key "sasl.enabled.mechanisms": set, but security.protocol is PLAINTEXT, which does not use SASL: set security.protocol to SASL_PLAINTEXT or SASL_SSL to authenticate clients, or remove sasl.enabled.mechanisms`,
		`conf: sasl.toml:9: [[listener]] #1 key "connections.max.reauth.ms": set, but security.protocol is PLAINTEXT, which does not use SASL: set security.protocol to SASL_PLAINTEXT or SASL_SSL to authenticate clients, or remove connections.max.reauth.ms`,
		`conf: sasl.toml:11: [[listener]] #2 key "sasl.enabled.mechanisms": missing: required with security.protocol SASL_PLAINTEXT: list the mechanisms clients may use`,
		`conf: sasl.toml:11: [[listener]] #2 key "sasl.credentials.file": missing: required with security.protocol SASL_PLAINTEXT: the file of users' salted passwords that "linkproxy scram" writes entries for`,
		`conf: sasl.toml:20: [[listener]] #3 key "sasl.enabled.mechanisms": "scram-sha-512": mechanism names are case-sensitive, as in Kafka: write "SCRAM-SHA-512"`,
		`conf: sasl.toml:21: [[listener]] #3 key "sasl.credentials.file": ` + bad + `: line 2: user "alice": iterations must be a number from 4096 to 16384, the bounds Kafka sets for SCRAM`,
		`conf: sasl.toml:22: [[listener]] #3 key "connections.max.reauth.ms": -1 is out of range 0..9223372036854`,
		`conf: sasl.toml:29: [[listener]] #4 key "sasl.credentials.file": open ` + missing + `: no such file or directory`,
		`conf: sasl.toml:35: [[listener]] #5 key "sasl.enabled.mechanisms": empty: list the mechanisms clients may use, e.g. ["SCRAM-SHA-512", "PLAIN"]`,
		`conf: sasl.toml:36: [[listener]] #5 key "sasl.credentials.file": empty: give the path of the credentials file that "linkproxy scram" writes entries for`,
		`conf: sasl.toml:42: [[listener]] #6 key "sasl.enabled.mechanisms": PLAIN is listed twice`,
		`conf: sasl.toml:49: [[listener]] #7 key "sasl.enabled.mechanisms": "DIGEST-MD5" is not a mechanism linkproxy serves: use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`,
		`conf: sasl.toml:56: [[listener]] #8 key "sasl.enabled.mechanisms": element 2: expected a string, got an integer (3)`,
		`conf: sasl.toml:62: [[listener]] #9 key "connection.failed.authentication.delay.ms": set, but security.protocol is PLAINTEXT, which does not use SASL: set security.protocol to SASL_PLAINTEXT or SASL_SSL to authenticate clients, or remove connection.failed.authentication.delay.ms`,
		`conf: sasl.toml:70: [[listener]] #10 key "connection.failed.authentication.delay.ms": -1 is out of range 0..2147483647`,
		`conf: sasl.toml:78: [[listener]] #11 key "connection.failed.authentication.delay.ms": 2147483648 is out of range 0..2147483647`,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d errors, want %d:\n%s", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d:\n%s\nwant:\n%s", i+1, got[i], want[i])
		}
	}
	if strings.Contains(err.Error(), "c2FsdA==") {
		t.Error("an error shows a credential value")
	}
}

func TestListenerOAuthBearer(t *testing.T) {
	jwks := oauthtest.WriteJWKS(t, oauthtest.RSAKey(t, "k1"))
	path := credFile(t)
	src := validCluster + `
[[listener]]
name = "OAUTH"
listen = "127.0.0.2:19092"
security.protocol = "SASL_PLAINTEXT"
sasl.enabled.mechanisms = ["OAUTHBEARER"]
"sasl.oauthbearer.jwks.endpoint.url" = ` + tomlString(jwks) + `

[[listener]]
name = "BOTH"
listen = "127.0.0.2:19192"
security.protocol = "SASL_PLAINTEXT"
sasl.enabled.mechanisms = "SCRAM-SHA-512,OAUTHBEARER"
sasl.credentials.file = ` + tomlString(path) + `
"connections.max.reauth.ms" = 600000
"sasl.oauthbearer.jwks.endpoint.url" = "https://idp.example.com/keys"
"sasl.oauthbearer.jwks.endpoint.refresh.ms" = 60000
"sasl.oauthbearer.jwks.endpoint.retry.backoff.ms" = 200
"sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms" = "2000"
"sasl.oauthbearer.expected.issuer" = "https://idp.example.com"
"sasl.oauthbearer.expected.audience" = "kafka, linkproxy"
"sasl.oauthbearer.sub.claim.name" = "client_id"
"sasl.oauthbearer.scope.claim.name" = "scp"
"sasl.oauthbearer.clock.skew.seconds" = 0
`
	cfg, err := Parse([]byte(src), "oauth.toml")
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Listeners[0].SASL
	if o.CredentialsFile != "" || o.OAuthBearer == nil || o.OAuthBearer.JWKSURL != jwks ||
		o.OAuthBearer.Refresh != time.Hour || o.OAuthBearer.RetryBackoff != 100*time.Millisecond || o.OAuthBearer.RetryBackoffMax != 10*time.Second ||
		o.OAuthBearer.SubClaim != "sub" || o.OAuthBearer.ScopeClaim != "scope" || o.OAuthBearer.ClockSkew != 30*time.Second ||
		o.OAuthBearer.ExpectedIssuer != "" || o.OAuthBearer.ExpectedAudience != nil {
		t.Errorf("Kafka's defaults: %+v %+v", o, o.OAuthBearer)
	}
	b := cfg.Listeners[1].SASL
	if b.CredentialsFile != path || b.OAuthBearer == nil {
		t.Fatalf("%+v", b)
	}
	ob := *b.OAuthBearer
	if ob.JWKSURL != "https://idp.example.com/keys" || ob.Refresh != time.Minute || ob.RetryBackoff != 200*time.Millisecond || ob.RetryBackoffMax != 2*time.Second ||
		ob.ExpectedIssuer != "https://idp.example.com" || !slices.Equal(ob.ExpectedAudience, []string{"kafka", "linkproxy"}) ||
		ob.SubClaim != "client_id" || ob.ScopeClaim != "scp" || ob.ClockSkew != 0 {
		t.Errorf("%+v", ob)
	}
}

func TestListenerOAuthBearerErrors(t *testing.T) {
	path := credFile(t)
	badJWKS := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(badJWKS, []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0","kid":"h"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	src := validCluster + `
[[listener]]
name = "A"
listen = "127.0.0.2:19092"
security.protocol = "SASL_PLAINTEXT"
sasl.enabled.mechanisms = ["OAUTHBEARER"]
sasl.credentials.file = ` + tomlString(path) + `

[[listener]]
name = "B"
listen = "127.0.0.2:19192"
security.protocol = "SASL_PLAINTEXT"
sasl.enabled.mechanisms = ["PLAIN"]
sasl.credentials.file = ` + tomlString(path) + `
"sasl.oauthbearer.jwks.endpoint.url" = "https://idp.example.com/keys"

[[listener]]
name = "C"
listen = "127.0.0.2:19292"
security.protocol = "SASL_PLAINTEXT"
sasl.enabled.mechanisms = ["OAUTHBEARER", "SCRAM-SHA-256"]
"sasl.oauthbearer.jwks.endpoint.url" = "http://idp.example.com/keys"
"sasl.oauthbearer.jwks.endpoint.retry.backoff.ms" = 20000
"sasl.oauthbearer.expected.audience" = [1]
"sasl.oauthbearer.sub.claim.name" = " "
"sasl.oauthbearer.clock.skew.seconds" = -1

[[listener]]
name = "D"
listen = "127.0.0.2:19392"
security.protocol = "SASL_PLAINTEXT"
sasl.enabled.mechanisms = ["OAUTHBEARER"]
"sasl.oauthbearer.jwks.endpoint.url" = ` + tomlString("file://"+badJWKS) + `

[[listener]]
name = "E"
listen = "127.0.0.2:19492"
"sasl.oauthbearer.jwks.endpoint.url" = "https://idp.example.com/keys"
`
	_, err := Parse([]byte(src), "oauth.toml")
	if err == nil {
		t.Fatal("parsed")
	}
	want := []string{
		`conf: oauth.toml:5: [[listener]] #1 key "sasl.oauthbearer.jwks.endpoint.url": missing: required with OAUTHBEARER in sasl.enabled.mechanisms`,
		`conf: oauth.toml:10: [[listener]] #1 key "sasl.credentials.file": set, but sasl.enabled.mechanisms [OAUTHBEARER] has neither PLAIN nor SCRAM, which use it: enable them, or remove sasl.credentials.file`,
		`conf: oauth.toml:18: [[listener]] #2 key "sasl.oauthbearer.jwks.endpoint.url": set, but OAUTHBEARER is not in sasl.enabled.mechanisms [PLAIN]: add it to validate tokens, or remove sasl.oauthbearer.jwks.endpoint.url`,
		`conf: oauth.toml:20: [[listener]] #3 key "sasl.credentials.file": missing: required with PLAIN or SCRAM in sasl.enabled.mechanisms`,
		`conf: oauth.toml:25: [[listener]] #3 key "sasl.oauthbearer.jwks.endpoint.url": http://idp.example.com/keys: plain http is refused`,
		`conf: oauth.toml:26: [[listener]] #3 key "sasl.oauthbearer.jwks.endpoint.retry.backoff.ms": 20000 ms is above sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms (10000 ms)`,
		`conf: oauth.toml:27: [[listener]] #3 key "sasl.oauthbearer.expected.audience": element 1: expected a string, got an integer (1)`,
		`conf: oauth.toml:28: [[listener]] #3 key "sasl.oauthbearer.sub.claim.name": empty: name the claim`,
		`conf: oauth.toml:29: [[listener]] #3 key "sasl.oauthbearer.clock.skew.seconds": -1 is out of range`,
		`conf: oauth.toml:36: [[listener]] #4 key "sasl.oauthbearer.jwks.endpoint.url": ` + badJWKS + `: no usable signature verification key`,
		`conf: oauth.toml:41: [[listener]] #5 key "sasl.oauthbearer.jwks.endpoint.url": set, but security.protocol is PLAINTEXT, which does not use SASL`,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d errors, want %d:\n%s", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d:\n%s\nwant:\n%s", i+1, got[i], want[i])
		}
	}
	if strings.Contains(err.Error(), "c2VjcmV0c2VjcmV0c2VjcmV0") {
		t.Error("an error shows a key")
	}
}
