package sasl

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// OAuthBearer is SASL/OAUTHBEARER (RFC 7628, KIP-255).
const OAuthBearer = "OAUTHBEARER"

// TokenValidator checks an OAUTHBEARER token (auth/oauth implements it).
type TokenValidator interface {
	// Validate returns the principal name the token is for and when it
	// expires, or an error saying why it is refused; the error never
	// holds the token.
	Validate(token string) (principal string, expires time.Time, err error)
}

// CredentialExpirer is an Authenticator whose credential expires: the
// session lifetime (KIP-368) must end by then, as Kafka caps it with the
// CREDENTIAL.LIFETIME.MS negotiated property.
type CredentialExpirer interface {
	// CredentialExpiry is when the credential of the completed exchange
	// expires.
	CredentialExpiry() time.Time
}

// Refuser is an Authenticator that can refuse with a challenge rather
// than an error: OAUTHBEARER's invalid_token, which the client is to
// acknowledge before the exchange fails. Kafka logs the refusal then.
type Refuser interface {
	// Refused is the refusal the last challenge carried, nil if it was
	// not one.
	Refused() *Error
}

// invalidToken is the error challenge Kafka's OAuthBearerSaslServer sends
// for a refused token (its validator callback handler sets only the
// status): RFC 7628's JSON, which the client acknowledges with %x01.
const invalidToken = `{"status":"invalid_token"}`

// The client's initial response, as Kafka's OAuthBearerClientInitialResponse
// matches it: gs2 header "n,[a=authzid]," then %x01-separated key=value
// pairs and a final %x01. The authzid is taken as written, =2C and =3D
// escapes included, as Kafka takes it.
var (
	oauthInitial = regexp.MustCompile("^n,(?:a=((?:[\x01-\x2B\x2D-\x3C\x3E-\x7F]|=2C|=3D)+))?,\x01((?:[A-Za-z]+=[\x21-\x7E \t\r\n]+\x01)*)\x01$")
	oauthAuth    = regexp.MustCompile(`^(\w+) +([-_.a-zA-Z0-9]+)$`)
)

// parseOAuthInitial returns the authzid ("" when not given) and the token
// of a client initial response; the error never quotes the token.
func parseOAuthInitial(msg []byte) (authzID, token string, err error) {
	m := oauthInitial.FindSubmatch(msg)
	if m == nil {
		return "", "", fmt.Errorf("invalid OAUTHBEARER client first message")
	}
	var auth string
	hasAuth := false
	// Kafka keeps the last of repeated keys; the pattern guarantees every
	// pair has "=" and no %x01 inside.
	for _, kv := range strings.Split(strings.TrimSuffix(string(m[2]), "\x01"), "\x01") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == "auth" {
			auth, hasAuth = v, true
		}
	}
	if !hasAuth {
		return "", "", fmt.Errorf("invalid OAUTHBEARER client first message: 'auth' not specified")
	}
	a := oauthAuth.FindStringSubmatch(auth)
	switch {
	case a == nil:
		return "", "", fmt.Errorf("invalid OAUTHBEARER client first message: invalid 'auth' format")
	case !strings.EqualFold(a[1], "bearer"):
		return "", "", fmt.Errorf("invalid scheme in OAUTHBEARER client first message: %s", quoteScheme(a[1]))
	}
	return string(m[1]), a[2], nil
}

func quoteScheme(s string) string {
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// oauthBearer is SASL/OAUTHBEARER as Kafka's OAuthBearerSaslServer answers
// it. A refused token gets the JSON error challenge; the client's %x01
// acknowledgement then fails the exchange with that JSON as the message.
// Anything else after the challenge is taken as a new initial response,
// as Kafka does.
type oauthBearer struct {
	v       TokenValidator
	user    string
	expires time.Time
	done    bool

	challenged bool   // the error challenge was sent
	reason     string // why the token was refused, for the log
}

func newOAuthBearer(v TokenValidator) *oauthBearer { return &oauthBearer{v: v} }

func (o *oauthBearer) Mechanism() string { return OAuthBearer }

func (o *oauthBearer) User() string {
	if o.done {
		return o.user
	}
	return ""
}

// Refused is the refusal awaiting the client's %x01.
func (o *oauthBearer) Refused() *Error {
	if !o.challenged {
		return nil
	}
	return &Error{Message: invalidToken, Reason: "invalid token: " + o.reason}
}

// CredentialExpiry is the token's exp.
func (o *oauthBearer) CredentialExpiry() time.Time { return o.expires }

func (o *oauthBearer) Step(msg []byte) ([]byte, bool, error) {
	if o.done {
		return nil, false, &Error{Reason: "OAUTHBEARER message after the exchange ended"}
	}
	if len(msg) == 1 && msg[0] == 0x01 && o.challenged {
		return nil, false, o.Refused()
	}
	o.challenged, o.reason = false, ""
	authzID, token, err := parseOAuthInitial(msg)
	if err != nil {
		return nil, false, &Error{Reason: err.Error()}
	}
	principal, expires, err := o.v.Validate(token)
	if err != nil {
		o.challenged, o.reason = true, err.Error()
		return []byte(invalidToken), false, nil
	}
	if authzID != "" && authzID != principal {
		return nil, false, &Error{
			Message: fmt.Sprintf("Authentication failed: Client requested an authorization id (%s) that is different from the token's principal name (%s)", authzID, principal),
			Reason:  "authorization id differs from the token's principal", User: principal,
		}
	}
	o.user, o.expires, o.done = principal, expires, true
	return []byte{}, true, nil
}
