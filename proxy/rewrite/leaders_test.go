package rewrite

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

var topicID = [16]byte{0xaa, 0xbb, 0xcc, 0xdd, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

func produceResp(v int16, a addr, nodes ...int32) *kmsg.ProduceResponse {
	r := kmsg.NewPtrProduceResponse()
	r.Version = v
	r.ThrottleMillis = 7
	t := kmsg.NewProduceResponseTopic()
	t.Topic = "orders"
	if v >= 13 {
		t.Topic, t.TopicID = "", topicID
	}
	p0 := kmsg.NewProduceResponseTopicPartition()
	p0.Partition, p0.BaseOffset, p0.LogAppendTime, p0.LogStartOffset = 0, 1234, 5678, 12
	p1 := kmsg.NewProduceResponseTopicPartition()
	p1.Partition, p1.ErrorCode = 1, 6 // NOT_LEADER_OR_FOLLOWER
	if v >= 8 {
		e := kmsg.NewProduceResponseTopicPartitionErrorRecord()
		e.RelativeOffset, e.ErrorMessage = 3, strp("bad record")
		p1.ErrorRecords = append(p1.ErrorRecords, e)
		p1.ErrorMessage = strp("not the leader")
	}
	if v >= 10 {
		p1.CurrentLeader.LeaderID, p1.CurrentLeader.LeaderEpoch = 2, 9
	}
	t.Partitions = append(t.Partitions, p0, p1)
	r.Topics = append(r.Topics, t)
	for _, n := range nodes {
		b := kmsg.NewProduceResponseBroker()
		b.NodeID = n
		b.Host, b.Port = a(n)
		b.Rack = strp(rack)
		r.Brokers = append(r.Brokers, b)
	}
	return r
}

func TestProduce(t *testing.T) {
	var cases []rewriteCase
	for _, v := range versions(0, 9) {
		cases = append(cases, rewriteCase{
			name:     "no endpoints in this version",
			upstream: produceResp(v, upstreamAddr),
		})
	}
	for _, v := range versions(10, maxVersion(produceKey)) {
		cases = append(cases,
			rewriteCase{
				name:     "leader hints",
				upstream: produceResp(v, upstreamAddr, 2, 3),
				want:     produceResp(v, listenerAddr, 2),
				seen:     seenFor(upstreamAddr, true, 2, 3),
			},
			rewriteCase{
				name:     "no leader hints",
				upstream: produceResp(v, upstreamAddr),
			},
			rewriteCase{
				name:     "already listener endpoints",
				upstream: produceResp(v, listenerAddr, 1, 2),
				seen:     seenFor(listenerAddr, true, 1, 2),
			},
		)
	}
	runCases(t, testEndpoints, cases)
}

var records = bytes.Repeat([]byte("x"), 300)

func fetchResp(v int16, a addr, nodes ...int32) *kmsg.FetchResponse {
	r := kmsg.NewPtrFetchResponse()
	r.Version = v
	r.ThrottleMillis = 7
	r.SessionID = 99
	t := kmsg.NewFetchResponseTopic()
	t.Topic = "orders"
	if v >= 13 {
		t.Topic, t.TopicID = "", topicID
	}
	p0 := kmsg.NewFetchResponseTopicPartition()
	p0.Partition, p0.HighWatermark, p0.LastStableOffset, p0.LogStartOffset = 0, 1000, 990, 10
	p0.RecordBatches = records
	if v >= 4 {
		at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
		at.ProducerID, at.FirstOffset = 77, 900
		p0.AbortedTransactions = append(p0.AbortedTransactions, at)
	}
	if v >= 11 {
		p0.PreferredReadReplica = 1
	}
	p1 := kmsg.NewFetchResponseTopicPartition()
	p1.Partition, p1.ErrorCode = 1, 6 // NOT_LEADER_OR_FOLLOWER
	if v >= 12 {
		p1.CurrentLeader.LeaderID, p1.CurrentLeader.LeaderEpoch = 2, 9
		p1.DivergingEpoch.Epoch, p1.DivergingEpoch.EndOffset = 8, 800
		p1.SnapshotID.Epoch, p1.SnapshotID.EndOffset = 7, 700
	}
	t.Partitions = append(t.Partitions, p0, p1)
	r.Topics = append(r.Topics, t)
	for _, n := range nodes {
		b := kmsg.NewFetchResponseBroker()
		b.NodeID = n
		b.Host, b.Port = a(n)
		b.Rack = strp(rack)
		r.Brokers = append(r.Brokers, b)
	}
	return r
}

func TestFetch(t *testing.T) {
	var cases []rewriteCase
	for _, v := range versions(0, 15) {
		cases = append(cases, rewriteCase{
			name:     "no endpoints in this version",
			upstream: fetchResp(v, upstreamAddr),
		})
	}
	for _, v := range versions(16, maxVersion(fetchKey)) {
		cases = append(cases,
			rewriteCase{
				name:     "leader hints",
				upstream: fetchResp(v, upstreamAddr, 2, 3),
				want:     fetchResp(v, listenerAddr, 2),
				seen:     seenFor(upstreamAddr, true, 2, 3),
			},
			rewriteCase{
				name:     "no leader hints",
				upstream: fetchResp(v, upstreamAddr),
			},
			rewriteCase{
				name:     "already listener endpoints",
				upstream: fetchResp(v, listenerAddr, 1, 2),
				seen:     seenFor(listenerAddr, true, 1, 2),
			},
		)
	}
	runCases(t, testEndpoints, cases)
}

// The records of a rewritten fetch must be byte for byte those the broker
// sent.
func TestFetchKeepsRecords(t *testing.T) {
	v := maxVersion(fetchKey)
	out, _, err := Response(fetchKey, v, encode(fetchResp(v, upstreamAddr, 1)), testEndpoints, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := kmsg.NewPtrFetchResponse()
	got.Version = v
	if err := got.ReadFrom(out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Topics[0].Partitions[0].RecordBatches, records) {
		t.Fatal("records changed")
	}
	if got.Topics[0].Partitions[1].CurrentLeader.LeaderID != 2 {
		t.Fatal("current leader lost")
	}
}
