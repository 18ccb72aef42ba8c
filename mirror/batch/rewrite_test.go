package batch

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestFixtureCodecs(t *testing.T) {
	f := getFixture(t)
	for _, c := range testCodecs {
		t.Run(c.name, func(t *testing.T) {
			batches := f.batches[c.name]
			if len(batches) != len(groupSizes) {
				t.Fatalf("got %d batches, want %d (one per flushed group)", len(batches), len(groupSizes))
			}
			for i, b := range batches {
				h, err := ParseHeader(b)
				if err != nil {
					t.Fatal(err)
				}
				// kgo sends a batch uncompressed when compressing
				// does not shrink it; ours are made compressible.
				if h.Codec() != c.id {
					t.Errorf("batch %d: codec %d, want %d", i, h.Codec(), c.id)
				}
				if int(h.NumRecords) != groupSizes[i] || h.HasHoles() {
					t.Errorf("batch %d: %d records, last delta %d, want %d records", i, h.NumRecords, h.LastOffsetDelta, groupSizes[i])
				}
				if h.ProducerID < 0 || h.BaseSequence < 0 {
					t.Errorf("batch %d: not idempotent: pid %d seq %d", i, h.ProducerID, h.BaseSequence)
				}
			}
		})
	}
}

func TestRewriteFetched(t *testing.T) {
	f := getFixture(t)
	const (
		pid   = int64(0x0102030405060708)
		epoch = int16(7)
		seq   = int32(1_000_000)
	)
	for _, c := range testCodecs {
		t.Run(c.name, func(t *testing.T) {
			for i, src := range f.batches[c.name] {
				got := bytes.Clone(src)
				if err := Rewrite(got, pid, epoch, seq); err != nil {
					t.Fatalf("batch %d: %v", i, err)
				}
				checkRewritten(t, src, got, pid, epoch, seq)
				// Again, as after a fresh producer id: still valid.
				if err := Rewrite(got, pid+1, 0, 0); err != nil {
					t.Fatalf("batch %d again: %v", i, err)
				}
				checkRewritten(t, src, got, pid+1, 0, 0)
			}
		})
	}
}

// checkRewritten checks that got is src rewritten for pid/epoch/seq: the
// records section byte identical, a valid CRC, only the producer fields,
// offsets and the transactional bit changed.
func checkRewritten(t *testing.T, src, got []byte, pid int64, epoch int16, seq int32) {
	t.Helper()
	if len(got) != len(src) {
		t.Fatalf("length %d, want %d", len(got), len(src))
	}
	if !bytes.Equal(got[HeaderSize:], src[HeaderSize:]) {
		t.Fatalf("records section changed")
	}
	gh, err := parseChecked(got)
	if err != nil {
		t.Fatalf("rewritten batch invalid: %v", err)
	}
	sh, _ := ParseHeader(src)
	want := sh
	want.BaseOffset = 0
	want.PartitionLeaderEpoch = -1
	want.Attributes &^= transactionalMask
	want.ProducerID, want.ProducerEpoch, want.BaseSequence = pid, epoch, seq
	want.CRC = gh.CRC
	if gh != want {
		t.Fatalf("header\n got %+v\nwant %+v", gh, want)
	}
	// Cross-check with kmsg's reader too.
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(got); err != nil || uint32(rb.CRC) != checksum(got) {
		t.Fatalf("kmsg reads rewritten batch: %v, crc %#x", err, rb.CRC)
	}
}

func TestRewriteTransactional(t *testing.T) {
	f := getFixture(t)
	if len(f.txn) != 2 {
		t.Fatalf("transactional fixture has %d batches, want a data batch and a marker", len(f.txn))
	}
	data, marker := f.txn[0], f.txn[1]
	h, _ := ParseHeader(data)
	if !h.Transactional() || h.Control() {
		t.Fatalf("data batch attributes %#x", h.Attributes)
	}
	out := bytes.Clone(data)
	if err := Rewrite(out, 5, 1, 0); err != nil {
		t.Fatal(err)
	}
	checkRewritten(t, data, out, 5, 1, 0)
	if oh, _ := ParseHeader(out); oh.Transactional() {
		t.Fatal("transactional bit not cleared")
	}

	mh, _ := ParseHeader(marker)
	if !mh.Control() || !mh.Transactional() {
		t.Fatalf("marker attributes %#x", mh.Attributes)
	}
	got := bytes.Clone(marker)
	if err := Rewrite(got, 5, 1, 0); !errors.Is(err, ErrControlBatch) {
		t.Fatalf("Rewrite(marker) error %v, want ErrControlBatch", err)
	}
	if !bytes.Equal(got, marker) {
		t.Fatal("Rewrite changed the batch on error")
	}
}

func TestRewriteRejects(t *testing.T) {
	f := getFixture(t)
	good := f.batches["gzip"][1]
	tests := []struct {
		name string
		in   []byte
	}{
		{"truncated", good[:len(good)-1]},
		{"empty", nil},
		{"header only", good[:HeaderSize]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := bytes.Clone(tt.in)
			if err := Rewrite(in, 1, 0, 0); !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v, want %v", err, ErrMalformed)
			}
			if !bytes.Equal(in, tt.in) {
				t.Fatal("Rewrite changed the batch on error")
			}
		})
	}
}

// TestRewriteKeepsCorruption: a batch whose content no longer matches its
// CRC must not leave Rewrite with a valid one, or the destination would
// store the damage.
func TestRewriteKeepsCorruption(t *testing.T) {
	f := getFixture(t)
	for _, c := range testCodecs {
		for i, good := range f.batches[c.name] {
			for _, at := range []int{HeaderSize, len(good) / 2, len(good) - 1} {
				bad := bytes.Clone(good)
				bad[at] ^= 0x01
				if err := Rewrite(bad, 9, 1, 42); err != nil {
					t.Fatalf("%s batch %d: %v", c.name, i, err)
				}
				var ce *CRCError
				if _, err := parseChecked(bad); !errors.As(err, &ce) {
					t.Fatalf("%s batch %d, byte %d flipped: rewritten batch checks (%v)", c.name, i, at, err)
				}
			}
		}
	}
}

// TestCarryCRC compares the carried CRC with a full pass, over lengths that
// exercise every bit of the zero-byte shift.
func TestCarryCRC(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 8, 255, 256, 4095, 65537, 1 << 20} {
		b := make([]byte, HeaderSize+n)
		for i := range b {
			b[i] = byte(i*131 + n)
		}
		stored := checksum(b)
		old := bytes.Clone(b[attributesAt:HeaderSize])
		for i := attributesAt; i < HeaderSize; i += 5 {
			b[i] ^= byte(i)
		}
		if got, want := carryCRC(stored, old, b), checksum(b); got != want {
			t.Fatalf("%d record bytes: carried %#08x, full pass %#08x", n, got, want)
		}
	}
}

// TestRewriteProduce copies every fixture batch, rewritten, onto a second
// cluster with raw Produce requests under a fresh idempotent producer id,
// and checks the destination holds the same records at the same offsets
// with byte-identical records sections. kfake validates the CRC, the
// sequence numbers and LastOffsetDelta on produce.
func TestRewriteProduce(t *testing.T) {
	f := getFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, c := range testCodecs {
		t.Run(c.name, func(t *testing.T) {
			src := f.batches[c.name]
			got := produceRewritten(ctx, t, src)
			for i := range src {
				if !bytes.Equal(got[i][HeaderSize:], src[i][HeaderSize:]) {
					t.Fatalf("batch %d: records section differs on the destination", i)
				}
				if g, w := absRecords(t, got[i]), absRecords(t, src[i]); !reflect.DeepEqual(g, w) {
					t.Fatalf("batch %d: records differ:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}
