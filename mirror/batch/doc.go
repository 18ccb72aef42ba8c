// Package batch reads and rewrites Kafka v2 record batches (magic 2) for the
// mirror engine, which copies each source batch onto the destination as one
// Produce batch without touching its record payload.
//
// The common path never decompresses anything: [Split] cuts a fetch
// response's Records bytes into whole, CRC-checked batches and [Rewrite]
// replaces only the producer fields the destination's idempotence checks
// look at, recomputing the CRC. Only a batch with holes left by compaction
// is decoded: Produce makes the destination assign consecutive offsets to
// the records of a batch, so a holed batch would shift every later offset.
// [Runs] reports the contiguous offset runs of such a batch and [SplitRuns]
// re-encodes one batch per run, with the same codec and the records' bytes
// (timestamps, keys, values, headers) kept exactly, leaving the caller to
// fill the gaps between runs.
//
// [AppendTransactional] builds the filler batches of package fill and
// [AddSequence] advances a producer sequence past a batch.
//
// Returned batches alias their input where that is possible (Split,
// SplitRuns of a batch without holes); Rewrite always copies.
package batch
