package listeners

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/linkproxy/linkproxy/conf"
	"github.com/linkproxy/linkproxy/listeners/refusals"
)

// Listener owns the sockets of one configured listener.
type Listener struct {
	cfg      conf.Listener
	bindHost string
	log      hclog.Logger
	handle   func(*Conn)
	tls      *tlsServer              // on SSL and SASL_SSL listeners
	refusals refusals.Log[[2]string] // handshake failures, by client host and reason
	// hsTimeout replaces handshakeTimeout when set (tests).
	hsTimeout time.Duration
	// ctx ends with Close, which interrupts TLS handshakes under way.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	bootstrap net.Listener
	brokers   map[int32]*brokerPort
	closed    bool
	accepting sync.WaitGroup // accept loops
	handlers  sync.WaitGroup // handle calls still running
}

type brokerPort struct {
	ln   net.Listener
	port int32
	err  error // why the port could not be bound; retried on next EnsureBroker
}

// New returns a listener for cfg; nothing is bound until Start.
func New(cfg conf.Listener, log hclog.Logger) *Listener {
	host, _, _ := net.SplitHostPort(cfg.Listen)
	ctx, cancel := context.WithCancel(context.Background())
	return &Listener{
		cfg:      cfg,
		bindHost: host,
		log:      log.With("listener", cfg.Name),
		brokers:  make(map[int32]*brokerPort),
		ctx:      ctx,
		cancel:   cancel,
	}
}

// Name is the listener name, as in the config.
func (l *Listener) Name() string { return l.cfg.Name }

// SecurityProtocol is the listener's security.protocol.
func (l *Listener) SecurityProtocol() string { return l.cfg.SecurityProtocol }

// Start binds the bootstrap port and hands every accepted connection to
// handle, on its own goroutine, until Close. Broker ports are bound by
// EnsureBroker as brokers become known. On TLS listeners the key and trust
// stores are loaded first, and a connection is handed out once its TLS
// handshake, run on its own goroutine, completed.
func (l *Listener) Start(handle func(*Conn)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handle = handle
	if l.cfg.TLS != nil && l.tls == nil {
		ts, err := newTLSServer(*l.cfg.TLS, l.cfg.SecurityProtocol, l.log)
		if err != nil {
			return fmt.Errorf("listener %s: %w", l.cfg.Name, err)
		}
		if l.hsTimeout > 0 {
			ts.timeout = l.hsTimeout
		}
		l.tls = ts
	}
	ln, err := net.Listen("tcp", l.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listener %s: binding bootstrap address %s: %w", l.cfg.Name, l.cfg.Listen, err)
	}
	l.bootstrap = ln
	l.serve(ln, Bootstrap)
	return nil
}

// BootstrapAddr is the bound bootstrap address.
func (l *Listener) BootstrapAddr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bootstrap == nil {
		return l.cfg.Listen
	}
	return l.bootstrap.Addr().String()
}

// EnsureBroker binds the port of nodeID if it is not bound yet. Brokers that
// appear after start get their port this way when metadata shows them.
func (l *Listener) EnsureBroker(nodeID int32) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ensureLocked(nodeID)
}

func (l *Listener) ensureLocked(nodeID int32) error {
	if l.closed || l.bootstrap == nil {
		return fmt.Errorf("listener %s is not running", l.cfg.Name)
	}
	if bp, ok := l.brokers[nodeID]; ok && bp.err == nil {
		return nil
	}
	port, ok := l.cfg.BrokerPort(nodeID)
	if !ok {
		err := fmt.Errorf("listener %s: broker %d has no port: broker_port_base %d + node id is outside 1-65535; lower broker_port_base",
			l.cfg.Name, nodeID, l.cfg.BrokerPortBase)
		l.brokers[nodeID] = &brokerPort{err: err}
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(l.bindHost, strconv.Itoa(port)))
	if err != nil {
		err = fmt.Errorf("listener %s: binding port %d for broker %d: %w; free the port or change broker_port_base", l.cfg.Name, port, nodeID, err)
		if prev, seen := l.brokers[nodeID]; !seen || prev.err == nil || prev.err.Error() != err.Error() {
			l.log.Error("cannot serve broker", "node", nodeID, "error", err)
		}
		l.brokers[nodeID] = &brokerPort{err: err}
		return err
	}
	l.brokers[nodeID] = &brokerPort{ln: ln, port: int32(port)}
	l.log.Debug("serving broker", "node", nodeID, "address", ln.Addr().String())
	l.serve(ln, nodeID)
	return nil
}

// Endpoint is the address a client of this listener must use for nodeID.
// It binds the node's port on first use, so that a broker first seen in a
// response is reachable by the time the client reads about it.
func (l *Listener) Endpoint(nodeID int32) (string, int32, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	bp, ok := l.brokers[nodeID]
	if !ok || bp.err != nil {
		if l.ensureLocked(nodeID) != nil {
			return "", 0, false
		}
		bp = l.brokers[nodeID]
	}
	return l.cfg.AdvertisedHost, bp.port, true
}

func (l *Listener) serve(ln net.Listener, nodeID int32) {
	l.accepting.Add(1)
	go func() {
		defer l.accepting.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					l.log.Error("accept failed; the port stops serving", "node", nodeID, "error", err)
				}
				return
			}
			l.handlers.Add(1)
			go func() {
				defer l.handlers.Done()
				conn := &Conn{Conn: c, Listener: l, Kind: Forward, NodeID: nodeID}
				if l.tls != nil && !l.secure(conn) {
					return
				}
				l.handle(conn)
			}()
		}
	}()
}

// secure runs the TLS handshake of conn and wraps it; on failure it closes
// conn, logs why (spaced per client host and reason) and returns false.
func (l *Listener) secure(conn *Conn) bool {
	raw := conn.Conn
	tc, principal, err := l.tls.handshake(l.ctx, raw)
	if err != nil {
		raw.Close()
		l.logRefusal(raw, err)
		return false
	}
	conn.Conn, conn.Principal = tc, principal
	return true
}

func (l *Listener) logRefusal(c net.Conn, err error) {
	if l.ctx.Err() != nil {
		return // closing: handshakes cut short are no news
	}
	he, ok := err.(*handshakeError)
	if !ok {
		he = &handshakeError{kind: "other", msg: "TLS handshake failed", err: err}
	}
	client := c.RemoteAddr().String()
	host, _, splitErr := net.SplitHostPort(client)
	if splitErr != nil {
		host = client
	}
	if he.quiet {
		l.log.Debug("connection refused: "+he.msg, "client", client, "error", he.err)
		return
	}
	allow, suppressed := l.refusals.Allow([2]string{host, he.kind}, time.Now())
	if !allow {
		return
	}
	args := []any{"client", client, "error", he.err}
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	l.log.Warn("connection refused: "+he.msg, args...)
}

// Close stops accepting and ends TLS handshakes under way; established
// connections are the caller's to close, after which Wait returns.
func (l *Listener) Close() {
	l.cancel()
	l.mu.Lock()
	l.closed = true
	if l.bootstrap != nil {
		l.bootstrap.Close()
	}
	for _, bp := range l.brokers {
		if bp.ln != nil {
			bp.ln.Close()
		}
	}
	l.mu.Unlock()
	l.accepting.Wait()
}

// Wait returns once every connection handed out has been handled.
func (l *Listener) Wait() { l.handlers.Wait() }
