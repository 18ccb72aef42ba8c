package batch

import (
	"encoding/binary"
	"hash/crc32"
)

// castagnoli is the CRC-32C table; hash/crc32 uses the SSE4.2/ARM64 CRC
// instructions for it.
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

// Carrying a CRC forward.
//
// A copied batch changes only header fields inside the CRC's range (bytes
// attributesAt to HeaderSize); the records after them, nearly all of the
// bytes, stay as they are. A CRC is linear over GF(2): for messages of equal
// length, crc(x) ^ crc(y) is the CRC register of x ^ y run through the zero
// bytes that follow the difference. So the new CRC is the stored one with
// the header's contribution swapped, costing two CRCs of 40 bytes and a
// shift by the records' length (O(log n) multiplications mod the
// polynomial), instead of a pass over the whole batch. It also keeps a
// corrupt batch corrupt: a wrong stored CRC yields a wrong new CRC, which the
// destination broker refuses (CORRUPT_MESSAGE), so nothing damaged in
// transit is ever copied under a valid CRC.

// castagnoliReversed is the CRC-32C polynomial in the bit order hash/crc32
// uses (least significant bit first).
const castagnoliReversed = 0x82f63b78

// mulMod returns a*b modulo the polynomial, both in reversed bit order (the
// most significant bit is the coefficient of x^0).
func mulMod(a, b uint32) uint32 {
	var p uint32
	for m := uint32(1) << 31; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		if b&1 != 0 {
			b = b>>1 ^ castagnoliReversed
		} else {
			b >>= 1
		}
	}
	return p
}

// x2k[k] is x^(2^k) modulo the polynomial.
var x2k = func() (t [64]uint32) {
	t[0] = 1 << 30 // x^1
	for k := 1; k < len(t); k++ {
		t[k] = mulMod(t[k-1], t[k-1])
	}
	return t
}()

// shiftZeros returns the CRC register crc advanced over n zero bytes, with
// no pre- or post-conditioning: multiplication by x^(8n).
func shiftZeros(crc uint32, n int) uint32 {
	for k := 3; n > 0; n, k = n>>1, k+1 { // 8n = n * 2^3
		if n&1 != 0 {
			crc = mulMod(x2k[k%len(x2k)], crc)
		}
	}
	return crc
}

// carryCRC returns the CRC of b after its header bytes changed from old
// (the bytes from attributesAt to HeaderSize before the change) to what b
// holds now, given the CRC b had before.
func carryCRC(stored uint32, old, b []byte) uint32 {
	header := b[attributesAt:HeaderSize]
	delta := crc32.Checksum(old, castagnoli) ^ crc32.Checksum(header, castagnoli)
	return stored ^ shiftZeros(delta, len(b)-HeaderSize)
}
