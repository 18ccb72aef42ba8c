package clientprops

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
)

// Session is the SASL session of one upstream connection from
// SessionDialer: who it authenticated as, with what, and until when.
type Session struct {
	mech     sasl.Mechanism
	clientID string
	host     string // the broker's host:port, for mechanisms that use it
	// ReauthAt is when the connection must authenticate again, before
	// the broker ends its session (KIP-368); zero when the broker set no
	// session lifetime.
	ReauthAt time.Time
}

// Mechanism is the session's SASL mechanism name.
func (s *Session) Mechanism() string { return s.mech.Name() }

// Begin starts a SASL exchange for the session: the first request frame
// to send, and the Exchange that reads each answer. Re-authentication
// (KIP-368) runs a new exchange on the authenticated connection; the
// broker keeps the connection's principal, which must not change.
func (s *Session) Begin(ctx context.Context) (*Exchange, []byte, error) {
	e := &Exchange{s: s, ctx: ctx, fmt: kmsg.NewRequestFormatter(kmsg.FormatterClientID(s.clientID))}
	req := kmsg.NewPtrSASLHandshakeRequest()
	req.Version = 1 // v0 is the pre-KIP-152 raw exchange
	req.Mechanism = s.mech.Name()
	return e, e.frame(req), nil
}

// Exchange is one SASL authentication, run frame by frame so that the
// caller decides how frames travel: the Dialer writes and reads them on a
// fresh connection, the proxy passes them through its pumps to
// re-authenticate a connection carrying a client's requests.
//
// Requests are SaslHandshake v1, then SaslAuthenticate v1 (Kafka 2.2+:
// v1 carries session_lifetime_ms), each frame with its 4-byte size.
type Exchange struct {
	s       *Session
	ctx     context.Context
	fmt     *kmsg.RequestFormatter
	corr    int32
	session sasl.Session // nil until the handshake is answered
	done    bool         // the mechanism has nothing more to say
	req     kmsg.Request // the request awaiting its answer
}

// Correlation is the correlation id of the last request frame returned,
// which its answer carries.
func (e *Exchange) Correlation() int32 { return e.corr }

func (e *Exchange) frame(req kmsg.Request) []byte {
	e.corr++
	e.req = req
	return e.fmt.AppendRequest(nil, req, e.corr)
}

// Next reads the answer (a whole response frame, size included) to the
// last request and returns the next request frame, or nil when the
// exchange succeeded; the session's ReauthAt is then updated. Errors carry
// the broker's own message.
func (e *Exchange) Next(resp []byte) ([]byte, error) {
	if len(resp) < 8 {
		return nil, errors.New("SASL: short response")
	}
	if c := int32(binary.BigEndian.Uint32(resp[4:])); c != e.corr {
		return nil, fmt.Errorf("SASL: response with correlation id %d, expected %d", c, e.corr)
	}
	body := resp[8:]
	switch req := e.req.(type) {
	case *kmsg.SASLHandshakeRequest:
		r := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
		if err := r.ReadFrom(body); err != nil {
			return nil, fmt.Errorf("SaslHandshake response: %w", err)
		}
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			return nil, handshakeError(err, e.s.mech.Name(), r.SupportedMechanisms)
		}
		session, first, err := e.s.mech.Authenticate(e.ctx, e.s.host)
		if err != nil {
			return nil, fmt.Errorf("SASL %s: %w", e.s.mech.Name(), err)
		}
		if len(first) == 0 { // every mechanism here speaks first
			return nil, fmt.Errorf("SASL %s: no initial client message", e.s.mech.Name())
		}
		e.session = session
		return e.authenticate(first), nil
	case *kmsg.SASLAuthenticateRequest:
		r := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		if err := r.ReadFrom(body); err != nil {
			return nil, fmt.Errorf("SaslAuthenticate response: %w", err)
		}
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			msg := ""
			if r.ErrorMessage != nil {
				msg = *r.ErrorMessage
			}
			return nil, authenticateError(err, e.s.mech.Name(), msg)
		}
		var write []byte
		if !e.done {
			done, w, err := e.session.Challenge(r.SASLAuthBytes)
			if err != nil {
				return nil, fmt.Errorf("SASL %s: %w", e.s.mech.Name(), err)
			}
			e.done, write = done, w
		}
		if !e.done || len(write) > 0 {
			return e.authenticate(write), nil
		}
		e.s.ReauthAt = reauthAt(time.Now(), r.SessionLifetimeMillis, rand.Float64())
		return nil, nil
	}
	return nil, errors.New("SASL: no request awaits an answer")
}

// closedError explains a connection lost awaiting an answer. Apache
// Kafka answers a failed SaslAuthenticate with its reason before it
// closes; a broker that just closes most likely refused the credentials.
func (e *Exchange) closedError(err error) error {
	if _, ok := e.req.(*kmsg.SASLAuthenticateRequest); ok && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		return authFailed{fmt.Errorf("SASL %s authentication failed: the broker closed the connection (%w) without a reason; check the credentials in sasl.jaas.config", e.s.mech.Name(), err)}
	}
	return err
}

func (e *Exchange) authenticate(b []byte) []byte {
	req := kmsg.NewPtrSASLAuthenticateRequest()
	req.Version = 1
	req.SASLAuthBytes = b
	return e.frame(req)
}

// reauthAt is when a session authenticated at end with the broker's
// lifetime is authenticated again: Kafka's client takes a random 85% to
// 95% of the lifetime (SaslClientAuthenticator.ReauthInfo), for network
// latency and clock drift, and so that connections do not all
// re-authenticate at once.
func reauthAt(end time.Time, lifetimeMs int64, rnd float64) time.Time {
	if lifetimeMs <= 0 {
		return time.Time{}
	}
	const maxLifetime = int64(365 * 24 * time.Hour / time.Millisecond) // no overflow below
	lifetimeMs = min(lifetimeMs, maxLifetime)
	return end.Add(time.Duration(float64(lifetimeMs)*(0.85+0.10*rnd)) * time.Millisecond)
}

func handshakeError(err error, mech string, enabled []string) error {
	switch {
	case errors.Is(err, kerr.UnsupportedSaslMechanism):
		return fmt.Errorf("SASL handshake: the broker does not enable sasl.mechanism %s (it enables %s): set sasl.mechanism to one of them: %w",
			mech, strings.Join(enabled, ", "), err)
	case errors.Is(err, kerr.IllegalSaslState):
		return fmt.Errorf("SASL handshake refused: %w; check that the broker's listener at bootstrap.servers uses SASL (security.protocol)", err)
	}
	return fmt.Errorf("SASL handshake: %w", err)
}

// ErrAuthentication matches (errors.Is) the errors of a broker refusing
// linkproxy's SASL credentials: a configuration error, which retrying
// does not fix, as opposed to a broker being unreachable.
var ErrAuthentication = errors.New("SASL authentication refused")

type authFailed struct{ error }

func (authFailed) Is(target error) bool { return target == ErrAuthentication }
func (a authFailed) Unwrap() error      { return a.error }

func authenticateError(err error, mech, msg string) error {
	if msg != "" {
		err = fmt.Errorf("%w: the broker says: %s", err, msg)
	}
	if errors.Is(err, kerr.SaslAuthenticationFailed) {
		return authFailed{fmt.Errorf("SASL %s authentication failed: %w; check the credentials in sasl.jaas.config", mech, err)}
	}
	return fmt.Errorf("SASL %s authentication: %w", mech, err)
}

// authenticate runs a whole exchange on conn, within timeout.
func (s *Session) authenticate(ctx context.Context, conn net.Conn, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
		defer conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) }) // the caller gave up
	defer stop()
	e, req, err := s.Begin(ctx)
	for err == nil && req != nil {
		if _, err = conn.Write(req); err != nil {
			break
		}
		var resp []byte
		if resp, err = readFrame(conn); err != nil {
			err = e.closedError(err)
			break
		}
		req, err = e.Next(resp)
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (request.timeout.ms %s): %w", ctx.Err(), timeout, err)
	}
	return err
}

// readFrame reads one response frame, size included. SASL answers are
// small; anything large is not a SASL answer.
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 1<<20 {
		return nil, fmt.Errorf("response of %d bytes is not a SASL answer: check security.protocol and bootstrap.servers", n)
	}
	frame := make([]byte, 4+n)
	copy(frame, size[:])
	if _, err := io.ReadFull(r, frame[4:]); err != nil {
		return nil, err
	}
	return frame, nil
}
