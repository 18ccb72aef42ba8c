package sasl

import "time"

// TokenValidator checks an OAUTHBEARER token (auth/oauth implements it).
type TokenValidator interface {
	// Validate returns the principal name the token is for and when it
	// expires, or an error saying why it is refused; the error never
	// holds the token.
	Validate(token string) (principal string, expires time.Time, err error)
}
