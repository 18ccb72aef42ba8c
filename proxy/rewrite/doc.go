// Package rewrite rewrites Kafka responses so that a client connected to one
// proxy listener only ever learns that listener's endpoints.
//
// Kafka clients discover brokers from responses: Metadata and DescribeCluster
// broker lists, FindCoordinator answers, and the KIP-951 leader hints carried
// by Produce, Fetch, ShareFetch and ShareAcknowledge. Any of them forwarded
// verbatim would hand the client an upstream address it cannot (or must not)
// reach, so every such endpoint is replaced by the one an Endpoints
// implementation derives from the node id alone. The upstream host and port
// are never copied to the output; they are only reported back to the caller
// so the proxy can learn about brokers it has not seen yet.
//
// Decoding and re-encoding go through kmsg, so the package can only rewrite
// what kmsg knows. Everything else must be kept away from clients, which is
// what ClampApiVersions and KnownMaxVersion are for: the proxy advertises
// only versions it can rewrite, and NeedsRewrite fails closed (reports true)
// for anything it does not know to be endpoint free.
//
// Response bodies are the bytes after the response header. Whether a
// response header carries tagged fields is answered by FlexibleResponseHeader.
package rewrite
