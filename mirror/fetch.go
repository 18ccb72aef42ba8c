package mirror

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchPartition fetches topic/partition from offset on the cluster l
// speaks to; readCommitted stops at the last stable offset and lists the
// aborted transactions.
// lastEpoch is the leader epoch of the batch before offset, or -1: with it
// the leader reports a diverging epoch when its log was truncated below
// offset (KIP-320).
func fetchPartition(ctx context.Context, l *leaders, topic string, partition int32, offset int64, lastEpoch int32, readCommitted bool, maxWait time.Duration) (kmsg.FetchResponseTopicPartition, error) {
	t, err := l.topic(ctx, topic, false)
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
	rt.Topic, rt.TopicID = topic, t.id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = partition, offset, 8<<20
	rp.CurrentLeaderEpoch, rp.LastFetchedEpoch, rp.LogStartOffset = -1, lastEpoch, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	kresp, err := l.request(ctx, topic, partition, false, req)
	if err != nil {
		_, _ = l.topic(ctx, topic, true)
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
