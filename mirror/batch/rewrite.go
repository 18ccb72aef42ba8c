package batch

import (
	"encoding/binary"
	"fmt"
)

// Rewrite appends to dst a copy of the batch b prepared for producing with
// the engine's idempotent producer, and returns the extended slice.
//
// Only what a producer sets and the destination checks is replaced: the
// base offset becomes 0 and the partition leader epoch -1 (as producers send
// them; the broker assigns both), the producer id, epoch and base sequence
// become the arguments, and the transactional bit is cleared because the copy
// is not part of the engine's transactions. Everything else (codec,
// timestamp type, LastOffsetDelta, timestamps, record count and the records
// section) is copied byte for byte, and the CRC is recomputed.
//
// The destination will expect the next batch of this producer and partition
// to start at sequence baseSequence + LastOffsetDelta + 1 (wrapping from
// math.MaxInt32 to 0); for a batch without holes that is baseSequence +
// NumRecords.
//
// b's CRC is verified first, so that a batch corrupted in transit is
// reported rather than copied under a valid CRC. Control batches are refused
// with ErrControlBatch.
func Rewrite(dst, b []byte, producerID int64, epoch int16, baseSequence int32) ([]byte, error) {
	h, err := parseChecked(b)
	if err != nil {
		return dst, fmt.Errorf("rewriting batch: %w", err)
	}
	if h.Control() {
		return dst, fmt.Errorf("rewriting batch at offset %d: %w", h.BaseOffset, ErrControlBatch)
	}
	at := len(dst)
	dst = append(dst, b...)
	out := dst[at:]
	be := binary.BigEndian
	be.PutUint64(out[baseOffsetAt:], 0)
	be.PutUint32(out[leaderEpochAt:], 0xffffffff) // -1
	be.PutUint16(out[attributesAt:], uint16(h.Attributes&^transactionalMask))
	be.PutUint64(out[producerIDAt:], uint64(producerID))
	be.PutUint16(out[producerEpochAt:], uint16(epoch))
	be.PutUint32(out[baseSequenceAt:], uint32(baseSequence))
	be.PutUint32(out[crcAt:], checksum(out))
	return dst, nil
}
