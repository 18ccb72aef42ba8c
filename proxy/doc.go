// Package proxy forwards the Kafka protocol between listener-bound client
// connections and the upstream brokers of the fronted cluster.
//
// Frames move by their length prefix; only request headers are parsed,
// except responses that carry broker endpoints, which are rewritten for the
// connection's listener (package rewrite) so that a client only ever learns
// endpoints of its own listener. Each client connection gets exactly one
// upstream connection, to the broker its port stands for, so per-connection
// Kafka semantics (ordering, fetch sessions, throttling) are the broker's.
package proxy
