package partlog

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestClient(t *testing.T) {
	const topic = "t"
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(2, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 5 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Partition: 1, Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	pl := New(cl)
	ti, err := pl.Topic(ctx, topic, false)
	if err != nil {
		t.Fatal(err)
	}
	if ti.Partitions() != 2 || ti.ID == [16]byte{} || ti.Leaders[0] < 0 || ti.Leaders[1] < 0 {
		t.Fatalf("topic %+v", ti)
	}
	if _, err := pl.Fetch(ctx, topic, 2, 0, -1, false, 0); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("fetch of a missing partition: %v, want ErrNoLeader", err)
	}

	if err := pl.DeleteRecords(ctx, topic, 1, 2); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ts   int64
		want int64
	}{{Earliest, 2}, {Latest, 5}} {
		if got, err := pl.ListOffset(ctx, topic, 1, tc.ts, false); err != nil || got != tc.want {
			t.Fatalf("ListOffset(%d) = %d, %v; want %d", tc.ts, got, err, tc.want)
		}
	}
	sp, err := pl.Fetch(ctx, topic, 1, 2, -1, true, 0)
	if err != nil || sp.ErrorCode != 0 || sp.HighWatermark != 5 || sp.LogStartOffset != 2 || len(sp.RecordBatches) == 0 {
		t.Fatalf("fetch: %v code %d hw %d log start %d, %d bytes", err, sp.ErrorCode, sp.HighWatermark, sp.LogStartOffset, len(sp.RecordBatches))
	}
}
