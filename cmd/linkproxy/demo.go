package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/conf"
	"github.com/linkproxy/linkproxy/proxy"
)

const demoTopic = "demo-orders"

// demo runs a dev cluster and a proxy with two listeners, shows that each
// listener's clients learn only that listener's endpoints, then keeps
// traffic flowing and prints live status until ctx ends.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	internal := fs.String("internal", "127.0.0.1:19092", "bootstrap address of the INTERNAL listener")
	external := fs.String("external", "127.0.0.2:19192", "bootstrap address of the EXTERNAL listener")
	logLevel := fs.String("log-level", "warn", "proxy log level (the demo's own output goes to stdout)")
	every := fs.Duration("status-every", 2*time.Second, "how often to print the status line")
	if err := fs.Parse(args); err != nil {
		return err
	}

	cluster, err := startDevCluster(3, "127.0.0.1:0", "")
	if err != nil {
		return err
	}
	defer cluster.Close()
	upstream := strings.Join(cluster.ListenAddrs(), ",")

	toml := demoConfig(upstream, *internal, *external, *logLevel)
	cfg, err := conf.Parse([]byte(toml), "demo.toml")
	if err != nil {
		return err
	}
	p, err := proxy.New(cfg, newLogger("linkproxy", *logLevel, stderr))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		return err
	}

	fmt.Fprintf(stdout, "linkproxy demo\n\nupstream dev cluster (private): %s\n\nproxy config:\n%s\n", upstream, indent(toml))
	for _, l := range p.Listeners() {
		if err := demoRoundTrip(ctx, stdout, l.Name(), l.BootstrapAddr()); err != nil {
			return fmt.Errorf("listener %s: %w", l.Name(), err)
		}
	}
	fmt.Fprintf(stdout, `
Try it yourself while this runs (kcat from Debian's kcat package):
  kcat -b %s -L                  # metadata on INTERNAL: only 127.0.0.1 proxy ports
  kcat -b %s -L                  # metadata on EXTERNAL: only 127.0.0.2 proxy ports
  kcat -b %s -C -t %s -e         # read the demo topic through EXTERNAL
Press Ctrl-C to stop.

`, *internal, *external, *external, demoTopic)

	var produced, consumed atomic.Int64
	go demoTraffic(ctx, *external, *internal, &produced, &consumed)
	t := time.NewTicker(*every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(stdout, "\nstopping")
			cancel()
			return <-done
		case err := <-done:
			return err
		case <-t.C:
			fmt.Fprintf(stdout, "%s produced=%d (via EXTERNAL) consumed=%d (via INTERNAL)", time.Now().Format("15:04:05"), produced.Load(), consumed.Load())
			for _, s := range p.Stats() {
				fmt.Fprintf(stdout, " | %s conns=%d reqs=%d in=%s out=%s rewritten=%d", s.Listener, s.Open, s.Requests, human(s.BytesIn), human(s.BytesOut), s.Rewritten)
			}
			fmt.Fprintln(stdout)
		}
	}
}

func demoConfig(upstream, internal, external, level string) string {
	return fmt.Sprintf(`[cluster]
name = "dev"
"bootstrap.servers" = %q

[proxy]
log_level = %q

[[listener]]
name = "INTERNAL"
listen = %q
"security.protocol" = "PLAINTEXT"

[[listener]]
name = "EXTERNAL"
listen = %q
"security.protocol" = "PLAINTEXT"
`, upstream, level, internal, external)
}

// demoRoundTrip produces and consumes a few records through one listener
// and prints the broker endpoints its client learned.
func demoRoundTrip(ctx context.Context, w io.Writer, name, bootstrap string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics(demoTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), kgo.AllowAutoTopicCreation())
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	meta, err := adm.BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	var eps []string
	for _, b := range meta.Brokers {
		eps = append(eps, fmt.Sprintf("%d=%s", b.NodeID, net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))))
	}
	fmt.Fprintf(w, "%s (bootstrap %s) advertises brokers: %s\n", name, bootstrap, strings.Join(eps, " "))
	// Join the topic's end before producing so the records come back.
	cl.ForceMetadataRefresh()
	for i := range 3 {
		r := &kgo.Record{Topic: demoTopic, Key: []byte(name), Value: []byte(fmt.Sprintf("hello %d via %s", i, name))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			return fmt.Errorf("produce: %w", err)
		}
	}
	got := 0
	for got < 3 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("consumed %d of 3 records: %w", got, err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if string(r.Key) == name {
				got++
			}
		})
	}
	fmt.Fprintf(w, "%s: produced and consumed 3 records on %s\n", name, demoTopic)
	return nil
}

// demoTraffic produces through one listener and consumes in a group
// through the other until ctx ends.
func demoTraffic(ctx context.Context, produceVia, consumeVia string, produced, consumed *atomic.Int64) {
	prod, err := kgo.NewClient(kgo.SeedBrokers(produceVia), kgo.DefaultProduceTopic(demoTopic))
	if err != nil {
		return
	}
	defer prod.Close()
	cons, err := kgo.NewClient(kgo.SeedBrokers(consumeVia), kgo.ConsumeTopics(demoTopic), kgo.ConsumerGroup("demo-group"))
	if err != nil {
		return
	}
	defer cons.Close()
	go func() {
		for ctx.Err() == nil {
			fetches := cons.PollFetches(ctx)
			consumed.Add(int64(fetches.NumRecords()))
		}
	}()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		prod.Produce(ctx, kgo.StringRecord("order "+strconv.Itoa(i)), func(_ *kgo.Record, err error) {
			if err == nil {
				produced.Add(1)
			} else if !errors.Is(err, context.Canceled) {
				// shown in the status line as a stalled count
				_ = err
			}
		})
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

func human(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}
