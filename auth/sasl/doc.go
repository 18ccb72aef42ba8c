// Package sasl is the server side of SASL authentication on linkproxy's
// listeners: the PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 mechanisms, checked
// against a credentials file of salted hashes. The Kafka framing around it
// (SaslHandshake, SaslAuthenticate, re-authentication) is the proxy's
// (proxy/sasl.go); this package sees tokens only.
//
// # Credentials file
//
// One entry per line, the SCRAM credential Kafka itself stores for a user
// and mechanism (RFC 5802: salt, iteration count, StoredKey, ServerKey),
// never the password:
//
//	# user:mechanism:iterations:salt:storedKey:serverKey
//	alice:SCRAM-SHA-512:4096:c2FsdHNhbHRzYWx0:mF3...==:kT9...==
//	alice:SCRAM-SHA-256:4096:b3RoZXJzYWx0:Zm9v...=:YmFy...=
//
// salt, storedKey and serverKey are standard base64. The user name is
// everything before the last five colons, so it may itself hold colons;
// it may not be empty, start with '#', or hold control characters. Blank
// lines and lines starting with '#' are ignored. The iteration count is
// 4096 to 16384, the bounds Kafka sets for SCRAM. `linkproxy scram`
// writes entries.
//
// Passwords are hashed as Kafka hashes them: their UTF-8 bytes, without
// SASLprep, so that an entry works with every Kafka client.
//
// PLAIN has no entries of its own: a PLAIN password is checked against
// the user's SCRAM-SHA-512 entry, or SCRAM-SHA-256 when the user has no
// SHA-512 entry, by deriving that entry's StoredKey from the password. One
// entry thus serves PLAIN and its SCRAM mechanism, and the file never
// holds anything a password can be read back from.
//
// # No hint whether a user exists
//
// A user not in the file goes through the same exchange as one who is:
// SCRAM answers with a salt derived from the user name and a secret (a
// hash of the file's contents, which hold the stored keys), stable for
// that name, and the usual iteration count; PLAIN derives a key with the
// same work. Both then fail exactly as a wrong password does. Errors carry
// Kafka's client-facing messages, which are the same for both; only the
// log reason tells an operator which it was.
package sasl
