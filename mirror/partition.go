package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/linkproxy/linkproxy/mirror/batch"
	"github.com/linkproxy/linkproxy/mirror/fill"
	"github.com/linkproxy/linkproxy/mirror/internal/partlog"
)

// partition copies one source partition. Its invariant: the destination's
// log end is end, the batches in flight take it to sent once they land,
// and every source offset from sent up to next is filler not written yet.
// Deferring filler merges runs of markers and aborted batches into one fill
// transaction.
type partition struct {
	e        *Engine
	p        int32
	next     int64 // the next source offset to copy
	end      int64 // the destination's log end, as answered
	sent     int64 // the destination's log end once inflight lands
	inflight []inflight
	refresh  bool // reload the destination's metadata before producing
	// failingSince is when source fetches started to fail, or zero.
	failingSince time.Time
	producerID   int64
	epoch        int16
	seq          int32
	filler       *fill.Filler
	// lastEpoch is the source leader epoch of the last batch copied.
	lastEpoch int32
	// aborted holds producers whose open transaction the source aborted,
	// from a read_committed fetch's aborted transactions, until their
	// abort marker is reached.
	aborted map[int64]bool
	// aborts still to take effect, by first offset.
	pendingAborts []kmsg.FetchResponseTopicPartitionAbortedTransaction
}

func (pt *partition) run(ctx context.Context) error {
	e := pt.e
	f, err := fill.New(ctx, e.cfg.Destination, fillID(e.cfg.TransactionalID, pt.p), e.log)
	if err != nil {
		return err
	}
	pt.filler = f
	if err := pt.start(ctx); err != nil {
		return err
	}
	// One fetch runs ahead: while a response's batches are copied, the
	// next is already on its way, from one past the response's last batch.
	var ahead *prefetch
	for ctx.Err() == nil {
		if ahead == nil || ahead.from != pt.next {
			ahead = pt.fetchAsync(ctx, pt.next, pt.lastEpoch)
		}
		res := <-ahead.done
		ahead = nil
		if res.err == nil && res.sp.ErrorCode == 0 && len(res.batches) > 0 {
			last, _ := batch.ParseHeader(res.batches[len(res.batches)-1])
			if last.LastOffset() >= pt.next {
				ahead = pt.fetchAsync(ctx, last.LastOffset()+1, last.PartitionLeaderEpoch)
			}
		}
		if err := pt.step(ctx, res); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}

// prefetch is a source fetch under way from offset from.
type prefetch struct {
	from int64
	done chan fetchResult
}

type fetchResult struct {
	sp      kmsg.FetchResponseTopicPartition
	batches [][]byte
	err     error
}

func (pt *partition) fetchAsync(ctx context.Context, from int64, lastEpoch int32) *prefetch {
	e := pt.e
	f := &prefetch{from: from, done: make(chan fetchResult, 1)}
	go func() {
		sp, err := e.src.Fetch(ctx, e.cfg.SourceTopic, pt.p, from, lastEpoch, true, e.cfg.MaxWait)
		var bs [][]byte
		if err == nil && sp.ErrorCode == 0 {
			if bs, err = batch.Split(sp.RecordBatches); err != nil {
				err = fmt.Errorf("source batches at %d: %w", from, err)
			}
		}
		f.done <- fetchResult{sp, bs, err}
	}()
	return f
}

// start finds where to resume: the destination's log end, or for a new
// mirror the start offset spec, whose offsets below are filled and then
// deleted so that the mirror's log start matches.
func (pt *partition) start(ctx context.Context) error {
	e := pt.e
	end, err := e.dst.ListOffset(ctx, e.cfg.DestinationTopic, pt.p, partlog.Latest, false)
	if err != nil {
		return err
	}
	srcEnd, err := e.src.ListOffset(ctx, e.cfg.SourceTopic, pt.p, partlog.Latest, false)
	if err != nil {
		return err
	}
	if end > srcEnd {
		return fmt.Errorf("UNEXPECTED_TRUNCATION: the mirror's log end %d is beyond the source's %d", end, srcEnd)
	}
	saved, known := int64(0), false
	if e.cfg.Starts != nil {
		saved, known = e.cfg.Starts.LoadStart(pt.p)
	}
	if end > 0 && !(known && end < saved) {
		pt.next, pt.end, pt.sent = end, end, end
		e.setNext(pt.p, end)
		if err := pt.trimFiller(ctx); err != nil {
			return err
		}
		return pt.resumeProducer(ctx)
	}
	from := saved
	if !known {
		if from, err = pt.startOffset(ctx); err != nil {
			return err
		}
		if e.cfg.Starts != nil {
			if err := e.cfg.Starts.SaveStart(ctx, pt.p, from); err != nil {
				return fmt.Errorf("saving the start offset %d: %w", from, err)
			}
		}
	} else if end > 0 {
		// A start fill cut short: the offsets below end are filler.
		e.log.Info("finishing an interrupted start", "partition", pt.p, "from", end, "start", from)
		pt.next, pt.end, pt.sent = end, end, end
	}
	if from > 0 {
		pt.fillTo(from)
		if err := pt.flush(ctx); err != nil {
			return err
		}
		if err := e.dst.DeleteRecords(ctx, e.cfg.DestinationTopic, pt.p, from); err != nil {
			return err
		}
	}
	e.setNext(pt.p, from)
	return nil
}

// resumeProducer continues the idempotent producer of the engine that
// wrote the mirror before, read back from its last data batch: a request
// that engine still had in flight when it died then lands as a duplicate
// the broker refuses, never as a second copy. Fill transactions are fenced
// through their transactional id instead (fill.New).
func (pt *partition) resumeProducer(ctx context.Context) error {
	e := pt.e
	start, err := e.dst.ListOffset(ctx, e.cfg.DestinationTopic, pt.p, partlog.Earliest, false)
	if err != nil {
		return err
	}
	// Look back over a growing window: the tail may be a long fill.
	for window := int64(512); ; window *= 8 {
		from := max(start, pt.next-window)
		found, h, raw, err := pt.lastDataBatch(ctx, from)
		if err != nil {
			return err
		}
		if found {
			if err := pt.checkAgainstSource(ctx, h, raw); err != nil {
				return err
			}
			pt.producerID, pt.epoch = h.ProducerID, h.ProducerEpoch
			pt.seq = batch.AddSequence(h.BaseSequence, h.NumRecords)
			e.log.Debug("resuming the mirror's producer", "partition", pt.p, "producer_id", h.ProducerID, "epoch", h.ProducerEpoch, "sequence", pt.seq)
			return nil
		}
		if from == start {
			return nil // no data written yet: the engine's fresh producer id
		}
	}
}

// lastDataBatch returns the last idempotent data batch on the mirror
// between from and its log end.
func (pt *partition) lastDataBatch(ctx context.Context, from int64) (bool, batch.Header, []byte, error) {
	var last batch.Header
	var raw []byte
	found := false
	err := pt.scanMirror(ctx, from, pt.end, func(h batch.Header, b []byte) bool {
		if isData(h) {
			last, raw, found = h, b, true
		}
		return true
	})
	return found, last, raw, err
}

// isData tells the engine's data batches from filler and markers.
func isData(h batch.Header) bool { return !h.Control() && !h.Transactional() && h.ProducerID >= 0 }

// scanMirror calls fn for each mirror batch from offset from up to to,
// until fn returns false.
func (pt *partition) scanMirror(ctx context.Context, from, to int64, fn func(batch.Header, []byte) bool) error {
	e := pt.e
	for off := from; off < to; {
		sp, err := e.dst.Fetch(ctx, e.cfg.DestinationTopic, pt.p, off, -1, false, 0)
		if err != nil {
			return err
		}
		if err := kerr.ErrorForCode(sp.ErrorCode); err != nil {
			return fmt.Errorf("reading the mirror at %d: %w", off, err)
		}
		bs, err := batch.Split(sp.RecordBatches)
		if err != nil {
			return fmt.Errorf("reading the mirror at %d: %w", off, err)
		}
		if len(bs) == 0 {
			return nil
		}
		for _, b := range bs {
			h, err := batch.ParseHeader(b)
			if err != nil {
				return err
			}
			if h.LastOffset() >= off && !fn(h, b) {
				return nil
			}
			off = max(off, h.LastOffset()+1)
		}
	}
	return nil
}

// trimFiller moves the mirror's log start past filler that stands below
// the source's log start, before any data: what a start cut short between
// its fill and its DeleteRecords leaves. Filler carries nothing for any
// consumer, and data is never trimmed, so a source whose retention passed
// data the mirror holds keeps that data on the mirror.
func (pt *partition) trimFiller(ctx context.Context) error {
	e := pt.e
	mStart, err := e.dst.ListOffset(ctx, e.cfg.DestinationTopic, pt.p, partlog.Earliest, false)
	if err != nil {
		return err
	}
	sStart, err := e.src.ListOffset(ctx, e.cfg.SourceTopic, pt.p, partlog.Earliest, false)
	if err != nil {
		return err
	}
	limit := min(sStart, pt.end)
	if mStart >= limit {
		return nil
	}
	first := limit
	err = pt.scanMirror(ctx, mStart, limit, func(h batch.Header, _ []byte) bool {
		if isData(h) {
			first = min(first, h.BaseOffset)
			return false
		}
		return true
	})
	if err != nil || first <= mStart {
		return err
	}
	e.log.Info("trimming filler left by an interrupted start", "partition", pt.p, "log_start", first)
	return e.dst.DeleteRecords(ctx, e.cfg.DestinationTopic, pt.p, first)
}

// checkAgainstSource compares the mirror's last data batch with the source
// batch at its offset: equal records mean nobody else wrote to the mirror
// and the source was not rewritten below what was copied. A source whose
// log start has passed the batch can no longer be compared.
func (pt *partition) checkAgainstSource(ctx context.Context, h batch.Header, mirrored []byte) error {
	e := pt.e
	sp, err := e.src.Fetch(ctx, e.cfg.SourceTopic, pt.p, h.BaseOffset, -1, false, 0)
	if err != nil {
		return err
	}
	if sp.ErrorCode == kerr.OffsetOutOfRange.Code && sp.LogStartOffset > h.BaseOffset {
		return nil
	}
	if err := kerr.ErrorForCode(sp.ErrorCode); err != nil {
		return fmt.Errorf("reading source offset %d to check the mirror: %w", h.BaseOffset, err)
	}
	bs, err := batch.Split(sp.RecordBatches)
	if err != nil {
		return err
	}
	for _, b := range bs {
		runs, err := batch.SplitRuns(nil, b, h.BaseOffset)
		if err != nil {
			return err
		}
		for _, r := range runs {
			if rh, _ := batch.ParseHeader(r); rh.BaseOffset == h.BaseOffset {
				if rh.LastOffsetDelta != h.LastOffsetDelta || !bytes.Equal(r[batch.HeaderSize:], mirrored[batch.HeaderSize:]) {
					return fmt.Errorf("DIVERGED: the mirror's batch at offset %d differs from the source's: something else wrote to the mirror topic, or the source log was rewritten", h.BaseOffset)
				}
				return nil
			}
		}
	}
	return fmt.Errorf("DIVERGED: the mirror has data at offset %d where the source has none", h.BaseOffset)
}

func (pt *partition) startOffset(ctx context.Context) (int64, error) {
	e := pt.e
	switch at := e.cfg.StartAt; at {
	case StartEarliest:
		return e.src.ListOffset(ctx, e.cfg.SourceTopic, pt.p, partlog.Earliest, false)
	case StartLatest:
		return e.src.ListOffset(ctx, e.cfg.SourceTopic, pt.p, partlog.Latest, true)
	default:
		o, err := e.src.ListOffset(ctx, e.cfg.SourceTopic, pt.p, at, false)
		if err == nil && o < 0 { // nothing at or after the timestamp yet
			return e.src.ListOffset(ctx, e.cfg.SourceTopic, pt.p, partlog.Latest, true)
		}
		return o, err
	}
}

// step copies what one fetch from next brought back.
func (pt *partition) step(ctx context.Context, res fetchResult) error {
	e := pt.e
	if res.err != nil {
		return pt.retry(ctx, res.err)
	}
	sp := res.sp
	if d := sp.DivergingEpoch; d.EndOffset >= 0 && d.EndOffset < pt.next {
		return fmt.Errorf("UNEXPECTED_TRUNCATION: the source log diverged at offset %d (leader epoch %d), below the %d offsets already mirrored", d.EndOffset, d.Epoch, pt.next)
	}
	switch err := kerr.ErrorForCode(sp.ErrorCode); {
	case err == nil:
	case errors.Is(err, kerr.OffsetOutOfRange):
		if pt.next < sp.LogStartOffset {
			// Retention removed source data before it was copied:
			// the mirror keeps the offsets, as filler.
			e.log.Warn("source log start passed the mirror's position; filling the gap", "partition", pt.p, "from", pt.next, "to", sp.LogStartOffset)
			pt.fillTo(sp.LogStartOffset)
			if err := pt.flush(ctx); err != nil {
				return err
			}
			return pt.trimFiller(ctx)
		}
		return fmt.Errorf("UNEXPECTED_TRUNCATION: source offset %d is out of range (log %d-%d)", pt.next, sp.LogStartOffset, sp.HighWatermark)
	case kerr.IsRetriable(err):
		_, _ = e.src.Topic(ctx, e.cfg.SourceTopic, true)
		return pt.retry(ctx, err)
	default:
		return fmt.Errorf("fetching source offset %d: %w", pt.next, err)
	}
	pt.failingSince = time.Time{}
	pt.pendingAborts = append(pt.pendingAborts, sp.AbortedTransactions...)
	for _, b := range res.batches {
		if err := pt.copyBatch(ctx, b); err != nil {
			return err
		}
	}
	if err := pt.flush(ctx); err != nil {
		return err
	}
	// Caught up, the next fetch may wait for data: take every answer
	// now, so that progress and failures show without delay.
	if pt.next >= sp.LastStableOffset || len(res.batches) == 0 {
		return pt.ackUntil(ctx, 0, true)
	}
	return pt.ackUntil(ctx, 0, false)
}

// retry waits before the next fetch after a failed one. A source that
// cannot be reached is waited for as long as it takes (the link reports it
// unavailable); any other failure that lasts longer than RetryTimeout
// (cluster.link.retry.timeout.ms) stops the partition, a source topic that
// is no longer known as SOURCE_TOPIC_MAY_BE_DELETED.
func (pt *partition) retry(ctx context.Context, err error) error {
	if partlog.IsConnectionError(err) && !errors.Is(err, partlog.ErrNoLeader) {
		pt.failingSince = time.Time{}
		return sleep(ctx, 100*time.Millisecond)
	}
	if pt.failingSince.IsZero() {
		pt.failingSince = time.Now()
	}
	if d := time.Since(pt.failingSince); d > pt.e.cfg.RetryTimeout {
		if errors.Is(err, kerr.UnknownTopicOrPartition) || errors.Is(err, kerr.UnknownTopicID) {
			return fmt.Errorf("SOURCE_TOPIC_MAY_BE_DELETED: the source topic has been unknown for %s (cluster.link.retry.timeout.ms): %w", d.Round(time.Millisecond), err)
		}
		return fmt.Errorf("fetching source offset %d has failed for %s (cluster.link.retry.timeout.ms): %w", pt.next, d.Round(time.Millisecond), err)
	}
	return sleep(ctx, 100*time.Millisecond)
}

// copyBatch brings the destination from next past source batch b: data is
// produced, everything else filled.
func (pt *partition) copyBatch(ctx context.Context, b []byte) error {
	h, err := batch.ParseHeader(b)
	if err != nil {
		return err
	}
	if h.LastOffset() < pt.next {
		return nil // copied before (a fetch starts at a batch boundary)
	}
	defer func() { pt.lastEpoch = h.PartitionLeaderEpoch }()
	pt.activateAborts(h.BaseOffset)
	switch {
	case h.Control():
		// A transaction marker ends its producer's transaction; its
		// offset becomes filler.
		delete(pt.aborted, h.ProducerID)
		pt.fillTo(h.LastOffset() + 1)
		return nil
	case h.Transactional() && pt.aborted[h.ProducerID]:
		pt.fillTo(h.LastOffset() + 1)
		return nil
	}
	runs, err := batch.SplitRuns(nil, b, pt.next)
	if err != nil {
		return err
	}
	for _, r := range runs {
		rh, err := batch.ParseHeader(r)
		if err != nil {
			return err
		}
		pt.fillTo(rh.BaseOffset)
		if err := pt.produce(ctx, r, rh); err != nil {
			return err
		}
	}
	// Compaction can leave a batch's last offsets without a record.
	pt.fillTo(h.LastOffset() + 1)
	return nil
}

// activateAborts marks producers whose aborted transaction starts at or
// before offset.
func (pt *partition) activateAborts(offset int64) {
	keep := pt.pendingAborts[:0]
	for _, a := range pt.pendingAborts {
		if a.FirstOffset <= offset {
			pt.aborted[a.ProducerID] = true
		} else {
			keep = append(keep, a)
		}
	}
	pt.pendingAborts = keep
}

// produce writes one contiguous source batch as the engine's idempotent
// producer, pipelined: up to partlog.MaxInflight batches are in flight, and
// each is checked to have landed at the source's offset as it is answered.
func (pt *partition) produce(ctx context.Context, b []byte, h batch.Header) error {
	if err := pt.flush(ctx); err != nil {
		return err
	}
	if h.BaseOffset != pt.sent {
		return fmt.Errorf("batch at %d is not at the mirror's log end %d", h.BaseOffset, pt.sent)
	}
	if err := pt.ackUntil(ctx, partlog.MaxInflight-1, true); err != nil {
		return err
	}
	// b is the engine's own copy (a fetch response's buffer or a run
	// SplitRuns encoded), so it is rewritten in place.
	if err := batch.Rewrite(b, pt.producerID, pt.epoch, pt.seq); err != nil {
		return err
	}
	e := pt.e
	res := e.out.ProduceAsync(ctx, e.cfg.DestinationTopic, pt.p, pt.refresh, nil, b)
	pt.refresh = false
	pt.inflight = append(pt.inflight, inflight{run: b, h: h, producerID: pt.producerID, epoch: pt.epoch, seq: pt.seq, res: res})
	pt.seq = batch.AddSequence(pt.seq, h.NumRecords)
	pt.sent = h.LastOffset() + 1
	return nil
}

// inflight is a copied batch whose Produce is not answered yet.
type inflight struct {
	run        []byte // the source batch
	h          batch.Header
	producerID int64
	epoch      int16
	seq        int32
	res        <-chan partlog.ProduceResult
}

// ackUntil takes the answers of the oldest batches in flight until at most
// n are left; with wait false it takes only those already answered.
func (pt *partition) ackUntil(ctx context.Context, n int, wait bool) error {
	for len(pt.inflight) > n {
		f := pt.inflight[0]
		var r partlog.ProduceResult
		if wait {
			select {
			case r = <-f.res:
			case <-ctx.Done():
				return ctx.Err()
			}
		} else {
			select {
			case r = <-f.res:
			default:
				return nil
			}
		}
		err := r.Err
		if err == nil {
			err = kerr.ErrorForCode(r.Partition.ErrorCode)
		}
		if err != nil {
			return pt.resend(ctx, err)
		}
		if err := pt.landed(f.h, r.Partition.BaseOffset); err != nil {
			return err
		}
		pt.inflight = pt.inflight[1:]
	}
	return nil
}

// landed records that the batch with header h was written at offset.
func (pt *partition) landed(h batch.Header, offset int64) error {
	if offset != h.BaseOffset {
		return fmt.Errorf("DIVERGED: batch for source offset %d landed at %d: something else writes to the mirror topic", h.BaseOffset, offset)
	}
	pt.end = h.LastOffset() + 1
	pt.e.setNext(pt.p, pt.end)
	return nil
}

// resend recovers from the failed answer to the oldest batch in flight: the
// ones after it fail too or land as well (then the broker recognises them
// as duplicates), so once all are answered they are sent again one at a
// time, from the failed one on, with the producer state it had.
func (pt *partition) resend(ctx context.Context, cause error) error {
	for _, f := range pt.inflight[1:] {
		select {
		case <-f.res:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	pending := pt.inflight
	pt.inflight = nil
	first := pending[0]
	if !retriable(cause) && !errors.Is(cause, kerr.UnknownProducerID) {
		return fmt.Errorf("producing source offset %d to the mirror: %w", first.h.BaseOffset, cause)
	}
	pt.e.log.Debug("sending batches in flight again", "partition", pt.p, "from", first.h.BaseOffset, "batches", len(pending), "error", cause)
	pt.producerID, pt.epoch, pt.seq = first.producerID, first.epoch, first.seq
	pt.refresh = true
	for _, f := range pending {
		if err := pt.produceSync(ctx, f.run, f.h); err != nil {
			return err
		}
	}
	return nil
}

// retriable tells errors that sending again may cure. Kafka calls
// CORRUPT_MESSAGE retriable, for a producer whose batch was damaged on the
// way; a copied batch carries its source's CRC (batch.Rewrite), so the same
// bytes would fail again: the partition stops and a restart fetches anew.
func retriable(err error) bool {
	if errors.Is(err, kerr.CorruptMessage) {
		return false
	}
	return kerr.IsRetriable(err) || errors.Is(err, kerr.NotLeaderForPartition) || partlog.IsConnectionError(err)
}

// produceSync sends one batch and waits for its answer, retrying.
func (pt *partition) produceSync(ctx context.Context, b []byte, h batch.Header) error {
	e := pt.e
	if err := batch.Rewrite(b, pt.producerID, pt.epoch, pt.seq); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		rp, perr := e.out.Produce(ctx, e.cfg.DestinationTopic, pt.p, pt.refresh, nil, b)
		pt.refresh = false
		if perr == nil {
			perr = kerr.ErrorForCode(rp.ErrorCode)
		}
		switch {
		case perr == nil:
			if err := pt.landed(h, rp.BaseOffset); err != nil {
				return err
			}
			pt.seq = batch.AddSequence(pt.seq, h.NumRecords)
			pt.sent = pt.end
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(perr, kerr.UnknownProducerID) && attempt == 0:
			// The broker no longer knows the resumed producer (its
			// state expired, which also means no predecessor's
			// request can still be in flight): start a fresh one.
			var err error
			if pt.producerID, pt.epoch, err = initProducerID(ctx, e.cfg.Destination); err != nil {
				return err
			}
			pt.seq = 0
			if err := batch.Rewrite(b, pt.producerID, pt.epoch, pt.seq); err != nil {
				return err
			}
		case retriable(perr):
			pt.refresh = true
			if err := sleep(ctx, min(time.Duration(attempt+1)*50*time.Millisecond, time.Second)); err != nil {
				return err
			}
		default:
			return fmt.Errorf("producing source offset %d to the mirror: %w", h.BaseOffset, perr)
		}
	}
}

// fillTo marks the source offsets up to offset as filler; flush writes it.
func (pt *partition) fillTo(offset int64) {
	pt.next = max(pt.next, offset)
}

// flush writes the pending filler, bringing the destination's log end to
// next. A fill is a transaction of its own producer, so the batches in
// flight must land first.
func (pt *partition) flush(ctx context.Context) error {
	n := pt.next - pt.sent
	if n <= 0 {
		return nil
	}
	if err := pt.ackUntil(ctx, 0, true); err != nil {
		return err
	}
	if err := pt.filler.Fill(ctx, pt.e.cfg.DestinationTopic, pt.p, pt.end, n); err != nil {
		return fmt.Errorf("filling offsets %d-%d: %w", pt.end, pt.next-1, err)
	}
	pt.end, pt.sent = pt.next, pt.next
	pt.e.setNext(pt.p, pt.end)
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
