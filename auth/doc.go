// Package auth will hold client authentication and authorization at the
// proxy's edge: TLS and SASL termination per listener (PLAIN, SCRAM,
// OAUTHBEARER), the principal bound to each connection beside its listener
// name, and Kafka-style ACLs. Nothing is implemented yet: listeners with a
// security protocol other than PLAINTEXT are refused at config load.
package auth
