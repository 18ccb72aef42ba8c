package fill

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/mirror/internal/partlog"
)

// Defaults; fields on Filler so tests can shrink them.
const (
	// Kafka's own producers cap a batch by bytes (batch.max.size); we cap
	// by count too so a batch is ~230 KiB, far under the 1 MiB default
	// max.message.bytes.
	defaultMaxBatchRecords = 10000

	// A transaction holds the partition's last stable offset back, so
	// read_committed consumers of the destination stall until it ends;
	// keep each one short and start another.
	defaultMaxTxnRecords = 10 * defaultMaxBatchRecords

	// The coordinator aborts a transaction left open this long (a crash
	// mid-fill), even if no Filler comes back to fence it.
	defaultTxnTimeout = time.Minute

	// How long one step (a coordinator request through its retries, the
	// wait for an abort marker) may take before Fill gives up.
	defaultOpTimeout = 2 * time.Minute

	// How long Fill waits for the high watermark to reach `from` when it
	// is behind: the caller's own last produce may still be replicating.
	defaultSettle = 5 * time.Second
)

// Filler fills offset gaps on destination partitions with aborted transactions.
//
// A Filler owns one transactional id and runs one transaction at a time;
// Fill calls are serialized. It is safe for concurrent use.
type Filler struct {
	cl    *kgo.Client
	txnID string
	log   hclog.Logger

	maxBatchRecords int32
	maxTxnRecords   int64
	txnTimeout      time.Duration
	opTimeout       time.Duration
	settle          time.Duration

	// testBeforeEnd, if set, runs after the filler records of a
	// transaction are written and before EndTxn: tests cancel the
	// context there to leave a transaction open, as a crash would.
	testBeforeEnd func()

	mu       sync.Mutex
	pid      int64
	epoch    int16
	seqs     map[tp]int32 // next sequence per partition, this pid/epoch
	parts    *partlog.Client
	stale    map[string]bool // topics whose leaders to look up again
	needInit bool            // a transaction may be open or our state is unsure
	fenced   error           // non-nil once fenced: final
}

type tp struct {
	topic     string
	partition int32
}

// New uses cl (a kgo.Client on the destination) and transactionalID (the
// engine derives it per link/partition set, e.g. "linkproxy-fill-<link>-<n>");
// it fences any previous holder of that id (InitProducerId with the id), which
// aborts a predecessor's open fill.
//
// The predecessor's open fill ends as a shorter fill: its filler records
// written so far plus one abort marker. Callers compare logs after New.
func New(ctx context.Context, cl *kgo.Client, transactionalID string, log hclog.Logger) (*Filler, error) {
	if cl == nil {
		return nil, errors.New("fill: nil client")
	}
	if transactionalID == "" {
		return nil, errors.New("fill: empty transactional id")
	}
	// With acks=0 kgo would not even read a produce response (it rewrites
	// raw produce acks to the client's), and we need every error.
	if v := cl.OptValue(kgo.RequiredAcks); v != nil {
		if acks, ok := v.(kgo.Acks); ok && acks == kgo.NoAck() {
			return nil, errors.New("fill: the destination client must not use kgo.NoAck()")
		}
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	f := &Filler{
		cl:              cl,
		txnID:           transactionalID,
		log:             log.With("fill_txn_id", transactionalID),
		maxBatchRecords: defaultMaxBatchRecords,
		maxTxnRecords:   defaultMaxTxnRecords,
		txnTimeout:      defaultTxnTimeout,
		opTimeout:       defaultOpTimeout,
		settle:          defaultSettle,
		pid:             -1,
		epoch:           -1,
		parts:           partlog.New(cl),
		stale:           make(map[string]bool),
	}
	if err := f.initProducerID(ctx, false); err != nil {
		return nil, fmt.Errorf("fill: initializing transactional id %q: %w", transactionalID, err)
	}
	return f, nil
}

// Fill makes the log end of topic/partition advance by exactly n (n >= 1)
// offsets, from `from` (the caller's expected current log end) to from+n,
// with n-1 filler records and one abort marker, and returns once ListOffsets
// shows the new log end. If the current log end is not `from`, it returns
// ErrLogEndMoved (with the actual value) without writing — the caller
// recomputes.
//
// Large n uses several transactions, each k <= 100000 records plus its
// marker (k+1 offsets), so a fill of n > 100001 has one record fewer per
// extra transaction. On any error the log is still valid: a failed Fill leaves a
// prefix of the fill (whole transactions, and at most one transaction with
// some of its records, whose abort marker the next Fill or New writes by
// fencing). The caller compares log ends and calls Fill again.
func (f *Filler) Fill(ctx context.Context, topic string, partition int32, from int64, n int64) error {
	if n < 1 {
		return fmt.Errorf("fill %s/%d: n must be >= 1, got %d", topic, partition, n)
	}
	if from < 0 {
		return fmt.Errorf("fill %s/%d: negative from %d", topic, partition, from)
	}

	f.mu.Lock()
	defer f.mu.Unlock()

	if f.fenced != nil {
		return f.fenced
	}
	if f.needInit {
		// A previous Fill failed with a transaction possibly open.
		// Re-initializing at our own pid/epoch (KIP-360) aborts it
		// and waits for the abort, or reports that we were fenced.
		if err := f.initProducerID(ctx, true); err != nil {
			return fmt.Errorf("fill %s/%d: recovering after a failed fill: %w", topic, partition, err)
		}
	}

	t := tp{topic, partition}
	end, err := f.settledLogEnd(ctx, t, from)
	if err != nil {
		return fmt.Errorf("fill %s/%d: %w", topic, partition, err)
	}
	if end != from {
		return &LogEndMovedError{Topic: topic, Partition: partition, Expected: from, Actual: end}
	}

	for remaining := n; remaining > 0; {
		k := min(remaining-1, f.maxTxnRecords)
		if err := f.fillTxn(ctx, t, from, k); err != nil {
			return fmt.Errorf("fill %s/%d offsets [%d, %d): %w", topic, partition, from, from+k+1, err)
		}
		from += k + 1
		remaining -= k + 1
	}
	return nil
}

// fillTxn runs one aborted transaction that fills [from, from+k+1): k
// filler records, then the abort marker, which it waits to see.
func (f *Filler) fillTxn(ctx context.Context, t tp, from, k int64) error {
	// Until EndTxn succeeds, a transaction may be open at the coordinator
	// (even a failed AddPartitionsToTxn may have been applied).
	f.needInit = true

	if err := f.addPartition(ctx, t); err != nil {
		return err
	}

	next := from
	for written := int64(0); written < k; {
		cnt := int32(min(k-written, int64(f.maxBatchRecords)))
		base, err := f.produce(ctx, t, cnt)
		if err != nil {
			return err
		}
		if base != next {
			// Someone else writes to this partition. Our records
			// landed elsewhere; abort so they stay invisible and
			// let the caller look at the log again.
			f.log.Warn("filler batch landed at an unexpected offset", "topic", t.topic, "partition", t.partition, "expected", next, "actual", base)
			if err := f.endTxn(ctx); err != nil {
				return err
			}
			f.needInit = false
			actual, err := f.logEnd(ctx, t)
			if err != nil {
				return err
			}
			return &LogEndMovedError{Topic: t.topic, Partition: t.partition, Expected: next, Actual: actual}
		}
		next += int64(cnt)
		written += int64(cnt)
	}

	if f.testBeforeEnd != nil {
		f.testBeforeEnd()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ending transaction: %w", err)
	}
	if err := f.endTxn(ctx); err != nil {
		return err
	}
	f.needInit = false

	// EndTxn answers once the coordinator has logged PrepareAbort; the
	// marker reaches the partition afterwards. Fill's contract is the
	// new log end, so wait for it.
	if err := f.waitLogEnd(ctx, t, from+k+1); err != nil {
		return err
	}
	f.log.Debug("filled", "topic", t.topic, "partition", t.partition, "from", from, "to", from+k+1, "records", k)
	return nil
}
