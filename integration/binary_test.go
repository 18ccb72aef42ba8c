package integration

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The linkproxy binary, built once per test run, for tests that need
// separate processes (SIGKILL, several instances, the CLI).
var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func linkproxyBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "linkproxy-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "linkproxy")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/linkproxy/linkproxy/cmd/linkproxy").CombinedOutput()
		if err != nil {
			binErr = &buildError{err, string(out)}
		}
	})
	if binErr != nil {
		t.Fatalf("building linkproxy: %v", binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// process is a child linkproxy whose stdout is read line by line.
type process struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *logBuffer
	done   chan struct{}
}

// startProcess runs linkproxy with args until the test ends.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(linkproxyBin(t), args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, lines: make(chan string, 1024), stderr: new(logBuffer), done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody reads: drop
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

// waitLine returns the first line starting with prefix.
func (p *process) waitLine(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("linkproxy exited before printing %q; stderr:\n%s", prefix, p.stderr.String())
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no line %q within 30s; stderr:\n%s", prefix, p.stderr.String())
		}
	}
}

// stop sends SIGTERM and waits for the exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.kill()
		t.Fatalf("linkproxy did not stop on SIGTERM; stderr:\n%s", p.stderr.String())
	}
}

// kill sends SIGKILL: no cleanup at all, as a crash.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// runCLI runs a linkproxy command to completion and returns its output and
// exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, linkproxyBin(t), args...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), 0
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}
