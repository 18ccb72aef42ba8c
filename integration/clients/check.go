package clients

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// CodecSpy records the compression codec of every record batch produced to
// a kfake cluster, so a test can check that a client really compressed.
type CodecSpy struct {
	mu   sync.Mutex
	seen map[int8]int
}

var codecByAttr = map[int8]string{0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}

func (s *CodecSpy) Observe(req kmsg.Request) (kmsg.Response, error, bool) {
	pr, ok := req.(*kmsg.ProduceRequest)
	if !ok {
		return nil, nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = make(map[int8]int)
	}
	for _, t := range pr.Topics {
		for _, p := range t.Partitions {
			// RecordBatch v2: baseOffset(8) length(4) leaderEpoch(4)
			// magic(1) crc(4) attributes(2) ...; length counts from
			// leaderEpoch on.
			b := p.Records
			for len(b) >= 23 {
				n := 12 + int(int32(binary.BigEndian.Uint32(b[8:12])))
				attrs := int16(binary.BigEndian.Uint16(b[21:23]))
				s.seen[int8(attrs&0x7)]++
				if n <= 12 || n > len(b) {
					break
				}
				b = b[n:]
			}
		}
	}
	return nil, nil, false // observe only: kfake handles the request
}

// Take returns the codecs seen since the last call and resets.
func (s *CodecSpy) Take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for a := range s.seen {
		out = append(out, codecByAttr[a])
	}
	s.seen = nil
	slices.Sort(out)
	return out
}

// UncompressedByClient lists codecs that a client accepts but sends
// uncompressed to kfake.
//
// kcat: librdkafka < 2.10 (Debian 12 ships 2.0.2) enables gzip, snappy and
// lz4 only if the broker's ApiVersions range for Produce (and, for lz4,
// FindCoordinator) includes version 0. kfake, like Kafka 4.0 (KIP-896),
// serves Produce from v3, so librdkafka logs "Broker does not support
// compression type gzip: not compressing batch" and sends the batch
// uncompressed. zstd is unaffected. (librdkafka issue #4956.)
// TestKcatCompressionWithProduceV0 shows that advertising Produce v0 brings
// compression back.
var UncompressedByClient = map[string][]string{
	"kcat": {"gzip", "snappy", "lz4"},
}

// SampleRecords are six compressible records with keys, a null key and two
// header sets, for produce-then-consume checks.
func SampleRecords(codec string) []Record {
	pad := strings.Repeat(" compressible padding", 20) // so every codec actually compresses
	var recs []Record
	for i := range 3 {
		recs = append(recs, Record{
			Key:     []byte(fmt.Sprintf("key-%d", i)),
			Value:   []byte(fmt.Sprintf("%s-value-%d%s", codec, i, pad)),
			Headers: map[string]string{"set": "a", "codec": codec},
		})
	}
	for i := 3; i < 5; i++ {
		recs = append(recs, Record{
			Key:     []byte(fmt.Sprintf("key-%d", i)),
			Value:   []byte(fmt.Sprintf("%s-value-%d%s", codec, i, pad)),
			Headers: map[string]string{"set": "b"},
		})
	}
	// Null key, no headers.
	recs = append(recs, Record{Value: []byte(fmt.Sprintf("%s-value-5%s", codec, pad))})
	return recs
}

// SameRecords compares keys, values and headers, ignoring order, partition
// and offset. A nil and an empty key compare equal.
func SameRecords(t testing.TB, want, got []Record) {
	t.Helper()
	norm := func(rs []Record) []string {
		var out []string
		for _, r := range rs {
			var hs []string
			for k, v := range r.Headers {
				hs = append(hs, k+"="+v)
			}
			slices.Sort(hs)
			out = append(out, fmt.Sprintf("key=%q value=%q headers=%v", r.Key, r.Value, hs))
		}
		slices.Sort(out)
		return out
	}
	w, g := norm(want), norm(got)
	if !slices.Equal(w, g) {
		t.Errorf("records differ\nwant: %q\n got: %q", w, g)
	}
}

// CheckPositions checks that records sit at distinct valid positions.
func CheckPositions(t testing.TB, recs []Record, partitions int32) {
	t.Helper()
	seen := map[[2]int64]bool{}
	for _, r := range recs {
		if r.Partition < 0 || r.Partition >= partitions || r.Offset < 0 {
			t.Errorf("record %q at bad position %d/%d", r.Key, r.Partition, r.Offset)
		}
		k := [2]int64{int64(r.Partition), r.Offset}
		if seen[k] {
			t.Errorf("two records at partition %d offset %d", r.Partition, r.Offset)
		}
		seen[k] = true
	}
}
