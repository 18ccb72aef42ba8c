package mirror

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// leaders caches partition leaders of one cluster for the requests kgo
// does not route by itself (Produce and Fetch sent raw).
type leaders struct {
	cl *kgo.Client
	mu sync.Mutex
	m  map[string]topicInfo
}

type topicInfo struct {
	id      [16]byte
	leaders []int32 // by partition
}

func newLeaders(cl *kgo.Client) *leaders {
	return &leaders{cl: cl, m: make(map[string]topicInfo)}
}

// topic returns the id and partition leaders of topic, from metadata when
// not cached or when refresh is set.
func (l *leaders) topic(ctx context.Context, topic string, refresh bool) (topicInfo, error) {
	l.mu.Lock()
	cached, ok := l.m[topic]
	l.mu.Unlock()
	if ok && !refresh {
		return cached, nil
	}
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, l.cl)
	if err != nil {
		return topicInfo{}, fmt.Errorf("metadata for %s: %w", topic, err)
	}
	if len(resp.Topics) != 1 {
		return topicInfo{}, fmt.Errorf("metadata for %s: %d topics in response", topic, len(resp.Topics))
	}
	t := resp.Topics[0]
	if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
		return topicInfo{}, fmt.Errorf("metadata for %s: %w", topic, err)
	}
	out := topicInfo{id: t.TopicID, leaders: make([]int32, len(t.Partitions))}
	for _, p := range t.Partitions {
		if int(p.Partition) < len(out.leaders) {
			out.leaders[p.Partition] = p.Leader
		}
	}
	l.mu.Lock()
	l.m[topic] = out
	l.mu.Unlock()
	return out, nil
}

// request sends req to the leader of topic/partition.
func (l *leaders) request(ctx context.Context, topic string, partition int32, refresh bool, req kmsg.Request) (kmsg.Response, error) {
	t, err := l.topic(ctx, topic, refresh)
	if err != nil {
		return nil, err
	}
	if int(partition) >= len(t.leaders) {
		return nil, fmt.Errorf("%s has no partition %d", topic, partition)
	}
	return l.cl.Broker(int(t.leaders[partition])).RetriableRequest(ctx, req)
}
