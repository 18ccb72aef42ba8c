package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// errNotLinux is why a bench refuses to run elsewhere: children need process
// groups and Pdeathsig so that none outlives the bench, and CPU time comes
// from /proc and getrusage.
var errNotLinux = errors.New("needs Linux (process groups, Pdeathsig, /proc, getrusage)")

// Run runs bench the way every bench runs, and returns the exit code for
// main: it refuses to run elsewhere than on Linux, runs bench under
// Context(timeout), and says on stderr, after name, why bench failed.
func Run(name string, stderr io.Writer, timeout time.Duration, bench func(context.Context) error) int {
	if runtime.GOOS != "linux" {
		fmt.Fprintf(stderr, "%s: %v\n", name, errNotLinux)
		return 1
	}
	ctx, cancel := Context(timeout)
	defer cancel()
	if err := bench(ctx); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, WithCause(ctx, err))
		return 1
	}
	return 0
}

// FlagsExit returns the exit code for main when a bench's flags did not
// parse, as flag.ExitOnError would: 0 for -h, whose usage the flag set has
// printed already, else 2, after saying on stderr what was wrong.
func FlagsExit(name string, stderr io.Writer, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return 2
}

// Context returns the context a bench runs under. It ends on Ctrl-C or
// SIGTERM, so that the running phase fails and the bench's deferred cleanup
// stops its children rather than leaving them to Pdeathsig, or once timeout
// has passed, with a cause that names the -timeout flag.
func Context(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("-timeout %v reached", timeout))
	return ctx, func() {
		cancel()
		stopSignals()
	}
}

// WithCause adds to err why ctx ended, if it did and err does not say so
// already: a phase cut short says only "context canceled" or "deadline
// exceeded", not that the bench's -timeout ran out or a signal came.
func WithCause(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
		return fmt.Errorf("%w (%v)", err, cause)
	}
	return err
}

// ParseFlags defines -quick on fs, parses args into fs, and refuses
// positional arguments. -quick shrinks a run to a smoke test: each flag named
// in quick that the command line left alone takes its value from there, so
// that explicit flags still win over it.
func ParseFlags(fs *flag.FlagSet, args []string, quick map[string]string) error {
	isQuick := fs.Bool("quick", false, "smoke test: tiny sizes, 1 round (explicit flags still win)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if !*isQuick {
		return nil
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, v := range quick {
		if set[name] {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			return fmt.Errorf("-quick: -%s %s: %w", name, v, err)
		}
	}
	return nil
}

// Linkproxy resolves the -linkproxy flag to the binary's absolute path, and
// checks that it is there: a missing binary is clearer said at once than as
// the first child failing to start.
func Linkproxy(path string) (string, error) {
	bin, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("-linkproxy %q: %w", path, err)
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("-linkproxy: %w (build it with `go build -o bin/linkproxy ./cmd/linkproxy`)", err)
	}
	return bin, nil
}
