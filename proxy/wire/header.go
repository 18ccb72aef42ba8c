package wire

import (
	"encoding/binary"
	"fmt"
)

// RequestHeader holds the request header fields the proxy routes on. The
// client id is not copied: it stays in the frame.
type RequestHeader struct {
	APIKey        int16
	APIVersion    int16
	CorrelationID int32
	// BodyOffset is where the request body starts in the frame (length
	// prefix included). It is only known when the header's flexibility was
	// given to ParseRequestHeader.
	BodyOffset int
}

// PeekRequestHeader reads the fixed part of a request header (key, version,
// correlation id) from a frame, length prefix included.
func PeekRequestHeader(frame []byte) (RequestHeader, error) {
	if len(frame) < 4+8 {
		return RequestHeader{}, fmt.Errorf("%w: request of %d bytes is shorter than a request header", ErrMalformed, len(frame)-4)
	}
	return RequestHeader{
		APIKey:        int16(binary.BigEndian.Uint16(frame[4:])),
		APIVersion:    int16(binary.BigEndian.Uint16(frame[6:])),
		CorrelationID: int32(binary.BigEndian.Uint32(frame[8:])),
	}, nil
}

// ParseRequestHeader reads a whole request header; flexible says whether it
// is request header v2 (with tagged fields), which depends on the API key
// and version.
func ParseRequestHeader(frame []byte, flexible bool) (RequestHeader, error) {
	h, err := PeekRequestHeader(frame)
	if err != nil {
		return h, err
	}
	r := reader{b: frame, off: 12}
	r.nullableString() // client id, always non-compact in request headers
	if flexible {
		r.skipTags()
	}
	if r.err != nil {
		return h, fmt.Errorf("request header of api key %d v%d: %w", h.APIKey, h.APIVersion, r.err)
	}
	h.BodyOffset = r.off
	return h, nil
}

// ResponseCorrelationID returns the correlation id of a response frame,
// length prefix included.
func ResponseCorrelationID(frame []byte) (int32, error) {
	if len(frame) < 8 {
		return 0, fmt.Errorf("%w: response of %d bytes has no correlation id", ErrMalformed, len(frame)-4)
	}
	return int32(binary.BigEndian.Uint32(frame[4:])), nil
}

// ResponseBodyOffset returns where the body of a response frame starts:
// after the correlation id, and after the header's tagged fields when the
// response header is flexible (v1).
func ResponseBodyOffset(frame []byte, flexible bool) (int, error) {
	if _, err := ResponseCorrelationID(frame); err != nil {
		return 0, err
	}
	if !flexible {
		return 8, nil
	}
	r := reader{b: frame, off: 8}
	r.skipTags()
	if r.err != nil {
		return 0, fmt.Errorf("response header: %w", r.err)
	}
	return r.off, nil
}

// ProduceAcks returns the acks field of a Produce request body. acks=0
// requests get no response, which the proxy must know to match responses to
// requests.
func ProduceAcks(body []byte, version int16, flexible bool) (int16, error) {
	r := reader{b: body}
	if version >= 3 {
		if flexible {
			r.compactNullableString()
		} else {
			r.nullableString()
		}
	}
	acks := r.int16()
	if r.err != nil {
		return 0, fmt.Errorf("produce v%d request: %w", version, r.err)
	}
	return acks, nil
}

// reader walks the few primitive types headers use; the first error sticks.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || len(r.b)-r.off < n {
		r.err = fmt.Errorf("%w: truncated at byte %d", ErrMalformed, r.off)
		return false
	}
	return true
}

func (r *reader) int16() int16 {
	if !r.need(2) {
		return 0
	}
	v := int16(binary.BigEndian.Uint16(r.b[r.off:]))
	r.off += 2
	return v
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint at byte %d", ErrMalformed, r.off)
		return 0
	}
	r.off += n
	return v
}

func (r *reader) nullableString() {
	n := r.int16()
	if n > 0 {
		r.skip(int(n))
	} else if n < -1 {
		r.err = fmt.Errorf("%w: string length %d", ErrMalformed, n)
	}
}

func (r *reader) compactNullableString() {
	n := r.uvarint()
	if n > 1 {
		r.skip(int(n - 1))
	}
}

func (r *reader) skip(n int) {
	if r.need(n) {
		r.off += n
	}
}

func (r *reader) skipTags() {
	n := r.uvarint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		r.uvarint() // tag
		size := r.uvarint()
		if size > uint64(len(r.b)) {
			r.err = fmt.Errorf("%w: tagged field of %d bytes", ErrMalformed, size)
			return
		}
		r.skip(int(size))
	}
}
