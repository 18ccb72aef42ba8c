package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/linkproxy/linkproxy/conf"
	"github.com/linkproxy/linkproxy/proxy"
)

// testListener is one proxy listener as a test sees it.
type testListener struct {
	Name      string
	Host      string // advertised host
	Bootstrap string
	PortBase  int
}

// owns reports whether host:port is one of this listener's endpoints.
func (l testListener) owns(host string, port int32) bool {
	return host == l.Host && (int(port) >= l.PortBase && int(port) < l.PortBase+100)
}

type env struct {
	Config    *conf.Config
	Logs      *logBuffer
	Cluster   *kfake.Cluster
	Proxy     *proxy.Proxy
	Listeners map[string]testListener
	Upstream  []string
}

// Two listeners on different loopback hosts, so an endpoint leaked across
// listeners differs by host as well as by port.
var listenerHosts = map[string]string{"INTERNAL": "127.0.0.1", "EXTERNAL": "127.0.0.2"}

// freeBase finds a port p such that p (bootstrap) and p+1..p+span (brokers)
// are free on host.
func freeBase(t testing.TB, host string, span int) int {
	t.Helper()
	for range 50 {
		p := 20000 + rand.IntN(30000)
		ok := true
		var lns []net.Listener
		for i := 0; i <= span && ok; i++ {
			ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p+i)))
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
	t.Fatal("no free port range")
	return 0
}

type envOpt func(*envCfg)

type envCfg struct {
	kfakeOpts   []kfake.Opt
	proxyTOML   string // extra lines in [proxy]
	clusterTOML string // extra lines in [cluster]
	brokers     int
	upstream    []string          // instead of a kfake cluster
	listeners   map[string]string // per listener: lines replacing its security.protocol line
}

// withUpstream fronts the given addresses instead of a kfake cluster.
func withUpstream(addrs ...string) envOpt { return func(c *envCfg) { c.upstream = addrs } }

func withKfake(o ...kfake.Opt) envOpt {
	return func(c *envCfg) { c.kfakeOpts = append(c.kfakeOpts, o...) }
}
func withProxy(lines string) envOpt { return func(c *envCfg) { c.proxyTOML += lines + "\n" } }

// withListener sets the security lines of listener name (INTERNAL or
// EXTERNAL), "security.protocol" included, instead of PLAINTEXT.
func withListener(name, lines string) envOpt {
	return func(c *envCfg) {
		if c.listeners == nil {
			c.listeners = map[string]string{}
		}
		c.listeners[name] = lines
	}
}

// withCluster adds Kafka client properties to [cluster], one per line.
func withCluster(lines string) envOpt { return func(c *envCfg) { c.clusterTOML += lines + "\n" } }

// startEnv starts a kfake cluster and a proxy with INTERNAL and EXTERNAL
// listeners in front of it; both stop when the test ends.
func startEnv(t testing.TB, opts ...envOpt) *env {
	t.Helper()
	ec := envCfg{brokers: 3}
	for _, o := range opts {
		o(&ec)
	}
	e := &env{Listeners: map[string]testListener{}, Upstream: ec.upstream}
	if e.Upstream == nil {
		kopts := append([]kfake.Opt{kfake.NumBrokers(ec.brokers), kfake.AllowAutoTopicCreation()}, ec.kfakeOpts...)
		c, err := kfake.NewCluster(kopts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		e.Cluster, e.Upstream = c, c.ListenAddrs()
	}

	var b strings.Builder
	fmt.Fprintf(&b, "[cluster]\nname = \"test\"\n\"bootstrap.servers\" = %q\n\"metadata.max.age.ms\" = 1000\n%s\n[proxy]\nlog_level = \"debug\"\n%s\n",
		strings.Join(e.Upstream, ","), ec.clusterTOML, ec.proxyTOML)
	for _, name := range []string{"INTERNAL", "EXTERNAL"} {
		host := listenerHosts[name]
		base := freeBase(t, host, 12)
		security, ok := ec.listeners[name]
		if !ok {
			security = `"security.protocol" = "PLAINTEXT"`
		}
		fmt.Fprintf(&b, "[[listener]]\nname = %q\nlisten = \"%s:%d\"\n%s\n\n", name, host, base, security)
		e.Listeners[name] = testListener{Name: name, Host: host, Bootstrap: net.JoinHostPort(host, strconv.Itoa(base)), PortBase: base + 1}
	}
	cfg, err := conf.Parse([]byte(b.String()), t.Name()+".toml")
	if err != nil {
		t.Fatalf("config: %v\n%s", err, b.String())
	}
	level := hclog.Warn
	if os.Getenv("LINKPROXY_TEST_LOG") != "" {
		level = hclog.Debug
	}
	e.Logs = &logBuffer{t: t, echo: level == hclog.Debug}
	p, err := proxy.New(cfg, hclog.New(&hclog.LoggerOptions{Name: "proxy", Level: hclog.Debug, Output: e.Logs, JSONFormat: true}))
	if err != nil {
		t.Fatal(err)
	}
	e.Proxy, e.Config = p, cfg
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("proxy: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("proxy not ready after 20s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("proxy did not stop within 10s")
		}
		if t.Failed() && !e.Logs.echo {
			t.Logf("proxy logs:\n%s", e.Logs.String())
		}
	})
	return e
}

// upstreamPorts are the kfake brokers' ports, which must never reach a client.
func (e *env) upstreamPorts() map[int32]bool {
	m := map[int32]bool{}
	for _, a := range e.Upstream {
		_, p, _ := net.SplitHostPort(a)
		n, _ := strconv.Atoi(p)
		m[int32(n)] = true
	}
	return m
}

// logBuffer keeps the proxy's JSON log lines for assertions and prints
// them when the test fails (or always with LINKPROXY_TEST_LOG=1).
type logBuffer struct {
	t    testing.TB
	echo bool
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.echo {
		fmt.Fprint(os.Stderr, string(p))
	}
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the log lines whose message is msg, decoded.
func (b *logBuffer) lines(msg string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["@message"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// waitLine waits until a log line with msg satisfies match.
func (b *logBuffer) waitLine(t testing.TB, msg string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range b.lines(msg) {
			if match(l) {
				return l
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line %q matching within 10s; logs:\n%s", msg, b.String())
	return nil
}
