package proxy

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/linkproxy/linkproxy/proxy/wire"
)

// drainPoll is how often a due re-authentication checks whether the
// responses in flight are all read. It waits at most one response time,
// once per session lifetime, so polling costs nothing worth a signal
// between the pumps.
const drainPoll = time.Millisecond

// errClientGone ends a re-authentication whose connection closed.
var errClientGone = errors.New("connection closed")

// reauthDue reports whether the upstream connection must authenticate
// again before the next request goes out: the broker gave its SASL
// session a lifetime (KIP-368, connections.max.reauth.ms), and Kafka's
// client re-authenticates at 85% to 95% of it (clientprops.Session).
// Apache Kafka closes a connection whose session expired at its next
// request, so an idle connection is re-authenticated when its client next
// sends, as a Kafka client does; if the session expired meanwhile, the
// broker closes it and the client reconnects.
func (cl *client) reauthDue() bool {
	s := cl.upSession
	return s != nil && !s.ReauthAt.IsZero() && !time.Now().Before(s.ReauthAt)
}

// reauthenticate runs a SASL exchange on the upstream connection between
// two client requests: it flushes what the request pump holds, waits until
// every response in flight has been read, then sends the SASL requests one
// at a time. The response pump hands their answers here (reauthAnswer)
// instead of to the client, who sees nothing. The principal stays the
// proxy's own, which the broker requires of a re-authentication.
func (cl *client) reauthenticate(w *bufio.Writer) error {
	if err := w.Flush(); err != nil {
		return err
	}
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for len(cl.inflight) > 0 {
		select {
		case <-cl.done:
			return errClientGone
		case <-t.C:
		}
	}

	timeout := cl.p.cfg.Cluster.Props.Duration("request.timeout.ms")
	ctx, cancel := context.WithTimeout(cl.p.ctx, timeout)
	defer cancel()
	s := cl.upSession
	e, req, err := s.Begin(ctx)
	answers := make(chan []byte, 1)
	for err == nil && req != nil {
		exp := pending{correlationID: e.Correlation(), key: int16(binary.BigEndian.Uint16(req[4:])), version: 1, reauth: answers}
		select {
		case cl.inflight <- exp: // empty: never blocks for long
		case <-cl.done:
			return errClientGone
		}
		if _, err = w.Write(req); err == nil {
			err = w.Flush()
		}
		if err != nil {
			return err
		}
		var resp []byte
		select {
		case resp = <-answers:
		case <-cl.done:
			return errClientGone
		case <-ctx.Done():
			return fmt.Errorf("no answer within request.timeout.ms (%s)", timeout)
		}
		req, err = e.Next(resp)
	}
	if err != nil {
		return err
	}
	cl.log.Debug("upstream connection re-authenticated", "mechanism", s.Mechanism(), "next", s.ReauthAt)
	return nil
}

// reauthAnswer passes the answer to a re-authentication request from the
// response pump to reauthenticate. It reports false when the connection
// is done.
func (cl *client) reauthAnswer(rd *wire.Reader, req pending) bool {
	frame, err := rd.Next()
	if err != nil {
		cl.closeErr("upstream", err)
		return false
	}
	answer := append([]byte(nil), frame...) // frame goes back to the pool
	cl.p.pool.Put(frame)
	req.reauth <- answer // buffered, and one answer per request
	return true
}

// reauthFailed closes a connection whose upstream could not authenticate
// again: its requests would run unauthenticated, which the broker
// refuses.
func (cl *client) reauthFailed(err error) {
	if errors.Is(err, errClientGone) {
		return
	}
	cl.log.Warn("upstream SASL re-authentication failed; closing the connection, the client will reconnect; check [cluster] sasl.jaas.config if it keeps failing",
		"error", err)
	cl.close("upstream re-authentication failed: " + err.Error())
}
