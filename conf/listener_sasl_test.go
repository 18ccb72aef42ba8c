package conf

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
		l.SASL.CredentialsFile != want.CredentialsFile || l.SASL.ConnectionsMaxReauth != want.ConnectionsMaxReauth {
		t.Errorf("SASL listener: %+v %+v", l, l.SASL)
	}
	l = cfg.Listeners[2]
	if l.SASL == nil || !slices.Equal(l.SASL.EnabledMechanisms, []string{"SCRAM-SHA-256", "SCRAM-SHA-512"}) || l.SASL.ConnectionsMaxReauth != 0 {
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
"sasl.enabled.mechanisms" = ["GSSAPI"]
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
name = "H"
listen = "127.0.0.2:19792"
"security.protocol" = "SASL_SSL"
"sasl.enabled.mechanisms" = ["PLAIN"]
"sasl.credentials.file" = ` + tomlString(path) + `

[[listener]]
name = "I"
listen = "127.0.0.2:19892"
"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = ["PLAIN", 3]
"sasl.credentials.file" = ` + tomlString(path) + `
`
	_, err := Parse([]byte(src), "sasl.toml")
	if err == nil {
		t.Fatal("parsed")
	}
	want := []string{
		`conf: sasl.toml:8: [[listener]] #1 key "sasl.enabled.mechanisms": set, but security.protocol is PLAINTEXT, which does not use SASL: set security.protocol to SASL_PLAINTEXT to authenticate clients, or remove sasl.enabled.mechanisms`,
		`conf: sasl.toml:9: [[listener]] #1 key "connections.max.reauth.ms": set, but security.protocol is PLAINTEXT, which does not use SASL: set security.protocol to SASL_PLAINTEXT to authenticate clients, or remove connections.max.reauth.ms`,
		`conf: sasl.toml:11: [[listener]] #2 key "sasl.enabled.mechanisms": missing: required with security.protocol SASL_PLAINTEXT: list the mechanisms clients may use, e.g. ["SCRAM-SHA-512", "PLAIN"] (Kafka's default, GSSAPI, is not supported)`,
		`conf: sasl.toml:11: [[listener]] #2 key "sasl.credentials.file": missing: required with security.protocol SASL_PLAINTEXT: the file of users' salted passwords that "linkproxy scram" writes entries for`,
		`conf: sasl.toml:20: [[listener]] #3 key "sasl.enabled.mechanisms": "scram-sha-512": mechanism names are case-sensitive, as in Kafka: write "SCRAM-SHA-512"`,
		`conf: sasl.toml:21: [[listener]] #3 key "sasl.credentials.file": ` + bad + `: line 2: user "alice": iterations must be a number from 4096 to 16384, the bounds Kafka sets for SCRAM`,
		`conf: sasl.toml:22: [[listener]] #3 key "connections.max.reauth.ms": -1 is out of range 0..9223372036854`,
		`conf: sasl.toml:28: [[listener]] #4 key "sasl.enabled.mechanisms": GSSAPI is not supported on listeners yet: use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`,
		`conf: sasl.toml:29: [[listener]] #4 key "sasl.credentials.file": open ` + missing + `: no such file or directory`,
		`conf: sasl.toml:35: [[listener]] #5 key "sasl.enabled.mechanisms": empty: list the mechanisms clients may use, e.g. ["SCRAM-SHA-512", "PLAIN"]`,
		`conf: sasl.toml:36: [[listener]] #5 key "sasl.credentials.file": empty: give the path of the credentials file that "linkproxy scram" writes entries for`,
		`conf: sasl.toml:42: [[listener]] #6 key "sasl.enabled.mechanisms": PLAIN is listed twice`,
		`conf: sasl.toml:49: [[listener]] #7 key "sasl.enabled.mechanisms": "DIGEST-MD5" is not a mechanism linkproxy serves: use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`,
		`conf: sasl.toml:55: [[listener]] #8 key "security.protocol": SASL_SSL on listener H: listener security comes with TLS/SASL support, not available in this version`,
		`conf: sasl.toml:63: [[listener]] #9 key "sasl.enabled.mechanisms": expected mechanism names, got an integer (3) in the array`,
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
