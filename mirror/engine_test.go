package mirror

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/mirror/batch"
	"github.com/linkproxy/linkproxy/mirror/fill"
	"github.com/linkproxy/linkproxy/mirror/internal/partlog"
)

// kfakeDestinationConfigs drops the Apache Kafka 3.6+ timestamp limits,
// which kfake refuses as unknown topic configs.
func kfakeDestinationConfigs() map[string]string {
	c := DefaultDestinationConfigs()
	delete(c, "message.timestamp.before.max.ms")
	delete(c, "message.timestamp.after.max.ms")
	return c
}

type pair struct {
	src, dst     *kfake.Cluster
	srcCl, dstCl *kgo.Client
}

func (p *pair) seeds(cl *kgo.Client) []string {
	if cl == p.srcCl {
		return p.src.ListenAddrs()
	}
	return p.dst.ListenAddrs()
}

func newPair(t *testing.T, topic string, partitions int32) *pair {
	t.Helper()
	p := &pair{}
	var err error
	if p.src, err = kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(partitions, topic)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.src.Close)
	if p.dst, err = kfake.NewCluster(kfake.NumBrokers(3)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.dst.Close)
	for _, c := range []struct {
		cl **kgo.Client
		fk *kfake.Cluster
	}{{&p.srcCl, p.src}, {&p.dstCl, p.dst}} {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.fk.ListenAddrs()...))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		*c.cl = cl
	}
	return p
}

// mirror runs an engine from src topic to dst "mirror-"+topic until every
// partition's mirror reaches the source's log end, then stops it.
func (p *pair) mirror(t *testing.T, topic string) *Engine {
	return p.mirrorUntil(t, topic, func() {})
}

// mirrorUntil is mirror, calling during() once the engine runs.
func (p *pair) mirrorUntil(t *testing.T, topic string, during func()) *Engine {
	return p.mirrorFrom(t, topic, StartEarliest, during)
}

// mirrorFrom is mirrorUntil for a new mirror starting at startAt.
func (p *pair) mirrorFrom(t *testing.T, topic string, startAt int64, during func(), opts ...func(*Config)) *Engine {
	t.Helper()
	cfg := Config{
		Source: p.srcCl, Destination: p.dstCl,
		SourceTopic: topic, DestinationTopic: "mirror-" + topic,
		StartAt: startAt, TransactionalID: "test-fill-" + topic,
		DestinationConfigs: kfakeDestinationConfigs(), MaxWait: 50 * time.Millisecond,
		PartitionCheck: 100 * time.Millisecond,
		Log:            hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: testLog{t}}),
	}
	for _, o := range opts {
		o(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}()
	during()
	ends := p.ends(t, p.srcCl, topic)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if f := e.Failures(); len(f) > 0 {
			t.Fatalf("partitions failed: %v", f)
		}
		next, caught := e.Next(), true
		for part, end := range ends {
			if next[part] < end {
				caught = false
			}
		}
		if caught && len(next) == len(ends) {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("mirror at %v, source ends %v", next, ends)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *pair) ends(t *testing.T, cl *kgo.Client, topic string) map[int32]int64 {
	t.Helper()
	// After a leader move the client's metadata may be stale for a
	// moment: partitions answer NOT_LEADER until it refreshes.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		offs, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topic)
		if err != nil {
			t.Fatal(err)
		}
		out, perr := map[int32]int64{}, error(nil)
		offs.Each(func(o kadm.ListedOffset) {
			out[o.Partition] = o.Offset
			if o.Err != nil {
				perr = o.Err
			}
		})
		if perr == nil {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("end offsets of %s: %v", topic, perr)
		}
	}
}

// records reads a whole topic read_committed, by partition.
func records(t *testing.T, seeds []string, topic string, ends map[int32]int64) map[int32][]*kgo.Record {
	t.Helper()
	offsets := map[int32]kgo.Offset{}
	for part := range ends {
		offsets[part] = kgo.NewOffset().AtStart()
	}
	c, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := map[int32][]*kgo.Record{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	starts, err := kadm.NewClient(c).ListStartOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	for {
		done := true
		for part, end := range ends {
			start, _ := starts.Lookup(topic, part)
			if n := len(out[part]); start.Offset < end && (n == 0 || out[part][n-1].Offset < end-1) {
				done = false
			}
		}
		if done {
			return out
		}
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			return out // transaction markers and filler end some logs without a record
		}
		fs.EachRecord(func(r *kgo.Record) { out[r.Partition] = append(out[r.Partition], r) })
	}
}

// sameRecords compares offsets, keys, values, headers and timestamps.
func sameRecords(t *testing.T, src, dst map[int32][]*kgo.Record) {
	t.Helper()
	for part, rs := range src {
		ds := dst[part]
		if len(ds) != len(rs) {
			t.Errorf("partition %d: %d records on the source, %d on the mirror", part, len(rs), len(ds))
			continue
		}
		for i, r := range rs {
			d := ds[i]
			if r.Offset != d.Offset || !bytes.Equal(r.Key, d.Key) || !bytes.Equal(r.Value, d.Value) ||
				!r.Timestamp.Equal(d.Timestamp) || fmt.Sprint(r.Headers) != fmt.Sprint(d.Headers) {
				t.Errorf("partition %d record %d: source %d %q/%q %v, mirror %d %q/%q %v", part, i,
					r.Offset, r.Key, r.Value, r.Timestamp, d.Offset, d.Key, d.Value, d.Timestamp)
				return
			}
		}
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// rawBatches fetches every batch of topic/partition, read_uncommitted.
func rawBatches(t *testing.T, cl *kgo.Client, topic string, part int32, end int64) [][]byte {
	t.Helper()
	pl := partlog.New(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out [][]byte
	next := int64(0)
	for next < end {
		// Fresh leaders every time: tests move them.
		if _, err := pl.Topic(ctx, topic, true); err != nil {
			t.Fatal(err)
		}
		sp, err := pl.Fetch(ctx, topic, part, next, -1, false, 0) // no divergence checks when reading back
		if err != nil {
			t.Fatal(err)
		}
		if sp.ErrorCode == kerr.OffsetOutOfRange.Code {
			next = sp.LogStartOffset
			continue
		}
		bs, err := batch.Split(sp.RecordBatches)
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) == 0 {
			t.Fatalf("no batches at %d of %d", next, end)
		}
		for _, b := range bs {
			h, _ := batch.ParseHeader(b)
			if h.LastOffset() >= next {
				out = append(out, b)
				next = h.LastOffset() + 1
			}
		}
	}
	return out
}

// samePayloads checks that every source data batch stands on the mirror
// at the same offset with byte-identical records (still compressed).
func samePayloads(t *testing.T, p *pair, topic string, ends map[int32]int64) {
	t.Helper()
	for part, end := range ends {
		start, err := partlog.New(p.dstCl).ListOffset(context.Background(), "mirror-"+topic, part, partlog.Earliest, false)
		if err != nil {
			t.Fatal(err)
		}
		dst := map[int64][]byte{}
		for _, b := range rawBatches(t, p.dstCl, "mirror-"+topic, part, end) {
			h, _ := batch.ParseHeader(b)
			dst[h.BaseOffset] = b
		}
		for _, b := range rawBatches(t, p.srcCl, topic, part, end) {
			h, _ := batch.ParseHeader(b)
			// Markers and aborted data are filler; a batch straddling the
			// log start is re-encoded without its records below it.
			if h.Control() || h.Transactional() || h.BaseOffset < start {
				continue
			}
			d, ok := dst[h.BaseOffset]
			if !ok {
				t.Errorf("partition %d: no mirror batch at %d", part, h.BaseOffset)
				continue
			}
			dh, _ := batch.ParseHeader(d)
			if dh.LastOffsetDelta != h.LastOffsetDelta || dh.Codec() != h.Codec() || !bytes.Equal(d[batchHeaderLen:], b[batchHeaderLen:]) {
				t.Errorf("partition %d batch %d: payload differs (codec %d vs %d)", part, h.BaseOffset, h.Codec(), dh.Codec())
			}
		}
	}
}

// batchHeaderLen is the v2 record batch header: what the engine rewrites.
const batchHeaderLen = 61

func produce(t *testing.T, p *pair, topic string, n int, opts ...kgo.Opt) {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(p.src.ListenAddrs()...), kgo.DefaultProduceTopic(topic)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	base := time.Now().Add(-48 * time.Hour) // old timestamps must survive
	for i := range n {
		r := &kgo.Record{
			Key: []byte(fmt.Sprintf("k%d", i%17)), Value: bytes.Repeat([]byte(fmt.Sprintf("v%d ", i)), 20),
			Headers:   []kgo.RecordHeader{{Key: "h", Value: []byte(fmt.Sprint(i))}},
			Timestamp: base.Add(time.Duration(i) * time.Millisecond),
		}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestMirrorCodecs(t *testing.T) {
	codecs := []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"none", kgo.NoCompression()}, {"gzip", kgo.GzipCompression()}, {"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()}, {"zstd", kgo.ZstdCompression()},
	}
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			topic := "codec-" + c.name
			p := newPair(t, topic, 3)
			produce(t, p, topic, 600, kgo.ProducerBatchCompression(c.codec), kgo.ProducerLinger(5*time.Millisecond))
			p.mirror(t, topic)
			ends := p.ends(t, p.srcCl, topic)
			if got := p.ends(t, p.dstCl, "mirror-"+topic); fmt.Sprint(got) != fmt.Sprint(ends) {
				t.Fatalf("mirror ends %v, source %v", got, ends)
			}
			sameRecords(t, records(t, p.seeds(p.srcCl), topic, ends), records(t, p.seeds(p.dstCl), "mirror-"+topic, ends))
			samePayloads(t, p, topic, ends)
		})
	}
}

// TestMirrorTrimmedSource starts mirroring a source whose log start moved:
// the mirror gets the same log start and offsets.
func TestMirrorTrimmedSource(t *testing.T) {
	const topic = "trimmed"
	p := newPair(t, topic, 1)
	produce(t, p, topic, 300)
	if err := partlog.New(p.srcCl).DeleteRecords(context.Background(), topic, 0, 123); err != nil {
		t.Fatal(err)
	}
	p.mirror(t, topic)
	start, err := partlog.New(p.dstCl).ListOffset(context.Background(), "mirror-"+topic, 0, partlog.Earliest, false)
	if err != nil || start != 123 {
		t.Fatalf("mirror log start %d (%v), want 123", start, err)
	}
	ends := p.ends(t, p.srcCl, topic)
	sameRecords(t, records(t, p.seeds(p.srcCl), topic, ends), records(t, p.seeds(p.dstCl), "mirror-"+topic, ends))
	samePayloads(t, p, topic, ends)
}

// TestMirrorTransactions mirrors committed, aborted and interleaved
// transactions from several producers: read_committed consumers of the
// mirror see exactly what those of the source see, at the same offsets.
func TestMirrorTransactions(t *testing.T) {
	const topic = "txns"
	p := newPair(t, topic, 2)
	ctx := context.Background()
	var txs []*kgo.Client
	for i := range 3 {
		cl, err := kgo.NewClient(kgo.SeedBrokers(p.src.ListenAddrs()...), kgo.DefaultProduceTopic(topic),
			kgo.TransactionalID(fmt.Sprintf("tx-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		txs = append(txs, cl)
	}
	for round := range 6 {
		for i, cl := range txs {
			if err := cl.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			for j := range 5 {
				r := kgo.StringRecord(fmt.Sprintf("round %d producer %d record %d", round, i, j))
				if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i, cl := range txs { // interleaved: all open, then each ends
			commit := kgo.TransactionEndTry((round+i)%3 != 0)
			if err := cl.EndTransaction(ctx, commit); err != nil {
				t.Fatal(err)
			}
		}
		produce(t, p, topic, 7) // plain records between transactions
	}
	p.mirror(t, topic)
	ends := p.ends(t, p.srcCl, topic)
	if got := p.ends(t, p.dstCl, "mirror-"+topic); fmt.Sprint(got) != fmt.Sprint(ends) {
		t.Fatalf("mirror ends %v, source %v", got, ends)
	}
	src := records(t, p.seeds(p.srcCl), topic, ends)
	dst := records(t, p.seeds(p.dstCl), "mirror-"+topic, ends)
	if len(src[0])+len(src[1]) == 0 {
		t.Fatal("no committed records to compare")
	}
	sameRecords(t, src, dst)
}

// TestMirrorRestartResumesProducer stops an engine and starts another on
// the same mirror: it continues from the log end with the first engine's
// producer id, epoch and sequence, so a late request of the first would be
// refused as a duplicate.
func TestMirrorRestartResumesProducer(t *testing.T) {
	const topic = "restart"
	p := newPair(t, topic, 2)
	produce(t, p, topic, 200)
	p.mirror(t, topic)
	first := producers(t, p, "mirror-"+topic)
	produce(t, p, topic, 200)
	p.mirror(t, topic)
	both := producers(t, p, "mirror-"+topic)
	if len(first) != 1 || len(both) != 1 {
		t.Fatalf("mirror written by producers %v, then %v; want one throughout", first, both)
	}
	ends := p.ends(t, p.srcCl, topic)
	sameRecords(t, records(t, p.seeds(p.srcCl), topic, ends), records(t, p.seeds(p.dstCl), "mirror-"+topic, ends))
	samePayloads(t, p, topic, ends)
}

// producers lists the idempotent producer ids of a topic's data batches.
func producers(t *testing.T, p *pair, topic string) map[int64]bool {
	t.Helper()
	out := map[int64]bool{}
	for part, end := range p.ends(t, p.dstCl, topic) {
		for _, b := range rawBatches(t, p.dstCl, topic, part, end) {
			if h, _ := batch.ParseHeader(b); !h.Control() && !h.Transactional() {
				out[h.ProducerID] = true
			}
		}
	}
	return out
}

// TestMirrorPartitionsAdded adds partitions to the source while the engine
// runs: the mirror grows and copies them too.
func TestMirrorPartitionsAdded(t *testing.T) {
	const topic = "growing"
	p := newPair(t, topic, 2)
	produce(t, p, topic, 100)
	p.mirrorUntil(t, topic, func() {
		time.Sleep(200 * time.Millisecond)
		if _, err := kadm.NewClient(p.srcCl).CreatePartitions(context.Background(), 2, topic); err != nil {
			t.Fatal(err)
		}
		produce(t, p, topic, 300)
		// Wait for the engine to see the new partitions, so that the
		// caught-up check below includes them.
		deadline := time.Now().Add(10 * time.Second)
		for len(p.ends(t, p.dstCl, "mirror-"+topic)) < 4 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	})
	ends := p.ends(t, p.srcCl, topic)
	if len(ends) != 4 || ends[3] == 0 {
		t.Fatalf("source ends %v: the new partitions got no data", ends)
	}
	if got := p.ends(t, p.dstCl, "mirror-"+topic); fmt.Sprint(got) != fmt.Sprint(ends) {
		t.Fatalf("mirror ends %v, source %v", got, ends)
	}
	sameRecords(t, records(t, p.seeds(p.srcCl), topic, ends), records(t, p.seeds(p.dstCl), "mirror-"+topic, ends))
}

// TestMirrorCompactedSource mirrors a compacted source: holes between
// batches (whole batches cleaned away) and inside them (records removed,
// offsets kept) are filled, so every surviving record keeps its offset.
func TestMirrorCompactedSource(t *testing.T) {
	const topic = "compacted"
	p := newPair(t, "unused", 1)
	ctx := context.Background()
	compact := "compact"
	if _, err := kadm.NewClient(p.srcCl).CreateTopic(ctx, 2, -1, map[string]*string{"cleanup.policy": &compact}, topic); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.src.ListenAddrs()...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(kgo.ZstdCompression()), kgo.ProducerLinger(2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for round := range 8 {
		for i := range 60 {
			key := fmt.Sprintf("k%d", (i*7+round)%23) // repeated keys across and within batches
			cl.Produce(ctx, &kgo.Record{Key: []byte(key), Value: []byte(fmt.Sprintf("round %d value %d", round, i))}, nil)
		}
		if err := cl.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	p.src.Compact()
	holes := 0
	ends := p.ends(t, p.srcCl, topic)
	for part, end := range ends {
		next := int64(0)
		for _, b := range rawBatches(t, p.srcCl, topic, part, end) {
			h, _ := batch.ParseHeader(b)
			if h.BaseOffset > next || h.HasHoles() {
				holes++
			}
			next = h.LastOffset() + 1
		}
	}
	if holes == 0 {
		t.Fatal("compaction left no holes; the test proves nothing")
	}
	p.mirror(t, topic)
	if got := p.ends(t, p.dstCl, "mirror-"+topic); fmt.Sprint(got) != fmt.Sprint(ends) {
		t.Fatalf("mirror ends %v, source %v", got, ends)
	}
	sameRecords(t, records(t, p.seeds(p.srcCl), topic, ends), records(t, p.seeds(p.dstCl), "mirror-"+topic, ends))
}

// TestMirrorLeaderMoves moves partition leaders on both clusters while the
// engine copies.
func TestMirrorLeaderMoves(t *testing.T) {
	const topic = "moving"
	p := newPair(t, topic, 3)
	produce(t, p, topic, 500)
	p.mirrorUntil(t, topic, func() {
		for deadline := time.Now().Add(10 * time.Second); len(p.ends(t, p.dstCl, "mirror-"+topic)) < 3; {
			if time.Now().After(deadline) {
				t.Fatal("mirror topic not created")
			}
			time.Sleep(10 * time.Millisecond)
		}
		for i := range 6 {
			part := int32(i % 3)
			for _, c := range []struct {
				fk    *kfake.Cluster
				topic string
			}{{p.src, topic}, {p.dst, "mirror-" + topic}} {
				if err := c.fk.MoveTopicPartition(c.topic, part, (c.fk.LeaderFor(c.topic, part)+1)%3); err != nil {
					t.Errorf("move %s/%d: %v", c.topic, part, err)
				}
			}
			produce(t, p, topic, 100)
			time.Sleep(20 * time.Millisecond)
		}
	})
	ends := p.ends(t, p.srcCl, topic)
	if got := p.ends(t, p.dstCl, "mirror-"+topic); fmt.Sprint(got) != fmt.Sprint(ends) {
		t.Fatalf("mirror ends %v, source %v", got, ends)
	}
	sameRecords(t, records(t, p.seeds(p.srcCl), topic, ends), records(t, p.seeds(p.dstCl), "mirror-"+topic, ends))
	samePayloads(t, p, topic, ends)
}

// TestMirrorDivergence writes to the mirror topic behind the engine's
// back: the next engine stops that partition with DIVERGED instead of
// writing after the foreign record.
func TestMirrorDivergence(t *testing.T) {
	const topic = "diverge"
	p := newPair(t, topic, 1)
	produce(t, p, topic, 50)
	p.mirror(t, topic)
	intruder, err := kgo.NewClient(kgo.SeedBrokers(p.dst.ListenAddrs()...), kgo.DefaultProduceTopic("mirror-"+topic))
	if err != nil {
		t.Fatal(err)
	}
	defer intruder.Close()
	if err := intruder.ProduceSync(context.Background(), kgo.StringRecord("not from the source")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	produce(t, p, topic, 50)

	e, err := New(Config{
		Source: p.srcCl, Destination: p.dstCl, SourceTopic: topic, DestinationTopic: "mirror-" + topic,
		TransactionalID: "test-fill-" + topic, DestinationConfigs: kfakeDestinationConfigs(), MaxWait: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go e.Run(ctx)
	for ctx.Err() == nil {
		if err := e.Failures()[0]; err != nil {
			if !strings.Contains(err.Error(), "DIVERGED") {
				t.Fatalf("partition stopped with %v, want DIVERGED", err)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the engine did not notice the foreign write")
}

// TestMirrorStartAt starts new mirrors at the source's end and at a
// timestamp: the mirror's log starts there, at the source's offsets.
func TestMirrorStartAt(t *testing.T) {
	const topic = "start"
	p := newPair(t, topic, 1)
	produce(t, p, topic, 100) // timestamps 48h ago + i ms
	ctx := context.Background()
	ts40 := records(t, p.seeds(p.srcCl), topic, map[int32]int64{0: 100})[0][40].Timestamp.UnixMilli()
	for _, tt := range []struct {
		name      string
		startAt   int64
		wantStart int64
	}{
		{"latest", StartLatest, 100},
		{"timestamp", ts40, 40},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dst := "mirror-" + topic
			// Each case mirrors into a fresh destination topic.
			if _, err := kadm.NewClient(p.dstCl).DeleteTopics(ctx, dst); err != nil {
				t.Fatal(err)
			}
			p.mirrorFrom(t, topic, tt.startAt, func() {})
			start, err := partlog.New(p.dstCl).ListOffset(ctx, dst, 0, partlog.Earliest, false)
			if err != nil || start != tt.wantStart {
				t.Fatalf("mirror log start %d (%v), want %d", start, err, tt.wantStart)
			}
			ends := p.ends(t, p.srcCl, topic)
			src := records(t, p.seeds(p.srcCl), topic, ends)[0]
			got := records(t, p.seeds(p.dstCl), dst, ends)[0]
			sameRecords(t, map[int32][]*kgo.Record{0: src[tt.wantStart:]}, map[int32][]*kgo.Record{0: got})
		})
	}
}

// memStarts is a StartStore in memory.
type memStarts struct {
	mu sync.Mutex
	m  map[int32]int64
}

func (s *memStarts) LoadStart(p int32) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.m[p]
	return o, ok
}

func (s *memStarts) SaveStart(_ context.Context, p int32, o int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[p] = o
	return nil
}

// TestMirrorInterruptedStart: an engine starting at latest saved its start
// offset (100) and died after filling 40 of the offsets below it. The next
// engine finishes the fill and trims: the mirror starts at 100, and no
// source record below it is copied.
func TestMirrorInterruptedStart(t *testing.T) {
	const topic = "interrupted"
	p := newPair(t, topic, 1)
	produce(t, p, topic, 100)
	ctx := context.Background()
	dst := "mirror-" + topic
	resp, err := kadm.NewClient(p.dstCl).CreateTopic(ctx, 1, -1, nil, dst)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
	f, err := fill.New(ctx, p.dstCl, fillID("test-fill-"+topic, 0), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Fill(ctx, dst, 0, 0, 40); err != nil {
		t.Fatal(err)
	}
	starts := &memStarts{m: map[int32]int64{0: 100}}
	produce(t, p, topic, 20) // after the start: these are copied
	p.mirrorFrom(t, topic, StartLatest, func() {}, func(c *Config) { c.Starts = starts })
	start, err := partlog.New(p.dstCl).ListOffset(ctx, dst, 0, partlog.Earliest, false)
	if err != nil || start != 100 {
		t.Fatalf("mirror log start %d (%v), want 100", start, err)
	}
	ends := p.ends(t, p.srcCl, topic)
	src := records(t, p.seeds(p.srcCl), topic, ends)[0]
	got := records(t, p.seeds(p.dstCl), dst, ends)[0]
	sameRecords(t, map[int32][]*kgo.Record{0: src[100:]}, map[int32][]*kgo.Record{0: got})
}
