package rewrite

import "github.com/twmb/franz-go/pkg/kmsg"

// coordinatorNotAvailable is COORDINATOR_NOT_AVAILABLE, retriable: clients
// ask again later, by which time the proxy may reach the coordinator.
const coordinatorNotAvailable int16 = 15

var coordinatorUnreachableMessage = "coordinator is not reachable through this proxy listener"

func (s *state) findCoordinator(version int16, body, dst []byte) ([]byte, error) {
	if err := scanFindCoordinator(version, body); err != nil {
		return nil, err
	}
	resp := kmsg.FindCoordinatorResponse{Version: version}
	if err := decode(&resp, body); err != nil {
		return nil, err
	}
	if version < 4 {
		// ErrorMessage is only encoded from v1; setting it for v0 is harmless.
		s.coordinator(&resp.ErrorCode, &resp.ErrorMessage, &resp.NodeID, &resp.Host, &resp.Port)
	} else {
		for i := range resp.Coordinators {
			c := &resp.Coordinators[i]
			s.coordinator(&c.ErrorCode, &c.ErrorMessage, &c.NodeID, &c.Host, &c.Port)
		}
	}
	return s.encode(&resp, body, dst)
}

// coordinator rewrites one coordinator answer. Unlike a broker list entry it
// cannot be dropped, so an unreachable coordinator becomes the retriable
// error Kafka itself returns while a coordinator is moving.
func (s *state) coordinator(errCode *int16, msg **string, nodeID *int32, host *string, port *int32) {
	if *errCode == 0 && *nodeID >= 0 {
		s.learn(*nodeID, *host, *port, nil)
		if s.replace(*nodeID, host, port) {
			return
		}
	}
	if *errCode == 0 {
		*errCode = coordinatorNotAvailable
		*msg = &coordinatorUnreachableMessage
		*nodeID = -1
		s.changed = true
	}
	// Kafka answers errors with host "" and port -1; anything else would be
	// an address the client cannot use and must not see.
	if *host != "" || *port != -1 {
		*host, *port = "", -1
		s.changed = true
	}
}
