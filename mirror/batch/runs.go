package batch

import (
	"fmt"
	"math"
)

// Run is a range of consecutive offsets that all hold a record of the batch.
type Run struct {
	FirstOffset int64 // absolute offset of the run's first record
	LastOffset  int64 // absolute offset of the run's last record (inclusive)
}

// Len returns how many records (and offsets) the run covers.
func (r Run) Len() int64 { return r.LastOffset - r.FirstOffset + 1 }

// span is a run as record indices [lo, hi).
type span struct{ lo, hi int }

// Runs decodes batch b (decompressing its records) and returns the
// contiguous offset runs its records cover, in order. A batch without holes
// yields one run from BaseOffset to LastOffset; an empty batch (compaction
// keeps those to retain producer state) yields none.
//
// Offsets of the batch's range [BaseOffset, LastOffset] outside every run
// are holes the caller must fill: before the first run (a leading hole),
// between runs, and after the last run when compaction removed the batch's
// last record but kept its LastOffsetDelta (a trailing hole).
func Runs(b []byte) ([]Run, error) {
	h, recs, err := decodeRecords(b)
	if err != nil {
		return nil, fmt.Errorf("finding offset runs: %w", err)
	}
	spans, err := findRuns(h, recs)
	if err != nil {
		return nil, fmt.Errorf("finding offset runs: %w", err)
	}
	if len(spans) == 0 {
		return nil, nil
	}
	runs := make([]Run, len(spans))
	for i, s := range spans {
		runs[i] = Run{
			FirstOffset: h.BaseOffset + int64(recs[s.lo].offsetDelta),
			LastOffset:  h.BaseOffset + int64(recs[s.hi-1].offsetDelta),
		}
	}
	return runs, nil
}

// findRuns groups records into runs of consecutive offset deltas. Deltas
// must increase strictly and stay within LastOffsetDelta: anything else is
// not a compacted batch but a corrupt one.
func findRuns(h Header, recs []rawRecord) ([]span, error) {
	var spans []span
	prev := int32(-1)
	for i := range recs {
		d := recs[i].offsetDelta
		switch {
		case d <= prev:
			return nil, malformed("batch at offset %d: record %d has offset delta %d after %d", h.BaseOffset, i, d, prev)
		case d > h.LastOffsetDelta:
			return nil, malformed("batch at offset %d: record %d has offset delta %d past the last offset delta %d", h.BaseOffset, i, d, h.LastOffsetDelta)
		case i > 0 && d == prev+1:
			spans[len(spans)-1].hi = i + 1
		default:
			spans = append(spans, span{i, i + 1})
		}
		prev = d
	}
	return spans, nil
}

// SplitRuns appends to dst one batch per offset run of b (see Runs) and
// returns the extended slice.
//
// A batch whose header shows no holes (NumRecords == LastOffsetDelta+1) is
// appended as is, the same bytes, without being decompressed: that is every
// batch not touched by compaction. A holed batch is decoded and each run
// re-encoded with the same codec (and, for snappy, the same framing): offset
// deltas renumbered from 0, BaseOffset set to the run's first offset (so the
// batch still names its source offsets; Rewrite zeroes it),
// LastOffsetDelta, NumRecords and BaseSequence adjusted, FirstTimestamp set to
// the run's first record's timestamp and MaxTimestamp to the largest record
// timestamp. Every record keeps its exact timestamp (its delta is taken
// against the new FirstTimestamp), attributes, key, value and headers.
// Two header values are not record derived and are kept: the delete horizon
// a cleaner stored in FirstTimestamp, and a LogAppendTime MaxTimestamp.
//
// Records at offsets below from are left out, as if compaction had removed
// them: a fetch returns the whole batch holding its offset, so the batch
// may start below the source's log start or below what was copied before.
//
// On error dst is returned unchanged.
func SplitRuns(dst [][]byte, b []byte, from int64) ([][]byte, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return dst, fmt.Errorf("splitting batch into runs: %w", err)
	}
	if !h.HasHoles() && h.BaseOffset >= from {
		return append(dst, b), nil
	}
	// The runs get CRCs of their own: the content must be sound first.
	if _, err := parseChecked(b); err != nil {
		return dst, fmt.Errorf("splitting batch into runs: %w", err)
	}
	recs, err := decodeChecked(h, b)
	if err != nil {
		return dst, fmt.Errorf("splitting batch into runs: %w", err)
	}
	spans, err := findRuns(h, recs) // validates every record's offset
	if err != nil {
		return dst, fmt.Errorf("splitting batch into runs: %w", err)
	}
	if skip := recordsBelow(h, recs, from); skip > 0 {
		recs = recs[skip:]
		spans, _ = findRuns(h, recs)
	}
	xerial := h.Codec() == CodecSnappy && isXerial(b[HeaderSize:])
	out := make([][]byte, 0, len(spans))
	var scratch []byte
	for _, s := range spans {
		var nb []byte
		if nb, scratch, err = encodeRun(h, recs[s.lo:s.hi], xerial, scratch); err != nil {
			return dst, fmt.Errorf("splitting batch at offset %d into runs: %w", h.BaseOffset, err)
		}
		out = append(out, nb)
	}
	return append(dst, out...), nil
}

// recordsBelow counts the leading records at offsets below from.
func recordsBelow(h Header, recs []rawRecord, from int64) int {
	n := 0
	for n < len(recs) && h.BaseOffset+int64(recs[n].offsetDelta) < from {
		n++
	}
	return n
}

// encodeRun builds a batch from recs, consecutive records of the batch
// headed by h. scratch is reused for the uncompressed records and returned.
func encodeRun(h Header, recs []rawRecord, xerial bool, scratch []byte) (nb, _ []byte, err error) {
	first := recs[0].offsetDelta
	nh := h
	nh.BaseOffset = h.BaseOffset + int64(first)
	nh.LastOffsetDelta = int32(len(recs) - 1)
	nh.NumRecords = int32(len(recs))
	if h.BaseSequence >= 0 {
		nh.BaseSequence = AddSequence(h.BaseSequence, first)
	}
	// A record's timestamp is the batch's FirstTimestamp plus its delta,
	// also under a delete horizon (the cleaner encodes deltas against
	// it), so a kept horizon keeps the deltas too.
	if !h.DeleteHorizon() {
		nh.FirstTimestamp = h.FirstTimestamp + recs[0].tsDelta
	}
	if !h.LogAppendTime() {
		nh.MaxTimestamp = math.MinInt64
		for i := range recs {
			nh.MaxTimestamp = max(nh.MaxTimestamp, h.FirstTimestamp+recs[i].tsDelta)
		}
	}

	scratch = scratch[:0]
	for i := range recs {
		ts := h.FirstTimestamp + recs[i].tsDelta
		scratch = appendRecord(scratch, &recs[i], int32(i), ts-nh.FirstTimestamp)
	}
	size := len(scratch)
	if h.Codec() != CodecNone {
		size /= 2 // a guess; compress grows nb if needed
	}
	nb = appendHeader(make([]byte, 0, HeaderSize+size), nh)
	if nb, err = compress(nb, h.Codec(), xerial, scratch); err != nil {
		return nil, scratch, fmt.Errorf("compressing run at offset %d: %w", nh.BaseOffset, err)
	}
	finishBatch(nb)
	return nb, scratch, nil
}
