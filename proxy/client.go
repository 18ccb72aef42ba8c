package proxy

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/linkproxy/linkproxy/conf/clientprops"
	"github.com/linkproxy/linkproxy/listeners"
	"github.com/linkproxy/linkproxy/proxy/rewrite"
	"github.com/linkproxy/linkproxy/proxy/wire"
)

const (
	ioBufSize = 32 << 10
	// streamAbove is the frame size above which a frame that needs no
	// rewriting is copied socket to socket as it arrives instead of
	// being held whole: cut-through keeps large produce requests and
	// fetch responses from paying a store-and-forward delay.
	streamAbove = 64 << 10
	// maxResponseBytes bounds what the proxy buffers for one upstream
	// response. Upstream brokers are trusted, so this is only a guard
	// against a corrupt stream; fetch responses are bounded by the
	// client's fetch.max.bytes well below it.
	maxResponseBytes = 1 << 30
)

// pending is a request forwarded upstream whose response is awaited.
// Brokers answer a connection's requests in order, so a FIFO suffices.
type pending struct {
	correlationID int32
	key, version  int16
	answer        *guardAnswer // set when the mirror-topic guard answers (part of) the request
	local         *localAnswer // set when the request was answered here (SASL): sent in place of the response
	reauth        chan []byte  // set for the proxy's own upstream re-authentication (upstream.go): the answer goes there
}

// client is the role of one client connection: it pumps requests to its
// upstream broker and responses back, rewriting endpoints on the way.
type client struct {
	p    *Proxy
	conn *listeners.Conn
	// up is the upstream connection, nil until dialed: on SASL listeners
	// once the client has authenticated (sasl.go). upMu orders setting it
	// against close, which may come first from another goroutine; the
	// pumps start after it is set and read it freely.
	up   net.Conn
	upMu sync.Mutex
	// upSession is up's SASL session, nil without SASL (upstream.go).
	upSession *clientprops.Session
	log       hclog.Logger
	stat      *counters

	inflight   chan pending
	lastActive atomic.Int64 // unix nanos of the last frame either way

	// auth is the SASL state on SASL listeners (sasl.go), nil otherwise;
	// principal is who the connection authenticated as.
	auth      *saslConn
	principal atomic.Pointer[string]

	closeOnce sync.Once
	done      chan struct{} // closed by close
}

func (p *Proxy) handle(c *listeners.Conn) {
	log := p.log.With("listener", c.Listener.Name(), "kind", c.Kind.String(), "client", c.RemoteAddr().String())
	if c.NodeID != listeners.Bootstrap {
		log = log.With("broker", c.NodeID)
	}
	cl := &client{
		p:        p,
		conn:     c,
		log:      log,
		stat:     p.counters[c.Listener.Name()],
		inflight: make(chan pending, p.cfg.Proxy.MaxInflightRequests),
		done:     make(chan struct{}),
	}
	if sl := p.sasl[c.Listener.Name()]; sl != nil {
		cl.auth = &saslConn{l: sl}
	} else {
		principal := anonymous
		if c.Principal != "" { // SSL: the client certificate's
			principal = c.Principal
		}
		cl.principal.Store(&principal)
	}
	cl.touch()
	if !p.track(cl) {
		cl.close("proxy shutting down")
		return
	}
	defer p.untrack(cl)
	cl.stat.accepted.Add(1)
	cl.stat.open.Add(1)
	defer cl.stat.open.Add(-1)
	// The raw socket, not a wrapper, so that streaming can splice.
	rd := wire.NewReader(c.Conn, ioBufSize, p.cfg.Proxy.SocketRequestMaxBytes, &p.pool)
	if cl.auth != nil {
		// No upstream connection for a client that has not
		// authenticated: strangers must not make the proxy open (and
		// authenticate) connections to the cluster (sasl.go).
		if cached := p.cachedApiVersions(c.NodeID); cached != nil {
			if !cl.authenticateFirst(rd, cached) {
				return
			}
		} else {
			log.Debug("no ApiVersions answer cached from the upstream yet (the cluster was not reached since start): dialing the upstream before the client authenticates")
		}
	}
	up, session, err := p.dialUpstream(p.ctx, c.NodeID)
	if errors.Is(err, clientprops.ErrAuthentication) {
		log.Error("connection refused: the proxy's own SASL authentication to the upstream broker failed; check sasl.mechanism and sasl.jaas.config in [cluster]", "error", err)
		cl.closeQuiet()
		return
	}
	if err != nil {
		log.Warn("connection refused: upstream broker unreachable; check [cluster] bootstrap.servers and that the broker is up", "error", err)
		cl.closeQuiet()
		return
	}
	if !cl.setUpstream(up, session) {
		return
	}
	if pr := cl.Principal(); pr != "" {
		log.Info("connection opened", "upstream", up.RemoteAddr().String(), "principal", pr)
	} else {
		log.Info("connection opened", "upstream", up.RemoteAddr().String())
	}

	reqDone := make(chan struct{})
	go func() {
		defer close(reqDone)
		cl.pumpRequests(rd)
	}()
	cl.pumpResponses()
	<-reqDone
}

func (cl *client) touch() { cl.lastActive.Store(time.Now().UnixNano()) }

// setUpstream gives the connection its upstream; false, closing up, when
// the connection closed meanwhile.
func (cl *client) setUpstream(up net.Conn, s *clientprops.Session) bool {
	cl.upMu.Lock()
	defer cl.upMu.Unlock()
	select {
	case <-cl.done:
		up.Close()
		return false
	default:
	}
	cl.up, cl.upSession = up, s
	return true
}

// closeDone marks the connection done and closes both sides once; it
// reports whether this call did it.
func (cl *client) closeDone() bool {
	first := false
	cl.closeOnce.Do(func() {
		first = true
		cl.upMu.Lock()
		close(cl.done)
		up := cl.up
		cl.upMu.Unlock()
		cl.conn.Close()
		if up != nil {
			up.Close()
		}
	})
	return first
}

// closeQuiet closes without a log line: the caller logged why.
func (cl *client) closeQuiet() { cl.closeDone() }

// close ends both sides once; the first reason wins and is logged.
func (cl *client) close(reason string) {
	if cl.closeDone() {
		if p := cl.Principal(); p != "" {
			cl.log.Info("connection closed", "principal", p, "reason", reason)
			return
		}
		cl.log.Info("connection closed", "reason", reason)
	}
}

// closeErr closes for err, naming whose side failed.
func (cl *client) closeErr(side string, err error) {
	var tooLarge *wire.ErrTooLarge
	var notKafka *wire.ErrNotKafka
	if side == "client" && (errors.Is(err, wire.ErrMalformed) || errors.As(err, &tooLarge) || errors.As(err, &notKafka)) {
		cl.stat.refused.Add(1)
	}
	switch {
	case errors.Is(err, io.EOF):
		cl.close(side + " closed the connection")
	case errors.Is(err, net.ErrClosed):
		cl.close("closed")
	case errors.As(err, &notKafka) && notKafka.Protocol == "TLS" && side == "client":
		cl.close(fmt.Sprintf("%v; configure the client with security.protocol=%s for listener %s",
			err, cl.conn.Listener.SecurityProtocol(), cl.conn.Listener.Name()))
	case errors.As(err, &tooLarge) && side == "client":
		cl.close(fmt.Sprintf("request refused: %v; raise socket.request.max.bytes in [proxy] if the client is right", err))
	default:
		cl.close(fmt.Sprintf("%s: %v", side, err))
	}
}

// pumpRequests forwards the requests rd reads from the client.
func (cl *client) pumpRequests(rd *wire.Reader) {
	p := cl.p
	w := bufio.NewWriterSize(cl.up, ioBufSize)
	for {
		size, err := rd.Size()
		if err != nil {
			cl.closeErr("client", err)
			return
		}
		cl.touch()
		if cl.reauthDue() { // KIP-368, between two requests (upstream.go)
			if err := cl.reauthenticate(w); err != nil {
				cl.reauthFailed(err)
				return
			}
		}
		cl.stat.requests.Add(1)
		cl.stat.bytesIn.Add(int64(size))
		stream := size > streamAbove
		if cl.auth != nil && cl.auth.holdsFrames() {
			if cl.saslTooLarge(size) {
				return
			}
			stream = false
		}
		var frame []byte // the whole frame, or its head when streaming
		if stream {
			frame, err = rd.Head(min(size, ioBufSize))
		} else {
			frame, err = rd.Next()
		}
		if err != nil {
			cl.closeErr("client", err)
			return
		}
		var expect pending
		local := false
		if cl.auth != nil {
			var ok bool
			if frame, stream, expect, local, ok = cl.saslFrame(rd, frame, stream); !ok {
				return
			}
		}
		var guarded guardVerdict
		if !local {
			expect, err = cl.admit(frame)
		}
		if err == nil && !local {
			// the authorizer (authz.go), then the mirror guard (guard.go)
			guarded, err = cl.checkRequest(frame, !stream)
			if err == nil && guarded.needWhole { // a streamed head was not enough
				if frame, err = rd.Next(); err != nil {
					cl.closeErr("client", err)
					return
				}
				stream = false
				guarded, err = cl.checkRequest(frame, true)
			}
		}
		if err != nil {
			cl.stat.refused.Add(1)
			if !stream {
				p.pool.Put(frame)
			}
			cl.log.Warn("request refused", "error", err)
			cl.close("request refused: " + err.Error())
			return
		}
		if guarded.pending.answer != nil { // forward what the guard let through instead
			p.pool.Put(frame)
			frame, expect = guarded.forward, guarded.pending
		}
		if expect.key >= 0 {
			select { // bounds requests in flight: blocks when full
			case cl.inflight <- expect:
			case <-cl.done:
				if !stream {
					p.pool.Put(frame)
				}
				return
			}
		}
		if stream {
			if err = w.Flush(); err == nil {
				err = rd.Stream(cl.up, size)
			}
			cl.touch()
		} else {
			_, err = w.Write(frame)
			p.pool.Put(frame)
			if err == nil && rd.Buffered() == 0 {
				err = w.Flush()
			}
		}
		if err != nil {
			cl.closeErr(sideOf(err, "upstream"), err)
			return
		}
		if guarded.stop || (expect.local != nil && expect.local.closeReason != "") {
			// a refused acks=0 produce (guard.go), or a SASL failure
			if err := w.Flush(); err != nil {
				cl.closeErr("upstream", err)
				return
			}
			// Forward nothing more, as a broker reads nothing more once
			// an acks=0 produce fails; the response pump closes the
			// connection when the earlier responses are out.
			_, err := io.Copy(io.Discard, cl.conn.Conn)
			cl.closeErr("client", cmp.Or(err, io.EOF))
			return
		}
	}
}

// sideOf names who broke a copy: a frame cut short is the reader's side.
func sideOf(err error, writer string) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		if writer == "upstream" {
			return "client"
		}
		return "upstream"
	}
	return writer
}

// admit checks a request the proxy is about to forward and returns the
// response it expects (key -1 when the request gets no response).
func (cl *client) admit(frame []byte) (pending, error) {
	h, err := wire.PeekRequestHeader(frame)
	if err != nil {
		return pending{}, err
	}
	maxV, ok := cl.p.apis.max(h.APIKey)
	switch {
	case !ok:
		return pending{}, fmt.Errorf("unknown api key %d (v%d); if it is a vendor extension, list it in [proxy] passthrough_api_keys", h.APIKey, h.APIVersion)
	case h.APIVersion < 0:
		return pending{}, fmt.Errorf("%s v%d: negative version", apiName(h.APIKey), h.APIVersion)
	// ApiVersions is exempt: clients send their newest version first and
	// brokers answer an unknown one in a form every version can read.
	case h.APIVersion > maxV && h.APIKey != 18:
		return pending{}, fmt.Errorf("%s v%d is above v%d, the newest version the proxy advertised", apiName(h.APIKey), h.APIVersion, maxV)
	}
	exp := pending{correlationID: h.CorrelationID, key: h.APIKey, version: h.APIVersion}
	if h.APIKey == 0 { // acks=0 produce requests get no response
		h, err = wire.ParseRequestHeader(frame, rewrite.FlexibleRequestHeader(h.APIKey, h.APIVersion))
		if err != nil {
			return pending{}, err
		}
		acks, err := wire.ProduceAcks(frame[h.BodyOffset:], h.APIVersion, rewrite.FlexibleRequestHeader(h.APIKey, h.APIVersion))
		if err != nil {
			return pending{}, err
		}
		if acks == 0 {
			exp.key = -1
		}
	}
	return exp, nil
}

func (cl *client) pumpResponses() {
	p := cl.p
	rd := wire.NewReader(cl.up, ioBufSize, maxResponseBytes, &p.pool)
	w := bufio.NewWriterSize(cl.conn.Conn, ioBufSize)
	for {
		size, err := rd.Size()
		var head []byte
		if err == nil {
			head, err = rd.Head(8)
		}
		var req pending
		if err == nil {
			req, err = cl.matchResponse(head)
		}
		if err != nil {
			cl.closeErr("upstream", err)
			return
		}
		if req.reauth != nil { // the proxy's own, not the client's (upstream.go)
			if !cl.reauthAnswer(rd, req) {
				return
			}
			continue
		}
		cl.touch()
		cl.stat.bytesOut.Add(int64(size)) // rewritten responses differ by a few bytes
		if size > streamAbove && req.answer == nil && req.local == nil && !cl.rewrites(req) {
			if err = w.Flush(); err == nil {
				err = rd.Stream(cl.conn.Conn, size)
			}
			cl.touch()
			if err != nil {
				cl.closeErr(sideOf(err, "client"), err)
				return
			}
			continue
		}
		frame, err := rd.Next()
		if err != nil {
			cl.closeErr("upstream", err)
			return
		}
		if req.local != nil { // answered here (sasl.go): the stand-in's answer is dropped
			p.pool.Put(frame)
			if req.local.failed { // earlier responses go out, this one waits
				if err = w.Flush(); err != nil {
					cl.closeErr("client", err)
					return
				}
				cl.failedAuthDelay()
			}
			if _, err = w.Write(req.local.frame); err == nil && (req.local.closeReason != "" || rd.Buffered() == 0) {
				err = w.Flush()
			}
			if err != nil {
				cl.closeErr("client", err)
				return
			}
			if req.local.closeReason != "" {
				cl.close(req.local.closeReason)
				return
			}
			continue
		}
		out, err := cl.respond(req, frame)
		if err != nil {
			p.pool.Put(frame)
			var after closeAfter
			if errors.As(err, &after) {
				w.Flush() // the responses to earlier requests go out first
				cl.close(after.reason)
				return
			}
			cl.log.Error("cannot forward response; closing the connection, the client will retry", "error", err)
			cl.close("bad response: " + err.Error())
			return
		}
		_, err = w.Write(out)
		if !sameSlice(out, frame) {
			if req.answer == nil {
				cl.stat.rewritten.Add(1)
			}
			p.pool.Put(out)
		}
		p.pool.Put(frame)
		if err == nil && rd.Buffered() == 0 {
			err = w.Flush()
		}
		if err != nil {
			cl.closeErr("client", err)
			return
		}
	}
}

// matchResponse pairs a response, by its first bytes, with the oldest
// request in flight.
func (cl *client) matchResponse(head []byte) (pending, error) {
	corr, err := wire.ResponseCorrelationID(head)
	if err != nil {
		return pending{}, err
	}
	var req pending
	select {
	case req = <-cl.inflight:
	default:
		return pending{}, fmt.Errorf("response with correlation id %d to no request", corr)
	}
	if req.correlationID != corr {
		return pending{}, fmt.Errorf("response with correlation id %d, expected %d (%s)", corr, req.correlationID, apiName(req.key))
	}
	return req, nil
}

// rewrites reports whether responses to req may need changing.
func (cl *client) rewrites(req pending) bool {
	return !cl.p.apis.opaque[req.key] && (req.key == 18 || rewrite.NeedsRewrite(req.key, req.version))
}

// rewrite returns the response frame to send for req: frame itself when
// nothing changes, else a new frame from the pool.
func (cl *client) rewrite(req pending, frame []byte) ([]byte, error) {
	if !cl.rewrites(req) {
		return frame, nil
	}
	off, err := wire.ResponseBodyOffset(frame, rewrite.FlexibleResponseHeader(req.key, req.version))
	if err != nil {
		return nil, err
	}
	body := frame[off:]
	var out []byte
	if req.key == 18 {
		out, err = rewrite.ClampApiVersions(req.version, body, cl.p.apis.max, nil)
		if err == nil && cl.auth != nil {
			out = withSaslAPIs(req.version, out)
		}
	} else {
		var seen []rewrite.Broker
		out, seen, err = rewrite.Response(req.key, req.version, body, cl.conn.Listener, nil)
		cl.p.observe(seen)
	}
	if err != nil {
		return nil, fmt.Errorf("%s v%d: %w", apiName(req.key), req.version, err)
	}
	if sameSlice(out, body) { // the common case for Produce and Fetch
		return frame, nil
	}
	nf := cl.p.pool.Get(off + len(out))
	copy(nf, frame[:off])
	copy(nf[off:], out)
	binaryPutLength(nf)
	return nf, nil
}

// sameSlice reports whether a and b are the same bytes in memory.
func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func apiName(key int16) string {
	return fmt.Sprintf("%s(%d)", kmsgName(key), key)
}

// idleSince reports whether the connection had no traffic since t and
// awaits no response.
func (cl *client) idleSince(t time.Time) bool {
	return cl.lastActive.Load() < t.UnixNano() && len(cl.inflight) == 0
}
