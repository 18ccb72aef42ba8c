//go:build linux

package main

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

// TestQuick builds linkproxy and the bench and runs the bench with -quick,
// as a smoke test of the whole harness: children start, every phase runs
// through both targets, the report prints, and the children are gone
// afterwards. It asserts nothing about the figures: timing on a shared
// machine is noise, and a test that failed on it would only be ignored.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("builds linkproxy and runs a dev cluster and the proxy; skipped with -short")
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
	goBuild(ctx, t, goBin, linkproxy, "github.com/linkproxy/linkproxy/cmd/linkproxy")
	bench := filepath.Join(dir, "proxybench")
	goBuild(ctx, t, goBin, bench, ".")

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
		t.Fatalf("proxybench -quick: %v (context: %v)", err, ctx.Err())
	}

	out := stdout.String()
	for _, line := range []string{
		`== summary \(targets are reported, not asserted\)`,
		`produce ratio proxy/direct .* (met|not met)`,
		`consume ratio proxy/direct .* (met|not met)`,
		`added p99 latency .* ms .* (met|not met)`,
		`proxy CPU per MB .* ms .* (met|not met)`,
		`machine  nproc=\d+, .*go1`,
		`command  .*-quick -linkproxy `,
	} {
		if !regexp.MustCompile(`(?m)^` + line).MatchString(out) {
			t.Errorf("no line matching %q in the output", line)
		}
	}

	// The children must not outlive the bench.
	m := regexp.MustCompile(`dev-cluster pid (\d+)\), proxy pid (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no child pids in the output")
	}
	for _, s := range m[1:] {
		pid, _ := strconv.Atoi(s)
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("child pid %d still exists after the bench exited (kill -0: %v)", pid, err)
		}
	}
}

func goBuild(ctx context.Context, t *testing.T, goBin, out, pkg string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}
