package batch

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/snappy/xerial"
	"github.com/twmb/franz-go/pkg/kgo"
)

// compressInputs covers empty input, a tiny one, and one spanning several
// xerial blocks with both compressible and random stretches.
func compressInputs() map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 0, 200<<10)
	for len(big) < 200<<10 {
		if rng.IntN(2) == 0 {
			big = append(big, bytes.Repeat([]byte("kafka "), rng.IntN(500))...)
		} else {
			for range rng.IntN(3000) {
				big = append(big, byte(rng.Uint32()))
			}
		}
	}
	return map[string][]byte{"empty": {}, "tiny": []byte("x"), "big": big}
}

type codecVariant struct {
	name   string
	codec  int8
	xerial bool
}

var codecVariants = []codecVariant{
	{"none", CodecNone, false},
	{"gzip", CodecGzip, false},
	{"snappy", CodecSnappy, false},
	{"snappy-xerial", CodecSnappy, true},
	{"lz4", CodecLz4, false},
	{"zstd", CodecZstd, false},
}

func TestCompressRoundTrip(t *testing.T) {
	kgoDec := kgo.DefaultDecompressor()
	for name, in := range compressInputs() {
		for _, v := range codecVariants {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				prefix := []byte("hdr")
				out, err := compress(bytes.Clone(prefix), v.codec, v.xerial, in)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out[:3], prefix) {
					t.Fatal("prefix clobbered")
				}
				enc := out[3:]
				if v.codec == CodecSnappy && isXerial(enc) != v.xerial {
					t.Fatalf("xerial framing %v, want %v", isXerial(enc), v.xerial)
				}
				got, err := decompress(v.codec, enc)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, in) {
					t.Fatal("round trip differs")
				}
				// franz-go's decoder must read what we write. (It takes
				// a bare xerial header for a raw block; a run is never
				// empty, so we never write one.)
				if v.xerial && len(in) == 0 {
					return
				}
				ref, err := kgoDec.Decompress(enc, kgo.CompressionCodecType(v.codec))
				if err != nil {
					t.Fatalf("kgo cannot decompress our output: %v", err)
				}
				if !bytes.Equal(ref, in) {
					t.Fatal("kgo decodes our output differently")
				}
				if v.xerial {
					ref, err := xerial.Decode(enc)
					if err != nil || !bytes.Equal(ref, in) {
						t.Fatalf("klauspost xerial decoder disagrees: %v", err)
					}
				}
			})
		}
	}
}

// TestDecompressForeign reads what franz-go's compressor and klauspost's
// xerial encoder write.
func TestDecompressForeign(t *testing.T) {
	for name, in := range compressInputs() {
		for _, c := range testCodecs {
			if c.id == CodecNone {
				continue
			}
			t.Run(name+"/"+c.name, func(t *testing.T) {
				comp, err := kgo.DefaultCompressor(c.codec)
				if err != nil {
					t.Fatal(err)
				}
				enc, used := comp.Compress(new(bytes.Buffer), in)
				if used != kgo.CompressionCodecType(c.id) {
					t.Fatalf("kgo used codec %d", used)
				}
				got, err := decompress(c.id, enc)
				if err != nil || !bytes.Equal(got, in) {
					t.Fatalf("decompressing kgo output: %v", err)
				}
			})
		}
		t.Run(name+"/klauspost-xerial", func(t *testing.T) {
			enc := xerial.Encode(nil, in)
			if len(in) > 0 && !isXerial(enc) {
				t.Fatal("klauspost xerial output not recognized as xerial")
			}
			got, err := decompress(CodecSnappy, enc)
			if err != nil || !bytes.Equal(got, in) {
				t.Fatalf("decompressing klauspost xerial: %v", err)
			}
		})
	}
}

func TestDecompressLimit(t *testing.T) {
	defer func(old int) { maxDecompressed = old }(maxDecompressed)
	in := bytes.Repeat([]byte{'z'}, 100<<10)
	encoded := map[string][]byte{}
	for _, v := range codecVariants[1:] {
		enc, err := compress(nil, v.codec, v.xerial, in)
		if err != nil {
			t.Fatal(err)
		}
		encoded[v.name] = enc
	}
	maxDecompressed = 64 << 10
	for _, v := range codecVariants[1:] {
		t.Run(v.name, func(t *testing.T) {
			if _, err := decompress(v.codec, encoded[v.name]); !errors.Is(err, errTooLarge) {
				t.Fatalf("error %v, want errTooLarge", err)
			}
		})
	}
}

func TestDecompressGarbage(t *testing.T) {
	inputs := [][]byte{
		nil,
		[]byte("definitely not compressed"),
		append(bytes.Clone(xerialMagic), 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 1),          // block past the end
		append(bytes.Clone(xerialMagic), 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff), // negative block
		append(bytes.Clone(xerialMagic), 0, 0, 0, 1, 0, 0, 0, 1, 0, 0),                   // cut length
		{0xff, 0xff, 0xff, 0xff, 0x0f},                                                   // snappy claiming 4 GiB
	}
	for _, v := range codecVariants[1:] {
		for i, in := range inputs {
			if _, err := decompress(v.codec, in); err == nil && len(in) > 0 {
				// An empty or garbage stream decoding to nothing is
				// fine only if it is empty; everything here is not.
				t.Errorf("%s input %d: no error", v.name, i)
			}
		}
	}
	if _, err := decompress(7, []byte{1}); err == nil {
		t.Fatal("codec 7 accepted")
	}
}

// TestLz4BlockSize pins the 64 KiB block size the Java producer uses,
// including for pooled writers after Reset.
func TestLz4BlockSize(t *testing.T) {
	for range 3 {
		out, err := compress(nil, CodecLz4, false, []byte("some records"))
		if err != nil {
			t.Fatal(err)
		}
		if len(out) < 6 || out[5] != 0x40 {
			t.Fatalf("lz4 frame descriptor BD %#x, want 0x40 (64 KiB blocks)", out[5])
		}
	}
}
