package rewrite

import (
	"errors"
	"testing"
)

func FuzzResponse(f *testing.F) {
	for _, r := range validResponses() {
		f.Add(r.Key(), r.GetVersion(), encode(r))
	}
	f.Add(apiVersionsKey, int16(3), encode(apiVersionsResp(3, 0, apiKey{produceKey, 0, 12})))
	f.Add(int16(55), int16(0), []byte{0, 0})
	f.Add(findCoordinatorKey, int16(6), hugeTagCount)
	f.Fuzz(func(t *testing.T, key, version int16, body []byte) {
		out, _, err := Response(key, version, body, testEndpoints, nil)
		if KnownVersion(key, version) {
			checkScan(t, key, version, body)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if !NeedsRewrite(key, version) {
			if !sameSlice(out, body) {
				t.Fatal("a response without endpoints was changed")
			}
			return
		}
		checkListenerOnly(t, key, version, out, testEndpoints)
		// Rewriting is idempotent: the output holds only listener
		// endpoints, so a second pass has nothing to change.
		again, _, err := Response(key, version, out, testEndpoints, nil)
		if err != nil {
			t.Fatalf("rewritten output fails a second pass: %v", err)
		}
		if !sameSlice(again, out) {
			t.Fatal("second pass changed the output")
		}
	})
}

func FuzzClampApiVersions(f *testing.F) {
	for _, v := range versions(0, maxVersion(apiVersionsKey)) {
		f.Add(v, encode(apiVersionsResp(v, 0, apiKey{produceKey, 3, 12}, apiKey{metadataKey, 0, 13}, apiKey{55, 0, 2}, apiKey{1000, 0, 1})))
		f.Add(v, encode(apiVersionsResp(0, unsupportedVersion, apiKey{apiVersionsKey, 0, 9})))
	}
	f.Fuzz(func(t *testing.T, version int16, body []byte) {
		out, err := ClampApiVersions(version, body, testAllowed, nil)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		checkClamped(t, version, out, testAllowed)
	})
}
