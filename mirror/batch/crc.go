package batch

import (
	"encoding/binary"
	"hash/crc32"
)

// castagnoli is the CRC-32C table; hash/crc32 uses the SSE4.2/ARM64 CRC
// instructions for it, so checking every copied batch is cheap.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum returns the CRC a v2 batch must carry: CRC-32C over the
// attributes through the end of the batch. b has at least HeaderSize bytes.
func checksum(b []byte) uint32 { return crc32.Checksum(b[attributesAt:], castagnoli) }

// finishBatch fills in the Length and CRC of the batch b, whose header and
// records section are otherwise complete.
func finishBatch(b []byte) {
	binary.BigEndian.PutUint32(b[lengthAt:], uint32(len(b)-lengthOverhead))
	binary.BigEndian.PutUint32(b[crcAt:], checksum(b))
}
