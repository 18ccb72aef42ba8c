// Package fill fills offset gaps on destination partitions with aborted
// transactions.
//
// The mirror keeps a destination partition's log end equal to the next
// source offset. Every source offset not delivered as data (a trimmed log
// start, compaction holes, transaction markers, aborted data) must still
// take one destination offset. A transaction that is aborted takes exactly
// k+1 offsets for k records: the records plus the abort marker. With k = 0
// it is AddPartitionsToTxn then EndTxn(abort): the coordinator writes a
// marker to every partition added to the transaction, data or not. Neither
// the records nor the markers are visible to read_committed consumers.
//
// Fill(from, n) checks the log end is from, then runs transactions of at
// most maxTxnRecords records (batches of at most 10000 records, ~230 KiB)
// until it has added n offsets, and waits for each abort marker through
// ListOffsets. Requests are raw kmsg requests through the caller's
// kgo.Client: kgo sends InitProducerId, AddPartitionsToTxn and EndTxn to the
// transaction coordinator and ListOffsets to the leader; Produce it would
// send to any broker, so package partlog, shared with the engine, sends it
// to the leader found with Metadata (and sends the ListOffsets too).
// Package batch encodes the filler batches.
//
// Filler records have key "linkproxy-fill" (a compacted topic rejects
// keyless records), an empty value and no headers.
//
// # Crashes and recovery
//
// A fill that stops part way (crash, cancelled context, error) leaves a
// valid, shorter fill: the transactions already ended, then possibly one
// open transaction holding the batches written so far. Whoever next calls
// InitProducerId for the id (New, or the same Filler's next Fill) aborts
// it, which appends its marker; so does the coordinator after the
// transaction timeout (1 minute). Example: Fill(from=L, n=5) stopped after
// its one batch (4 records at L..L+3) and before EndTxn leaves the log end
// at L+4 with the last stable offset held at L; New then writes the abort
// marker at L+4, log end L+5, so the fill is in fact complete. Had the
// batch not been written, New would leave log end L+1 (marker only), and
// the caller fills the remaining 4. The rule: j records written gives log
// end L+j+1. Callers compare log ends after New and after any failed Fill
// (Fill does this itself and returns ErrLogEndMoved) and continue.
//
// Fencing: New fences any older holder of the id. A Filler that sees its
// epoch rejected (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH,
// INVALID_PRODUCER_ID_MAPPING) returns ErrFenced from then on and never
// re-initializes, so two instances never fence each other back and forth.
// After other failures it re-initializes at its own producer id and epoch
// (KIP-360), which Kafka refuses with PRODUCER_FENCED if it is no longer
// the owner.
//
// # Apache Kafka semantics this package codes for
//
//   - EndTxn answers once PrepareAbort is in the transaction log; the
//     coordinator writes the markers afterwards. Fill polls ListOffsets
//     until the log end is the marker's offset + 1.
//   - Starting a transaction while the previous one is completing, or
//     InitProducerId while a predecessor's transaction is being aborted,
//     answers CONCURRENT_TRANSACTIONS: retried with backoff.
//   - InitProducerId succeeds only after the fenced transaction's markers
//     are written.
//   - Which transaction protocol applies is chosen per request version
//     (TransactionVersion.transactionVersionForEndTxn), not by the cluster's
//     transaction.version: EndTxn v5 bumps the epoch and returns it, so the
//     next transaction uses the new epoch with sequences from 0; before v5
//     the epoch stays and sequences continue across transactions. We follow
//     the response version, since kgo picks it (we cannot pin it).
//   - AddPartitionsToTxn v4+ is broker-to-broker (KIP-890); kgo sends
//     clients' at v3. We always add the partition explicitly: under KIP-890
//     part 2 a produce would add it implicitly, but a one-offset fill has no
//     produce.
//   - Sequences wrap from MaxInt32 to 0.
//
// # Where kfake differs (checked against kfake's source)
//
//   - Transactions complete synchronously: EndTxn writes the abort marker
//     before it answers, and kfake never returns CONCURRENT_TRANSACTIONS.
//     The marker wait and the CONCURRENT_TRANSACTIONS retries therefore
//     never loop in tests.
//   - InitProducerId on an id with an open transaction aborts it inline and
//     succeeds at once (Kafka: CONCURRENT_TRANSACTIONS until the markers
//     are written, then success).
//   - InitProducerId with a producer id and epoch (KIP-360) accepts any
//     epoch up to the current one; Kafka accepts only the current or the
//     previous epoch and otherwise answers PRODUCER_FENCED. Under kfake a
//     fenced Filler that was left needing re-initialization (its last Fill
//     failed for another reason) would fence the new owner back; against
//     Kafka it gets ErrFenced. The tests avoid that path.
//   - All coordinator epoch errors are PRODUCER_FENCED; Kafka answers
//     INVALID_PRODUCER_EPOCH to older request versions. Both are handled.
//   - Produce v12+ adds a partition to the transaction implicitly for any
//     transactional producer (KIP-890 part 2), whatever versions the rest
//     of the transaction used, so kfake would not catch a missing
//     AddPartitionsToTxn for data. It does write the marker for a partition
//     added without data, as Kafka does.
//   - No replication: the high watermark is the log end as soon as a write
//     is accepted; acks and the produce timeout are ignored.
//   - Sequences wrap modulo MaxInt32 (2^31-1) instead of 2^31; only a
//     producer epoch writing two billion records to one partition notices.
//   - Markers carry coordinator epoch 0.
package fill
