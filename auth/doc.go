// Package auth holds security at the proxy's edge, one package per concern:
//
//   - keystore loads Kafka's key and trust stores (JKS, PKCS12, PEM) and the
//     TLS parameters, for listeners and for upstream connections alike;
//   - principal names the principal of a client certificate
//     (ssl.principal.mapping.rules);
//   - sasl is the server side of PLAIN, SCRAM, OAUTHBEARER and GSSAPI on
//     SASL listeners (the Kafka framing around it is proxy/sasl.go);
//   - oauth validates OAUTHBEARER tokens against a JWKS;
//   - acl decides requests by Kafka-style ACLs (proxy/authz.go applies
//     it per request).
//
// The client side of upstream security (SASL logins, token and Kerberos
// refresh) is conf/clientprops, the one parser of Kafka client properties.
package auth
