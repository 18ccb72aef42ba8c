package proxy

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/linkproxy/linkproxy/auth/oauth"
	"github.com/linkproxy/linkproxy/auth/sasl"
	"github.com/linkproxy/linkproxy/conf"
	"github.com/linkproxy/linkproxy/proxy/rewrite"
	"github.com/linkproxy/linkproxy/proxy/wire"
)

// SASL termination on SASL_PLAINTEXT listeners, answered as Apache Kafka's
// SaslServerAuthenticator answers:
//
//   - Before authentication a connection may send ApiVersions (once, any
//     version; answered from the upstream broker's cached answer, see
//     below) and SaslHandshake v0-v1. Anything else closes the connection, sending
//     nothing, as Kafka does.
//   - SaslHandshake names a mechanism. One not in sasl.enabled.mechanisms
//     gets UNSUPPORTED_SASL_MECHANISM with the enabled list, then the
//     connection closes. After v1 the tokens come in SaslAuthenticate
//     v0-v2 requests; after v0 they come raw, each prefixed by its 4-byte
//     size, and so do the answers (the legacy flow).
//   - A failed authentication gets SASL_AUTHENTICATION_FAILED with Kafka's
//     message, then the connection closes; on the raw flow it closes with
//     no answer, as in Kafka. As in Kafka, every authentication failure
//     (a refused token, an unsupported mechanism, a request out of order)
//     holds its answer and the close back for the listener's
//     connection.failed.authentication.delay.ms, to slow down password
//     guessing; malformed frames close at once. A user not in the credentials file fails
//     exactly as a wrong password does (auth/sasl).
//   - Once authenticated the connection carries the principal User:<name>
//     beside its listener, and its requests are forwarded.
//   - With connections.max.reauth.ms > 0 (KIP-368), or an OAUTHBEARER
//     token (whose exp caps the session, as in Kafka: lifetime =
//     min(connections.max.reauth.ms, time left on the token)),
//     SaslAuthenticate v1+ returns session_lifetime_ms, and a SaslHandshake
//     on an authenticated connection starts a re-authentication: same
//     mechanism and same principal, at most one start per second;
//     otherwise the handshake is answered ILLEGAL_SASL_STATE. A request
//     other than SaslHandshake after the session expired closes the
//     connection.
//   - OAUTHBEARER tokens are JWTs checked against the listener's JWKS
//     (auth/oauth); a refused token gets Kafka's {"status":"invalid_token"}
//     challenge, and the client's %x01 then SASL_AUTHENTICATION_FAILED
//     with that message.
//
// No upstream connection exists until the client has authenticated
// (authenticateFirst): a stranger must not make the proxy open, and with
// upstream SASL authenticate, connections to the private cluster. Until
// then every frame is answered here and written straight back, in order;
// ApiVersions from the upstream broker's answer that metadataLoop caches
// (proxy.go), made for the request's version as the broker makes it and
// then clamped and extended exactly as a forwarded answer is (rewrite in
// client.go). The upstream is dialed once the client is authenticated.
// Only while the proxy has no cached answer (the cluster not reached since
// start) is the upstream dialed first, as on other listeners.
//
// Once the upstream exists (re-authentication, or that fallback), a SASL
// request is still answered here, never forwarded. Its answer goes back in
// request order the way the mirror-topic guard's do (guard.go): an
// ApiVersions v0 stand-in goes upstream in its place and the broker's
// answer to it is swapped for the SASL answer. A raw token has no
// correlation id; its stand-in uses 0, the pairing being by order anyway.
// Until authentication completes, frames are read whole and limited to
// Kafka's sasl.server.max.receive.size default, 512 KiB.
//
// Failures are logged at most once per listener, client host and kind every
// 10 seconds (with a count of those left out), naming the mechanism, the
// reason and, when the credentials file has it, the user; never a
// password or a token.
//
// PLAIN and SCRAM verifications run at most GOMAXPROCS/2 (at least one)
// at a time across the proxy, the others waiting their turn: PLAIN
// derives a PBKDF2 key per attempt, and a flood of logins must not take
// the CPU from the data path.

// saslMaxReceiveSize is Kafka's sasl.server.max.receive.size default: the
// largest frame accepted before authentication completes.
const saslMaxReceiveSize = 512 << 10

// Kafka error codes the SASL exchange answers with.
const (
	codeUnsupportedSaslMechanism = 33
	codeIllegalSaslState         = 34
	codeSaslAuthenticationFailed = 58
)

// reauthMinInterval is how often a connection may start a
// re-authentication (Kafka's KafkaChannel.MIN_REAUTH_INTERVAL_ONE_SECOND).
const reauthMinInterval = time.Second

const anonymous = "User:ANONYMOUS"

// saslListener is a SASL listener's server side: one verifier per family
// of mechanisms, nil when none of its mechanisms is enabled.
type saslListener struct {
	name       string
	mechanisms []string
	reauth     time.Duration
	failDelay  time.Duration // connection.failed.authentication.delay.ms
	log        hclog.Logger

	file  *sasl.File       // PLAIN and SCRAM
	oauth *oauth.Validator // OAUTHBEARER
	krb   *sasl.Kerberos   // GSSAPI
}

// saslListeners builds the SASL side of every SASL listener.
func saslListeners(cfg *conf.Config, log hclog.Logger) (map[string]*saslListener, error) {
	m := make(map[string]*saslListener)
	for _, l := range cfg.Listeners {
		if l.SASL == nil {
			continue
		}
		sl := &saslListener{name: l.Name, mechanisms: l.SASL.EnabledMechanisms,
			reauth: l.SASL.ConnectionsMaxReauth, failDelay: l.SASL.FailedAuthenticationDelay, log: log.With("listener", l.Name)}
		if l.SASL.CredentialsFile != "" {
			f, err := sasl.OpenFile(l.SASL.CredentialsFile)
			if err != nil {
				return nil, fmt.Errorf("listener %s: sasl.credentials.file: %w", l.Name, err)
			}
			sl.file = f
			c, _, _ := f.Current()
			if c.Len() == 0 {
				sl.log.Warn("the credentials file has no entries: no client can authenticate until `linkproxy scram` entries are added (the file is re-read when it changes)", "file", f.Path())
			}
		}
		if o := l.SASL.OAuthBearer; o != nil {
			oc := *o
			oc.Log = sl.log.Named("oauthbearer")
			v, err := oauth.New(oc)
			if err != nil {
				return nil, fmt.Errorf("listener %s: sasl.oauthbearer.jwks.endpoint.url: %w", l.Name, err)
			}
			sl.oauth = v
		}
		if k := l.SASL.Kerberos; k != nil {
			a, err := k.Acceptor()
			if err != nil {
				return nil, fmt.Errorf("listener %s: gssapi.sasl.jaas.config: %w", l.Name, err)
			}
			sl.krb = a
		}
		if l.SecurityProtocol == "SASL_PLAINTEXT" {
			for _, mech := range []string{sasl.Plain, sasl.OAuthBearer} {
				if slices.Contains(sl.mechanisms, mech) {
					sl.log.Warn(mech+" is enabled on a SASL_PLAINTEXT listener: clients send their passwords or tokens in clear text; prefer SASL_SSL (or SCRAM instead of PLAIN)", "mechanism", mech)
				}
			}
		}
		m[l.Name] = sl
	}
	return m, nil
}

// runSASL keeps the listeners' verifiers fresh (the OAUTHBEARER JWKS)
// until ctx ends.
func runSASL(ctx context.Context, ls map[string]*saslListener) {
	var wg sync.WaitGroup
	for _, l := range ls {
		if l.oauth != nil {
			wg.Go(func() { l.oauth.Run(ctx) })
		}
	}
	wg.Wait()
}

// verifiers are what the listener checks an exchange against now.
func (l *saslListener) verifiers() sasl.Verifiers {
	var v sasl.Verifiers
	if l.file != nil {
		v.Credentials = l.credentials()
	}
	if l.oauth != nil { // a nil *Validator would be a non-nil TokenValidator
		v.OAuth = l.oauth
	}
	v.Kerberos = l.krb
	return v
}

// credentials returns the listener's credentials, logging a reload.
func (l *saslListener) credentials() *sasl.Credentials {
	c, reloaded, err := l.file.Current()
	switch {
	case err != nil:
		l.log.Error("the credentials file changed but cannot be read; the previous credentials stay in use", "file", l.file.Path(), "error", err)
	case reloaded:
		l.log.Info("credentials file reloaded", "file", l.file.Path(), "entries", c.Len())
	}
	return c
}

type saslPhase uint8

const (
	phaseInitial      saslPhase = iota // ApiVersions or SaslHandshake
	phaseHandshake                     // after ApiVersions: SaslHandshake
	phaseAuthenticate                  // after SaslHandshake v1: SaslAuthenticate
	phaseRaw                           // after SaslHandshake v0: raw tokens
	phaseBadMechanism                  // re-authentication asked for another mechanism
	phaseDone                          // authenticated
)

// saslConn is the SASL state of one connection. Only its request pump
// touches it.
type saslConn struct {
	l       *saslListener
	phase   saslPhase
	auth    sasl.Authenticator // the exchange under way
	badMech string             // phaseBadMechanism: what Kafka would say

	// Once authenticated:
	user      string
	mechanism string
	expiry    time.Time // zero: the session does not expire
	lifetime  time.Duration
	reauthAt  time.Time // when the last re-authentication started
	reauth    bool      // a re-authentication is under way
}

// holdsFrames reports whether frames are read whole and bounded by
// saslMaxReceiveSize: until authentication completes, and during a
// re-authentication.
func (s *saslConn) holdsFrames() bool { return s.phase != phaseDone }

// what is Kafka's word for the exchange under way.
func (s *saslConn) what() string {
	if s.reauth {
		return "re-authentication"
	}
	return "authentication"
}

// localAnswer is a response made here for a request that is not
// forwarded; an ApiVersions stand-in goes upstream in its place.
type localAnswer struct {
	frame []byte
	// closeReason, when set, closes the connection once frame is out.
	closeReason string
	// failed holds frame back for connection.failed.authentication.delay.ms.
	failed bool
}

// saslVerdict is what the request pump does with a frame on a SASL
// listener; the zero value forwards it.
type saslVerdict struct {
	needWhole bool // a streamed head: read the whole frame and ask again
	answer    *localAnswer
	corr      int32
	closeNow  string // close sending nothing: at once, or during a re-authentication once earlier responses are out
	logKind   string // for closeNow: log a rate-limited warning of this kind
	failed    bool   // an authentication failure: the answer or close waits connection.failed.authentication.delay.ms
}

// saslFrame runs a frame read on a SASL listener through the SASL state.
// It returns the frame to go upstream (the client's, or a stand-in), and
// ok false when the connection is closed.
func (cl *client) saslFrame(rd *wire.Reader, frame []byte, stream bool) (out []byte, streaming bool, expect pending, local, ok bool) {
	v := cl.saslCheck(frame, !stream)
	if v.needWhole {
		var err error
		if frame, err = rd.Next(); err != nil {
			cl.closeErr("client", err)
			return nil, false, pending{}, false, false
		}
		stream = false
		v = cl.saslCheck(frame, true)
	}
	if v.closeNow != "" {
		cl.stat.refused.Add(1)
		if v.logKind != "" {
			cl.saslLog(v.logKind, "SASL exchange refused; closing the connection", "reason", v.closeNow)
		}
		if cl.auth.reauth && !stream {
			// Requests sent before the re-authentication get their
			// responses first: the close goes in line.
			v.answer = &localAnswer{closeReason: v.closeNow, failed: v.failed}
		} else {
			if !stream {
				clear(frame) // it may hold a password
				cl.p.pool.Put(frame)
			}
			if v.failed {
				cl.failedAuthDelay()
			}
			cl.close(v.closeNow)
			return nil, false, pending{}, false, false
		}
	}
	if v.answer == nil {
		return frame, stream, pending{}, false, true
	}
	v.answer.failed = v.failed
	clear(frame)
	cl.p.pool.Put(frame)
	return apiVersionsStandIn(nil, v.corr), false, pending{correlationID: v.corr, key: 18, local: v.answer}, true, true
}

// saslCheck decides about one frame; whole is false for the head of a
// streamed frame (only ever after authentication).
func (cl *client) saslCheck(frame []byte, whole bool) saslVerdict {
	s := cl.auth
	switch s.phase {
	case phaseRaw:
		return cl.saslStep(frame[4:], 0, 0, false)
	case phaseBadMechanism:
		cl.saslLog("mechanism", "re-authentication with another mechanism refused", "error", s.badMech)
		return saslVerdict{closeNow: s.badMech, failed: true}
	}
	h, err := wire.PeekRequestHeader(frame)
	if err != nil {
		if s.phase == phaseDone {
			return saslVerdict{} // admit refuses it
		}
		return saslVerdict{closeNow: fmt.Sprintf("before SASL authentication: %v", err), logKind: "frame"}
	}
	now := time.Now()
	switch s.phase {
	case phaseDone:
		if h.APIKey == 17 || h.APIKey == 36 {
			if !whole {
				return saslVerdict{needWhole: true}
			}
		}
		// As in Kafka, re-authentication is for sessions that expire.
		if h.APIKey == 17 && !s.expiry.IsZero() && (s.reauthAt.IsZero() || now.Sub(s.reauthAt) >= reauthMinInterval) {
			s.reauthAt, s.reauth = now, true
			return cl.saslHandshake(frame, h)
		}
		if !s.expiry.IsZero() && now.After(s.expiry) {
			return saslVerdict{closeNow: fmt.Sprintf("SASL session expired: the client did not re-authenticate within the session lifetime (%d ms: connections.max.reauth.ms, or the time left on its token) and sent %s",
				s.lifetime.Milliseconds(), apiName(h.APIKey))}
		}
		switch h.APIKey {
		case 17: // as Kafka's KafkaApis answers outside a re-authentication
			r := kmsg.NewPtrSASLHandshakeResponse()
			r.Version, r.ErrorCode = clampVersion(h.APIVersion, 1), codeIllegalSaslState
			return saslVerdict{answer: &localAnswer{frame: localFrame(h.CorrelationID, r)}, corr: h.CorrelationID}
		case 36:
			r := kmsg.NewPtrSASLAuthenticateResponse()
			r.Version, r.ErrorCode = clampVersion(h.APIVersion, 2), codeIllegalSaslState
			r.ErrorMessage = kmsg.StringPtr("SaslAuthenticate request received after successful authentication")
			return saslVerdict{answer: &localAnswer{frame: localFrame(h.CorrelationID, r)}, corr: h.CorrelationID}
		}
		return saslVerdict{}
	case phaseInitial, phaseHandshake:
		switch {
		case h.APIKey == 17:
			return cl.saslHandshake(frame, h)
		case h.APIKey == 18 && s.phase == phaseInitial:
			// A version above the proxy's gets UNSUPPORTED_VERSION from
			// the broker and the client retries lower, as in Kafka.
			if maxV, _ := cl.p.apis.max(18); h.APIVersion <= maxV {
				s.phase = phaseHandshake
			}
			return saslVerdict{}
		case h.APIKey == 18:
			return saslVerdict{closeNow: "a second ApiVersions before SASL authentication", logKind: "order", failed: true}
		}
		return saslVerdict{closeNow: fmt.Sprintf("%s before SASL authentication: only ApiVersions, SaslHandshake and SaslAuthenticate after SaslHandshake are allowed; configure the client with security.protocol=%s and sasl.mechanism one of %v for listener %s",
			apiName(h.APIKey), cl.conn.Listener.SecurityProtocol(), s.l.mechanisms, s.l.name), logKind: "order", failed: true}
	case phaseAuthenticate:
		if h.APIKey == 36 {
			return cl.saslAuthenticate(frame, h)
		}
		reason := fmt.Sprintf("%s during SASL %s: only SaslAuthenticate is allowed until it completes", apiName(h.APIKey), s.what())
		// Kafka answers the request with ILLEGAL_SASL_STATE, then closes;
		// the proxy does so for the two requests it can answer without
		// decoding the client's body.
		var r kmsg.Response
		switch h.APIKey {
		case 17:
			hr := kmsg.NewPtrSASLHandshakeResponse()
			hr.Version, hr.ErrorCode = clampVersion(h.APIVersion, 1), codeIllegalSaslState
			r = hr
		case 18:
			ar := kmsg.NewPtrApiVersionsResponse() // v0: what every version reads
			ar.ErrorCode = codeIllegalSaslState
			r = ar
		default:
			return saslVerdict{closeNow: reason, logKind: "order", failed: true}
		}
		cl.saslLog("order", "SASL exchange refused; closing the connection", "reason", reason)
		return saslVerdict{answer: &localAnswer{frame: localFrame(h.CorrelationID, r), closeReason: reason}, corr: h.CorrelationID, failed: true}
	}
	return saslVerdict{closeNow: "unexpected SASL state"}
}

func clampVersion(v, maxV int16) int16 { return min(max(v, 0), maxV) }

// saslHandshake answers a SaslHandshake request.
func (cl *client) saslHandshake(frame []byte, h wire.RequestHeader) saslVerdict {
	s := cl.auth
	if h.APIVersion < 0 || h.APIVersion > 1 {
		return saslVerdict{closeNow: fmt.Sprintf("SaslHandshake v%d is not supported (v0-v1)", h.APIVersion), logKind: "frame"}
	}
	hh, err := wire.ParseRequestHeader(frame, false)
	if err != nil {
		return saslVerdict{closeNow: fmt.Sprintf("SaslHandshake: %v", err), logKind: "frame"}
	}
	c := cursor{b: frame[hh.BodyOffset:]}
	mech := string(c.str(false))
	if c.failed() {
		return saslVerdict{closeNow: fmt.Sprintf("SaslHandshake v%d: %v: request body", h.APIVersion, wire.ErrMalformed), logKind: "frame"}
	}
	r := kmsg.NewPtrSASLHandshakeResponse()
	r.Version, r.SupportedMechanisms = h.APIVersion, s.l.mechanisms
	if !slices.Contains(s.l.mechanisms, mech) {
		r.ErrorCode = codeUnsupportedSaslMechanism
		reason := fmt.Sprintf("SASL mechanism %s is not enabled on listener %s (sasl.enabled.mechanisms: %v)", quoteShort(mech), s.l.name, s.l.mechanisms)
		cl.saslLog("mechanism", "unsupported SASL mechanism requested", "mechanism", quoteShort(mech), "enabled", s.l.mechanisms)
		return saslVerdict{answer: &localAnswer{frame: localFrame(h.CorrelationID, r), closeReason: reason}, corr: h.CorrelationID, failed: true}
	}
	switch {
	case s.reauth && mech != s.mechanism:
		s.phase = phaseBadMechanism
		s.badMech = fmt.Sprintf("SASL mechanism '%s' requested by client is not supported for re-authentication of mechanism '%s'", mech, s.mechanism)
	default:
		s.auth, _ = sasl.NewAuthenticator(mech, s.l.verifiers()) // mech is one of ours, with its verifier
		s.phase = phaseAuthenticate
		if h.APIVersion == 0 {
			s.phase = phaseRaw
		}
	}
	return saslVerdict{answer: &localAnswer{frame: localFrame(h.CorrelationID, r)}, corr: h.CorrelationID}
}

// saslAuthenticate answers a SaslAuthenticate request.
func (cl *client) saslAuthenticate(frame []byte, h wire.RequestHeader) saslVerdict {
	if h.APIVersion < 0 || h.APIVersion > 2 {
		// Kafka cannot answer a version it does not know either.
		return saslVerdict{closeNow: fmt.Sprintf("SaslAuthenticate v%d is not supported (v0-v2)", h.APIVersion), logKind: "frame"}
	}
	flex := h.APIVersion >= 2
	hh, err := wire.ParseRequestHeader(frame, flex)
	if err != nil {
		return saslVerdict{closeNow: fmt.Sprintf("SaslAuthenticate: %v", err), logKind: "frame"}
	}
	c := cursor{b: frame[hh.BodyOffset:]}
	token := c.take(max(c.length(flex, 4), 0))
	c.tags(flex)
	if c.failed() {
		return saslVerdict{closeNow: fmt.Sprintf("SaslAuthenticate v%d: %v: request body", h.APIVersion, wire.ErrMalformed), logKind: "frame"}
	}
	return cl.saslStep(token, h.CorrelationID, h.APIVersion, true)
}

// saslStep feeds a token to the exchange; framed is false on the raw flow.
func (cl *client) saslStep(token []byte, corr int32, version int16, framed bool) saslVerdict {
	s := cl.auth
	mech := s.auth.Mechanism()
	if !cl.acquireVerify(mech) {
		return saslVerdict{closeNow: "closed"} // the connection is closed already
	}
	answer, done, err := s.auth.Step(token)
	cl.releaseVerify(mech)
	if err == nil && done && s.reauth && s.auth.User() != s.user {
		err = &sasl.Error{
			Message: fmt.Sprintf("Cannot change principals during re-authentication from User.%s: User.%s", s.user, s.auth.User()),
			Reason:  "re-authentication as another user", User: s.auth.User(),
		}
	}
	if err != nil {
		se, _ := sasl.IsError(err)
		msg := se.Message
		if msg == "" {
			msg = fmt.Sprintf("Authentication failed during %s due to invalid credentials with SASL mechanism %s", s.what(), mech)
		}
		args := []any{"mechanism", mech, "reason", se.Reason}
		if se.User != "" {
			args = append(args, "user", se.User)
		}
		if s.reauth {
			args = append(args, "principal", "User:"+s.user)
		}
		cl.saslLog("failed", "SASL "+s.what()+" failed", args...)
		reason := fmt.Sprintf("SASL %s failed (%s): %s", s.what(), mech, se.Reason)
		if !framed { // Kafka's raw flow has no way to say why
			return saslVerdict{closeNow: reason, failed: true}
		}
		r := kmsg.NewPtrSASLAuthenticateResponse()
		r.Version, r.ErrorCode, r.ErrorMessage = version, codeSaslAuthenticationFailed, kmsg.StringPtr(msg)
		return saslVerdict{answer: &localAnswer{frame: localFrame(corr, r), closeReason: reason}, corr: corr, failed: true}
	}
	if r, ok := s.auth.(sasl.Refuser); ok && !done {
		if e := r.Refused(); e != nil {
			// Logged now, as the client may hang up instead of
			// acknowledging the challenge.
			cl.saslLog("failed", "SASL "+s.what()+" refused; the client gets the invalid_token challenge", "mechanism", mech, "reason", e.Reason)
		}
	}
	var lifetime int64
	if done {
		first := !s.reauth
		var credExpiry time.Time
		if ce, ok := s.auth.(sasl.CredentialExpirer); ok {
			credExpiry = ce.CredentialExpiry()
		}
		s.user, s.mechanism = s.auth.User(), mech
		s.phase, s.auth, s.reauth = phaseDone, nil, false
		now := time.Now()
		s.lifetime, s.expiry = sessionLifetime(now, s.l.reauth, credExpiry)
		lifetime = s.lifetime.Milliseconds()
		principal := "User:" + s.user
		cl.principal.Store(&principal)
		args := []any{"principal", principal, "mechanism", mech}
		if lifetime > 0 {
			args = append(args, "session_lifetime_ms", lifetime)
		}
		if first {
			cl.log.Info("authenticated", args...)
		} else {
			cl.log.Debug("re-authenticated", args...)
		}
	}
	if !framed {
		out := make([]byte, 4, 4+len(answer))
		binary.BigEndian.PutUint32(out, uint32(len(answer)))
		return saslVerdict{answer: &localAnswer{frame: append(out, answer...)}, corr: corr}
	}
	r := kmsg.NewPtrSASLAuthenticateResponse()
	r.Version, r.SASLAuthBytes, r.SessionLifetimeMillis = version, answer, lifetime
	return saslVerdict{answer: &localAnswer{frame: localFrame(corr, r)}, corr: corr}
}

// sessionLifetime is Kafka's KIP-368 session lifetime
// (SaslServerAuthenticator): connections.max.reauth.ms, capped by the
// credential's expiry when it has one, never negative; and when the
// session expires, zero when it does not.
func sessionLifetime(now time.Time, maxReauth time.Duration, credExpiry time.Time) (time.Duration, time.Time) {
	var d time.Duration
	switch {
	case credExpiry.IsZero() && maxReauth <= 0:
		return 0, time.Time{}
	case credExpiry.IsZero():
		d = maxReauth
	case maxReauth <= 0:
		d = credExpiry.Sub(now)
	default:
		d = min(credExpiry.Sub(now), maxReauth)
	}
	d = max(d, 0).Truncate(time.Millisecond)
	return d, now.Add(d)
}

// localFrame encodes a response frame made here.
func localFrame(correlationID int32, resp kmsg.Response) []byte {
	out := make([]byte, 8, 128)
	binary.BigEndian.PutUint32(out[4:], uint32(correlationID))
	if rewrite.FlexibleResponseHeader(resp.Key(), resp.GetVersion()) {
		out = append(out, 0) // no header tags
	}
	out = resp.AppendTo(out)
	binaryPutLength(out)
	return out
}

// quoteShort quotes a client-chosen string for a log line, cut short.
func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}

// saslLog logs a SASL refusal at most once per listener, client host and
// kind every refusalLogEvery.
func (cl *client) saslLog(kind, msg string, args ...any) {
	host, _, err := net.SplitHostPort(cl.conn.RemoteAddr().String())
	if err != nil {
		host = cl.conn.RemoteAddr().String()
	}
	ok, suppressed := cl.p.saslLogs.allow(refusalKey{listener: cl.conn.Listener.Name(), client: host, topic: "sasl:" + kind, key: 36}, time.Now())
	if !ok {
		return
	}
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	cl.log.Warn(msg, args...)
}

// withSaslAPIs makes an ApiVersions response body of a SASL listener list
// SaslHandshake v0-v1 and SaslAuthenticate v0-v2, the versions the proxy
// answers whatever the broker's. The body comes from the broker, trusted.
func withSaslAPIs(version int16, body []byte) []byte {
	resp := kmsg.ApiVersionsResponse{Version: version}
	if resp.ReadFrom(body) != nil || resp.ErrorCode != 0 {
		return body
	}
	want := map[int16]int16{17: 1, 36: 2}
	changed := false
	for i := range resp.ApiKeys {
		k := &resp.ApiKeys[i]
		maxV, ok := want[k.ApiKey]
		if !ok {
			continue
		}
		delete(want, k.ApiKey)
		if k.MinVersion != 0 || k.MaxVersion != maxV {
			k.MinVersion, k.MaxVersion, changed = 0, maxV, true
		}
	}
	for key, maxV := range want {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MaxVersion = key, maxV
		resp.ApiKeys = append(resp.ApiKeys, k)
		changed = true
	}
	if !changed {
		return body
	}
	slices.SortFunc(resp.ApiKeys, func(a, b kmsg.ApiVersionsResponseApiKey) int { return int(a.ApiKey) - int(b.ApiKey) })
	return resp.AppendTo(nil)
}

// Principal is the connection's principal: User:ANONYMOUS on PLAINTEXT
// listeners, as in Kafka; on a SASL listener "" until the client
// authenticates, then User:<name>.
func (cl *client) Principal() string {
	if p := cl.principal.Load(); p != nil {
		return *p
	}
	return ""
}

// failedAuthDelay waits out connection.failed.authentication.delay.ms, or
// until the connection closes. Kafka holds both the failure's answer and
// the close back (KafkaChannel.delayCloseOnAuthenticationFailure), which
// the callers do by waiting before either.
func (cl *client) failedAuthDelay() {
	d := cl.auth.l.failDelay
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-cl.done:
	}
}

// verifyBounded reports whether mech's verification is bounded by
// Proxy.verify: those against the credentials file, PLAIN's PBKDF2 above
// all. OAUTHBEARER and GSSAPI check signatures and tickets, which cost far
// less.
func verifyBounded(mech string) bool {
	return mech == sasl.Plain || mech == sasl.ScramSHA256 || mech == sasl.ScramSHA512
}

// acquireVerify waits for a verification slot; false when the connection
// closed meanwhile.
func (cl *client) acquireVerify(mech string) bool {
	if !verifyBounded(mech) {
		return true
	}
	select {
	case cl.p.verify <- struct{}{}:
		return true
	case <-cl.done:
		return false
	}
}

func (cl *client) releaseVerify(mech string) {
	if verifyBounded(mech) {
		<-cl.p.verify
	}
}

// saslTooLarge refuses, closing the connection, a frame above
// sasl.server.max.receive.size while authentication is under way.
func (cl *client) saslTooLarge(size int) bool {
	if size-4 <= saslMaxReceiveSize {
		return false
	}
	cl.stat.refused.Add(1)
	reason := fmt.Sprintf("SASL frame of %d bytes before authentication completed exceeds the limit of %d bytes (Kafka's sasl.server.max.receive.size)", size-4, saslMaxReceiveSize)
	cl.saslLog("frame", "SASL exchange refused; closing the connection", "reason", reason)
	cl.close(reason)
	return true
}

// authenticateFirst runs a connection's first SASL authentication with no
// upstream connection: every frame is answered here and written straight
// back, ApiVersions from cached, the upstream broker's own answer. It
// reports whether the client authenticated; if not, the connection is
// closed. Frames the client sent after its last SASL one stay in rd for
// the request pump.
func (cl *client) authenticateFirst(rd *wire.Reader, cached *upstreamApiVersions) bool {
	for cl.auth.phase != phaseDone {
		size, err := rd.Size()
		if err != nil {
			cl.closeErr("client", err)
			return false
		}
		cl.touch()
		cl.stat.requests.Add(1)
		cl.stat.bytesIn.Add(int64(size))
		if cl.saslTooLarge(size) {
			return false
		}
		frame, err := rd.Next()
		if err != nil {
			cl.closeErr("client", err)
			return false
		}
		v := cl.saslCheck(frame, true)
		if v.closeNow == "" && v.answer == nil {
			// The one request forwarded before authentication.
			v = cl.apiVersionsAnswer(frame, cached)
		}
		clear(frame) // it may hold a password
		cl.p.pool.Put(frame)
		if v.closeNow != "" {
			cl.stat.refused.Add(1)
			if v.logKind != "" {
				cl.saslLog(v.logKind, "SASL exchange refused; closing the connection", "reason", v.closeNow)
			}
			if v.failed {
				cl.failedAuthDelay()
			}
			cl.close(v.closeNow)
			return false
		}
		if v.failed {
			cl.failedAuthDelay()
		}
		cl.stat.bytesOut.Add(int64(len(v.answer.frame)))
		if _, err := cl.conn.Conn.Write(v.answer.frame); err != nil {
			cl.closeErr("client", err)
			return false
		}
		if v.answer.closeReason != "" {
			cl.close(v.answer.closeReason)
			return false
		}
	}
	return true
}

// apiVersionsAnswer answers an ApiVersions request before authentication
// with what the client would get through the proxy: the broker's answer,
// made from cached, then rewritten as a forwarded one is.
func (cl *client) apiVersionsAnswer(frame []byte, cached *upstreamApiVersions) saslVerdict {
	exp, err := cl.admit(frame)
	if err != nil { // as the request pump refuses it
		cl.log.Warn("request refused", "error", err)
		return saslVerdict{closeNow: "request refused: " + err.Error()}
	}
	h, err := wire.ParseRequestHeader(frame, rewrite.FlexibleRequestHeader(exp.key, exp.version))
	if err != nil {
		return saslVerdict{closeNow: fmt.Sprintf("before SASL authentication: %v", err), logKind: "frame"}
	}
	body, err := brokerApiVersions(cached, exp.version, frame[h.BodyOffset:])
	if err != nil { // Kafka closes a request it cannot parse
		return saslVerdict{closeNow: fmt.Sprintf("ApiVersions v%d before SASL authentication: %v", exp.version, err), logKind: "frame"}
	}
	resp := binary.BigEndian.AppendUint32(make([]byte, 4, 8+len(body)), uint32(exp.correlationID)) // the response header is v0 at every version
	resp = append(resp, body...)
	binaryPutLength(resp)
	out, err := cl.rewrite(exp, resp)
	if err != nil {
		cl.log.Error("cannot answer ApiVersions from the upstream's cached answer; closing the connection, the client will retry", "error", err)
		return saslVerdict{closeNow: "bad response: " + err.Error()}
	}
	if !sameSlice(out, resp) {
		resp = append(resp[:0], out...)
		cl.p.pool.Put(out)
	}
	return saslVerdict{answer: &localAnswer{frame: resp}, corr: exp.correlationID}
}

// brokerApiVersions is the body of the answer Apache Kafka's broker whose
// ApiVersions answer is cached gives to an ApiVersions request of version
// v with body reqBody (KafkaApis.handleApiVersionsRequest). The body is
// bounded by sasl.server.max.receive.size and ApiVersions requests hold
// no arrays, so decoding it with kmsg allocates no more than its size.
func brokerApiVersions(up *upstreamApiVersions, v int16, reqBody []byte) ([]byte, error) {
	cached := up.resp
	lo, hi := int16(0), cached.Version
	for _, k := range cached.ApiKeys {
		if k.ApiKey == 18 {
			lo, hi = k.MinVersion, k.MaxVersion
		}
	}
	// cached is at the newest version the proxy can encode: above it,
	// the broker would answer in a form the proxy's rewrite refuses
	// (rewrite.ClampApiVersions), so the client hears the proxy's limit.
	if hi = min(hi, cached.Version); v > hi {
		// KIP-511: UNSUPPORTED_VERSION in v0 form, which every client
		// reads, with the range to retry in.
		r := kmsg.NewApiVersionsResponse()
		r.ErrorCode = kerr.UnsupportedVersion.Code
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = 18, lo, hi
		r.ApiKeys = append(r.ApiKeys, k)
		return r.AppendTo(nil), nil
	}
	req := kmsg.NewApiVersionsRequest()
	req.Version = v
	if err := req.ReadFrom(reqBody); err != nil {
		return nil, fmt.Errorf("%w: request body", wire.ErrMalformed)
	}
	errResp := func(code int16) []byte {
		r := kmsg.NewApiVersionsResponse()
		r.Version, r.ErrorCode = v, code
		return r.AppendTo(nil)
	}
	// ApiVersionsRequest.isValid: v3+ names the client software.
	if v >= 3 && (!validSoftware(req.ClientSoftwareName) || !validSoftware(req.ClientSoftwareVersion)) {
		return errResp(kerr.InvalidRequest.Code), nil
	}
	// v5+ (KIP-1242) names the cluster and node the client expects: both
	// or neither, and another broker's name sends it back to bootstrap.
	if v >= 5 {
		hasCluster, hasNode := req.ClusterID != nil, req.NodeID != -1
		switch {
		case hasCluster != hasNode:
			return errResp(kerr.InvalidRequest.Code), nil
		case hasCluster && (up.cluster == nil || *req.ClusterID != *up.cluster || req.NodeID != up.node):
			return errResp(kerr.RebootstrapRequired.Code), nil
		}
	}
	r := *cached
	r.Version = v
	return r.AppendTo(nil), nil
}

// validSoftware is Kafka's check of ApiVersions' client software name and
// version: [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?
func validSoftware(s string) bool {
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	if s == "" || !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !alnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}
