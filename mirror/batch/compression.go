package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// maxDecompressed bounds how large a records section may decompress to.
// Nothing in the format bounds the ratio (zstd reaches tens of thousands to
// one), so without a limit a few corrupt kilobytes could demand gigabytes.
// Kafka's message.max.bytes applies to the compressed batch; 256 MiB leaves
// far more room than a real batch uses. A variable so tests can lower it
// (the zstd decoder takes it at first use, so decompress checks again).
var maxDecompressed = 256 << 20

// errTooLarge is wrapped when a records section decompresses past
// maxDecompressed.
var errTooLarge = errors.New("records section decompresses past the limit")

// Decoders and encoders are expensive to build, and only holed batches
// (rare) get here, so they are pooled rather than kept per caller.
var (
	gzipReaders sync.Pool // *gzip.Reader; no New: Reset needs a valid stream
	gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}
	lz4Readers  = sync.Pool{New: func() any { return lz4.NewReader(nil) }}
	lz4Writers  = sync.Pool{New: func() any {
		// 64 KiB blocks, as the Java producer writes them, rather than
		// the library's 4 MiB: a run is small, and a reader allocates
		// the block size the frame declares.
		w := lz4.NewWriter(nil)
		if err := w.Apply(lz4.BlockSizeOption(lz4.Block64Kb)); err != nil {
			panic(err) // a constant option; cannot fail
		}
		return w
	}}

	// zstd's DecodeAll and EncodeAll are safe for concurrent use and
	// keep their own internal pools, so one of each is shared.
	zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
		return zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(uint64(maxDecompressed)),
		)
	})
	zstdEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
		// The 64 KiB window is what franz-go uses; every Kafka client
		// decodes it and it keeps the encoder's memory small. The
		// concurrency bounds simultaneous EncodeAll calls (1 would
		// serialize all partitions' splits).
		return zstd.NewWriter(nil,
			zstd.WithEncoderConcurrency(0),
			zstd.WithWindowSize(64<<10),
			zstd.WithZeroFrames(true),
		)
	})
)

// xerialMagic starts snappy data framed the way the Java client's
// snappy-java stream writes it. Kafka accepts both that framing and a raw
// snappy block (what franz-go's kgo sends for an ordinary batch), so both
// must be read, and a re-encoded batch keeps the framing its source had.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const (
	xerialHeaderSize = 16       // magic, then version and compatible version, both int32 1
	xerialBlockSize  = 32 << 10 // the block size snappy-java writes
)

// isXerial reports whether snappy data uses the xerial framing.
func isXerial(src []byte) bool {
	return len(src) >= xerialHeaderSize && bytes.HasPrefix(src, xerialMagic)
}

// decompress returns the records section src decoded with codec. For
// CodecNone it returns src itself.
func decompress(codec int8, src []byte) ([]byte, error) {
	switch codec {
	case CodecNone:
		return src, nil
	case CodecGzip:
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		if zr == nil {
			zr = new(gzip.Reader)
		}
		defer gzipReaders.Put(zr)
		if err := zr.Reset(bytes.NewReader(src)); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return readLimited(zr, len(src))
	case CodecSnappy:
		if isXerial(src) {
			return xerialDecode(src)
		}
		return snappyDecode(nil, src)
	case CodecLz4:
		zr := lz4Readers.Get().(*lz4.Reader)
		defer lz4Readers.Put(zr)
		zr.Reset(bytes.NewReader(src))
		return readLimited(zr, len(src))
	case CodecZstd:
		d, err := zstdDecoder()
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		out, err := d.DecodeAll(src, nil)
		if err != nil {
			if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
				return nil, fmt.Errorf("zstd: %w", errTooLarge)
			}
			return nil, fmt.Errorf("zstd: %w", err)
		}
		if len(out) > maxDecompressed {
			return nil, fmt.Errorf("zstd: %w", errTooLarge)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unknown compression codec %d", codec)
	}
}

// readLimited reads r to its end, refusing more than maxDecompressed bytes.
func readLimited(r io.Reader, hint int) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(4*hint+512, maxDecompressed)))
	n, err := buf.ReadFrom(io.LimitReader(r, int64(maxDecompressed)+1))
	if err != nil {
		return nil, err
	}
	if n > int64(maxDecompressed) {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

// snappyDecode appends the raw snappy block src, decoded, to dst. The
// decoded length is the block's first varint and snappy allocates it up
// front, so it is checked before decoding.
func snappyDecode(dst, src []byte) ([]byte, error) {
	n, err := s2.DecodedLen(src)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	if n > maxDecompressed-len(dst) {
		return nil, fmt.Errorf("snappy: %w", errTooLarge)
	}
	dst = growLen(dst, n)
	if _, err := s2.Decode(dst[len(dst)-n:], src); err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	return dst, nil
}

// xerialDecode decodes xerial framed snappy: after the 16 byte header, each
// block is a big endian int32 length and a raw snappy block.
func xerialDecode(src []byte) ([]byte, error) {
	var out []byte
	for rest := src[xerialHeaderSize:]; len(rest) > 0; {
		if len(rest) < 4 {
			return nil, errors.New("snappy: xerial block length cut short")
		}
		n := int32(binary.BigEndian.Uint32(rest))
		rest = rest[4:]
		if n < 0 || int64(n) > int64(len(rest)) {
			return nil, fmt.Errorf("snappy: xerial block of %d bytes with %d left", n, len(rest))
		}
		var err error
		if out, err = snappyDecode(out, rest[:n]); err != nil {
			return nil, err
		}
		rest = rest[n:]
	}
	return out, nil
}

// growLen extends b by n bytes, reallocating if needed.
func growLen(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// compress appends src compressed with codec to dst. For snappy, xerial
// selects the xerial framing over a raw block.
func compress(dst []byte, codec int8, xerial bool, src []byte) ([]byte, error) {
	switch codec {
	case CodecNone:
		return append(dst, src...), nil
	case CodecGzip:
		w := gzipWriters.Get().(*gzip.Writer)
		defer gzipWriters.Put(w)
		return streamCompress(dst, w, src)
	case CodecSnappy:
		if xerial {
			return xerialEncode(dst, src)
		}
		return appendSnappy(dst, src)
	case CodecLz4:
		w := lz4Writers.Get().(*lz4.Writer)
		defer lz4Writers.Put(w)
		return streamCompress(dst, w, src)
	case CodecZstd:
		e, err := zstdEncoder()
		if err != nil {
			return dst, fmt.Errorf("zstd: %w", err)
		}
		return e.EncodeAll(src, dst), nil
	default:
		return dst, fmt.Errorf("unknown compression codec %d", codec)
	}
}

// appendSnappy appends src as one raw snappy block.
func appendSnappy(dst, src []byte) ([]byte, error) {
	n := s2.MaxEncodedLen(len(src))
	if n < 0 {
		return dst, fmt.Errorf("snappy: %d bytes is too large for one block", len(src))
	}
	at := len(dst)
	dst = growLen(dst, n)
	// EncodeSnappy encodes in place when handed enough capacity.
	enc := s2.EncodeSnappy(dst[at:], src)
	return dst[:at+len(enc)], nil
}

// xerialEncode appends src in the xerial framing, in blocks of the size
// snappy-java writes.
func xerialEncode(dst, src []byte) ([]byte, error) {
	dst = append(dst, xerialMagic...)
	dst = binary.BigEndian.AppendUint32(dst, 1) // version
	dst = binary.BigEndian.AppendUint32(dst, 1) // minimum compatible version
	for len(src) > 0 {
		n := min(len(src), xerialBlockSize)
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		var err error
		if dst, err = appendSnappy(dst, src[:n]); err != nil {
			return dst, err
		}
		binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
		src = src[n:]
	}
	return dst, nil
}

// resetWriter is a pooled stream compressor (gzip, lz4).
type resetWriter interface {
	io.WriteCloser
	Reset(io.Writer)
}

// appendWriter is an io.Writer appending to a slice, so compressed output
// lands directly after the batch header being built.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// streamCompress appends src compressed through w to dst.
func streamCompress(dst []byte, w resetWriter, src []byte) ([]byte, error) {
	aw := &appendWriter{b: dst}
	w.Reset(aw)
	_, err := w.Write(src)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	w.Reset(nil) // do not keep dst alive from the pool
	if err != nil {
		return dst, err
	}
	return aw.b, nil
}
