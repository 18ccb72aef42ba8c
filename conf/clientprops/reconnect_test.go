package clientprops

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// scriptConn is a connection whose reads and writes do what the test
// says: read gives one byte or an EOF, write succeeds or fails.
type scriptConn struct {
	net.Conn // nil: the other methods are not called
	readErr  error
	writeErr error
}

func (c *scriptConn) Read(b []byte) (int, error) {
	if c.readErr != nil {
		return 0, c.readErr
	}
	b[0] = 0
	return 1, nil
}

func (c *scriptConn) Write(b []byte) (int, error) {
	if c.writeErr != nil {
		return 0, c.writeErr
	}
	return len(b), nil
}

func (c *scriptConn) Close() error { return nil }

// fakeTime is a clock that only moves when the reconnector sleeps or the
// test says so.
type fakeTime struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration // since the test last took it
}

func (f *fakeTime) install(r *reconnector) {
	f.now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r.now = func() time.Time {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.now
	}
	r.sleep = func(_ context.Context, d time.Duration) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.now = f.now.Add(d)
		f.slept += d
		return nil
	}
}

func (f *fakeTime) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fakeTime) takeSlept() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.slept
	f.slept = 0
	return d
}

func reconnectProps(t *testing.T, base, max int64) *Props {
	t.Helper()
	return mustParse(t, map[string]any{
		"bootstrap.servers":        "a:1",
		"reconnect.backoff.ms":     base,
		"reconnect.backoff.max.ms": max,
	})
}

// TestReconnectWaits runs connection attempts to one address with given
// outcomes and checks the wait before each attempt, computed exactly: the
// clock is fake and the jitter fixed.
func TestReconnectWaits(t *testing.T) {
	const ms = time.Millisecond
	refused := errors.New("connection refused")
	// Each step is an attempt's outcome, or "+N" to let N ms pass.
	for _, tt := range []struct {
		name      string
		base, max int64
		jitter    float64 // 0.5: factor 1; 0: factor 0.8
		steps     []string
		waits     []time.Duration // before each attempt
	}{
		{
			name: "doubles up to the max", base: 50, max: 1000, jitter: 0.5,
			steps: []string{"refused", "refused", "refused", "refused", "refused", "refused", "refused", "refused"},
			waits: []time.Duration{0, 50 * ms, 100 * ms, 200 * ms, 400 * ms, 800 * ms, 1000 * ms, 1000 * ms},
		},
		{
			name: "an end before any response byte is a failure", base: 50, max: 1000, jitter: 0.5,
			steps: []string{"refused", "eof", "write error", "closed", "refused"},
			waits: []time.Duration{0, 50 * ms, 100 * ms, 200 * ms, 400 * ms},
		},
		{
			name: "ready resets the count, a close after it is no failure", base: 50, max: 1000, jitter: 0.5,
			steps: []string{"refused", "refused", "ready", "ready", "eof", "refused"},
			waits: []time.Duration{0, 50 * ms, 100 * ms, 0, 0, 50 * ms},
		},
		{
			name: "counted from the failure", base: 50, max: 1000, jitter: 0.5,
			steps: []string{"refused", "+30", "refused", "+150", "refused", "+1000", "refused"},
			waits: []time.Duration{0, 20 * ms, 0, 0},
		},
		{
			name: "jitter low", base: 50, max: 1000, jitter: 0,
			steps: []string{"refused", "refused", "refused"},
			waits: []time.Duration{0, 40 * ms, 80 * ms},
		},
		{
			name: "jitter high, capped at the max", base: 500, max: 1000, jitter: 0.75,
			steps: []string{"refused", "refused", "refused"},
			waits: []time.Duration{0, 550 * ms, 1000 * ms},
		},
		{
			name: "base equal to the max", base: 1000, max: 1000, jitter: 0.5,
			steps: []string{"eof", "eof", "eof"},
			waits: []time.Duration{0, 1000 * ms, 1000 * ms},
		},
		{
			name: "zero base never waits", base: 0, max: 1000, jitter: 0.5,
			steps: []string{"refused", "eof", "closed"},
			waits: []time.Duration{0, 0, 0},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var outcome string
			dials := 0
			r := newReconnector(reconnectProps(t, tt.base, tt.max), func(context.Context, string, string) (net.Conn, error) {
				dials++
				switch outcome {
				case "refused":
					return nil, refused
				case "eof":
					return &scriptConn{readErr: io.EOF}, nil
				case "write error":
					return &scriptConn{writeErr: errors.New("broken pipe")}, nil
				}
				return &scriptConn{}, nil
			})
			var clock fakeTime
			clock.install(r)
			r.jitter = func() float64 { return tt.jitter }

			var waits []time.Duration
			for _, step := range tt.steps {
				if strings.HasPrefix(step, "+") {
					d, err := time.ParseDuration(step[1:] + "ms")
					if err != nil {
						t.Fatal(err)
					}
					clock.advance(d)
					continue
				}
				outcome = step
				conn, err := r.dial(context.Background(), "tcp", "broker:9092")
				waits = append(waits, clock.takeSlept())
				if (err != nil) != (step == "refused") {
					t.Fatalf("step %d (%s): dial error %v", len(waits), step, err)
				}
				if err != nil {
					if !errors.Is(err, refused) {
						t.Errorf("dial error %v does not wrap the dialer's", err)
					}
					continue
				}
				buf := make([]byte, 8)
				switch step {
				case "ready":
					if _, err := conn.Read(buf); err != nil {
						t.Fatal(err)
					}
					// Errors after the first byte change nothing.
					conn.(*attemptConn).Conn.(*scriptConn).readErr = io.EOF
					conn.Read(buf)
				case "eof":
					conn.Read(buf)
				case "write error":
					conn.Write(buf)
				}
				conn.Close()
			}
			if len(waits) != len(tt.waits) {
				t.Fatalf("%d attempts, want %d", len(waits), len(tt.waits))
			}
			for i := range waits {
				if waits[i] != tt.waits[i] {
					t.Errorf("waits %v, want %v", waits, tt.waits)
					break
				}
			}
			if dials != len(tt.waits) {
				t.Errorf("%d dials, want %d", dials, len(tt.waits))
			}
		})
	}
}

// TestReconnectOneAttemptAtATime checks that a second attempt to an
// address waits for the first to be ready or failed, and that other
// addresses are not held back.
func TestReconnectOneAttemptAtATime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	dials := make(map[string]int)
	// No backoff: only the attempt in progress holds the next back.
	r := newReconnector(reconnectProps(t, 0, 0), func(_ context.Context, _, address string) (net.Conn, error) {
		mu.Lock()
		defer mu.Unlock()
		dials[address]++
		return &scriptConn{readErr: io.EOF}, nil
	})
	dialed := func(address string) int {
		mu.Lock()
		defer mu.Unlock()
		return dials[address]
	}
	type result struct {
		conn net.Conn
		err  error
	}
	dialAsync := func(ctx context.Context, address string) chan result {
		ch := make(chan result, 1)
		go func() {
			c, err := r.dial(ctx, "tcp", address)
			ch <- result{c, err}
		}()
		return ch
	}
	notYet := func(ch chan result, what string) {
		t.Helper()
		select {
		case res := <-ch:
			t.Fatalf("%s returned (%v) while an attempt was in progress", what, res.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	wait := func(ch chan result) net.Conn {
		t.Helper()
		select {
		case res := <-ch:
			if res.err != nil {
				t.Fatal(res.err)
			}
			return res.conn
		case <-ctx.Done():
			t.Fatal("the dial never returned")
		}
		return nil
	}

	first, err := r.dial(ctx, "tcp", "a:1")
	if err != nil {
		t.Fatal(err)
	}
	second := dialAsync(ctx, "a:1")
	notYet(second, "a second dial")
	if other := wait(dialAsync(ctx, "b:1")); other == nil || dialed("b:1") != 1 {
		t.Fatal("another address was held back")
	}

	// A dial whose context ends while it waits gives up without dialing.
	cctx, ccancel := context.WithCancel(ctx)
	third := dialAsync(cctx, "a:1")
	notYet(third, "a third dial")
	ccancel()
	if res := <-third; !errors.Is(res.err, context.Canceled) {
		t.Fatalf("canceled dial: %v", res.err)
	}

	// The first fails (EOF before any byte): the second may go.
	first.Read(make([]byte, 1))
	conn := wait(second)
	if n := dialed("a:1"); n != 2 {
		t.Fatalf("%d dials of a:1, want 2", n)
	}
	fourth := dialAsync(ctx, "a:1")
	notYet(fourth, "a fourth dial")
	conn.Close() // closed undecided: a failure too
	wait(fourth).Close()
}

// TestReconnectContext checks that the backoff wait honours the context
// and that an attempt given up is not dialed.
func TestReconnectContext(t *testing.T) {
	for _, tt := range []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		want    error
		message string
	}{
		{
			name: "deadline during the backoff",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 20*time.Millisecond)
			},
			want: context.DeadlineExceeded, message: "reconnect backoff of 10s after 1 failed connections",
		},
		{
			name: "canceled before",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			want: context.Canceled, message: "dial broker:9092",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dials := 0
			r := newReconnector(reconnectProps(t, 10000, 10000), func(context.Context, string, string) (net.Conn, error) {
				dials++
				return nil, errors.New("connection refused")
			})
			r.jitter = func() float64 { return 0.5 }
			if _, err := r.dial(context.Background(), "tcp", "broker:9092"); err == nil {
				t.Fatal("refused dial succeeded")
			}
			ctx, cancel := tt.ctx()
			defer cancel()
			_, err := r.dial(ctx, "tcp", "broker:9092")
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %v, want %v mentioning %q", err, tt.want, tt.message)
			}
			if dials != 1 {
				t.Errorf("%d dials, want 1", dials)
			}
		})
	}
}

// TestReconnectLoopback runs the reconnect backoff over real loopback
// connections: one the listener closes at once is a failure, one it
// answers on is ready. The proxy's Dialer hands out plain TCP
// connections, which nothing holds back.
func TestReconnectLoopback(t *testing.T) {
	serve := func(answer bool) string {
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
				if answer {
					c.Write([]byte{0, 0, 0, 0})
					t.Cleanup(func() { c.Close() })
				} else {
					c.Close()
				}
			}
		}()
		return ln.Addr().String()
	}
	closing, answering := serve(false), serve(true)
	p := reconnectProps(t, 50, 1000)
	r := newReconnector(p, newDialer(p).dial)
	var clock fakeTime
	clock.install(r)
	r.jitter = func() float64 { return 0.5 }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	failures := func(address string) int {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.addrs[address].failures
	}

	for _, tt := range []struct {
		address  string
		wait     time.Duration
		failures int // after the read
	}{
		{closing, 0, 1},
		{closing, 50 * time.Millisecond, 2},
		{answering, 0, 0},
		{closing, 100 * time.Millisecond, 3}, // addresses count apart
		{answering, 0, 0},
	} {
		conn, err := r.dial(ctx, "tcp", tt.address)
		if err != nil {
			t.Fatal(err)
		}
		if d := clock.takeSlept(); d != tt.wait {
			t.Errorf("dial %s waited %v, want %v", tt.address, d, tt.wait)
		}
		conn.Read(make([]byte, 4))
		if n := failures(tt.address); n != tt.failures {
			t.Errorf("%s: %d failures after the read, want %d", tt.address, n, tt.failures)
		}
		conn.Close()
	}

	dial := p.Dialer()
	for range 2 {
		conn, err := dial(ctx, "tcp", closing)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := conn.(*net.TCPConn); !ok {
			t.Errorf("Dialer returned a %T, want a plain *net.TCPConn", conn)
		}
		defer conn.Close()
	}
}
