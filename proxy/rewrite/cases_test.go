package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// rewriteCase is one response as a broker sends it and as the client must
// receive it.
type rewriteCase struct {
	name     string
	upstream kmsg.Response
	// want is the response the client must get; nil means the body must
	// come back untouched (the very same slice).
	want kmsg.Response
	seen []Broker
}

func runCases(t *testing.T, ep Endpoints, cases []rewriteCase) {
	t.Helper()
	for _, c := range cases {
		key, version := c.upstream.Key(), c.upstream.GetVersion()
		t.Run(fmt.Sprintf("%s/v%d/%s", kmsg.NameForKey(key), version, c.name), func(t *testing.T) {
			body := encode(c.upstream)
			out, seen, err := Response(key, version, body, ep, nil)
			if err != nil {
				t.Fatalf("Response: %v", err)
			}
			if c.want == nil {
				if !sameSlice(out, body) {
					t.Fatalf("body changed although nothing needed to")
				}
			} else if want := encode(c.want); !bytes.Equal(out, want) {
				got := kmsg.ResponseForKey(key)
				got.SetVersion(version)
				_ = got.ReadFrom(out)
				t.Fatalf("output mismatch\n got: %+v\nwant: %+v", got, c.want)
			}
			if NeedsRewrite(key, version) {
				checkListenerOnly(t, key, version, out, ep)
				assertNoUpstream(t, out)
			}
			if !reflect.DeepEqual(seen, c.seen) {
				t.Errorf("seen = %+v, want %+v", seen, c.seen)
			}
		})
	}
}

// Different dst buffers must not change the result, and the re-encoded body
// is appended to dst.
func TestResponseAppendsToDst(t *testing.T) {
	r := kmsg.NewPtrMetadataResponse()
	r.Version = 12
	b := kmsg.NewMetadataResponseBroker()
	b.NodeID, b.Host, b.Port = 1, upstreamHost, upstreamPort
	r.Brokers = append(r.Brokers, b)
	body := encode(r)

	plain, _, err := Response(3, 12, body, listener{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	prefix := []byte("frame-header")
	dst := make([]byte, len(prefix), 4096)
	copy(dst, prefix)
	out, _, err := Response(3, 12, body, listener{}, dst)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, prefix) || !bytes.Equal(out[len(prefix):], plain) {
		t.Fatalf("output not appended to dst")
	}
	if &out[0] != &dst[0] {
		t.Fatalf("dst with enough capacity was not reused")
	}
}

func TestResponseUnsupported(t *testing.T) {
	for _, c := range []struct {
		name         string
		key, version int16
	}{
		{"unknown key", 9999, 0},
		{"negative key", -1, 0},
		{"version above kmsg", 3, maxVersion(3) + 1},
		{"negative version", 3, -1},
		{"DescribeQuorum", 55, 2},
		{"UpdateRaftVoter", 82, 0},
		{"LeaderAndIsr", 4, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !NeedsRewrite(c.key, c.version) {
				t.Fatalf("NeedsRewrite(%d, %d) = false; an unexamined response could leak", c.key, c.version)
			}
			_, _, err := Response(c.key, c.version, []byte{0, 0, 0, 0}, listener{}, nil)
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("err = %v, want ErrUnsupported", err)
			}
		})
	}
}

// A body kmsg cannot decode must be an error, never a panic nor a pass.
func TestResponseMalformed(t *testing.T) {
	for _, c := range validResponses() {
		key, version := c.Key(), c.GetVersion()
		if !NeedsRewrite(key, version) {
			continue
		}
		body := encode(c)
		for _, bad := range []struct {
			name string
			body []byte
		}{
			{"empty", nil},
			{"truncated", body[:len(body)/2]},
			{"huge array", append(append([]byte{}, body[:min(len(body), 8)]...), 0xff, 0xff, 0xff, 0x7f)},
		} {
			t.Run(fmt.Sprintf("%s/v%d/%s", kmsg.NameForKey(key), version, bad.name), func(t *testing.T) {
				out, _, err := Response(key, version, bad.body, listener{}, nil)
				if err == nil {
					// A prefix can happen to be a valid shorter
					// response; then it must be a clean one.
					checkListenerOnly(t, key, version, out, listener{})
					return
				}
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
			})
		}
	}
}

// Truncating a flexible body by its last byte always removes part of the
// final tag section: an error in every case.
func TestResponseTruncatedFlexible(t *testing.T) {
	for _, c := range validResponses() {
		key, version := c.Key(), c.GetVersion()
		if !NeedsRewrite(key, version) || !c.IsFlexible() {
			continue
		}
		body := encode(c)
		_, _, err := Response(key, version, body[:len(body)-1], listener{}, nil)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s v%d: err = %v, want ErrMalformed", kmsg.NameForKey(key), version, err)
		}
	}
}

type longHost struct{}

func (longHost) Endpoint(int32) (string, int32, bool) { return strings.Repeat("h", 1<<15), 1, true }

// A host that cannot be encoded must fail loudly rather than corrupt the
// frame.
func TestResponseHostTooLong(t *testing.T) {
	body := encode(metadataResp(0, upstreamAddr, 1))
	if _, _, err := Response(metadataKey, 0, body, longHost{}, nil); err == nil {
		t.Fatal("no error for an unencodable host")
	}
}

// Response shares nothing between calls; run under -race.
func TestResponseConcurrent(t *testing.T) {
	var bodies [][]byte
	var keys, vers []int16
	for _, r := range validResponses() {
		bodies = append(bodies, encode(r))
		keys, vers = append(keys, r.Key()), append(vers, r.GetVersion())
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []byte
			for i, body := range bodies {
				out, _, err := Response(keys[i], vers[i], body, testEndpoints, dst[:0])
				if err != nil {
					t.Error(err)
					return
				}
				if !sameSlice(out, body) {
					dst = out
				}
			}
		}()
	}
	wg.Wait()
}

// hugeTagCount is a FindCoordinator v6 body whose tag section claims 2^28-1
// fields. kmsg alone would spin through all of them (seconds of CPU) after
// running out of data; the scan refuses it at once.
var hugeTagCount = []byte("\xff\xff\x00\xff\x01\xff\xff\xff\xff\x00\x00\x03\t10.0")

func TestResponseHugeTagCount(t *testing.T) {
	start := time.Now()
	_, _, err := Response(findCoordinatorKey, 6, hugeTagCount, testEndpoints, nil)
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("took %v", d)
	}
}
