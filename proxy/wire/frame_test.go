package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func frameOf(body []byte) []byte { return AppendFrame(nil, nil, body) }

func TestReaderNext(t *testing.T) {
	var pool Pool
	tests := []struct {
		name    string
		in      []byte
		max     int32
		want    [][]byte
		wantErr func(error) bool
	}{
		{"two frames", append(frameOf([]byte("abc")), frameOf([]byte("de"))...), 100,
			[][]byte{frameOf([]byte("abc")), frameOf([]byte("de"))}, func(err error) bool { return err == io.EOF }},
		{"empty frame", frameOf(nil), 100, [][]byte{frameOf(nil)}, func(err error) bool { return err == io.EOF }},
		{"too large", frameOf(make([]byte, 101)), 100, nil,
			func(err error) bool { var e *ErrTooLarge; return errors.As(err, &e) && e.Size == 101 }},
		{"negative", []byte{0x80, 0, 0, 0}, 100, nil, func(err error) bool { return errors.Is(err, ErrMalformed) }},
		{"truncated body", []byte{0, 0, 0, 5, 1, 2}, 100, nil, func(err error) bool { return err == io.ErrUnexpectedEOF }},
		{"truncated prefix", []byte{0, 0}, 100, nil, func(err error) bool { return err == io.ErrUnexpectedEOF }},
		{"tls hello", []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}, 100, nil,
			func(err error) bool { var e *ErrNotKafka; return errors.As(err, &e) && e.Protocol == "TLS" }},
		{"http", []byte("GET / HTTP/1.1\r\n\r\n"), 100, nil,
			func(err error) bool { var e *ErrNotKafka; return errors.As(err, &e) && e.Protocol == "HTTP" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tt.in), 16, tt.max, &pool)
			for i, want := range tt.want {
				got, err := r.Next()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("frame %d: got %x want %x", i, got, want)
				}
				pool.Put(got)
			}
			if _, err := r.Next(); !tt.wantErr(err) {
				t.Fatalf("unexpected error %v", err)
			}
		})
	}
}

// A TLS signature is only meaningful as a connection's first bytes; later
// frames that happen to start alike are plain (oversized) frames.
func TestSniffOnlyFirstFrame(t *testing.T) {
	in := append(frameOf([]byte("x")), 0x16, 0x03, 0x01, 0x02)
	r := NewReader(bytes.NewReader(in), 64, 100, new(Pool))
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	var e *ErrTooLarge
	if _, err := r.Next(); !errors.As(err, &e) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

func encodeRequest(req kmsg.Request, corr int32, clientID *string) []byte {
	var f kmsg.RequestFormatter
	if clientID != nil {
		f = *kmsg.NewRequestFormatter(kmsg.FormatterClientID(*clientID))
	} else {
		f = *kmsg.NewRequestFormatter()
	}
	return f.AppendRequest(nil, req, corr)
}

func TestParseRequestHeader(t *testing.T) {
	id := "client-1"
	for _, tt := range []struct {
		name     string
		req      kmsg.Request
		clientID *string
	}{
		{"metadata v1 with client id", &kmsg.MetadataRequest{Version: 1}, &id},
		{"metadata v12 flexible", &kmsg.MetadataRequest{Version: 12}, &id},
		{"produce v3 null client id", &kmsg.ProduceRequest{Version: 3, Acks: -1}, nil},
		{"api versions v3 flexible", &kmsg.ApiVersionsRequest{Version: 3, ClientSoftwareName: "a", ClientSoftwareVersion: "1"}, &id},
	} {
		t.Run(tt.name, func(t *testing.T) {
			frame := encodeRequest(tt.req, 42, tt.clientID)
			h, err := ParseRequestHeader(frame, tt.req.IsFlexible())
			if err != nil {
				t.Fatal(err)
			}
			if h.APIKey != tt.req.Key() || h.APIVersion != tt.req.GetVersion() || h.CorrelationID != 42 {
				t.Fatalf("got %+v", h)
			}
			body := tt.req.AppendTo(nil)
			if !bytes.Equal(frame[h.BodyOffset:], body) {
				t.Fatalf("body offset %d wrong", h.BodyOffset)
			}
		})
	}
}

func TestProduceAcks(t *testing.T) {
	txn := "txn"
	for _, v := range []int16{0, 2, 3, 8, 9, 11, 13} {
		for _, acks := range []int16{0, 1, -1} {
			req := &kmsg.ProduceRequest{Version: v, Acks: acks, TimeoutMillis: 1000}
			if v >= 3 {
				req.TransactionID = &txn
			}
			got, err := ProduceAcks(req.AppendTo(nil), v, req.IsFlexible())
			if err != nil || got != acks {
				t.Fatalf("v%d acks %d: got %d, %v", v, acks, got, err)
			}
		}
	}
	if _, err := ProduceAcks([]byte{0}, 0, false); !errors.Is(err, ErrMalformed) {
		t.Fatalf("truncated: %v", err)
	}
}

func TestResponseBodyOffset(t *testing.T) {
	frame := []byte{0, 0, 0, 7, 0, 0, 0, 9, 0, 0xAA, 0xBB}
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	if off, err := ResponseBodyOffset(frame, true); err != nil || off != 9 {
		t.Fatalf("flexible: %d %v", off, err)
	}
	if off, err := ResponseBodyOffset(frame, false); err != nil || off != 8 {
		t.Fatalf("plain: %d %v", off, err)
	}
	if _, err := ResponseBodyOffset(frame[:6], false); err == nil {
		t.Fatal("short frame accepted")
	}
}

func TestPoolClasses(t *testing.T) {
	var p Pool
	for _, n := range []int{0, 1, 512, 513, 4096, 1 << 20, 1<<24 + 1} {
		b := p.Get(n)
		if len(b) != n {
			t.Fatalf("Get(%d) len %d", n, len(b))
		}
		p.Put(b)
	}
}

// An oversized length prefix is refused on its 4 bytes alone: no buffer of
// the announced size is ever allocated.
func TestTooLargeAllocatesNothing(t *testing.T) {
	in := binary.BigEndian.AppendUint32(nil, 100<<20)
	var pool Pool
	allocs := testing.AllocsPerRun(50, func() {
		r := NewReader(bytes.NewReader(in), 16, 1<<20, &pool)
		if _, err := r.Next(); err == nil {
			t.Fatal("accepted")
		}
	})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := NewReader(bytes.NewReader(in), 16, 1<<20, &pool)
	r.Next()
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<10 {
		t.Fatalf("refusing a 100 MiB frame allocated %d bytes", grew)
	}
	if allocs > 4 { // the bufio.Reader, its buffer, the Reader and the error
		t.Fatalf("%v allocations", allocs)
	}
}
