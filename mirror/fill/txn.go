package fill

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// initProducerID gets a producer id and epoch for f.txnID. kgo sends it to
// the transaction coordinator.
//
// Without recover, it asks as a new producer and fences whoever holds the id.
// With recover (KIP-360), it sends our current pid/epoch: Kafka bumps the
// epoch only if we are still the owner (else PRODUCER_FENCED), and in both
// cases first aborts our open transaction, answering CONCURRENT_TRANSACTIONS
// until the abort markers are written.
func (f *Filler) initProducerID(ctx context.Context, recover bool) error {
	return f.retry(ctx, "InitProducerId", func(ctx context.Context) error {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionalID = &f.txnID
		req.TransactionTimeoutMillis = int32(f.txnTimeout.Milliseconds())
		if recover {
			req.ProducerID, req.ProducerEpoch = f.pid, f.epoch
		}
		resp, err := req.RequestWith(ctx, f.cl)
		if err != nil {
			return classifyReqErr(ctx, "InitProducerId", err)
		}
		if err := f.classifyTxnCode("InitProducerId", resp.ErrorCode); err != nil {
			return err
		}
		f.log.Info("initialized fill producer", "producer_id", resp.ProducerID, "epoch", resp.ProducerEpoch, "prior_producer_id", f.pid, "prior_epoch", f.epoch)
		f.setProducer(resp.ProducerID, resp.ProducerEpoch)
		f.needInit = false
		return nil
	})
}

// setProducer adopts a producer id/epoch. A new epoch starts every
// partition's sequence at 0.
func (f *Filler) setProducer(pid int64, epoch int16) {
	if pid != f.pid || epoch != f.epoch {
		f.seqs = make(map[tp]int32)
	}
	f.pid, f.epoch = pid, epoch
}

// addPartition registers the partition in a new transaction. This, not a
// produce, is what makes the coordinator write a marker to the partition, so
// a fill of one offset is this plus EndTxn. kgo sends it at v3 (v4+ is
// broker-to-broker, KIP-890) to the coordinator.
func (f *Filler) addPartition(ctx context.Context, t tp) error {
	return f.retry(ctx, "AddPartitionsToTxn", func(ctx context.Context) error {
		req := kmsg.NewPtrAddPartitionsToTxnRequest()
		req.TransactionalID = f.txnID
		req.ProducerID = f.pid
		req.ProducerEpoch = f.epoch
		rt := kmsg.NewAddPartitionsToTxnRequestTopic()
		rt.Topic = t.topic
		rt.Partitions = []int32{t.partition}
		req.Topics = append(req.Topics, rt)

		resp, err := req.RequestWith(ctx, f.cl)
		if err != nil {
			return classifyReqErr(ctx, "AddPartitionsToTxn", err)
		}
		if err := f.classifyTxnCode("AddPartitionsToTxn", resp.ErrorCode); err != nil {
			return err
		}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				if rt.Topic == t.topic && rp.Partition == t.partition {
					return f.classifyTxnCode("AddPartitionsToTxn", rp.ErrorCode)
				}
			}
		}
		return fmt.Errorf("AddPartitionsToTxn: response is missing %s/%d", t.topic, t.partition)
	})
}

// endTxn aborts the open transaction. A v5+ answer (KIP-890, chosen by the
// request version, whatever the cluster's transaction.version) carries the
// producer's new epoch, and the next transaction must use it; before v5 the
// epoch stays and sequences continue.
func (f *Filler) endTxn(ctx context.Context) error {
	return f.retry(ctx, "EndTxn", func(ctx context.Context) error {
		req := kmsg.NewPtrEndTxnRequest()
		req.TransactionalID = f.txnID
		req.ProducerID = f.pid
		req.ProducerEpoch = f.epoch
		req.Commit = false
		resp, err := req.RequestWith(ctx, f.cl)
		if err != nil {
			return classifyReqErr(ctx, "EndTxn", err)
		}
		if err := f.classifyTxnCode("EndTxn", resp.ErrorCode); err != nil {
			return err
		}
		if resp.Version >= 5 && resp.ProducerID >= 0 {
			f.setProducer(resp.ProducerID, resp.ProducerEpoch)
		}
		return nil
	})
}
