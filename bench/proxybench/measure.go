package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// latencyWarmup round trips precede each latency phase unmeasured: they
// open the connections and fetch metadata and a producer id, which are
// one-off costs, not per-request ones.
const latencyWarmup = 50

// throughput is one timed transfer of record values.
type throughput struct {
	bytes   int64
	elapsed time.Duration
}

func (t throughput) mbps() float64 { return float64(t.bytes) / 1e6 / t.elapsed.Seconds() }

// cpuUse is CPU time (user+system) the children spent.
type cpuUse struct{ proxy, cluster time.Duration }

func (c cpuUse) sub(d cpuUse) cpuUse { return cpuUse{c.proxy - d.proxy, c.cluster - d.cluster} }

type latency struct{ p50, p99 time.Duration }

// sideResult is one round's figures for one target.
type sideResult struct {
	produce, consume throughput
	cpu              cpuUse // over the produce and consume phases together
	latency          latency
}

// round is one round's figures for both targets.
type round struct{ direct, proxy sideResult }

// throughputPhase produces the phase's records to a fresh topic through t,
// then consumes them all from the start, and drops the topic afterwards.
// Dropping matters: the dev cluster keeps every record in memory, and a
// heap that grew round after round would make later phases slower for the
// cluster's garbage collector alone.
func (b *bench) throughputPhase(ctx context.Context, label string, t target, n int) (res sideResult, err error) {
	topic := fmt.Sprintf("proxybench-tput-%s-%s", label, t.name)
	if err := b.createTopic(ctx, topic, int32(b.cfg.partitions)); err != nil {
		return res, err
	}
	defer func() {
		if delErr := b.deleteTopic(ctx, topic); delErr != nil && err == nil {
			err = delErr
		}
	}()
	// Not ctx itself: the deferred delete above must outlive this.
	phaseCtx, cancel := context.WithTimeout(ctx, b.phaseTimeout())
	defer cancel()

	before, err := b.cpu()
	if err != nil {
		return res, fmt.Errorf("%s, %s: %w", label, t.name, err)
	}
	if res.produce, err = produce(phaseCtx, t.seeds, topic, n, b.cfg.valueSize); err != nil {
		return res, fmt.Errorf("%s, %s produce: %w", label, t.name, err)
	}
	if res.consume, err = consume(phaseCtx, t.seeds, topic, n, b.cfg.valueSize); err != nil {
		return res, fmt.Errorf("%s, %s consume: %w", label, t.name, err)
	}
	after, err := b.cpu()
	if err != nil {
		return res, fmt.Errorf("%s, %s: %w", label, t.name, err)
	}
	res.cpu = after.sub(before)
	return res, nil
}

// phaseTimeout bounds one phase generously (any machine should manage
// 2 MB/s), so that a wedged phase fails with its name rather than eating
// the whole run's timeout.
func (b *bench) phaseTimeout() time.Duration {
	return time.Minute + time.Duration(b.cfg.phaseMB/2*float64(time.Second))
}

func (b *bench) cpu() (cpuUse, error) {
	p, err := b.proxy.CPU()
	if err != nil {
		return cpuUse{}, err
	}
	c, err := b.cluster.CPU()
	if err != nil {
		return cpuUse{}, err
	}
	return cpuUse{proxy: p, cluster: c}, nil
}

func (b *bench) createTopic(ctx context.Context, topic string, partitions int32) error {
	// -1: the cluster's default replication factor.
	if _, err := b.adm.CreateTopic(ctx, partitions, -1, nil, topic); err != nil {
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	return nil
}

func (b *bench) deleteTopic(ctx context.Context, topic string) error {
	if _, err := b.adm.DeleteTopic(ctx, topic); err != nil {
		return fmt.Errorf("deleting topic %s: %w", topic, err)
	}
	return nil
}

func newClient(seeds []string, opts ...kgo.Opt) (*kgo.Client, error) {
	base := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID("proxybench"),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("new client for %v: %w", seeds, err)
	}
	return cl, nil
}

// payload returns size pseudo-random bytes: incompressible, as real
// payloads mostly are, although nothing here compresses.
func payload(size int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// produce sends n records of size bytes as fast as the client can batch
// them and returns the time from the first Produce until all are acked.
func produce(ctx context.Context, seeds []string, topic string, n, size int) (throughput, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cl, err := newClient(seeds,
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		// Kafka's default max.message.bytes: the largest batch a broker
		// takes without topic configuration. kgo fills batches up to it
		// because Produce outruns the broker and records queue up.
		kgo.ProducerBatchMaxBytes(1000012),
	)
	if err != nil {
		return throughput{}, err
	}
	defer cl.Close()

	var (
		mu       sync.Mutex
		firstErr error
	)
	promise := func(_ *kgo.Record, err error) {
		if err == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel() // unblocks Produce and Flush; the phase is lost anyway
		}
	}
	value := payload(size)
	start := time.Now()
	for range n {
		// The value is shared: kgo never modifies it.
		cl.Produce(ctx, &kgo.Record{Value: value}, promise)
	}
	flushErr := cl.Flush(ctx)
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	if firstErr != nil {
		return throughput{}, fmt.Errorf("producing to %s: %w", topic, firstErr)
	}
	if flushErr != nil {
		return throughput{}, fmt.Errorf("flushing to %s: %w", topic, flushErr)
	}
	return throughput{bytes: int64(n) * int64(size), elapsed: elapsed}, nil
}

// consume reads topic from the start until it has n records, and checks
// that they are the n records of size bytes produced. The time includes the
// client's start (metadata, offsets), which is small against a phase and the
// same for both targets.
func consume(ctx context.Context, seeds []string, topic string, n, size int) (throughput, error) {
	start := time.Now()
	cl, err := newClient(seeds,
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		return throughput{}, err
	}
	defer cl.Close()

	var (
		got   int
		bytes int64
	)
	for got < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return throughput{}, fmt.Errorf("consuming %s: %d of %d records after %v: %w", topic, got, n, time.Since(start).Round(time.Millisecond), err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			ferr = errors.Join(ferr, fmt.Errorf("%s[%d]: %w", t, p, err))
		})
		if ferr != nil {
			return throughput{}, fmt.Errorf("consuming %s: %w", topic, ferr)
		}
		fs.EachRecord(func(r *kgo.Record) {
			got++
			bytes += int64(len(r.Value))
		})
	}
	elapsed := time.Since(start)
	if want := int64(n) * int64(size); got != n || bytes != want {
		return throughput{}, fmt.Errorf("consuming %s: got %d records, %d bytes; produced %d records, %d bytes", topic, got, bytes, n, want)
	}
	return throughput{bytes: bytes, elapsed: elapsed}, nil
}

// latencyPhase times single-record produce round trips through t, one at a
// time, and returns their median and 99th percentile.
func (b *bench) latencyPhase(ctx context.Context, label string, t target) (lat latency, err error) {
	topic := fmt.Sprintf("proxybench-lat-%s-%s", label, t.name)
	if err := b.createTopic(ctx, topic, 1); err != nil {
		return lat, err
	}
	defer func() {
		if delErr := b.deleteTopic(ctx, topic); delErr != nil && err == nil {
			err = delErr
		}
	}()
	phaseCtx, cancel := context.WithTimeout(ctx, b.phaseTimeout())
	defer cancel()

	cl, err := newClient(t.seeds,
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		// No lingering: each record goes out in its own request at once,
		// so a sample is one request's round trip plus client overhead.
		kgo.ProducerLinger(0),
	)
	if err != nil {
		return lat, err
	}
	defer cl.Close()

	value := payload(b.cfg.latencySize)
	samples := make([]time.Duration, b.cfg.latencyN)
	for j := -latencyWarmup; j < len(samples); j++ {
		start := time.Now()
		if err := cl.ProduceSync(phaseCtx, &kgo.Record{Value: value}).FirstErr(); err != nil {
			return lat, fmt.Errorf("%s, %s latency: record %d: %w", label, t.name, j+latencyWarmup, err)
		}
		if j >= 0 {
			samples[j] = time.Since(start)
		}
	}
	slices.Sort(samples)
	return latency{p50: percentile(samples, 50), p99: percentile(samples, 99)}, nil
}

// percentile returns the nearest-rank p-th percentile of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1 // 0-based
	return sorted[max(0, min(rank, len(sorted)-1))]
}
