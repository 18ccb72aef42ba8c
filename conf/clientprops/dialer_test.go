package clientprops

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, props map[string]any) *Props {
	t.Helper()
	p, errs := Parse(props)
	if errs != nil {
		t.Fatal(errs)
	}
	return p
}

// listen starts a loopback listener that accepts and holds connections
// until the test ends, and returns its port.
func listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func TestDialerTriesEveryAddress(t *testing.T) {
	port := listen(t)
	d := newDialer(mustParse(t, map[string]any{"bootstrap.servers": "a:1"}))
	var asked string
	d.lookup = func(_ context.Context, network, host string) ([]netip.Addr, error) {
		asked = network + " " + host
		// Nothing listens on 127.0.0.3: refused at once, then the next.
		return []netip.Addr{netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("127.0.0.1")}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	conn, err := d.dial(ctx, "tcp", net.JoinHostPort("broker.test", port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if asked != "ip broker.test" {
		t.Errorf("lookup(%s)", asked)
	}
	if got := conn.RemoteAddr().String(); got != "127.0.0.1:"+port {
		t.Errorf("connected to %s", got)
	}
}

func TestDialerFailures(t *testing.T) {
	port := listen(t)
	d := newDialer(mustParse(t, map[string]any{"bootstrap.servers": "a:1"}))
	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("127.0.0.4")}
	d.lookup = func(context.Context, string, string) ([]netip.Addr, error) { return addrs, nil }
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	address := net.JoinHostPort("broker.test", port)
	for i := 1; i <= 2; i++ {
		_, err := d.dial(ctx, "tcp", address)
		if err == nil {
			t.Fatal("dial succeeded with nothing listening")
		}
		for _, want := range []string{"dial " + address, "127.0.0.3:" + port, "127.0.0.4:" + port} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %s", err, want)
			}
		}
		// Consecutive failures grow the next setup timeout.
		if got := d.failed(address); got != i {
			t.Errorf("failures = %d, want %d", got, i)
		}
	}
	addrs = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	conn, err := d.dial(ctx, "tcp", address)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if got := d.failed(address); got != 0 {
		t.Errorf("failures after success = %d, want 0", got)
	}

	d.lookup = func(context.Context, string, string) ([]netip.Addr, error) { return nil, errors.New("no such host") }
	if _, err := d.dial(ctx, "tcp", address); err == nil || !strings.Contains(err.Error(), "no such host") {
		t.Errorf("lookup error = %v", err)
	}
	d.lookup = func(context.Context, string, string) ([]netip.Addr, error) { return nil, nil }
	if _, err := d.dial(ctx, "tcp", address); err == nil || !strings.Contains(err.Error(), "no addresses") {
		t.Errorf("empty lookup error = %v", err)
	}
	if _, err := d.dial(ctx, "tcp", "no-port"); err == nil {
		t.Error("dial without port succeeded")
	}
}

func TestDialerLiteralAndCanceled(t *testing.T) {
	port := listen(t)
	dial := mustParse(t, map[string]any{"bootstrap.servers": "a:1"}).Dialer()
	conn, err := dial(context.Background(), "tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := dial(ctx, "tcp", "127.0.0.1:"+port); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled dial: %v", err)
	}
}

func TestDialerSetupTimeout(t *testing.T) {
	p := mustParse(t, map[string]any{
		"bootstrap.servers":                      "a:1",
		"socket.connection.setup.timeout.ms":     int64(100),
		"socket.connection.setup.timeout.max.ms": int64(400),
	})
	d := newDialer(p)
	if d.setup != 100*time.Millisecond || d.setupMax != 400*time.Millisecond {
		t.Errorf("setup timeouts %v, %v", d.setup, d.setupMax)
	}
	if want := strconv.Itoa(int(p.Int("send.buffer.bytes"))); strconv.Itoa(d.sendBuf) != want {
		t.Errorf("sendBuf %d", d.sendBuf)
	}
}
