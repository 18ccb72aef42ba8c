package fill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/linkproxy/linkproxy/mirror/batch"
)

// Filler records carry a key because a compacted destination topic rejects
// keyless records (INVALID_RECORD), and the mirror copies compacted topics
// too. The value is empty, not null: a null value would be a tombstone.
// No headers: the key already names the record for anyone reading
// read_uncommitted, and every byte is repeated up to maxBatchRecords times.
const fillKey = "linkproxy-fill"

// produce writes one batch of cnt filler records to the partition leader in
// the open transaction and returns the batch's base offset. The leader
// waits up to 30s for replication, below opTimeout so one slow try leaves
// room for another.
//
// Retrying a batch after an unknown outcome is safe: it goes out again with
// the same sequence, and the leader answers a duplicate with the original
// offset instead of appending it twice.
func (f *Filler) produce(ctx context.Context, t tp, cnt int32) (int64, error) {
	seq := f.seqs[t]
	records := batch.AppendTransactional(nil, f.pid, f.epoch, seq, cnt, time.Now().UnixMilli(), []byte(fillKey))
	var base int64
	err := f.retry(ctx, "Produce", func(ctx context.Context) error {
		refresh := f.stale[t.topic]
		f.stale[t.topic] = false
		rp, err := f.parts.Produce(ctx, t.topic, t.partition, refresh, &f.txnID, records)
		if err != nil {
			f.stale[t.topic] = true // the leader or its broker may be gone: look again
			return classifyReqErr(ctx, "Produce", err)
		}
		if err := f.classifyProduceCode(t, rp.ErrorCode, rp.ErrorMessage); err != nil {
			return err
		}
		base = rp.BaseOffset
		return nil
	})
	if err != nil {
		return 0, err
	}
	f.seqs[t] = batch.AddSequence(seq, cnt)
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
		f.stale[t.topic] = true
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
