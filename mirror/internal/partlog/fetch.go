package partlog

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fetch fetches topic/partition from offset at its leader, waiting up to
// maxWait for data; readCommitted stops at the last stable offset and lists
// the aborted transactions. The partition's error code is left to the
// caller. A failed request reloads the topic's metadata for the next try.
//
// lastEpoch is the leader epoch of the batch before offset, or -1: with it
// the leader reports a diverging epoch when its log was truncated below
// offset (KIP-320).
func (c *Client) Fetch(ctx context.Context, topic string, partition int32, offset int64, lastEpoch int32, readCommitted bool, maxWait time.Duration) (kmsg.FetchResponseTopicPartition, error) {
	t, err := c.Topic(ctx, topic, false)
	if err != nil {
		return kmsg.FetchResponseTopicPartition{}, err
	}
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, int32(maxWait/time.Millisecond), 1, 50<<20
	req.SessionEpoch = -1
	if readCommitted {
		req.IsolationLevel = 1
	}
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, t.ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = partition, offset, 4<<20
	rp.CurrentLeaderEpoch, rp.LastFetchedEpoch, rp.LogStartOffset = -1, lastEpoch, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	kresp, err := c.send(ctx, t, topic, partition, req)
	if err != nil {
		_, _ = c.Topic(ctx, topic, true)
		return kmsg.FetchResponseTopicPartition{}, fmt.Errorf("fetching %s/%d at %d: %w", topic, partition, offset, err)
	}
	resp := kresp.(*kmsg.FetchResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return kmsg.FetchResponseTopicPartition{}, fmt.Errorf("fetching %s/%d at %d: %w", topic, partition, offset, err)
	}
	for _, rt := range resp.Topics {
		for _, sp := range rt.Partitions {
			if sp.Partition == partition {
				return sp, nil
			}
		}
	}
	return kmsg.FetchResponseTopicPartition{}, fmt.Errorf("fetching %s/%d at %d: partition missing from response", topic, partition, offset)
}
