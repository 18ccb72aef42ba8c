package batch

import "encoding/binary"

// Kafka's record fields are zigzag varints: 32 bit ones take at most 5
// bytes, 64 bit ones at most 10. encoding/binary decodes both forms; we only
// add the 32 bit bound, since Kafka rejects a longer "varint".

// readVarint decodes a 32 bit zigzag varint, returning its size, or 0 if b
// does not start with one.
func readVarint(b []byte) (int32, int) {
	u, n := binary.Uvarint(b)
	if n <= 0 || n > binary.MaxVarintLen32 || u > 0xffffffff {
		return 0, 0
	}
	x := uint32(u)
	return int32(x>>1) ^ -int32(x&1), n
}

// readVarlong decodes a 64 bit zigzag varint, returning its size, or 0 if b
// does not start with one.
func readVarlong(b []byte) (int64, int) {
	x, n := binary.Varint(b)
	if n <= 0 {
		return 0, 0
	}
	return x, n
}

func appendVarint(dst []byte, v int32) []byte {
	return binary.AppendUvarint(dst, uint64(uint32(v<<1)^uint32(v>>31)))
}

func appendVarlong(dst []byte, v int64) []byte { return binary.AppendVarint(dst, v) }

func varintLen(v int32) int {
	u := uint32(v<<1) ^ uint32(v>>31)
	n := 1
	for ; u >= 0x80; u >>= 7 {
		n++
	}
	return n
}

func varlongLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for ; u >= 0x80; u >>= 7 {
		n++
	}
	return n
}
