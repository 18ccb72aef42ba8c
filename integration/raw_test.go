package integration

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/linkproxy/linkproxy/proxy/wire"
)

// rawConn sends kmsg requests at exactly the version the test picks, which
// kgo would otherwise negotiate for us.
type rawConn struct {
	t    testing.TB
	c    net.Conn
	rd   *wire.Reader
	w    *bufio.Writer
	corr int32
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, rd: wire.NewReader(c, 4096, 1<<30, new(wire.Pool)), w: bufio.NewWriter(c)}
}

// roundTrip sends req and returns the raw response body and the decoded
// response.
func (r *rawConn) roundTrip(req kmsg.Request) ([]byte, kmsg.Response, error) {
	r.corr++
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw-test"))
	if _, err := r.w.Write(f.AppendRequest(nil, req, r.corr)); err != nil {
		return nil, nil, err
	}
	if err := r.w.Flush(); err != nil {
		return nil, nil, err
	}
	r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	frame, err := r.rd.Next()
	if err != nil {
		return nil, nil, fmt.Errorf("%s v%d: %w", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	flexible := resp.IsFlexible() && req.Key() != 18
	off, err := wire.ResponseBodyOffset(frame, flexible)
	if err != nil {
		return nil, nil, err
	}
	if corr, _ := wire.ResponseCorrelationID(frame); corr != r.corr {
		return nil, nil, fmt.Errorf("correlation id %d, want %d", corr, r.corr)
	}
	if err := resp.ReadFrom(frame[off:]); err != nil {
		return nil, nil, fmt.Errorf("decoding %s v%d: %w", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return frame, resp, nil
}

func (r *rawConn) must(req kmsg.Request) kmsg.Response {
	r.t.Helper()
	_, resp, err := r.roundTrip(req)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp
}

// apiVersions returns the proxy's advertised max version per key.
func (r *rawConn) apiVersions() map[int16]int16 {
	r.t.Helper()
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "raw", "1"
	resp := r.must(req).(*kmsg.ApiVersionsResponse)
	if resp.ErrorCode != 0 {
		r.t.Fatalf("ApiVersions error %d", resp.ErrorCode)
	}
	m := map[int16]int16{}
	for _, k := range resp.ApiKeys {
		m[k.ApiKey] = k.MaxVersion
	}
	return m
}
