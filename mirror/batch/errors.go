package batch

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error about bytes that do not follow the
// v2 record batch format, so callers can tell corrupt input from their own
// mistakes with errors.Is.
var ErrMalformed = errors.New("malformed record batch")

// ErrOldMessageFormat is wrapped by the error for a message set in the
// pre-0.11 formats (magic 0 or 1). Those carry no producer id or sequence, so
// they cannot be copied offset for offset through an idempotent producer.
var ErrOldMessageFormat = errors.New("message format v0/v1 (magic 0 or 1): the mirror engine supports only v2 record batches (magic 2, Kafka 0.11+)")

// ErrControlBatch is returned by Rewrite for a control batch (a transaction
// marker). Markers are written by the destination's own transaction
// coordinator; copying one as data would be rejected by the broker and would
// not mean the same thing anyway.
var ErrControlBatch = errors.New("control batches (transaction markers) cannot be copied as data")

// CRCError reports a batch whose stored CRC does not match its content. It
// wraps ErrMalformed.
type CRCError struct {
	Offset   int64  // the batch's base offset, as found in the batch
	Stored   uint32 // the CRC in the header
	Computed uint32 // the CRC-32C of the bytes from the attributes to the end
}

func (e *CRCError) Error() string {
	return fmt.Sprintf("record batch at offset %d: crc mismatch: header has %#08x, content has %#08x", e.Offset, e.Stored, e.Computed)
}

func (*CRCError) Unwrap() error { return ErrMalformed }

// malformed returns an error wrapping ErrMalformed.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
