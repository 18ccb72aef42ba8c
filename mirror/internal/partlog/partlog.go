// Package partlog sends raw requests about one partition's log: Produce and
// Fetch to the partition's leader, ListOffsets and DeleteRecords through
// kgo.
//
// It exists because kgo routes Produce and Fetch only for its own producer
// and consumer: a raw kmsg Produce or Fetch given to Client.Request goes to
// any broker, which answers NOT_LEADER_OR_FOLLOWER unless it happens to be
// the leader. The mirror engine (copied batches, reading logs back) and
// package fill (filler batches) both send them raw, so a Client caches each
// topic's id and partition leaders from Metadata and sends to the leader
// with Client.Broker. ListOffsets and DeleteRecords kgo does route to the
// leaders; they are here so that there is one way to send each.
package partlog

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrNoLeader is returned (wrapped) when the metadata names no leader for a
// partition: no such partition, or one without a leader right now, as
// during a leader election. Asking again with refresh may find one.
var ErrNoLeader = errors.New("no leader known")

// Client sends partition requests through a kgo.Client. It is safe for
// concurrent use.
type Client struct {
	cl *kgo.Client
	mu sync.Mutex
	m  map[string]Topic

	gate  *writeGate // set on an ordered Client (NewOrdered)
	owned bool       // cl was made by NewOrdered
}

// Topic is what the metadata says of a topic.
type Topic struct {
	ID      [16]byte // Produce v13+ and Fetch v13+ name topics by id
	Leaders []int32  // by partition; -1 where the partition has no leader
}

// Partitions returns the topic's partition count.
func (t Topic) Partitions() int32 { return int32(len(t.Leaders)) }

// New returns a Client on cl with an empty metadata cache.
func New(cl *kgo.Client) *Client {
	return &Client{cl: cl, m: make(map[string]Topic)}
}

// Topic returns the id and partition leaders of topic, from a Metadata
// request when not cached or when refresh is set.
func (c *Client) Topic(ctx context.Context, topic string, refresh bool) (Topic, error) {
	c.mu.Lock()
	cached, ok := c.m[topic]
	c.mu.Unlock()
	if ok && !refresh {
		return cached, nil
	}
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, c.cl)
	if err != nil {
		return Topic{}, fmt.Errorf("metadata for %s: %w", topic, err)
	}
	if len(resp.Topics) != 1 || resp.Topics[0].Topic == nil || *resp.Topics[0].Topic != topic {
		return Topic{}, fmt.Errorf("metadata for %s: %w: topic missing from the response", topic, ErrNoLeader)
	}
	t := resp.Topics[0]
	if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
		return Topic{}, fmt.Errorf("metadata for %s: %w", topic, err)
	}
	out := Topic{ID: t.TopicID, Leaders: make([]int32, len(t.Partitions))}
	for i := range out.Leaders {
		out.Leaders[i] = -1
	}
	for _, p := range t.Partitions {
		// A partition with an error code (LEADER_NOT_AVAILABLE, ...)
		// has no leader to send to, whatever the leader field says.
		if int(p.Partition) < len(out.Leaders) && p.ErrorCode == 0 {
			out.Leaders[p.Partition] = p.Leader
		}
	}
	c.mu.Lock()
	c.m[topic] = out
	c.mu.Unlock()
	return out, nil
}

// Request sends req to the leader of topic/partition, looked up as Topic
// does (refresh reloads the metadata first). An unknown leader is an
// ErrNoLeader error; the caller asks again with refresh.
func (c *Client) Request(ctx context.Context, topic string, partition int32, refresh bool, req kmsg.Request) (kmsg.Response, error) {
	t, err := c.Topic(ctx, topic, refresh)
	if err != nil {
		return nil, err
	}
	return c.send(ctx, t, topic, partition, req)
}

// send sends req to the leader of partition according to t.
func (c *Client) send(ctx context.Context, t Topic, topic string, partition int32, req kmsg.Request) (kmsg.Response, error) {
	if partition < 0 || partition >= t.Partitions() || t.Leaders[partition] < 0 {
		return nil, fmt.Errorf("%w for %s/%d", ErrNoLeader, topic, partition)
	}
	return c.cl.Broker(int(t.Leaders[partition])).RetriableRequest(ctx, req)
}
