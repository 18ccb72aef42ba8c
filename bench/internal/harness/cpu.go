package harness

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat. The kernel
// fixes it at 100 for userspace on every architecture Go supports
// (sysconf(_SC_CLK_TCK) reports it), so there is no need for cgo to ask.
const clockTicks = 100

// CPU returns the child's user+system CPU time so far, summed over all its
// threads. It counts in 10 ms ticks: sum it over many phases rather than
// read one short phase's delta.
func (c *Child) CPU() (time.Duration, error) {
	d, err := ProcessCPU(c.Pid())
	if err != nil {
		return 0, fmt.Errorf("%s cpu time: %w", c.name, err)
	}
	return d, nil
}

// ProcessCPU returns utime+stime of pid from /proc/PID/stat, summed over all
// its threads.
func ProcessCPU(pid int) (time.Duration, error) {
	path := fmt.Sprintf("/proc/%d/stat", pid)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err // the error names the path
	}
	d, err := parseStatCPU(string(b))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// parseStatCPU returns utime+stime from the contents of a /proc/PID/stat.
func parseStatCPU(s string) (time.Duration, error) {
	// Field 2, the command name, is in parentheses and may contain spaces
	// or parentheses itself; the fields after the last ')' are plain.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("no ')' in %q", s)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so utime (field 14) is f[11], stime f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("only %d fields after the command name", len(f))
	}
	utime, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("utime: %w", err)
	}
	stime, err := strconv.ParseUint(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stime: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// SelfCPU returns the user+system CPU time of the bench process so far,
// summed over all its threads. getrusage is exact to the microsecond (the
// scheduler's accounting), unlike /proc's 10 ms ticks, so one phase's delta
// is precise enough to use per round.
func SelfCPU() (time.Duration, error) { return selfCPU() }
