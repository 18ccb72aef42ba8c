package clients

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type testCluster struct {
	*kfake.Cluster
	bootstrap string
	addrs     []string
	spy       *CodecSpy
	adm       *kadm.Client
}

// target is the cluster as a scenario target: kfake numbers its brokers
// 0..n-1 in ListenAddrs order.
func (c *testCluster) target(t *testing.T) Target {
	t.Helper()
	tg := Target{Bootstrap: c.bootstrap, Allowed: c.addrs, Admin: c.adm, Spy: c.spy}
	for i, a := range c.addrs {
		b, err := parseBroker(int32(i), a)
		if err != nil {
			t.Fatal(err)
		}
		tg.Brokers = append(tg.Brokers, b)
	}
	return tg
}

// newCluster starts a 3-broker kfake cluster with a 3-partition topic per
// codec ("codec-<name>") plus "timeout".
func newCluster(t *testing.T) *testCluster {
	t.Helper()
	topics := []string{"timeout"}
	for _, c := range Codecs {
		topics = append(topics, "codec-"+c)
	}
	c, err := kfake.NewCluster(
		kfake.NumBrokers(3),
		kfake.SeedTopics(3, topics...),
		kfake.AllowAutoTopicCreation(),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	spy := new(CodecSpy)
	c.ControlKey(int16(kmsg.Produce), spy.Observe)

	addrs := c.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &testCluster{Cluster: c, bootstrap: strings.Join(addrs, ","), addrs: addrs, spy: spy, adm: kadm.NewClient(cl)}
}

func TestDrivers(t *testing.T) {
	for _, d := range All(t) {
		t.Run(d.Name(), func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			defer func() { t.Logf("%s: %v", d.Name(), time.Since(start).Round(time.Millisecond)) }()
			RunScenario(t, d, newCluster(t).target(t))
		})
	}
}

func TestBootstrapList(t *testing.T) {
	got := bootstrapList(" a:1, b:2 ,,c:3")
	if want := []string{"a:1", "b:2", "c:3"}; !slices.Equal(got, want) {
		t.Errorf("bootstrapList = %q, want %q", got, want)
	}
}

func TestObserverDedup(t *testing.T) {
	var o observer
	o.add(Broker{NodeID: -2147483648, Host: "h", Port: 1}, Broker{NodeID: 2, Host: "h", Port: 2})
	o.addAddr(-1, "h:1")
	o.addAddr(2, "h:2")
	o.addAddr(3, "bad")
	want := []Broker{{-1, "h", 1}, {2, "h", 2}}
	if got := o.Observed(); !slices.Equal(got, want) {
		t.Errorf("Observed = %v, want %v", got, want)
	}
	if s := (Broker{NodeID: 1, Host: "::1", Port: 9092}).Addr(); s != "[::1]:9092" {
		t.Errorf("Addr = %s", s)
	}
}

// advertiseOldVersions makes c's ApiVersions answers advertise min version 0
// for every key, as pre-4.0 Kafka brokers did (kfake still rejects the
// versions it does not serve).
func advertiseOldVersions(t *testing.T, c *testCluster) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	orig, err := kmsg.NewPtrApiVersionsRequest().RequestWith(t.Context(), cl)
	if err != nil {
		t.Fatal(err)
	}
	c.ControlKey(int16(kmsg.ApiVersions), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		resp := *orig
		resp.ApiKeys = slices.Clone(orig.ApiKeys)
		for i := range resp.ApiKeys {
			resp.ApiKeys[i].MinVersion = 0
		}
		resp.SetVersion(req.GetVersion())
		return &resp, nil, true
	})
}

// TestKcatCompressionWithProduceV0 documents the librdkafka quirk behind
// UncompressedByClient: once the broker advertises Produce v0, kcat
// compresses with every codec.
func TestKcatCompressionWithProduceV0(t *testing.T) {
	d := Kcat(t)
	c := newCluster(t)
	advertiseOldVersions(t, c)
	ctx, cancel := context.WithTimeout(t.Context(), 2*stepTimeout)
	defer cancel()
	for _, codec := range Codecs {
		c.spy.Take()
		recs := SampleRecords(codec)
		if err := d.Produce(ctx, c.bootstrap, "codec-"+codec, codec, recs); err != nil {
			t.Fatal(err)
		}
		if got := c.spy.Take(); !slices.Equal(got, []string{codec}) {
			t.Errorf("%s: batches arrived with codecs %v", codec, got)
		}
		got, err := d.ConsumeGroup(ctx, c.bootstrap, "codec-"+codec, "g", len(recs))
		if err != nil {
			t.Fatal(err)
		}
		SameRecords(t, recs, got)
	}
}
