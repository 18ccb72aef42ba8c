package rewrite

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func shareFetchResp(v int16, a addr, nodes ...int32) *kmsg.ShareFetchResponse {
	r := kmsg.NewPtrShareFetchResponse()
	r.Version = v
	r.ThrottleMillis = 7
	r.AcquisitionLockTimeoutMillis = 30000
	t := kmsg.NewShareFetchResponseTopic()
	t.TopicID = topicID
	p := kmsg.NewShareFetchResponseTopicPartition()
	p.Partition, p.ErrorCode = 1, 6
	p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = 2, 9
	p.Records = records
	ar := kmsg.NewShareFetchResponseTopicPartitionAcquiredRecord()
	ar.FirstOffset, ar.LastOffset, ar.DeliveryCount = 10, 20, 1
	p.AcquiredRecords = append(p.AcquiredRecords, ar)
	t.Partitions = append(t.Partitions, p)
	r.Topics = append(r.Topics, t)
	for _, n := range nodes {
		b := kmsg.NewShareFetchResponseNodeEndpoint()
		b.NodeID = n
		b.Host, b.Port = a(n)
		b.Rack = strp(rack)
		r.NodeEndpoints = append(r.NodeEndpoints, b)
	}
	return r
}

func shareAcknowledgeResp(v int16, a addr, nodes ...int32) *kmsg.ShareAcknowledgeResponse {
	r := kmsg.NewPtrShareAcknowledgeResponse()
	r.Version = v
	r.ThrottleMillis = 7
	r.AcquisitionLockTimeoutMillis = 30000
	t := kmsg.NewShareAcknowledgeResponseTopic()
	t.TopicID = topicID
	p := kmsg.NewShareAcknowledgeResponseTopicPartition()
	p.Partition, p.ErrorCode, p.ErrorMessage = 1, 6, strp("not the leader")
	p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = 2, 9
	t.Partitions = append(t.Partitions, p)
	r.Topics = append(r.Topics, t)
	for _, n := range nodes {
		b := kmsg.NewShareAcknowledgeResponseNodeEndpoint()
		b.NodeID = n
		b.Host, b.Port = a(n)
		b.Rack = strp(rack)
		r.NodeEndpoints = append(r.NodeEndpoints, b)
	}
	return r
}

func TestShare(t *testing.T) {
	var cases []rewriteCase
	for _, v := range versions(0, maxVersion(shareFetchKey)) {
		cases = append(cases,
			rewriteCase{
				name:     "leader hints",
				upstream: shareFetchResp(v, upstreamAddr, 2, 3),
				want:     shareFetchResp(v, listenerAddr, 2),
				seen:     seenFor(upstreamAddr, true, 2, 3),
			},
			rewriteCase{
				name:     "no leader hints",
				upstream: shareFetchResp(v, upstreamAddr),
			},
		)
	}
	for _, v := range versions(0, maxVersion(shareAcknowledgeKey)) {
		cases = append(cases,
			rewriteCase{
				name:     "leader hints",
				upstream: shareAcknowledgeResp(v, upstreamAddr, 2, 3),
				want:     shareAcknowledgeResp(v, listenerAddr, 2),
				seen:     seenFor(upstreamAddr, true, 2, 3),
			},
			rewriteCase{
				name:     "no leader hints",
				upstream: shareAcknowledgeResp(v, upstreamAddr),
			},
		)
	}
	runCases(t, testEndpoints, cases)
}

// validResponses is one representative response per rewritten key and
// version, carrying upstream endpoints; it seeds the fuzzers and the
// malformed-input tests.
func validResponses() []kmsg.Response {
	var rs []kmsg.Response
	for _, v := range versions(0, maxVersion(metadataKey)) {
		rs = append(rs, metadataResp(v, upstreamAddr, 1, 2, 3))
	}
	for _, v := range versions(0, maxVersion(describeClusterKey)) {
		rs = append(rs, describeClusterResp(v, 1, upstreamAddr, 1, 2, 3))
	}
	for _, v := range versions(0, maxVersion(findCoordinatorKey)) {
		rs = append(rs, findCoordinatorResp(v, ok("g1", 1, upstreamAddr), failed("g2", 15, nil), ok("g3", 3, upstreamAddr)))
	}
	for _, v := range versions(0, maxVersion(produceKey)) {
		rs = append(rs, produceResp(v, upstreamAddr), produceResp(v, upstreamAddr, 2, 3))
	}
	for _, v := range versions(0, maxVersion(fetchKey)) {
		rs = append(rs, fetchResp(v, upstreamAddr), fetchResp(v, upstreamAddr, 2, 3))
	}
	for _, v := range versions(0, maxVersion(shareFetchKey)) {
		rs = append(rs, shareFetchResp(v, upstreamAddr, 2, 3))
	}
	for _, v := range versions(0, maxVersion(shareAcknowledgeKey)) {
		rs = append(rs, shareAcknowledgeResp(v, upstreamAddr, 2, 3))
	}
	return rs
}
