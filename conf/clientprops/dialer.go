package clientprops

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sasl"
)

// Dialer returns the function linkproxy dials upstream brokers with: the
// proxy dials with it the connections it forwards clients' requests on,
// and KgoOpts gives it to franz-go wrapped in the reconnect backoff (see
// kgoDialer), which the proxy's connections do not get. It applies:
//
//   - client.dns.lookup: every resolved address is tried in turn until one
//     connects. resolve_canonical_bootstrap_servers_only only changes how
//     Kafka expands bootstrap names, which linkproxy does not do, so it
//     dials the same way.
//   - socket.connection.setup.timeout.ms and .max.ms: the timeout of each
//     address attempt starts at the former and doubles (with jitter) for
//     each consecutive failed dial of the same address, up to the latter,
//     as Kafka does per node. As in Kafka, these failures are those of
//     establishing the connection only: one accepted and then closed
//     resets them (while it counts for the reconnect backoff).
//   - send.buffer.bytes and receive.buffer.bytes, unless -1.
//   - security.protocol SSL and the ssl.* properties: the connection
//     returned is TLS, its handshake done within the same setup timeout
//     (a failed handshake counts as a failed setup). Whoever dials with
//     it speaks TLS to the broker without knowing: the proxy forwards its
//     PLAINTEXT clients' requests over it.
//   - security.protocol SASL_PLAINTEXT and SASL_SSL: the connection
//     returned is authenticated (SaslHandshake and SaslAuthenticate,
//     within request.timeout.ms) as sasl.mechanism and sasl.jaas.config
//     say, before the caller writes anything: requests forwarded on it run
//     as linkproxy's own principal. Connections from Dialer are not
//     re-authenticated; a caller that keeps connections open past the
//     broker's session lifetime (connections.max.reauth.ms) uses
//     SessionDialer.
func (p *Props) Dialer() func(ctx context.Context, network, host string) (net.Conn, error) {
	return newDialer(p).dial
}

// SessionDialer is Dialer that also returns each connection's SASL
// session, nil without SASL, with which the caller re-authenticates the
// connection before Session.ReauthAt (KIP-368).
func (p *Props) SessionDialer() func(ctx context.Context, network, host string) (net.Conn, *Session, error) {
	return newDialer(p).dialSession
}

func newDialer(p *Props) *dialer {
	return &dialer{
		setup:    p.Duration("socket.connection.setup.timeout.ms"),
		setupMax: p.Duration("socket.connection.setup.timeout.max.ms"),
		sendBuf:  int(p.Int("send.buffer.bytes")),
		recvBuf:  int(p.Int("receive.buffer.bytes")),
		tls:      p.tls,
		sasl:     p.sasl,
		clientID: p.String("client.id"),
		authWait: p.Duration("request.timeout.ms"),
		lookup:   net.DefaultResolver.LookupNetIP,
		failures: make(map[string]int),
	}
}

type dialer struct {
	setup, setupMax  time.Duration
	sendBuf, recvBuf int            // -1: OS default
	tls              *tls.Config    // nil: PLAINTEXT
	sasl             sasl.Mechanism // nil: no SASL
	clientID         string         // for the SASL requests' header
	authWait         time.Duration  // bound on the SASL exchange
	// lookup is net.DefaultResolver.LookupNetIP, replaceable in tests
	// to give one name several addresses.
	lookup func(ctx context.Context, network, host string) ([]netip.Addr, error)

	mu       sync.Mutex
	failures map[string]int // consecutive failed dials by address
}

func (d *dialer) dial(ctx context.Context, network, address string) (net.Conn, error) {
	conn, _, err := d.dialSession(ctx, network, address)
	return conn, err
}

func (d *dialer) dialSession(ctx context.Context, network, address string) (net.Conn, *Session, error) {
	conn, err := d.connect(ctx, network, address)
	if err != nil || d.sasl == nil {
		return conn, nil, err
	}
	s := &Session{mech: d.sasl, clientID: d.clientID, host: address}
	if err := s.authenticate(ctx, conn, d.authWait); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("dial %s: %w", address, err)
	}
	return conn, s, nil
}

func (d *dialer) connect(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	ips, err := d.resolve(ctx, network, host)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}

	timeout := Backoff(d.setup, d.setupMax, d.failed(address))
	nd := net.Dialer{Timeout: timeout, ControlContext: d.control}
	var errs []error
	for _, ip := range ips {
		conn, err := nd.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			if err := d.tune(conn); err != nil {
				conn.Close()
				return nil, fmt.Errorf("dial %s: %w", address, err)
			}
			if d.tls != nil {
				tc, err := handshake(ctx, d.tls, conn, address, timeout)
				if err != nil {
					conn.Close()
					d.record(address, false)
					return nil, fmt.Errorf("dial %s (%s): %w", address, ip, err)
				}
				conn = tc
			}
			d.record(address, true)
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break // the caller gave up; the remaining addresses would fail the same way
		}
	}
	d.record(address, false)
	return nil, fmt.Errorf("dial %s: %w", address, errors.Join(errs...))
}

func (d *dialer) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	ipNetwork := "ip"
	switch network {
	case "tcp4":
		ipNetwork = "ip4"
	case "tcp6":
		ipNetwork = "ip6"
	}
	ips, err := d.lookup(ctx, ipNetwork, host)
	if err == nil && len(ips) == 0 {
		err = fmt.Errorf("no addresses for %s", host)
	}
	return ips, err
}

func (d *dialer) failed(address string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.failures[address]
}

func (d *dialer) record(address string, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ok {
		delete(d.failures, address)
	} else {
		d.failures[address]++
	}
}
