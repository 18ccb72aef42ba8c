package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/linkproxy/linkproxy/bench/internal/harness"
)

// Targets from the issue. They are reported, never asserted: on a shared
// machine a miss can be noise, and a test failing on it would only teach
// people to ignore the bench.
const (
	targetThroughputRatio = 2.0 // engine MB/s over the loop's, at least
	targetCPURatio        = 5.0 // loop CPU per GB over the engine's, at least
)

// printRound prints a round as it ends, so a long run shows progress and a
// noisy round can be seen next to the medians.
func printRound(w io.Writer, codec string, i, n int, first string, r round) {
	fmt.Fprintf(w, "  %-6s round %d/%d %-14s  engine %7.1f MB/s %6.2f CPU s/GB  |  loop %7.1f MB/s %6.2f CPU s/GB\n",
		codec, i+1, n, "("+first+" first)", r.engine.mbps(), r.engine.cpuPerGB(), r.loop.mbps(), r.loop.cpuPerGB())
}

// codecSummary is one codec's medians and ratios.
type codecSummary struct {
	name                         string
	engineMBps, loopMBps         float64
	engineCPU, loopCPU           float64 // CPU s/GB
	tputRatio, cpuRatio          float64 // engine/loop, loop/engine
	tputLo, tputHi, cpuLo, cpuHi float64 // per-round ratio ranges
}

// summarize takes ratios between medians, so that they agree with the
// medians printed beside them; the per-round ranges show how far a single
// round strays.
func summarize(run codecRun) codecSummary {
	rs := run.rounds
	each := func(f func(round) float64) []float64 {
		out := make([]float64, len(rs))
		for i, r := range rs {
			out[i] = f(r)
		}
		return out
	}
	s := codecSummary{
		name:       run.src.codec.name,
		engineMBps: harness.Median(each(func(r round) float64 { return r.engine.mbps() })),
		loopMBps:   harness.Median(each(func(r round) float64 { return r.loop.mbps() })),
		engineCPU:  harness.Median(each(func(r round) float64 { return r.engine.cpuPerGB() })),
		loopCPU:    harness.Median(each(func(r round) float64 { return r.loop.cpuPerGB() })),
	}
	s.tputRatio = s.engineMBps / s.loopMBps
	s.cpuRatio = s.loopCPU / s.engineCPU
	tput := each(func(r round) float64 { return r.engine.mbps() / r.loop.mbps() })
	cpu := each(func(r round) float64 { return r.loop.cpuPerGB() / r.engine.cpuPerGB() })
	s.tputLo, s.tputHi = slices.Min(tput), slices.Max(tput)
	s.cpuLo, s.cpuHi = slices.Min(cpu), slices.Max(cpu)
	return s
}

// report prints the medians, the ratios, and the summary against targets.
func report(w io.Writer, cfg config, runs []codecRun, machine, command string) {
	sums := make([]codecSummary, len(runs))
	for i, run := range runs {
		sums[i] = summarize(run)
	}

	fmt.Fprintf(w, "\n== throughput, MB/s (median of %d rounds)\n", cfg.rounds)
	fmt.Fprintf(w, "%-8s %10s %10s %14s    %s\n", "codec", "engine", "loop", "engine/loop", "per-round ratios")
	for _, s := range sums {
		fmt.Fprintf(w, "%-8s %10.1f %10.1f %13.2fx    %.2f .. %.2f\n", s.name, s.engineMBps, s.loopMBps, s.tputRatio, s.tputLo, s.tputHi)
	}

	fmt.Fprintf(w, "\n== CPU of the bench process, s per GB copied (median of %d rounds; the clusters' CPU is not counted)\n", cfg.rounds)
	fmt.Fprintf(w, "%-8s %10s %10s %14s    %s\n", "codec", "engine", "loop", "loop/engine", "per-round ratios")
	for _, s := range sums {
		fmt.Fprintf(w, "%-8s %10.3f %10.3f %13.2fx    %.2f .. %.2f\n", s.name, s.engineCPU, s.loopCPU, s.cpuRatio, s.cpuLo, s.cpuHi)
	}

	fmt.Fprintf(w, "\n== summary (targets are reported, not asserted)\n")
	for _, s := range sums {
		fmt.Fprintf(w, "%-8s throughput engine/loop %7.2fx  target >= %gx            %s\n",
			s.name, s.tputRatio, targetThroughputRatio, harness.Met(s.tputRatio >= targetThroughputRatio))
		fmt.Fprintf(w, "%-8s CPU per GB loop/engine %7.2fx  target >= %gx (<= 1/%g)  %s\n",
			s.name, s.cpuRatio, targetCPURatio, targetCPURatio, harness.Met(s.cpuRatio >= targetCPURatio))
	}
	harness.PrintProvenance(w, machine, command)
}
