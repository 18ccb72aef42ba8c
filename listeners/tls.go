package listeners

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/linkproxy/linkproxy/auth/keystore"
	"github.com/linkproxy/linkproxy/auth/principal"
	"github.com/linkproxy/linkproxy/conf"
)

const (
	// handshakeTimeout bounds a TLS handshake, so that a client that
	// connects and says nothing holds a goroutine and a socket no longer.
	// Kafka has no separate setting: its idle timeout covers handshakes.
	handshakeTimeout = 10 * time.Second
	// recheckStores is how often the store files' stamps are looked at.
	recheckStores = time.Second
)

// anonymous is Kafka's principal of a TLS client without a certificate.
const anonymous = "User:ANONYMOUS"

// tlsServer is a listener's TLS: the configuration in use, reloaded when
// the key or trust store files change, and the handshake.
type tlsServer struct {
	cfg     conf.ListenerTLS
	ssl     bool // security.protocol SSL: the certificate names the principal
	log     hclog.Logger
	timeout time.Duration
	base    *tls.Config // hands every handshake the current configuration
	paths   []string    // the store files to watch

	mu      sync.Mutex
	cur     *tls.Config
	stamps  []fileStamp // of the files cur was loaded from
	bad     []fileStamp // a version that did not load, not retried until a file changes
	checked time.Time
}

type fileStamp struct {
	mod  time.Time
	size int64
	ino  uint64
}

func newTLSServer(cfg conf.ListenerTLS, protocol string, log hclog.Logger) (*tlsServer, error) {
	s := &tlsServer{cfg: cfg, ssl: protocol == "SSL", log: log, timeout: handshakeTimeout}
	for _, p := range []string{cfg.Keystore.Location, cfg.Truststore.Location} {
		if p != "" {
			s.paths = append(s.paths, p)
		}
	}
	st := s.stampFiles()
	c, err := s.build()
	if err != nil {
		return nil, err
	}
	s.cur, s.stamps, s.checked = c, st, time.Now()
	s.base = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return s.current(), nil }}
	return s, nil
}

// build loads the stores and makes the server configuration.
func (s *tlsServer) build() (*tls.Config, error) {
	ks, err := keystore.LoadKeystore(s.cfg.Keystore)
	if err != nil {
		return nil, err
	}
	if ks == nil {
		return nil, &keystore.Error{Property: keystore.PropKeystoreLocation, Reason: "missing: a TLS listener needs a key store"}
	}
	ts, err := keystore.LoadTruststore(s.cfg.Truststore)
	if err != nil {
		return nil, err
	}
	c := &tls.Config{Certificates: ks.Certificates()}
	if ts != nil {
		c.ClientCAs = ts.Pool()
	}
	switch s.cfg.ClientAuth {
	case conf.ClientAuthRequested:
		c.ClientAuth = tls.VerifyClientCertIfGiven
	case conf.ClientAuthRequired:
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if err := s.cfg.Params.Apply(c); err != nil {
		return nil, err
	}
	return c, nil
}

func (s *tlsServer) stampFiles() []fileStamp {
	st := make([]fileStamp, len(s.paths))
	for i, p := range s.paths {
		info, err := os.Stat(p)
		if err != nil {
			st[i] = fileStamp{size: -1}
			continue
		}
		st[i] = fileStamp{mod: info.ModTime(), size: info.Size()}
		if sys, ok := info.Sys().(*syscall.Stat_t); ok {
			st[i].ino = uint64(sys.Ino) // a file renamed into place may keep time and size
		}
	}
	return st
}

// current returns the configuration for a new handshake. At most once per
// recheckStores it looks whether a store file changed and loads the
// stores again; a change that does not load is logged once and the
// previous configuration stays in use, open connections untouched either
// way.
func (s *tlsServer) current() *tls.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if len(s.paths) == 0 || now.Sub(s.checked) < recheckStores {
		return s.cur
	}
	s.checked = now
	st := s.stampFiles() // before reading: a change during the read is seen next time
	if slices.Equal(st, s.stamps) || slices.Equal(st, s.bad) {
		return s.cur
	}
	c, err := s.build()
	if err != nil {
		s.bad = st
		s.log.Error("a TLS key or trust store file changed but does not load; new connections keep the previous certificates until it is fixed",
			"files", s.paths, "error", err)
		return s.cur
	}
	s.cur, s.stamps, s.bad = c, st, nil
	s.log.Info("TLS key and trust stores reloaded; new connections use them", "files", s.paths)
	return c
}

// handshakeError is why a TLS handshake failed: kind keys the log rate
// limit; msg says what to do.
type handshakeError struct {
	kind, msg string
	err       error
	quiet     bool // a client that closed at once, as port probes do: debug only
}

func (e *handshakeError) Error() string { return e.msg + ": " + e.err.Error() }

// handshake runs the server handshake of c within s.timeout and returns
// the TLS connection and its principal on SSL listeners.
func (s *tlsServer) handshake(ctx context.Context, c net.Conn) (*tls.Conn, string, error) {
	tc := tls.Server(c, s.base)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, "", s.explain(err)
	}
	if !s.ssl {
		return tc, "", nil
	}
	state := tc.ConnectionState()
	if len(state.PeerCertificates) == 0 {
		return tc, anonymous, nil
	}
	dn, err := principal.DistinguishedName(state.PeerCertificates[0].RawSubject)
	if err != nil {
		return nil, "", &handshakeError{kind: "subject", msg: "the client certificate's subject does not parse", err: err}
	}
	name, err := s.cfg.Principal.Name(dn)
	if err != nil {
		return nil, "", &handshakeError{kind: "principal", msg: "the client certificate has no principal: fix ssl.principal.mapping.rules", err: err}
	}
	return tc, "User:" + name, nil
}

func (s *tlsServer) explain(err error) *handshakeError {
	var header tls.RecordHeaderError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var alert tls.AlertError
	msg := err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return &handshakeError{kind: "timeout", msg: fmt.Sprintf("no TLS handshake within %s: the client may not speak TLS (check its security.protocol) or is too slow", s.timeout), err: err}
	case errors.As(err, &header):
		return &handshakeError{kind: "not-tls", msg: "the client does not speak TLS: configure it with security.protocol=SSL (or SASL_SSL) for this listener", err: err}
	case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
		return &handshakeError{kind: "eof", msg: "the client closed the connection during the TLS handshake", err: err, quiet: true}
	case errors.As(err, &unknown):
		return &handshakeError{kind: "untrusted", msg: "the client certificate is not signed by a CA of the listener's ssl.truststore.*: add its CA to the trust store, or give the client a certificate from a trusted CA", err: err}
	case errors.As(err, &invalid):
		return &handshakeError{kind: "invalid-cert", msg: "the client certificate is not valid (expired, not yet valid, or not for client authentication)", err: err}
	case strings.Contains(msg, "didn't provide a certificate"):
		return &handshakeError{kind: "no-cert", msg: "the client sent no certificate, which ssl.client.auth=required demands: configure the client's key store (ssl.keystore.* / ssl.certificate.location)", err: err}
	case errors.As(err, &alert) || strings.Contains(msg, "remote error"):
		return &handshakeError{kind: "alert", msg: "the client refused the handshake: it most likely does not trust the listener's certificate (add the listener's CA to the client's trust store) or shares no protocol or cipher suite with it", err: err}
	case strings.Contains(msg, "no cipher suite") || strings.Contains(msg, "protocol version"):
		return &handshakeError{kind: "params", msg: "the client shares no TLS version or cipher suite with the listener: compare ssl.enabled.protocols and ssl.cipher.suites on both sides", err: err}
	}
	return &handshakeError{kind: "other", msg: "TLS handshake failed", err: err}
}
