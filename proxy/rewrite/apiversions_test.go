package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

type apiKey struct{ key, min, max int16 }

func apiVersionsResp(v, errCode int16, keys ...apiKey) *kmsg.ApiVersionsResponse {
	r := kmsg.NewPtrApiVersionsResponse()
	r.Version = v
	r.ErrorCode = errCode
	r.ThrottleMillis = 7
	for _, k := range keys {
		ak := kmsg.NewApiVersionsResponseApiKey()
		ak.ApiKey, ak.MinVersion, ak.MaxVersion = k.key, k.min, k.max
		r.ApiKeys = append(r.ApiKeys, ak)
	}
	sf := kmsg.NewApiVersionsResponseSupportedFeature()
	sf.Name, sf.MinVersion, sf.MaxVersion = "metadata.version", 1, 27
	r.SupportedFeatures = append(r.SupportedFeatures, sf)
	ff := kmsg.NewApiVersionsResponseFinalizedFeature()
	ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = "metadata.version", 27, 27
	r.FinalizedFeatures = append(r.FinalizedFeatures, ff)
	r.FinalizedFeaturesEpoch = 1234
	r.ZkMigrationReady = true
	return r
}

// testAllowed is the proxy's limit with two twists: Metadata capped below
// kmsg's max, ListOffsets capped below what brokers accept.
func testAllowed(key int16) (int16, bool) {
	switch key {
	case metadataKey:
		return 12, true
	case 2:
		return 0, true
	}
	return KnownMaxVersion(key)
}

func TestClampApiVersions(t *testing.T) {
	type tc struct {
		name    string
		version int16
		body    []byte
		want    []byte // nil: body unchanged
	}
	var cases []tc
	for _, v := range versions(0, maxVersion(apiVersionsKey)) {
		cases = append(cases,
			tc{
				name:    "clamp and remove",
				version: v,
				body: encode(apiVersionsResp(v, 0,
					apiKey{produceKey, 3, 12}, // below the proxy: kept
					apiKey{metadataKey, 0, 13},
					apiKey{2, 1, 10},        // clamped below its min
					apiKey{55, 0, 2},        // excluded
					apiKey{1000, 0, 0},      // unknown to kmsg
					apiKey{fetchKey, 4, 99}, // newer broker than kmsg
				)),
				want: encode(apiVersionsResp(v, 0,
					apiKey{produceKey, 3, 12},
					apiKey{metadataKey, 0, 12},
					apiKey{fetchKey, 4, maxVersion(fetchKey)},
				)),
			},
			tc{
				name:    "nothing to clamp",
				version: v,
				body:    encode(apiVersionsResp(v, 0, apiKey{produceKey, 3, 12}, apiKey{apiVersionsKey, 0, 3})),
			},
		)
	}
	for _, v := range versions(1, maxVersion(apiVersionsKey)+2) {
		// KIP-511: a broker not knowing the request version answers
		// in v0 with UNSUPPORTED_VERSION and its ApiVersions range.
		cases = append(cases, tc{
			name:    "v0 fallback",
			version: v,
			body:    encode(apiVersionsResp(0, unsupportedVersion, apiKey{apiVersionsKey, 0, 9})),
			want:    encode(apiVersionsResp(0, unsupportedVersion, apiKey{apiVersionsKey, 0, maxVersion(apiVersionsKey)})),
		})
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("v%d/%s", c.version, c.name), func(t *testing.T) {
			out, err := ClampApiVersions(c.version, c.body, testAllowed, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.want == nil {
				if !sameSlice(out, c.body) {
					t.Fatal("body changed although nothing needed to")
				}
				return
			}
			if !bytes.Equal(out, c.want) {
				t.Fatalf("got %x\nwant %x", out, c.want)
			}
		})
	}
}

func TestClampApiVersionsMalformed(t *testing.T) {
	for _, v := range versions(0, maxVersion(apiVersionsKey)) {
		body := encode(apiVersionsResp(v, 0, apiKey{produceKey, 3, 12}, apiKey{metadataKey, 0, 13}))
		for n := range body {
			out, err := ClampApiVersions(v, body[:n], testAllowed, nil)
			if err == nil {
				// A prefix may read as a (shorter) v0 answer;
				// it must then be clamped too.
				checkClamped(t, v, out, testAllowed)
				continue
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("v%d, %d bytes: err = %v, want ErrMalformed", v, n, err)
			}
		}
	}
	// A version the proxy does not know, answered in that version.
	body := encode(apiVersionsResp(maxVersion(apiVersionsKey), 0, apiKey{produceKey, 3, 12}))
	if _, err := ClampApiVersions(maxVersion(apiVersionsKey)+1, body, testAllowed, nil); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
}

// checkClamped fails unless out, read the way a client reads it, only
// offers versions allowed permits.
func checkClamped(t testing.TB, version int16, out []byte, allowed func(int16) (int16, bool)) {
	t.Helper()
	resp, err := decodeApiVersions(version, out)
	if err != nil {
		t.Fatalf("clamped output does not decode: %v", err)
	}
	for _, k := range resp.ApiKeys {
		max, ok := allowed(k.ApiKey)
		if !ok || k.MaxVersion > max || k.MaxVersion < k.MinVersion {
			t.Fatalf("key %d offered at v%d-v%d; allowed max %d, %v", k.ApiKey, k.MinVersion, k.MaxVersion, max, ok)
		}
	}
}
