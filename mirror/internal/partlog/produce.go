package partlog

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// produceTimeout is how long the leader may wait for replication (acks=all)
// before it answers REQUEST_TIMED_OUT.
const produceTimeout = 30 * time.Second

// Produce sends records (v2 record batches) for topic/partition to its
// leader with acks=all and returns the partition's answer, whose error
// code is left to the caller. transactionalID is nil unless the batches
// belong to that producer's transaction. refresh reloads the metadata first,
// as for Request. On an ordered Client it takes its turn as ProduceAsync.
//
// kgo rewrites the acks of a raw Produce to its client's; with kgo.NoAck()
// it does not even read the response.
func (c *Client) Produce(ctx context.Context, topic string, partition int32, refresh bool, transactionalID *string, records []byte) (kmsg.ProduceResponseTopicPartition, error) {
	if c.gate != nil {
		r := <-c.ProduceAsync(ctx, topic, partition, refresh, transactionalID, records)
		return r.Partition, r.Err
	}
	t, err := c.Topic(ctx, topic, refresh)
	if err != nil {
		return kmsg.ProduceResponseTopicPartition{}, err
	}
	req := produceRequest(topic, t.ID, partition, transactionalID, records)
	kresp, err := c.send(ctx, t, topic, partition, req)
	if err != nil {
		return kmsg.ProduceResponseTopicPartition{}, err
	}
	return produceAnswer(kresp.(*kmsg.ProduceResponse), topic, t.ID, partition)
}

func produceRequest(topic string, id [16]byte, partition int32, transactionalID *string, records []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.TransactionID = transactionalID
	req.Acks = -1
	req.TimeoutMillis = int32(produceTimeout.Milliseconds())
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.TopicID = topic, id
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// produceAnswer picks the partition's answer out of a Produce response.
func produceAnswer(resp *kmsg.ProduceResponse, topic string, id [16]byte, partition int32) (kmsg.ProduceResponseTopicPartition, error) {
	for _, rt := range resp.Topics {
		if rt.Topic != topic && rt.TopicID != id {
			continue
		}
		for _, rp := range rt.Partitions {
			if rp.Partition == partition {
				return rp, nil
			}
		}
	}
	return kmsg.ProduceResponseTopicPartition{}, fmt.Errorf("produce response is missing %s/%d", topic, partition)
}
