package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// concat joins batches into what a fetch response's Records would hold.
func concat(batches ...[]byte) []byte { return bytes.Join(batches, nil) }

// legacyMessage returns a v0/v1 message set entry, enough to be recognized.
func legacyMessage(offset int64, magic byte) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(offset))
	body := []byte{0, 0, 0, 0, magic, 0}                   // crc, magic, attributes
	body = binary.BigEndian.AppendUint32(body, 0xffffffff) // null key
	body = binary.BigEndian.AppendUint32(body, 3)          // value
	body = append(body, "abc"...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

func TestSplitFetched(t *testing.T) {
	f := getFixture(t)
	for _, c := range testCodecs {
		t.Run(c.name, func(t *testing.T) {
			want := f.batches[c.name]
			raw := concat(want...)
			got, err := Split(raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d batches, want %d", len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("batch %d differs", i)
				}
				if cap(got[i]) != len(got[i]) {
					t.Fatalf("batch %d: capacity %d reaches into the next batch", i, cap(got[i]))
				}
			}

			// Every cut of the stream drops the partial batch at its
			// end, silently, and keeps the whole ones before it.
			for k := range len(raw) + 1 {
				got, err := Split(raw[:k])
				if err != nil {
					t.Fatalf("cut at %d: %v", k, err)
				}
				whole, end := 0, 0
				for _, b := range want {
					if end+len(b) > k {
						break
					}
					end += len(b)
					whole++
				}
				if len(got) != whole {
					t.Fatalf("cut at %d: %d batches, want %d", k, len(got), whole)
				}
			}
		})
	}
}

func TestSplitErrors(t *testing.T) {
	f := getFixture(t)
	b0, b1 := f.batches["lz4"][0], f.batches["lz4"][1]

	corrupt := bytes.Clone(b1)
	corrupt[HeaderSize+3] ^= 1
	shortLen := bytes.Clone(b0)
	binary.BigEndian.PutUint32(shortLen[lengthAt:], minLength-1)
	magic3 := bytes.Clone(b0)
	magic3[magicAt] = 3
	badCodec := bytes.Clone(b0)
	badCodec[attributesAt+1] |= 7
	finishBatch(badCodec)

	tests := []struct {
		name  string
		raw   []byte
		is    error
		whole int // batches returned before the error
		check func(t *testing.T, err error)
	}{
		{name: "magic 0", raw: legacyMessage(0, 0), is: ErrOldMessageFormat},
		{name: "magic 1 after v2", raw: concat(b0, legacyMessage(1, 1)), is: ErrOldMessageFormat, whole: 1},
		{name: "unknown magic", raw: magic3, is: ErrMalformed},
		{name: "length below header", raw: shortLen, is: ErrMalformed},
		{name: "unknown codec", raw: badCodec, is: ErrMalformed},
		// CRCs are the destination's to check (Rewrite carries them).
		{name: "bad crc passed on", raw: concat(b0, corrupt), whole: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.raw)
			if !errors.Is(err, tt.is) {
				t.Fatalf("error %v, want %v", err, tt.is)
			}
			if len(got) != tt.whole {
				t.Fatalf("%d batches before the error, want %d", len(got), tt.whole)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
		})
	}
}

func TestSplitEmpty(t *testing.T) {
	for _, raw := range [][]byte{nil, {}, make([]byte, magicAt)} {
		got, err := Split(raw)
		if err != nil || len(got) != 0 {
			t.Fatalf("Split(%d bytes) = %d batches, %v", len(raw), len(got), err)
		}
	}
}
