package rewrite

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Endpoints maps an upstream node id to the endpoint a client of one listener
// must see.
type Endpoints interface {
	// Endpoint returns the advertised host and port of nodeID on this
	// listener. ok=false means the node cannot be reached on this listener
	// (e.g. port out of range).
	Endpoint(nodeID int32) (host string, port int32, ok bool)
}

// Broker is an upstream broker learned from a response.
//
// Host and Rack are copies: they stay valid after the response buffer is
// reused.
type Broker struct {
	NodeID int32
	Host   string
	Port   int32
	Rack   *string
}

var (
	// ErrUnsupported is returned for responses the proxy cannot rewrite:
	// keys or versions kmsg does not know and APIs the proxy refuses to
	// carry (see KnownMaxVersion).
	ErrUnsupported = errors.New("unsupported api version")

	// ErrMalformed is returned when a response body cannot be decoded.
	ErrMalformed = errors.New("malformed response")
)

const (
	produceKey          int16 = 0
	fetchKey            int16 = 1
	metadataKey         int16 = 3
	findCoordinatorKey  int16 = 10
	apiVersionsKey      int16 = 18
	describeClusterKey  int16 = 60
	shareFetchKey       int16 = 78
	shareAcknowledgeKey int16 = 79
)

// Response rewrites the body of a response (the bytes after the response
// header) to API key at version so that every broker endpoint in it is the one
// ep advertises for the node.
//
// When nothing has to change, out is body itself, so the caller can forward
// the original frame. Otherwise out is the re-encoded body appended to dst
// (pass a pooled buffer's dst[:0], or nil). dst must not share memory with
// body: the decoded message aliases body while it is being encoded.
//
// seen lists the upstream brokers named in the response (Metadata and
// DescribeCluster broker lists, KIP-951 leader endpoints of Produce, Fetch,
// ShareFetch and ShareAcknowledge, FindCoordinator answers), including those
// ep cannot reach, so the proxy can learn about new brokers.
//
// For (key, version) where NeedsRewrite is false, body is returned without
// being looked at.
func Response(key, version int16, body []byte, ep Endpoints, dst []byte) (out []byte, seen []Broker, err error) {
	if !NeedsRewrite(key, version) {
		return body, nil, nil
	}
	s := state{ep: ep}
	out, err = s.response(key, version, body, dst)
	if err != nil {
		return nil, nil, fmt.Errorf("rewriting %s v%d response: %w", apiName(key), version, err)
	}
	return out, s.seen, nil
}

func apiName(key int16) string {
	if a := lookup(key); a != nil && a.known {
		return kmsg.NameForKey(key)
	}
	return fmt.Sprintf("api key %d", key)
}

func (s *state) response(key, version int16, body, dst []byte) ([]byte, error) {
	if a := lookup(key); a == nil || a.excluded || !hasVersion(a.versions, version) {
		return nil, ErrUnsupported
	}
	switch key {
	case metadataKey:
		return s.metadata(version, body, dst)
	case describeClusterKey:
		return s.describeCluster(version, body, dst)
	case findCoordinatorKey:
		return s.findCoordinator(version, body, dst)
	case produceKey:
		return s.produce(version, body, dst)
	case fetchKey:
		return s.fetch(version, body, dst)
	case shareFetchKey:
		return s.shareFetch(version, body, dst)
	case shareAcknowledgeKey:
		return s.shareAcknowledge(version, body, dst)
	}
	// The tables claim endpoints for a key no rewriter handles: refuse
	// rather than forward something unexamined.
	return nil, ErrUnsupported
}

// state accumulates what one Response call learns and whether the body must
// be re-encoded.
type state struct {
	ep      Endpoints
	seen    []Broker
	changed bool
	err     error
}

// learn records an upstream broker. The strings are cloned because decoding
// is done without copying, so they alias the caller's buffer.
func (s *state) learn(nodeID int32, host string, port int32, rack *string) {
	b := Broker{NodeID: nodeID, Host: strings.Clone(host), Port: port}
	if rack != nil {
		r := strings.Clone(*rack)
		b.Rack = &r
	}
	s.seen = append(s.seen, b)
}

// replace points host and port at nodeID's endpoint on this listener. The
// upstream values are only compared, never kept, so nothing upstream can end
// up in the output. It reports false if the node is unreachable here.
func (s *state) replace(nodeID int32, host *string, port *int32) bool {
	h, p, ok := s.ep.Endpoint(nodeID)
	if !ok {
		return false
	}
	// Longer hosts cannot be encoded as a non-flexible Kafka string and
	// would silently corrupt the frame.
	if len(h) > math.MaxInt16 {
		if s.err == nil {
			s.err = fmt.Errorf("endpoint host of node %d is %d bytes long, longer than a Kafka string allows", nodeID, len(h))
		}
		return false
	}
	if *host != h || *port != p {
		*host, *port = h, p
		s.changed = true
	}
	return true
}

// brokerFields exposes the endpoint of one kmsg broker struct; each response
// type has its own.
type brokerFields[T any] func(*T) (nodeID int32, host *string, port *int32, rack *string)

// brokers rewrites a broker list in place. A broker ep cannot reach on this
// listener is removed: clients treat a leader or coordinator missing from the
// list as unknown and refresh metadata, the normal Kafka reaction, whereas
// any address kept for it would be an upstream one.
func brokers[T any](s *state, list []T, fields brokerFields[T], learn bool) []T {
	kept := list[:0]
	for i := range list {
		nodeID, host, port, rack := fields(&list[i])
		if learn {
			s.learn(nodeID, *host, *port, rack)
		}
		if s.replace(nodeID, host, port) {
			kept = append(kept, list[i])
		} else {
			s.changed = true
		}
	}
	return kept
}

// decodable is what every kmsg response implements.
type decodable interface {
	UnsafeReadFrom([]byte) error
	AppendTo([]byte) []byte
}

// decode reads body without copying strings: the message never outlives the
// call, and anything kept (seen brokers) is cloned.
func decode(msg decodable, body []byte) (err error) {
	// kmsg is generated code reading untrusted lengths; a panic in it
	// must cost one response, not the proxy.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: decoder panic: %v", ErrMalformed, p)
		}
	}()
	if err := msg.UnsafeReadFrom(body); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

// encode returns body when nothing changed, so the caller can skip building
// a new frame, and the re-encoded message otherwise.
func (s *state) encode(msg decodable, body, dst []byte) ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	if !s.changed {
		return body, nil
	}
	return msg.AppendTo(dst), nil
}
