package partlog

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Ordered produce.
//
// An idempotent producer may have up to five Produce requests in flight per
// partition, provided the broker receives them in sequence order. kgo writes
// the requests queued for one broker connection in queue order, but
// Broker.Request queues each request from a goroutine of its own (franz-go
// v1.22, client.go (*Broker).request), so two calls made one after the other
// may be written the other way round. An ordered Client therefore lets one
// Produce at a time per broker be between its call and its write: the next
// one is queued only once kgo's write hook has seen the previous one on the
// wire (or it failed before being written). Responses are still awaited in
// parallel, which is what pipelining needs.

// MaxInflight is how many Produce requests of one idempotent producer may be
// in flight to a partition: Apache Kafka keeps the last five batches of each
// producer to recognise retried duplicates, and refuses more
// (max.in.flight.requests.per.connection <= 5 with enable.idempotence).
const MaxInflight = 5

// NewOrdered returns a Client whose Produce requests reach each broker in the
// order they were sent, and its own connections: a kgo client with cl's
// options plus the write hook. Close releases it.
func NewOrdered(cl *kgo.Client) (*Client, error) {
	g := &writeGate{brokers: make(map[int32]*brokerGate)}
	own, err := kgo.NewClient(append(cl.Opts(), kgo.WithHooks(g))...)
	if err != nil {
		return nil, fmt.Errorf("ordered produce client: %w", err)
	}
	c := New(own)
	c.gate, c.owned = g, true
	return c, nil
}

// Close closes the kgo client of an ordered Client; on others it does
// nothing, as their kgo client belongs to the caller.
func (c *Client) Close() {
	if c.owned {
		c.cl.Close()
	}
}

// ProduceResult is the answer to one Produce: the partition's response, or
// the error that kept it from arriving.
type ProduceResult struct {
	Partition kmsg.ProduceResponseTopicPartition
	Err       error
}

// ProduceAsync sends records like Produce and returns at once with a channel
// that receives the result. On an ordered Client, requests for partitions
// led by the same broker are written in the order of the ProduceAsync calls,
// which wait for that; the request is not retried, since a retry out of turn
// would reach the broker out of order.
func (c *Client) ProduceAsync(ctx context.Context, topic string, partition int32, refresh bool, transactionalID *string, records []byte) <-chan ProduceResult {
	done := make(chan ProduceResult, 1)
	t, err := c.Topic(ctx, topic, refresh)
	if err == nil && (partition < 0 || partition >= t.Partitions() || t.Leaders[partition] < 0) {
		err = fmt.Errorf("%w for %s/%d", ErrNoLeader, topic, partition)
	}
	if err != nil {
		done <- ProduceResult{Err: err}
		return done
	}
	leader := t.Leaders[partition]
	req := produceRequest(topic, t.ID, partition, transactionalID, records)
	send := func() {
		kresp, err := c.cl.Broker(int(leader)).Request(ctx, req)
		var rp kmsg.ProduceResponseTopicPartition
		if err == nil {
			rp, err = produceAnswer(kresp.(*kmsg.ProduceResponse), topic, t.ID, partition)
		}
		done <- ProduceResult{rp, err}
	}
	if c.gate == nil {
		go send()
		return done
	}
	bg := c.gate.broker(leader)
	bg.launch.Lock()
	defer bg.launch.Unlock()
	written := bg.since()
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		send()
	}()
	select {
	case <-written:
	case <-sent:
	case <-ctx.Done():
	}
	return done
}

// writeGate is the kgo hook that sees each Produce written.
type writeGate struct {
	mu      sync.Mutex
	brokers map[int32]*brokerGate
}

type brokerGate struct {
	launch sync.Mutex // held from a Produce's call until it is written
	mu     sync.Mutex
	wrote  chan struct{} // closed at the next Produce write
}

func (g *writeGate) broker(node int32) *brokerGate {
	g.mu.Lock()
	defer g.mu.Unlock()
	bg := g.brokers[node]
	if bg == nil {
		bg = &brokerGate{wrote: make(chan struct{})}
		g.brokers[node] = bg
	}
	return bg
}

// since returns a channel closed at the next Produce written to the broker.
func (bg *brokerGate) since() <-chan struct{} {
	bg.mu.Lock()
	defer bg.mu.Unlock()
	return bg.wrote
}

// OnBrokerWrite implements kgo.HookBrokerWrite.
func (g *writeGate) OnBrokerWrite(meta kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, _ error) {
	if key != int16(kmsg.Produce) {
		return
	}
	bg := g.broker(meta.NodeID)
	bg.mu.Lock()
	close(bg.wrote)
	bg.wrote = make(chan struct{})
	bg.mu.Unlock()
}

// IsConnectionError tells errors of the connection (dial, write, read, a
// broker that left the metadata) from answers of the broker: the request may
// or may not have landed, and sending it again on a fresh connection is the
// cure.
func IsConnectionError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || kgo.IsRetryableBrokerErr(err) || errors.Is(err, ErrNoLeader)
}
