package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	kgosasl "github.com/twmb/franz-go/pkg/sasl"
	kgooauth "github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	kgoscram "github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/linkproxy/linkproxy/auth/oauth/oauthtest"
	"github.com/linkproxy/linkproxy/auth/sasl"
)

// SASL inside TLS through every client: one SASL_SSL listener serving
// PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER (GSSAPI has its own
// KDC test, kerberos_test.go); kcat and kafkajs with PLAIN and
// SCRAM-SHA-512, Sarama and kgo with each mechanism. Every client produces
// and consumes; none of the passwords, store passwords or tokens reaches
// the logs.

type saslSSLEnv struct {
	*env
	pki *tlsPKI
	key *oauthtest.Key
	tok string // a valid OAUTHBEARER token for carol
}

func newSASLSSLEnv(t *testing.T, topics ...string) *saslSSLEnv {
	t.Helper()
	s := &saslSSLEnv{pki: newTLSPKI(t), key: oauthtest.RSAKey(t, "ssl-k1")}
	var lines []string
	for _, u := range []struct{ user, mech, pass string }{
		{"alice", sasl.ScramSHA512, itAlicePass}, {"bob", sasl.ScramSHA256, itBobPass},
	} {
		e, err := sasl.NewEntry(u.user, u.mech, []byte(u.pass), sasl.DefaultIterations)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, e.String())
	}
	creds := filepath.Join(t.TempDir(), "users.creds")
	if err := os.WriteFile(creds, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.tok = s.key.Sign(t, oauthtest.Claims("carol", time.Hour))
	t.Cleanup(func() {
		if s.env != nil {
			checkNoSecrets(t, s.Logs.String(), []string{itAlicePass, itBobPass, itStorePass, s.tok, s.tok[strings.LastIndexByte(s.tok, '.')+1:]})
		}
	})
	s.env = startEnv(t, withKfake(kfake.SeedTopics(3, topics...)), withListener("EXTERNAL", s.pki.listenerLines("SASL_SSL", fmt.Sprintf(`"sasl.enabled.mechanisms" = ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN", "OAUTHBEARER"]
"sasl.credentials.file" = %q
"sasl.oauthbearer.jwks.endpoint.url" = %q
"sasl.oauthbearer.expected.issuer" = %q
"sasl.oauthbearer.expected.audience" = [%q]`, creds, oauthtest.WriteJWKS(t, s.key), oauthtest.Issuer, oauthtest.Audience))))
	return s
}

func TestSASLSSLKcat(t *testing.T) {
	s := newSASLSSLEnv(t, "ssl-kcat-scram512", "ssl-kcat-plain")
	ext := s.Listeners["EXTERNAL"].Bootstrap
	tlsArgs := []string{"-X", "security.protocol=SASL_SSL", "-X", "ssl.ca.location=" + s.pki.caPEM}
	for _, c := range []struct{ topic, mech, user, pass string }{
		{"ssl-kcat-scram512", "SCRAM-SHA-512", "alice", itAlicePass},
		{"ssl-kcat-plain", "PLAIN", "alice", itAlicePass},
	} {
		vals := values(c.topic, 10)
		args := append(append([]string{}, tlsArgs...), "-P", "-t", c.topic, "-X", "acks=all", "-X", "linger.ms=0")
		if _, stderr, err := kcatSASL(t, ext, c.mech, c.user, c.pass, []byte(strings.Join(vals, "\n")+"\n"), args...); err != nil {
			t.Fatalf("kcat produce %s: %v\n%s", c.topic, err, stderr)
		}
		args = append(append([]string{}, tlsArgs...), "-C", "-G", "g-"+c.topic, "-o", "beginning", "-X", "auto.offset.reset=earliest",
			"-X", "fetch.wait.max.ms=200", "-c", fmt.Sprint(len(vals)), "-f", "%s\n", c.topic)
		stdout, stderr, err := kcatSASL(t, ext, c.mech, c.user, c.pass, nil, args...)
		if err != nil {
			t.Fatalf("kcat consume %s: %v\n%s", c.topic, err, stderr)
		}
		sameValues(t, "kcat SASL_SSL "+c.mech, strings.Fields(stdout), vals)
	}
	_, stderr, err := kcatSASL(t, ext, "SCRAM-SHA-512", "alice", itWrongPass, nil, append(tlsArgs, "-L")...)
	if err == nil || !strings.Contains(stderr, authFailedSCRAM512) {
		t.Errorf("kcat SASL_SSL, wrong password: %v\n%s", err, stderr)
	}
	s.Logs.waitLine(t, "authenticated", func(m map[string]any) bool {
		return m["listener"] == "EXTERNAL" && m["principal"] == "User:alice" && m["mechanism"] == "PLAIN"
	})
}

func TestSASLSSLKafkaJS(t *testing.T) {
	s := newSASLSSLEnv(t, "ssl-kafkajs-scram512", "ssl-kafkajs-plain")
	ext := s.Listeners["EXTERNAL"].Bootstrap
	ca, err := os.ReadFile(s.pki.caPEM)
	if err != nil {
		t.Fatal(err)
	}
	ssl := map[string]any{"ca": []string{string(ca)}}
	for _, c := range []struct{ topic, mech, user, pass string }{
		{"ssl-kafkajs-scram512", "scram-sha-512", "alice", itAlicePass},
		{"ssl-kafkajs-plain", "plain", "alice", itAlicePass},
	} {
		vals := values(c.topic, 10)
		r := kafkajsRun(t, kafkajsJob{Brokers: []string{ext}, Topic: c.topic, Values: vals, SSL: ssl,
			SASL: map[string]string{"mechanism": c.mech, "username": c.user, "password": c.pass}})
		if !r.OK {
			t.Fatalf("kafkajs SASL_SSL %s: %s", c.mech, r.Error)
		}
		sameValues(t, "kafkajs SASL_SSL "+c.mech, r.Values, vals)
	}
	r := kafkajsRun(t, kafkajsJob{Brokers: []string{ext}, Topic: "ssl-kafkajs-plain", Values: []string{"x"}, SSL: ssl, Retries: 1,
		SASL: map[string]string{"mechanism": "scram-sha-512", "username": "alice", "password": itWrongPass}})
	if r.OK || !strings.Contains(r.Error, authFailedSCRAM512) {
		t.Errorf("kafkajs SASL_SSL, wrong password: %+v", r)
	}
}

func TestSASLSSLSarama(t *testing.T) {
	s := newSASLSSLEnv(t, "ssl-sarama-plain", "ssl-sarama-scram256", "ssl-sarama-scram512", "ssl-sarama-oauth")
	ext := s.Listeners["EXTERNAL"].Bootstrap
	for _, c := range []struct {
		topic      string
		mech       sarama.SASLMechanism
		user, pass string
	}{
		{"ssl-sarama-plain", sarama.SASLTypePlaintext, "bob", itBobPass},
		{"ssl-sarama-scram256", sarama.SASLTypeSCRAMSHA256, "bob", itBobPass},
		{"ssl-sarama-scram512", sarama.SASLTypeSCRAMSHA512, "alice", itAlicePass},
		{"ssl-sarama-oauth", sarama.SASLTypeOAuth, "", ""},
	} {
		cfg := saramaConfig(c.mech, sarama.SASLHandshakeV1, c.user, c.pass)
		if c.mech == sarama.SASLTypeOAuth {
			cfg.Net.SASL.TokenProvider = saramaToken(s.tok)
		}
		cfg.Net.TLS.Enable, cfg.Net.TLS.Config = true, s.pki.clientTLS(nil)
		vals := values(c.topic, 10)
		got, err := saramaRoundTrip(ext, cfg, c.topic, vals)
		if err != nil {
			t.Fatalf("Sarama SASL_SSL %s: %v", c.mech, err)
		}
		sameValues(t, "Sarama SASL_SSL "+string(c.mech), got, vals)
	}
}

func TestSASLSSLKgo(t *testing.T) {
	s := newSASLSSLEnv(t, "ssl-kgo-plain", "ssl-kgo-scram256", "ssl-kgo-scram512", "ssl-kgo-oauth")
	ext := s.Listeners["EXTERNAL"].Bootstrap
	for _, c := range []struct {
		topic, principal string
		mech             kgosasl.Mechanism
	}{
		{"ssl-kgo-plain", "User:bob", plain.Auth{User: "bob", Pass: itBobPass}.AsMechanism()},
		{"ssl-kgo-scram256", "User:bob", kgoscram.Auth{User: "bob", Pass: itBobPass}.AsSha256Mechanism()},
		{"ssl-kgo-scram512", "User:alice", kgoscram.Auth{User: "alice", Pass: itAlicePass}.AsSha512Mechanism()},
		{"ssl-kgo-oauth", "User:carol", kgooauth.Auth{Token: s.tok}.AsMechanism()},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		vals := values(c.topic, 20)
		got, err := kgoTLSRun(ctx, ext, []kgo.Opt{kgo.DialTLSConfig(s.pki.clientTLS(nil)), kgo.SASL(c.mech)}, c.topic, vals)
		cancel()
		if err != nil {
			t.Fatalf("kgo SASL_SSL %s: %v", c.mech.Name(), err)
		}
		sameValues(t, "kgo SASL_SSL "+c.mech.Name(), got, vals)
		s.Logs.waitLine(t, "authenticated", func(m map[string]any) bool {
			return m["listener"] == "EXTERNAL" && m["principal"] == c.principal && m["mechanism"] == c.mech.Name()
		})
	}
}
