package batch

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy/xerial"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// holedOpts tweak what holedBatch builds.
type holedOpts struct {
	xerial  bool   // snappy in the xerial framing
	attrs   int16  // attribute bits to add
	horizon *int64 // store this delete horizon as FirstTimestamp, re-basing deltas as the cleaner does
	maxTS   *int64 // override MaxTimestamp (LogAppendTime)
}

// holedBatch is the test's own encoder, built on kmsg and franz-go's
// compressor rather than the package's code: it re-encodes the records of
// src at the indices in keep the way the log cleaner leaves a compacted
// batch, with every kept record's offset delta, the header's
// LastOffsetDelta and the base offset unchanged.
func holedBatch(tb testing.TB, src []byte, keep []int, o holedOpts) []byte {
	tb.Helper()
	rb, recs := kgoRecords(tb, src)
	base := rb.FirstTimestamp
	if o.horizon != nil {
		base = *o.horizon
	}
	var raw []byte
	for _, i := range keep {
		r := recs[i]
		r.TimestampDelta64 = rb.FirstTimestamp + r.TimestampDelta64 - base
		r.TimestampDelta = int32(r.TimestampDelta64)
		r.Length = 0
		r.Length = int32(len(r.AppendTo(nil)) - 1)
		raw = r.AppendTo(raw)
	}
	codec := int8(rb.Attributes & 7)
	switch {
	case codec == CodecSnappy && o.xerial:
		raw = xerial.Encode(nil, raw)
	case codec != CodecNone:
		comp, err := kgo.DefaultCompressor(testCodecs[codec].codec)
		if err != nil {
			tb.Fatal(err)
		}
		enc, _ := comp.Compress(new(bytes.Buffer), raw)
		raw = bytes.Clone(enc)
	}
	rb.Records = raw
	rb.NumRecords = int32(len(keep))
	rb.Attributes |= o.attrs
	rb.FirstTimestamp = base
	if o.maxTS != nil {
		rb.MaxTimestamp = *o.maxTS
	}
	rb.Length = int32(minLength + len(raw))
	out := rb.AppendTo(nil)
	rb.CRC = int32(crc32.Checksum(out[attributesAt:], crc32.MakeTable(crc32.Castagnoli)))
	return rb.AppendTo(nil)
}

// wantRuns derives the runs from the kept indices of a batch whose records
// had offset deltas 0..n-1.
func wantRuns(base int64, keep []int) []Run {
	var runs []Run
	for j, i := range keep {
		if j > 0 && keep[j-1] == i-1 {
			runs[len(runs)-1].LastOffset++
			continue
		}
		runs = append(runs, Run{base + int64(i), base + int64(i)})
	}
	return runs
}

func rangeInts(lo, hi int) []int {
	var s []int
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

func without(n int, drop ...int) []int {
	return slices.DeleteFunc(rangeInts(0, n), func(i int) bool { return slices.Contains(drop, i) })
}

var holePatterns = []struct {
	name string
	keep func(n int) []int
}{
	{"no holes", func(n int) []int { return rangeInts(0, n) }},
	{"middle", func(n int) []int { return without(n, 5, 6, 7) }},
	{"leading", func(n int) []int { return without(n, 0, 1) }},
	{"trailing", func(n int) []int { return without(n, n-2, n-1) }},
	{"every other", func(n int) []int {
		return slices.DeleteFunc(rangeInts(0, n), func(i int) bool { return i%2 == 1 })
	}},
	{"many", func(n int) []int { return without(n, 0, 3, 4, 10, 11, 12, 20, n-1) }},
	{"single", func(n int) []int { return []int{n / 2} }},
	{"empty", func(int) []int { return nil }},
}

func TestRunsAndSplitRuns(t *testing.T) {
	f := getFixture(t)
	for _, v := range codecVariants {
		src := f.batches[testCodecs[v.codec].name][2]
		sh, _ := ParseHeader(src)
		n := int(sh.NumRecords)
		for _, p := range holePatterns {
			t.Run(v.name+"/"+p.name, func(t *testing.T) {
				keep := p.keep(n)
				b := holedBatch(t, src, keep, holedOpts{xerial: v.xerial})
				if v.codec == CodecSnappy && isXerial(b[HeaderSize:]) != v.xerial {
					t.Fatal("test encoder picked the wrong snappy framing")
				}
				h, err := ParseHeader(b)
				if err != nil {
					t.Fatal(err)
				}
				if h.HasHoles() != (len(keep) != n) {
					t.Fatalf("HasHoles %v with %d of %d records", h.HasHoles(), len(keep), n)
				}

				runs, err := Runs(b)
				if err != nil {
					t.Fatal(err)
				}
				if want := wantRuns(h.BaseOffset, keep); !reflect.DeepEqual(runs, want) {
					t.Fatalf("runs %+v, want %+v", runs, want)
				}

				dst := [][]byte{[]byte("prior")}
				out, err := SplitRuns(dst, b, 0)
				if err != nil {
					t.Fatal(err)
				}
				if string(out[0]) != "prior" {
					t.Fatal("dst clobbered")
				}
				out = out[1:]
				if len(out) != len(runs) {
					t.Fatalf("%d batches for %d runs", len(out), len(runs))
				}
				if len(keep) == 0 {
					return // nothing to copy; the caller fills the whole batch's range
				}
				if len(keep) == n {
					if &out[0][0] != &b[0] || len(out[0]) != len(b) {
						t.Fatal("a batch without holes must come back as the same bytes")
					}
					return
				}
				checkSplit(t, b, runs, out, v)
			})
		}
	}
}

// checkSplit checks the batches SplitRuns made from b: each valid and
// without holes, one per run, the same codec and framing, timestamps
// recomputed, and all together the same records as b at the same absolute
// offsets and timestamps.
func checkSplit(t *testing.T, b []byte, runs []Run, out [][]byte, v codecVariant) {
	t.Helper()
	h, _ := ParseHeader(b)
	var all []absRecord
	for i, nb := range out {
		nh, err := parseChecked(nb)
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		recs := absRecords(t, nb)
		r := runs[i]
		if nh.BaseOffset != r.FirstOffset || nh.LastOffset() != r.LastOffset || int64(nh.NumRecords) != r.Len() || nh.HasHoles() {
			t.Fatalf("run %d %+v: header %+v", i, r, nh)
		}
		if nh.Codec() != v.codec || nh.Attributes != h.Attributes {
			t.Fatalf("run %d: attributes %#x, source %#x", i, nh.Attributes, h.Attributes)
		}
		if v.codec == CodecSnappy && isXerial(nb[HeaderSize:]) != v.xerial {
			t.Fatalf("run %d: snappy framing changed", i)
		}
		if nh.ProducerID != h.ProducerID || nh.ProducerEpoch != h.ProducerEpoch || nh.PartitionLeaderEpoch != h.PartitionLeaderEpoch {
			t.Fatalf("run %d: producer fields changed: %+v", i, nh)
		}
		if want := AddSequence(h.BaseSequence, int32(r.FirstOffset-h.BaseOffset)); nh.BaseSequence != want {
			t.Fatalf("run %d: base sequence %d, want %d", i, nh.BaseSequence, want)
		}
		switch {
		case h.DeleteHorizon():
			if nh.FirstTimestamp != h.FirstTimestamp {
				t.Fatalf("run %d: delete horizon %d lost (source %d)", i, nh.FirstTimestamp, h.FirstTimestamp)
			}
		case nh.FirstTimestamp != recs[0].Timestamp:
			t.Fatalf("run %d: first timestamp %d, first record's %d", i, nh.FirstTimestamp, recs[0].Timestamp)
		}
		maxTS := int64(math.MinInt64)
		for _, rec := range recs {
			maxTS = max(maxTS, rec.Timestamp)
		}
		if h.LogAppendTime() {
			maxTS = h.MaxTimestamp
		}
		if nh.MaxTimestamp != maxTS {
			t.Fatalf("run %d: max timestamp %d, want %d", i, nh.MaxTimestamp, maxTS)
		}
		all = append(all, recs...)
	}
	if want := absRecords(t, b); !reflect.DeepEqual(all, want) {
		t.Fatalf("records differ after splitting:\n got %+v\nwant %+v", all, want)
	}
}

func TestSplitRunsHeaderValues(t *testing.T) {
	f := getFixture(t)
	src := f.batches["zstd"][2]
	sh, _ := ParseHeader(src)
	keep := without(int(sh.NumRecords), 2, 3, 30)
	horizon := sh.FirstTimestamp + 86_400_000
	appendTime := sh.MaxTimestamp + 5_000
	tests := []struct {
		name string
		o    holedOpts
	}{
		{"delete horizon", holedOpts{attrs: deleteHorizonMask, horizon: &horizon}},
		{"log append time", holedOpts{attrs: timestampTypeMask, maxTS: &appendTime}},
		{"transactional", holedOpts{attrs: transactionalMask}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := holedBatch(t, src, keep, tt.o)
			runs, err := Runs(b)
			if err != nil {
				t.Fatal(err)
			}
			out, err := SplitRuns(nil, b, 0)
			if err != nil {
				t.Fatal(err)
			}
			checkSplit(t, b, runs, out, codecVariant{codec: CodecZstd})
		})
	}
}

func TestSplitRunsSequenceWrap(t *testing.T) {
	recs := [][]byte{rec(0, 0, "a"), rec(2, 1, "b")}
	b := mkBatch(Header{LastOffsetDelta: 2, NumRecords: 2, BaseSequence: math.MaxInt32 - 1, ProducerID: 1}, bytes.Join(recs, nil))
	out, err := SplitRuns(nil, b, 0)
	if err != nil {
		t.Fatal(err)
	}
	seqs := []int32{}
	for _, nb := range out {
		h, _ := ParseHeader(nb)
		seqs = append(seqs, h.BaseSequence)
	}
	if !slices.Equal(seqs, []int32{math.MaxInt32 - 1, 0}) {
		t.Fatalf("sequences %v", seqs)
	}
}

// rec encodes one uncompressed record with kmsg.
func rec(offsetDelta int32, tsDelta int64, value string) []byte {
	r := kmsg.Record{OffsetDelta: offsetDelta, TimestampDelta64: tsDelta, TimestampDelta: int32(tsDelta), Value: []byte(value)}
	r.Length = int32(len(r.AppendTo(nil)) - 1)
	return r.AppendTo(nil)
}

func TestRunsMalformed(t *testing.T) {
	good := bytes.Join([][]byte{rec(0, 0, "a"), rec(1, 0, "b")}, nil)
	badKey := rec(0, 0, "a")
	badKey[len(badKey)-4] = 0x7f // the key length: far past the end
	tests := []struct {
		name      string
		h         Header
		records   []byte
		recordsOK bool // well framed records, only their offsets are wrong
	}{
		{"decreasing deltas", Header{LastOffsetDelta: 1, NumRecords: 2}, bytes.Join([][]byte{rec(1, 0, "a"), rec(0, 0, "b")}, nil), true},
		{"duplicate deltas", Header{LastOffsetDelta: 1, NumRecords: 2}, bytes.Join([][]byte{rec(0, 0, "a"), rec(0, 0, "b")}, nil), true},
		{"negative delta", Header{LastOffsetDelta: 1, NumRecords: 1}, rec(-1, 0, "a"), true},
		{"delta past last", Header{LastOffsetDelta: 1, NumRecords: 2}, bytes.Join([][]byte{rec(0, 0, "a"), rec(2, 0, "b")}, nil), true},
		{"fewer records than count", Header{LastOffsetDelta: 2, NumRecords: 3}, good, false},
		{"more records than count", Header{LastOffsetDelta: 1, NumRecords: 1}, good, false},
		{"trailing bytes", Header{LastOffsetDelta: 1, NumRecords: 2}, append(bytes.Clone(good), 0), false},
		{"bad key length", Header{LastOffsetDelta: 0, NumRecords: 1}, badKey, false},
		{"cut record", Header{LastOffsetDelta: 1, NumRecords: 2}, good[:len(good)-1], false},
		{"garbage gzip", Header{Attributes: 1, LastOffsetDelta: 1, NumRecords: 2}, good, false},
		{"garbage zstd", Header{Attributes: 4, LastOffsetDelta: 1, NumRecords: 2}, good, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mkBatch(tt.h, tt.records)
			if _, err := Runs(b); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Runs error %v, want ErrMalformed", err)
			}
			if _, err := Records(b); (err == nil) != tt.recordsOK || (err != nil && !errors.Is(err, ErrMalformed)) {
				t.Fatalf("Records error %v, want success %v", err, tt.recordsOK)
			}
			// SplitRuns trusts a header without holes and returns the
			// batch as is; with holes it decodes and must fail.
			dst := [][]byte{nil}
			got, err := SplitRuns(dst, b, 0)
			if tt.h.HasHoles() && !errors.Is(err, ErrMalformed) {
				t.Fatalf("SplitRuns error %v, want ErrMalformed", err)
			}
			if err != nil && len(got) != 1 {
				t.Fatal("SplitRuns appended on error")
			}
		})
	}
}

func TestRecordsFetched(t *testing.T) {
	f := getFixture(t)
	for _, c := range testCodecs {
		for i, b := range f.batches[c.name] {
			got, err := Records(b)
			if err != nil {
				t.Fatalf("%s batch %d: %v", c.name, i, err)
			}
			if _, want := kgoRecords(t, b); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s batch %d: records differ from kmsg's", c.name, i)
			}
		}
	}
}

// TestSplitRunsProduce produces the runs of a holed batch, rewritten, to a
// kfake cluster, which checks each as a broker would (CRC, sequence,
// LastOffsetDelta == NumRecords-1), and reads back the same records in the
// same order with the same timestamps.
func TestSplitRunsProduce(t *testing.T) {
	f := getFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, v := range codecVariants {
		t.Run(v.name, func(t *testing.T) {
			src := f.batches[testCodecs[v.codec].name][2]
			sh, _ := ParseHeader(src)
			b := holedBatch(t, src, without(int(sh.NumRecords), 0, 7, 8, 9, int(sh.NumRecords)-1), holedOpts{xerial: v.xerial})
			runs, err := SplitRuns(nil, b, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := produceRewritten(ctx, t, runs)
			var gotRecs, wantRecs []absRecord
			for _, g := range got {
				gotRecs = append(gotRecs, absRecords(t, g)...)
			}
			wantRecs = absRecords(t, b)
			if len(gotRecs) != len(wantRecs) {
				t.Fatalf("%d records on the destination, want %d", len(gotRecs), len(wantRecs))
			}
			for i := range gotRecs {
				// The destination numbers the runs back to back.
				gotRecs[i].Offset, wantRecs[i].Offset = 0, 0
			}
			if !reflect.DeepEqual(gotRecs, wantRecs) {
				t.Fatal("records differ on the destination")
			}
		})
	}
}

// produceRewritten produces batches, rewritten for a fresh idempotent
// producer, to partition 0 of a new kfake cluster, checking each lands at
// its offset (and that a damaged batch is refused), and fetches them back.
func produceRewritten(ctx context.Context, t *testing.T, batches [][]byte) [][]byte {
	t.Helper()
	const topic = "dst"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	initResp, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(ctx, cl)
	if err != nil || initResp.ErrorCode != 0 {
		t.Fatalf("init producer id: %v %+v", err, initResp)
	}
	id, err := topicID(ctx, cl, topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) > 0 {
		// Damage in transit reaches the broker with the CRC carried
		// forward, which it refuses.
		bad := bytes.Clone(batches[0])
		bad[len(bad)-1] ^= 0x10
		if err := Rewrite(bad, initResp.ProducerID, initResp.ProducerEpoch, 0); err != nil {
			t.Fatal(err)
		}
		if p := produceRaw(ctx, t, cl, topic, id, bad); p.ErrorCode != kerr.CorruptMessage.Code {
			t.Fatalf("corrupt batch: produce error code %d, want CORRUPT_MESSAGE", p.ErrorCode)
		}
	}
	var (
		seq  int32
		next int64
	)
	for i, b := range batches {
		h, _ := ParseHeader(b)
		out := bytes.Clone(b)
		if err := Rewrite(out, initResp.ProducerID, initResp.ProducerEpoch, seq); err != nil {
			t.Fatal(err)
		}
		p := produceRaw(ctx, t, cl, topic, id, out)
		if p.ErrorCode != 0 {
			t.Fatalf("batch %d: produce error code %d: %v", i, p.ErrorCode, p.ErrorMessage)
		}
		if p.BaseOffset != next {
			t.Fatalf("batch %d landed at %d, want %d", i, p.BaseOffset, next)
		}
		next += int64(h.LastOffsetDelta) + 1
		seq = AddSequence(seq, h.LastOffsetDelta+1)
	}
	_, got, err := fetchAll(ctx, cl, topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(batches) {
		t.Fatalf("destination has %d batches, produced %d", len(got), len(batches))
	}
	return got
}

// TestSplitRunsFrom leaves out records below from, as when a fetch
// returns the batch holding a log start that DeleteRecords moved.
func TestSplitRunsFrom(t *testing.T) {
	f := getFixture(t)
	for _, v := range codecVariants {
		b := f.batches[testCodecs[v.codec].name][2]
		h, _ := ParseHeader(b)
		last := h.LastOffset()
		for _, from := range []int64{0, h.BaseOffset, h.BaseOffset + 1, last} {
			out, err := SplitRuns(nil, b, from)
			if err != nil || len(out) != 1 {
				t.Fatalf("%s from %d: %d runs, %v", v.name, from, len(out), err)
			}
			oh, err := ParseHeader(out[0])
			first := max(from, h.BaseOffset)
			if err != nil || oh.BaseOffset != first || oh.LastOffset() != last || oh.NumRecords != int32(last-first+1) {
				t.Fatalf("%s from %d: %+v, %v", v.name, from, oh, err)
			}
			if same := &out[0][0] == &b[0]; same != (from <= h.BaseOffset) {
				t.Fatalf("%s from %d: returned the source bytes: %v", v.name, from, same)
			}
			want := absRecords(t, b)[first-h.BaseOffset:]
			if got := absRecords(t, out[0]); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s from %d: records differ", v.name, from)
			}
		}
		if out, err := SplitRuns(nil, b, last+1); err != nil || len(out) != 0 {
			t.Fatalf("%s from past the batch: %d runs, %v", v.name, len(out), err)
		}
	}
}
