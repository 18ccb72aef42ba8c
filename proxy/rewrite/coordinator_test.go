package rewrite

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

type coord struct {
	key     string
	errCode int16
	msg     *string
	nodeID  int32
	host    string
	port    int32
}

func ok(key string, nodeID int32, a addr) coord {
	h, p := a(nodeID)
	return coord{key: key, nodeID: nodeID, host: h, port: p}
}

// failed is how Kafka answers an error: node -1, no address.
func failed(key string, errCode int16, msg *string) coord {
	return coord{key: key, errCode: errCode, msg: msg, nodeID: -1, port: -1}
}

var unreachable = &coordinatorUnreachableMessage

func findCoordinatorResp(v int16, cs ...coord) *kmsg.FindCoordinatorResponse {
	r := kmsg.NewPtrFindCoordinatorResponse()
	r.Version = v
	r.ThrottleMillis = 7
	if v < 4 {
		c := cs[0]
		r.ErrorCode, r.NodeID, r.Host, r.Port = c.errCode, c.nodeID, c.host, c.port
		if v >= 1 {
			r.ErrorMessage = c.msg
		}
		return r
	}
	for _, c := range cs {
		rc := kmsg.NewFindCoordinatorResponseCoordinator()
		rc.Key, rc.ErrorCode, rc.ErrorMessage = c.key, c.errCode, c.msg
		rc.NodeID, rc.Host, rc.Port = c.nodeID, c.host, c.port
		r.Coordinators = append(r.Coordinators, rc)
	}
	return r
}

func TestFindCoordinator(t *testing.T) {
	var cases []rewriteCase
	for _, v := range versions(0, 3) {
		cases = append(cases,
			rewriteCase{
				name:     "coordinator",
				upstream: findCoordinatorResp(v, ok("", 1, upstreamAddr)),
				want:     findCoordinatorResp(v, ok("", 1, listenerAddr)),
				seen:     seenFor(upstreamAddr, false, 1),
			},
			rewriteCase{
				name:     "error left alone",
				upstream: findCoordinatorResp(v, failed("", 15, nil)),
			},
			rewriteCase{
				name:     "unreachable coordinator becomes COORDINATOR_NOT_AVAILABLE",
				upstream: findCoordinatorResp(v, ok("", 3, upstreamAddr)),
				want:     findCoordinatorResp(v, failed("", coordinatorNotAvailable, unreachable)),
				seen:     seenFor(upstreamAddr, false, 3),
			},
			rewriteCase{
				name:     "error with an address loses the address",
				upstream: findCoordinatorResp(v, coord{errCode: 16, nodeID: 2, host: upstreamHost, port: upstreamPort}),
				want:     findCoordinatorResp(v, coord{errCode: 16, nodeID: 2, host: "", port: -1}),
			},
			rewriteCase{
				name:     "already listener endpoint",
				upstream: findCoordinatorResp(v, ok("", 2, listenerAddr)),
				seen:     seenFor(listenerAddr, false, 2),
			},
		)
	}
	for _, v := range versions(4, maxVersion(findCoordinatorKey)) {
		cases = append(cases,
			rewriteCase{
				name: "batched",
				upstream: findCoordinatorResp(v,
					ok("g1", 1, upstreamAddr),
					failed("g2", 15, strp("loading")),
					ok("g3", 3, upstreamAddr),
					ok("g4", 2, upstreamAddr),
				),
				want: findCoordinatorResp(v,
					ok("g1", 1, listenerAddr),
					failed("g2", 15, strp("loading")),
					failed("g3", coordinatorNotAvailable, unreachable),
					ok("g4", 2, listenerAddr),
				),
				seen: seenFor(upstreamAddr, false, 1, 3, 2),
			},
			rewriteCase{
				name:     "all errors",
				upstream: findCoordinatorResp(v, failed("g1", 15, nil), failed("g2", 14, strp("loading"))),
			},
			rewriteCase{
				name:     "no coordinators",
				upstream: findCoordinatorResp(v),
			},
		)
	}
	runCases(t, testEndpoints, cases)
}
