// Package wire is linkproxy's one Kafka frame codec: it reads and writes
// length-prefixed frames and parses only the parts of request and response
// headers the proxy needs to route a frame. It knows nothing about sockets
// (it works on io.Reader, io.Writer and byte slices) so that the same code can
// sit behind Go's net package or an event-loop engine.
package wire
