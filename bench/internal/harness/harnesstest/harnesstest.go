//go:build linux

// Package harnesstest runs a bench end to end from its package's tests: it
// builds linkproxy and the bench, runs the bench with -quick, and checks the
// report's shape and that no child outlived the bench.
//
// The checks are about the harness, never the figures: timing on a shared
// machine is noise, and a test that failed on it would only be ignored.
package harnesstest

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// RunQuick builds linkproxy and the bench in the current directory (the
// package under test) into t.TempDir, runs the bench with -quick, and
// returns its stdout. It fails t if the bench fails, and skips it with
// -short or without a go command.
func RunQuick(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("builds linkproxy and runs %s with its children; skipped with -short", name)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build linkproxy with: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if deadline, ok := t.Deadline(); ok {
		// Stop early enough to report why, rather than be killed by -timeout.
		var cancelDeadline context.CancelFunc
		ctx, cancelDeadline = context.WithDeadline(ctx, deadline.Add(-30*time.Second))
		defer cancelDeadline()
	}

	dir := t.TempDir()
	linkproxy := filepath.Join(dir, "linkproxy")
	build(ctx, t, goBin, linkproxy, "github.com/linkproxy/linkproxy/cmd/linkproxy")
	bench := filepath.Join(dir, name)
	build(ctx, t, goBin, bench, ".")

	cmd := exec.CommandContext(ctx, bench, "-quick", "-linkproxy", linkproxy, "-timeout", "2m")
	// On timeout, SIGTERM rather than kill: the bench then stops its
	// children itself. WaitDelay kills it if that does not happen.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	t.Logf("stdout:\n%s", &stdout)
	if stderr.Len() > 0 {
		t.Logf("stderr:\n%s", &stderr)
	}
	if err != nil {
		t.Fatalf("%s -quick: %v (context: %v)", name, err, ctx.Err())
	}
	return stdout.String()
}

func build(ctx context.Context, t *testing.T, goBin, out, pkg string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// ExpectLines fails t for each pattern that matches no line of out.
// Patterns are anchored at a line's start, after any indentation.
func ExpectLines(t *testing.T, out string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile(`(?m)^\s*` + p).MatchString(out) {
			t.Errorf("no line matching %q in the output", p)
		}
	}
}

// ExpectChildrenGone fails t unless pidsRE, a pattern whose groups capture
// the children's pids as the bench printed them, matches out, and unless
// every pid is gone: the children must not outlive the bench.
func ExpectChildrenGone(t *testing.T, out, pidsRE string) {
	t.Helper()
	m := regexp.MustCompile(pidsRE).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no child pids in the output (no match for %q)", pidsRE)
	}
	for _, s := range m[1:] {
		pid, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("pid %q: %v", s, err)
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("child pid %d still exists after the bench exited (kill -0: %v)", pid, err)
		}
	}
}
