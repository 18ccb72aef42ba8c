package oauth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/linkproxy/linkproxy/auth/oauth"
	"github.com/linkproxy/linkproxy/auth/oauth/oauthtest"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// handMade makes "header.payload." tokens, HMAC-SHA256 signed with mac
// when not nil.
func handMade(t *testing.T, header, claims map[string]any, mac []byte) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := b64(h) + "." + b64(c)
	if mac == nil {
		return in + "."
	}
	m := hmac.New(sha256.New, mac)
	m.Write([]byte(in))
	return in + "." + b64(m.Sum(nil))
}

func with(c map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(c))
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func TestValidate(t *testing.T) {
	k1 := oauthtest.RSAKey(t, "k1")
	other := oauthtest.RSAKey(t, "k1") // same kid, another key: a forger
	ec := oauthtest.ECKey(t, "e1")
	url := oauthtest.WriteJWKS(t, k1, ec)
	v, err := oauth.New(oauth.Config{JWKSURL: url, ExpectedIssuer: oauthtest.Issuer, ExpectedAudience: []string{"other", oauthtest.Audience},
		ClockSkew: oauth.DefaultClockSkew})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good := oauthtest.Claims("alice", time.Hour)
	pubDER, _ := x509.MarshalPKIXPublicKey(k1.Priv.Public())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	for _, tc := range []struct {
		name   string
		token  string
		reason string // "" for valid
	}{
		{"valid RS256", k1.Sign(t, good), ""},
		{"valid ES256", ec.Sign(t, good), ""},
		{"expired within the clock skew", k1.Sign(t, with(good, "exp", now.Add(-10*time.Second).Unix())), ""},
		{"fractional times", k1.Sign(t, with(good, "exp", float64(now.Add(time.Hour).Unix())+0.5)), ""},
		{"aud as a list", k1.Sign(t, with(good, "aud", []string{"x", oauthtest.Audience})), ""},
		{"expired", k1.Sign(t, with(good, "exp", now.Add(-time.Minute).Unix())), "expired"},
		{"not yet valid", k1.Sign(t, with(good, "nbf", now.Add(time.Hour).Unix())), "not valid before"},
		{"issued in the future", k1.Sign(t, with(good, "iat", now.Add(time.Hour).Unix())), "issued in the future"},
		{"no exp", k1.Sign(t, with(good, "exp", nil)), "no exp claim"},
		{"no iat", k1.Sign(t, with(good, "iat", nil)), "no iat claim"},
		{"exp not a number", k1.Sign(t, with(good, "exp", "tomorrow")), "exp claim is not a number"},
		{"wrong issuer", k1.Sign(t, with(good, "iss", "https://evil.test")), "issuer"},
		{"no issuer", k1.Sign(t, with(good, "iss", nil)), "issuer"},
		{"wrong audience", k1.Sign(t, with(good, "aud", []string{"a", "b"})), "audience"},
		{"no audience", k1.Sign(t, with(good, "aud", nil)), "no audience"},
		{"no sub", k1.Sign(t, with(good, "sub", nil)), "no sub claim"},
		{"blank sub", k1.Sign(t, with(good, "sub", "  ")), "no sub claim"},
		{"blank scope", k1.Sign(t, with(good, "scope", []string{"a", " "})), "blank scope"},
		{"forged signature", other.Sign(t, good), "signature does not verify"},
		{"unknown kid", oauthtest.RSAKey(t, "k9").Sign(t, good), `no key "k9"`},
		{"no kid, several keys", k1.SignNoKID(t, good), "no kid"},
		{"alg none", handMade(t, map[string]any{"alg": "none", "kid": "k1"}, good, nil), "allowed algorithm"},
		{"HS256 with the RSA public key", handMade(t, map[string]any{"alg": "HS256", "kid": "k1", "typ": "JWT"}, good, pubPEM), "allowed algorithm"},
		{"HS256 with the public key DER", handMade(t, map[string]any{"alg": "HS256", "kid": "k1"}, good, pubDER), "allowed algorithm"},
		{"ES256 header on an RSA key", handMade(t, map[string]any{"alg": "ES256", "kid": "k1"}, good, pubDER), "does not fit alg ES256"},
		{"not a JWT", "abc.def", "allowed algorithm"},
		{"empty", "", "allowed algorithm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub, exp, err := v.Validate(tc.token)
			if tc.reason == "" {
				if err != nil || sub != "alice" || exp.Before(now.Add(-time.Minute)) {
					t.Fatalf("got %q %v %v", sub, exp, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("got %q %v, want an error with %q", sub, err, tc.reason)
			}
			if _, ok := err.(*oauth.Error); !ok {
				t.Errorf("%T", err)
			}
			if len(tc.token) > 10 && strings.Contains(err.Error(), tc.token) {
				t.Error("the error holds the token")
			}
		})
	}
}

func TestValidateSettings(t *testing.T) {
	k1 := oauthtest.RSAKey(t, "k1")
	url := oauthtest.WriteJWKS(t, k1)
	good := oauthtest.Claims("alice", time.Hour)

	// No expected audience: a token with aud is refused, as in Kafka.
	v, err := oauth.New(oauth.Config{JWKSURL: url})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := v.Validate(k1.Sign(t, good)); err == nil || !strings.Contains(err.Error(), "expected.audience is not set") {
		t.Errorf("aud without expected audience: %v", err)
	}
	// One key: a token without kid uses it. No issuer expected: any.
	if sub, _, err := v.Validate(k1.SignNoKID(t, with(good, "aud", nil, "iss", "x"))); err != nil || sub != "alice" {
		t.Errorf("no kid, one key: %q %v", sub, err)
	}
	// Other claim names and no clock skew.
	v, err = oauth.New(oauth.Config{JWKSURL: url, SubClaim: "client_id", ScopeClaim: "scp", ClockSkew: 0, ExpectedAudience: []string{oauthtest.Audience}})
	if err != nil {
		t.Fatal(err)
	}
	c := with(good, "client_id", "svc-1", "scp", 7)
	if _, _, err := v.Validate(k1.Sign(t, c)); err == nil || !strings.Contains(err.Error(), "scp claim") {
		t.Errorf("scope of the wrong type: %v", err)
	}
	if sub, _, err := v.Validate(k1.Sign(t, with(c, "scp", []string{"read", "write"}))); err != nil || sub != "svc-1" {
		t.Errorf("sub.claim.name: %q %v", sub, err)
	}
}

func TestJWKSRotationOverHTTPS(t *testing.T) {
	k1, k2 := oauthtest.RSAKey(t, "k1"), oauthtest.ECKey(t, "k2")
	srv := oauthtest.NewServer(t, k1)
	if !strings.HasPrefix(srv.JWKSURL(), "https://127.0.0.1:") {
		t.Fatalf("server at %s", srv.JWKSURL())
	}
	v, err := oauth.New(oauth.Config{JWKSURL: srv.JWKSURL(), HTTPClient: srv.Client(), ExpectedAudience: []string{oauthtest.Audience}})
	if err != nil {
		t.Fatal(err)
	}
	good := oauthtest.Claims("alice", time.Hour)
	// Not fetched yet: the first token fetches it.
	if sub, _, err := v.Validate(k1.Sign(t, good)); err != nil || sub != "alice" {
		t.Fatalf("first token: %q %v", sub, err)
	}
	if n := srv.Fetches.Load(); n != 1 {
		t.Fatalf("%d fetches", n)
	}
	// The issuer rotates to k2: a k2 token refetches and passes.
	srv.Set(k2)
	if sub, _, err := v.Validate(k2.Sign(t, good)); err != nil || sub != "alice" {
		t.Fatalf("after rotation: %q %v", sub, err)
	}
	if n := srv.Fetches.Load(); n != 2 {
		t.Fatalf("%d fetches", n)
	}
	// k1 is gone from the set now.
	if _, _, err := v.Validate(k1.Sign(t, good)); err == nil {
		t.Fatal("token of a retired key accepted")
	}
	// An unknown kid refetches once a minute at most.
	k3 := oauthtest.RSAKey(t, "k3")
	for range 3 {
		if _, _, err := v.Validate(k3.Sign(t, good)); err == nil || !strings.Contains(err.Error(), `no key "k3"`) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	// Once for k3; none for k1 above, fetched for a minute ago.
	if n := srv.Fetches.Load(); n != 3 {
		t.Fatalf("%d fetches, want 3", n)
	}
}

func TestJWKSNotTrusted(t *testing.T) {
	k1 := oauthtest.RSAKey(t, "k1")
	srv := oauthtest.NewServer(t, k1)
	// Without the test CA (the system roots): the fetch fails, the
	// token is refused.
	v, err := oauth.New(oauth.Config{JWKSURL: srv.JWKSURL(), HTTPClient: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := v.Validate(k1.Sign(t, with(oauthtest.Claims("alice", time.Hour), "aud", nil))); err == nil || !strings.Contains(err.Error(), "not loaded") {
		t.Fatalf("untrusted JWKS endpoint: %v", err)
	}
	if srv.Fetches.Load() != 0 {
		t.Error("the handler ran despite the TLS failure")
	}
}

func TestRunRefreshesAndStops(t *testing.T) {
	k1, k2 := oauthtest.RSAKey(t, "k1"), oauthtest.RSAKey(t, "k2")
	srv := oauthtest.NewServer(t, k1)
	v, err := oauth.New(oauth.Config{JWKSURL: srv.JWKSURL(), HTTPClient: srv.Client(), Refresh: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); v.Run(ctx) }()
	srv.Set(k2)
	// The loop picks up k2 by itself; wait for two refreshes past Set.
	deadline := time.Now().Add(10 * time.Second)
	for start := srv.Fetches.Load(); srv.Fetches.Load() < start+2; {
		if time.Now().After(deadline) {
			t.Fatal("the loop did not refresh")
		}
		time.Sleep(5 * time.Millisecond)
	}
	before := srv.Fetches.Load()
	if _, _, err := v.Validate(k2.Sign(t, with(oauthtest.Claims("alice", time.Hour), "aud", nil))); err != nil {
		t.Fatalf("after refresh: %v", err)
	}
	cancel()
	<-done
	if srv.Fetches.Load() > before+1 {
		t.Error("the token needed a fetch of its own")
	}
}

func TestParseJWKSURL(t *testing.T) {
	for _, tc := range []struct{ url, err string }{
		{"https://idp.example.com/.well-known/jwks.json", ""},
		{"file:///etc/jwks.json", ""},
		{"file:/etc/jwks.json", ""},
		{"", "empty"},
		{"http://idp.example.com/jwks", "plain http is refused"},
		{"ftp://idp.example.com/jwks", `scheme "ftp" is not supported`},
		{"https:///jwks", "needs a host"},
		{"file://", "needs a path"},
		{"://x", "not a URL"},
	} {
		_, err := oauth.ParseJWKSURL(tc.url)
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: %v, want %q", tc.url, err, tc.err)
		}
	}
}

func TestParseJWKS(t *testing.T) {
	k1 := oauthtest.RSAKey(t, "k1")
	enc := k1.JWK()
	enc.KeyID, enc.Use = "enc", "enc"
	oct := jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "hmac", Algorithm: "HS256"}
	mk := func(keys ...jose.JSONWebKey) []byte {
		b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	keys, skipped, err := oauth.ParseJWKS(mk(k1.JWK(), enc, oct))
	if err != nil || len(keys) != 1 || keys[0].KeyID != "k1" || len(skipped) != 2 {
		t.Fatalf("%v %v %v", keys, skipped, err)
	}
	unknown := []byte(`{"keys":[{"kty":"XYZ","kid":"x"},` + string(mk(k1.JWK()))[9:])
	if keys, _, err := oauth.ParseJWKS(unknown); err != nil || len(keys) != 1 {
		t.Errorf("unknown key type beside a good key: %v %v", keys, err)
	}
	for name, data := range map[string][]byte{
		"only a symmetric key":   mk(oct),
		"only an encryption key": mk(enc),
		"not JSON":               []byte("nope"),
		"no keys":                []byte(`{"keys":[]}`),
	} {
		if _, _, err := oauth.ParseJWKS(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A file JWKS is read by New and CheckJWKSURL.
	path := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(path, mk(oct), 0o600)
	if _, err := oauth.New(oauth.Config{JWKSURL: "file://" + path}); err == nil || !strings.Contains(err.Error(), "no usable") {
		t.Errorf("New with a bad file: %v", err)
	}
	if err := oauth.CheckJWKSURL("file://" + path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("CheckJWKSURL: %v", err)
	}
	if err := oauth.CheckJWKSURL(oauthtest.WriteJWKS(t, k1)); err != nil {
		t.Errorf("CheckJWKSURL: %v", err)
	}
}
