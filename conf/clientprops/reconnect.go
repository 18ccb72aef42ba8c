package clientprops

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// kgoDialer is the Dialer with Kafka's reconnect backoff
// (reconnect.backoff.ms and .max.ms) on top, for franz-go clients
// (KgoOpts) only. franz-go dials whenever a request needs a connection,
// and redials at once when ApiVersions is reset; Kafka's NetworkClient
// instead keeps, per node, the count of consecutive failed connections
// (ClusterConnectionStates) and does not connect again before the backoff
// that count gives. kgoDialer does the same per broker address:
//
//   - a failed connection is a dial that fails, or a connection that is
//     closed, or fails to read or write, before its first response bytes;
//   - after one, the next attempt waits reconnect.backoff.ms doubled per
//     further consecutive failure, capped at reconnect.backoff.max.ms,
//     with ±20% jitter (see Backoff), counted from the failure, as
//     Kafka counts from the disconnection;
//   - a connection becomes ready, and resets the count, when it first
//     reads response bytes (for franz-go, the ApiVersions answer that
//     starts every connection), as Kafka's does when ApiVersions
//     completes; a connection closed after that is no failure;
//   - one connection attempt at a time per address: the next waits
//     until the one in progress is ready or failed, as Kafka has one
//     connection per node and does not connect while one is connecting.
//
// Every wait honours the dial's context (franz-go passes the request's).
// With TLS the first bytes are still those of a Kafka response: the
// Dialer returns the TLS connection, its handshake done, and attemptConn
// wraps that, not the TCP one under it, so a handshake does not count as
// ready (and a failed one is a failed dial).
//
// The proxy's forwarded client connections do not go through this: they
// use Dialer, many in parallel and never held back.
func (p *Props) kgoDialer() func(ctx context.Context, network, address string) (net.Conn, error) {
	d := newDialer(p)
	d.sasl = nil // franz-go authenticates itself (kgo.SASL in KgoOpts)
	return newReconnector(p, d.dial).dial
}

func newReconnector(p *Props, dial func(ctx context.Context, network, address string) (net.Conn, error)) *reconnector {
	return &reconnector{
		base:   p.Duration("reconnect.backoff.ms"),
		max:    p.Duration("reconnect.backoff.max.ms"),
		next:   dial,
		now:    time.Now,
		sleep:  sleep,
		jitter: rand.Float64,
		addrs:  make(map[string]*reconnectState),
	}
}

type reconnector struct {
	base, max time.Duration
	next      func(ctx context.Context, network, address string) (net.Conn, error)
	// The clock, the wait and the jitter, replaceable in tests.
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func() float64

	mu    sync.Mutex
	addrs map[string]*reconnectState // by address as dialed
}

// reconnectState is one address's, guarded by reconnector.mu.
type reconnectState struct {
	failures  int       // consecutive failed connections
	notBefore time.Time // no connection attempt before
	// attempt is non-nil while a connection attempt is neither ready nor
	// failed, and closed when it is either.
	attempt chan struct{}
}

func (r *reconnector) dial(ctx context.Context, network, address string) (net.Conn, error) {
	st, err := r.acquire(ctx, address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	conn, err := r.next(ctx, network, address)
	if err != nil {
		r.settle(st, false)
		return nil, err
	}
	return &attemptConn{Conn: conn, settle: func(ready bool) { r.settle(st, ready) }}, nil
}

// acquire waits until address may be dialed: no other attempt in
// progress and the backoff over. It then marks the attempt in progress.
func (r *reconnector) acquire(ctx context.Context, address string) (*reconnectState, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.addrs[address]
	if st == nil {
		st = new(reconnectState)
		r.addrs[address] = st
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if ch := st.attempt; ch != nil {
			r.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
			}
			r.mu.Lock()
			continue
		}
		wait := st.notBefore.Sub(r.now())
		if wait <= 0 {
			st.attempt = make(chan struct{})
			return st, nil
		}
		failures := st.failures
		r.mu.Unlock()
		err := r.sleep(ctx, wait)
		r.mu.Lock()
		if err != nil {
			return nil, fmt.Errorf("reconnect backoff of %v after %d failed connections: %w", wait.Round(time.Millisecond), failures, err)
		}
	}
}

// settle ends st's attempt in progress: ready resets the failure count,
// a failure counts and sets the backoff before the next attempt.
func (r *reconnector) settle(st *reconnectState, ready bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ready {
		st.failures = 0
		st.notBefore = time.Time{}
	} else {
		st.failures++
		st.notBefore = r.now().Add(backoff(r.base, r.max, st.failures-1, r.jitter))
	}
	close(st.attempt)
	st.attempt = nil
}

// attemptConn reports its connection attempt's outcome once: ready at
// the first bytes read, failed at an error or Close before them.
type attemptConn struct {
	net.Conn
	once   sync.Once
	settle func(ready bool)
}

func (c *attemptConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.once.Do(func() { c.settle(true) })
	} else if err != nil {
		c.once.Do(func() { c.settle(false) })
	}
	return n, err
}

func (c *attemptConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil {
		c.once.Do(func() { c.settle(false) })
	}
	return n, err
}

func (c *attemptConn) Close() error {
	c.once.Do(func() { c.settle(false) })
	return c.Conn.Close()
}

// sleep waits d or until ctx ends, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
