package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
)

// TestLargeFramesStream moves frames far above the proxy's streaming
// threshold both ways: produce requests are always streamed; fetch
// responses are streamed below Fetch v16 and held whole (to look for
// KIP-951 endpoints) from v16. Every byte must arrive intact either way.
func TestLargeFramesStream(t *testing.T) {
	const topic, n = "large", 40
	// Batches reach 4 MiB: raise the broker limit (1 MiB by default in
	// Apache Kafka and in kfake) as an operator would.
	e := startEnv(t, withKfake(kfake.SeedTopics(2, topic), kfake.BrokerConfigs(map[string]string{"message.max.bytes": "8388608"})))
	l := e.Listeners["EXTERNAL"]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	value := func(i int) []byte { // 300 KiB, distinct per record, incompressible enough
		b := make([]byte, 300<<10)
		for j := 0; j < len(b); j += 32 {
			h := sha256.Sum256([]byte(fmt.Sprint(i, j)))
			copy(b[j:], h[:])
		}
		return b
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(l.Bootstrap), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchMaxBytes(4<<20), kgo.MaxBufferedRecords(n), kgo.ProducerLinger(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i := range n {
		prod.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: value(i)}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		opts []kgo.Opt
	}{
		{"fetch v16+ held and scanned", nil},
		{"fetch v13 streamed", []kgo.Opt{kgo.MaxVersions(kversion.V3_4_0())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]kgo.Opt{kgo.SeedBrokers(l.Bootstrap), kgo.ConsumeTopics(topic),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(8 << 20)}, tc.opts...)
			cons, err := kgo.NewClient(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer cons.Close()
			got := 0
			for got < n {
				fs := cons.PollFetches(ctx)
				if ctx.Err() != nil {
					t.Fatalf("consumed %d of %d", got, n)
				}
				fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
				fs.EachRecord(func(r *kgo.Record) {
					var i int
					fmt.Sscan(string(r.Key), &i)
					if !bytes.Equal(r.Value, value(i)) {
						t.Errorf("record %d: value differs", i)
					}
					got++
				})
			}
		})
	}
}
