package rewrite

import "github.com/twmb/franz-go/pkg/kmsg"

// ShareFetch and ShareAcknowledge carry NodeEndpoints for the CurrentLeader
// hints of their partitions, like KIP-951 does for Produce and Fetch.

func (s *state) shareFetch(version int16, body, dst []byte) ([]byte, error) {
	if err := scanShareFetch(version, body); err != nil {
		return nil, err
	}
	resp := kmsg.ShareFetchResponse{Version: version}
	if err := decode(&resp, body); err != nil {
		return nil, err
	}
	resp.NodeEndpoints = brokers(s, resp.NodeEndpoints, func(b *kmsg.ShareFetchResponseNodeEndpoint) (int32, *string, *int32, *string) {
		return b.NodeID, &b.Host, &b.Port, b.Rack
	}, true)
	return s.encode(&resp, body, dst)
}

func (s *state) shareAcknowledge(version int16, body, dst []byte) ([]byte, error) {
	if err := scanShareAcknowledge(version, body); err != nil {
		return nil, err
	}
	resp := kmsg.ShareAcknowledgeResponse{Version: version}
	if err := decode(&resp, body); err != nil {
		return nil, err
	}
	resp.NodeEndpoints = brokers(s, resp.NodeEndpoints, func(b *kmsg.ShareAcknowledgeResponseNodeEndpoint) (int32, *string, *int32, *string) {
		return b.NodeID, &b.Host, &b.Port, b.Rack
	}, true)
	return s.encode(&resp, body, dst)
}
