// Package harness is what the benches under bench/ share around their
// measurements: the linkproxy children they run (dev clusters, the proxy),
// CPU time read for a child or the bench itself, medians over rounds, and the
// lines that say what a report was measured on and how to run it again.
//
// Every bench runs its Kafka side in child processes rather than in its own
// process, so that what it measures does not compete with the clients'
// garbage collector and a child's CPU time can be read apart. Children need
// Linux: process groups and Pdeathsig make sure none outlives the bench.
package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// ReadyTimeout bounds how long a child may take to print its ready
	// line. A dev cluster is ready in well under a second; one that is not
	// after this long is wedged, and the run should say so.
	ReadyTimeout = 30 * time.Second

	// StopGrace is how long a child has to exit after SIGTERM before it
	// is killed.
	StopGrace = 10 * time.Second

	// stderrTail is how much of a child's stderr is kept for error
	// messages: the last few log lines are what explain a crash.
	stderrTail = 8 << 10
)

// Child is a linkproxy child process.
//
// Each child runs in its own process group, so that stopping it also stops
// anything it started, and a terminal's Ctrl-C reaches only the bench, which
// then stops the children in order instead of racing them. Pdeathsig has the
// kernel kill it if the bench dies without running its deferred cleanup.
type Child struct {
	name string
	cmd  *exec.Cmd

	lines  chan string // stdout lines; only the ready line matters
	stderr *tail

	done    chan struct{} // closed once the process has been reaped
	waitErr error         // valid after done is closed
}

// StartChild starts bin with args; name prefixes the child's errors and
// logs. If logs is non-nil, the child's stderr is copied there as it arrives
// (a bench's -v), as well as kept for error messages.
func StartChild(name, bin string, args []string, logs io.Writer) (*Child, error) {
	c := &Child{
		name:   name,
		lines:  make(chan string, 16),
		stderr: &tail{max: stderrTail, through: logs, prefix: name + ": "},
		done:   make(chan struct{}),
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stdout = &lineWriter{fn: func(line string) {
		select {
		case c.lines <- line:
		default: // nobody waits for more than the ready line
		}
	}}
	cmd.Stderr = c.stderr
	// The pipes' copy goroutines end at EOF; if the child left something
	// holding them, do not let Wait hang forever.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (%s): %w", name, bin, err)
	}
	c.cmd = cmd
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// StartDevCluster runs `bin dev-cluster` with brokers brokers on free
// loopback ports, waits until it is ready, and returns it with its
// bootstrap addresses. On error the child is already stopped.
func StartDevCluster(ctx context.Context, name, bin string, brokers int, logs io.Writer) (*Child, []string, error) {
	args := []string{"dev-cluster", "--brokers", strconv.Itoa(brokers), "--listen", "127.0.0.1:0"}
	c, err := StartChild(name, bin, args, logs)
	if err != nil {
		return nil, nil, err
	}
	bootstrap, err := c.WaitReady(ctx, "ready bootstrap=", ReadyTimeout)
	if err != nil {
		_ = c.Stop(StopGrace) // the readiness error says more
		return nil, nil, err
	}
	return c, strings.Split(bootstrap, ","), nil
}

// Pid is the child's process id, which also names its process group.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// WaitReady waits for a stdout line starting with prefix and returns the
// rest of the line. It fails early if the child exits first, so that a child
// that could not start says why rather than timing out.
func (c *Child) WaitReady(ctx context.Context, prefix string, timeout time.Duration) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case line := <-c.lines:
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				return rest, nil
			}
		case <-c.done:
			return "", fmt.Errorf("%s exited before it was ready: %v%s", c.name, c.waitErr, c.stderrTail())
		case <-timer.C:
			return "", fmt.Errorf("%s not ready after %v (no %q line on stdout)%s", c.name, timeout, prefix, c.stderrTail())
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for %s to be ready: %w", c.name, ctx.Err())
		}
	}
}

// ExitErr returns a non-nil error if the child is no longer running, so that
// a failed measurement can say the cause was a crashed child rather than
// only the client's timeout.
func (c *Child) ExitErr() error {
	select {
	case <-c.done:
		return fmt.Errorf("%s exited unexpectedly: %v%s", c.name, c.waitErr, c.stderrTail())
	default:
		return nil
	}
}

// Stop asks the child's process group to terminate, and kills it if it has
// not exited within grace. It always reaps the child before returning, and
// returns an error if the child did not exit cleanly.
func (c *Child) Stop(grace time.Duration) error {
	select {
	case <-c.done:
		return c.result()
	default:
	}
	if err := killGroup(c.Pid(), syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stopping %s: %w", c.name, err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-c.done:
		return c.result()
	case <-timer.C:
	}
	_ = killGroup(c.Pid(), syscall.SIGKILL)
	<-c.done
	return fmt.Errorf("%s did not stop within %v of SIGTERM; killed", c.name, grace)
}

func (c *Child) result() error {
	if c.waitErr != nil {
		return fmt.Errorf("%s: %v%s", c.name, c.waitErr, c.stderrTail())
	}
	return nil
}

func (c *Child) stderrTail() string {
	s := strings.TrimSpace(c.stderr.String())
	if s == "" {
		return ""
	}
	return "\n--- " + c.name + " stderr (tail) ---\n" + s
}

// lineWriter calls fn for each complete line written to it.
type lineWriter struct {
	buf []byte
	fn  func(string)
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.fn(strings.TrimRight(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	return len(b), nil
}

// tail keeps the last max bytes written to it, for error messages, and
// optionally copies everything through.
type tail struct {
	mu      sync.Mutex
	buf     []byte
	max     int
	through io.Writer
	prefix  string
	partial bool // the last write through did not end a line
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	if t.through != nil {
		t.writeThrough(b)
	}
	return len(b), nil
}

// writeThrough prefixes each line with the child's name, so that the
// interleaved logs of several children stay readable. A partial line goes
// through at once rather than waiting for its end: the last words of a
// crashing child matter most.
func (t *tail) writeThrough(b []byte) {
	var out []byte
	for len(b) > 0 {
		if !t.partial {
			out = append(out, t.prefix...)
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, b...)
			t.partial = true
			break
		}
		out = append(out, b[:i+1]...)
		b = b[i+1:]
		t.partial = false
	}
	_, _ = t.through.Write(out)
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
