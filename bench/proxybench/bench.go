package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/bench/internal/harness"
)

const (
	host         = "127.0.0.1"
	listenerName = "BENCH"
)

// target is one way to reach the cluster: directly or through the proxy.
type target struct {
	name  string // "direct" or "proxy"
	seeds []string
}

// bench holds what every phase needs.
type bench struct {
	cfg     config
	out     io.Writer
	cluster *harness.Child
	proxy   *harness.Child
	adm     *kadm.Client // direct; topics are made and dropped outside timings
	direct  target
	proxied target
}

// runBench starts the children, runs the rounds, prints the report, and stops
// the children whatever happens. argv is the bench's own command line, for
// the report.
func runBench(ctx context.Context, cfg config, argv []string, out, errOut io.Writer) error {
	bin, err := harness.Linkproxy(cfg.linkproxy)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "proxybench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)

	var children procs
	// Deferred, so that it also runs when a phase fails or panics; the
	// children's Pdeathsig covers the cases where it cannot run at all.
	defer func() {
		if stopErr := children.stopAll(harness.StopGrace); stopErr != nil {
			fmt.Fprintf(errOut, "proxybench: stopping children: %v\n", stopErr)
		}
	}()
	var logs io.Writer
	if cfg.verbose {
		logs = errOut
	}

	b := &bench{cfg: cfg, out: out}
	var seeds []string
	if b.cluster, seeds, err = harness.StartDevCluster(ctx, "dev-cluster", bin, cfg.brokers, logs); err != nil {
		return err
	}
	children.add(b.cluster)
	b.direct = target{name: "direct", seeds: seeds}

	if b.proxy, seeds, err = startProxy(ctx, bin, tmp, b.direct.seeds, cfg.brokers, logs); err != nil {
		return err
	}
	children.add(b.proxy)
	b.proxied = target{name: "proxy", seeds: seeds}

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.direct.seeds...), kgo.ClientID("proxybench-admin"))
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	defer cl.Close()
	b.adm = kadm.NewClient(cl)

	b.printHeader()
	rounds, err := b.runRounds(ctx)
	if err != nil {
		return b.explain(err)
	}
	report(out, cfg, rounds, harness.Machine(), harness.CommandLine(argv, "./bench/proxybench"))
	return nil
}

// startProxy writes a config fronting seeds and runs `linkproxy serve`, and
// returns it with its bootstrap address. The proxy binds its ports itself,
// so a port picked as free may be taken by the time it binds; a few attempts
// with other ports make that harmless.
func startProxy(ctx context.Context, bin, dir string, seeds []string, brokers int, logs io.Writer) (*harness.Child, []string, error) {
	var lastErr error
	for attempt := range 3 {
		// The bootstrap port, then one per broker: node ids 0..brokers-1
		// are served on base+1+id.
		base, err := freePortRun(host, brokers+1)
		if err != nil {
			return nil, nil, err
		}
		path := filepath.Join(dir, fmt.Sprintf("proxy-%d.toml", attempt))
		if err := os.WriteFile(path, []byte(proxyConfig(seeds, base)), 0o600); err != nil {
			return nil, nil, fmt.Errorf("writing proxy config: %w", err)
		}
		p, err := harness.StartChild("proxy", bin, []string{"serve", "--config", path}, logs)
		if err != nil {
			return nil, nil, err
		}
		bootstrap, err := p.WaitReady(ctx, "ready listener="+listenerName+" bootstrap=", harness.ReadyTimeout)
		if err == nil {
			return p, []string{bootstrap}, nil
		}
		lastErr = err
		_ = p.Stop(harness.StopGrace) // the readiness error says more
		if ctx.Err() != nil {
			break
		}
	}
	return nil, nil, lastErr
}

func proxyConfig(seeds []string, base int) string {
	return fmt.Sprintf(`# written by proxybench
[cluster]
name = "bench"
"bootstrap.servers" = %q

[proxy]
log_level = "warn"

[[listener]]
name = %q
listen = "%s:%d"
"security.protocol" = "PLAINTEXT"
`, strings.Join(seeds, ","), listenerName, host, base)
}

// explain adds to a failed phase's error whether a child had died, which is
// the likelier cause than whatever the client saw.
func (b *bench) explain(err error) error {
	var errs []error
	for _, c := range []*harness.Child{b.proxy, b.cluster} {
		if e := c.ExitErr(); e != nil {
			errs = append(errs, e)
		}
	}
	if len(errs) == 0 {
		return err
	}
	return fmt.Errorf("%w\n%w", err, errors.Join(errs...))
}

// runRounds alternates the order of direct and proxied phases every round,
// so that neither side always runs first, on a cooler cache or after the
// other's garbage.
func (b *bench) runRounds(ctx context.Context) ([]round, error) {
	// An unreported warm-up through both targets first: the first transfer
	// of a run pays for things later ones do not (children's heaps growing
	// and faulting in memory, code paths run for the first time), and
	// whichever target went first would carry that alone.
	warmup := max(1, b.cfg.records()/4)
	for _, t := range []target{b.direct, b.proxied} {
		if _, err := b.throughputPhase(ctx, "warmup", t, warmup); err != nil {
			return nil, err
		}
	}

	rounds := make([]round, b.cfg.rounds)
	for i := range rounds {
		label := fmt.Sprintf("round%d", i+1)
		order := []target{b.direct, b.proxied}
		if i%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		results := make(map[string]*sideResult, 2)
		for _, t := range order {
			r, err := b.throughputPhase(ctx, label, t, b.cfg.records())
			if err != nil {
				return nil, err
			}
			results[t.name] = &r
		}
		for _, t := range order {
			lat, err := b.latencyPhase(ctx, label, t)
			if err != nil {
				return nil, err
			}
			results[t.name].latency = lat
		}
		rounds[i] = round{direct: *results["direct"], proxy: *results["proxy"]}
		printRound(b.out, i, b.cfg.rounds, rounds[i])
	}
	return rounds, nil
}

func (b *bench) printHeader() {
	c := b.cfg
	fmt.Fprintf(b.out, "proxybench: %d brokers (dev-cluster pid %d), proxy pid %d\n", c.brokers, b.cluster.Pid(), b.proxy.Pid())
	fmt.Fprintf(b.out, "  direct %s\n  proxy  %s\n", strings.Join(b.direct.seeds, ","), strings.Join(b.proxied.seeds, ","))
	fmt.Fprintf(b.out, "  %d rounds; throughput: %g MB per phase in %d B values, %d partitions, acks=all, no compression;\n",
		c.rounds, c.phaseMB, c.valueSize, c.partitions)
	fmt.Fprintf(b.out, "  latency: %d ProduceSync of one %d B record per phase\n\n", c.latencyN, c.latencySize)
}
