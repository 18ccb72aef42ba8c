// Package listeners terminates the proxy's client listeners. A listener has a
// name (EXTERNAL, INTERNAL, ...) and a security protocol, a bootstrap port,
// and one port per upstream broker: connecting to a broker's port reaches
// exactly that broker. Every connection it hands out is bound to its
// listener and carries its Kind, forward (accepted here) or reverse (opened
// by the other side, see source-initiated links).
package listeners
