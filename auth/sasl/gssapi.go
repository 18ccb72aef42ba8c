package sasl

// Kerberos is a listener's GSSAPI acceptor: its service keytab and
// principal.
type Kerberos struct{}
