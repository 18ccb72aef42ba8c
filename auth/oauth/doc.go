// Package oauth validates the JWT access tokens that SASL/OAUTHBEARER
// clients present, as Apache Kafka's broker does with its
// OAuthBearerValidatorCallbackHandler (KIP-768): the signature is checked
// against a JSON Web Key Set (JWKS) read from
// sasl.oauthbearer.jwks.endpoint.url, and the claims against the
// sasl.oauthbearer.* settings.
//
// The rules are Kafka's (jose4j's JwtConsumer as Kafka builds it):
//
//   - Only asymmetric signatures: RS256/384/512, PS256/384/512,
//     ES256/384/512 and EdDSA. "none" and the HMAC algorithms are refused,
//     so a token cannot be "signed" with a public key used as an HMAC
//     secret. JWKS entries that are symmetric keys, encryption keys or RSA
//     keys under 2048 bits are left out.
//   - The key is the JWKS entry with the token's kid (and a compatible alg
//     when the entry names one); a token without kid is accepted only when
//     the JWKS holds a single key.
//   - exp and iat are required; exp, nbf and a future iat are checked with
//     sasl.oauthbearer.clock.skew.seconds of leeway. (Kafka requires iat
//     but does not refuse one in the future; this package does, as a token
//     issued in the future is a clock or issuer fault.)
//   - iss must equal sasl.oauthbearer.expected.issuer when that is set.
//   - aud must hold one of sasl.oauthbearer.expected.audience when that is
//     set; when it is not, a token that has an aud claim is refused, as
//     jose4j does by default in Kafka.
//   - The principal is the sasl.oauthbearer.sub.claim.name claim, a
//     non-blank string; the sasl.oauthbearer.scope.claim.name claim, when
//     present, is a string or a list of non-blank strings.
//
// The JWKS is read from a file: URL or fetched over https (Go's system
// roots; SSL_CERT_FILE or SSL_CERT_DIR name other roots). Kafka reads
// such a truststore from options in the listener's sasl.jaas.config,
// which linkproxy does not take. Run refreshes it every
// sasl.oauthbearer.jwks.endpoint.refresh.ms, retrying failures with
// backoff from sasl.oauthbearer.jwks.endpoint.retry.backoff.ms up to
// ...retry.backoff.max.ms. A token whose kid is not in the set makes the
// validator fetch it again at once (as Kafka expedites a refresh), at
// most once a minute for the same kid, so that rotated keys are picked up
// without waiting for the next refresh.
//
// Errors never hold the token.
package oauth
