package main

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
)

// copyWithLoop copies src to the existing, empty topic dst the way
// MirrorMaker 2's source task does: a consumer assigned every partition
// from the start, and a producer that writes each record again, to the same
// partition, with its key, value, headers and timestamp. The consumer
// decompresses and the producer compresses anew with the source's codec.
// Both use kgo's defaults otherwise (fetch sizes, batching, acks=all,
// idempotence), as MirrorMaker leaves its clients' defaults.
//
// It is a lower bound on MirrorMaker's cost: MirrorMaker also converts
// every record to and from Connect's records, tracks offsets per record
// and writes offset syncs and checkpoints, none of which this does.
func (b *bench) copyWithLoop(ctx context.Context, src *source, dst string) (result, error) {
	offsets := make(map[int32]kgo.Offset, len(src.ends))
	for p := range src.ends {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	consumer, err := kgo.NewClient(
		kgo.SeedBrokers(b.src.seeds...),
		kgo.ClientID("mirrorbench-loop"),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{src.topic: offsets}),
	)
	if err != nil {
		return result{}, fmt.Errorf("loop consumer: %w", err)
	}
	defer consumer.Close()
	producer, err := kgo.NewClient(
		kgo.SeedBrokers(b.dst.seeds...),
		kgo.ClientID("mirrorbench-loop"),
		kgo.DefaultProduceTopic(dst),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(src.codec.kgo),
	)
	if err != nil {
		return result{}, fmt.Errorf("loop producer: %w", err)
	}
	defer producer.Close()

	var firstErr atomic.Pointer[error]
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			firstErr.CompareAndSwap(nil, &err)
		}
	}
	// Partitions still to read to their end; empty ones are done already.
	left := make(map[int32]int64, len(src.ends))
	for p, end := range src.ends {
		if end > 0 {
			left[p] = end
		}
	}

	m, err := startMeter()
	if err != nil {
		return result{}, err
	}
	for len(left) > 0 {
		fs := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return result{}, fmt.Errorf("loop: %d partitions not read to the end: %w", len(left), err)
		}
		if err := fs.Err(); err != nil {
			return result{}, fmt.Errorf("loop: fetching: %w", err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			producer.Produce(ctx, &kgo.Record{
				Key:       r.Key,
				Value:     r.Value,
				Headers:   r.Headers,
				Timestamp: r.Timestamp,
				Partition: r.Partition,
			}, promise)
			if end, ok := left[r.Partition]; ok && r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		})
		if p := firstErr.Load(); p != nil {
			return result{}, fmt.Errorf("loop: producing: %w", *p)
		}
	}
	if err := producer.Flush(ctx); err != nil {
		return result{}, fmt.Errorf("loop: flushing: %w", err)
	}
	if p := firstErr.Load(); p != nil {
		return result{}, fmt.Errorf("loop: producing: %w", *p)
	}
	return m.stop(src.bytes)
}
