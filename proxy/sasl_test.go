package proxy

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/xdg-go/scram"

	"github.com/linkproxy/linkproxy/auth/sasl"
	"github.com/linkproxy/linkproxy/conf"
	"github.com/linkproxy/linkproxy/proxy/rewrite"
)

const (
	saslAlicePass = "Al1ce-Proxy-Secret-3391"
	saslBobPass   = "B0b-Proxy-Secret-7720"
	saslWrongPass = "Wr0ng-Proxy-Secret-5546"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeRange returns a port p with p..p+n free on 127.0.0.1.
func freeRange(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		p := 20000 + rand.IntN(30000)
		var lns []net.Listener
		ok := true
		for i := 0; i <= n; i++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+i))
			if err != nil {
				ok = false
				break
			}
			lns = append(lns, ln)
		}
		for _, ln := range lns {
			ln.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free ports")
	return 0
}

// saslProxy runs a proxy with one SASL_PLAINTEXT listener in front of a
// one-broker kfake cluster; alice has both SCRAM entries, bob SHA-256.
func saslProxy(t *testing.T, extra string) (addr string, logs *lockedBuf) {
	t.Helper()
	addr, logs, _ = saslProxyP(t, extra)
	return addr, logs
}

// saslProxyP is saslProxy that also returns the proxy.
func saslProxyP(t *testing.T, extra string) (addr string, logs *lockedBuf, p *Proxy) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	var lines []string
	for _, e := range []struct{ user, mech, pass string }{
		{"alice", sasl.ScramSHA512, saslAlicePass}, {"alice", sasl.ScramSHA256, saslAlicePass}, {"bob", sasl.ScramSHA256, saslBobPass},
	} {
		en, err := sasl.NewEntry(e.user, e.mech, []byte(e.pass), 4096)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, en.String())
	}
	creds := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(creds, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freeRange(t, 3)
	src := fmt.Sprintf(`[cluster]
name = "t"
"bootstrap.servers" = %q
[proxy]
log_level = "debug"
[[listener]]
name = "SECURE"
listen = "127.0.0.1:%d"
"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]
"sasl.credentials.file" = %q
%s
`, strings.Join(c.ListenAddrs(), ","), port, creds, extra)
	cfg, err := conf.Parse([]byte(src), "sasl.toml")
	if err != nil {
		t.Fatal(err)
	}
	logs = new(lockedBuf)
	p, err = New(cfg, hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: logs, JSONFormat: true}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-done
		for _, pass := range []string{saslAlicePass, saslBobPass, saslWrongPass} {
			if strings.Contains(logs.String(), pass) {
				t.Errorf("the logs hold a password:\n%s", logs)
			}
		}
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	return "127.0.0.1:" + strconv.Itoa(port), logs, p
}

type rawClient struct {
	t    *testing.T
	c    net.Conn
	corr int32
}

func dialSASL(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, c: c}
}

func (r *rawClient) send(req kmsg.Request) int32 {
	r.t.Helper()
	r.corr++
	b := kmsg.NewRequestFormatter(kmsg.FormatterClientID("sasl-test")).AppendRequest(nil, req, r.corr)
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatal(err)
	}
	return r.corr
}

func (r *rawClient) sendRaw(tok []byte) {
	r.t.Helper()
	b := binary.BigEndian.AppendUint32(nil, uint32(len(tok)))
	if _, err := r.c.Write(append(b, tok...)); err != nil {
		r.t.Fatal(err)
	}
}

// next reads one frame (without its size), or returns the read error.
func (r *rawClient) next() ([]byte, error) {
	r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(r.c, size[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err := io.ReadFull(r.c, b)
	return b, err
}

func (r *rawClient) response(req kmsg.Request, corr int32) kmsg.Response {
	r.t.Helper()
	b, err := r.next()
	if err != nil {
		r.t.Fatalf("no response to %s: %v", kmsg.NameForKey(req.Key()), err)
	}
	if got := int32(binary.BigEndian.Uint32(b)); got != corr {
		r.t.Fatalf("correlation id %d, want %d", got, corr)
	}
	b = b[4:]
	if rewrite.FlexibleResponseHeader(req.Key(), req.GetVersion()) {
		b = b[1:] // no tags here
	}
	resp := req.ResponseKind()
	if err := resp.ReadFrom(b); err != nil {
		r.t.Fatalf("%s response: %v", kmsg.NameForKey(req.Key()), err)
	}
	return resp
}

func (r *rawClient) roundTrip(req kmsg.Request) kmsg.Response {
	r.t.Helper()
	return r.response(req, r.send(req))
}

// wantClosed checks that the proxy closes the connection without sending
// anything more.
func (r *rawClient) wantClosed(what string) {
	r.t.Helper()
	b, err := r.next()
	if err == nil {
		r.t.Fatalf("%s: got a %d-byte frame, want the connection closed", what, len(b))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		r.t.Fatalf("%s: connection still open", what)
	}
}

func (r *rawClient) handshake(v int16, mech string) *kmsg.SASLHandshakeResponse {
	r.t.Helper()
	req := kmsg.NewPtrSASLHandshakeRequest()
	req.Version, req.Mechanism = v, mech
	return r.roundTrip(req).(*kmsg.SASLHandshakeResponse)
}

func (r *rawClient) authenticate(v int16, tok []byte) *kmsg.SASLAuthenticateResponse {
	r.t.Helper()
	req := kmsg.NewPtrSASLAuthenticateRequest()
	req.Version, req.SASLAuthBytes = v, tok
	return r.roundTrip(req).(*kmsg.SASLAuthenticateResponse)
}

// scramLogin runs SCRAM over SaslAuthenticate version v and returns the
// last response.
func (r *rawClient) scramLogin(v int16, mech, user, pass string) *kmsg.SASLAuthenticateResponse {
	r.t.Helper()
	if hr := r.handshake(1, mech); hr.ErrorCode != 0 {
		r.t.Fatalf("handshake %s: error %d", mech, hr.ErrorCode)
	}
	gen := scram.SHA512
	if mech == sasl.ScramSHA256 {
		gen = scram.SHA256
	}
	cl, _ := gen.NewClientUnprepped(user, pass, "")
	conv := cl.NewConversation()
	msg, _ := conv.Step("")
	for {
		resp := r.authenticate(v, []byte(msg))
		if resp.ErrorCode != 0 || conv.Done() {
			return resp
		}
		var err error
		if msg, err = conv.Step(string(resp.SASLAuthBytes)); err != nil {
			r.t.Fatalf("client step: %v", err)
		}
		if conv.Done() { // the server-final message was checked by Step
			return resp
		}
	}
}

func (r *rawClient) metadataWorks() {
	r.t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	resp := r.roundTrip(req).(*kmsg.MetadataResponse)
	if len(resp.Brokers) != 1 {
		r.t.Fatalf("metadata: %d brokers", len(resp.Brokers))
	}
}

func TestSASLApiVersionsAndScram(t *testing.T) {
	addr, logs := saslProxy(t, "")
	for _, tc := range []struct {
		mech string
		v    int16
	}{{sasl.ScramSHA512, 2}, {sasl.ScramSHA256, 1}, {sasl.ScramSHA512, 0}} {
		t.Run(fmt.Sprintf("%s-v%d", tc.mech, tc.v), func(t *testing.T) {
			r := dialSASL(t, addr)
			av := kmsg.NewPtrApiVersionsRequest()
			av.Version, av.ClientSoftwareName, av.ClientSoftwareVersion = 3, "sasl-test", "1"
			avr := r.roundTrip(av).(*kmsg.ApiVersionsResponse)
			got := map[int16][2]int16{}
			for _, k := range avr.ApiKeys {
				got[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
			}
			if got[17] != [2]int16{0, 1} || got[36] != [2]int16{0, 2} {
				t.Errorf("ApiVersions: SaslHandshake %v, SaslAuthenticate %v; want [0 1] and [0 2]", got[17], got[36])
			}
			resp := r.scramLogin(tc.v, tc.mech, "alice", saslAlicePass)
			if resp.ErrorCode != 0 || resp.SessionLifetimeMillis != 0 {
				t.Fatalf("login: %+v", resp)
			}
			r.metadataWorks()
			// Authenticated: SaslHandshake and SaslAuthenticate get
			// ILLEGAL_SASL_STATE (no re-authentication configured) and
			// the connection stays open.
			if hr := r.handshake(1, tc.mech); hr.ErrorCode != codeIllegalSaslState || len(hr.SupportedMechanisms) != 0 {
				t.Errorf("handshake after login: %+v", hr)
			}
			if ar := r.authenticate(1, []byte("x")); ar.ErrorCode != codeIllegalSaslState ||
				ar.ErrorMessage == nil || *ar.ErrorMessage != "SaslAuthenticate request received after successful authentication" {
				t.Errorf("authenticate after login: %+v", ar)
			}
			r.metadataWorks()
			local := r.c.LocalAddr().String()
			r.c.Close()
			waitLog(t, logs, func(l string) bool {
				return strings.Contains(l, `"connection closed"`) && strings.Contains(l, local) && strings.Contains(l, `"principal":"User:alice"`)
			})
		})
	}
	if !strings.Contains(logs.String(), `"@message":"authenticated"`) {
		t.Error("no authenticated line")
	}
}

func waitLog(t *testing.T, logs *lockedBuf, match func(string) bool) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, l := range strings.Split(logs.String(), "\n") {
			if match(l) {
				return l
			}
		}
	}
	t.Fatal("no matching log line")
	return ""
}

func TestSASLPlainAndLegacyRawFlow(t *testing.T) {
	addr, _ := saslProxy(t, "")
	// PLAIN over SaslAuthenticate: bob has only a SHA-256 entry.
	r := dialSASL(t, addr)
	if hr := r.handshake(1, "PLAIN"); hr.ErrorCode != 0 || strings.Join(hr.SupportedMechanisms, ",") != "SCRAM-SHA-512,SCRAM-SHA-256,PLAIN" {
		t.Fatalf("handshake: %+v", hr)
	}
	if ar := r.authenticate(0, []byte("\x00bob\x00"+saslBobPass)); ar.ErrorCode != 0 || len(ar.SASLAuthBytes) != 0 {
		t.Fatalf("PLAIN: %+v", ar)
	}
	r.metadataWorks()

	// SaslHandshake v0, then raw PLAIN token and its raw (empty) answer.
	r = dialSASL(t, addr)
	if hr := r.handshake(0, "PLAIN"); hr.ErrorCode != 0 {
		t.Fatalf("handshake v0: %+v", hr)
	}
	r.sendRaw([]byte("\x00alice\x00" + saslAlicePass))
	if b, err := r.next(); err != nil || len(b) != 0 {
		t.Fatalf("raw PLAIN answer %q, %v", b, err)
	}
	r.metadataWorks()

	// Raw SCRAM.
	r = dialSASL(t, addr)
	r.handshake(0, sasl.ScramSHA512)
	cl, _ := scram.SHA512.NewClientUnprepped("alice", saslAlicePass, "")
	conv := cl.NewConversation()
	msg, _ := conv.Step("")
	for !conv.Done() {
		r.sendRaw([]byte(msg))
		b, err := r.next()
		if err != nil {
			t.Fatal(err)
		}
		if msg, err = conv.Step(string(b)); err != nil {
			t.Fatal(err)
		}
	}
	r.metadataWorks()

	// A wrong password on the raw flow: closed, nothing sent, as Kafka.
	r = dialSASL(t, addr)
	r.handshake(0, "PLAIN")
	r.sendRaw([]byte("\x00alice\x00" + saslWrongPass))
	r.wantClosed("raw PLAIN, wrong password")
}

func TestSASLFailures(t *testing.T) {
	addr, logs := saslProxy(t, "")
	generic := "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"

	t.Run("wrong password and unknown user answer alike", func(t *testing.T) {
		var msgs []string
		for _, user := range []string{"alice", "mallory"} {
			r := dialSASL(t, addr)
			resp := r.scramLogin(2, sasl.ScramSHA512, user, saslWrongPass)
			if resp.ErrorCode != codeSaslAuthenticationFailed || resp.ErrorMessage == nil {
				t.Fatalf("%s: %+v", user, resp)
			}
			msgs = append(msgs, *resp.ErrorMessage)
			r.wantClosed(user)
		}
		if msgs[0] != generic || msgs[1] != generic {
			t.Errorf("messages %q, want %q for both", msgs, generic)
		}
		var plain []string
		for _, user := range []string{"alice", "mallory"} {
			r := dialSASL(t, addr)
			r.handshake(1, "PLAIN")
			resp := r.authenticate(1, []byte("\x00"+user+"\x00"+saslWrongPass))
			if resp.ErrorCode != codeSaslAuthenticationFailed || resp.ErrorMessage == nil {
				t.Fatalf("PLAIN %s: %+v", user, resp)
			}
			plain = append(plain, *resp.ErrorMessage)
			r.wantClosed("PLAIN " + user)
		}
		if plain[0] != "Authentication failed: Invalid username or password" || plain[0] != plain[1] {
			t.Errorf("PLAIN messages %q", plain)
		}
	})

	t.Run("unsupported mechanism", func(t *testing.T) {
		r := dialSASL(t, addr)
		hr := r.handshake(1, "GSSAPI")
		if hr.ErrorCode != codeUnsupportedSaslMechanism || strings.Join(hr.SupportedMechanisms, ",") != "SCRAM-SHA-512,SCRAM-SHA-256,PLAIN" {
			t.Errorf("%+v", hr)
		}
		r.wantClosed("unsupported mechanism")
	})

	t.Run("requests before authentication", func(t *testing.T) {
		r := dialSASL(t, addr)
		r.send(kmsg.NewPtrMetadataRequest())
		r.wantClosed("metadata first")

		r = dialSASL(t, addr)
		r.roundTrip(kmsg.NewPtrApiVersionsRequest())
		r.send(kmsg.NewPtrApiVersionsRequest())
		r.wantClosed("second ApiVersions")

		r = dialSASL(t, addr)
		r.send(kmsg.NewPtrSASLAuthenticateRequest())
		r.wantClosed("SaslAuthenticate before SaslHandshake")

		// After SaslHandshake v1 only SaslAuthenticate: an ApiVersions
		// gets ILLEGAL_SASL_STATE, then the close.
		r = dialSASL(t, addr)
		r.handshake(1, "PLAIN")
		av := kmsg.NewPtrApiVersionsRequest()
		av.Version = 0
		if ar := r.roundTrip(av).(*kmsg.ApiVersionsResponse); ar.ErrorCode != codeIllegalSaslState {
			t.Errorf("ApiVersions during authentication: %+v", ar)
		}
		r.wantClosed("ApiVersions during authentication")

		r = dialSASL(t, addr)
		r.handshake(1, "PLAIN")
		r.send(kmsg.NewPtrMetadataRequest())
		r.wantClosed("metadata during authentication")

		r = dialSASL(t, addr)
		req := kmsg.NewPtrSASLHandshakeRequest()
		req.Version, req.Mechanism = 2, "PLAIN"
		r.send(req)
		r.wantClosed("SaslHandshake v2")
	})

	t.Run("malformed and oversized frames", func(t *testing.T) {
		r := dialSASL(t, addr)
		r.c.Write([]byte{0, 0x10, 0, 0, 0, 17}) // 1 MiB announced
		r.wantClosed("oversized")

		r = dialSASL(t, addr)
		r.c.Write([]byte{0, 0, 0, 3, 0, 17, 0})
		r.wantClosed("short header")

		r = dialSASL(t, addr)
		r.handshake(1, "PLAIN")
		b := kmsg.NewRequestFormatter().AppendRequest(nil, &kmsg.SASLAuthenticateRequest{Version: 1, SASLAuthBytes: []byte("x")}, 9)
		b = b[:len(b)-2] // auth bytes cut short
		binaryPutLength(b)
		r.c.Write(b)
		r.wantClosed("truncated SaslAuthenticate")

		// Just below the limit is read (and refused as a token).
		r = dialSASL(t, addr)
		r.handshake(0, "PLAIN")
		r.sendRaw(bytes.Repeat([]byte{'a'}, saslMaxReceiveSize))
		r.wantClosed("large raw token")
	})

	// Many failures from one host log one warning per kind per 10s.
	if n := strings.Count(logs.String(), `"SASL authentication failed"`); n != 1 {
		t.Errorf("%d failure warnings, want 1 (rate-limited)", n)
	}
	if !strings.Contains(logs.String(), `"suppressed"`) && strings.Count(logs.String(), `"SASL authentication failed"`) > 1 {
		t.Error("no suppressed count")
	}
	if !strings.Contains(logs.String(), `"user":"alice"`) || strings.Contains(logs.String(), "mallory") {
		t.Errorf("the failure log names alice (known) and not mallory (unknown)")
	}
}

func TestSASLReauthentication(t *testing.T) {
	addr, logs := saslProxy(t, `"connections.max.reauth.ms" = 1500`)

	r := dialSASL(t, addr)
	resp := r.scramLogin(2, sasl.ScramSHA512, "alice", saslAlicePass)
	if resp.ErrorCode != 0 || resp.SessionLifetimeMillis != 1500 {
		t.Fatalf("login: %+v", resp)
	}
	r.metadataWorks()
	// The first re-authentication may start at once.
	time.Sleep(200 * time.Millisecond)
	resp = r.scramLogin(2, sasl.ScramSHA512, "alice", saslAlicePass)
	if resp.ErrorCode != 0 || resp.SessionLifetimeMillis != 1500 {
		t.Fatalf("re-authentication: %+v", resp)
	}
	// A second start within a second is refused as Kafka refuses it.
	if hr := r.handshake(1, sasl.ScramSHA512); hr.ErrorCode != codeIllegalSaslState {
		t.Fatalf("second re-authentication within 1s: %+v", hr)
	}
	r.metadataWorks()
	time.Sleep(1100 * time.Millisecond)
	r.scramLogin(1, sasl.ScramSHA512, "alice", saslAlicePass)
	r.metadataWorks()
	// The session expires: the next request closes the connection.
	time.Sleep(1600 * time.Millisecond)
	r.send(kmsg.NewPtrMetadataRequest())
	r.wantClosed("request after expiry")
	waitLog(t, logs, func(l string) bool { return strings.Contains(l, "SASL session expired") })

	// After expiry a SaslHandshake still starts a re-authentication.
	r = dialSASL(t, addr)
	r.scramLogin(2, sasl.ScramSHA256, "alice", saslAlicePass)
	time.Sleep(1600 * time.Millisecond)
	if resp := r.scramLogin(2, sasl.ScramSHA256, "alice", saslAlicePass); resp.ErrorCode != 0 {
		t.Fatalf("re-authentication after expiry: %+v", resp)
	}
	r.metadataWorks()

	// Another mechanism: the handshake succeeds, the next frame closes.
	r = dialSASL(t, addr)
	r.scramLogin(2, sasl.ScramSHA512, "alice", saslAlicePass)
	if hr := r.handshake(1, sasl.ScramSHA256); hr.ErrorCode != 0 {
		t.Fatalf("handshake: %+v", hr)
	}
	r.send(kmsg.NewPtrSASLAuthenticateRequest())
	r.wantClosed("re-authentication with another mechanism")

	// Another user: refused with Kafka's message.
	r = dialSASL(t, addr)
	r.scramLogin(2, sasl.ScramSHA256, "alice", saslAlicePass)
	resp = r.scramLogin(2, sasl.ScramSHA256, "bob", saslBobPass)
	if resp.ErrorCode != codeSaslAuthenticationFailed || resp.ErrorMessage == nil ||
		*resp.ErrorMessage != "Cannot change principals during re-authentication from User.alice: User.bob" {
		t.Fatalf("re-authentication as bob: %+v", resp)
	}
	r.wantClosed("re-authentication as another user")

	// A wrong password on re-authentication: Kafka's re-authentication text.
	r = dialSASL(t, addr)
	r.scramLogin(2, sasl.ScramSHA512, "alice", saslAlicePass)
	resp = r.scramLogin(2, sasl.ScramSHA512, "alice", saslWrongPass)
	if resp.ErrorMessage == nil || *resp.ErrorMessage != "Authentication failed during re-authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512" {
		t.Fatalf("re-authentication, wrong password: %+v", resp)
	}
	r.wantClosed("re-authentication, wrong password")
}

// TestSASLPipelinedReauthentication: responses to requests sent before a
// re-authentication come back before its answers, in order.
func TestSASLPipelinedReauthentication(t *testing.T) {
	addr, _ := saslProxy(t, `"connections.max.reauth.ms" = 60000`)
	r := dialSASL(t, addr)
	r.scramLogin(2, sasl.ScramSHA512, "alice", saslAlicePass)
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 12
	c1 := r.send(md)
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, sasl.ScramSHA512
	c2 := r.send(hs)
	r.send(md) // closes: a request during re-authentication, once the earlier responses are out
	if resp := r.response(md, c1).(*kmsg.MetadataResponse); len(resp.Brokers) != 1 {
		t.Fatalf("metadata: %+v", resp)
	}
	if hr := r.response(hs, c2).(*kmsg.SASLHandshakeResponse); hr.ErrorCode != 0 {
		t.Fatalf("handshake: %+v", hr)
	}
	r.wantClosed("metadata during re-authentication")
}

func TestWithSaslAPIs(t *testing.T) {
	resp := kmsg.NewApiVersionsResponse()
	resp.Version = 3
	for _, k := range []struct{ key, lo, hi int16 }{{0, 3, 12}, {17, 1, 1}, {18, 0, 4}} {
		ak := kmsg.NewApiVersionsResponseApiKey()
		ak.ApiKey, ak.MinVersion, ak.MaxVersion = k.key, k.lo, k.hi
		resp.ApiKeys = append(resp.ApiKeys, ak)
	}
	body := resp.AppendTo(nil)
	out := withSaslAPIs(3, body)
	got := kmsg.NewApiVersionsResponse()
	got.Version = 3
	if err := got.ReadFrom(out); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range got.ApiKeys {
		keys = append(keys, fmt.Sprintf("%d:%d-%d", k.ApiKey, k.MinVersion, k.MaxVersion))
	}
	if s := strings.Join(keys, " "); s != "0:3-12 17:0-1 18:0-4 36:0-2" {
		t.Errorf("keys %s", s)
	}
	if again := withSaslAPIs(3, out); !sameSlice(again, out) {
		t.Error("an already right body was re-encoded")
	}
	bad := []byte{0, 35} // UNSUPPORTED_VERSION, v0 form
	if o := withSaslAPIs(3, bad); !sameSlice(o, bad) {
		t.Error("an error body was changed")
	}
}

// waitApiVersionsCached waits until the proxy holds the upstream's
// ApiVersions answer, which its first metadata refresh fetches.
func waitApiVersionsCached(t *testing.T, p *Proxy) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if p.cachedApiVersions(-1) != nil {
			return
		}
	}
	t.Fatal("no upstream ApiVersions cached within 10s")
}

// upstreams reports, for each connection the proxy tracks, whether it has
// an upstream connection.
func upstreams(p *Proxy) []bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []bool
	for c := range p.clients {
		c.upMu.Lock()
		out = append(out, c.up != nil)
		c.upMu.Unlock()
	}
	return out
}

// TestSASLAuthenticatesBeforeDialing: with the upstream's ApiVersions
// cached, a connection has no upstream until its client authenticated,
// and a failed login never gets one.
func TestSASLAuthenticatesBeforeDialing(t *testing.T) {
	addr, logs, p := saslProxyP(t, "")
	waitApiVersionsCached(t, p)

	r := dialSASL(t, addr)
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version, av.ClientSoftwareName, av.ClientSoftwareVersion = 3, "sasl-test", "1"
	if resp := r.roundTrip(av).(*kmsg.ApiVersionsResponse); resp.ErrorCode != 0 || len(resp.ApiKeys) == 0 {
		t.Fatalf("ApiVersions: %+v", resp)
	}
	if hr := r.handshake(1, "PLAIN"); hr.ErrorCode != 0 {
		t.Fatalf("handshake: %+v", hr)
	}
	if ups := upstreams(p); len(ups) != 1 || ups[0] {
		t.Fatalf("before authentication: connections with an upstream %v, want [false]", ups)
	}
	if ar := r.authenticate(1, []byte("\x00bob\x00"+saslBobPass)); ar.ErrorCode != 0 {
		t.Fatalf("PLAIN: %+v", ar)
	}
	r.metadataWorks()
	if ups := upstreams(p); len(ups) != 1 || !ups[0] {
		t.Fatalf("after authentication: connections with an upstream %v, want [true]", ups)
	}
	opened := waitLog(t, logs, func(l string) bool {
		return strings.Contains(l, `"connection opened"`) && strings.Contains(l, r.c.LocalAddr().String())
	})
	if !strings.Contains(opened, `"principal":"User:bob"`) {
		t.Errorf("connection opened before authentication: %s", opened)
	}
	r.c.Close()

	// A wrong password: answered, closed, and never dialed.
	r = dialSASL(t, addr)
	resp := r.scramLogin(2, sasl.ScramSHA512, "alice", saslWrongPass)
	if resp.ErrorCode != codeSaslAuthenticationFailed {
		t.Fatalf("wrong password: %+v", resp)
	}
	r.wantClosed("wrong password")
	local := r.c.LocalAddr().String()
	waitLog(t, logs, func(l string) bool { return strings.Contains(l, `"connection closed"`) && strings.Contains(l, local) })
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"connection opened"`) && strings.Contains(l, local) {
			t.Errorf("a failed login opened an upstream connection: %s", l)
		}
	}
	if strings.Contains(logs.String(), "no ApiVersions answer cached") {
		t.Error("fell back to dialing first although the answer was cached")
	}
}

// TestSASLDialFirstWithoutCache: with no ApiVersions answer cached, the
// upstream is dialed first and the SASL exchange runs through the
// stand-ins, as before; answers are the same.
func TestSASLDialFirstWithoutCache(t *testing.T) {
	addr, logs, p := saslProxyP(t, "")
	waitApiVersionsCached(t, p)
	p.apiVersions.Store(nil) // the next refresh is metadata.max.age.ms away

	r := dialSASL(t, addr)
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version, av.ClientSoftwareName, av.ClientSoftwareVersion = 3, "sasl-test", "1"
	avr := r.roundTrip(av).(*kmsg.ApiVersionsResponse)
	if avr.ErrorCode != 0 || len(avr.ApiKeys) == 0 {
		t.Fatalf("ApiVersions: %+v", avr)
	}
	if ups := upstreams(p); len(ups) != 1 || !ups[0] {
		t.Fatalf("without a cached answer: connections with an upstream %v, want [true]", ups)
	}
	if resp := r.scramLogin(2, sasl.ScramSHA512, "alice", saslAlicePass); resp.ErrorCode != 0 {
		t.Fatalf("login: %+v", resp)
	}
	r.metadataWorks()
	waitLog(t, logs, func(l string) bool {
		return strings.Contains(l, "no ApiVersions answer cached") && strings.Contains(l, `"@level":"debug"`)
	})

	r = dialSASL(t, addr)
	if resp := r.scramLogin(2, sasl.ScramSHA512, "alice", saslWrongPass); resp.ErrorCode != codeSaslAuthenticationFailed {
		t.Fatalf("wrong password: %+v", resp)
	}
	r.wantClosed("wrong password")
}

// TestSASLApiVersionsCachedSameAsForwarded: the answer made from the
// cache is byte for byte the answer forwarded through the stand-in path,
// for every version, an unknown one and an invalid request included.
func TestSASLApiVersionsCachedSameAsForwarded(t *testing.T) {
	addr, _, p := saslProxyP(t, "")
	waitApiVersionsCached(t, p)
	cached := p.apiVersions.Load()

	reqs := map[string]func() []byte{}
	for v := int16(0); v <= 5; v++ {
		reqs[fmt.Sprintf("v%d", v)] = func() []byte {
			req := kmsg.NewPtrApiVersionsRequest()
			req.Version, req.ClientSoftwareName, req.ClientSoftwareVersion = v, "sasl-test", "1.0"
			return kmsg.NewRequestFormatter(kmsg.FormatterClientID("sasl-test")).AppendRequest(nil, req, 7)
		}
	}
	reqs["v3 bad software name"] = func() []byte {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version, req.ClientSoftwareName, req.ClientSoftwareVersion = 3, "bad name!", "1"
		return kmsg.NewRequestFormatter().AppendRequest(nil, req, 7)
	}
	reqs["v9, unknown"] = func() []byte {
		// A v5 body under a v9 header: a newer client's, near enough.
		b := reqs["v5"]()
		binary.BigEndian.PutUint16(b[6:], 9)
		return b
	}
	answers := func(name string, frame []byte) []byte {
		r := dialSASL(t, addr)
		if _, err := r.c.Write(frame); err != nil {
			t.Fatal(err)
		}
		b, err := r.next()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return b
	}
	for name, req := range reqs {
		p.apiVersions.Store(cached)
		local := answers(name+" from the cache", req())
		p.apiVersions.Store(nil)
		forwarded := answers(name+" forwarded", req())
		if !bytes.Equal(local, forwarded) {
			t.Errorf("%s: from the cache\n%x\nforwarded\n%x", name, local, forwarded)
		}
	}
}

// TestSASLFailedAuthenticationDelay: a failed authentication's answer and
// close wait connection.failed.authentication.delay.ms, with and without
// an upstream connection, and the answer still comes before the close.
func TestSASLFailedAuthenticationDelay(t *testing.T) {
	const delay = 400 * time.Millisecond
	addr, _, p := saslProxyP(t, `"connection.failed.authentication.delay.ms" = 400`)
	waitApiVersionsCached(t, p)
	cached := p.apiVersions.Load()
	for _, upstreamFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("upstream first %v", upstreamFirst), func(t *testing.T) {
			if upstreamFirst {
				p.apiVersions.Store(nil)
			} else {
				p.apiVersions.Store(cached)
			}
			r := dialSASL(t, addr)
			r.handshake(1, "PLAIN")
			start := time.Now()
			if ar := r.authenticate(1, []byte("\x00alice\x00"+saslWrongPass)); ar.ErrorCode != codeSaslAuthenticationFailed {
				t.Fatalf("wrong password: %+v", ar)
			}
			if d := time.Since(start); d < delay {
				t.Errorf("failure answered after %s, want at least %s", d, delay)
			}
			r.wantClosed("wrong password")

			r = dialSASL(t, addr)
			start = time.Now()
			if hr := r.handshake(1, "GSSAPI"); hr.ErrorCode != codeUnsupportedSaslMechanism {
				t.Fatalf("unsupported mechanism: %+v", hr)
			}
			if d := time.Since(start); d < delay {
				t.Errorf("unsupported mechanism answered after %s, want at least %s", d, delay)
			}
			r.wantClosed("unsupported mechanism")

			r = dialSASL(t, addr) // the raw flow closes with no answer
			r.handshake(0, "PLAIN")
			start = time.Now()
			r.sendRaw([]byte("\x00alice\x00" + saslWrongPass))
			r.wantClosed("raw PLAIN, wrong password")
			if d := time.Since(start); d < delay {
				t.Errorf("raw flow closed after %s, want at least %s", d, delay)
			}
		})
	}
}

// TestSASLVerificationsBounded: a PLAIN verification waits for a slot
// while all are taken, and runs once one is free.
func TestSASLVerificationsBounded(t *testing.T) {
	addr, _, p := saslProxyP(t, "")
	waitApiVersionsCached(t, p)
	for range cap(p.verify) {
		p.verify <- struct{}{}
	}
	r := dialSASL(t, addr)
	r.handshake(1, "PLAIN")
	req := kmsg.NewPtrSASLAuthenticateRequest()
	req.Version, req.SASLAuthBytes = 1, []byte("\x00bob\x00"+saslBobPass)
	corr := r.send(req)
	r.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var one [1]byte
	if n, err := r.c.Read(one[:]); n != 0 || err == nil {
		t.Fatalf("answered while every verification slot was taken (%d bytes, %v)", n, err)
	}
	<-p.verify
	if ar := r.response(req, corr).(*kmsg.SASLAuthenticateResponse); ar.ErrorCode != 0 {
		t.Fatalf("PLAIN once a slot is free: %+v", ar)
	}
	r.metadataWorks()
	for range cap(p.verify) - 1 {
		<-p.verify
	}
}

func TestBrokerApiVersions(t *testing.T) {
	cluster := "c1"
	cached := kmsg.NewPtrApiVersionsResponse()
	cached.Version, cached.FinalizedFeaturesEpoch = 5, 3
	for _, k := range [][3]int16{{0, 3, 12}, {3, 0, 13}, {18, 0, 5}} {
		ak := kmsg.NewApiVersionsResponseApiKey()
		ak.ApiKey, ak.MinVersion, ak.MaxVersion = k[0], k[1], k[2]
		cached.ApiKeys = append(cached.ApiKeys, ak)
	}
	up := &upstreamApiVersions{resp: cached, node: 2, cluster: &cluster}
	body := func(v int16, edit func(*kmsg.ApiVersionsRequest)) []byte {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version, req.ClientSoftwareName, req.ClientSoftwareVersion = v, "app", "1.2.3"
		if edit != nil {
			edit(req)
		}
		return req.AppendTo(nil)
	}
	other := "c2"
	for _, tc := range []struct {
		name     string
		v        int16
		req      []byte
		up       *upstreamApiVersions
		readAt   int16
		wantCode int16
		wantKeys string
	}{
		{name: "v0", v: 0, req: body(0, nil), wantKeys: "0:3-12 3:0-13 18:0-5"},
		{name: "v3", v: 3, req: body(3, nil), readAt: 3, wantKeys: "0:3-12 3:0-13 18:0-5"},
		{name: "v5 expecting this node", v: 5, req: body(5, func(r *kmsg.ApiVersionsRequest) { r.ClusterID, r.NodeID = &cluster, 2 }), readAt: 5, wantKeys: "0:3-12 3:0-13 18:0-5"},
		{name: "v5 expecting another node", v: 5, req: body(5, func(r *kmsg.ApiVersionsRequest) { r.ClusterID, r.NodeID = &cluster, 1 }), readAt: 5, wantCode: kerr.RebootstrapRequired.Code},
		{name: "v5 expecting another cluster", v: 5, req: body(5, func(r *kmsg.ApiVersionsRequest) { r.ClusterID, r.NodeID = &other, 2 }), readAt: 5, wantCode: kerr.RebootstrapRequired.Code},
		{name: "v5 cluster without node", v: 5, req: body(5, func(r *kmsg.ApiVersionsRequest) { r.ClusterID = &cluster }), readAt: 5, wantCode: kerr.InvalidRequest.Code},
		{name: "v3 bad software version", v: 3, req: body(3, func(r *kmsg.ApiVersionsRequest) { r.ClientSoftwareVersion = "1.2-" }), readAt: 3, wantCode: kerr.InvalidRequest.Code},
		{name: "v3 empty software name", v: 3, req: body(3, func(r *kmsg.ApiVersionsRequest) { r.ClientSoftwareName = "" }), readAt: 3, wantCode: kerr.InvalidRequest.Code},
		{name: "v6, unknown", v: 6, req: nil, wantCode: kerr.UnsupportedVersion.Code, wantKeys: "18:0-5"},
		{name: "v5 to a v4 broker", v: 5, req: body(5, nil), wantCode: kerr.UnsupportedVersion.Code, wantKeys: "18:0-4",
			up: &upstreamApiVersions{resp: &kmsg.ApiVersionsResponse{Version: 4, ApiKeys: []kmsg.ApiVersionsResponseApiKey{{ApiKey: 18, MaxVersion: 4}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := up
			if tc.up != nil {
				u = tc.up
			}
			out, err := brokerApiVersions(u, tc.v, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			got := kmsg.NewPtrApiVersionsResponse()
			got.Version = tc.readAt
			if err := got.ReadFrom(out); err != nil {
				t.Fatalf("read at v%d: %v", tc.readAt, err)
			}
			var keys []string
			for _, k := range got.ApiKeys {
				keys = append(keys, fmt.Sprintf("%d:%d-%d", k.ApiKey, k.MinVersion, k.MaxVersion))
			}
			if got.ErrorCode != tc.wantCode || strings.Join(keys, " ") != tc.wantKeys {
				t.Errorf("error %d, keys %q; want %d, %q", got.ErrorCode, strings.Join(keys, " "), tc.wantCode, tc.wantKeys)
			}
			if tc.wantCode == 0 && tc.readAt >= 3 && got.FinalizedFeaturesEpoch != 3 {
				t.Errorf("features epoch %d, want the broker's 3", got.FinalizedFeaturesEpoch)
			}
		})
	}
	if _, err := brokerApiVersions(up, 3, []byte{0x05}); err == nil {
		t.Error("a truncated request body was answered")
	}
}
