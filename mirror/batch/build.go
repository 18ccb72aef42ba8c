package batch

import "math"

// AppendTransactional appends to dst an uncompressed v2 batch of n records
// (n >= 1) written in the open transaction of producer producerID at epoch,
// with base sequence firstSeq, and returns the extended slice. Every record
// has timestamp, key, an empty (not null) value and no headers. The base
// offset is 0 and the partition leader epoch -1, as producers send them:
// the broker assigns both.
func AppendTransactional(dst []byte, producerID int64, epoch int16, firstSeq, n int32, timestamp int64, key []byte) []byte {
	at := len(dst)
	dst = appendHeader(dst, Header{
		PartitionLeaderEpoch: -1,
		Magic:                2,
		Attributes:           transactionalMask, // no compression, CreateTime
		LastOffsetDelta:      n - 1,
		FirstTimestamp:       timestamp,
		MaxTimestamp:         timestamp,
		ProducerID:           producerID,
		ProducerEpoch:        epoch,
		BaseSequence:         firstSeq,
		NumRecords:           n,
	})
	r := rawRecord{tail: appendVarint(nil, int32(len(key)))}
	r.tail = append(r.tail, key...)
	r.tail = appendVarint(r.tail, 0) // value length: empty, not null
	r.tail = appendVarint(r.tail, 0) // header count
	for i := range n {
		dst = appendRecord(dst, &r, i, 0)
	}
	finishBatch(dst[at:])
	return dst
}

// AddSequence adds n to a producer sequence number, wrapping past
// math.MaxInt32 to 0 as Kafka does.
func AddSequence(seq, n int32) int32 {
	return int32((int64(seq) + int64(n)) & math.MaxInt32)
}
