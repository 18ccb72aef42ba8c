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
	"time"

	"github.com/linkproxy/linkproxy/bench/internal/harness"
)

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
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return harness.FlagsExit("proxybench", stderr, err)
	}
	return harness.Run("proxybench", stderr, cfg.timeout, func(ctx context.Context) error {
		return runBench(ctx, cfg, os.Args, stdout, stderr)
	})
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
	err := harness.ParseFlags(fs, args, map[string]string{
		"rounds":    "1",
		"mb":        "4",
		"latency-n": "100",
		"timeout":   "2m",
	})
	if err != nil {
		return cfg, err
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
