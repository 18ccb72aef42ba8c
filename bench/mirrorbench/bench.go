package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/linkproxy/linkproxy/bench/internal/harness"
)

// bench holds what every phase needs.
type bench struct {
	cfg      config
	out      io.Writer
	errOut   io.Writer
	src, dst *cluster
}

// side is one way of copying a topic: the engine or the loop.
type side struct {
	name string
	copy func(b *bench, ctx context.Context, src *source, dst string) (result, error)
}

var (
	engineSide = side{"engine", (*bench).copyWithEngine}
	loopSide   = side{"loop", (*bench).copyWithLoop}
)

// round is one copy by each side of the same source topic.
type round struct{ engine, loop result }

// codecRun is every round of one codec.
type codecRun struct {
	src    *source
	rounds []round
}

// runBench starts the clusters, runs every codec's rounds, prints the
// report, and stops the clusters whatever happens. argv is the bench's own
// command line, for the report.
func runBench(ctx context.Context, cfg config, argv []string, out, errOut io.Writer) (err error) {
	bin, err := harness.Linkproxy(cfg.linkproxy)
	if err != nil {
		return err
	}
	var logs io.Writer
	if cfg.verbose {
		logs = errOut
	}

	b := &bench{cfg: cfg, out: out, errOut: errOut}
	// Deferred, so that the clusters also stop when a phase fails or
	// panics; their Pdeathsig covers the cases where it cannot run at all.
	defer func() {
		for _, c := range []*cluster{b.dst, b.src} {
			if c == nil {
				continue
			}
			if stopErr := c.close(); stopErr != nil {
				fmt.Fprintf(errOut, "mirrorbench: %v\n", stopErr)
			}
		}
	}()
	if b.src, err = startCluster(ctx, "source", bin, cfg.brokers, logs); err != nil {
		return err
	}
	if b.dst, err = startCluster(ctx, "destination", bin, cfg.brokers, logs); err != nil {
		return err
	}

	if cfg.cpuProfile != "" {
		stop, profErr := startCPUProfile(cfg.cpuProfile)
		if profErr != nil {
			return profErr
		}
		defer func() {
			if stopErr := stop(); stopErr != nil && err == nil {
				err = stopErr
			}
		}()
	}

	b.printHeader()
	var runs []codecRun
	for i, c := range cfg.codecs {
		run, err := b.runCodec(ctx, c, cfg.warmup && i == 0)
		if err != nil {
			return b.explain(err)
		}
		runs = append(runs, run)
	}
	report(out, cfg, runs, harness.Machine(), harness.CommandLine(argv, "./bench/mirrorbench"))
	return nil
}

// explain adds to a failed phase's error whether a cluster had died, the
// likelier cause than whatever the client saw.
func (b *bench) explain(err error) error {
	errs := []error{err}
	for _, c := range []*cluster{b.src, b.dst} {
		if e := c.proc.ExitErr(); e != nil {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// runCodec loads a source topic with codec c once, then copies it with
// each side in every round, alternating which side goes first so that
// neither always runs on a cooler cache or after the other's garbage.
//
// With warmup, each side first copies the source once unreported: the
// first copy of a run pays for what later ones do not (the destination
// cluster's heap growing to hold a whole copy, connections, code run for
// the first time), and would make whichever side went first look slow.
func (b *bench) runCodec(ctx context.Context, c codec, warmup bool) (run codecRun, err error) {
	topic := "mirrorbench-src-" + c.name
	defer func() {
		// Dropped before the next codec's source, for the memory.
		if delErr := b.src.deleteTopic(ctx, topic); delErr != nil && err == nil {
			err = delErr
		}
	}()
	if run.src, err = b.loadSource(ctx, topic, c); err != nil {
		return run, fmt.Errorf("%s: loading the source: %w", c.name, err)
	}
	b.printSource(run.src)
	if warmup {
		var line []string
		for _, s := range []side{engineSide, loopSide} {
			res, err := b.phase(ctx, s, run.src, fmt.Sprintf("mirrorbench-%s-%s-warmup", c.name, s.name))
			if err != nil {
				return run, fmt.Errorf("%s warm-up, %s: %w", c.name, s.name, err)
			}
			line = append(line, fmt.Sprintf("%s %.1f MB/s", s.name, res.mbps()))
		}
		fmt.Fprintf(b.out, "  %-6s warm-up, not reported: %s\n", c.name, strings.Join(line, ", "))
	}

	for i := range b.cfg.rounds {
		order := []side{engineSide, loopSide}
		if i%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		var r round
		for _, s := range order {
			dst := fmt.Sprintf("mirrorbench-%s-%s-r%d", c.name, s.name, i+1)
			res, err := b.phase(ctx, s, run.src, dst)
			if err != nil {
				return run, fmt.Errorf("%s round %d, %s: %w", c.name, i+1, s.name, err)
			}
			if s.name == engineSide.name {
				r.engine = res
			} else {
				r.loop = res
			}
		}
		printRound(b.out, c.name, i, b.cfg.rounds, order[0].name, r)
		run.rounds = append(run.rounds, r)
	}
	return run, nil
}

// phase copies src to a fresh destination topic with s, checks the copy
// ended where the source does, and drops the topic.
func (b *bench) phase(ctx context.Context, s side, src *source, dst string) (res result, err error) {
	// Made outside the timing, and alike for both sides: the engine finds
	// the topic there and only copies.
	if err := b.dst.createTopic(ctx, dst, int32(len(src.ends)), destinationConfigs()); err != nil {
		return res, err
	}
	defer func() {
		if delErr := b.dst.deleteTopic(ctx, dst); delErr != nil && err == nil {
			err = delErr
		}
	}()
	// Not ctx itself: the deferred delete must outlive a timed-out copy.
	phaseCtx, cancel := context.WithTimeout(ctx, b.cfg.phaseTimeout())
	defer cancel()
	// Labelled, so that a -cpuprofile can be split by side; the clients'
	// goroutines, started inside, inherit the labels.
	pprof.Do(phaseCtx, pprof.Labels("side", s.name, "codec", src.codec.name), func(ctx context.Context) {
		res, err = s.copy(b, ctx, src, dst)
	})
	if err != nil {
		return res, err
	}

	ends, err := b.dst.endOffsets(ctx, dst)
	if err != nil {
		return res, err
	}
	for p, want := range src.ends {
		if got := ends[p]; got != want {
			return res, fmt.Errorf("copy of %s ends at %v, the source at %v (partition %d)", src.topic, ends, src.ends, p)
		}
	}
	return res, nil
}

func (b *bench) printHeader() {
	c := b.cfg
	fmt.Fprintf(b.out, "mirrorbench: source dev-cluster pid %d (%s), destination dev-cluster pid %d (%s), %d brokers each\n",
		b.src.proc.Pid(), strings.Join(b.src.seeds, ","), b.dst.proc.Pid(), strings.Join(b.dst.seeds, ","), c.brokers)
	names := make([]string, len(c.codecs))
	for i, cd := range c.codecs {
		names[i] = cd.name
	}
	fmt.Fprintf(b.out, "  per codec (%s): one source topic of %g MB in %d B values, %d partitions; %d rounds of engine and loop copies\n",
		strings.Join(names, ", "), c.mb, c.valueSize, c.partitions, c.rounds)
	fmt.Fprintf(b.out, "  MB = 10^6 B of record values; CPU = this process's user+system time (getrusage) per GB copied\n\n")
}

func (b *bench) printSource(s *source) {
	st := s.stats
	batches := max(st.batches.Load(), 1)
	compressed := 100 * float64(st.compressed.Load()) / float64(max(st.uncompressed.Load(), 1))
	fmt.Fprintf(b.out, "%s: source %s: %d records (%.0f MB) produced in %.1fs; %d batches of %d records avg, compressed to %.0f%%\n",
		s.codec.name, s.topic, s.records, float64(s.bytes)/1e6, s.elapsed.Seconds(),
		st.batches.Load(), st.records.Load()/batches, compressed)
}

// startCPUProfile profiles the bench process until the returned stop.
func startCPUProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		return nil
	}, nil
}
