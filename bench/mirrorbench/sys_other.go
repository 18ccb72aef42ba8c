//go:build !linux

package main

import (
	"os"
	"syscall"
	"time"
)

// The bench relies on process groups, Pdeathsig and getrusage; it refuses
// to run elsewhere (see run), and these stubs only keep the package
// compiling for `go vet ./...` on other systems.

func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(pid int, _ syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func selfCPU() (time.Duration, error) { return 0, errNotLinux }
