package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/linkproxy/linkproxy/bench/internal/harness"
)

// Targets the summary compares against. They are reported, never asserted:
// on a shared machine a miss can be noise, and a test that failed on it
// would teach people to ignore the bench.
const (
	targetRatio    = 0.95
	targetAddedP99 = 200 * time.Microsecond
	targetCPUPerMB = 2500 * time.Microsecond
)

// printRound prints one round as it finishes, so a long run shows progress
// and a noisy round is visible next to the medians.
func printRound(w io.Writer, i, n int, r round) {
	fmt.Fprintf(w, "round %d/%d\n", i+1, n)
	for _, s := range []struct {
		name string
		res  sideResult
	}{{"direct", r.direct}, {"proxy", r.proxy}} {
		fmt.Fprintf(w, "  %-6s  produce %7.1f MB/s  consume %7.1f MB/s  latency p50 %6.3f ms  p99 %6.3f ms\n",
			s.name, s.res.produce.mbps(), s.res.consume.mbps(), ms(s.res.latency.p50), ms(s.res.latency.p99))
	}
}

// report prints the medians over rounds and the summary against targets.
//
// Ratios and added latencies are taken between the medians, so that they
// agree with the figures printed beside them. Per-round values are noisier
// than the medians on a shared machine (a p99 from 2000 samples hinges on
// its 20 slowest); their range is printed so that a reader can tell a real
// miss from noise.
func report(w io.Writer, cfg config, rounds []round, machine, command string) {
	values := func(f func(round) float64) []float64 {
		vs := make([]float64, len(rounds))
		for i, r := range rounds {
			vs[i] = f(r)
		}
		return vs
	}
	med := func(f func(round) float64) float64 { return harness.Median(values(f)) }
	span := func(f func(round) float64) string {
		vs := values(f)
		return fmt.Sprintf("%.3f .. %.3f", slices.Min(vs), slices.Max(vs))
	}
	spanMs := func(f func(round) float64) string {
		vs := values(f)
		return fmt.Sprintf("%+.3f .. %+.3f", slices.Min(vs), slices.Max(vs))
	}

	prodDirect := med(func(r round) float64 { return r.direct.produce.mbps() })
	prodProxy := med(func(r round) float64 { return r.proxy.produce.mbps() })
	prodRatio := prodProxy / prodDirect
	prodSpan := span(func(r round) float64 { return r.proxy.produce.mbps() / r.direct.produce.mbps() })
	consDirect := med(func(r round) float64 { return r.direct.consume.mbps() })
	consProxy := med(func(r round) float64 { return r.proxy.consume.mbps() })
	consRatio := consProxy / consDirect
	consSpan := span(func(r round) float64 { return r.proxy.consume.mbps() / r.direct.consume.mbps() })

	p50Direct := med(func(r round) float64 { return ms(r.direct.latency.p50) })
	p50Proxy := med(func(r round) float64 { return ms(r.proxy.latency.p50) })
	p50Added := p50Proxy - p50Direct
	p50Span := spanMs(func(r round) float64 { return ms(r.proxy.latency.p50 - r.direct.latency.p50) })
	p99Direct := med(func(r round) float64 { return ms(r.direct.latency.p99) })
	p99Proxy := med(func(r round) float64 { return ms(r.proxy.latency.p99) })
	p99Added := p99Proxy - p99Direct
	p99Span := spanMs(func(r round) float64 { return ms(r.proxy.latency.p99 - r.direct.latency.p99) })

	// CPU is summed over all rounds rather than taken per round: it is
	// counted in 10 ms ticks, and one round's few hundred ticks would make
	// a per-round figure coarse. Noise matters less here than for wall
	// time, as a process's CPU time does not grow while it waits.
	var proxied, direct throughputTotals
	for _, r := range rounds {
		proxied.add(r.proxy)
		direct.add(r.direct)
	}

	fmt.Fprintf(w, "\n== throughput, MB/s (MB = 10^6 bytes of record values; median of %d rounds)\n", len(rounds))
	fmt.Fprintf(w, "           %10s %10s %10s    %s\n", "direct", "proxy", "ratio", "per-round ratios")
	fmt.Fprintf(w, "produce    %10.1f %10.1f %10.3f    %s\n", prodDirect, prodProxy, prodRatio, prodSpan)
	fmt.Fprintf(w, "consume    %10.1f %10.1f %10.3f    %s\n", consDirect, consProxy, consRatio, consSpan)

	fmt.Fprintf(w, "\n== latency, ms (ProduceSync of one %d B record, acks=all, %d per phase; median of %d rounds)\n",
		cfg.latencySize, cfg.latencyN, len(rounds))
	fmt.Fprintf(w, "           %10s %10s %10s    %s\n", "direct", "proxy", "added", "per-round added")
	fmt.Fprintf(w, "p50        %10.3f %10.3f %+10.3f    %s\n", p50Direct, p50Proxy, p50Added, p50Span)
	fmt.Fprintf(w, "p99        %10.3f %10.3f %+10.3f    %s\n", p99Direct, p99Proxy, p99Added, p99Span)

	proxyPerMB := proxied.perMB(proxied.cpu.proxy)
	fmt.Fprintf(w, "\n== CPU, user+system from /proc/PID/stat (10 ms ticks), per MB of record values produced+consumed\n")
	fmt.Fprintf(w, "proxy                      %6.2f ms/MB  (%v over %.0f MB proxied)\n",
		ms(proxyPerMB), proxied.cpu.proxy, proxied.mb())
	fmt.Fprintf(w, "dev-cluster, direct phases %6.2f ms/MB  (%v over %.0f MB)\n",
		ms(direct.perMB(direct.cpu.cluster)), direct.cpu.cluster, direct.mb())
	fmt.Fprintf(w, "dev-cluster, proxy phases  %6.2f ms/MB  (%v over %.0f MB)\n",
		ms(proxied.perMB(proxied.cpu.cluster)), proxied.cpu.cluster, proxied.mb())

	fmt.Fprintf(w, "\n== summary (targets are reported, not asserted)\n")
	fmt.Fprintf(w, "produce ratio proxy/direct  %8.3f     target >= %.2f      %s\n", prodRatio, targetRatio, harness.Met(prodRatio >= targetRatio))
	fmt.Fprintf(w, "consume ratio proxy/direct  %8.3f     target >= %.2f      %s\n", consRatio, targetRatio, harness.Met(consRatio >= targetRatio))
	fmt.Fprintf(w, "added p99 latency           %8.3f ms  target <= %.1f ms    %s\n", p99Added, ms(targetAddedP99), harness.Met(p99Added <= ms(targetAddedP99)))
	fmt.Fprintf(w, "proxy CPU per MB            %8.2f ms  target <= %.1f ms    %s\n", ms(proxyPerMB), ms(targetCPUPerMB), harness.Met(proxyPerMB <= targetCPUPerMB))
	harness.PrintProvenance(w, machine, command)
}

// throughputTotals adds up throughput phases of one target over rounds.
type throughputTotals struct {
	bytes int64
	cpu   cpuUse
}

func (t *throughputTotals) add(s sideResult) {
	t.bytes += s.produce.bytes + s.consume.bytes
	t.cpu.proxy += s.cpu.proxy
	t.cpu.cluster += s.cpu.cluster
}

func (t throughputTotals) mb() float64 { return float64(t.bytes) / 1e6 }

func (t throughputTotals) perMB(d time.Duration) time.Duration {
	if t.bytes == 0 {
		return 0
	}
	return time.Duration(float64(d) / t.mb())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
