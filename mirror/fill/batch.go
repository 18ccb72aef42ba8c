package fill

import (
	"encoding/binary"
	"hash/crc32"
)

// Filler records carry a key because a compacted destination topic rejects
// keyless records (INVALID_RECORD), and the mirror copies compacted topics
// too. The value is empty, not null: a null value would be a tombstone.
// No headers: the key already names the record for anyone reading
// read_uncommitted, and every byte is repeated up to maxBatchRecords times.
const fillKey = "linkproxy-fill"

const (
	// batchHeaderSize is the fixed part of a v2 record batch, from
	// baseOffset through recordCount.
	batchHeaderSize = 61

	// crcOffset is where the batch CRC sits; the CRC covers everything
	// from attributes (crcOffset+4) to the end of the batch.
	crcOffset = 17

	attrTransactional = 0x0010

	// maxRecordSize bounds one encoded filler record: a length varint
	// (1 byte, bodies are < 64 bytes), attributes, a zero timestamp
	// delta, an offset delta of at most 3 bytes (deltas < 10000 < 2^20),
	// the key length and key, an empty value's length and no headers.
	maxRecordSize = 1 + 1 + 1 + 3 + 1 + len(fillKey) + 1 + 1
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// appendFillBatch appends one uncompressed, transactional v2 record batch of
// n filler records to dst. The broker assigns offsets, so baseOffset is 0
// and only the deltas matter; the producer fields make the batch part of the
// producer's open transaction and its sequence must follow the previous
// batch this producer epoch wrote to the partition.
func appendFillBatch(dst []byte, pid int64, epoch int16, firstSeq, n int32, timestamp int64) []byte {
	start := len(dst)
	dst = binary.BigEndian.AppendUint64(dst, 0)                 // baseOffset
	dst = binary.BigEndian.AppendUint32(dst, 0)                 // batchLength, patched below
	dst = binary.BigEndian.AppendUint32(dst, 0xffffffff)        // partitionLeaderEpoch: the broker sets it
	dst = append(dst, 2)                                        // magic
	dst = binary.BigEndian.AppendUint32(dst, 0)                 // crc, patched below
	dst = binary.BigEndian.AppendUint16(dst, attrTransactional) // attributes: no compression, create time
	dst = binary.BigEndian.AppendUint32(dst, uint32(n-1))       // lastOffsetDelta
	dst = binary.BigEndian.AppendUint64(dst, uint64(timestamp)) // baseTimestamp
	dst = binary.BigEndian.AppendUint64(dst, uint64(timestamp)) // maxTimestamp
	dst = binary.BigEndian.AppendUint64(dst, uint64(pid))
	dst = binary.BigEndian.AppendUint16(dst, uint16(epoch))
	dst = binary.BigEndian.AppendUint32(dst, uint32(firstSeq))
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))

	var body [maxRecordSize]byte
	for i := range n {
		b := body[:0]
		b = append(b, 0)                     // record attributes
		b = binary.AppendVarint(b, 0)        // timestampDelta
		b = binary.AppendVarint(b, int64(i)) // offsetDelta
		b = binary.AppendVarint(b, int64(len(fillKey)))
		b = append(b, fillKey...)
		b = binary.AppendVarint(b, 0) // value length: empty, not null
		b = binary.AppendVarint(b, 0) // header count
		dst = binary.AppendVarint(dst, int64(len(b)))
		dst = append(dst, b...)
	}

	batch := dst[start:]
	binary.BigEndian.PutUint32(batch[8:], uint32(len(batch)-12))
	binary.BigEndian.PutUint32(batch[crcOffset:], crc32.Checksum(batch[crcOffset+4:], crc32c))
	return dst
}

// nextSequence advances a producer sequence the way Kafka does: sequences
// are non-negative int32s that wrap from MaxInt32 to 0.
func nextSequence(seq int32, n int32) int32 {
	return int32((int64(seq) + int64(n)) % (1 << 31))
}
