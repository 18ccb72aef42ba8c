package partlog

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/linkproxy/linkproxy/mirror/batch"
)

// TestOrderedProduce keeps MaxInflight idempotent batches in flight on each
// of several partitions that share one leader: the broker must receive every
// partition's batches in sequence order, or it answers
// OUT_OF_ORDER_SEQUENCE_NUMBER.
func TestOrderedProduce(t *testing.T) {
	const (
		topic      = "ordered"
		partitions = 4
		batches    = 300
	)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pid, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(ctx, cl)
	if err != nil || pid.ErrorCode != 0 {
		t.Fatalf("init producer id: %v %v", err, kerr.ErrorForCode(pid.ErrorCode))
	}
	oc, err := NewOrdered(cl)
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()

	type sent struct {
		want int64
		res  <-chan ProduceResult
	}
	inflight := make([][]sent, partitions)
	check := func(p int, s sent) {
		r := <-s.res
		if r.Err == nil {
			r.Err = kerr.ErrorForCode(r.Partition.ErrorCode)
		}
		if r.Err != nil || r.Partition.BaseOffset != s.want {
			t.Fatalf("partition %d batch %d: offset %d, %v", p, s.want, r.Partition.BaseOffset, r.Err)
		}
	}
	for i := range batches {
		for p := range partitions {
			if len(inflight[p]) == MaxInflight {
				check(p, inflight[p][0])
				inflight[p] = inflight[p][1:]
			}
			txn := batch.AppendTransactional(nil, 0, 0, 0, 1, int64(i), []byte("k"))
			if err := batch.Rewrite(txn, pid.ProducerID, pid.ProducerEpoch, int32(i)); err != nil {
				t.Fatal(err)
			}
			inflight[p] = append(inflight[p], sent{int64(i), oc.ProduceAsync(ctx, topic, int32(p), false, nil, txn)})
		}
	}
	for p, ss := range inflight {
		for _, s := range ss {
			check(p, s)
		}
	}
}
