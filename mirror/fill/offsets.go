package fill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/linkproxy/linkproxy/mirror/internal/partlog"
)

// errBehind is the retriable "not there yet" of the two polling loops.
var errBehind = errors.New("log end not reached yet")

// logEnd returns the partition's high watermark: ListOffsets for the latest
// offset at read_uncommitted. That is the log end once writes are
// replicated, which acks=all produces and the coordinator's marker writes
// wait for. kgo sends ListOffsets to the partition leader.
func (f *Filler) logEnd(ctx context.Context, t tp) (int64, error) {
	var end int64
	err := f.retry(ctx, "ListOffsets", func(ctx context.Context) error {
		var err error
		end, err = f.listEnd(ctx, t)
		return err
	})
	return end, err
}

// listEnd is one ListOffsets try.
func (f *Filler) listEnd(ctx context.Context, t tp) (int64, error) {
	end, err := f.parts.ListOffset(ctx, t.topic, t.partition, partlog.Latest, false)
	if err != nil {
		return 0, classify(ctx, err)
	}
	return end, nil
}

// settledLogEnd returns the log end for Fill's precondition. If it is
// below from, it waits up to f.settle for it to get there: the high
// watermark can trail the caller's last acknowledged write briefly when the
// client does not use acks=all.
func (f *Filler) settledLogEnd(ctx context.Context, t tp, from int64) (int64, error) {
	end, err := f.logEnd(ctx, t)
	if err != nil || end >= from {
		return end, err
	}
	deadline := time.Now().Add(f.settle)
	for backoff := minBackoff; end < from && time.Now().Before(deadline); backoff = min(2*backoff, maxBackoff) {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(min(backoff, time.Until(deadline))):
		}
		if end, err = f.logEnd(ctx, t); err != nil {
			return 0, err
		}
	}
	return end, nil
}

// waitLogEnd waits for the log end to reach target exactly: the abort
// marker of the transaction just ended, which Kafka writes after it answers
// EndTxn. Past target means someone else wrote to the partition.
func (f *Filler) waitLogEnd(ctx context.Context, t tp, target int64) error {
	var end int64
	err := f.retry(ctx, "waiting for the abort marker", func(ctx context.Context) error {
		var err error
		if end, err = f.listEnd(ctx, t); err != nil {
			return err
		}
		if end < target {
			return retriable(fmt.Errorf("%w: %s/%d at %d, want %d", errBehind, t.topic, t.partition, end, target))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if end != target {
		return &LogEndMovedError{Topic: t.topic, Partition: t.partition, Expected: target, Actual: end}
	}
	return nil
}
