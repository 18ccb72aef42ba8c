package fill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Produce timeout the broker waits for replication (acks=all); below
// opTimeout so one slow try leaves room for another.
const produceTimeout = 30 * time.Second

// topicMeta is what a raw produce needs: the topic id (Produce v13+
// names topics by id) and each partition's leader.
type topicMeta struct {
	id      [16]byte
	leaders map[int32]int32
}

// leader returns the partition's leader and the topic id, loading metadata
// when not cached. kgo's Client.Request would send a raw Produce to any
// broker, so we route it ourselves.
func (f *Filler) leader(ctx context.Context, t tp) (int32, [16]byte, error) {
	if m := f.topics[t.topic]; m != nil {
		if l, ok := m.leaders[t.partition]; ok && l >= 0 {
			return l, m.id, nil
		}
	}
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(t.topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, f.cl)
	if err != nil {
		return 0, [16]byte{}, classifyReqErr(ctx, "Metadata", err)
	}
	for _, mt := range resp.Topics {
		if mt.Topic == nil || *mt.Topic != t.topic {
			continue
		}
		if err := kerr.ErrorForCode(mt.ErrorCode); err != nil {
			return 0, [16]byte{}, retriableIf(fmt.Errorf("Metadata %s: %w", t.topic, err))
		}
		m := &topicMeta{id: mt.TopicID, leaders: make(map[int32]int32, len(mt.Partitions))}
		for _, p := range mt.Partitions {
			if kerr.ErrorForCode(p.ErrorCode) == nil {
				m.leaders[p.Partition] = p.Leader
			}
		}
		f.topics[t.topic] = m
		if l, ok := m.leaders[t.partition]; ok && l >= 0 {
			return l, m.id, nil
		}
		// Unknown now, perhaps known after a leader election.
		return 0, [16]byte{}, retriable(fmt.Errorf("Metadata: no leader for %s/%d", t.topic, t.partition))
	}
	return 0, [16]byte{}, retriable(fmt.Errorf("Metadata: topic %s missing from response", t.topic))
}

// retriableIf marks err retriable if Kafka says it is.
func retriableIf(err error) error {
	if kerr.IsRetriable(err) {
		return retriable(err)
	}
	return err
}

// produce writes one batch of cnt filler records to the partition leader in
// the open transaction and returns the batch's base offset.
//
// Retrying a batch after an unknown outcome is safe: it goes out again with
// the same sequence, and the leader answers a duplicate with the original
// offset instead of appending it twice.
func (f *Filler) produce(ctx context.Context, t tp, cnt int32) (int64, error) {
	seq := f.seqs[t]
	batch := appendFillBatch(nil, f.pid, f.epoch, seq, cnt, time.Now().UnixMilli())
	var base int64
	err := f.retry(ctx, "Produce", func(ctx context.Context) error {
		leader, id, err := f.leader(ctx, t)
		if err != nil {
			return err
		}
		req := kmsg.NewPtrProduceRequest()
		req.TransactionID = &f.txnID
		req.Acks = -1 // kgo rewrites this to the client's acks
		req.TimeoutMillis = int32(produceTimeout.Milliseconds())
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = t.topic
		rt.TopicID = id
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition = t.partition
		rp.Records = batch
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)

		kresp, err := f.cl.Broker(int(leader)).RetriableRequest(ctx, req)
		if err != nil {
			delete(f.topics, t.topic) // the broker may be gone: look again
			return classifyReqErr(ctx, "Produce", err)
		}
		resp := kresp.(*kmsg.ProduceResponse)
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				if rp.Partition != t.partition || (rt.Topic != t.topic && rt.TopicID != id) {
					continue
				}
				if err := f.classifyProduceCode(t, rp.ErrorCode, rp.ErrorMessage); err != nil {
					return err
				}
				base = rp.BaseOffset
				return nil
			}
		}
		return fmt.Errorf("Produce: response is missing %s/%d", t.topic, t.partition)
	})
	if err != nil {
		return 0, err
	}
	f.seqs[t] = nextSequence(seq, cnt)
	return base, nil
}

func (f *Filler) classifyProduceCode(t tp, code int16, msg *string) error {
	err := kerr.ErrorForCode(code)
	if err == nil {
		return nil
	}
	if msg != nil && *msg != "" {
		err = fmt.Errorf("%w: %s", err, *msg)
	}
	err = fmt.Errorf("Produce %s/%d: %w", t.topic, t.partition, err)
	switch {
	case errors.Is(err, kerr.ProducerFenced), errors.Is(err, kerr.InvalidProducerEpoch):
		// The leader has seen a newer epoch of our producer id.
		return f.fence("Produce", err)
	case errors.Is(err, kerr.NotLeaderForPartition),
		errors.Is(err, kerr.LeaderNotAvailable),
		errors.Is(err, kerr.UnknownTopicOrPartition),
		errors.Is(err, kerr.FencedLeaderEpoch),
		errors.Is(err, kerr.UnknownLeaderEpoch),
		errors.Is(err, kerr.UnknownTopicID):
		delete(f.topics, t.topic)
		return retriable(err)
	case errors.Is(err, kerr.OutOfOrderSequenceNumber),
		errors.Is(err, kerr.UnknownProducerID),
		errors.Is(err, kerr.InvalidTxnState),
		errors.Is(err, kerr.TransactionAbortable):
		// Our transaction or sequence state is not what the
		// leader has; the next Fill re-initializes, which aborts.
		return err
	case kerr.IsRetriable(err):
		// NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT, ...: same sequence
		// again, deduplicated if it was in fact written.
		return retriable(err)
	default:
		return err
	}
}
