//go:build !linux

package harness

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// The benches rely on process groups, Pdeathsig, /proc and getrusage; they
// refuse to run elsewhere, and these stubs only keep the package compiling
// for `go vet ./...` on other systems.

func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(pid int, _ syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func selfCPU() (time.Duration, error) {
	return 0, fmt.Errorf("getrusage: %w", errNotLinux)
}
