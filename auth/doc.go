// Package auth will hold client authentication and authorization at the
// proxy's edge: TLS and SASL termination per listener (PLAIN, SCRAM,
// OAUTHBEARER), the principal bound to each connection beside its listener
// name, and Kafka-style ACLs. Listeners do not have any of it yet: those
// with a security protocol other than PLAINTEXT are refused at config load.
// Package keystore, which loads Kafka's key and trust stores (JKS, PKCS12,
// PEM), already serves the upstream side's TLS and will serve the
// listeners'.
package auth
