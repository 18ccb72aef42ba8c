//go:build !linux

package main

import (
	"os"
	"syscall"
	"time"
)

// The bench reads CPU time from /proc and relies on process groups and
// Pdeathsig; it refuses to run elsewhere (see run), and these stubs only
// keep the package compiling for `go vet ./...` on other systems.

func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(pid int, _ syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func cpuTime(int) (time.Duration, error) { return 0, errNotLinux }

func localPortRange() (lo, hi int, err error) { return 0, 0, errNotLinux }
