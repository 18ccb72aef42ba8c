package fill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

const testTopic = "dst"

// env is one kfake cluster of 3 brokers and a client on it.
type env struct {
	addrs []string
	cl    *kgo.Client
	adm   *kadm.Client
}

func newEnv(t *testing.T, partitions int32) *env {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(partitions, testTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &env{addrs: c.ListenAddrs(), cl: cl, adm: kadm.NewClient(cl)}
}

func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Level: hclog.Warn, Output: testWriter{t}})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (e *env) newFiller(t *testing.T, ctx context.Context, id string) *Filler {
	t.Helper()
	f, err := New(ctx, e.cl, id, testLogger(t))
	if err != nil {
		t.Fatalf("New(%q): %v", id, err)
	}
	return f
}

// ends returns the high watermark and last stable offset.
func (e *env) ends(t *testing.T, ctx context.Context, p int32) (hw, lso int64) {
	t.Helper()
	end, err := e.adm.ListEndOffsets(ctx, testTopic)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := e.adm.ListCommittedOffsets(ctx, testTopic)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := end.Lookup(testTopic, p)
	l, _ := committed.Lookup(testTopic, p)
	if h.Err != nil || l.Err != nil {
		t.Fatalf("list offsets: %v / %v", h.Err, l.Err)
	}
	return h.Offset, l.Offset
}

// produce writes count plain (non-transactional) records and returns the
// offset of the last one.
func (e *env) produce(t *testing.T, ctx context.Context, p int32, count int, key string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var last int64 = -1
	for i := range count {
		r := &kgo.Record{Topic: testTopic, Partition: p, Key: []byte(key), Value: fmt.Appendf(nil, "%s-%d", key, i)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
		last = r.Offset
	}
	return last
}

// read returns the records a consumer with the given isolation sees on
// partition p before a sentinel record it appends first, so it knows when
// it has read everything.
func (e *env) read(t *testing.T, ctx context.Context, p int32, committed bool) []*kgo.Record {
	t.Helper()
	sentinel := e.produce(t, ctx, p, 1, "sentinel")
	opts := []kgo.Opt{
		kgo.SeedBrokers(e.addrs...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{testTopic: {p: kgo.NewOffset().AtStart()}}),
	}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("poll: %v", err)
		}
		for _, r := range fs.Records() {
			if r.Offset == sentinel {
				return out
			}
			out = append(out, r)
		}
	}
}

// count splits records into filler and other records.
func count(rs []*kgo.Record) (filler, other int) {
	for _, r := range rs {
		if string(r.Key) == fillKey {
			filler++
		} else {
			other++
		}
	}
	return filler, other
}

func TestFill(t *testing.T) {
	t.Parallel()
	type tc struct {
		name      string
		before    int     // plain records first
		ns        []int64 // successive fills
		maxTxn    int64   // 0: default
		maxBatch  int32   // 0: default
		endTxnV4  bool    // cap EndTxn at v4: no KIP-890 epoch bump
		wantTxns  int     // transactions the fills take, so markers
		partition int32
	}
	var cases []tc
	for _, before := range []int{0, 3} {
		for _, n := range []int64{1, 2, 5, 1000, 25000} {
			cases = append(cases, tc{
				name:     fmt.Sprintf("before=%d/n=%d", before, n),
				before:   before,
				ns:       []int64{n, n}, // twice: the second transaction reuses the producer
				wantTxns: 2,
			})
		}
	}
	cases = append(cases,
		// n=20 in transactions of <= 7 records: 8 + 8 + 4 offsets.
		tc{name: "several transactions", before: 2, ns: []int64{20}, maxTxn: 7, maxBatch: 3, wantTxns: 3},
		tc{name: "mixed sizes", ns: []int64{3, 1, 12, 1, 1}, maxBatch: 5, wantTxns: 5},
		// Pre-KIP-890 EndTxn keeps the epoch, so sequences continue
		// from one transaction to the next.
		tc{name: "EndTxn v4", before: 1, ns: []int64{5, 1, 1000, 25000}, endTxnV4: true, wantTxns: 4},
	)

	e := newEnv(t, int32(len(cases)))
	for i := range cases {
		cases[i].partition = int32(i)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()

			cl := e.cl
			if c.endTxnV4 {
				v := kversion.Stable()
				v.SetMaxKeyVersion(int16(kmsg.EndTxn), 4)
				var err error
				if cl, err = kgo.NewClient(kgo.SeedBrokers(e.addrs...), kgo.MaxVersions(v)); err != nil {
					t.Fatal(err)
				}
				defer cl.Close()
			}
			f, err := New(ctx, cl, "fill-"+c.name, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			if c.maxTxn > 0 {
				f.maxTxnRecords = c.maxTxn
			}
			if c.maxBatch > 0 {
				f.maxBatchRecords = c.maxBatch
			}
			if c.before > 0 {
				e.produce(t, ctx, c.partition, c.before, "data")
			}

			epoch0 := f.epoch
			var total int64
			for _, n := range c.ns {
				from, _ := e.ends(t, ctx, c.partition)
				if err := f.Fill(ctx, testTopic, c.partition, from, n); err != nil {
					t.Fatalf("Fill(from=%d, n=%d): %v", from, n, err)
				}
				hw, lso := e.ends(t, ctx, c.partition)
				if hw != from+n || lso != hw {
					t.Fatalf("after Fill(from=%d, n=%d): log end %d, last stable %d; want both %d", from, n, hw, lso, from+n)
				}
				total += n
			}

			// EndTxn v5 bumps the epoch once per transaction; v4 keeps it.
			if wantEpoch := epoch0 + int16(c.wantTxns); c.endTxnV4 && f.epoch != epoch0 || !c.endTxnV4 && f.epoch != wantEpoch {
				t.Errorf("epoch %d after %d transactions from epoch %d (EndTxn v4: %v)", f.epoch, c.wantTxns, epoch0, c.endTxnV4)
			}

			wantFiller := int(total) - c.wantTxns
			fc, oc := count(e.read(t, ctx, c.partition, true))
			if fc != 0 || oc != c.before {
				t.Errorf("read_committed: %d filler, %d other; want 0, %d", fc, oc, c.before)
			}
			fu, ou := count(e.read(t, ctx, c.partition, false))
			if fu != wantFiller || ou != c.before+1 { // + the first read's sentinel
				t.Errorf("read_uncommitted: %d filler, %d other; want %d, %d", fu, ou, wantFiller, c.before+1)
			}
		})
	}
}

func TestFillLogEndMoved(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := newEnv(t, 1)
	e.produce(t, ctx, 0, 4, "data")
	f := e.newFiller(t, ctx, "fill-moved")
	f.settle = 50 * time.Millisecond

	for _, tc := range []struct {
		name string
		from int64
	}{
		{"behind", 3},
		{"ahead", 5},
		{"far ahead", 1000},
		{"zero", 0},
	} {
		err := f.Fill(ctx, testTopic, 0, tc.from, 3)
		if !errors.Is(err, ErrLogEndMoved) {
			t.Fatalf("%s: Fill(from=%d): %v, want ErrLogEndMoved", tc.name, tc.from, err)
		}
		var moved *LogEndMovedError
		if !errors.As(err, &moved) || moved.Actual != 4 || moved.Expected != tc.from {
			t.Fatalf("%s: %#v, want actual 4, expected %d", tc.name, moved, tc.from)
		}
		if hw, _ := e.ends(t, ctx, 0); hw != 4 {
			t.Fatalf("%s: log end %d after a refused fill, want 4", tc.name, hw)
		}
	}
	// The refusals left the Filler usable.
	if err := f.Fill(ctx, testTopic, 0, 4, 3); err != nil {
		t.Fatal(err)
	}
	if hw, _ := e.ends(t, ctx, 0); hw != 7 {
		t.Fatalf("log end %d, want 7", hw)
	}
}

func TestFillBadArgs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, 1)
	f := e.newFiller(t, ctx, "fill-args")
	for _, tc := range []struct{ from, n int64 }{{0, 0}, {0, -1}, {-1, 1}} {
		if err := f.Fill(ctx, testTopic, 0, tc.from, tc.n); err == nil {
			t.Errorf("Fill(from=%d, n=%d) succeeded", tc.from, tc.n)
		}
	}

	noAck, err := kgo.NewClient(kgo.SeedBrokers(e.addrs...), kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	if err != nil {
		t.Fatal(err)
	}
	defer noAck.Close()
	for _, tc := range []struct {
		name string
		cl   *kgo.Client
		id   string
		want string
	}{
		{"nil client", nil, "x", "nil client"},
		{"empty id", e.cl, "", "empty transactional id"},
		{"acks=0", noAck, "x", "NoAck"},
	} {
		if _, err := New(ctx, tc.cl, tc.id, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New: %v, want an error about %q", tc.name, err, tc.want)
		}
	}
}

func TestFillFenced(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := newEnv(t, 1)
	const id = "fill-fenced"

	f1 := e.newFiller(t, ctx, id)
	if err := f1.Fill(ctx, testTopic, 0, 0, 3); err != nil {
		t.Fatal(err)
	}
	f2 := e.newFiller(t, ctx, id)

	for i := range 2 { // fenced for good, not just once
		err := f1.Fill(ctx, testTopic, 0, 3, 2)
		if !errors.Is(err, ErrFenced) {
			t.Fatalf("try %d: fenced Filler's Fill: %v, want ErrFenced", i, err)
		}
		if !strings.Contains(err.Error(), id) {
			t.Errorf("error does not name the transactional id: %v", err)
		}
	}
	if hw, lso := e.ends(t, ctx, 0); hw != 3 || lso != 3 {
		t.Fatalf("fenced Fill wrote: log end %d, last stable %d, want 3", hw, lso)
	}
	if err := f2.Fill(ctx, testTopic, 0, 3, 2); err != nil {
		t.Fatalf("new owner: %v", err)
	}
	if hw, _ := e.ends(t, ctx, 0); hw != 5 {
		t.Fatalf("log end %d, want 5", hw)
	}
}

// TestFillInterrupted stops a Fill between its produces and EndTxn, as a
// crash would, and recovers with a new Filler on the same id. A fill from L
// that wrote j records leaves log end L+j with the transaction open (last
// stable offset held at L); New aborts it, which appends the marker: log end
// L+j+1, all of it invisible to read_committed.
func TestFillInterrupted(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		before   int
		n        int64
		maxBatch int32
		written  int64 // j: records in the log when interrupted
		sameF    bool  // recover with the interrupted Filler, not New
	}{
		{"marker only", 0, 1, 0, 0, false},
		{"one batch", 2, 5, 0, 4, false},
		{"several batches", 1, 25000, 0, 24999, false},
		{"small batches", 0, 10, 3, 9, false},
		{"same filler marker only", 0, 1, 0, 0, true},
		{"same filler one batch", 3, 5, 0, 4, true},
		{"same filler several batches", 0, 25000, 0, 24999, true},
	}
	e := newEnv(t, int32(len(cases)))
	for i, c := range cases {
		p := int32(i)
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			id := "fill-interrupted-" + c.name
			if c.before > 0 {
				e.produce(t, ctx, p, c.before, "data")
			}
			L := int64(c.before)

			f1 := e.newFiller(t, ctx, id)
			if c.maxBatch > 0 {
				f1.maxBatchRecords = c.maxBatch
			}
			fillCtx, crash := context.WithCancel(ctx)
			var hooked atomic.Bool
			f1.testBeforeEnd = func() { hooked.Store(true); crash() }
			err := f1.Fill(fillCtx, testTopic, p, L, c.n)
			if !errors.Is(err, context.Canceled) || !hooked.Load() {
				t.Fatalf("interrupted Fill: %v (hook ran: %v), want context.Canceled", err, hooked.Load())
			}
			f1.testBeforeEnd = nil
			if hw, lso := e.ends(t, ctx, p); hw != L+c.written || lso != L {
				t.Fatalf("after the crash: log end %d, last stable %d; want %d, %d", hw, lso, L+c.written, L)
			}

			end := L + c.written + 1
			f2 := f1
			if c.sameF {
				// The caller retries the fill it asked for. The
				// Filler re-initializes (aborting its open
				// transaction) and then finds the log end moved.
				err := f1.Fill(ctx, testTopic, p, L, c.n)
				var moved *LogEndMovedError
				if !errors.As(err, &moved) || moved.Actual != end {
					t.Fatalf("retried Fill: %v, want log end moved to %d", err, end)
				}
			} else {
				f2 = e.newFiller(t, ctx, id)
			}
			if hw, lso := e.ends(t, ctx, p); hw != end || lso != end {
				t.Fatalf("after recovery: log end %d, last stable %d; want both %d", hw, lso, end)
			}
			// Continue where the log says; the old fill wanted L+n.
			wantFiller := int(c.written) + 1 // + the last Fill's record
			if rest := L + c.n - end; rest > 0 {
				wantFiller += int(rest) - 1
				if err := f2.Fill(ctx, testTopic, p, end, rest); err != nil {
					t.Fatal(err)
				}
				end += rest
			}
			if err := f2.Fill(ctx, testTopic, p, end, 2); err != nil {
				t.Fatal(err)
			}
			end += 2
			if hw, lso := e.ends(t, ctx, p); hw != end || lso != end {
				t.Fatalf("after more fills: log end %d, last stable %d; want both %d", hw, lso, end)
			}

			if fc, oc := count(e.read(t, ctx, p, true)); fc != 0 || oc != c.before {
				t.Errorf("read_committed: %d filler, %d other; want 0, %d", fc, oc, c.before)
			}
			if fu, ou := count(e.read(t, ctx, p, false)); fu != wantFiller || ou != c.before+1 {
				t.Errorf("read_uncommitted: %d filler, %d other; want %d, %d", fu, ou, wantFiller, c.before+1)
			}
		})
	}
}
