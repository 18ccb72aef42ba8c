package fill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/mirror/internal/partlog"
)

const (
	minBackoff = 10 * time.Millisecond
	maxBackoff = time.Second
)

// errRetry marks an attempt's error as worth another try.
type errRetry struct{ err error }

func (e *errRetry) Error() string { return e.err.Error() }
func (e *errRetry) Unwrap() error { return e.err }

func retriable(err error) error { return &errRetry{err} }

// retry runs attempt until it succeeds or returns an error not marked
// retriable, backing off between tries, for at most f.opTimeout. kgo already
// retries connection failures and coordinator moves inside a request; this
// loop covers what kgo leaves to the caller (CONCURRENT_TRANSACTIONS,
// leadership moves for raw produces, markers not yet written) and retries
// that outlived kgo's own budget.
func (f *Filler) retry(ctx context.Context, what string, attempt func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, f.opTimeout)
	defer cancel()
	backoff := minBackoff
	for tries := 1; ; tries++ {
		err := attempt(ctx)
		if err == nil {
			return nil
		}
		var r *errRetry
		if !errors.As(err, &r) {
			return err
		}
		f.log.Debug("retrying", "op", what, "tries", tries, "backoff", backoff, "err", r.err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: giving up after %d tries: %w (last error: %w)", what, tries, ctx.Err(), r.err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// classifyReqErr sorts the error of a what request: see classify.
func classifyReqErr(ctx context.Context, what string, err error) error {
	return classify(ctx, fmt.Errorf("%s: %w", what, err))
}

// classify sorts an error of a request, or one from a partlog.Client, which
// may carry a Kafka error code: our own context ending is final; a broker
// connection error, a retriable code and a partition without a known
// leader yet are retried.
func classify(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, kgo.ErrClientClosed) {
		return err
	}
	if kgo.IsRetryableBrokerErr(err) || kerr.IsRetriable(err) || errors.Is(err, partlog.ErrNoLeader) {
		return retriable(err)
	}
	return err
}

// classifyTxnCode sorts a transaction coordinator's error code. Epoch errors
// mean fenced: a newer InitProducerId (another Filler, or the coordinator's
// own timeout abort) owns the id now; we never fence back. Kafka answers a
// stale epoch with PRODUCER_FENCED from 2.7 and INVALID_PRODUCER_EPOCH for
// older request versions; INVALID_PRODUCER_ID_MAPPING means the coordinator
// no longer maps the id to our producer id.
func (f *Filler) classifyTxnCode(what string, code int16) error {
	err := kerr.ErrorForCode(code)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.ProducerFenced),
		errors.Is(err, kerr.InvalidProducerEpoch),
		errors.Is(err, kerr.InvalidProducerIDMapping):
		return f.fence(what, err)
	case errors.Is(err, kerr.ConcurrentTransactions),
		errors.Is(err, kerr.CoordinatorLoadInProgress),
		errors.Is(err, kerr.CoordinatorNotAvailable),
		errors.Is(err, kerr.NotCoordinator),
		kerr.IsRetriable(err):
		// CONCURRENT_TRANSACTIONS: the previous transaction's markers
		// are still being written (Kafka answers EndTxn first), or
		// InitProducerId is aborting a predecessor's transaction.
		return retriable(fmt.Errorf("%s: %w", what, err))
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

// fence records that we are fenced; every later Fill returns the error.
func (f *Filler) fence(what string, cause error) error {
	f.fenced = fmt.Errorf("fill: transactional id %q, producer id %d epoch %d: %w (%s: %w)", f.txnID, f.pid, f.epoch, ErrFenced, what, cause)
	f.log.Warn("fenced", "producer_id", f.pid, "epoch", f.epoch, "op", what, "err", cause)
	return f.fenced
}
