// Package mirror is the mirror engine: it makes a destination topic an
// exact copy of a source topic (same partitions, same offsets, same bytes,
// no duplicates) on a destination cluster that speaks only the public Kafka
// protocol.
//
// Produce lets the destination choose offsets (always the log end), so the
// engine keeps the destination log end equal to the next source offset:
// each source data batch is produced as one batch with only its producer
// fields rewritten (package batch), and every source offset not delivered
// as data (a trimmed log start, compaction holes, transaction markers,
// aborted transaction data) is filled by a transaction the engine aborts
// (package fill), which read_committed consumers never see. Both send raw
// Produce and Fetch requests to partition leaders through package
// mirror/internal/partlog.
//
// Status: the per-partition copy loop with fills for gaps, markers and
// aborted data. Not yet: resuming a predecessor's producer id and sequence
// (zombie fencing), divergence checks through leader epochs, pipelining,
// partitions added on the source, and the crash tests of the issue.
package mirror
