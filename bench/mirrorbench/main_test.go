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

// TestQuick builds linkproxy and the bench, and runs the bench with -quick
// as a smoke test of the whole harness: both clusters start, every codec is
// loaded and copied by the engine and the loop, the report prints, and the
// clusters are gone afterwards. It asserts nothing about the figures:
// timing on a shared machine is noise.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("builds linkproxy and runs two dev clusters; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build with: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if deadline, ok := t.Deadline(); ok {
		// End early enough to report why, rather than be killed by -timeout.
		var cancelDeadline context.CancelFunc
		ctx, cancelDeadline = context.WithDeadline(ctx, deadline.Add(-30*time.Second))
		defer cancelDeadline()
	}

	dir := t.TempDir()
	linkproxy := filepath.Join(dir, "linkproxy")
	build(ctx, t, goBin, linkproxy, "github.com/linkproxy/linkproxy/cmd/linkproxy")
	bench := filepath.Join(dir, "mirrorbench")
	build(ctx, t, goBin, bench, ".")

	cmd := exec.CommandContext(ctx, bench, "-quick", "-linkproxy", linkproxy, "-timeout", "2m")
	// SIGTERM rather than SIGKILL on timeout, so that the bench stops its
	// clusters itself; WaitDelay kills it if it does not.
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
		t.Fatalf("mirrorbench -quick: %v (context: %v)", err, ctx.Err())
	}

	out := stdout.String()
	lines := []string{
		`== summary \(targets are reported, not asserted\)`,
		`machine  nproc=\d+, .*go1`,
		`command  .*-quick -linkproxy `,
	}
	for _, codec := range []string{"none", "zstd", "lz4"} {
		lines = append(lines,
			codec+` +round 1/1 .*engine .* MB/s .*loop .* MB/s`,
			codec+` +throughput engine/loop +[\d.]+x .* (met|not met)$`,
			codec+` +CPU per GB loop/engine +[\d.]+x .* (met|not met)$`,
		)
	}
	for _, line := range lines {
		if !regexp.MustCompile(`(?m)^\s*` + line).MatchString(out) {
			t.Errorf("no line matching %q in the output", line)
		}
	}

	// The clusters must not outlive the bench.
	m := regexp.MustCompile(`source dev-cluster pid (\d+) .*destination dev-cluster pid (\d+) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no cluster pids in the output")
	}
	for _, s := range m[1:] {
		pid, _ := strconv.Atoi(s)
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("cluster pid %d still exists after the bench exited (kill -0: %v)", pid, err)
		}
	}
}

func build(ctx context.Context, t *testing.T, goBin, out, pkg string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}
