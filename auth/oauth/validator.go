package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/hashicorp/go-hclog"
)

// Kafka's defaults for the sasl.oauthbearer.* broker settings.
const (
	DefaultRefresh         = time.Hour
	DefaultRetryBackoff    = 100 * time.Millisecond
	DefaultRetryBackoffMax = 10 * time.Second
	DefaultSubClaim        = "sub"
	DefaultScopeClaim      = "scope"
	DefaultClockSkew       = 30 * time.Second
)

// Config is a listener's sasl.oauthbearer.* settings; zero durations
// (but ClockSkew, which may be 0) and empty claim names take Kafka's
// defaults.
type Config struct {
	// JWKSURL is sasl.oauthbearer.jwks.endpoint.url: file: or https:.
	JWKSURL string
	// Refresh is sasl.oauthbearer.jwks.endpoint.refresh.ms.
	Refresh time.Duration
	// RetryBackoff and RetryBackoffMax are
	// sasl.oauthbearer.jwks.endpoint.retry.backoff.ms and .max.ms.
	RetryBackoff, RetryBackoffMax time.Duration
	// ExpectedIssuer is sasl.oauthbearer.expected.issuer; "" skips the check.
	ExpectedIssuer string
	// ExpectedAudience is sasl.oauthbearer.expected.audience.
	ExpectedAudience []string
	// SubClaim and ScopeClaim are sasl.oauthbearer.sub.claim.name and
	// sasl.oauthbearer.scope.claim.name.
	SubClaim, ScopeClaim string
	// ClockSkew is sasl.oauthbearer.clock.skew.seconds (Kafka's default:
	// DefaultClockSkew).
	ClockSkew time.Duration
	// HTTPClient fetches an https JWKS; nil uses the system roots and a
	// timeout of RetryBackoffMax.
	HTTPClient *http.Client
	// Log gets the refresh loop's messages; nil discards them.
	Log hclog.Logger
}

// allowedAlgs are the signature algorithms accepted: asymmetric only, so
// "none" and HMAC (a public key misused as a shared secret) never parse.
var allowedAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// Kafka's limits on expedited refreshes for unknown key ids
// (RefreshingHttpsJwks): at most once a minute per kid, for up to 16 kids,
// and none for absurdly long ones.
const (
	missingKidInterval = time.Minute
	missingKidEntries  = 16
	missingKidMaxLen   = 1000
)

// Validator checks tokens against a JWKS; it is safe for concurrent use.
type Validator struct {
	cfg    Config
	src    *url.URL
	client *http.Client
	log    hclog.Logger
	now    func() time.Time

	keys atomic.Pointer[[]jose.JSONWebKey]
	base atomic.Pointer[context.Context] // Run's context, for on-demand fetches

	fetchMu sync.Mutex           // one fetch at a time; guards missing
	missing map[string]time.Time // unknown kids and when they were fetched for
}

// New makes a validator. A file JWKS is read now, and an error returned
// if it is unusable; an https one is fetched by Run, or on the first
// token.
func New(cfg Config) (*Validator, error) {
	src, err := ParseJWKSURL(cfg.JWKSURL)
	if err != nil {
		return nil, err
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Refresh, DefaultRefresh)
	def(&cfg.RetryBackoff, DefaultRetryBackoff)
	def(&cfg.RetryBackoffMax, DefaultRetryBackoffMax)
	if cfg.ClockSkew < 0 {
		cfg.ClockSkew = 0
	}
	if cfg.SubClaim == "" {
		cfg.SubClaim = DefaultSubClaim
	}
	if cfg.ScopeClaim == "" {
		cfg.ScopeClaim = DefaultScopeClaim
	}
	v := &Validator{cfg: cfg, src: src, client: cfg.HTTPClient, log: cfg.Log, now: time.Now, missing: make(map[string]time.Time)}
	if v.client == nil {
		v.client = &http.Client{Timeout: cfg.RetryBackoffMax}
	}
	if v.log == nil {
		v.log = hclog.NewNullLogger()
	}
	if src.Scheme == "file" {
		if err := v.refresh(context.Background()); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Run keeps the JWKS fresh until ctx ends: every Refresh, and after a
// failure with backoff from RetryBackoff doubling up to RetryBackoffMax.
func (v *Validator) Run(ctx context.Context) {
	v.base.Store(&ctx)
	wait := time.Duration(0)
	if v.keys.Load() != nil {
		wait = v.cfg.Refresh
	}
	backoff, failures := time.Duration(0), 0
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := v.refresh(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			backoff = min(max(2*backoff, v.cfg.RetryBackoff), v.cfg.RetryBackoffMax)
			failures++
			if failures == 1 || backoff == v.cfg.RetryBackoffMax {
				v.log.Warn("cannot load the OAUTHBEARER JWKS; tokens signed by keys not yet loaded are refused until it loads: check sasl.oauthbearer.jwks.endpoint.url and that the endpoint is reachable",
					"url", v.src.Redacted(), "error", err, "attempts", failures, "retry_in", backoff)
			}
			t.Reset(backoff)
		default:
			if failures > 0 {
				v.log.Info("OAUTHBEARER JWKS loaded after failures", "url", v.src.Redacted(), "attempts", failures+1)
			}
			backoff, failures = 0, 0
			t.Reset(v.cfg.Refresh)
		}
	}
}

// refresh reads the JWKS and installs its keys.
func (v *Validator) refresh(ctx context.Context) error {
	data, err := fetch(ctx, v.client, v.src)
	if err != nil {
		return err
	}
	keys, skipped, err := ParseJWKS(data)
	if err != nil {
		return fmt.Errorf("%s: %w", v.src.Redacted(), err)
	}
	old := v.keys.Swap(&keys)
	if len(skipped) > 0 && (old == nil || len(*old) != len(keys)) {
		v.log.Debug("JWKS entries left out", "url", v.src.Redacted(), "skipped", skipped)
	}
	return nil
}

// Error is a refused token; Reason never holds the token.
type Error struct{ Reason string }

func (e *Error) Error() string { return e.Reason }

func refuse(format string, args ...any) *Error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// Validate checks a compact JWS and returns its principal (the sub claim)
// and expiry. Errors are *Error.
func (v *Validator) Validate(token string) (string, time.Time, error) {
	jws, err := jose.ParseSignedCompact(token, allowedAlgs)
	if err != nil {
		return "", time.Time{}, refuse("not a JWS signed with an allowed algorithm (%s): %s", algNames(), joseReason(err))
	}
	if len(jws.Signatures) != 1 {
		return "", time.Time{}, refuse("not a JWS with one signature")
	}
	h := jws.Signatures[0].Header
	alg := h.Algorithm
	key, err := v.key(h.KeyID, alg)
	if err != nil {
		return "", time.Time{}, err
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return "", time.Time{}, refuse("signature does not verify with JWKS key %s (alg %s)", quote(key.KeyID), alg)
	}
	return v.claims(payload)
}

// key finds the verification key for kid and alg, fetching the JWKS again
// once when it is not there.
func (v *Validator) key(kid, alg string) (jose.JSONWebKey, error) {
	k, err := v.pick(kid, alg)
	if err == nil {
		return k, nil
	}
	if v.refetch(kid, alg) {
		k, err = v.pick(kid, alg)
	}
	return k, err
}

func (v *Validator) pick(kid, alg string) (jose.JSONWebKey, error) {
	var keys []jose.JSONWebKey
	if p := v.keys.Load(); p != nil {
		keys = *p
	}
	if len(keys) == 0 {
		return jose.JSONWebKey{}, refuse("the JWKS is not loaded yet")
	}
	if kid == "" {
		if len(keys) > 1 {
			return jose.JSONWebKey{}, refuse("the token has no kid and the JWKS holds %d keys", len(keys))
		}
		if !algFits(keys[0], alg) {
			return jose.JSONWebKey{}, refuse("the token has no kid and the JWKS key is for alg %s, not %s", keys[0].Algorithm, alg)
		}
		return keys[0], nil
	}
	found := false
	for _, k := range keys {
		if k.KeyID != kid {
			continue
		}
		found = true
		if algFits(k, alg) {
			return k, nil
		}
	}
	if found {
		return jose.JSONWebKey{}, refuse("JWKS key %s does not fit alg %s", quote(kid), alg)
	}
	return jose.JSONWebKey{}, refuse("no key %s in the JWKS", quote(kid))
}

// algFits reports whether a key may verify alg: its alg when it names one,
// and its key type.
func algFits(k jose.JSONWebKey, alg string) bool {
	if k.Algorithm != "" && k.Algorithm != alg {
		return false
	}
	switch keyType(k) {
	case "RSA":
		return alg[0] == 'R' || alg[0] == 'P'
	case "EC":
		return alg[0] == 'E' && alg != string(jose.EdDSA)
	case "OKP":
		return alg == string(jose.EdDSA)
	}
	return false
}

// refetch fetches the JWKS for an unknown kid, at most once a minute per
// kid, and reports whether it did and succeeded.
func (v *Validator) refetch(kid, alg string) bool {
	if len(kid) > missingKidMaxLen {
		return false
	}
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	if _, err := v.pick(kid, alg); err == nil {
		return true // another token's fetch brought it
	}
	now := v.now()
	if at, ok := v.missing[kid]; ok && now.Sub(at) < missingKidInterval {
		return false
	}
	for k, at := range v.missing {
		if now.Sub(at) >= missingKidInterval {
			delete(v.missing, k)
		}
	}
	if len(v.missing) >= missingKidEntries {
		return false
	}
	v.missing[kid] = now
	ctx := context.Background()
	if p := v.base.Load(); p != nil {
		ctx = *p
	}
	ctx, cancel := context.WithTimeout(ctx, v.cfg.RetryBackoffMax)
	defer cancel()
	if err := v.refresh(ctx); err != nil {
		v.log.Warn("cannot load the OAUTHBEARER JWKS for a token with an unknown key id; the token is refused", "url", v.src.Redacted(), "kid", quote(kid), "error", err)
		return false
	}
	return true
}

// claims checks the payload's claims, as Kafka's BrokerJwtValidator does.
func (v *Validator) claims(payload []byte) (string, time.Time, error) {
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	var c map[string]any
	if err := d.Decode(&c); err != nil || c == nil {
		return "", time.Time{}, refuse("the JWT payload is not a JSON object")
	}
	now, skew := v.now(), v.cfg.ClockSkew
	exp, err := numericDate(c, "exp", true)
	if err != nil {
		return "", time.Time{}, err
	}
	iat, err := numericDate(c, "iat", true)
	if err != nil {
		return "", time.Time{}, err
	}
	nbf, err := numericDate(c, "nbf", false)
	if err != nil {
		return "", time.Time{}, err
	}
	switch {
	case !now.Before(exp.Add(skew)):
		return "", time.Time{}, refuse("the token expired at %s (clock skew allowed: %s)", exp.UTC().Format(time.RFC3339), skew)
	case !nbf.IsZero() && now.Add(skew).Before(nbf):
		return "", time.Time{}, refuse("the token is not valid before %s (clock skew allowed: %s)", nbf.UTC().Format(time.RFC3339), skew)
	case now.Add(skew).Before(iat):
		return "", time.Time{}, refuse("the token was issued in the future, at %s (clock skew allowed: %s)", iat.UTC().Format(time.RFC3339), skew)
	}
	if want := v.cfg.ExpectedIssuer; want != "" {
		if iss, _ := c["iss"].(string); iss != want {
			return "", time.Time{}, refuse("issuer (iss) %s is not the expected %q", quote(iss), want)
		}
	}
	aud, err := stringList(c, "aud")
	if err != nil {
		return "", time.Time{}, err
	}
	if want := v.cfg.ExpectedAudience; aud != nil && !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(want, a) }) {
		if len(want) == 0 {
			return "", time.Time{}, refuse("the token has an audience (aud) claim but sasl.oauthbearer.expected.audience is not set (Kafka refuses such tokens too)")
		}
		return "", time.Time{}, refuse("audience (aud) %s holds none of the expected %q", quoteList(aud), want)
	} else if aud == nil && len(want) > 0 {
		return "", time.Time{}, refuse("the token has no audience (aud) claim; expected one of %q", want)
	}
	scopes, err := stringList(c, v.cfg.ScopeClaim)
	if err != nil {
		return "", time.Time{}, err
	}
	for _, s := range scopes {
		if strings.TrimSpace(s) == "" {
			return "", time.Time{}, refuse("the %s claim holds a blank scope", v.cfg.ScopeClaim)
		}
	}
	sub, _ := c[v.cfg.SubClaim].(string)
	if sub = strings.TrimSpace(sub); sub == "" {
		return "", time.Time{}, refuse("the token has no %s claim (sasl.oauthbearer.sub.claim.name) with a non-blank string", v.cfg.SubClaim)
	}
	return sub, exp, nil
}

// numericDate reads a NumericDate claim (seconds since the epoch).
func numericDate(c map[string]any, name string, required bool) (time.Time, error) {
	raw, ok := c[name]
	if !ok {
		if required {
			return time.Time{}, refuse("the token has no %s claim, which is required", name)
		}
		return time.Time{}, nil
	}
	n, ok := raw.(json.Number)
	if !ok {
		return time.Time{}, refuse("the %s claim is not a number", name)
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > math.MaxInt64/1e9 || math.IsNaN(f) {
		return time.Time{}, refuse("the %s claim is not a valid time", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// stringList reads a claim that is a string or a list of strings; nil if
// absent.
func stringList(c map[string]any, name string) ([]string, error) {
	switch x := c[name].(type) {
	case nil:
		if _, ok := c[name]; ok {
			return nil, refuse("the %s claim is null", name)
		}
		return nil, nil
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, refuse("the %s claim holds a non-string", name)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, refuse("the %s claim is neither a string nor a list of strings", name)
}

func algNames() string {
	s := make([]string, len(allowedAlgs))
	for i, a := range allowedAlgs {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// joseReason shortens go-jose's parse errors; they name the algorithm or
// the part that is malformed, never the whole token.
func joseReason(err error) string {
	s := strings.TrimPrefix(err.Error(), "go-jose/go-jose: ")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// quote quotes a token-supplied string for a reason, cut short.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}

func quoteList(l []string) string {
	q := make([]string, 0, min(len(l), 4))
	for i, s := range l {
		if i == 4 {
			q = append(q, "...")
			break
		}
		q = append(q, quote(s))
	}
	return "[" + strings.Join(q, " ") + "]"
}

var errNoKeys = errors.New("no usable signature verification key (RSA of 2048 bits or more, EC or Ed25519, with use \"sig\" or none)")
