package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is one `linkproxy dev-cluster` process.
//
// It runs in its own process group, so that stopping it stops anything it
// started and a terminal's Ctrl-C reaches only the bench, which then stops
// the children itself; and with Pdeathsig, so that the kernel kills it if
// the bench dies without running its deferred cleanup.
type child struct {
	name  string
	cmd   *exec.Cmd
	ready chan string // the first stdout line, once

	stderr *tailBuffer

	done    chan struct{} // closed once the process is reaped
	waitErr error         // valid after done
}

// startChild starts bin with args. With logs non-nil the child's stderr is
// copied there as well as kept for error messages.
func startChild(name, bin string, args []string, logs io.Writer) (*child, error) {
	c := &child{
		name:   name,
		ready:  make(chan string, 1),
		stderr: &tailBuffer{max: 8 << 10, through: logs, prefix: name + ": "},
		done:   make(chan struct{}),
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stderr = c.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s stdout: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (%s): %w", name, bin, err)
	}
	c.cmd = cmd
	// Read stdout to its end, so the child never blocks writing to it;
	// only the first line (the ready line) matters. cmd.Wait must not run
	// before the reads are done (os/exec closes the pipe), hence one
	// goroutine for both.
	go func() {
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			if first {
				c.ready <- sc.Text()
				first = false
			}
		}
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// waitReady waits for the first stdout line, which must start with prefix,
// and returns the rest of it.
func (c *child) waitReady(ctx context.Context, prefix string, timeout time.Duration) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case line := <-c.ready:
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			return "", fmt.Errorf("%s: first line %q, want %q...", c.name, line, prefix)
		}
		return rest, nil
	case <-c.done:
		return "", fmt.Errorf("%s exited before it was ready: %v%s", c.name, c.waitErr, c.stderrTail())
	case <-timer.C:
		return "", fmt.Errorf("%s not ready after %v%s", c.name, timeout, c.stderrTail())
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for %s: %w", c.name, ctx.Err())
	}
}

// exitErr is non-nil if the child is gone: a failed phase is better
// explained by a crashed cluster than by the client's timeout.
func (c *child) exitErr() error {
	select {
	case <-c.done:
		return fmt.Errorf("%s exited: %v%s", c.name, c.waitErr, c.stderrTail())
	default:
		return nil
	}
}

// stop sends SIGTERM to the child's group, SIGKILL after grace, and returns
// once the child is reaped.
func (c *child) stop(grace time.Duration) error {
	select {
	case <-c.done:
		return nil // already gone; exitErr reports why if it matters
	default:
	}
	if err := killGroup(c.pid(), syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stopping %s: %w", c.name, err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-c.done:
		return nil
	case <-timer.C:
	}
	_ = killGroup(c.pid(), syscall.SIGKILL)
	<-c.done
	return fmt.Errorf("%s did not stop within %v of SIGTERM; killed", c.name, grace)
}

func (c *child) stderrTail() string {
	s := strings.TrimSpace(c.stderr.String())
	if s == "" {
		return ""
	}
	return "\n--- " + c.name + " stderr (tail) ---\n" + s
}

// tailBuffer keeps the last max bytes written, for error messages, and
// copies whole lines through with a prefix when through is set (-v).
type tailBuffer struct {
	mu      sync.Mutex
	buf     []byte
	max     int
	through io.Writer
	prefix  string
	line    []byte // a line being copied through, not yet ended
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	if t.through != nil {
		t.line = append(t.line, b...)
		if i := strings.LastIndexByte(string(t.line), '\n'); i >= 0 {
			var out strings.Builder
			for l := range strings.SplitSeq(string(t.line[:i]), "\n") {
				out.WriteString(t.prefix + l + "\n")
			}
			_, _ = io.WriteString(t.through, out.String())
			t.line = append(t.line[:0], t.line[i+1:]...)
		}
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
