package rewrite

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func metadataResp(v int16, a addr, nodes ...int32) *kmsg.MetadataResponse {
	r := kmsg.NewPtrMetadataResponse()
	r.Version = v
	r.ThrottleMillis = 7
	r.ClusterID = strp("cluster-a")
	r.ControllerID = 2
	r.AuthorizedOperations = 11
	for _, n := range nodes {
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID = n
		b.Host, b.Port = a(n)
		b.Rack = strp(rack)
		r.Brokers = append(r.Brokers, b)
	}
	t := kmsg.NewMetadataResponseTopic()
	t.Topic = strp("orders")
	t.TopicID = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	t.IsInternal = false
	t.AuthorizedOperations = 33
	for i, leader := range []int32{1, 3} {
		p := kmsg.NewMetadataResponseTopicPartition()
		p.Partition = int32(i)
		p.Leader = leader
		p.LeaderEpoch = 5
		p.Replicas = []int32{1, 2, 3}
		p.ISR = []int32{leader}
		p.OfflineReplicas = []int32{}
		t.Partitions = append(t.Partitions, p)
	}
	r.Topics = append(r.Topics, t)
	return r
}

func TestMetadata(t *testing.T) {
	var cases []rewriteCase
	for _, v := range versions(0, maxVersion(metadataKey)) {
		racks := v >= 1
		cases = append(cases,
			rewriteCase{
				name:     "rewrite and drop unreachable",
				upstream: metadataResp(v, upstreamAddr, 1, 2, 3),
				want:     metadataResp(v, listenerAddr, 1, 2),
				seen:     seenFor(upstreamAddr, racks, 1, 2, 3),
			},
			rewriteCase{
				name:     "already listener endpoints",
				upstream: metadataResp(v, listenerAddr, 1, 2),
				seen:     seenFor(listenerAddr, racks, 1, 2),
			},
			rewriteCase{
				name:     "no brokers",
				upstream: metadataResp(v, upstreamAddr),
			},
		)
	}
	runCases(t, testEndpoints, cases)
}

func describeClusterResp(v int16, endpointType int8, a addr, nodes ...int32) *kmsg.DescribeClusterResponse {
	r := kmsg.NewPtrDescribeClusterResponse()
	r.Version = v
	r.ThrottleMillis = 7
	r.ErrorMessage = strp("fine")
	r.EndpointType = endpointType
	r.ClusterID = "cluster-a"
	r.ControllerID = 2
	r.ClusterAuthorizedOperations = 44
	for _, n := range nodes {
		b := kmsg.NewDescribeClusterResponseBroker()
		b.NodeID = n
		b.Host, b.Port = a(n)
		b.Rack = strp(rack)
		b.IsFenced = n == 2
		r.Brokers = append(r.Brokers, b)
	}
	return r
}

func TestDescribeCluster(t *testing.T) {
	var cases []rewriteCase
	for _, v := range versions(0, maxVersion(describeClusterKey)) {
		cases = append(cases,
			rewriteCase{
				name:     "brokers",
				upstream: describeClusterResp(v, 1, upstreamAddr, 1, 2, 3),
				want:     describeClusterResp(v, 1, listenerAddr, 1, 2),
				seen:     seenFor(upstreamAddr, true, 1, 2, 3),
			},
			rewriteCase{
				name:     "already listener endpoints",
				upstream: describeClusterResp(v, 1, listenerAddr, 1, 2),
				seen:     seenFor(listenerAddr, true, 1, 2),
			},
		)
		if v >= 1 {
			// Controllers are mapped like brokers but never learnt.
			cases = append(cases, rewriteCase{
				name:     "controllers",
				upstream: describeClusterResp(v, describeClusterControllers, upstreamAddr, 1, 2, 3),
				want:     describeClusterResp(v, describeClusterControllers, listenerAddr, 1, 2),
			})
		}
	}
	runCases(t, testEndpoints, cases)
}
