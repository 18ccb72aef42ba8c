package proxy

import (
	"slices"
	"testing"

	"github.com/linkproxy/linkproxy/proxy/rewrite"
)

func TestBrokersObserve(t *testing.T) {
	b := newBrokers([]string{"seed:9092"})
	if got := b.bootstrapAddrs(); !slices.Equal(got, []string{"seed:9092"}) {
		t.Fatalf("no brokers known: %v", got)
	}
	steps := []struct {
		seen  []rewrite.Broker
		added []int32
	}{
		{[]rewrite.Broker{{NodeID: 1, Host: "10.0.0.1", Port: 9092}, {NodeID: 2, Host: "10.0.0.2", Port: 9092}}, []int32{1, 2}},
		{[]rewrite.Broker{{NodeID: 1, Host: "10.0.0.1", Port: 9092}}, nil},       // known, unchanged
		{[]rewrite.Broker{{NodeID: 2, Host: "10.0.0.9", Port: 9093}}, nil},       // moved: updated, not new
		{[]rewrite.Broker{{NodeID: 3, Host: "fd00::1", Port: 9092}}, []int32{3}}, // joined
	}
	for i, s := range steps {
		if got := b.observe(s.seen); !slices.Equal(got, s.added) {
			t.Errorf("step %d: added %v, want %v", i, got, s.added)
		}
	}
	for node, want := range map[int32]string{1: "10.0.0.1:9092", 2: "10.0.0.9:9093", 3: "[fd00::1]:9092"} {
		if got, ok := b.addr(node); !ok || got != want {
			t.Errorf("node %d at %q, want %q", node, got, want)
		}
	}
	if _, ok := b.addr(4); ok {
		t.Error("unknown node has an address")
	}
	// Bootstrap connections try every known broker, rotating, then seeds.
	first := b.bootstrapAddrs()
	second := b.bootstrapAddrs()
	if len(first) != 4 || first[3] != "seed:9092" || first[0] == second[0] {
		t.Errorf("bootstrap order %v then %v", first, second)
	}
}

func TestAPIsTable(t *testing.T) {
	a := newAPIs([]int16{1000})
	tests := []struct {
		key    int16
		ok     bool
		opaque bool
	}{
		{0, true, false},   // Produce
		{3, true, false},   // Metadata
		{55, false, false}, // DescribeQuorum: controller endpoints
		{4, false, false},  // LeaderAndIsr: inter-broker
		{999, false, false},
		{1000, true, true}, // vendor passthrough
		{-1, false, false},
	}
	for _, tt := range tests {
		_, ok := a.max(tt.key)
		if ok != tt.ok || (tt.key >= 0 && a.opaque[tt.key] != tt.opaque) {
			t.Errorf("key %d: ok=%v opaque=%v", tt.key, ok, tt.key >= 0 && a.opaque[tt.key])
		}
	}
	if v, _ := a.max(3); v < 12 {
		t.Errorf("Metadata max v%d", v)
	}
}
