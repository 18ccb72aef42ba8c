package rewrite

import "github.com/twmb/franz-go/pkg/kmsg"

// Produce and Fetch are the hot path: the scan alone settles the common case
// of a response without leader hints, which is returned as is. Only the
// rare response naming new leaders is decoded and re-encoded.

func (s *state) produce(version int16, body, dst []byte) ([]byte, error) {
	found, err := scanProduce(version, body)
	if err != nil || !found {
		return body, err
	}
	resp := kmsg.ProduceResponse{Version: version}
	if err := decode(&resp, body); err != nil {
		return nil, err
	}
	resp.Brokers = brokers(s, resp.Brokers, func(b *kmsg.ProduceResponseBroker) (int32, *string, *int32, *string) {
		return b.NodeID, &b.Host, &b.Port, b.Rack
	}, true)
	return s.encode(&resp, body, dst)
}

func (s *state) fetch(version int16, body, dst []byte) ([]byte, error) {
	found, err := scanFetch(version, body)
	if err != nil || !found {
		return body, err
	}
	resp := kmsg.FetchResponse{Version: version}
	if err := decode(&resp, body); err != nil {
		return nil, err
	}
	resp.Brokers = brokers(s, resp.Brokers, func(b *kmsg.FetchResponseBroker) (int32, *string, *int32, *string) {
		return b.NodeID, &b.Host, &b.Port, b.Rack
	}, true)
	return s.encode(&resp, body, dst)
}
