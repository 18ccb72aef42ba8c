package rewrite

import "github.com/twmb/franz-go/pkg/kmsg"

func (s *state) metadata(version int16, body, dst []byte) ([]byte, error) {
	if err := scanMetadata(version, body); err != nil {
		return nil, err
	}
	resp := kmsg.MetadataResponse{Version: version}
	if err := decode(&resp, body); err != nil {
		return nil, err
	}
	resp.Brokers = brokers(s, resp.Brokers, func(b *kmsg.MetadataResponseBroker) (int32, *string, *int32, *string) {
		return b.NodeID, &b.Host, &b.Port, b.Rack
	}, true)
	return s.encode(&resp, body, dst)
}

// describeClusterControllers is the DescribeCluster v1+ EndpointType asking
// for the KRaft controllers instead of the brokers.
const describeClusterControllers = 2

func (s *state) describeCluster(version int16, body, dst []byte) ([]byte, error) {
	if err := scanDescribeCluster(version, body); err != nil {
		return nil, err
	}
	resp := kmsg.DescribeClusterResponse{Version: version}
	if err := decode(&resp, body); err != nil {
		return nil, err
	}
	// Controllers are rewritten through ep like brokers, so no controller
	// address leaks either; a client reaching one of those endpoints lands
	// on the broker with that node id, if any. They are not reported as
	// seen: a controller listener is not a broker address, and in combined
	// mode the node id is shared with a broker whose address it would
	// overwrite.
	learn := version < 1 || resp.EndpointType != describeClusterControllers
	resp.Brokers = brokers(s, resp.Brokers, func(b *kmsg.DescribeClusterResponseBroker) (int32, *string, *int32, *string) {
		return b.NodeID, &b.Host, &b.Port, b.Rack
	}, learn)
	return s.encode(&resp, body, dst)
}
