package batch

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// minRecordSize is the smallest encoded record: a one byte varint for each of
// length, timestamp delta, offset delta, key length, value length and header
// count, plus the attributes byte.
const minRecordSize = 7

// rawRecord is one record located in a decoded records section. Splitting a
// batch changes only a record's offset delta and timestamp delta, so the
// rest (from the key to the end of the headers) is kept as the exact bytes
// it was, which is what keeps keys, values and headers byte identical.
type rawRecord struct {
	whole       []byte // the record as encoded, length prefix included
	attrs       byte
	tsDelta     int64
	offsetDelta int32
	tail        []byte // key, value and headers, encoded
}

// parseRecords locates the n records of a decoded records section, checking
// their framing and that nothing follows them.
func parseRecords(data []byte, n int32) ([]rawRecord, error) {
	recs := make([]rawRecord, 0, min(int(n), len(data)/minRecordSize))
	for i := range n {
		r, size, err := parseRecord(data)
		if err != nil {
			return nil, fmt.Errorf("record %d of %d: %w", i, n, err)
		}
		recs = append(recs, r)
		data = data[size:]
	}
	if len(data) != 0 {
		return nil, malformed("%d bytes follow the batch's %d records", len(data), n)
	}
	return recs, nil
}

// parseRecord parses the record at the start of b and returns it with its
// encoded size.
func parseRecord(b []byte) (rawRecord, int, error) {
	length, n := readVarint(b)
	if n == 0 {
		return rawRecord{}, 0, malformed("bad record length varint")
	}
	if length < 0 || int64(length) > int64(len(b)-n) {
		return rawRecord{}, 0, malformed("record length %d with %d bytes left", length, len(b)-n)
	}
	size := n + int(length)
	body := b[n:size]
	r := rawRecord{whole: b[:size:size]}

	if len(body) < 1 {
		return r, 0, malformed("record without attributes")
	}
	r.attrs = body[0]
	body = body[1:]
	if r.tsDelta, n = readVarlong(body); n == 0 {
		return r, 0, malformed("bad timestamp delta varint")
	}
	body = body[n:]
	if r.offsetDelta, n = readVarint(body); n == 0 {
		return r, 0, malformed("bad offset delta varint")
	}
	body = body[n:]
	r.tail = body

	// The tail is kept as bytes, but it must still hold exactly a key, a
	// value and headers: Kafka rejects a record with bytes left over.
	var err error
	if body, err = skipBytes(body, "key"); err != nil {
		return r, 0, err
	}
	if body, err = skipBytes(body, "value"); err != nil {
		return r, 0, err
	}
	count, n := readVarint(body)
	if n == 0 || count < 0 {
		return r, 0, malformed("bad header count")
	}
	body = body[n:]
	for h := range count {
		if body, err = skipBytes(body, "header key"); err != nil {
			return r, 0, fmt.Errorf("header %d: %w", h, err)
		}
		if body, err = skipBytes(body, "header value"); err != nil {
			return r, 0, fmt.Errorf("header %d: %w", h, err)
		}
	}
	if len(body) != 0 {
		return r, 0, malformed("%d bytes left over in a record", len(body))
	}
	return r, size, nil
}

// skipBytes skips a varint length prefixed byte string (-1 is null).
func skipBytes(b []byte, what string) ([]byte, error) {
	l, n := readVarint(b)
	if n == 0 || l < -1 || int64(l) > int64(len(b)-n) {
		return nil, malformed("bad %s length", what)
	}
	return b[n+max(int(l), 0):], nil
}

// appendRecord appends r re-encoded with new deltas; the tail is copied as
// is.
func appendRecord(dst []byte, r *rawRecord, offsetDelta int32, tsDelta int64) []byte {
	length := 1 + varlongLen(tsDelta) + varintLen(offsetDelta) + len(r.tail)
	dst = appendVarint(dst, int32(length))
	dst = append(dst, r.attrs)
	dst = appendVarlong(dst, tsDelta)
	dst = appendVarint(dst, offsetDelta)
	return append(dst, r.tail...)
}

// decodeRecords checks b and returns its header and located records.
func decodeRecords(b []byte) (Header, []rawRecord, error) {
	h, err := parseChecked(b)
	if err != nil {
		return h, nil, err
	}
	recs, err := decodeChecked(h, b)
	return h, recs, err
}

// decodeChecked decompresses and locates the records of b, already checked
// by parseChecked into h.
func decodeChecked(h Header, b []byte) ([]rawRecord, error) {
	data, err := decompress(h.Codec(), b[HeaderSize:])
	if err != nil {
		return nil, fmt.Errorf("%w: batch at offset %d: decompressing records: %w", ErrMalformed, h.BaseOffset, err)
	}
	recs, err := parseRecords(data, h.NumRecords)
	if err != nil {
		return nil, fmt.Errorf("batch at offset %d: %w", h.BaseOffset, err)
	}
	return recs, nil
}

// Records decodes the records of batch b (decompressing them if needed).
// Offset and timestamp deltas are as in the batch: a record's offset is
// BaseOffset+OffsetDelta and its timestamp FirstTimestamp+TimestampDelta64
// (or MaxTimestamp for LogAppendTime). Keys, values and header values may
// alias b.
func Records(b []byte) ([]kmsg.Record, error) {
	_, raws, err := decodeRecords(b)
	if err != nil {
		return nil, err
	}
	recs := make([]kmsg.Record, len(raws))
	for i := range raws {
		if err := recs[i].ReadFrom(raws[i].whole); err != nil {
			return nil, fmt.Errorf("%w: record %d: %w", ErrMalformed, i, err)
		}
	}
	return recs, nil
}
