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
// On restart the engine continues the idempotent producer of the engine
// before it (read back from the mirror's last data batch), so a dead
// engine's late request lands as a duplicate the broker refuses; fills are
// fenced through their transactional id. It stops a partition rather than
// write past a divergence: the mirror's last batch must equal the source's
// at that offset, and fetches carry the last fetched leader epoch
// (KIP-320).
//
// Copying is pipelined: the next fetch runs while a response is copied,
// and up to five produce requests per partition are in flight (Kafka's
// idempotence limit), written in sequence order through
// partlog.NewOrdered. A failed answer makes the partition send the batches
// in flight again, one at a time, from the failed one (the broker
// recognises duplicates by sequence).
//
// Where kfake differs from Apache Kafka, the code follows Apache Kafka:
// kfake refuses the message.timestamp.before/after.max.ms topic configs
// the engine sets on mirror topics (tests leave them out); see package
// fill for its transaction differences.
package mirror
