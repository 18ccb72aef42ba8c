// Package oauthtest makes signing keys, JWKS documents, JWTs and an https
// JWKS endpoint for tests of OAUTHBEARER.
package oauthtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Issuer and Audience are what Claims puts in iss and aud.
const (
	Issuer   = "https://issuer.linkproxy.test"
	Audience = "linkproxy"
)

// Key is a signing key with its kid.
type Key struct {
	KID  string
	Alg  jose.SignatureAlgorithm
	Priv crypto.Signer
}

// RSAKey makes a 2048-bit RS256 key.
func RSAKey(t testing.TB, kid string) *Key {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &Key{KID: kid, Alg: jose.RS256, Priv: k}
}

// ECKey makes a P-256 ES256 key.
func ECKey(t testing.TB, kid string) *Key {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &Key{KID: kid, Alg: jose.ES256, Priv: k}
}

// JWK is the key's public JWK.
func (k *Key) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Priv.Public(), KeyID: k.KID, Algorithm: string(k.Alg), Use: "sig"}
}

// JWKS is a JWK Set of the keys' public parts.
func JWKS(keys ...*Key) []byte {
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.JWK())
	}
	b, err := json.Marshal(set)
	if err != nil {
		panic(err)
	}
	return b
}

// WriteJWKS writes a JWKS file and returns its file: URL.
func WriteJWKS(t testing.TB, keys ...*Key) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, JWKS(keys...), 0o600); err != nil {
		t.Fatal(err)
	}
	return "file://" + filepath.ToSlash(path)
}

// Claims are valid claims for sub, issued now and expiring after ttl.
func Claims(sub string, ttl time.Duration) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": Issuer, "aud": Audience, "sub": sub, "scope": "kafka",
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	}
}

// Sign makes a compact JWS of claims with the key's kid.
func (k *Key) Sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	return k.sign(t, claims, true)
}

// SignNoKID signs without a kid header.
func (k *Key) SignNoKID(t testing.TB, claims map[string]any) string {
	t.Helper()
	return k.sign(t, claims, false)
}

func (k *Key) sign(t testing.TB, claims map[string]any, withKID bool) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if withKID {
		opts = opts.WithHeader(jose.HeaderKey("kid"), k.KID)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Alg, Key: k.Priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Server is an https JWKS endpoint on 127.0.0.1 whose keys can change.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	jwks    []byte
	Fetches atomic.Int32
}

// NewServer serves the keys' JWKS at /jwks until the test ends.
func NewServer(t testing.TB, keys ...*Key) *Server {
	s := &Server{jwks: JWKS(keys...)}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/jwks" {
			http.NotFound(w, r)
			return
		}
		s.Fetches.Add(1)
		s.mu.Lock()
		b := s.jwks
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

// Set replaces the served keys.
func (s *Server) Set(keys ...*Key) {
	b := JWKS(keys...)
	s.mu.Lock()
	s.jwks = b
	s.mu.Unlock()
}

// JWKSURL is the URL the JWKS is served at.
func (s *Server) JWKSURL() string { return s.Server.URL + "/jwks" }
