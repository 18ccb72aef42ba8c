package wire

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzReader feeds arbitrary bytes as a connection: the reader must return
// frames or an error, never panic or allocate past its limit.
func FuzzReader(f *testing.F) {
	f.Add(frameOf([]byte("hello")))
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0x10})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add(encodeRequest(&kmsg.MetadataRequest{Version: 12}, 1, nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in), 16, 1<<16, new(Pool))
		total := 0
		for {
			fr, err := r.Next()
			if err != nil {
				var tl *ErrTooLarge
				var nk *ErrNotKafka
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, ErrMalformed) && !errors.As(err, &tl) && !errors.As(err, &nk) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				return
			}
			total += len(fr)
			if total > len(in) {
				t.Fatalf("returned %d bytes from %d", total, len(in))
			}
		}
	})
}

// FuzzRequestHeader parses arbitrary frames as request headers.
func FuzzRequestHeader(f *testing.F) {
	f.Add(encodeRequest(&kmsg.MetadataRequest{Version: 12}, 1, nil), true)
	f.Add(encodeRequest(&kmsg.ProduceRequest{Version: 7}, 1, nil), false)
	f.Fuzz(func(t *testing.T, frame []byte, flexible bool) {
		h, err := ParseRequestHeader(frame, flexible)
		if err == nil && (h.BodyOffset < 12 || h.BodyOffset > len(frame)) {
			t.Fatalf("body offset %d out of frame of %d", h.BodyOffset, len(frame))
		}
		if err == nil && h.APIKey == 0 {
			_, _ = ProduceAcks(frame[h.BodyOffset:], h.APIVersion, flexible)
		}
	})
}
