package mirror

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/mirror/internal/partlog"
)

// TestMoveConsumerGroup moves a consumer group from the source to the
// mirror: the group committed offset N on the source; the same number,
// committed for the group on the destination (as consumer offset sync will
// do), makes a consumer of the mirror resume with exactly the record the
// source would have given it next.
//
// The source has a trimmed log start and committed and aborted
// transactions, so offsets are not record counts. Partition 0's N is a
// record just after an aborted transaction and its marker; partition 1's N
// is an offset with no committed record (aborted data or a marker), where
// a consumer goes on with the next record after it.
func TestMoveConsumerGroup(t *testing.T) {
	const (
		topic = "move"
		group = "mover"
	)
	p := newPair(t, topic, 2)
	ctx := context.Background()

	plain, err := kgo.NewClient(kgo.SeedBrokers(p.src.ListenAddrs()...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	var txs []*kgo.Client
	for i := range 2 {
		cl, err := kgo.NewClient(kgo.SeedBrokers(p.src.ListenAddrs()...), kgo.DefaultProduceTopic(topic),
			kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionalID(fmt.Sprintf("move-tx-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		txs = append(txs, cl)
	}
	n := 0
	rec := func(part int32, what string) *kgo.Record {
		n++
		return &kgo.Record{
			Partition: part, Key: []byte(fmt.Sprintf("key-%d", n%5)), Value: []byte(fmt.Sprintf("%s record %d", what, n)),
			Headers:   []kgo.RecordHeader{{Key: "n", Value: []byte(fmt.Sprint(n))}, {Key: "kind", Value: []byte(what)}},
			Timestamp: time.UnixMilli(1_500_000_000_000 + int64(n)*1000),
		}
	}
	plainRecords := func(k int) {
		t.Helper()
		for range k {
			for part := range int32(2) {
				if err := plain.ProduceSync(ctx, rec(part, "plain")).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// txns runs one transaction per producer, both open at once, with
	// records on both partitions; producer i commits if commit[i].
	txns := func(commit ...bool) {
		t.Helper()
		for _, cl := range txs {
			if err := cl.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			for i, cl := range txs {
				for part := range int32(2) {
					if err := cl.ProduceSync(ctx, rec(part, fmt.Sprintf("txn%d", i))).FirstErr(); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		for i, cl := range txs {
			if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit[i])); err != nil {
				t.Fatal(err)
			}
		}
	}
	plainRecords(20)
	txns(true, false)
	plainRecords(10)
	for part, to := range map[int32]int64{0: 13, 1: 27} {
		if err := partlog.New(p.srcCl).DeleteRecords(ctx, topic, part, to); err != nil {
			t.Fatal(err)
		}
	}
	txns(false, true)
	txns(false, false)
	plainRecords(15)
	txns(true, false)
	plainRecords(5)

	p.mirror(t, topic)
	ends := p.ends(t, p.srcCl, topic)
	src := records(t, p.seeds(p.srcCl), topic, ends)

	// The group's position on the source, per partition, and the record
	// it must read next there and on the mirror.
	commits := map[int32]int64{}
	want := map[int32]*kgo.Record{}
	for i, r := range src[0] {
		// The last record after a gap of aborted data and markers.
		if i > 0 && r.Offset > src[0][i-1].Offset+1 {
			commits[0], want[0] = r.Offset, r
		}
	}
	for i, r := range src[1] {
		// In the last gap, an offset inside it.
		if i > 0 && r.Offset > src[1][i-1].Offset+2 {
			commits[1], want[1] = src[1][i-1].Offset+2, r
		}
	}
	if len(commits) != 2 {
		t.Fatalf("no gaps in the source records: %v", commits)
	}
	t.Logf("source log ends %v; the group resumes at %v, next records at %d and %d", ends, commits, want[0].Offset, want[1].Offset)

	srcAdm, dstAdm := kadm.NewClient(p.srcCl), kadm.NewClient(p.dstCl)
	committed := kadm.Offsets{}
	for part, at := range commits {
		committed.Add(kadm.Offset{Topic: topic, Partition: part, At: at, LeaderEpoch: -1})
	}
	if err := srcAdm.CommitAllOffsets(ctx, group, committed); err != nil {
		t.Fatal(err)
	}

	// Offset sync: the source group's offsets, unchanged, for the mirror
	// topic in the same group on the destination. The leader epoch is the
	// source's, meaningless on the destination, so it is not carried.
	fetched, err := srcAdm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if err := fetched.Error(); err != nil {
		t.Fatal(err)
	}
	synced := kadm.Offsets{}
	fetched.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			synced.Add(kadm.Offset{Topic: "mirror-" + topic, Partition: o.Partition, At: o.At, LeaderEpoch: -1})
		}
	})
	if len(synced["mirror-"+topic]) != 2 {
		t.Fatalf("source group offsets %v", fetched)
	}
	if err := dstAdm.CommitAllOffsets(ctx, group, synced); err != nil {
		t.Fatal(err)
	}

	fromSource := firstGroupRecords(t, p.src.ListenAddrs(), group, topic)
	fromMirror := firstGroupRecords(t, p.dst.ListenAddrs(), group, "mirror-"+topic)
	for part, w := range want {
		for _, got := range []struct {
			where string
			r     *kgo.Record
		}{{"source", fromSource[part]}, {"mirror", fromMirror[part]}} {
			r := got.r
			if r == nil {
				t.Errorf("partition %d: the group read nothing on the %s", part, got.where)
				continue
			}
			if r.Offset != w.Offset || !bytes.Equal(r.Key, w.Key) || !bytes.Equal(r.Value, w.Value) ||
				!r.Timestamp.Equal(w.Timestamp) || fmt.Sprint(r.Headers) != fmt.Sprint(w.Headers) {
				t.Errorf("partition %d, committed %d: the group read first on the %s %d %q/%q %v %s, want %d %q/%q %v %s",
					part, commits[part], got.where, r.Offset, r.Key, r.Value, r.Timestamp, moveHeaders(r),
					w.Offset, w.Key, w.Value, w.Timestamp, moveHeaders(w))
			}
		}
	}
	if fromMirror[0] != nil && fromMirror[0].Offset != commits[0] {
		t.Errorf("partition 0: the mirror consumer resumed at %d, the group committed %d", fromMirror[0].Offset, commits[0])
	}
}

// firstGroupRecords joins group as a read_committed consumer of topic and
// returns the first record it gets from each of the topic's two
// partitions. A group without a committed offset would start at the log
// start, which the test would notice.
func firstGroupRecords(t *testing.T, seeds []string, group, topic string) map[int32]*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := map[int32]*kgo.Record{}
	for len(out) < 2 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Errorf("reading %s as group %s: got first records of %d partitions only", topic, group, len(out))
			return out
		}
		fs.EachError(func(topic string, part int32, err error) {
			t.Errorf("fetching %s/%d: %v", topic, part, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			if out[r.Partition] == nil {
				out[r.Partition] = r
			}
		})
	}
	return out
}

func moveHeaders(r *kgo.Record) string {
	var b bytes.Buffer
	for _, h := range r.Headers {
		fmt.Fprintf(&b, "%s=%q ", h.Key, h.Value)
	}
	return b.String()
}
