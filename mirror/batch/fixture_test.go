package batch

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The fixtures are real batches: produced by kgo into a kfake cluster and
// fetched back raw, so the tests see exactly what the engine will.

var testCodecs = []struct {
	name  string
	codec kgo.CompressionCodec
	id    int8
}{
	{"none", kgo.NoCompression(), CodecNone},
	{"gzip", kgo.GzipCompression(), CodecGzip},
	{"snappy", kgo.SnappyCompression(), CodecSnappy},
	{"lz4", kgo.Lz4Compression(), CodecLz4},
	{"zstd", kgo.ZstdCompression(), CodecZstd},
}

// groupSizes are the record counts of the produced batches, one batch each.
var groupSizes = []int{1, 8, 40}

type fixture struct {
	fetches map[string][][]byte // codec name → the Records bytes of each fetch
	batches map[string][][]byte // codec name → whole batches, in offset order
	txn     [][]byte            // a transactional data batch, then its commit marker
}

var loadFixture = sync.OnceValues(buildFixture)

func getFixture(tb testing.TB) *fixture {
	tb.Helper()
	f, err := loadFixture()
	if err != nil {
		tb.Fatalf("building fixture batches: %v", err)
	}
	return f
}

// testRecord returns the i-th test record of a group: null, empty and
// present keys, null values (tombstones), headers with null and empty
// values, and timestamps that go backwards now and then.
func testRecord(group, i int) *kgo.Record {
	r := &kgo.Record{
		Value:     bytes.Repeat(fmt.Appendf(nil, "value %d/%d ", group, i), 12),
		Timestamp: time.UnixMilli(1_700_000_000_000 + int64(group)*1000 + int64(i)*7 - int64(i%4)*20),
	}
	switch i % 4 {
	case 0: // null key
	case 1:
		r.Key = []byte{}
	default:
		r.Key = fmt.Appendf(nil, "key-%d", i)
	}
	if i%5 == 3 {
		r.Value = nil
	}
	switch i % 3 {
	case 1:
		r.Headers = []kgo.RecordHeader{{Key: "h", Value: nil}}
	case 2:
		r.Headers = []kgo.RecordHeader{{Key: "a", Value: []byte("x")}, {Key: "b", Value: []byte{}}}
	}
	return r
}

func buildFixture() (*fixture, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f := &fixture{fetches: map[string][][]byte{}, batches: map[string][][]byte{}}
	for _, c := range testCodecs {
		fetches, batches, err := produceAndFetch(ctx, c.name, false, kgo.ProducerBatchCompression(c.codec))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		f.fetches[c.name], f.batches[c.name] = fetches, batches
	}
	_, txn, err := produceAndFetch(ctx, "txn", true, kgo.TransactionalID("batch-test"))
	if err != nil {
		return nil, fmt.Errorf("transactional: %w", err)
	}
	f.txn = txn
	return f, nil
}

// produceAndFetch produces the groups (one batch each, by flushing after
// each group) to a fresh cluster and fetches the partition back raw.
func produceAndFetch(ctx context.Context, topic string, txn bool, opts ...kgo.Opt) ([][]byte, [][]byte, error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.DefaultProduceTopic(topic),
		kgo.ManualFlushing(),
	}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	defer cl.Close()

	groups := groupSizes
	if txn {
		groups = groups[1:2]
		if err := cl.BeginTransaction(); err != nil {
			return nil, nil, err
		}
	}
	for g, n := range groups {
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			first error
		)
		for i := range n {
			wg.Add(1)
			cl.Produce(ctx, testRecord(g, i), func(_ *kgo.Record, err error) {
				defer wg.Done()
				mu.Lock()
				defer mu.Unlock()
				if first == nil {
					first = err
				}
			})
		}
		if err := cl.Flush(ctx); err != nil {
			return nil, nil, err
		}
		wg.Wait()
		if first != nil {
			return nil, nil, first
		}
	}
	if txn {
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			return nil, nil, err
		}
	}
	return fetchAll(ctx, cl, topic)
}

// topicID looks up a topic's id, which Fetch v13+ names topics by.
func topicID(ctx context.Context, cl *kgo.Client, topic string) ([16]byte, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return [16]byte{}, err
	}
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 {
		return [16]byte{}, fmt.Errorf("metadata for %s: %+v", topic, resp.Topics)
	}
	return resp.Topics[0].TopicID, nil
}

// fetchAll fetches partition 0 of topic from offset 0 to its high
// watermark with raw Fetch requests, returning each response's Records
// bytes and the batches split out of them.
func fetchAll(ctx context.Context, cl *kgo.Client, topic string) (fetches, batches [][]byte, err error) {
	id, err := topicID(ctx, cl, topic)
	if err != nil {
		return nil, nil, err
	}
	var offset int64
	for {
		req := kmsg.NewPtrFetchRequest()
		req.MaxWaitMillis = 10
		req.MinBytes = 1
		req.MaxBytes = 1 << 20
		req.IsolationLevel = 0 // read_uncommitted: we want markers too
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = topic, id
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.FetchOffset = offset
		rp.PartitionMaxBytes = 1 << 20
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return nil, nil, err
		}
		if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return nil, nil, fmt.Errorf("unexpected fetch response: %+v", resp)
		}
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != 0 {
			return nil, nil, fmt.Errorf("fetch error code %d", p.ErrorCode)
		}
		if offset >= p.HighWatermark {
			return fetches, batches, nil
		}
		got, err := Split(p.RecordBatches)
		if err != nil {
			return nil, nil, err
		}
		if len(got) == 0 {
			return nil, nil, fmt.Errorf("fetch at %d below high watermark %d returned no batch", offset, p.HighWatermark)
		}
		fetches = append(fetches, p.RecordBatches)
		batches = append(batches, got...)
		h, _ := ParseHeader(got[len(got)-1])
		offset = h.LastOffset() + 1
	}
}

// kgoRecords decodes batch b with franz-go's own code (kmsg and kgo's
// decompressor), the independent reference the tests compare against.
func kgoRecords(tb testing.TB, b []byte) (kmsg.RecordBatch, []kmsg.Record) {
	tb.Helper()
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(b); err != nil {
		tb.Fatalf("kmsg cannot read batch: %v", err)
	}
	data, err := kgo.DefaultDecompressor().Decompress(rb.Records, kgo.CompressionCodecType(rb.Attributes&7))
	if err != nil {
		tb.Fatalf("kgo cannot decompress batch: %v", err)
	}
	recs := make([]kmsg.Record, 0, rb.NumRecords)
	for range rb.NumRecords {
		var r kmsg.Record
		length, n := readVarint(data)
		if n == 0 || int(length)+n > len(data) {
			tb.Fatalf("bad record framing")
		}
		if err := r.ReadFrom(data[:n+int(length)]); err != nil {
			tb.Fatalf("kmsg cannot read record: %v", err)
		}
		recs = append(recs, r)
		data = data[n+int(length):]
	}
	if len(data) != 0 {
		tb.Fatalf("%d bytes after the records", len(data))
	}
	return rb, recs
}

// absRecord is a record with its absolute offset and timestamp, which is
// what must survive splitting.
type absRecord struct {
	Offset, Timestamp int64
	Attrs             int8
	Key, Value        []byte
	Headers           []kmsg.Header
}

func absRecords(tb testing.TB, b []byte) []absRecord {
	tb.Helper()
	rb, recs := kgoRecords(tb, b)
	out := make([]absRecord, len(recs))
	for i, r := range recs {
		out[i] = absRecord{
			Offset:    rb.FirstOffset + int64(r.OffsetDelta),
			Timestamp: rb.FirstTimestamp + r.TimestampDelta64,
			Attrs:     r.Attributes,
			Key:       r.Key,
			Value:     r.Value,
			Headers:   r.Headers,
		}
	}
	return out
}

// produceRaw produces one batch to partition 0 of topic as it is, so the
// broker (kfake) validates what the package built.
func produceRaw(ctx context.Context, t testing.TB, cl *kgo.Client, topic string, id [16]byte, records []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.TopicID = topic, id
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0]
}
