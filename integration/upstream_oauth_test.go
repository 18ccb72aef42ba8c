package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/auth/oauth/oauthtest"
)

// TestUpstreamOAuthBearer: proxy A reaches its cluster with OAUTHBEARER,
// its token from a client-credentials endpoint, as Kafka's
// OAuthBearerLoginModule does; the cluster is proxy B, whose OAUTHBEARER
// listener checks the tokens against the issuer's JWKS (kfake has no
// OAUTHBEARER server). Tokens live 5 seconds and B caps sessions at the
// token's expiry, so while a PLAINTEXT client of A produces for a while, A
// fetches new tokens and re-authenticates its open upstream connections
// with them; every record arrives, and neither proxy logs the client
// secret or a token.
func TestUpstreamOAuthBearer(t *testing.T) {
	const (
		clientID     = "proxy-a"
		clientSecret = "client-s3cret-9911"
		tokenTTL     = 5 * time.Second
	)
	key := oauthtest.RSAKey(t, "up-k1")

	var mu sync.Mutex
	var tokens []string
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if err := r.ParseForm(); err != nil || !ok || user != clientID || pass != clientSecret ||
			r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != "kafka" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		tok := key.Sign(t, oauthtest.Claims(clientID, tokenTTL))
		mu.Lock()
		tokens = append(tokens, tok)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(tokenTTL.Seconds())})
	}))
	t.Cleanup(endpoint.Close)

	b := startEnv(t, withKfake(kfake.SeedTopics(3, "oauth-up")), withListener("EXTERNAL", fmt.Sprintf(`"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = ["OAUTHBEARER"]
"sasl.oauthbearer.jwks.endpoint.url" = %q
"sasl.oauthbearer.expected.issuer" = %q
"sasl.oauthbearer.expected.audience" = [%q]`, oauthtest.WriteJWKS(t, key), oauthtest.Issuer, oauthtest.Audience)))
	a := startEnv(t, withUpstream(b.Listeners["EXTERNAL"].Bootstrap), withCluster(fmt.Sprintf(`"security.protocol" = "SASL_PLAINTEXT"
"sasl.mechanism" = "OAUTHBEARER"
"sasl.jaas.config" = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="%s" clientSecret="%s" scope="kafka";'
"sasl.oauthbearer.token.endpoint.url" = %q
"sasl.login.refresh.min.period.seconds" = 0
"sasl.login.refresh.buffer.seconds" = 0
"sasl.login.refresh.window.factor" = 0.5`, clientID, clientSecret, endpoint.URL+"/token")))
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		secrets := []string{clientSecret}
		for _, tok := range tokens {
			secrets = append(secrets, tok, tok[strings.LastIndexByte(tok, '.')+1:])
		}
		checkNoSecrets(t, a.Logs.String(), secrets)
		checkNoSecrets(t, b.Logs.String(), secrets)
	})

	// One producer connection through A for three token lifetimes.
	cl, err := kgo.NewClient(kgo.SeedBrokers(a.Listeners["INTERNAL"].Bootstrap), kgo.DefaultProduceTopic("oauth-up"),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var vals []string
	for start := time.Now(); time.Since(start) < 3*tokenTTL; time.Sleep(200 * time.Millisecond) {
		v := fmt.Sprintf("oauth-up-%03d", len(vals))
		if err := cl.ProduceSync(ctx, kgo.StringRecord(v)).FirstErr(); err != nil {
			t.Fatalf("produce %s through A: %v", v, err)
		}
		vals = append(vals, v)
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(a.Listeners["INTERNAL"].Bootstrap), kgo.ConsumeTopics("oauth-up"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var read []string
	for len(read) < len(vals) {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records through A: %v", len(read), len(vals), ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) { read = append(read, string(r.Value)) })
	}
	sameValues(t, "through A, authenticated upstream by OAUTHBEARER", read, vals)

	b.Logs.waitLine(t, "authenticated", func(m map[string]any) bool {
		return m["principal"] == "User:"+clientID && m["mechanism"] == "OAUTHBEARER"
	})
	if n := len(b.Logs.lines("re-authenticated")); n < 2 {
		t.Errorf("B saw %d re-authentications in %s with %s tokens; want at least 2", n, 3*tokenTTL, tokenTTL)
	}
	mu.Lock()
	fetched := len(tokens)
	mu.Unlock()
	if fetched < 3 {
		t.Errorf("A fetched %d tokens in %s with %s tokens; want at least 3", fetched, 3*tokenTTL, tokenTTL)
	}
	for _, l := range b.Logs.lines("connection closed") {
		if strings.Contains(fmt.Sprint(l["reason"]), "expired") {
			t.Errorf("B closed a connection of A for an expired session: %v", l)
		}
	}
}
