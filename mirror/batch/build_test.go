package batch

import (
	"hash/crc32"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestAppendTransactional(t *testing.T) {
	const key = "linkproxy-fill"
	// maxRecordSize bounds one encoded record: a length varint (1 byte,
	// bodies are < 64 bytes), attributes, a zero timestamp delta, an
	// offset delta of at most 3 bytes (deltas < 2^20), the key length and
	// key, an empty value's length and no headers.
	const maxRecordSize = 1 + 1 + 1 + 3 + 1 + len(key) + 1 + 1
	for _, tc := range []struct {
		name  string
		pid   int64
		epoch int16
		seq   int32
		n     int32
	}{
		{"one record", 7, 0, 0, 1},
		{"few records", 1 << 40, 3, 17, 5},
		{"offset deltas past one varint byte", 42, 1, 1000, 300},
		// 10000 records is package fill's batch size, which must stay
		// under the 1 MiB default max.message.bytes.
		{"max fill batch", math.MaxInt64, math.MaxInt16 - 1, math.MaxInt32 - 5, 10000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("keep")
			raw := AppendTransactional(prefix, tc.pid, tc.epoch, tc.seq, tc.n, 1234, []byte(key))
			if string(raw[:4]) != "keep" {
				t.Fatal("prefix clobbered")
			}
			raw = raw[4:]

			var b kmsg.RecordBatch
			if err := b.ReadFrom(raw); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got, want := int(b.Length), len(raw)-12; got != want {
				t.Errorf("length %d, want %d", got, want)
			}
			if got, want := uint32(b.CRC), crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)); got != want {
				t.Errorf("crc %x, want %x", got, want)
			}
			if b.Magic != 2 || b.Attributes != transactionalMask || b.PartitionLeaderEpoch != -1 || b.FirstOffset != 0 {
				t.Errorf("header: magic %d attrs %#x leader epoch %d first offset %d", b.Magic, b.Attributes, b.PartitionLeaderEpoch, b.FirstOffset)
			}
			if b.ProducerID != tc.pid || b.ProducerEpoch != tc.epoch || b.FirstSequence != tc.seq {
				t.Errorf("producer %d/%d seq %d, want %d/%d seq %d", b.ProducerID, b.ProducerEpoch, b.FirstSequence, tc.pid, tc.epoch, tc.seq)
			}
			if b.NumRecords != tc.n || b.LastOffsetDelta != tc.n-1 || b.FirstTimestamp != 1234 || b.MaxTimestamp != 1234 {
				t.Errorf("records %d last delta %d ts %d/%d", b.NumRecords, b.LastOffsetDelta, b.FirstTimestamp, b.MaxTimestamp)
			}
			if len(raw) > 1<<20 {
				t.Errorf("batch is %d bytes, over 1 MiB", len(raw))
			}

			in := b.Records
			for i := range tc.n {
				var r kmsg.Record
				if err := r.ReadFrom(in); err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				size := int(r.Length) + varintLen(r.Length)
				if size > maxRecordSize {
					t.Fatalf("record %d is %d bytes, over maxRecordSize %d", i, size, maxRecordSize)
				}
				in = in[size:]
				if r.OffsetDelta != i || r.TimestampDelta64 != 0 || string(r.Key) != key || r.Value == nil || len(r.Value) != 0 || len(r.Headers) != 0 {
					t.Fatalf("record %d: delta %d key %q value %v headers %d", i, r.OffsetDelta, r.Key, r.Value, len(r.Headers))
				}
			}
			if len(in) != 0 {
				t.Errorf("%d trailing bytes", len(in))
			}
		})
	}
}

func TestAddSequence(t *testing.T) {
	for _, tc := range []struct {
		seq, n, want int32
	}{
		{0, 1, 1},
		{5, 10000, 10005},
		{math.MaxInt32 - 1, 1, math.MaxInt32},
		{math.MaxInt32, 1, 0},
		{math.MaxInt32 - 1, 5, 3},
	} {
		if got := AddSequence(tc.seq, tc.n); got != tc.want {
			t.Errorf("AddSequence(%d, %d) = %d, want %d", tc.seq, tc.n, got, tc.want)
		}
	}
}
