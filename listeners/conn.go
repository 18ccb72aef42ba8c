package listeners

import "net"

// Kind says who opened a connection.
type Kind uint8

const (
	// Forward connections were accepted on one of the listener's ports.
	Forward Kind = iota
	// Reverse connections were opened by the other side of a
	// source-initiated cluster link and then used in the opposite
	// direction; they are bound to a listener name all the same so that
	// metadata on them is rewritten for that listener.
	Reverse
)

func (k Kind) String() string {
	if k == Reverse {
		return "reverse"
	}
	return "forward"
}

// Bootstrap is the NodeID of connections made to a listener's bootstrap
// port, which may be routed to any upstream broker.
const Bootstrap int32 = -1

// Conn is a client connection bound to its listener.
type Conn struct {
	net.Conn
	Listener *Listener
	Kind     Kind
	// NodeID is the upstream broker this connection reaches, or Bootstrap.
	NodeID int32
	// Principal is the connection's principal from TLS, set on SSL
	// listeners, where Kafka takes it from the client certificate:
	// "User:" and the certificate subject mapped by
	// ssl.principal.mapping.rules, or User:ANONYMOUS without a
	// certificate. It is "" on the other listeners; on SASL_SSL ones, as
	// in Kafka, SASL names the principal.
	Principal string
}
