package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	kgoscram "github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/linkproxy/linkproxy/auth/sasl"
)

// On a SASL listener the proxy opens no upstream connection until the
// client has authenticated; ApiVersions before that is answered from the
// upstream's cached answer, exactly as a forwarded one. Upstream
// connections are counted by a TCP forwarder in front of kfake, which
// cannot count them itself: kfake advertises the forwarder's address, so
// every connection to the cluster goes through it.

// adminClientID is the proxy's own client.id in these tests: connections
// whose first request carries it are the proxy's admin client's, every
// other one is a client connection's upstream.
const adminClientID = "preauth-admin"

// countingForwarder copies connections to target and counts them by the
// client id of their first request.
type countingForwarder struct {
	addr string
	// refuse, when set, closes connections whose first request has
	// this client id.
	refuse string

	mu       sync.Mutex
	byClient map[string]int
}

// advertised is a listener that names another address: kfake advertises
// what its listener's Addr says.
type advertised struct {
	net.Listener
	addr net.Addr
}

func (a advertised) Addr() net.Addr { return a.addr }

func startForwarder(t *testing.T, ln net.Listener, target, refuse string) *countingForwarder {
	t.Helper()
	f := &countingForwarder{addr: ln.Addr().String(), refuse: refuse, byClient: map[string]int{}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			track(c)
			wg.Go(func() { f.serve(c, target, track) })
		}
	})
	return f
}

func (f *countingForwarder) serve(c net.Conn, target string, track func(net.Conn)) {
	defer c.Close()
	br := bufio.NewReader(c)
	// size, key, version, correlation id, then the client id's length
	head, err := br.Peek(14)
	if err != nil {
		return
	}
	id := ""
	if n := int16(binary.BigEndian.Uint16(head[12:])); n > 0 {
		b, err := br.Peek(14 + int(n))
		if err != nil {
			return
		}
		id = string(b[14:])
	}
	f.mu.Lock()
	f.byClient[id]++
	f.mu.Unlock()
	if id == f.refuse {
		return
	}
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	track(up)
	defer up.Close()
	go func() {
		io.Copy(c, up)
		c.Close()
	}()
	io.Copy(up, br)
}

// clients returns the counts of connections by first client id, the
// proxy admin's left out.
func (f *countingForwarder) clients() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]int{}
	for id, n := range f.byClient {
		if id != adminClientID {
			m[id] = n
		}
	}
	return m
}

// preauthEnv starts a one-broker kfake cluster behind a forwarder and a
// proxy whose EXTERNAL listener is SASL_PLAINTEXT (SCRAM and PLAIN; alice
// has SCRAM-SHA-512) and whose bootstrap.servers is the forwarder.
func preauthEnv(t *testing.T, refuse string) (*env, *countingForwarder) {
	t.Helper()
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "preauth"),
		kfake.ListenFn(func(string, string) (net.Listener, error) { return advertised{back, front.Addr()}, nil }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	fwd := startForwarder(t, front, back.Addr().String(), refuse)
	e, err := sasl.NewEntry("alice", sasl.ScramSHA512, []byte(itAlicePass), sasl.DefaultIterations)
	if err != nil {
		t.Fatal(err)
	}
	creds := filepath.Join(t.TempDir(), "users.creds")
	if err := os.WriteFile(creds, []byte(e.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := startEnv(t, withUpstream(c.ListenAddrs()...), withCluster(`"client.id" = "`+adminClientID+`"`),
		withListener("EXTERNAL", fmt.Sprintf(`"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = ["SCRAM-SHA-512", "PLAIN"]
"sasl.credentials.file" = %q
"connection.failed.authentication.delay.ms" = 200`, creds)))
	t.Cleanup(func() { checkNoSecrets(t, env.Logs.String(), itPasswords) })
	return env, fwd
}

const cachedLine = "upstream ApiVersions cached: SASL listeners now authenticate clients before dialing the upstream"

func kgoPing(bootstrap, clientID, user, pass string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ClientID(clientID),
		kgo.SASL(kgoscram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

// TestSASLPreauthNoUpstreamConnection: failed logins (kgo, and a raw
// client that also asks ApiVersions) open no upstream connection; a
// successful one opens one, whose first request is the client's first
// after authenticating.
func TestSASLPreauthNoUpstreamConnection(t *testing.T) {
	e, fwd := preauthEnv(t, "")
	e.Logs.waitLine(t, cachedLine, func(map[string]any) bool { return true })
	ext := e.Listeners["EXTERNAL"].Bootstrap

	for _, user := range []string{"alice", "mallory"} {
		if err := kgoPing(ext, "preauth-wrong", user, itWrongPass); err == nil || !strings.Contains(err.Error(), authFailedSCRAM512) {
			t.Errorf("kgo, %s with a wrong password: %v", user, err)
		}
	}
	rc := dialRaw(t, ext)
	if m := rc.apiVersions(); m[17] != 1 || m[36] != 2 || m[3] == 0 {
		t.Errorf("ApiVersions before authentication: %v", m)
	}
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "PLAIN"
	if hr := rc.must(hs).(*kmsg.SASLHandshakeResponse); hr.ErrorCode != 0 {
		t.Fatalf("handshake: %+v", hr)
	}
	au := kmsg.NewPtrSASLAuthenticateRequest()
	au.Version, au.SASLAuthBytes = 1, []byte("\x00alice\x00"+itWrongPass)
	if ar := rc.must(au).(*kmsg.SASLAuthenticateResponse); ar.ErrorCode == 0 {
		t.Fatalf("PLAIN with a wrong password: %+v", ar)
	}
	expectClosed(t, rc.c)
	if m := fwd.clients(); len(m) != 0 {
		t.Fatalf("upstream connections opened by failed logins, by first client id: %v", m)
	}

	if err := kgoPing(ext, "preauth-right", "alice", itAlicePass); err != nil {
		t.Fatalf("kgo, alice: %v", err)
	}
	// kgo pinged through the bootstrap port, dialed through the forwarder.
	if m := fwd.clients(); len(m) != 1 || m["preauth-right"] < 1 {
		t.Fatalf("upstream connections by first client id: %v, want only preauth-right's", m)
	}
	if len(e.Logs.lines("connection refused: upstream broker unreachable; check [cluster] bootstrap.servers and that the broker is up")) != 0 {
		t.Error("an upstream dial failed")
	}
}

// TestSASLPreauthFallsBackWithoutCache: while the proxy has no cached
// ApiVersions (its admin client cannot reach the cluster), a SASL client
// is served as before: the upstream is dialed first, and Kafka's answers
// are the same.
func TestSASLPreauthFallsBackWithoutCache(t *testing.T) {
	e, fwd := preauthEnv(t, adminClientID)
	ext := e.Listeners["EXTERNAL"].Bootstrap
	if err := kgoPing(ext, "fallback-wrong", "alice", itWrongPass); err == nil || !strings.Contains(err.Error(), authFailedSCRAM512) {
		t.Errorf("kgo, a wrong password: %v", err)
	}
	if err := kgoPing(ext, "fallback-right", "alice", itAlicePass); err != nil {
		t.Fatalf("kgo, alice: %v", err)
	}
	if m := fwd.clients(); m["fallback-wrong"] < 1 || m["fallback-right"] < 1 {
		t.Errorf("upstream connections by first client id %v: want both clients' dialed before authenticating", m)
	}
	e.Logs.waitLine(t, "no ApiVersions answer cached from the upstream yet (the cluster was not reached since start): dialing the upstream before the client authenticates",
		func(m map[string]any) bool { return m["listener"] == "EXTERNAL" })
	if len(e.Logs.lines(cachedLine)) != 0 {
		t.Error("ApiVersions cached although the admin client cannot reach the cluster")
	}
}

// TestSASLPreauthApiVersionsAsPlaintext: before authentication the SASL
// listener answers ApiVersions exactly as the PLAINTEXT listener of the
// same proxy forwards the broker's answer, plus SaslHandshake v0-v1 and
// SaslAuthenticate v0-v2; errors (an unknown version, an invalid
// software name, a v5 request naming another node) alike.
func TestSASLPreauthApiVersionsAsPlaintext(t *testing.T) {
	e := saslEnv(t, "")
	e.Logs.waitLine(t, cachedLine, func(map[string]any) bool { return true })
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Listeners["INTERNAL"].Bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	md, err := kmsg.NewPtrMetadataRequest().RequestWith(context.Background(), cl)
	cl.Close()
	if err != nil || md.ClusterID == nil {
		t.Fatalf("metadata: %v", err)
	}
	node0 := func(l testListener) string { return net.JoinHostPort(l.Host, strconv.Itoa(l.PortBase)) }

	type probe struct {
		name  string
		v     int16
		node0 bool // on node 0's port instead of the bootstrap
		edit  func(*kmsg.ApiVersionsRequest)
		asV   int16 // header version, when not v
	}
	var probes []probe
	for v := int16(0); v <= 5; v++ {
		probes = append(probes, probe{name: fmt.Sprintf("v%d", v), v: v})
	}
	probes = append(probes,
		probe{name: "v3 invalid software name", v: 3, edit: func(r *kmsg.ApiVersionsRequest) { r.ClientSoftwareName = "no spaces" }},
		probe{name: "v5 naming node 0", v: 5, node0: true, edit: func(r *kmsg.ApiVersionsRequest) { r.ClusterID, r.NodeID = md.ClusterID, 0 }},
		probe{name: "v5 naming node 1 on node 0", v: 5, node0: true, edit: func(r *kmsg.ApiVersionsRequest) { r.ClusterID, r.NodeID = md.ClusterID, 1 }},
		probe{name: "v9, unknown", v: 5, asV: 9},
	)
	ask := func(addr string, p probe) []byte {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version, req.ClientSoftwareName, req.ClientSoftwareVersion = p.v, "preauth-test", "1.0"
		if p.edit != nil {
			p.edit(req)
		}
		b := kmsg.NewRequestFormatter(kmsg.FormatterClientID("preauth")).AppendRequest(nil, req, 1)
		if p.asV != 0 {
			binary.BigEndian.PutUint16(b[6:], uint16(p.asV))
		}
		rc := dialRaw(t, addr)
		if _, err := rc.c.Write(b); err != nil {
			t.Fatal(err)
		}
		rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		frame, err := rc.rd.Next()
		if err != nil {
			t.Fatalf("%s at %s: %v", p.name, addr, err)
		}
		return bytes.Clone(frame[8:]) // size and correlation id off: the body
	}
	for _, p := range probes {
		plainAddr, saslAddr := e.Listeners["INTERNAL"].Bootstrap, e.Listeners["EXTERNAL"].Bootstrap
		if p.node0 {
			plainAddr, saslAddr = node0(e.Listeners["INTERNAL"]), node0(e.Listeners["EXTERNAL"])
		}
		plain, got := ask(plainAddr, p), ask(saslAddr, p)
		if want := withSASLKeys(t, p.v, plain); !bytes.Equal(got, want) {
			t.Errorf("%s: before authentication\n%x\nwant the PLAINTEXT listener's answer plus the SASL APIs\n%x", p.name, got, want)
		}
	}
}

// withSASLKeys adds SaslHandshake v0-v1 and SaslAuthenticate v0-v2 to an
// ApiVersions v body without error; others are returned as they are.
func withSASLKeys(t *testing.T, v int16, body []byte) []byte {
	t.Helper()
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = v
	if resp.ReadFrom(body) != nil || resp.ErrorCode != 0 {
		return body
	}
	resp.ApiKeys = slices.DeleteFunc(resp.ApiKeys, func(k kmsg.ApiVersionsResponseApiKey) bool { return k.ApiKey == 17 || k.ApiKey == 36 })
	resp.ApiKeys = append(resp.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: 17, MaxVersion: 1}, kmsg.ApiVersionsResponseApiKey{ApiKey: 36, MaxVersion: 2})
	slices.SortFunc(resp.ApiKeys, func(a, b kmsg.ApiVersionsResponseApiKey) int { return int(a.ApiKey) - int(b.ApiKey) })
	return resp.AppendTo(nil)
}
