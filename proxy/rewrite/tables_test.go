package rewrite

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestNeedsRewrite(t *testing.T) {
	for _, c := range []struct {
		key, version int16
		want         bool
	}{
		{produceKey, 9, false},
		{produceKey, 10, true},
		{fetchKey, 15, false},
		{fetchKey, 16, true},
		{metadataKey, 0, true},
		{metadataKey, 13, true},
		{findCoordinatorKey, 0, true},
		{findCoordinatorKey, 4, true},
		{describeClusterKey, 0, true},
		{shareFetchKey, 0, true},
		{shareAcknowledgeKey, 0, true},
		{apiVersionsKey, 3, false},
		{2, 5, false},  // ListOffsets
		{88, 0, false}, // StreamsGroupHeartbeat: user endpoints only
		// Fail closed on anything not known to be endpoint free.
		{metadataKey, 99, true},
		{metadataKey, -1, true},
		{produceKey, 99, true},
		{9999, 0, true},
		{-1, 0, true},
		{55, 0, true}, // DescribeQuorum, excluded
		{4, 0, true},  // LeaderAndIsr, excluded
	} {
		if got := NeedsRewrite(c.key, c.version); got != c.want {
			t.Errorf("NeedsRewrite(%d, %d) = %v, want %v", c.key, c.version, got, c.want)
		}
	}
}

func TestKnownMaxVersion(t *testing.T) {
	excluded := map[int16]bool{}
	for _, e := range excludedKeys {
		excluded[e.key] = true
		if kmsg.RequestForKey(e.key) == nil {
			t.Errorf("excluded key %d is unknown to kmsg; drop it from the list", e.key)
		}
	}
	for _, k := range []int16{4, 5, 6, 7, 52, 53, 54, 55, 56, 58, 59, 62, 63, 64, 67, 73, 80, 81, 82} {
		if !excluded[k] {
			t.Errorf("key %d must be excluded", k)
		}
	}
	for k := int16(-1); k < 300; k++ {
		got, ok := KnownMaxVersion(k)
		req := kmsg.RequestForKey(k)
		switch {
		case req == nil || excluded[k]:
			if ok {
				t.Errorf("KnownMaxVersion(%d) = %d, true; want false", k, got)
			}
		case !ok || got != req.MaxVersion():
			t.Errorf("KnownMaxVersion(%d) = %d, %v; want %d, true", k, got, ok, req.MaxVersion())
		}
	}
}

func TestHeaders(t *testing.T) {
	for _, c := range []struct {
		key, version int16
		req, resp    bool
	}{
		{apiVersionsKey, 2, false, false},
		{apiVersionsKey, 3, true, false}, // response header is always v0
		{metadataKey, 8, false, false},
		{metadataKey, 9, true, true},
		{produceKey, 9, true, true},
		{fetchKey, 11, false, false},
		{fetchKey, 12, true, true},
		{7, 0, false, false}, // ControlledShutdown v0: header v0 even
		{9999, 0, false, false},
		{metadataKey, 99, false, false},
		{metadataKey, -1, false, false},
	} {
		if got := FlexibleRequestHeader(c.key, c.version); got != c.req {
			t.Errorf("FlexibleRequestHeader(%d, %d) = %v, want %v", c.key, c.version, got, c.req)
		}
		if got := FlexibleResponseHeader(c.key, c.version); got != c.resp {
			t.Errorf("FlexibleResponseHeader(%d, %d) = %v, want %v", c.key, c.version, got, c.resp)
		}
	}
}

// The tables must say exactly what kmsg says, for every key and version.
func TestTablesMatchKmsg(t *testing.T) {
	for k := int16(-2); k < 300; k++ {
		req := kmsg.RequestForKey(k)
		for v := int16(-2); v < 70; v++ {
			known := req != nil && v >= 0 && v <= req.MaxVersion()
			if got := KnownVersion(k, v); got != known {
				t.Fatalf("KnownVersion(%d, %d) = %v, want %v", k, v, got, known)
			}
			flexible := false
			if known {
				req.SetVersion(v)
				flexible = req.IsFlexible()
			}
			if got := FlexibleRequestHeader(k, v); got != flexible {
				t.Fatalf("FlexibleRequestHeader(%d, %d) = %v, want %v", k, v, got, flexible)
			}
			if got := FlexibleResponseHeader(k, v); got != (flexible && k != apiVersionsKey) {
				t.Fatalf("FlexibleResponseHeader(%d, %d) = %v", k, v, got)
			}
			if !known && !NeedsRewrite(k, v) {
				t.Fatalf("NeedsRewrite(%d, %d) = false for an unknown version", k, v)
			}
		}
	}
}

func TestLookupsDoNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		for k := int16(-1); k < 100; k++ {
			for v := int16(-1); v < 20; v++ {
				_ = NeedsRewrite(k, v)
				_ = KnownVersion(k, v)
				_ = FlexibleRequestHeader(k, v)
				_ = FlexibleResponseHeader(k, v)
			}
			_, _ = KnownMaxVersion(k)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}

// endpointFreeResponses names responses that carry host/port pairs that are
// not broker addresses: Kafka Streams instances' own (interactive query)
// endpoints, which clients publish themselves.
var endpointFreeResponses = map[int16]bool{
	88: true, // StreamsGroupHeartbeat
	89: true, // StreamsGroupDescribe
}

// Every kmsg response with a Host and Port pair anywhere in it must be
// rewritten or excluded. This catches a kmsg upgrade bringing a new API
// that would otherwise pass endpoints through untouched.
func TestEveryEndpointResponseIsHandled(t *testing.T) {
	for _, k := range []int16{metadataKey, fetchKey, 55, 82} {
		if !hasEndpoint(reflect.TypeOf(kmsg.ResponseForKey(k)), map[reflect.Type]bool{}) {
			t.Fatalf("the endpoint detector misses %s", kmsg.NameForKey(k))
		}
	}
	for k := int16(0); k < scanKeys; k++ {
		resp := kmsg.ResponseForKey(k)
		if resp == nil {
			continue
		}
		if !hasEndpoint(reflect.TypeOf(resp), map[reflect.Type]bool{}) {
			continue
		}
		_, rewritten := endpointsFrom[k]
		_, usable := KnownMaxVersion(k)
		if !rewritten && usable && !endpointFreeResponses[k] {
			t.Errorf("%s response carries endpoints but is neither rewritten nor excluded", kmsg.NameForKey(k))
		}
	}
}

func hasEndpoint(t reflect.Type, visited map[reflect.Type]bool) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return hasEndpoint(t.Elem(), visited)
	case reflect.Struct:
	default:
		return false
	}
	if visited[t] {
		return false
	}
	visited[t] = true
	host, hostOK := t.FieldByName("Host")
	_, portOK := t.FieldByName("Port")
	if hostOK && portOK && host.Type.Kind() == reflect.String {
		return true
	}
	for i := range t.NumField() {
		if hasEndpoint(t.Field(i).Type, visited) {
			return true
		}
	}
	return false
}

func ExampleKnownMaxVersion() {
	for _, k := range []int16{3, 55} {
		v, ok := KnownMaxVersion(k)
		fmt.Println(kmsg.NameForKey(k), v, ok)
	}
	// Output:
	// Metadata 13 true
	// DescribeQuorum 0 false
}
