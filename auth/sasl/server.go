package sasl

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/xdg-go/scram"
)

// Error is a failed authentication.
type Error struct {
	// Message is what Apache Kafka tells the client for this failure, or
	// "" where Kafka sends its generic "Authentication failed during
	// authentication due to invalid credentials with SASL mechanism M"
	// (which the caller words, as it knows whether this was a
	// re-authentication).
	Message string
	// Reason says what went wrong, for the operator's log. It never holds
	// a password, a token or the client's bytes.
	Reason string
	// User is the user name when the credentials file has it, for logs;
	// "" otherwise, so that logs do not fill with what clients typed.
	User string
}

func (e *Error) Error() string { return e.Reason }

// Kafka's client-facing messages for failures it reports with their own
// text (SaslAuthenticationException); other failures get the generic one.
const (
	msgPlainFailed     = "Authentication failed: Invalid username or password"
	msgNoUsername      = "Authentication failed: username not specified"
	msgNoPassword      = "Authentication failed: password not specified"
	msgAuthzIDMismatch = "Authentication failed: Client requested an authorization id that is different from username"
)

// Authenticator is the server side of one authentication exchange.
type Authenticator interface {
	// Mechanism is the SASL mechanism.
	Mechanism() string
	// Step takes the client's next token and returns the server's
	// answer, with done set once the client is authenticated. An error,
	// always an *Error, ends the exchange.
	Step(token []byte) (answer []byte, done bool, err error)
	// User is the authenticated user name once Step reported done.
	User() string
}

// Verifiers are what a listener checks its clients against, one field per
// family of mechanisms; a nil field disables those mechanisms.
type Verifiers struct {
	// Credentials serve PLAIN and SCRAM-SHA-256/512.
	Credentials *Credentials
	// OAuth validates OAUTHBEARER tokens (oauthbearer.go).
	OAuth TokenValidator
	// Kerberos accepts GSSAPI (gssapi.go).
	Kerberos *Kerberos
}

// NewAuthenticator starts an exchange for mechanism, one of Mechanisms,
// against v.
func NewAuthenticator(mechanism string, v Verifiers) (Authenticator, error) {
	c := v.Credentials
	switch mechanism {
	case Plain, ScramSHA256, ScramSHA512:
		if c == nil {
			return nil, fmt.Errorf("mechanism %s has no credentials configured", mechanism)
		}
	}
	switch mechanism {
	case Plain:
		return &plain{c: c}, nil
	case ScramSHA256, ScramSHA512:
		a := &scramAuth{mech: mechanism, c: c}
		gen := scram.SHA256
		if mechanism == ScramSHA512 {
			gen = scram.SHA512
		}
		srv, err := gen.NewServer(a.credentials)
		if err != nil {
			return nil, err
		}
		a.conv = srv.NewConversation()
		return a, nil
	case OAuthBearer:
		if v.OAuth == nil {
			return nil, fmt.Errorf("mechanism %s has no token validator configured", mechanism)
		}
		return newOAuthBearer(v.OAuth), nil
	case GSSAPI:
		if v.Kerberos == nil {
			return nil, fmt.Errorf("mechanism %s has no keytab configured", mechanism)
		}
		return v.Kerberos.newAuthenticator(), nil
	}
	return nil, fmt.Errorf("mechanism %q is not implemented", mechanism)
}

// plain is SASL/PLAIN (RFC 4616) as Kafka's PlainSaslServer answers it.
type plain struct {
	c    *Credentials
	user string
	used bool
}

func (p *plain) Mechanism() string { return Plain }
func (p *plain) User() string      { return p.user }

func (p *plain) Step(token []byte) ([]byte, bool, error) {
	if p.used {
		return nil, false, &Error{Reason: "PLAIN token after the exchange ended"}
	}
	p.used = true
	// authzid NUL authcid NUL passwd; like Kafka, up to four fields are
	// split off and anything but three is malformed.
	f := bytes.SplitN(token, []byte{0}, 4)
	if len(f) != 3 {
		return nil, false, &Error{Reason: fmt.Sprintf("malformed PLAIN token: %d NUL-separated fields, want 3", len(f))}
	}
	authzID, user, password := string(f[0]), string(f[1]), f[2]
	switch {
	case user == "":
		return nil, false, &Error{Message: msgNoUsername, Reason: "PLAIN token without a user name"}
	case len(password) == 0:
		return nil, false, &Error{Message: msgNoPassword, Reason: "PLAIN token without a password"}
	}
	e, known := p.c.plainEntry(user)
	if !known {
		e = p.c.fake(user, p.c.fakeMech) // the same work as for a known user
	}
	stored, _, err := derive(e.Mechanism, password, e.Salt, e.Iterations)
	match := err == nil && hmac.Equal(stored, e.StoredKey)
	switch {
	case !known:
		return nil, false, &Error{Message: msgPlainFailed, Reason: "unknown user"}
	case !match:
		return nil, false, &Error{Message: msgPlainFailed, Reason: "wrong password (checked against the user's " + e.Mechanism + " entry)", User: user}
	case authzID != "" && authzID != user:
		return nil, false, &Error{Message: msgAuthzIDMismatch, Reason: "authorization id differs from the user name", User: user}
	}
	p.user = user
	return []byte{}, true, nil
}

// scramAuth is SCRAM-SHA-256/512 (RFC 5802, RFC 7677) as Kafka's
// ScramSaslServer answers it: no channel binding, and the tokenauth
// extension (delegation tokens) is not supported.
//
// xdg-go/scram reads the client-first message and makes the server-first
// one; the client-final message is checked here, because Kafka accepts a
// final nonce that merely ends with the server's nonce and librdkafka
// relies on it: up to at least 2.0.2 it sends its own nonce again in front
// (r=<client nonce><client nonce><server nonce>), which xdg-go refuses.
type scramAuth struct {
	mech  string
	c     *Credentials
	conv  *scram.ServerConversation
	step  int
	token bool // the client asked for delegation-token authentication
	known bool
	user  string
	cred  Entry
	done  bool

	gs2Header, clientFirstBare, serverFirst, nonce string
}

func (a *scramAuth) Mechanism() string { return a.mech }

func (a *scramAuth) User() string {
	if a.done && a.known {
		return a.user
	}
	return ""
}

// credentials is the conversation's lookup: users not in the file (and
// delegation tokens) get a fake entry, so that the exchange goes on
// exactly as for a wrong password.
func (a *scramAuth) credentials(user string) (scram.StoredCredentials, error) {
	e, ok := a.c.lookup(user, a.mech)
	if !ok || a.token {
		e, ok = a.c.fake(user, a.mech), false
	}
	a.known, a.user, a.cred = ok, user, e
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(e.Salt), Iters: e.Iterations},
		StoredKey:  e.StoredKey,
		ServerKey:  e.ServerKey,
	}, nil
}

func (a *scramAuth) fail(reason string) *Error {
	e := &Error{Reason: reason}
	if a.known {
		e.User = a.user
	}
	return e
}

func (a *scramAuth) Step(token []byte) ([]byte, bool, error) {
	a.step++
	switch a.step {
	case 1:
		return a.first(token)
	case 2:
		return a.final(string(token))
	}
	return nil, false, a.fail("SCRAM message after the exchange ended")
}

func (a *scramAuth) first(token []byte) ([]byte, bool, error) {
	// Kafka's client-first message starts with the gs2 header "n,": no
	// channel binding on a Kafka connection.
	if !bytes.HasPrefix(token, []byte("n,")) {
		return nil, false, a.fail("malformed SCRAM client-first message: it must start with the gs2 header \"n,\"")
	}
	a.token = hasExtension(token, "tokenauth", "true")
	out, err := a.conv.Step(string(token))
	if err != nil {
		return nil, false, a.fail("malformed SCRAM client-first message")
	}
	if z := a.conv.AuthzID(); z != "" && z != a.conv.Username() {
		e := a.fail("authorization id differs from the user name")
		e.Message = msgAuthzIDMismatch
		return nil, false, e
	}
	// The conversation parsed "n,[a=authzid],n=user,r=nonce[,ext]" and
	// answered "r=nonce,s=salt,i=iterations".
	msg := string(token)
	second := 2 + strings.IndexByte(msg[2:], ',')
	nonce, _, ok := strings.Cut(strings.TrimPrefix(out, "r="), ",")
	if second < 2 || !ok {
		return nil, false, a.fail("malformed SCRAM client-first message")
	}
	a.gs2Header, a.clientFirstBare, a.serverFirst, a.nonce = msg[:second+1], msg[second+1:], out, nonce
	return []byte(out), false, nil
}

// final checks the client-final message "c=cbind,r=nonce[,ext],p=proof".
func (a *scramAuth) final(msg string) ([]byte, bool, error) {
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return nil, false, a.fail("malformed SCRAM client-final message")
	}
	withoutProof := msg[:i]
	proof, err := base64.StdEncoding.DecodeString(msg[i+3:])
	f := strings.SplitN(withoutProof, ",", 3)
	if err != nil || len(f) < 2 || !strings.HasPrefix(f[0], "c=") || !strings.HasPrefix(f[1], "r=") {
		return nil, false, a.fail("malformed SCRAM client-final message")
	}
	if cbind, err := base64.StdEncoding.DecodeString(f[0][2:]); err != nil || string(cbind) != a.gs2Header {
		return nil, false, a.fail("SCRAM client-final message whose channel binding is not its gs2 header")
	}
	if !strings.HasSuffix(f[1][2:], a.nonce) { // Kafka's rule, not equality: see scramAuth
		return nil, false, a.fail("SCRAM client-final message with a nonce other than the server's")
	}
	h := hashFor(a.mech)
	authMessage := []byte(a.clientFirstBare + "," + a.serverFirst + "," + withoutProof)
	signature := hmacOf(h, a.cred.StoredKey, authMessage)
	var storedKey []byte
	if len(proof) == len(signature) {
		clientKey := make([]byte, len(proof))
		for j := range proof {
			clientKey[j] = proof[j] ^ signature[j]
		}
		sum := h()
		sum.Write(clientKey)
		storedKey = sum.Sum(nil)
	}
	valid := hmac.Equal(storedKey, a.cred.StoredKey)
	switch {
	case a.token:
		return nil, false, a.fail("delegation token authentication (tokenauth) is not supported")
	case !a.known:
		return nil, false, a.fail("unknown user")
	case !valid:
		return nil, false, a.fail("wrong password (invalid SCRAM client proof)")
	}
	a.done = true
	return []byte("v=" + base64.StdEncoding.EncodeToString(hmacOf(h, a.cred.ServerKey, authMessage))), true, nil
}

// hasExtension reports whether a client-first message carries the
// extension name=value after its nonce.
func hasExtension(clientFirst []byte, name, value string) bool {
	_, rest, ok := strings.Cut(string(clientFirst), ",r=")
	if !ok {
		return false
	}
	for _, f := range strings.Split(rest, ",")[1:] {
		if f == name+"="+value {
			return true
		}
	}
	return false
}

// IsError reports whether err is an authentication failure and returns it.
func IsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
