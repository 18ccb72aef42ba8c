// Command mirrorbench measures the mirror engine against what MirrorMaker 2
// does: a consume-then-produce loop, here written with kgo. Both copy the
// same source topic between the same two clusters in the same run, for
// uncompressed and compressed data, and the report gives throughput (MB/s
// of record values) and the bench process's CPU time per GB copied, with
// the ratios between the two.
//
// The clusters (`linkproxy dev-cluster`, one process each for source and
// destination) run outside the bench, so the bench's own CPU time, read with
// getrusage, is what the engine or the loop costs and nothing else. Shared
// machines are noisy, so engine and loop phases alternate over several
// rounds (A B, B A, A B, ...) so that both see the same spells of noise, and
// the report gives medians over rounds.
//
// Usage:
//
//	go run ./bench/mirrorbench -linkproxy bin/linkproxy [-quick] [flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/linkproxy/linkproxy/bench/internal/harness"
)

type config struct {
	linkproxy string

	brokers    int
	partitions int
	rounds     int
	warmup     bool
	codecs     []codec

	mb        float64 // MB (10^6 bytes) of record values per source topic
	valueSize int

	timeout    time.Duration
	verbose    bool
	cpuProfile string
}

// records is the number of records in each source topic.
func (c config) records() int { return int(c.mb * 1e6 / float64(c.valueSize)) }

// phaseTimeout bounds one copy: generous enough for a slow machine (2 MB/s),
// short enough that a copy that stalled does not eat the whole -timeout
// silently.
func (c config) phaseTimeout() time.Duration {
	return time.Minute + time.Duration(c.mb/2*float64(time.Second))
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return harness.FlagsExit("mirrorbench", stderr, err)
	}
	return harness.Run("mirrorbench", stderr, cfg.timeout, func(ctx context.Context) error {
		return runBench(ctx, cfg, os.Args, stdout, stderr)
	})
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var codecs string
	fs := flag.NewFlagSet("mirrorbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.linkproxy, "linkproxy", "bin/linkproxy", "path to the linkproxy binary (go build -o bin/linkproxy ./cmd/linkproxy)")
	fs.IntVar(&cfg.brokers, "brokers", 3, "brokers in each dev cluster")
	fs.IntVar(&cfg.partitions, "partitions", 6, "partitions of the source topic")
	fs.IntVar(&cfg.rounds, "rounds", 5, "rounds per codec; each copies the source once with the engine and once with the loop (odd: the median is a real round)")
	fs.BoolVar(&cfg.warmup, "warmup", true, "copy the first source once with each side, unreported, before the rounds")
	fs.StringVar(&codecs, "codecs", "none,zstd,lz4", "comma-separated codecs of the source producer (none, gzip, snappy, lz4, zstd)")
	fs.Float64Var(&cfg.mb, "mb", 300, "MB (10^6 bytes) of record values in each source topic")
	fs.IntVar(&cfg.valueSize, "value-size", 1024, "bytes per record value")
	fs.DurationVar(&cfg.timeout, "timeout", 15*time.Minute, "give up after this long")
	fs.BoolVar(&cfg.verbose, "v", false, "copy the clusters' stderr and the engine's warnings to stderr")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to `file`; samples of copies carry labels side=engine|loop and codec (go tool pprof -tagfocus side=engine)")
	err := harness.ParseFlags(fs, args, map[string]string{
		"rounds":  "1",
		"mb":      "3",
		"timeout": "2m",
	})
	if err != nil {
		return cfg, err
	}
	if cfg.codecs, err = parseCodecs(codecs); err != nil {
		return cfg, err
	}
	switch {
	case cfg.brokers < 1:
		return cfg, fmt.Errorf("-brokers %d: need at least 1", cfg.brokers)
	case cfg.partitions < 1:
		return cfg, fmt.Errorf("-partitions %d: need at least 1", cfg.partitions)
	case cfg.rounds < 1:
		return cfg, fmt.Errorf("-rounds %d: need at least 1", cfg.rounds)
	case cfg.valueSize < 1 || cfg.valueSize > maxValueSize:
		return cfg, fmt.Errorf("-value-size %d: must be 1..%d", cfg.valueSize, maxValueSize)
	case cfg.records() < cfg.partitions:
		return cfg, fmt.Errorf("-mb %g is less than one %d-byte record per partition", cfg.mb, cfg.valueSize)
	}
	return cfg, nil
}

func parseCodecs(s string) ([]codec, error) {
	var out []codec
	seen := make(map[string]bool)
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		c, err := codecByName(name)
		if err != nil {
			return nil, fmt.Errorf("-codecs: %w", err)
		}
		seen[name] = true
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("-codecs: none given")
	}
	return out, nil
}
