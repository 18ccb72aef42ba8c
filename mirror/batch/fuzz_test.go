package batch

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
)

// fuzzLimit keeps each fuzz execution small: a few mutated bytes can claim
// a huge decompressed size, and the production bound would make every such
// input allocate hundreds of megabytes.
const fuzzLimit = 4 << 20

func lowerDecompressLimit(f *testing.F) {
	old := maxDecompressed
	maxDecompressed = fuzzLimit
	f.Cleanup(func() { maxDecompressed = old })
}

// fuzzSeeds are real batches: every fixture batch, the fixture fetches, and
// holed variants of the largest batch of each codec.
func fuzzSeeds(f *testing.F) [][]byte {
	fx := getFixture(f)
	var seeds [][]byte
	for _, c := range testCodecs {
		seeds = append(seeds, fx.fetches[c.name]...)
		seeds = append(seeds, fx.batches[c.name]...)
	}
	seeds = append(seeds, fx.txn...)
	for _, v := range codecVariants {
		src := fx.batches[testCodecs[v.codec].name][2]
		h, _ := ParseHeader(src)
		seeds = append(seeds, holedBatch(f, src, without(int(h.NumRecords), 0, 4, 5, int(h.NumRecords)-1), holedOpts{xerial: v.xerial}))
	}
	return seeds
}

// fixCRCs sets the CRC of every batch framed in raw, so that mutations of
// the content reach the decoders instead of stopping at the CRC check.
func fixCRCs(raw []byte) []byte {
	for rest := raw; len(rest) >= HeaderSize; {
		size := int64(int32(binary.BigEndian.Uint32(rest[lengthAt:]))) + lengthOverhead
		if size < HeaderSize || size > int64(len(rest)) {
			break
		}
		binary.BigEndian.PutUint32(rest[crcAt:], checksum(rest[:size]))
		rest = rest[size:]
	}
	return raw
}

func FuzzSplit(f *testing.F) {
	lowerDecompressLimit(f)
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		exerciseSplit(t, raw)
		exerciseSplit(t, fixCRCs(bytes.Clone(raw)))
	})
}

// exerciseSplit runs everything on the batches of raw and checks what must
// hold whatever the bytes.
func exerciseSplit(t *testing.T, raw []byte) {
	// Split returns the whole batches before an error; check them too.
	batches, _ := Split(raw)
	for _, b := range batches {
		h, err := ParseHeader(b)
		if err != nil {
			t.Fatalf("Split returned a batch that does not parse: %v", err)
		}
		_, crcErr := parseChecked(b)
		out := bytes.Clone(b)
		if err := Rewrite(out, 3, 2, 1); err != nil {
			if !h.Control() {
				t.Fatalf("Rewrite refused a data batch Split accepted: %v", err)
			}
		} else if crcErr == nil {
			checkRewritten(t, b, out, 3, 2, 1)
		} else if _, err := parseChecked(out); err == nil {
			t.Fatal("Rewrite gave a corrupt batch a valid CRC")
		}
		runs, rerr := Runs(b)
		split, serr := SplitRuns(nil, b, 0)
		if rerr == nil && serr != nil {
			t.Fatalf("Runs succeeded but SplitRuns failed: %v", serr)
		}
		if serr != nil {
			continue
		}
		if !h.HasHoles() {
			if len(split) != 1 || &split[0][0] != &b[0] {
				t.Fatal("a batch without holes must come back as is")
			}
			continue
		}
		if len(split) != len(runs) {
			t.Fatalf("%d batches for %d runs", len(split), len(runs))
		}
		want, err := rawFuzzRecords(b)
		if err != nil {
			t.Fatalf("records do not decode where SplitRuns succeeded: %v", err)
		}
		var got []fuzzRecord
		for i, nb := range split {
			nh, err := parseChecked(nb)
			if err != nil || nh.HasHoles() || nh.BaseOffset != runs[i].FirstOffset || nh.LastOffset() != runs[i].LastOffset {
				t.Fatalf("run %d %+v: header %+v, %v", i, runs[i], nh, err)
			}
			recs, err := rawFuzzRecords(nb)
			if err != nil {
				t.Fatalf("run %d does not decode: %v", i, err)
			}
			got = append(got, recs...)
		}
		if (len(got) != 0 || len(want) != 0) && !reflect.DeepEqual(got, want) {
			t.Fatalf("records changed by splitting:\n got %+v\nwant %+v", got, want)
		}
		if _, err := Records(b); err != nil {
			t.Fatalf("Records failed where SplitRuns succeeded: %v", err)
		}
	}
}

// fuzzRecord is a record with its absolute offset and timestamp and the
// bytes splitting must keep: the attributes and everything from the key on.
type fuzzRecord struct {
	offset, ts int64
	attrs      byte
	tail       []byte
}

func rawFuzzRecords(b []byte) ([]fuzzRecord, error) {
	h, raws, err := decodeRecords(b)
	if err != nil {
		return nil, err
	}
	out := make([]fuzzRecord, len(raws))
	for i, r := range raws {
		out[i] = fuzzRecord{h.BaseOffset + int64(r.offsetDelta), h.FirstTimestamp + r.tsDelta, r.attrs, r.tail}
	}
	return out, nil
}

func FuzzRewrite(f *testing.F) {
	lowerDecompressLimit(f)
	fx := getFixture(f)
	for _, c := range testCodecs {
		for _, b := range fx.batches[c.name] {
			f.Add(b, int64(1), int16(0), int32(0))
		}
	}
	for _, b := range fx.txn {
		f.Add(b, int64(-1), int16(-1), int32(-1))
	}
	f.Fuzz(func(t *testing.T, b []byte, pid int64, epoch int16, seq int32) {
		for _, in := range [][]byte{b, fixCRCs(bytes.Clone(b))} {
			out := bytes.Clone(in)
			if err := Rewrite(out, pid, epoch, seq); err != nil {
				if !bytes.Equal(out, in) {
					t.Fatal("batch changed on error")
				}
				continue
			}
			if _, err := parseChecked(in); err != nil {
				if _, err := parseChecked(out); err == nil {
					t.Fatal("Rewrite gave a corrupt batch a valid CRC")
				}
				continue
			}
			checkRewritten(t, in, out, pid, epoch, seq)
		}
	})
}
