package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// started is a command running in the background with its stdout lines.
type started struct {
	lines  chan string
	cancel context.CancelFunc
	code   chan int
	stderr *strings.Builder
}

func start(t *testing.T, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &started{lines: make(chan string, 100), cancel: cancel, code: make(chan int, 1), stderr: new(strings.Builder)}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	go func() {
		s.code <- run(ctx, args, pw, &lockedWriter{w: s.stderr})
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.code:
		case <-time.After(15 * time.Second):
			t.Errorf("%v did not stop within 15s", args)
		}
	})
	return s
}

// waitLine returns the first stdout line with prefix.
func (s *started) waitLine(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("exited before printing %q; stderr:\n%s", prefix, s.stderr)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no line %q within 60s", prefix)
		}
	}
}

// stop cancels the command as SIGINT would and returns its exit code.
func (s *started) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case c := <-s.code:
		s.code <- c
		return c
	case <-time.After(15 * time.Second):
		t.Fatal("did not stop")
		return -1
	}
}

// lockedWriter lets the test read stderr while the command writes it.
type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func freePort(t *testing.T, host string) int {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestDevClusterAndServe(t *testing.T) {
	dev := start(t, "dev-cluster", "--brokers", "2", "--listen", "127.0.0.1:0")
	line := dev.waitLine(t, "ready bootstrap=")
	upstream := strings.TrimPrefix(line, "ready bootstrap=")
	if n := len(strings.Split(upstream, ",")); n != 2 {
		t.Fatalf("ready line %q: %d brokers", line, n)
	}

	port := freePort(t, "127.0.0.1")
	cfg := filepath.Join(t.TempDir(), "linkproxy.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`[cluster]
name = "dev"
"bootstrap.servers" = %q
[rest]
listeners = ["http://127.0.0.1:%d"]
[[listener]]
name = "EXTERNAL"
listen = "127.0.0.1:%d"
"security.protocol" = "PLAINTEXT"
`, upstream, freePort(t, "127.0.0.1"), port)), 0o600)
	srv := start(t, "serve", "--config", cfg)
	want := fmt.Sprintf("ready listener=EXTERNAL bootstrap=127.0.0.1:%d", port)
	if got := srv.waitLine(t, "ready listener="); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(fmt.Sprintf("127.0.0.1:%d", port)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	meta, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range meta.Brokers {
		if b.Port != int32(port+1)+b.NodeID {
			t.Errorf("broker %d advertised on port %d, want %d", b.NodeID, b.Port, int32(port+1)+b.NodeID)
		}
	}
	if code := srv.stop(t); code != 0 {
		t.Errorf("serve exited %d", code)
	}
	if code := dev.stop(t); code != 0 {
		t.Errorf("dev-cluster exited %d", code)
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(cfg, []byte("[cluster]\nname = \"x\"\n\"bootstrap.servers\" = \"127.0.0.1:1\"\nadvertised_hostt = 1\n"), 0o600)
	var stderr strings.Builder
	if code := run(context.Background(), []string{"serve", "--config", cfg}, io.Discard, &stderr); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderr.String(), "bad.toml:4") || !strings.Contains(stderr.String(), "advertised_hostt") {
		t.Errorf("error does not name the place and key:\n%s", stderr.String())
	}
}

func TestDemo(t *testing.T) {
	addr := func(host string) string { return fmt.Sprintf("%s:%d", host, freePort(t, host)) }
	d := start(t, "demo", "--west", addr("127.0.0.1"), "--west-rest", addr("127.0.0.1"),
		"--east-internal", addr("127.0.0.1"), "--east-external", addr("127.0.0.2"),
		"--east-rest", addr("127.0.0.1"), "--status-every", "200ms")
	d.waitLine(t, "$ linkproxy links create")
	d.waitLine(t, "$ linkproxy mirrors create")
	// The live line: the mirror catches up with the producer.
	for deadline := time.Now().Add(30 * time.Second); ; {
		line := d.waitLine(t, time.Now().Format("15:"))
		if strings.Contains(line, "mirror west-to-east/orders ACTIVE copied=") && !strings.Contains(line, "copied=0 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no copying in the status line: %q", line)
		}
	}
	if code := d.stop(t); code != 0 {
		t.Errorf("demo exited %d; stderr:\n%s", code, d.stderr)
	}
}
