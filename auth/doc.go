// Package auth will hold client authentication and authorization at the
// proxy's edge: TLS and SASL termination per listener (PLAIN, SCRAM,
// OAUTHBEARER), the principal bound to each connection beside its listener
// name, and Kafka-style ACLs. Package sasl is the server side of PLAIN and
// SCRAM against a credentials file, which SASL_PLAINTEXT listeners use
// (the Kafka framing is the proxy's); listeners with SSL or SASL_SSL are
// refused at config load until listener TLS. Package keystore, which loads
// Kafka's key and trust stores (JKS, PKCS12, PEM), already serves the
// upstream side's TLS and will serve the listeners'.
package auth
