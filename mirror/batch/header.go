package batch

import (
	"encoding/binary"
	"math"
)

// Byte positions of the v2 record batch header fields. Everything from
// attributesAt to the end of the batch is covered by the CRC; the base offset
// and partition leader epoch are not, which is what lets brokers assign them
// without recomputing the CRC.
const (
	baseOffsetAt      = 0
	lengthAt          = 8
	leaderEpochAt     = 12
	magicAt           = 16
	crcAt             = 17
	attributesAt      = 21
	lastOffsetDeltaAt = 23
	firstTimestampAt  = 27
	maxTimestampAt    = 35
	producerIDAt      = 43
	producerEpochAt   = 51
	baseSequenceAt    = 53
	numRecordsAt      = 57

	// HeaderSize is the size of the v2 batch header; the records section
	// (compressed or not) follows it.
	HeaderSize = 61

	// lengthOverhead is what Length does not count (the base offset and
	// Length itself), and minLength the Length of a batch with an empty
	// records section.
	lengthOverhead = lengthAt + 4
	minLength      = HeaderSize - lengthOverhead
)

// Attribute bits.
const (
	codecMask         = 0x07
	timestampTypeMask = 0x08 // LogAppendTime
	transactionalMask = 0x10
	controlMask       = 0x20
	deleteHorizonMask = 0x40 // KIP-534: FirstTimestamp holds the delete horizon
	maxKnownCodec     = 4    // zstd
)

// Codec numbers as found in the low three attribute bits.
const (
	CodecNone   int8 = 0
	CodecGzip   int8 = 1
	CodecSnappy int8 = 2
	CodecLz4    int8 = 3
	CodecZstd   int8 = 4
)

// Header is the fixed 61 byte header of a v2 record batch.
type Header struct {
	BaseOffset           int64
	Length               int32 // bytes after the Length field itself
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32 // CRC-32C (Castagnoli) of Attributes through the end of the batch
	Attributes           int16
	LastOffsetDelta      int32
	FirstTimestamp       int64 // the delete horizon instead, if DeleteHorizon
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// Codec returns the compression codec of the records section (CodecNone
// through CodecZstd).
func (h Header) Codec() int8 { return int8(h.Attributes & codecMask) }

// Transactional reports whether the batch was written inside a transaction.
func (h Header) Transactional() bool { return h.Attributes&transactionalMask != 0 }

// Control reports whether the batch is a control batch (a transaction
// marker) rather than data.
func (h Header) Control() bool { return h.Attributes&controlMask != 0 }

// LogAppendTime reports whether the topic stamps batches with the broker's
// append time, in which case MaxTimestamp (not the records' own
// timestamps) is every record's timestamp.
func (h Header) LogAppendTime() bool { return h.Attributes&timestampTypeMask != 0 }

// DeleteHorizon reports whether the log cleaner stored a tombstone delete
// horizon (KIP-534) in FirstTimestamp. Records' timestamps are still
// FirstTimestamp plus their delta.
func (h Header) DeleteHorizon() bool { return h.Attributes&deleteHorizonMask != 0 }

// LastOffset returns the offset of the batch's last offset slot. Compaction
// keeps this even when it removes the record that had it, so it may be past
// the last record's offset.
func (h Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// HasHoles reports, from the header alone, whether compaction removed
// records from the batch: it then holds fewer records than offset slots.
// A well formed batch without holes holds exactly LastOffsetDelta+1 records
// numbered 0 through LastOffsetDelta; Runs checks the records themselves.
func (h Header) HasHoles() bool { return int64(h.NumRecords) != int64(h.LastOffsetDelta)+1 }

// ParseHeader parses and sanity checks the header of one whole batch: b must
// be exactly the batch (12 + Length bytes), as Split returns them. The CRC is
// not checked here (Split, Rewrite, Runs and SplitRuns check it).
func ParseHeader(b []byte) (Header, error) {
	if len(b) > magicAt {
		if m := int8(b[magicAt]); m == 0 || m == 1 {
			return Header{}, fmtOld(b, m)
		}
	}
	if len(b) < HeaderSize {
		return Header{}, malformed("batch of %d bytes is shorter than the %d byte header", len(b), HeaderSize)
	}
	h := readHeader(b)
	switch {
	case h.Magic != 2:
		return h, malformed("unknown magic %d at offset %d", h.Magic, h.BaseOffset)
	case h.Length < minLength:
		return h, malformed("batch at offset %d: length %d is below the minimum %d", h.BaseOffset, h.Length, minLength)
	case int64(h.Length)+lengthOverhead != int64(len(b)):
		return h, malformed("batch at offset %d: length field says %d bytes, have %d", h.BaseOffset, int64(h.Length)+lengthOverhead, len(b))
	case h.Codec() > maxKnownCodec:
		return h, malformed("batch at offset %d: unknown compression codec %d", h.BaseOffset, h.Codec())
	case h.NumRecords < 0:
		return h, malformed("batch at offset %d: negative record count %d", h.BaseOffset, h.NumRecords)
	case h.LastOffsetDelta < 0:
		return h, malformed("batch at offset %d: negative last offset delta %d", h.BaseOffset, h.LastOffsetDelta)
	case int64(h.NumRecords) > int64(h.LastOffsetDelta)+1:
		return h, malformed("batch at offset %d: %d records cannot fit in %d offsets", h.BaseOffset, h.NumRecords, int64(h.LastOffsetDelta)+1)
	case h.BaseOffset < 0 || h.BaseOffset > math.MaxInt64-int64(h.LastOffsetDelta):
		return h, malformed("batch offsets %d+%d out of range", h.BaseOffset, h.LastOffsetDelta)
	}
	return h, nil
}

// readHeader decodes the header fields of b, which has at least HeaderSize
// bytes, without checking them.
func readHeader(b []byte) Header {
	be := binary.BigEndian
	return Header{
		BaseOffset:           int64(be.Uint64(b[baseOffsetAt:])),
		Length:               int32(be.Uint32(b[lengthAt:])),
		PartitionLeaderEpoch: int32(be.Uint32(b[leaderEpochAt:])),
		Magic:                int8(b[magicAt]),
		CRC:                  be.Uint32(b[crcAt:]),
		Attributes:           int16(be.Uint16(b[attributesAt:])),
		LastOffsetDelta:      int32(be.Uint32(b[lastOffsetDeltaAt:])),
		FirstTimestamp:       int64(be.Uint64(b[firstTimestampAt:])),
		MaxTimestamp:         int64(be.Uint64(b[maxTimestampAt:])),
		ProducerID:           int64(be.Uint64(b[producerIDAt:])),
		ProducerEpoch:        int16(be.Uint16(b[producerEpochAt:])),
		BaseSequence:         int32(be.Uint32(b[baseSequenceAt:])),
		NumRecords:           int32(be.Uint32(b[numRecordsAt:])),
	}
}

// appendHeader appends h in wire form; the caller sets Length and the CRC
// once the records section follows (see finishBatch).
func appendHeader(dst []byte, h Header) []byte {
	be := binary.BigEndian
	dst = be.AppendUint64(dst, uint64(h.BaseOffset))
	dst = be.AppendUint32(dst, uint32(h.Length))
	dst = be.AppendUint32(dst, uint32(h.PartitionLeaderEpoch))
	dst = append(dst, byte(h.Magic))
	dst = be.AppendUint32(dst, h.CRC)
	dst = be.AppendUint16(dst, uint16(h.Attributes))
	dst = be.AppendUint32(dst, uint32(h.LastOffsetDelta))
	dst = be.AppendUint64(dst, uint64(h.FirstTimestamp))
	dst = be.AppendUint64(dst, uint64(h.MaxTimestamp))
	dst = be.AppendUint64(dst, uint64(h.ProducerID))
	dst = be.AppendUint16(dst, uint16(h.ProducerEpoch))
	dst = be.AppendUint32(dst, uint32(h.BaseSequence))
	dst = be.AppendUint32(dst, uint32(h.NumRecords))
	return dst
}

// parseChecked is ParseHeader plus the CRC check: what every function that
// hands a batch on (re-encoded or with a fresh CRC) must do first, so that
// corruption is reported instead of laundered under a valid CRC.
func parseChecked(b []byte) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	if got := checksum(b); got != h.CRC {
		return h, &CRCError{Offset: h.BaseOffset, Stored: h.CRC, Computed: got}
	}
	return h, nil
}
