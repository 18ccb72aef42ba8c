package rewrite

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// bigFetch is a ~1 MiB Fetch response: 4 topics of 4 partitions with 64 KiB
// of records each, plus the KIP-951 leader hints when nodes are given.
func bigFetch(v int16, nodes ...int32) []byte {
	r := kmsg.NewPtrFetchResponse()
	r.Version = v
	r.SessionID = 1
	batch := bytes.Repeat([]byte("r"), 64<<10)
	for ti := range 4 {
		t := kmsg.NewFetchResponseTopic()
		t.TopicID = [16]byte{byte(ti + 1)}
		for pi := range 4 {
			p := kmsg.NewFetchResponseTopicPartition()
			p.Partition, p.HighWatermark, p.LastStableOffset, p.LogStartOffset = int32(pi), 1e6, 1e6, 0
			p.RecordBatches = batch
			t.Partitions = append(t.Partitions, p)
		}
		r.Topics = append(r.Topics, t)
	}
	for _, n := range nodes {
		b := kmsg.NewFetchResponseBroker()
		b.NodeID, b.Host, b.Port = n, upstreamHost, upstreamPort
		r.Brokers = append(r.Brokers, b)
	}
	return r.AppendTo(nil)
}

func BenchmarkFetchNoEndpoints(b *testing.B) {
	v := maxVersion(fetchKey)
	body := bigFetch(v)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		out, _, err := Response(fetchKey, v, body, testEndpoints, nil)
		if err != nil || !sameSlice(out, body) {
			b.Fatal("fast path not taken")
		}
	}
}

func BenchmarkFetchWithEndpoints(b *testing.B) {
	v := maxVersion(fetchKey)
	body := bigFetch(v, 1, 2)
	dst := make([]byte, 0, 2*len(body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		out, _, err := Response(fetchKey, v, body, testEndpoints, dst[:0])
		if err != nil || sameSlice(out, body) {
			b.Fatal("no rewrite")
		}
	}
}

func BenchmarkProduceNoEndpoints(b *testing.B) {
	v := maxVersion(produceKey)
	r := kmsg.NewPtrProduceResponse()
	r.Version = v
	for ti := range 4 {
		t := kmsg.NewProduceResponseTopic()
		t.TopicID = [16]byte{byte(ti + 1)}
		for pi := range 4 {
			p := kmsg.NewProduceResponseTopicPartition()
			p.Partition, p.BaseOffset = int32(pi), 1e6
			t.Partitions = append(t.Partitions, p)
		}
		r.Topics = append(r.Topics, t)
	}
	body := r.AppendTo(nil)
	b.ReportAllocs()
	for b.Loop() {
		out, _, err := Response(produceKey, v, body, testEndpoints, nil)
		if err != nil || !sameSlice(out, body) {
			b.Fatal("fast path not taken")
		}
	}
}

func BenchmarkMetadata(b *testing.B) {
	v := maxVersion(metadataKey)
	r := metadataResp(v, upstreamAddr, 1, 2, 4, 5, 6, 7)
	for i := range 50 {
		t := r.Topics[0]
		t.Topic = strp(fmt.Sprintf("topic-%d", i))
		r.Topics = append(r.Topics, t)
	}
	body := r.AppendTo(nil)
	dst := make([]byte, 0, 2*len(body))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Response(metadataKey, v, body, testEndpoints, dst[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
