package clientprops

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// idp is a client-credentials token endpoint on loopback. Its answers
// are given in turn by status; past the list, 200 with a token.
type idp struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	requests int
	statuses []int
	claims   map[string]any
}

func newIDP(t *testing.T, statuses ...int) *idp {
	d := &idp{t: t, statuses: statuses}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(d.srv.Close)
	return d
}

func jwt(claims map[string]any) string {
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`))
	body, _ := json.Marshal(claims)
	return head + "." + base64.RawURLEncoding.EncodeToString(body) + ".sig"
}

func (d *idp) serve(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	n := d.requests
	d.requests++
	claims := d.claims
	d.mu.Unlock()
	user, pass, ok := r.BasicAuth()
	if r.Method != http.MethodPost || !ok || user != "proxy-client" || pass != secretPW ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		d.t.Errorf("request %s, basic auth %v %q, content type %q", r.Method, ok, user, r.Header.Get("Content-Type"))
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != "kafka" {
		d.t.Errorf("form %v (%v)", r.PostForm, err)
	}
	if n < len(d.statuses) {
		w.WriteHeader(d.statuses[n])
		fmt.Fprint(w, `{"error":"invalid_client"}`)
		return
	}
	if claims == nil {
		claims = map[string]any{"sub": "proxy-client", "iat": 1_000_000, "exp": 1_003_600, "scope": "kafka"}
	}
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, jwt(claims))
}

func (d *idp) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.requests
}

func oauthTestProps(endpoint string, kv ...any) map[string]any {
	return saslProps("a:1", append([]any{"sasl.mechanism", "OAUTHBEARER",
		"sasl.login.callback.handler.class", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
		"sasl.oauthbearer.token.endpoint.url", endpoint,
		"sasl.jaas.config", jaas(oauthMod, "clientId", "proxy-client", "clientSecret", secretPW, "scope", "kafka", "extension_traceId", "t-1")}, kv...)...)
}

// testSource is the token source of props, on a fake clock at 1_000_000s
// with no jitter and no real sleeping.
func testSource(t *testing.T, props map[string]any) (*tokenSource, *time.Time) {
	p := mustParse(t, props)
	ts := newTokenSource(p, "proxy-client", secretPW, "kafka", nil)
	now := time.Unix(1_000_000, 0)
	ts.now = func() time.Time { return now }
	ts.jitter = func() float64 { return 0 }
	ts.sleep = func(ctx context.Context, d time.Duration) error { now = now.Add(d); return ctx.Err() }
	return ts, &now
}

// TestOAuthMechanism: the OAUTHBEARER mechanism Parse builds gets its
// token from the endpoint and sends it, with the extensions, in its first
// message (RFC 7628).
func TestOAuthMechanism(t *testing.T) {
	d := newIDP(t)
	p := mustParse(t, oauthTestProps(d.srv.URL))
	if p.sasl == nil || p.sasl.Name() != "OAUTHBEARER" {
		t.Fatalf("mechanism %v", p.sasl)
	}
	_, first, err := p.sasl.Authenticate(context.Background(), "a:1")
	if err != nil {
		t.Fatal(err)
	}
	want := jwt(map[string]any{"sub": "proxy-client", "iat": 1_000_000, "exp": 1_003_600, "scope": "kafka"})
	if s := string(first); !strings.Contains(s, "auth=Bearer "+want+"\x01") || !strings.Contains(s, "traceId=t-1\x01") {
		t.Errorf("first message %q", first)
	}
}

func TestOAuthTokenRefresh(t *testing.T) {
	d := newIDP(t)
	ts, now := testSource(t, oauthTestProps(d.srv.URL))
	ctx := context.Background()
	// Valid from 1_000_000 to +3600s: refreshed at 80%, 2880s after iat.
	for _, step := range []struct {
		at       time.Duration // after 1_000_000s
		requests int
	}{
		{0, 1}, {time.Minute, 1}, {2879 * time.Second, 1}, {2880 * time.Second, 2},
	} {
		*now = time.Unix(1_000_000, 0).Add(step.at)
		if _, err := ts.auth(ctx); err != nil {
			t.Fatal(err)
		}
		if d.count() != step.requests {
			t.Errorf("at +%s: %d token requests, want %d", step.at, d.count(), step.requests)
		}
	}
	// The second token has the same claims: its proposed refresh time,
	// 2880s after iat, is now, and Kafka's minimum period of 60s moves it.
	if got, want := ts.tok.refresh, time.Unix(1_000_000+2880+60, 0); !got.Equal(want) {
		t.Errorf("second refresh at %v, want %v", got, want)
	}

	// A failed refresh keeps the valid token, and tries again 10s later.
	d.mu.Lock()
	d.statuses = make([]int, d.requests+1)
	for i := range d.statuses {
		d.statuses[i] = http.StatusUnauthorized
	}
	d.mu.Unlock()
	*now = ts.tok.refresh
	a, err := ts.auth(ctx)
	if err != nil || a.Token != ts.tok.value {
		t.Fatalf("after a failed refresh: %v, %v", a, err)
	}
	if got, want := ts.tok.refresh, now.Add(10*time.Second); !got.Equal(want) {
		t.Errorf("retry at %v, want %v", got, want)
	}
}

func TestOAuthEndpointErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("unauthorized: no retry", func(t *testing.T) {
		d := newIDP(t, http.StatusUnauthorized)
		ts, _ := testSource(t, oauthTestProps(d.srv.URL))
		_, err := ts.auth(ctx)
		if err == nil || !strings.Contains(err.Error(), `401 Unauthorized ("{\"error\":\"invalid_client\"}"); check clientId, clientSecret and scope in sasl.jaas.config`) {
			t.Errorf("got %v", err)
		}
		if err != nil && strings.Contains(err.Error(), secretPW) {
			t.Errorf("error holds the secret: %v", err)
		}
		if d.count() != 1 {
			t.Errorf("%d requests, want 1", d.count())
		}
	})
	t.Run("unavailable: retried with backoff", func(t *testing.T) {
		d := newIDP(t, http.StatusServiceUnavailable, http.StatusTooManyRequests)
		ts, now := testSource(t, oauthTestProps(d.srv.URL))
		start := *now
		if _, err := ts.auth(ctx); err != nil {
			t.Fatal(err)
		}
		// 100ms, then 200ms, as Kafka's Retry.
		if d.count() != 3 || now.Sub(start) != 300*time.Millisecond {
			t.Errorf("%d requests over %s", d.count(), now.Sub(start))
		}
	})
	t.Run("retries end at sasl.login.retry.backoff.max.ms", func(t *testing.T) {
		d := newIDP(t, 500, 500, 500, 500, 500, 500, 500, 500)
		ts, now := testSource(t, oauthTestProps(d.srv.URL, "sasl.login.retry.backoff.max.ms", 1000))
		start := *now
		_, err := ts.auth(ctx)
		if err == nil || !strings.Contains(err.Error(), "500 Internal Server Error") {
			t.Errorf("got %v", err)
		}
		// 100+200+400, then the 300ms left: five attempts.
		if d.count() != 5 || now.Sub(start) != time.Second {
			t.Errorf("%d requests over %s", d.count(), now.Sub(start))
		}
	})
	for name, claims := range map[string]map[string]any{
		`JWT has no numeric "exp" claim`:                                                       {"sub": "x"},
		`JWT has no "sub" claim (sasl.oauthbearer.sub.claim.name)`:                             {"exp": 2_000_000},
		`JWT claim "scope" (sasl.oauthbearer.scope.claim.name) is neither a string nor a list`: {"exp": 2_000_000, "sub": "x", "scope": 5},
	} {
		t.Run(name, func(t *testing.T) {
			d := newIDP(t)
			d.claims = claims
			ts, _ := testSource(t, oauthTestProps(d.srv.URL))
			if _, err := ts.auth(ctx); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("got %v", err)
			}
		})
	}
	t.Run("claim names from the properties", func(t *testing.T) {
		d := newIDP(t)
		d.claims = map[string]any{"exp": 2_000_000, "client_id": "x", "scp": []any{"a", "b"}}
		ts, _ := testSource(t, oauthTestProps(d.srv.URL, "sasl.oauthbearer.sub.claim.name", "client_id", "sasl.oauthbearer.scope.claim.name", "scp"))
		if _, err := ts.auth(ctx); err != nil {
			t.Error(err)
		}
	})
	t.Run("not a JWT", func(t *testing.T) {
		if _, err := parseAccessToken("opaque-token", "scope", "sub"); err == nil || !strings.Contains(err.Error(), "not a JWT: 1 sections") {
			t.Errorf("got %v", err)
		}
	})
}
