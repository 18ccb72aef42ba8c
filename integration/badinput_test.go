package integration

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// expectClosed asserts the proxy closes c without sending anything more.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(make([]byte, 1))
	if n != 0 || err == nil {
		t.Fatalf("connection still open: read %d bytes, %v", n, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("connection not closed within 10s")
	}
}

// metadataWorks checks a connection still answers, with every broker.
func metadataWorks(t *testing.T, rc *rawConn) {
	t.Helper()
	if m := rc.must(newMetadata(9)).(*kmsg.MetadataResponse); len(m.Brokers) < 3 {
		t.Fatalf("metadata on a working connection: %d brokers", len(m.Brokers))
	}
}

func newMetadata(v int16) *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	req.Version = v
	return req
}

// closedFor returns the reason logged when the connection from local closed.
func closedFor(t *testing.T, e *env, local net.Addr) string {
	t.Helper()
	l := e.Logs.waitLine(t, "connection closed", func(m map[string]any) bool { return m["client"] == local.String() })
	for _, k := range []string{"listener", "kind", "client", "reason"} {
		if l[k] == nil || l[k] == "" {
			t.Errorf("close log line lacks %q: %v", k, l)
		}
	}
	return l["reason"].(string)
}

// TestBadInputClosesOnlyThatConnection sends each kind of bad input on its
// own connection while a bystander connection on the same listener keeps
// working, and checks the reason the proxy logs.
func TestBadInputClosesOnlyThatConnection(t *testing.T) {
	e := startEnv(t, withProxy(`"socket.request.max.bytes" = 1048576`))
	l := e.Listeners["EXTERNAL"]
	bystander := dialRaw(t, l.Bootstrap)
	metadataWorks(t, bystander)

	tests := []struct {
		name   string
		send   func(c net.Conn)
		reason string
	}{
		{"oversized frame", func(c net.Conn) {
			// Only the length prefix is sent: the proxy must refuse
			// on it alone, before reading or allocating the body.
			c.Write(binary.BigEndian.AppendUint32(nil, 1048577))
		}, "exceeds the limit of 1048576 bytes (socket.request.max.bytes)"},
		{"negative length", func(c net.Conn) { c.Write([]byte{0xff, 0xff, 0xff, 0xf0}) }, "negative length"},
		{"header shorter than a request header", func(c net.Conn) { c.Write([]byte{0, 0, 0, 3, 0, 3, 0}) }, "shorter than a request header"},
		{"unknown api key", func(c net.Conn) {
			c.Write([]byte{0, 0, 0, 10, 0x7f, 0x00, 0, 0, 0, 0, 0, 1, 0xff, 0xff})
		}, "unknown api key 32512"},
		{"controller-only api", func(c net.Conn) {
			req := kmsg.NewPtrDescribeQuorumRequest()
			c.Write(kmsg.NewRequestFormatter().AppendRequest(nil, req, 1))
		}, "unknown api key 55"},
		{"version above advertised", func(c net.Conn) {
			c.Write([]byte{0, 0, 0, 10, 0, 3, 0x7f, 0, 0, 0, 0, 1, 0xff, 0xff})
		}, "is above v"},
		{"truncated produce", func(c net.Conn) {
			c.Write([]byte{0, 0, 0, 10, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0})
		}, "malformed frame"},
		{"tls client hello", func(c net.Conn) {
			tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
			tc.SetDeadline(time.Now().Add(5 * time.Second))
			tc.Handshake()
		}, "TLS ClientHello"},
		{"http request", func(c net.Conn) { io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") }, "HTTP instead of a Kafka frame"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", l.Bootstrap)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			tt.send(c)
			expectClosed(t, c)
			reason := closedFor(t, e, c.LocalAddr())
			if !strings.Contains(reason, tt.reason) {
				t.Errorf("reason %q does not say %q", reason, tt.reason)
			}
			metadataWorks(t, bystander)
		})
	}
	tls := e.Logs.waitLine(t, "connection closed", func(m map[string]any) bool {
		return strings.Contains(m["reason"].(string), "TLS")
	})
	if tls["listener"] != "EXTERNAL" || !strings.Contains(tls["reason"].(string), "security.protocol=PLAINTEXT for listener EXTERNAL") {
		t.Errorf("TLS close line does not name the listener and the fix: %v", tls)
	}
}

// TestIdleConnectionsClose checks connections.max.idle.ms: a silent
// connection is closed, a busy one is not.
func TestIdleConnectionsClose(t *testing.T) {
	e := startEnv(t, withProxy(`"connections.max.idle.ms" = 400`))
	l := e.Listeners["INTERNAL"]
	idle := dialRaw(t, l.Bootstrap)
	metadataWorks(t, idle) // the upstream side is dialed and tracked
	busy := dialRaw(t, l.Bootstrap)
	start := time.Now()
	for time.Since(start) < 1500*time.Millisecond {
		metadataWorks(t, busy)
		time.Sleep(100 * time.Millisecond)
	}
	expectClosed(t, idle.c)
	if r := closedFor(t, e, idle.c.LocalAddr()); !strings.Contains(r, "idle") {
		t.Errorf("reason %q", r)
	}
	metadataWorks(t, busy)
}

// TestPassthroughAPIKeys forwards a vendor key listed in the config
// byte for byte, both ways, instead of refusing it. The upstream is a TCP
// echo of the vendor frame, not kfake: kfake crashes on a key it does not
// know (Apache Kafka closes the connection).
func TestPassthroughAPIKeys(t *testing.T) {
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	vendorReq := []byte{0, 0, 0, 10, 0x7d, 0x00, 0, 0, 0, 0, 0, 1, 0xff, 0xff} // key 32000, correlation id 1
	vendorResp := []byte{0, 0, 0, 7, 0, 0, 0, 1, 0xca, 0xfe, 0x00}             // correlation id 1, opaque body
	var mu sync.Mutex
	var got bytes.Buffer // what every upstream connection received
	go func() {
		for {
			c, err := sink.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b := make([]byte, 512)
				for {
					n, err := c.Read(b)
					mu.Lock()
					got.Write(b[:n])
					mu.Unlock()
					if bytes.Contains(b[:n], vendorReq) {
						c.Write(vendorResp)
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	e := startEnv(t, withUpstream(sink.Addr().String()), withProxy(`passthrough_api_keys = [32000]`))
	c, err := net.Dial("tcp", e.Listeners["INTERNAL"].Bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(vendorReq)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp := make([]byte, len(vendorResp))
	if _, err := io.ReadFull(c, resp); err != nil {
		t.Fatalf("no vendor response through the proxy: %v", err)
	}
	if !bytes.Equal(resp, vendorResp) {
		t.Fatalf("client got %x, want %x", resp, vendorResp)
	}
	mu.Lock()
	defer mu.Unlock()
	if !bytes.Contains(got.Bytes(), vendorReq) {
		t.Fatalf("upstream never saw the vendor request")
	}
}

// TestConnectionLogLines checks the one line per open and close.
func TestConnectionLogLines(t *testing.T) {
	e := startEnv(t)
	rc := dialRaw(t, e.Listeners["EXTERNAL"].Bootstrap)
	metadataWorks(t, rc)
	local := rc.c.LocalAddr().String()
	open := e.Logs.waitLine(t, "connection opened", func(m map[string]any) bool { return m["client"] == local })
	if open["listener"] != "EXTERNAL" || open["kind"] != "forward" {
		t.Errorf("open line: %v", open)
	}
	rc.c.Close()
	if r := closedFor(t, e, rc.c.LocalAddr()); r != "client closed the connection" {
		t.Errorf("reason %q", r)
	}
}
