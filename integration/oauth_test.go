package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	kgooauth "github.com/twmb/franz-go/pkg/sasl/oauth"

	"github.com/linkproxy/linkproxy/auth/oauth/oauthtest"
)

// SASL/OAUTHBEARER through real clients: kgo, Sarama and kafkajs present
// JWTs on a SASL_PLAINTEXT listener that validates them against a JWKS
// file, produce and consume; an expired token and a forged one are
// refused for each; kgo re-authenticates with fresh tokens when the
// session lifetime is capped by the token's expiry (KIP-368). The proxy's
// logs must hold none of the tokens.

// oauthEnv is an env whose EXTERNAL listener takes OAUTHBEARER tokens
// signed by its issuer key, with extra lines on that listener.
type oauthEnv struct {
	*env
	key *oauthtest.Key

	mu     sync.Mutex
	tokens []string // every token made, to look for in the logs
}

func newOAuthEnv(t *testing.T, extra string, topics ...string) *oauthEnv {
	t.Helper()
	o := &oauthEnv{key: oauthtest.RSAKey(t, "it-k1")}
	jwks := oauthtest.WriteJWKS(t, o.key)
	t.Cleanup(func() { // runs after the proxy stopped: the whole run's logs
		if o.env != nil {
			o.mu.Lock()
			defer o.mu.Unlock()
			var secrets []string
			for _, tok := range o.tokens {
				// The whole token, and its signature alone.
				secrets = append(secrets, tok, tok[strings.LastIndexByte(tok, '.')+1:])
			}
			checkNoSecrets(t, o.Logs.String(), secrets)
		}
	})
	o.env = startEnv(t, withKfake(kfake.SeedTopics(3, topics...)), withListener("EXTERNAL", fmt.Sprintf(`"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = ["OAUTHBEARER"]
"sasl.oauthbearer.jwks.endpoint.url" = %q
"sasl.oauthbearer.expected.issuer" = %q
"sasl.oauthbearer.expected.audience" = [%q]
%s`, jwks, oauthtest.Issuer, oauthtest.Audience, extra)))
	return o
}

// token signs claims with key and remembers the token.
func (o *oauthEnv) token(t *testing.T, key *oauthtest.Key, claims map[string]any) string {
	tok := key.Sign(t, claims)
	o.mu.Lock()
	o.tokens = append(o.tokens, tok)
	o.mu.Unlock()
	return tok
}

func (o *oauthEnv) valid(t *testing.T, sub string) string {
	return o.token(t, o.key, oauthtest.Claims(sub, time.Hour))
}

// expired is a token that expired beyond the 30 s clock skew.
func (o *oauthEnv) expired(t *testing.T, sub string) string {
	c := oauthtest.Claims(sub, time.Hour)
	c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
	return o.token(t, o.key, c)
}

// forged is a valid-looking token signed by another key with the same kid.
func (o *oauthEnv) forged(t *testing.T, sub string) string {
	return o.token(t, oauthtest.RSAKey(t, o.key.KID), oauthtest.Claims(sub, time.Hour))
}

func TestOAuthBearerKgo(t *testing.T) {
	o := newOAuthEnv(t, "", "oauth-kgo")
	ext := o.Listeners["EXTERNAL"].Bootstrap
	tok := o.valid(t, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	vals := values("oauth-kgo", 20)
	got, err := kgoRun(ctx, ext, kgooauth.Auth{Token: tok}.AsMechanism(), "oauth-kgo", "g-oauth-kgo", vals)
	if err != nil {
		t.Fatal(err)
	}
	sameValues(t, "kgo", got, vals)
	l := o.Logs.waitLine(t, "authenticated", func(m map[string]any) bool { return m["principal"] == "User:alice" })
	if l["mechanism"] != "OAUTHBEARER" || l["listener"] != "EXTERNAL" {
		t.Errorf("authenticated line: %v", l)
	}
	// Kafka caps the session at the token's expiry even without
	// connections.max.reauth.ms: an hour, less what the test took.
	if ms, _ := l["session_lifetime_ms"].(float64); ms <= 0 || ms > float64(time.Hour.Milliseconds()) {
		t.Errorf("session_lifetime_ms %v, want the token's remaining lifetime", l["session_lifetime_ms"])
	}

	for name, tok := range map[string]string{"expired": o.expired(t, "alice"), "forged": o.forged(t, "alice")} {
		cl, err := kgo.NewClient(kgo.SeedBrokers(ext), kgo.SASL(kgooauth.Auth{Token: tok}.AsMechanism()))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err = cl.Ping(ctx)
		cancel()
		cl.Close()
		// kgo does not acknowledge Kafka's invalid_token challenge: it
		// fails on the challenge itself.
		if err == nil || !strings.Contains(err.Error(), "oauth") {
			t.Errorf("kgo, %s token: %v", name, err)
		}
	}
	// Refusals are logged once per client host every 10 s: the first one.
	r := o.Logs.waitLine(t, "SASL authentication refused; the client gets the invalid_token challenge", func(m map[string]any) bool {
		reason := fmt.Sprint(m["reason"])
		return strings.Contains(reason, "expired") || strings.Contains(reason, "signature does not verify")
	})
	if r["mechanism"] != "OAUTHBEARER" {
		t.Errorf("refusal line: %v", r)
	}
}

// saramaToken is a sarama.AccessTokenProvider.
type saramaToken string

func (s saramaToken) Token() (*sarama.AccessToken, error) {
	return &sarama.AccessToken{Token: string(s)}, nil
}

func saramaOAuthConfig(tok string) *sarama.Config {
	cfg := saramaConfig(sarama.SASLTypeOAuth, sarama.SASLHandshakeV1, "", "")
	cfg.Net.SASL.TokenProvider = saramaToken(tok)
	return cfg
}

func TestOAuthBearerSarama(t *testing.T) {
	o := newOAuthEnv(t, "", "oauth-sarama")
	ext := o.Listeners["EXTERNAL"].Bootstrap
	vals := values("oauth-sarama", 10)
	got, err := saramaRoundTrip(ext, saramaOAuthConfig(o.valid(t, "bob")), "oauth-sarama", vals)
	if err != nil {
		t.Fatal(err)
	}
	sameValues(t, "sarama", got, vals)
	o.Logs.waitLine(t, "authenticated", func(m map[string]any) bool { return m["principal"] == "User:bob" && m["mechanism"] == "OAUTHBEARER" })

	for name, tok := range map[string]string{"expired": o.expired(t, "bob"), "forged": o.forged(t, "bob")} {
		_, err := sarama.NewClient([]string{ext}, saramaOAuthConfig(tok))
		// Sarama answers the challenge with the four characters `\x01`
		// rather than the byte: Kafka then fails the exchange with its
		// generic message, and so does the proxy.
		if err == nil || !strings.Contains(err.Error(), "Authentication failed") {
			t.Errorf("sarama, %s token: %v", name, err)
		}
	}
}

// kafkajsOAuth produces vals to topic and consumes them with kafkajs,
// authenticating with tok.
func kafkajsOAuth(t *testing.T, bootstrap, tok, topic string, vals []string) kafkajsSASLReply {
	t.Helper()
	return kafkajsRun(t, kafkajsJob{Brokers: []string{bootstrap}, Topic: topic, Values: vals, Token: tok})
}

func TestOAuthBearerKafkaJS(t *testing.T) {
	o := newOAuthEnv(t, "", "oauth-kafkajs", "oauth-kafkajs-refused")
	ext := o.Listeners["EXTERNAL"].Bootstrap
	vals := values("oauth-kafkajs", 10)
	r := kafkajsOAuth(t, ext, o.valid(t, "carol"), "oauth-kafkajs", vals)
	if !r.OK {
		t.Fatalf("kafkajs: %s", r.Error)
	}
	sameValues(t, "kafkajs", r.Values, vals)
	o.Logs.waitLine(t, "authenticated", func(m map[string]any) bool { return m["principal"] == "User:carol" && m["mechanism"] == "OAUTHBEARER" })

	before := len(o.Logs.lines("authenticated"))
	// kafkajs 2.2.4 takes Kafka's invalid_token challenge for success and
	// sends its next request, which Kafka (and the proxy) answer by
	// closing the connection: kafkajs reports the closed connection once
	// its retries are spent, never the producer's success.
	for name, tok := range map[string]string{"expired": o.expired(t, "carol"), "forged": o.forged(t, "carol")} {
		r := kafkajsOAuth(t, ext, tok, "oauth-kafkajs-refused", []string{"x"})
		if r.OK || !strings.HasPrefix(r.Name, "KafkaJS") {
			t.Errorf("kafkajs, %s token: %+v", name, r)
		}
	}
	o.Logs.waitLine(t, "SASL authentication refused; the client gets the invalid_token challenge", func(m map[string]any) bool {
		return m["mechanism"] == "OAUTHBEARER"
	})
	if n := len(o.Logs.lines("authenticated")); n != before {
		t.Errorf("%d connections authenticated with refused tokens", n-before)
	}
}

// TestOAuthBearerReauthentication: the session lifetime is the token's
// remaining lifetime when that is shorter than connections.max.reauth.ms,
// and kgo re-authenticates with a fresh token from its callback while it
// produces; no connection is closed for an expired session.
func TestOAuthBearerReauthentication(t *testing.T) {
	o := newOAuthEnv(t, `"connections.max.reauth.ms" = 600000`, "oauth-reauth")
	ext := o.Listeners["EXTERNAL"].Bootstrap
	var calls sync.Mutex
	n := 0
	mech := kgooauth.Oauth(func(context.Context) (kgooauth.Auth, error) {
		calls.Lock()
		n++
		calls.Unlock()
		return kgooauth.Auth{Token: o.token(t, o.key, oauthtest.Claims("alice", 3*time.Second))}, nil
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(ext), kgo.SASL(mech),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0), kgo.DefaultProduceTopic("oauth-reauth"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Produce until two re-authentications happened.
	for i := 0; len(o.Logs.lines("re-authenticated")) < 2; i++ {
		if ctx.Err() != nil {
			t.Fatalf("%d re-authentications before the deadline", len(o.Logs.lines("re-authenticated")))
		}
		if err := cl.ProduceSync(ctx, kgo.StringRecord(fmt.Sprintf("reauth-%03d", i))).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	first := o.Logs.waitLine(t, "authenticated", func(m map[string]any) bool { return m["principal"] == "User:alice" })
	if ms, _ := first["session_lifetime_ms"].(float64); ms <= 0 || ms > 3000 {
		t.Errorf("session_lifetime_ms %v: want at most the token's 3 s, not connections.max.reauth.ms", first["session_lifetime_ms"])
	}
	calls.Lock()
	if n < 3 {
		t.Errorf("kgo asked for %d tokens, want one per authentication", n)
	}
	calls.Unlock()
	for _, l := range o.Logs.lines("connection closed") {
		if strings.Contains(fmt.Sprint(l["reason"]), "expired") {
			t.Errorf("a connection was closed for an expired session: %v", l)
		}
	}
}
