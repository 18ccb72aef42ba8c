package batch

import (
	"encoding/binary"
	"fmt"
)

// Rewrite prepares the batch b, in place, for producing with the engine's
// idempotent producer.
//
// Only what a producer sets and the destination checks is replaced: the
// base offset becomes 0 and the partition leader epoch -1 (as producers send
// them; the broker assigns both), the producer id, epoch and base sequence
// become the arguments, and the transactional bit is cleared because the copy
// is not part of the engine's transactions. Everything else (codec,
// timestamp type, LastOffsetDelta, timestamps, record count and the records
// section) stays byte for byte. The CRC is carried forward from the stored
// one (see carryCRC): valid stays valid, and a batch corrupted in transit
// stays invalid, so the destination refuses it instead of storing it.
// Rewriting an already rewritten batch again is fine.
//
// The destination will expect the next batch of this producer and partition
// to start at sequence baseSequence + LastOffsetDelta + 1 (wrapping from
// math.MaxInt32 to 0); for a batch without holes that is baseSequence +
// NumRecords.
//
// Control batches are refused with ErrControlBatch; on error b is
// unchanged.
func Rewrite(b []byte, producerID int64, epoch int16, baseSequence int32) error {
	h, err := ParseHeader(b)
	if err != nil {
		return fmt.Errorf("rewriting batch: %w", err)
	}
	if h.Control() {
		return fmt.Errorf("rewriting batch at offset %d: %w", h.BaseOffset, ErrControlBatch)
	}
	var old [HeaderSize - attributesAt]byte
	copy(old[:], b[attributesAt:HeaderSize])
	be := binary.BigEndian
	be.PutUint64(b[baseOffsetAt:], 0)
	be.PutUint32(b[leaderEpochAt:], 0xffffffff) // -1
	be.PutUint16(b[attributesAt:], uint16(h.Attributes&^transactionalMask))
	be.PutUint64(b[producerIDAt:], uint64(producerID))
	be.PutUint16(b[producerEpochAt:], uint16(epoch))
	be.PutUint32(b[baseSequenceAt:], uint32(baseSequence))
	be.PutUint32(b[crcAt:], carryCRC(h.CRC, old[:], b))
	return nil
}
