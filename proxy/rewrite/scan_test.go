package rewrite

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// scan runs the scanner of key on body. found is whether a Produce or
// Fetch body has the Brokers tag.
func scan(key, version int16, body []byte) (found bool, err error) {
	switch key {
	case produceKey:
		return scanProduce(version, body)
	case fetchKey:
		return scanFetch(version, body)
	case metadataKey:
		return false, scanMetadata(version, body)
	case findCoordinatorKey:
		return false, scanFindCoordinator(version, body)
	case describeClusterKey:
		return false, scanDescribeCluster(version, body)
	case shareFetchKey:
		return false, scanShareFetch(version, body)
	case shareAcknowledgeKey:
		return false, scanShareAcknowledge(version, body)
	case apiVersionsKey:
		return false, scanApiVersions(version, body)
	}
	return false, ErrUnsupported
}

// checkScan fails unless the scanner's verdict on body agrees with kmsg's:
// a body it accepts must decode, and a Produce or Fetch body it finds
// without the Brokers tag must have no brokers.
func checkScan(t testing.TB, key, version int16, body []byte) (found, ok bool) {
	t.Helper()
	found, err := scan(key, version, body)
	if err != nil {
		return false, false
	}
	eps, err := endpointsOf(key, version, body)
	if err != nil {
		t.Fatalf("scanner accepted a body kmsg rejects: %v", err)
	}
	if len(eps) > 0 && !found && (key == produceKey || key == fetchKey) {
		t.Fatalf("scanner missed %d brokers", len(eps))
	}
	return found, true
}

func withTags(tags *kmsg.Tags) {
	tags.Set(7, []byte{1, 2, 3})
	tags.Set(300, nil)
}

func TestScan(t *testing.T) {
	type variant struct {
		name  string
		msg   kmsg.Response
		hints bool
	}
	var vs []variant
	for _, v := range versions(12, maxVersion(fetchKey)) {
		plain := fetchResp(v, upstreamAddr)
		hints := fetchResp(v, upstreamAddr, 1)
		tagged := fetchResp(v, upstreamAddr)
		withTags(&tagged.UnknownTags)
		withTags(&tagged.Topics[0].UnknownTags)
		withTags(&tagged.Topics[0].Partitions[0].UnknownTags)
		withTags(&tagged.Topics[0].Partitions[0].AbortedTransactions[0].UnknownTags)
		nulls := fetchResp(v, upstreamAddr)
		nulls.Topics[0].Partitions[0].RecordBatches = nil
		nulls.Topics[0].Partitions[0].AbortedTransactions = nil
		empty := fetchResp(v, upstreamAddr)
		empty.Topics = nil
		vs = append(vs,
			variant{"plain", plain, false}, variant{"hints", hints, true}, variant{"unknown tags", tagged, false},
			variant{"nulls", nulls, false}, variant{"no topics", empty, false})
	}
	for _, v := range versions(9, maxVersion(produceKey)) {
		plain := produceResp(v, upstreamAddr)
		hints := produceResp(v, upstreamAddr, 1)
		tagged := produceResp(v, upstreamAddr)
		withTags(&tagged.UnknownTags)
		withTags(&tagged.Topics[0].UnknownTags)
		withTags(&tagged.Topics[0].Partitions[1].UnknownTags)
		withTags(&tagged.Topics[0].Partitions[1].ErrorRecords[0].UnknownTags)
		vs = append(vs, variant{"plain", plain, false}, variant{"hints", hints, true}, variant{"unknown tags", tagged, false})
	}
	for _, c := range vs {
		key, version := c.msg.Key(), c.msg.GetVersion()
		t.Run(fmt.Sprintf("%s/v%d/%s", kmsg.NameForKey(key), version, c.name), func(t *testing.T) {
			body := encode(c.msg)
			found, ok := checkScan(t, key, version, body)
			if !ok || found != c.hints {
				t.Fatalf("scan = (found %v, ok %v), want (%v, true)", found, ok, c.hints)
			}
			// Every truncation must be refused or agree with kmsg.
			for n := range body {
				checkScan(t, key, version, body[:n])
			}
		})
	}
}

// The scanner must refuse what kmsg refuses inside the tagged structs it
// decodes: a CurrentLeader tag too short for its two int32s.
func TestScanShortTaggedStruct(t *testing.T) {
	r := fetchResp(16, upstreamAddr)
	r.Topics[0].Partitions[0].UnknownTags.Set(1, []byte{0, 0, 0, 1, 0}) // tag 1 is CurrentLeader
	body := encode(r)
	if _, err := scanFetch(16, body); err == nil {
		t.Fatal("scanner accepted a short CurrentLeader")
	}
	if _, _, err := Response(fetchKey, 16, body, testEndpoints, nil); err == nil {
		t.Fatal("Response accepted a short CurrentLeader")
	}
}

func TestFetchNoEndpointsAllocs(t *testing.T) {
	v := maxVersion(fetchKey)
	body := encode(fetchResp(v, upstreamAddr))
	allocs := testing.AllocsPerRun(100, func() {
		out, _, err := Response(fetchKey, v, body, testEndpoints, nil)
		if err != nil || !sameSlice(out, body) {
			t.Fatal("fast path not taken")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations on the fetch fast path", allocs)
	}
}

// tagEverything sets an unknown tag on every struct of msg, so that every
// tag section of a flexible encoding has a field to skip.
func tagEverything(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			tagEverything(v.Elem())
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			tagEverything(v.Index(i))
		}
	case reflect.Struct:
		if tags, ok := v.Addr().Interface().(*kmsg.Tags); ok {
			withTags(tags)
			return
		}
		for i := range v.NumField() {
			tagEverything(v.Field(i))
		}
	}
}

// Every valid encoding of every scanned API must pass its scanner, with and
// without unknown tags, and no prefix of it may pass unless kmsg agrees.
func TestScanAllAPIs(t *testing.T) {
	var msgs []kmsg.Response
	for _, r := range validResponses() {
		msgs = append(msgs, r)
		if r.IsFlexible() {
			tagged := kmsg.ResponseForKey(r.Key())
			tagged.SetVersion(r.GetVersion())
			if err := tagged.ReadFrom(encode(r)); err != nil {
				t.Fatal(err)
			}
			tagEverything(reflect.ValueOf(tagged))
			if len(encode(tagged)) <= len(encode(r)) {
				t.Fatalf("%s v%d: no tags added", kmsg.NameForKey(r.Key()), r.GetVersion())
			}
			msgs = append(msgs, tagged)
		}
	}
	for _, v := range versions(0, maxVersion(apiVersionsKey)) {
		r := apiVersionsResp(v, 0, apiKey{produceKey, 0, 12}, apiKey{metadataKey, 0, 13})
		msgs = append(msgs, r)
		if r.IsFlexible() {
			r := apiVersionsResp(v, 0, apiKey{produceKey, 0, 12})
			tagEverything(reflect.ValueOf(r))
			msgs = append(msgs, r)
		}
	}
	for _, m := range msgs {
		key, version := m.Key(), m.GetVersion()
		body := encode(m)
		if _, err := scan(key, version, body); err != nil {
			t.Errorf("%s v%d: scanner refuses a valid body: %v", kmsg.NameForKey(key), version, err)
			continue
		}
		for n := range body {
			checkScan(t, key, version, body[:n])
		}
	}
}
