// Command proxybench measures what linkproxy costs: produce and consume
// throughput, single-request latency and CPU time, through the proxy versus
// directly against the same cluster, in one run.
//
// The cluster (`linkproxy dev-cluster`) and the proxy (`linkproxy serve`)
// each run in their own process, so the proxy's CPU time can be read from
// /proc and neither competes with the clients' garbage collector. Shared
// machines are noisy, so direct and proxied phases alternate over several
// rounds (A B, B A, A B, ...), so that both sides see the same spells of
// noise, and the report gives medians over rounds.
//
// Usage:
//
//	go run ./bench/proxybench -linkproxy bin/linkproxy [-quick] [flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

var errNotLinux = errors.New("proxybench needs Linux (/proc, process groups)")

type config struct {
	linkproxy string

	brokers    int
	partitions int
	rounds     int

	phaseMB   float64 // MB (10^6 bytes) of record values per throughput phase
	valueSize int

	latencyN    int
	latencySize int

	timeout time.Duration
	verbose bool
	quick   bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "proxybench: %v\n", err)
		return 2
	}
	if runtime.GOOS != "linux" {
		fmt.Fprintf(stderr, "proxybench: %v\n", errNotLinux)
		return 1
	}

	// On Ctrl-C or SIGTERM the context ends, the running phase fails, and
	// the deferred cleanup in bench stops the children.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	if err := runBench(ctx, cfg, os.Args, stdout, stderr); err != nil {
		// A phase cut short says only "context canceled"; say why.
		if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
			err = fmt.Errorf("%w (%v)", err, cause)
		} else if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w (-timeout %v reached)", err, cfg.timeout)
		}
		fmt.Fprintf(stderr, "proxybench: %v\n", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("proxybench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.linkproxy, "linkproxy", "bin/linkproxy", "path to the linkproxy binary (`make build` makes bin/linkproxy)")
	fs.IntVar(&cfg.brokers, "brokers", 3, "brokers in the dev cluster")
	fs.IntVar(&cfg.partitions, "partitions", 6, "partitions of each throughput topic")
	fs.IntVar(&cfg.rounds, "rounds", 11, "rounds; each runs every phase once direct and once through the proxy (odd: the median is a real round)")
	fs.Float64Var(&cfg.phaseMB, "mb", 200, "MB (10^6 bytes) of record values per throughput phase")
	fs.IntVar(&cfg.valueSize, "value-size", 1024, "bytes per record value in throughput phases")
	fs.IntVar(&cfg.latencyN, "latency-n", 2000, "single-record round trips per latency phase")
	fs.IntVar(&cfg.latencySize, "latency-size", 100, "bytes per record value in latency phases")
	fs.DurationVar(&cfg.timeout, "timeout", 15*time.Minute, "give up after this long")
	fs.BoolVar(&cfg.verbose, "v", false, "copy the children's stderr (logs) to stderr")
	fs.BoolVar(&cfg.quick, "quick", false, "smoke test: tiny sizes, 1 round (explicit flags still win)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.quick {
		set := make(map[string]bool)
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		quick := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		quick("rounds", func() { cfg.rounds = 1 })
		quick("mb", func() { cfg.phaseMB = 4 })
		quick("latency-n", func() { cfg.latencyN = 100 })
		quick("timeout", func() { cfg.timeout = 2 * time.Minute })
	}
	switch {
	case cfg.brokers < 1:
		return cfg, fmt.Errorf("-brokers %d: need at least 1", cfg.brokers)
	case cfg.partitions < 1:
		return cfg, fmt.Errorf("-partitions %d: need at least 1", cfg.partitions)
	case cfg.rounds < 1:
		return cfg, fmt.Errorf("-rounds %d: need at least 1", cfg.rounds)
	case cfg.valueSize < 1 || cfg.latencySize < 1:
		return cfg, errors.New("-value-size and -latency-size must be positive")
	case cfg.phaseMB*1e6 < float64(cfg.valueSize):
		return cfg, fmt.Errorf("-mb %g is less than one %d-byte record", cfg.phaseMB, cfg.valueSize)
	case cfg.latencyN < 1:
		return cfg, fmt.Errorf("-latency-n %d: need at least 1", cfg.latencyN)
	}
	return cfg, nil
}

// records is the number of records per throughput phase.
func (c config) records() int { return int(c.phaseMB * 1e6 / float64(c.valueSize)) }
