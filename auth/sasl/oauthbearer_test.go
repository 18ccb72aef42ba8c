package sasl

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// tokens is a TokenValidator that knows a fixed set of tokens.
type tokens map[string]string

var tokenExpiry = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func (t tokens) Validate(token string) (string, time.Time, error) {
	if p, ok := t[token]; ok {
		return p, tokenExpiry, nil
	}
	return "", time.Time{}, errors.New("unknown token")
}

const goodToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln-_"

func TestOAuthBearerInitialResponse(t *testing.T) {
	v := tokens{goodToken: "alice"}
	for _, tc := range []struct {
		name, msg string
		user      string // "" when refused
		message   string // Kafka's client message when refused with one
	}{
		{"Kafka's client", "n,,\x01auth=Bearer " + goodToken + "\x01\x01", "alice", ""},
		{"extensions", "n,,\x01traceId=42 x\x01auth=Bearer " + goodToken + "\x01logicalCluster=lkc-1\x01\x01", "alice", ""},
		{"scheme case-insensitive, spaces", "n,,\x01auth=bEaReR   " + goodToken + "\x01\x01", "alice", ""},
		{"authzid matching", "n,a=alice,\x01auth=Bearer " + goodToken + "\x01\x01", "alice", ""},
		{"authzid of another user", "n,a=bob,\x01auth=Bearer " + goodToken + "\x01\x01", "",
			"Authentication failed: Client requested an authorization id (bob) that is different from the token's principal name (alice)"},
		{"escaped authzid taken as written", "n,a=al=2Cice,\x01auth=Bearer " + goodToken + "\x01\x01", "",
			"Authentication failed: Client requested an authorization id (al=2Cice) that is different from the token's principal name (alice)"},
		{"no auth", "n,,\x01x=y\x01\x01", "", ""},
		{"other scheme", "n,,\x01auth=Basic " + goodToken + "\x01\x01", "", ""},
		{"no token", "n,,\x01auth=Bearer\x01\x01", "", ""},
		{"token with padding", "n,,\x01auth=Bearer " + goodToken + "==\x01\x01", "", ""},
		{"channel binding asked", "y,,\x01auth=Bearer " + goodToken + "\x01\x01", "", ""},
		{"no final separator", "n,,\x01auth=Bearer " + goodToken + "\x01", "", ""},
		{"bad extension key", "n,,\x01tr4ce=1\x01auth=Bearer " + goodToken + "\x01\x01", "", ""},
		{"empty extension value", "n,,\x01trace=\x01auth=Bearer " + goodToken + "\x01\x01", "", ""},
		{"authzid with a comma", "n,a=a,b,\x01auth=Bearer " + goodToken + "\x01\x01", "", ""},
		{"empty", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := NewAuthenticator(OAuthBearer, Verifiers{OAuth: v})
			if err != nil {
				t.Fatal(err)
			}
			out, done, e := step(t, a, tc.msg)
			if tc.user != "" {
				if e != nil || !done || out != "" || a.User() != tc.user {
					t.Fatalf("got %q %v %+v user %q", out, done, e, a.User())
				}
				if exp := a.(CredentialExpirer).CredentialExpiry(); !exp.Equal(tokenExpiry) {
					t.Errorf("expiry %v", exp)
				}
				return
			}
			if e == nil || done || a.User() != "" {
				t.Fatalf("accepted: %q %v %+v", out, done, e)
			}
			if e.Message != tc.message {
				t.Errorf("message %q, want %q", e.Message, tc.message)
			}
			if strings.Contains(e.Reason+e.Message, goodToken) {
				t.Error("the error quotes the token")
			}
		})
	}
}

// TestOAuthBearerFailureExchange is Kafka's exchange for a refused token:
// a JSON error challenge, the client's %x01, then a failure whose message
// is the JSON.
func TestOAuthBearerFailureExchange(t *testing.T) {
	v := tokens{goodToken: "alice"}
	bad := "n,,\x01auth=Bearer eyJ.bad.token\x01\x01"
	a, _ := NewAuthenticator(OAuthBearer, Verifiers{OAuth: v})
	out, done, e := step(t, a, bad)
	if e != nil || done || out != `{"status":"invalid_token"}` {
		t.Fatalf("challenge: %q %v %+v", out, done, e)
	}
	out, done, e = step(t, a, "\x01")
	if e == nil || done || out != "" || e.Message != `{"status":"invalid_token"}` || !strings.Contains(e.Reason, "unknown token") {
		t.Fatalf("after %%x01: %q %v %+v", out, done, e)
	}
	if strings.Contains(e.Reason, "eyJ.bad.token") {
		t.Error("the reason quotes the token")
	}

	// As in Kafka, a new initial response after the challenge starts over.
	a, _ = NewAuthenticator(OAuthBearer, Verifiers{OAuth: v})
	step(t, a, bad)
	if out, done, e := step(t, a, "n,,\x01auth=Bearer "+goodToken+"\x01\x01"); e != nil || !done || out != "" || a.User() != "alice" {
		t.Fatalf("retry after the challenge: %q %v %+v", out, done, e)
	}
	if _, _, e := step(t, a, "\x01"); e == nil {
		t.Error("a message after success was taken")
	}

	// %x01 without a challenge is a malformed initial response: Kafka's
	// generic message.
	a, _ = NewAuthenticator(OAuthBearer, Verifiers{OAuth: v})
	if _, _, e := step(t, a, "\x01"); e == nil || e.Message != "" {
		t.Errorf("%%x01 first: %+v", e)
	}

	if _, err := NewAuthenticator(OAuthBearer, Verifiers{}); err == nil {
		t.Error("OAUTHBEARER without a validator")
	}
}
