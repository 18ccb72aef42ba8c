package main

import (
	"bytes"
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

// proc is a linkproxy child process: the dev cluster or the proxy.
//
// Each child runs in its own process group so that stopping it also stops
// anything it started, and so that a terminal's Ctrl-C reaches only the bench,
// which then stops the children in order instead of racing them.
type proc struct {
	name string
	cmd  *exec.Cmd

	readyInfo string // the ready line after its prefix, e.g. the bootstrap

	lines  chan string // stdout lines; only the ready line matters
	stderr *tail

	done    chan struct{} // closed once the process has been reaped
	waitErr error         // valid after done is closed
}

// startProc starts bin with args. If logs is non-nil, the child's stderr is
// copied there as it arrives.
func startProc(name, bin string, args []string, logs io.Writer) (*proc, error) {
	p := &proc{
		name:   name,
		lines:  make(chan string, 16),
		stderr: &tail{max: 8 << 10, through: logs, prefix: name + ": "},
		done:   make(chan struct{}),
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stdout = &lineWriter{fn: func(line string) {
		select {
		case p.lines <- line:
		default: // nobody waits for more than the ready line
		}
	}}
	cmd.Stderr = p.stderr
	// The pipes' copy goroutines end at EOF; if the child left something
	// holding them, do not let Wait hang forever.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (%s): %w", name, bin, err)
	}
	p.cmd = cmd
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// waitReady waits for a stdout line starting with prefix and returns the rest
// of the line. It fails early if the child exits first.
func (p *proc) waitReady(ctx context.Context, prefix string, timeout time.Duration) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case line := <-p.lines:
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				return rest, nil
			}
		case <-p.done:
			return "", fmt.Errorf("%s exited before it was ready: %v%s", p.name, p.waitErr, p.stderrTail())
		case <-timer.C:
			return "", fmt.Errorf("%s not ready after %v (no %q line on stdout)%s", p.name, timeout, prefix, p.stderrTail())
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for %s to be ready: %w", p.name, ctx.Err())
		}
	}
}

// exitErr returns a non-nil error if the child is no longer running, so that
// a failed measurement can say the cause was a crashed child rather than
// only a client timeout.
func (p *proc) exitErr() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited unexpectedly: %v%s", p.name, p.waitErr, p.stderrTail())
	default:
		return nil
	}
}

// stop asks the child's process group to terminate, and kills it if it has
// not exited within grace. It always reaps the child before returning.
func (p *proc) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return p.result()
	default:
	}
	if err := killGroup(p.pid(), syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stopping %s: %w", p.name, err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
		return p.result()
	case <-timer.C:
	}
	_ = killGroup(p.pid(), syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("%s did not stop within %v of SIGTERM; killed", p.name, grace)
}

func (p *proc) result() error {
	if p.waitErr != nil {
		return fmt.Errorf("%s: %v%s", p.name, p.waitErr, p.stderrTail())
	}
	return nil
}

func (p *proc) stderrTail() string {
	s := strings.TrimSpace(p.stderr.String())
	if s == "" {
		return ""
	}
	return "\n--- " + p.name + " stderr (tail) ---\n" + s
}

// cpu returns the child's user+system CPU time so far.
func (p *proc) cpu() (time.Duration, error) {
	d, err := cpuTime(p.pid())
	if err != nil {
		return 0, fmt.Errorf("%s cpu time: %w", p.name, err)
	}
	return d, nil
}

// procs stops every child it was given, last started first, so that the
// proxy goes before the cluster it fronts.
type procs struct {
	mu   sync.Mutex
	list []*proc
}

func (ps *procs) add(p *proc) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.list = append(ps.list, p)
}

func (ps *procs) stopAll(grace time.Duration) error {
	ps.mu.Lock()
	list := ps.list
	ps.list = nil
	ps.mu.Unlock()
	var errs []error
	for i := len(list) - 1; i >= 0; i-- {
		if err := list[i].stop(grace); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
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
// optionally copies everything through (the -v flag).
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

// writeThrough prefixes each line with the child's name, so interleaved
// logs of the two children stay readable.
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
