package integration

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/linkproxy/linkproxy/integration/clients"
)

// target describes listener l of e as the place a client scenario runs.
func (e *env) target(t *testing.T, l testListener, spy *clients.CodecSpy) clients.Target {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Upstream...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	tg := clients.Target{Bootstrap: l.Bootstrap, Allowed: []string{l.Bootstrap}, Admin: kadm.NewClient(cl), Spy: spy}
	for i := range int32(len(e.Upstream)) {
		b := clients.Broker{NodeID: i, Host: l.Host, Port: int32(l.PortBase) + i}
		tg.Brokers = append(tg.Brokers, b)
		tg.Allowed = append(tg.Allowed, b.Addr())
	}
	return tg
}

// TestClientsThroughProxy runs franz-go, Sarama, kcat (librdkafka) and
// kafkajs through the proxy: produce with every codec the client has,
// consume in a group, admin calls, and every endpoint the client dials or
// learns must be a proxy endpoint of the listener it uses.
func TestClientsThroughProxy(t *testing.T) {
	drivers := []func(testing.TB) clients.Driver{
		func(testing.TB) clients.Driver { return clients.Kgo() },
		func(testing.TB) clients.Driver { return clients.Sarama() },
		clients.Kcat,
		clients.KafkaJS,
	}
	for _, newDriver := range drivers {
		d := newDriver(t)
		t.Run(d.Name(), func(t *testing.T) {
			t.Parallel()
			topics := []string{"timeout"}
			for _, c := range clients.Codecs {
				topics = append(topics, "codec-"+c)
			}
			e := startEnv(t, withKfake(kfake.SeedTopics(3, topics...)))
			spy := new(clients.CodecSpy)
			e.Cluster.ControlKey(int16(kmsg.Produce), spy.Observe)

			clients.RunScenario(t, d, e.target(t, e.Listeners["EXTERNAL"], spy))

			// The same client on the other listener learns that
			// listener's endpoints only.
			internal := e.target(t, e.Listeners["INTERNAL"], spy)
			other := newDriver(t)
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			bs, err := other.Brokers(ctx, internal.Bootstrap)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(bs, internal.Brokers) {
				t.Errorf("INTERNAL brokers = %v, want %v", bs, internal.Brokers)
			}
			for _, b := range other.Observed() {
				if !slices.Contains(internal.Allowed, b.Addr()) {
					t.Errorf("client on INTERNAL learned %v", b)
				}
			}
		})
	}
}
