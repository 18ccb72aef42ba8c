package harness

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startShell runs script under sh as a Child, skipping without a shell.
func startShell(t *testing.T, script string) *Child {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skipf("no sh: %v", err)
	}
	c, err := StartChild("child", sh, []string{"-c", script}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(0) })
	return c
}

func TestChildReadyAndStop(t *testing.T) {
	// The ready line need not be the first; the loop stops on SIGTERM.
	c := startShell(t, `trap 'exit 0' TERM; echo starting; echo "ready at=x:1"; while :; do sleep 0.05; done`)
	got, err := c.WaitReady(context.Background(), "ready at=", 10*time.Second)
	if err != nil || got != "x:1" {
		t.Fatalf("WaitReady = %q, %v; want x:1", got, err)
	}
	if err := c.ExitErr(); err != nil {
		t.Errorf("ExitErr of a running child: %v", err)
	}
	if _, err := c.CPU(); err != nil {
		t.Errorf("CPU: %v", err)
	}
	if err := c.Stop(10 * time.Second); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if err := syscall.Kill(-c.Pid(), 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still there after Stop (kill -0: %v)", c.Pid(), err)
	}
}

func TestChildExitsBeforeReady(t *testing.T) {
	c := startShell(t, `echo "bad flag" >&2; exit 3`)
	_, err := c.WaitReady(context.Background(), "ready ", 10*time.Second)
	// The error must say why, from the child's stderr.
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "bad flag") {
		t.Errorf("WaitReady: %v; want an early exit with the child's stderr", err)
	}
	if c.ExitErr() == nil {
		t.Error("ExitErr of an exited child: nil")
	}
}

func TestChildKilledAfterGrace(t *testing.T) {
	// SIGTERM is ignored by the whole group (an ignored signal stays so
	// across exec), so Stop must fall back to SIGKILL.
	c := startShell(t, `trap '' TERM; echo ready; while :; do sleep 0.05; done`)
	if _, err := c.WaitReady(context.Background(), "ready", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	err := c.Stop(200 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Stop: %v; want a kill after the grace period", err)
	}
}
