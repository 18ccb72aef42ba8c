package rewrite

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	upstreamHost = "10.0.0.1"
	upstreamPort = 9092
	listenerHost = "127.0.0.2"
)

// listener is a fake Endpoints: node n is at 127.0.0.2:20000+n, except for
// the nodes listed as unreachable.
type listener struct {
	unreachable map[int32]bool
}

func (l listener) Endpoint(nodeID int32) (string, int32, bool) {
	if nodeID < 0 || nodeID > 40000 || l.unreachable[nodeID] {
		return "", 0, false
	}
	return listenerHost, 20000 + nodeID, true
}

func strp(s string) *string { return &s }

// sameSlice reports whether a and b are the very same bytes, not just equal
// ones.
func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// assertNoUpstream fails if the upstream host or port appears anywhere in
// out. Test data is chosen so neither pattern can occur by accident.
func assertNoUpstream(t testing.TB, out []byte) {
	t.Helper()
	if bytes.Contains(out, []byte("10.0.0.")) {
		t.Errorf("output contains an upstream host: %q", out)
	}
	var port [4]byte
	binary.BigEndian.PutUint32(port[:], upstreamPort)
	if bytes.Contains(out, port[:]) {
		t.Errorf("output contains the upstream port")
	}
}

// endpoint is one broker endpoint found in a decoded response. coordinator
// marks FindCoordinator answers, which may legitimately carry an error.
type endpoint struct {
	nodeID      int32
	host        string
	port        int32
	errCode     int16
	coordinator bool
}

// endpointsOf decodes body and returns every broker endpoint in it.
func endpointsOf(key, version int16, body []byte) ([]endpoint, error) {
	resp := kmsg.ResponseForKey(key)
	if resp == nil {
		return nil, fmt.Errorf("unknown key %d", key)
	}
	resp.SetVersion(version)
	if err := resp.ReadFrom(body); err != nil {
		return nil, err
	}
	var eps []endpoint
	switch r := resp.(type) {
	case *kmsg.MetadataResponse:
		for _, b := range r.Brokers {
			eps = append(eps, endpoint{nodeID: b.NodeID, host: b.Host, port: b.Port})
		}
	case *kmsg.DescribeClusterResponse:
		for _, b := range r.Brokers {
			eps = append(eps, endpoint{nodeID: b.NodeID, host: b.Host, port: b.Port})
		}
	case *kmsg.ProduceResponse:
		for _, b := range r.Brokers {
			eps = append(eps, endpoint{nodeID: b.NodeID, host: b.Host, port: b.Port})
		}
	case *kmsg.FetchResponse:
		for _, b := range r.Brokers {
			eps = append(eps, endpoint{nodeID: b.NodeID, host: b.Host, port: b.Port})
		}
	case *kmsg.ShareFetchResponse:
		for _, b := range r.NodeEndpoints {
			eps = append(eps, endpoint{nodeID: b.NodeID, host: b.Host, port: b.Port})
		}
	case *kmsg.ShareAcknowledgeResponse:
		for _, b := range r.NodeEndpoints {
			eps = append(eps, endpoint{nodeID: b.NodeID, host: b.Host, port: b.Port})
		}
	case *kmsg.FindCoordinatorResponse:
		if version < 4 {
			eps = append(eps, endpoint{nodeID: r.NodeID, host: r.Host, port: r.Port, errCode: r.ErrorCode, coordinator: true})
		}
		for _, c := range r.Coordinators {
			eps = append(eps, endpoint{nodeID: c.NodeID, host: c.Host, port: c.Port, errCode: c.ErrorCode, coordinator: true})
		}
	}
	return eps, nil
}

// checkListenerOnly decodes out and fails unless every endpoint in it comes
// from ep (or is a FindCoordinator error answer without an address).
func checkListenerOnly(t testing.TB, key, version int16, out []byte, ep Endpoints) {
	t.Helper()
	eps, err := endpointsOf(key, version, out)
	if err != nil {
		t.Fatalf("output does not decode at v%d: %v", version, err)
	}
	for _, e := range eps {
		if e.coordinator && (e.errCode != 0 || e.nodeID < 0) {
			if e.host != "" || e.port != -1 {
				t.Errorf("coordinator error answer carries address %s:%d", e.host, e.port)
			}
			continue
		}
		h, p, ok := ep.Endpoint(e.nodeID)
		if !ok {
			t.Errorf("node %d is unreachable on the listener but still listed at %s:%d", e.nodeID, e.host, e.port)
			continue
		}
		if e.host != h || e.port != p {
			t.Errorf("node %d at %s:%d, want %s:%d", e.nodeID, e.host, e.port, h, p)
		}
	}
}

func versions(lo, hi int16) []int16 {
	var vs []int16
	for v := lo; v <= hi; v++ {
		vs = append(vs, v)
	}
	return vs
}

func maxVersion(key int16) int16 {
	return kmsg.ResponseForKey(key).MaxVersion()
}

func encode(msg kmsg.Response) []byte { return msg.AppendTo(nil) }

// addr gives a node's address: where the broker really is, or where the
// listener advertises it.
type addr func(nodeID int32) (string, int32)

func upstreamAddr(int32) (string, int32) { return upstreamHost, upstreamPort }

func listenerAddr(n int32) (string, int32) { return listenerHost, 20000 + n }

const rack = "rack-a"

// seenFor is what Response must report for nodes found at a. withRack is
// whether the response version carries racks.
func seenFor(a addr, withRack bool, nodes ...int32) []Broker {
	var bs []Broker
	for _, n := range nodes {
		h, p := a(n)
		b := Broker{NodeID: n, Host: h, Port: p}
		if withRack {
			b.Rack = strp(rack)
		}
		bs = append(bs, b)
	}
	return bs
}

// testEndpoints is the listener used by the table tests: node 3 cannot be
// reached on it.
var testEndpoints = listener{unreachable: map[int32]bool{3: true}}
