package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// maxJWKSSize bounds what is read from a JWKS endpoint or file.
const maxJWKSSize = 1 << 20

// minRSABits is the smallest RSA key accepted, as jose4j's.
const minRSABits = 2048

// ParseJWKSURL checks sasl.oauthbearer.jwks.endpoint.url: a file: URL
// with a path, or an https: URL with a host. Plain http is refused: keys
// fetched without TLS could be swapped on the way.
func ParseJWKSURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("empty: give the JWKS endpoint of the token issuer (https://...) or a file: URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %v", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		u.Scheme = "file"
		if filePath(u) == "" {
			return nil, fmt.Errorf("%s: a file: URL needs a path, e.g. file:///etc/linkproxy/jwks.json", s)
		}
	case "https":
		u.Scheme = "https"
		if u.Host == "" {
			return nil, fmt.Errorf("%s: an https URL needs a host", u.Redacted())
		}
	case "http":
		return nil, fmt.Errorf("%s: plain http is refused, as keys fetched without TLS could be replaced on the way: use https, or a file: URL", u.Redacted())
	default:
		return nil, fmt.Errorf("%s: scheme %q is not supported: use https, or a file: URL", u.Redacted(), u.Scheme)
	}
	return u, nil
}

// filePath is the path of a file: URL: file:///p, file:/p or file:p.
func filePath(u *url.URL) string {
	if u.Opaque != "" {
		return u.Opaque
	}
	return u.Path
}

// CheckJWKSURL is ParseJWKSURL, and for a file: URL also reads the file
// and checks it holds a usable key: what config loading verifies.
func CheckJWKSURL(s string) error {
	u, err := ParseJWKSURL(s)
	if err != nil || u.Scheme != "file" {
		return err
	}
	data, err := fetch(context.Background(), nil, u)
	if err == nil {
		_, _, err = ParseJWKS(data)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", filePath(u), err)
	}
	return nil
}

// fetch reads the JWKS document at u.
func fetch(ctx context.Context, client *http.Client, u *url.URL) ([]byte, error) {
	if u.Scheme == "file" {
		f, err := os.Open(filePath(u))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP status %s", u.Redacted(), resp.Status)
	}
	return readLimited(resp.Body)
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxJWKSSize+1))
	if err == nil && len(data) > maxJWKSSize {
		err = fmt.Errorf("larger than %d bytes", maxJWKSSize)
	}
	return data, err
}

// ParseJWKS reads a JWK Set (RFC 7517) and returns its signature
// verification keys, public parts only, and why the others were left
// out. A set without any usable key is an error.
func ParseJWKS(data []byte) (keys []jose.JSONWebKey, skipped []string, err error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, nil, fmt.Errorf("not a JWK Set (a JSON object with \"keys\"): %v", err)
	}
	for i, raw := range set.Keys {
		var k jose.JSONWebKey
		// Entries this package cannot use are skipped, not fatal: an
		// issuer may publish key types or algorithms for other parties.
		if err := k.UnmarshalJSON(raw); err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d: %s", i, joseReason(err)))
			continue
		}
		name := fmt.Sprintf("key %d (kid %s)", i, quote(k.KeyID))
		if k.Use != "" && k.Use != "sig" {
			skipped = append(skipped, name+": use is "+quote(k.Use))
			continue
		}
		pub := k.Public()
		if !pub.Valid() || !pub.IsPublic() || keyType(pub) == "" {
			skipped = append(skipped, name+": not an RSA, EC or Ed25519 key (symmetric keys are never used)")
			continue
		}
		if rk, ok := pub.Key.(*rsa.PublicKey); ok && rk.N.BitLen() < minRSABits {
			skipped = append(skipped, fmt.Sprintf("%s: RSA key of %d bits, under %d", name, rk.N.BitLen(), minRSABits))
			continue
		}
		keys = append(keys, pub)
	}
	if len(keys) == 0 {
		return nil, skipped, fmt.Errorf("%w; %d entries left out: %s", errNoKeys, len(skipped), strings.Join(skipped, "; "))
	}
	return keys, skipped, nil
}

// keyType is the JWK kty of a public key, "" for keys not used here.
func keyType(k jose.JSONWebKey) string {
	switch k.Key.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC"
	case ed25519.PublicKey:
		return "OKP"
	}
	return ""
}
