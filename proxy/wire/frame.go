package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrTooLarge is returned, before anything is allocated, for a frame whose
// length prefix exceeds the reader's limit.
type ErrTooLarge struct {
	Size, Max int32
}

func (e *ErrTooLarge) Error() string {
	return fmt.Sprintf("frame of %d bytes exceeds the limit of %d bytes (socket.request.max.bytes)", e.Size, e.Max)
}

// ErrNotKafka is returned when the first bytes of a connection are not a
// Kafka frame but another protocol that is common enough to name, so that an
// operator learns what the client is misconfigured with.
type ErrNotKafka struct {
	Protocol string // "TLS" or "HTTP"
}

func (e *ErrNotKafka) Error() string {
	switch e.Protocol {
	case "TLS":
		return "received a TLS ClientHello: the client uses security.protocol SSL or SASL_SSL on a listener without TLS"
	default:
		return fmt.Sprintf("received %s instead of a Kafka frame", e.Protocol)
	}
}

// ErrMalformed is wrapped by every error about bytes that do not follow the
// Kafka protocol.
var ErrMalformed = errors.New("malformed frame")

// Reader reads whole frames. A frame is returned with its 4-byte length
// prefix so that it can be forwarded with a single write.
type Reader struct {
	src   io.Reader
	br    *bufio.Reader
	max   int32
	pool  *Pool
	first bool
}

// NewReader returns a Reader that refuses frames larger than max bytes
// (not counting the length prefix) and takes its buffers from pool.
func NewReader(r io.Reader, bufSize int, max int32, pool *Pool) *Reader {
	return &Reader{src: r, br: bufio.NewReaderSize(r, bufSize), max: max, pool: pool, first: true}
}

// Buffered reports how many bytes are already read from the socket but not
// yet returned, which lets a caller flush its writer only when no further
// frame is ready.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// Next returns the next frame, length prefix included, in a buffer from the
// pool; the caller gives it back with Pool.Put once it is written.
func (r *Reader) Next() ([]byte, error) {
	size, err := r.Size()
	if err != nil {
		return nil, err
	}
	buf := r.pool.Get(size)
	if _, err := io.ReadFull(r.br, buf); err != nil {
		r.pool.Put(buf)
		return nil, eof(err)
	}
	return buf, nil
}

// Size returns the size of the next frame, length prefix included, once
// its prefix has arrived and passed the checks; nothing is consumed.
func (r *Reader) Size() (int, error) {
	head, err := r.br.Peek(4)
	if err != nil {
		if len(head) > 0 || errors.Is(err, bufio.ErrBufferFull) {
			err = eof(err)
		}
		return 0, err
	}
	if r.first {
		r.first = false
		if p := sniff(head); p != "" {
			return 0, &ErrNotKafka{Protocol: p}
		}
	}
	size := int32(binary.BigEndian.Uint32(head))
	switch {
	case size < 0:
		return 0, fmt.Errorf("%w: negative length %d", ErrMalformed, size)
	case size > r.max:
		return 0, &ErrTooLarge{Size: size, Max: r.max}
	}
	return int(size) + 4, nil
}

// Head returns the first n bytes of the next frame without consuming them;
// n may not exceed the reader's buffer size.
func (r *Reader) Head(n int) ([]byte, error) {
	b, err := r.br.Peek(n)
	return b, eof(err)
}

// Stream copies the next n bytes, a frame whose Size was taken, to w:
// first what is already buffered, then straight from the source, so that a
// TCP-to-TCP copy can use splice(2) and the frame never sits whole in
// memory.
func (r *Reader) Stream(w io.Writer, n int) error {
	for n > 0 && r.br.Buffered() > 0 {
		b, _ := r.br.Peek(min(n, r.br.Buffered()))
		k, err := w.Write(b)
		r.br.Discard(k)
		n -= k
		if err != nil {
			return err
		}
	}
	if n == 0 {
		return nil
	}
	copied, err := io.CopyN(w, r.src, int64(n))
	if err == io.EOF || (err == nil && copied < int64(n)) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// eof turns an end of stream inside a frame into io.ErrUnexpectedEOF.
func eof(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, bufio.ErrBufferFull) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// sniff names the protocol of a connection's first bytes when they are
// unmistakably not Kafka. A Kafka frame starts with a big-endian length, so
// a TLS record header (0x16 0x03 ...) would read as a length above 369 MB,
// and an HTTP method as a length above 1 GB.
func sniff(b []byte) string {
	if b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x04 {
		return "TLS"
	}
	switch string(b) {
	case "GET ", "POST", "PUT ", "HEAD", "PRI ", "OPTI", "DELE", "CONN":
		return "HTTP"
	}
	return ""
}

// AppendFrame appends a length-prefixed frame made of header and body.
func AppendFrame(dst, header, body []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(header)+len(body)))
	dst = append(dst, header...)
	return append(dst, body...)
}
