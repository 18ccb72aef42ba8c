package batch

import (
	"encoding/binary"
	"fmt"
)

// Split cuts the Records bytes of one fetched partition (concatenated
// batches) into whole batches, each checked with ParseHeader. CRCs are not
// checked here: a copied batch carries its CRC forward (Rewrite), so the
// destination checks it, and SplitRuns checks a batch before re-encoding it.
//
// A fetch response may end with a partial batch, cut at the fetch's byte
// limit; it is dropped silently, as Kafka clients do, and fetched again from
// its offset later. Any other defect is an error, since a mirror must not
// skip data: a message set in the old v0/v1 formats wraps ErrOldMessageFormat. With an
// error, the whole batches before the bad one are returned too.
//
// The returned batches alias raw (capacity-limited, so appending to one
// cannot overwrite the next).
func Split(raw []byte) ([][]byte, error) {
	var batches [][]byte
	for len(raw) > 0 {
		// Magic sits at byte 16 in every message format, so we can
		// name the format before trusting the length. Fewer bytes than
		// that can only be the start of a cut batch.
		if len(raw) <= magicAt {
			break
		}
		if m := int8(raw[magicAt]); m != 2 {
			if m == 0 || m == 1 {
				return batches, fmtOld(raw, m)
			}
			return batches, malformed("unknown magic %d at offset %d", m, int64(binary.BigEndian.Uint64(raw)))
		}
		length := int32(binary.BigEndian.Uint32(raw[lengthAt:]))
		if length < minLength {
			return batches, malformed("batch at offset %d: length %d is below the minimum %d", int64(binary.BigEndian.Uint64(raw)), length, minLength)
		}
		size := int64(length) + lengthOverhead
		if int64(len(raw)) < size {
			break // the partial batch at the end of a fetch
		}
		b := raw[:size:size]
		if _, err := ParseHeader(b); err != nil {
			return batches, fmt.Errorf("splitting fetched records after %d whole batches: %w", len(batches), err)
		}
		batches = append(batches, b)
		raw = raw[size:]
	}
	return batches, nil
}

// fmtOld returns the error for an old format message set found at the start
// of b, which has more than magicAt bytes.
func fmtOld(b []byte, magic int8) error {
	return fmt.Errorf("message set with magic %d at offset %d: %w", magic, int64(binary.BigEndian.Uint64(b)), ErrOldMessageFormat)
}
