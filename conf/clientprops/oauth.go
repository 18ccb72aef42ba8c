package clientprops

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

// reloginRetry is Kafka's DELAY_SECONDS_BEFORE_NEXT_RETRY_WHEN_RELOGIN_FAILS:
// how soon a token is asked for again after a refresh failed or found the
// token already expired.
const reloginRetry = 10 * time.Second

// oauthMechanism is OAUTHBEARER with a token from the OAuth client
// credentials grant of sasl.oauthbearer.token.endpoint.url, as Kafka's
// OAuthBearerLoginCallbackHandler gets it: clientId, clientSecret and
// scope come from the OAuthBearerLoginModule options, SASL extensions
// from its extension_<name> options.
func oauthMechanism(opts map[string]string, p *Props) (sasl.Mechanism, error) {
	endpoint := p.String("sasl.oauthbearer.token.endpoint.url")
	if endpoint == "" {
		// Kafka then falls back to unsecured, unsigned tokens, for
		// development only.
		return nil, &Error{Name: "sasl.oauthbearer.token.endpoint.url", Reason: "missing: required with sasl.mechanism OAUTHBEARER: set the OAuth token endpoint linkproxy gets its token from (client credentials grant), e.g. https://idp.example/oauth2/token"}
	}
	var missing []string
	for _, k := range []string{"clientId", "clientSecret"} {
		if opts[k] == "" {
			missing = append(missing, k)
		}
	}
	if missing != nil {
		return nil, &Error{Name: "sasl.jaas.config", Reason: fmt.Sprintf("%s option %s missing or empty: write e.g. %s",
			oauthModule, strings.Join(missing, " and "), jaasExample("OAUTHBEARER"))}
	}
	ext := make(map[string]string)
	for k, v := range opts {
		if name, ok := strings.CutPrefix(k, "extension_"); ok {
			if name == "auth" { // reserved by RFC 7628
				return nil, &Error{Name: "sasl.jaas.config", Reason: `OAuthBearerLoginModule option extension_auth: "auth" is a reserved SASL extension name`}
			}
			ext[name] = v
		}
	}
	ts := newTokenSource(p, opts["clientId"], opts["clientSecret"], opts["scope"], ext)
	return oauth.Oauth(ts.auth), nil
}

// refreshConfig is Kafka's ExpiringCredentialRefreshConfig.
type refreshConfig struct {
	windowFactor, windowJitter float64
	minPeriod, buffer          time.Duration
}

// tokenSource gets and caches the access token. Kafka refreshes it from a
// thread; linkproxy refreshes it when a connection authenticates at or
// after the refresh time, computed as Kafka computes it (refreshAt): a
// connection authenticates with the token Kafka's client would hold then,
// and no goroutine outlives the configuration.
type tokenSource struct {
	endpoint                string
	clientID, secret, scope string
	ext                     map[string]string
	scopeClaim, subClaim    string
	backoff, backoffMax     time.Duration
	refresh                 refreshConfig
	http                    *http.Client
	now                     func() time.Time
	jitter                  func() float64
	sleep                   func(ctx context.Context, d time.Duration) error

	mu  sync.Mutex
	tok *accessToken
}

type accessToken struct {
	value         string
	start, expire time.Time // start: zero when the token has no iat
	refresh       time.Time
}

func newTokenSource(p *Props, clientID, secret, scope string, ext map[string]string) *tokenSource {
	tr := &http.Transport{ // Java's HttpURLConnection ignores proxy environment variables too
		DialContext:           (&net.Dialer{Timeout: time.Duration(p.Int("sasl.login.connect.timeout.ms")) * time.Millisecond}).DialContext,
		ResponseHeaderTimeout: time.Duration(p.Int("sasl.login.read.timeout.ms")) * time.Millisecond,
		TLSHandshakeTimeout:   time.Duration(p.Int("sasl.login.connect.timeout.ms")) * time.Millisecond,
	}
	return &tokenSource{
		endpoint:   p.String("sasl.oauthbearer.token.endpoint.url"),
		clientID:   clientID,
		secret:     secret,
		scope:      scope,
		ext:        ext,
		scopeClaim: p.String("sasl.oauthbearer.scope.claim.name"),
		subClaim:   p.String("sasl.oauthbearer.sub.claim.name"),
		backoff:    p.Duration("sasl.login.retry.backoff.ms"),
		backoffMax: p.Duration("sasl.login.retry.backoff.max.ms"),
		refresh: refreshConfig{
			windowFactor: p.Float("sasl.login.refresh.window.factor"),
			windowJitter: p.Float("sasl.login.refresh.window.jitter"),
			minPeriod:    time.Duration(p.Int("sasl.login.refresh.min.period.seconds")) * time.Second,
			buffer:       time.Duration(p.Int("sasl.login.refresh.buffer.seconds")) * time.Second,
		},
		http:   &http.Client{Transport: tr},
		now:    time.Now,
		jitter: rand.Float64,
		sleep:  sleep,
	}
}

// auth returns the token to authenticate with, getting a new one when the
// refresh time has come. A failed refresh keeps the current token while it
// is valid and tries again reloginRetry later, as Kafka's refresh thread
// does.
func (s *tokenSource) auth(ctx context.Context) (oauth.Auth, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.tok != nil && now.Before(s.tok.refresh) {
		return oauth.Auth{Token: s.tok.value, Extensions: s.ext}, nil
	}
	tok, err := s.fetch(ctx)
	if err != nil {
		if s.tok != nil && s.now().Before(s.tok.expire) {
			s.tok.refresh = s.now().Add(reloginRetry)
			return oauth.Auth{Token: s.tok.value, Extensions: s.ext}, nil
		}
		return oauth.Auth{}, fmt.Errorf("OAUTHBEARER token from sasl.oauthbearer.token.endpoint.url: %w", err)
	}
	now = s.now()
	tok.refresh = refreshAt(now, tok.start, tok.expire, s.refresh, s.jitter())
	s.tok = tok
	return oauth.Auth{Token: tok.value, Extensions: s.ext}, nil
}

// refreshAt is when a token valid from start (zero: unknown) to expire,
// obtained at now, is refreshed: Kafka's
// ExpiringCredentialRefreshingLogin.refreshMs, with rnd its random number
// in [0, 1).
func refreshAt(now, start, expire time.Time, c refreshConfig, rnd float64) time.Time {
	if now.After(expire) {
		return now.Add(reloginRetry)
	}
	if start.IsZero() {
		start = now
	}
	pct := c.windowFactor + c.windowJitter*rnd
	// Too short a lifetime for the buffers: refresh within it.
	if now.Add(c.minPeriod + c.buffer).After(expire) {
		return now.Add(scale(expire.Sub(now), pct))
	}
	proposed := start.Add(scale(expire.Sub(start), pct))
	if endBuffer := expire.Add(-c.buffer); proposed.After(endBuffer) {
		return endBuffer
	}
	if minRefresh := now.Add(c.minPeriod); proposed.Before(minRefresh) {
		return minRefresh
	}
	return proposed
}

// scale is Java's (long) (ms * pct): truncated to the millisecond.
func scale(d time.Duration, pct float64) time.Duration {
	return time.Duration(int64(float64(d.Milliseconds())*pct)) * time.Millisecond
}

// fetch asks the token endpoint for a token, retrying as Kafka's Retry
// does: after sasl.login.retry.backoff.ms, doubling, until
// sasl.login.retry.backoff.max.ms have passed since the first attempt.
func (s *tokenSource) fetch(ctx context.Context) (*accessToken, error) {
	start := s.now()
	end := start.Add(s.backoffMax)
	for attempt := 0; ; attempt++ {
		tok, err := s.request(ctx)
		if err == nil {
			return tok, nil
		}
		var fatal *unretryable
		if errors.As(err, &fatal) || ctx.Err() != nil {
			return nil, err
		}
		wait := min(s.backoff<<min(attempt, 30), end.Sub(s.now()))
		if wait <= 0 {
			return nil, err
		}
		if serr := s.sleep(ctx, wait); serr != nil {
			return nil, err
		}
	}
}

// unretryable is an answer from the endpoint that asking again cannot
// change.
type unretryable struct{ err error }

func (e *unretryable) Error() string { return e.err.Error() }
func (e *unretryable) Unwrap() error { return e.err }

func (s *tokenSource) request(ctx context.Context) (*accessToken, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if s.scope != "" {
		form.Set("scope", s.scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &unretryable{err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// Kafka's default (sasl.oauthbearer.header.urlencode false): the
	// id and secret as written, not URL-encoded first.
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(s.clientID+":"+s.secret)))
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", s.endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("POST %s: reading the answer: %w", s.endpoint, err)
	}
	switch c := resp.StatusCode; {
	case c == http.StatusOK || c == http.StatusCreated:
	case c >= 500 || c == http.StatusRequestTimeout || c == http.StatusTooManyRequests:
		return nil, fmt.Errorf("POST %s: %s%s", s.endpoint, resp.Status, endpointSays(body))
	default:
		hint := ""
		if c == http.StatusUnauthorized || c == http.StatusBadRequest {
			hint = "; check clientId, clientSecret and scope in sasl.jaas.config"
		}
		return nil, &unretryable{fmt.Errorf("POST %s: %s%s%s", s.endpoint, resp.Status, endpointSays(body), hint)}
	}
	var answer struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.AccessToken == "" {
		return nil, &unretryable{fmt.Errorf("POST %s: the answer holds no access_token", s.endpoint)}
	}
	tok, err := parseAccessToken(answer.AccessToken, s.scopeClaim, s.subClaim)
	if err != nil {
		return nil, &unretryable{fmt.Errorf("POST %s: the access token: %w", s.endpoint, err)}
	}
	return tok, nil
}

// endpointSays quotes the start of an error answer: the endpoint's own
// reason (e.g. {"error":"invalid_client"}) is what the operator needs.
func endpointSays(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" {
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return fmt.Sprintf(" (%q)", s)
}

// parseAccessToken reads the claims of a JWT as Kafka's
// LoginAccessTokenValidator does, without verifying the signature (the
// broker does): exp and the subject claim are required, iat and the scope
// claim optional.
func parseAccessToken(s, scopeClaim, subClaim string) (*accessToken, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT: %d sections, expected three (header, payload and signature)", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, fmt.Errorf("JWT payload is not base64url: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, fmt.Errorf("JWT payload is not a JSON object: %w", err)
	}
	exp, ok := claims["exp"].(float64)
	if !ok {
		return nil, errors.New(`JWT has no numeric "exp" claim`)
	}
	if sub, ok := claims[subClaim].(string); !ok || strings.TrimSpace(sub) == "" {
		return nil, fmt.Errorf("JWT has no %q claim (sasl.oauthbearer.sub.claim.name) with a subject", subClaim)
	}
	switch sc := claims[scopeClaim].(type) {
	case nil, string:
	case []any:
		for _, e := range sc {
			if _, ok := e.(string); !ok {
				return nil, fmt.Errorf("JWT claim %q (sasl.oauthbearer.scope.claim.name) is not a list of strings", scopeClaim)
			}
		}
	default:
		return nil, fmt.Errorf("JWT claim %q (sasl.oauthbearer.scope.claim.name) is neither a string nor a list", scopeClaim)
	}
	t := &accessToken{value: s, expire: time.UnixMilli(int64(exp * 1000))}
	if iat, ok := claims["iat"].(float64); ok {
		t.start = time.UnixMilli(int64(iat * 1000))
	}
	return t, nil
}
