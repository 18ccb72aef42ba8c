package listeners

import (
	"bytes"
	"crypto/tls"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/linkproxy/linkproxy/auth/keystore"
	"github.com/linkproxy/linkproxy/auth/keystore/keystoretest"
	"github.com/linkproxy/linkproxy/auth/principal"
	"github.com/linkproxy/linkproxy/conf"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// count is the number of log lines holding every part.
func (s *syncBuffer) count(parts ...string) int {
	n := 0
	for _, l := range strings.Split(s.String(), "\n") {
		all := l != ""
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			n++
		}
	}
	return n
}

// waitLog waits for a log line holding every part.
func (s *syncBuffer) waitLog(t *testing.T, parts ...string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if s.count(parts...) > 0 {
			return
		}
	}
	t.Fatalf("no log line with %q; logs:\n%s", parts, s.String())
}

type tlsFixture struct {
	ca, otherCA *keystoretest.CA
	server      *keystoretest.Leaf
	dir         string
	keystore    string // PEM key store file of server
}

func newTLSFixture(t *testing.T) *tlsFixture {
	f := &tlsFixture{ca: keystoretest.NewCA(t, "test CA"), otherCA: keystoretest.NewCA(t, "other CA"), dir: t.TempDir()}
	f.server = f.ca.Issue(t, "proxy", "127.0.0.1")
	f.keystore = f.server.WritePEM(t, f.dir, "server.pem", "")
	return f
}

// listenerTLS is the TLS of a listener presenting f.server and trusting
// f.ca for client certificates.
func (f *tlsFixture) listenerTLS(t *testing.T, clientAuth, rules string) *conf.ListenerTLS {
	m, err := principal.ParseRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	ca := keystoretest.Write(t, f.dir, "ca.pem", f.ca.PEM())
	return &conf.ListenerTLS{
		Keystore:   keystore.KeyConfig{Type: keystore.TypePEM, Location: f.keystore},
		Truststore: keystore.TrustConfig{Type: keystore.TypePEM, Location: ca},
		ClientAuth: clientAuth, PrincipalMappingRules: rules, Principal: m,
		Params: keystore.Params{EnabledProtocols: []string{"TLSv1.2", "TLSv1.3"}, Protocol: "TLSv1.3", Server: true},
	}
}

// startTLS starts a listener serving lt with protocol, its logs in the
// returned buffer; handed-out connections echo what they read.
func startTLS(t *testing.T, protocol string, lt *conf.ListenerTLS, timeout time.Duration) (*Listener, chan *Conn, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	l := New(conf.Listener{
		Name: "SECURE", Listen: "127.0.0.1:" + strconv.Itoa(freePort(t)), AdvertisedHost: "127.0.0.1",
		SecurityProtocol: protocol, BrokerPortBase: freePort(t), TLS: lt,
	}, hclog.New(&hclog.LoggerOptions{Output: logs, JSONFormat: true, Level: hclog.Debug}))
	l.hsTimeout = timeout
	conns := make(chan *Conn, 8)
	if err := l.Start(func(c *Conn) {
		conns <- c
		io.Copy(c, c)
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Close()
		close(conns)
		for c := range conns {
			c.Close()
		}
		l.Wait()
	})
	return l, conns, logs
}

func dialTLS(t *testing.T, addr string, cfg *tls.Config) (*tls.Conn, error) {
	t.Helper()
	cfg.ServerName = "127.0.0.1"
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	// TLS 1.3 reports a refused client certificate on the first read.
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		return nil, err
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		return nil, err
	}
	if string(buf) != "ping" {
		return nil, io.ErrUnexpectedEOF
	}
	return c, nil
}

func handedOut(t *testing.T, conns chan *Conn) *Conn {
	t.Helper()
	select {
	case c := <-conns:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no connection handed out")
		return nil
	}
}

func TestTLSPrincipal(t *testing.T) {
	f := newTLSFixture(t)
	alice := f.ca.IssueSubject(t, pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"eng"}, Organization: []string{"Acme"}, Country: []string{"US"}})
	for _, c := range []struct {
		name, protocol, auth, rules string
		client                      *keystoretest.Leaf
		want                        string
	}{
		{"subject as Java writes it", "SSL", conf.ClientAuthRequired, "DEFAULT", alice, "User:CN=alice,OU=eng,O=Acme,C=US"},
		{"mapped", "SSL", conf.ClientAuthRequired, "RULE:^CN=(.*?),OU=(.*?),.*$/$1@$2/U,DEFAULT", alice, "User:ALICE@ENG"},
		{"no certificate", "SSL", conf.ClientAuthRequested, "DEFAULT", nil, "User:ANONYMOUS"},
		{"no certificate asked", "SSL", conf.ClientAuthNone, "DEFAULT", alice, "User:ANONYMOUS"},
		{"SASL_SSL: SASL names it", "SASL_SSL", conf.ClientAuthRequired, "DEFAULT", alice, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, conns, _ := startTLS(t, c.protocol, f.listenerTLS(t, c.auth, c.rules), 0)
			if _, err := dialTLS(t, l.BootstrapAddr(), f.ca.ClientConfig(c.client)); err != nil {
				t.Fatal(err)
			}
			if got := handedOut(t, conns); got.Principal != c.want {
				t.Errorf("principal %q, want %q", got.Principal, c.want)
			}
		})
	}
}

func TestTLSRefusals(t *testing.T) {
	f := newTLSFixture(t)
	trusted := f.ca.Issue(t, "alice")
	untrusted := f.otherCA.Issue(t, "mallory")
	l, conns, logs := startTLS(t, "SSL", f.listenerTLS(t, conf.ClientAuthRequired, "RULE:^CN=alice$/alice/"), 200*time.Millisecond)
	addr := l.BootstrapAddr()

	for _, c := range []struct {
		name   string
		client *keystoretest.Leaf
		log    string
	}{
		{"untrusted certificate", untrusted, "not signed by a CA of the listener's ssl.truststore"},
		{"no certificate", nil, "ssl.client.auth=required"},
		{"no mapping rule", f.ca.Issue(t, "bob"), "fix ssl.principal.mapping.rules"},
	} {
		cfg := f.ca.ClientConfig(nil)
		if c.client != nil {
			// Go's client would hold back a certificate whose CA the
			// server does not list; other clients send it anyway.
			cert := c.client.TLSCertificate()
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
		}
		if _, err := dialTLS(t, addr, cfg); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
		logs.waitLog(t, "connection refused", c.log)
	}

	// A Kafka client without TLS: an ApiVersions request, then closed.
	plain, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	plain.Write([]byte{0, 0, 0, 20, 0, 18, 0, 3, 0, 0, 0, 1, 0, 4, 'k', 'g', 'o', '!', 0, 0, 0, 0, 0, 0})
	plain.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := plain.Read(make([]byte, 64)); err == nil {
		t.Errorf("plaintext client got %d bytes back", n)
	}
	logs.waitLog(t, "connection refused", "does not speak TLS")

	// A client that never starts the handshake does not hold up others,
	// and is dropped at the timeout.
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	if _, err := dialTLS(t, addr, f.ca.ClientConfig(trusted)); err != nil {
		t.Fatalf("trusted client beside a silent one: %v", err)
	}
	if got := handedOut(t, conns); got.Principal != "User:alice" {
		t.Errorf("principal %q", got.Principal)
	}
	logs.waitLog(t, "connection refused", "no TLS handshake within")
	silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil {
		t.Error("silent client not disconnected")
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Error("a key in the logs")
	}
}

// recheckNow makes the next handshake look at the store files.
func (s *tlsServer) recheckNow() {
	s.mu.Lock()
	s.checked = time.Time{}
	s.mu.Unlock()
}

func servedSerial(t *testing.T, addr string, ca *keystoretest.CA) *big.Int {
	t.Helper()
	c, err := dialTLS(t, addr, ca.ClientConfig(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber
}

func TestTLSReload(t *testing.T) {
	f := newTLSFixture(t)
	l, conns, logs := startTLS(t, "SSL", f.listenerTLS(t, conf.ClientAuthNone, "DEFAULT"), 0)
	addr := l.BootstrapAddr()
	old, err := dialTLS(t, addr, f.ca.ClientConfig(nil))
	if err != nil {
		t.Fatal(err)
	}
	handedOut(t, conns)
	if got := old.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(f.server.Cert.SerialNumber) != 0 {
		t.Fatalf("served serial %v, want %v", got, f.server.Cert.SerialNumber)
	}

	rotated := f.ca.Issue(t, "proxy-rotated", "127.0.0.1")
	rotated.WritePEM(t, f.dir, "server.pem", "")
	l.tls.recheckNow()
	if got := servedSerial(t, addr, f.ca); got.Cmp(rotated.Cert.SerialNumber) != 0 {
		t.Fatalf("after rotation: served serial %v, want %v", got, rotated.Cert.SerialNumber)
	}
	handedOut(t, conns)
	logs.waitLog(t, "TLS key and trust stores reloaded")

	// The connection from before the rotation still works.
	old.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := old.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(old, make([]byte, 4)); err != nil {
		t.Fatalf("old connection after rotation: %v", err)
	}

	// A broken file keeps the rotated certificate in use, logged once.
	keystoretest.Write(t, f.dir, "server.pem", []byte("-----BEGIN PRIVATE KEY-----\nnot base64\n"))
	for range 2 {
		l.tls.recheckNow()
		if got := servedSerial(t, addr, f.ca); got.Cmp(rotated.Cert.SerialNumber) != 0 {
			t.Fatalf("broken file: served serial %v, want %v", got, rotated.Cert.SerialNumber)
		}
		handedOut(t, conns)
	}
	if n := logs.count("does not load", keystore.PropKeystoreLocation); n != 1 {
		t.Errorf("%d error lines for one broken file, want 1; logs:\n%s", n, logs.String())
	}
}
