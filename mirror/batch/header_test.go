package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// mkBatch builds a batch from a header and a records section, filling in
// Length and the CRC.
func mkBatch(h Header, records []byte) []byte {
	h.Magic = 2
	b := appendHeader(nil, h)
	b = append(b, records...)
	finishBatch(b)
	return b
}

func TestHeaderHelpers(t *testing.T) {
	tests := []struct {
		name                                  string
		h                                     Header
		codec                                 int8
		txn, control, logAppend, horizon, gap bool
		last                                  int64
	}{
		{name: "plain zstd", h: Header{BaseOffset: 10, Attributes: 4, LastOffsetDelta: 2, NumRecords: 3}, codec: CodecZstd, last: 12},
		{name: "txn gzip", h: Header{Attributes: 0x11, NumRecords: 1}, codec: CodecGzip, txn: true},
		{name: "marker", h: Header{Attributes: 0x30, NumRecords: 1}, txn: true, control: true},
		{name: "log append time", h: Header{Attributes: 0x0a, NumRecords: 1}, codec: CodecSnappy, logAppend: true},
		{name: "compacted", h: Header{BaseOffset: 5, Attributes: 0x43, LastOffsetDelta: 9, NumRecords: 4}, codec: CodecLz4, horizon: true, gap: true, last: 14},
		{name: "empty", h: Header{BaseOffset: 5, LastOffsetDelta: 3}, gap: true, last: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			if h.Codec() != tt.codec || h.Transactional() != tt.txn || h.Control() != tt.control ||
				h.LogAppendTime() != tt.logAppend || h.DeleteHorizon() != tt.horizon || h.HasHoles() != tt.gap || h.LastOffset() != tt.last {
				t.Fatalf("%+v: codec %d txn %v control %v lat %v horizon %v holes %v last %d",
					h, h.Codec(), h.Transactional(), h.Control(), h.LogAppendTime(), h.DeleteHorizon(), h.HasHoles(), h.LastOffset())
			}
		})
	}
}

func TestParseHeaderRoundTrip(t *testing.T) {
	want := Header{
		BaseOffset: 1 << 40, PartitionLeaderEpoch: 17, Magic: 2, Attributes: 0x13,
		LastOffsetDelta: 4, FirstTimestamp: -5, MaxTimestamp: math.MaxInt64,
		ProducerID: 99, ProducerEpoch: -1, BaseSequence: math.MaxInt32, NumRecords: 5,
	}
	b := mkBatch(want, []byte("records"))
	got, err := ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	want.Length = int32(len(b) - lengthOverhead)
	want.CRC = checksum(b)
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestParseHeaderErrors(t *testing.T) {
	ok := Header{LastOffsetDelta: 1, NumRecords: 2}
	with := func(fn func(*Header)) []byte {
		h := ok
		fn(&h)
		return mkBatch(h, nil)
	}
	old := mkBatch(ok, nil)
	old[magicAt] = 1
	long := append(mkBatch(ok, nil), 0)
	tests := []struct {
		name string
		b    []byte
		is   error
	}{
		{"short", bytes.Repeat([]byte{2}, HeaderSize-1), ErrMalformed},
		{"nil", nil, ErrMalformed},
		{"magic 1", old, ErrOldMessageFormat},
		{"magic 1 short", old[:20], ErrOldMessageFormat},
		{"trailing byte", long, ErrMalformed},
		{"codec 5", with(func(h *Header) { h.Attributes = 5 }), ErrMalformed},
		{"negative count", with(func(h *Header) { h.NumRecords = -1 }), ErrMalformed},
		{"negative last delta", with(func(h *Header) { h.LastOffsetDelta = -1; h.NumRecords = 0 }), ErrMalformed},
		{"more records than offsets", with(func(h *Header) { h.NumRecords = 3 }), ErrMalformed},
		{"negative base offset", with(func(h *Header) { h.BaseOffset = -1 }), ErrMalformed},
		{"last offset overflows", with(func(h *Header) { h.BaseOffset = math.MaxInt64 }), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseHeader(tt.b); !errors.Is(err, tt.is) {
				t.Fatalf("error %v, want %v", err, tt.is)
			}
		})
	}
	if _, err := ParseHeader(mkBatch(ok, nil)); err != nil {
		t.Fatalf("valid header: %v", err)
	}
}

func TestParseCheckedCRC(t *testing.T) {
	b := mkBatch(Header{BaseOffset: 42, NumRecords: 1}, []byte{1, 2, 3})
	if _, err := parseChecked(b); err != nil {
		t.Fatal(err)
	}
	// The base offset and leader epoch are outside the CRC.
	binary.BigEndian.PutUint64(b, 7)
	binary.BigEndian.PutUint32(b[leaderEpochAt:], 9)
	if _, err := parseChecked(b); err != nil {
		t.Fatalf("crc must not cover offset and epoch: %v", err)
	}
	bad := bytes.Clone(b)
	bad[attributesAt+1] ^= 0x10
	var ce *CRCError
	if _, err := parseChecked(bad); !errors.As(err, &ce) || ce.Offset != 7 || ce.Stored != checksum(b) {
		t.Fatalf("got %v", err)
	}
}
