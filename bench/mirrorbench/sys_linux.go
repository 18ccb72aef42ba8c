package main

import (
	"fmt"
	"syscall"
	"time"
)

// sysProcAttr puts a child in its own process group and asks the kernel to
// kill it if the bench dies without stopping it (SIGKILL, a fatal runtime
// error, a panic in another goroutine).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup signals the process group led by pid.
func killGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}

// selfCPU returns the user and system CPU time of the bench process so far,
// summed over all its threads. getrusage is exact to the microsecond (the
// scheduler's accounting), unlike /proc's 10 ms ticks, so one phase's delta
// is precise enough to use per round.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
