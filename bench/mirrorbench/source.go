package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// codec is a compression codec of the source producer, which the loop's
// producer uses too.
type codec struct {
	name string
	kgo  kgo.CompressionCodec
}

func codecByName(name string) (codec, error) {
	switch name {
	case "none":
		return codec{name, kgo.NoCompression()}, nil
	case "gzip":
		return codec{name, kgo.GzipCompression()}, nil
	case "snappy":
		return codec{name, kgo.SnappyCompression()}, nil
	case "lz4":
		return codec{name, kgo.Lz4Compression()}, nil
	case "zstd":
		return codec{name, kgo.ZstdCompression()}, nil
	}
	return codec{}, fmt.Errorf("unknown codec %q (none, gzip, snappy, lz4, zstd)", name)
}

// corpusSize bounds -value-size: every value is a window of one corpus.
const (
	corpusSize   = 4 << 20
	maxValueSize = corpusSize / 4
)

// corpus is text shaped like JSON event logs: repetitive keys, varying
// values. Values cut from it compress about as well as real event data
// (several times, not a thousand times like a repeated byte would), so the
// codecs do realistic work; random bytes would not compress at all.
var corpus = sync.OnceValue(func() []byte {
	r := rand.New(rand.NewPCG(1, 2)) // fixed: every run copies the same data
	events := []string{"click", "view", "purchase", "login", "logout", "search", "add_to_cart"}
	paths := []string{"/", "/cart", "/checkout", "/search", "/account", "/product/", "/category/"}
	b := make([]byte, 0, corpusSize+512)
	ts := int64(1_750_000_000_000)
	for len(b) < corpusSize {
		ts += r.Int64N(50)
		b = append(b, `{"ts":`...)
		b = strconv.AppendInt(b, ts, 10)
		b = append(b, `,"user":"u`...)
		b = strconv.AppendInt(b, r.Int64N(1_000_000), 10)
		b = append(b, `","event":"`...)
		b = append(b, events[r.IntN(len(events))]...)
		b = append(b, `","path":"`...)
		b = append(b, paths[r.IntN(len(paths))]...)
		b = strconv.AppendInt(b, r.Int64N(10_000), 36)
		b = append(b, `","ms":`...)
		b = strconv.AppendInt(b, r.Int64N(5000), 10)
		b = append(b, `,"session":"`...)
		b = strconv.AppendUint(b, r.Uint64(), 16)
		b = append(b, "\"}\n"...)
	}
	return b[:corpusSize]
})

// batchStats counts the source producer's batches, which the engine copies
// as they are: their size says how much work each of its produce requests
// carries.
type batchStats struct {
	batches, records, uncompressed, compressed atomic.Int64
}

func (s *batchStats) OnProduceBatchWritten(_ kgo.BrokerMetadata, _ string, _ int32, m kgo.ProduceBatchMetrics) {
	s.batches.Add(1)
	s.records.Add(int64(m.NumRecords))
	s.uncompressed.Add(int64(m.UncompressedBytes))
	s.compressed.Add(int64(m.CompressedBytes))
}

// source is a loaded source topic.
type source struct {
	topic   string
	codec   codec
	records int
	bytes   int64           // record value bytes
	ends    map[int32]int64 // log end offset per partition
	stats   *batchStats     // the producer's batches
	elapsed time.Duration   // how long producing took, for the header only
}

// loadSource produces the configured records into a fresh topic with kgo's
// default batching and codec c, spread evenly over the partitions.
func (b *bench) loadSource(ctx context.Context, topic string, c codec) (*source, error) {
	if err := b.src.createTopic(ctx, topic, int32(b.cfg.partitions), nil); err != nil {
		return nil, err
	}
	stats := new(batchStats)
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(b.src.seeds...),
		kgo.ClientID("mirrorbench-load"),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(c.kgo),
		kgo.WithHooks(stats),
	)
	if err != nil {
		return nil, fmt.Errorf("source producer: %w", err)
	}
	defer cl.Close()

	loadCtx, cancel := context.WithTimeout(ctx, b.cfg.phaseTimeout())
	defer cancel()
	var (
		firstErr atomic.Pointer[error]
		promise  = func(_ *kgo.Record, err error) {
			if err != nil {
				firstErr.CompareAndSwap(nil, &err)
			}
		}
		data = corpus()
		r    = rand.New(rand.NewPCG(3, 4))
		n    = b.cfg.records()
		size = b.cfg.valueSize
	)
	start := time.Now()
	for i := range n {
		if firstErr.Load() != nil {
			break
		}
		off := r.IntN(len(data) - size)
		// Values share the corpus's memory: the producer only reads them.
		cl.Produce(loadCtx, &kgo.Record{
			Value:     data[off : off+size : off+size],
			Partition: int32(i % b.cfg.partitions),
		}, promise)
	}
	if err := cl.Flush(loadCtx); err != nil {
		return nil, fmt.Errorf("producing %s: %w", topic, err)
	}
	if p := firstErr.Load(); p != nil {
		return nil, fmt.Errorf("producing %s: %w", topic, *p)
	}
	elapsed := time.Since(start)

	ends, err := b.src.endOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	var total int64
	for _, o := range ends {
		total += o
	}
	if total != int64(n) {
		return nil, fmt.Errorf("source %s: %d records in the log, %d produced", topic, total, n)
	}
	return &source{
		topic: topic, codec: c, records: n, bytes: int64(n) * int64(size),
		ends: ends, stats: stats, elapsed: elapsed,
	}, nil
}
