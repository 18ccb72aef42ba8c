package main

import (
	"fmt"
	"runtime"
	"time"

	"github.com/linkproxy/linkproxy/bench/internal/harness"
)

// result is one timed copy of a source topic.
type result struct {
	bytes int64         // record value bytes copied
	wall  time.Duration // from the start to the last record landing
	cpu   time.Duration // the bench process's user+system time meanwhile
}

func (r result) mbps() float64 { return float64(r.bytes) / 1e6 / r.wall.Seconds() }

// cpuPerGB is CPU seconds per GB (10^9 bytes) of record values copied.
func (r result) cpuPerGB() float64 { return r.cpu.Seconds() / (float64(r.bytes) / 1e9) }

// meter times one phase in wall and CPU time.
type meter struct {
	start time.Time
	cpu   time.Duration
}

// startMeter collects garbage first, so that a phase is not charged for
// collecting what the phase before it left behind.
func startMeter() (meter, error) {
	runtime.GC()
	cpu, err := harness.SelfCPU()
	if err != nil {
		return meter{}, err
	}
	return meter{start: time.Now(), cpu: cpu}, nil
}

func (m meter) stop(bytes int64) (result, error) {
	wall := time.Since(m.start)
	cpu, err := harness.SelfCPU()
	if err != nil {
		return result{}, err
	}
	if wall <= 0 {
		return result{}, fmt.Errorf("phase took no measurable time (%v)", wall)
	}
	return result{bytes: bytes, wall: wall, cpu: cpu - m.cpu}, nil
}
