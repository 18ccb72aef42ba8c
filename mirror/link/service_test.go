package link

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type testClusters struct {
	src, dst       *kfake.Cluster
	srcCl, dstCl   *kgo.Client
	srcAddrs       string
	dstOpts        []kgo.Opt
	fastLinkConfig map[string]string
	encoder        *PasswordEncoder // for the services startService starts
}

func newClusters(t *testing.T) *testClusters {
	t.Helper()
	var tc testClusters
	var err error
	for i, c := range []**kfake.Cluster{&tc.src, &tc.dst} {
		// kfake's default cluster id is the same for every cluster.
		if *c, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.ClusterID([]string{"west", "east"}[i])); err != nil {
			t.Fatal(err)
		}
		t.Cleanup((*c).Close)
	}
	tc.srcAddrs = tc.src.ListenAddrs()[0]
	tc.dstOpts = []kgo.Opt{kgo.SeedBrokers(tc.dst.ListenAddrs()...)}
	if tc.srcCl, err = kgo.NewClient(kgo.SeedBrokers(tc.src.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.srcCl.Close)
	if tc.dstCl, err = kgo.NewClient(tc.dstOpts...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.dstCl.Close)
	tc.fastLinkConfig = map[string]string{
		"bootstrap.servers":     tc.srcAddrs,
		"availability.check.ms": "200",
	}
	return &tc
}

// startService runs a Service until the test ends (or stop is called).
func startService(t *testing.T, tc *testClusters) (*Service, func()) {
	t.Helper()
	s, err := NewService(Options{
		Destination: tc.dstOpts, Reconcile: 50 * time.Millisecond,
		PasswordEncoder: tc.encoder,
		Log:             hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: testWriter{t}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Run(ctx); err != nil {
			t.Errorf("service: %v", err)
		}
	}()
	stop := func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	select {
	case <-s.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("service not ready")
	}
	return s, stop
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func produceN(t *testing.T, cl *kgo.Client, topic string, partitions int32, n int) {
	t.Helper()
	for i := range n {
		r := &kgo.Record{Topic: topic, Partition: int32(i) % partitions, Value: []byte(fmt.Sprintf("v%d", i))}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

func createTopic(t *testing.T, cl *kgo.Client, topic string, partitions int32) {
	t.Helper()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), partitions, -1, nil, topic); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or 20s pass.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
	}
	t.Fatalf("timed out waiting for %s; last: %s", what, last)
}

func statusOf(err error) int {
	var le *Error
	if errors.As(err, &le) {
		return le.Status
	}
	return 0
}

func TestServiceLinkLifecycle(t *testing.T) {
	tc := newClusters(t)
	ctx := context.Background()
	createTopic(t, tc.srcCl, "orders", 3)
	produceN(t, tc.srcCl, "orders", 3, 90)

	s, stop := startService(t, tc)
	if err := s.CreateLink(ctx, "west", "", tc.fastLinkConfig, false, true); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLink(ctx, "west", "", tc.fastLinkConfig, false, true); statusOf(err) != http.StatusConflict {
		t.Fatalf("duplicate link: %v", err)
	}
	if err := s.CreateLink(ctx, "bad", "", map[string]string{"bootstrap.servers": tc.srcAddrs, "no.such.property": "1"}, false, false); statusOf(err) != http.StatusBadRequest {
		t.Fatalf("bad config: %v", err)
	}
	self := map[string]string{"bootstrap.servers": tc.dst.ListenAddrs()[0]}
	if err := s.CreateLink(ctx, "self", "", self, false, true); statusOf(err) != http.StatusBadRequest {
		t.Fatalf("link to its own cluster: %v", err)
	}
	if _, err := s.Link(ctx, "nope"); statusOf(err) != http.StatusNotFound {
		t.Fatalf("unknown link: %v", err)
	}

	if err := s.CreateMirror(ctx, "west", CreateMirror{SourceTopic: "orders"}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMirror(ctx, "west", CreateMirror{SourceTopic: "missing"}, false); statusOf(err) != http.StatusNotFound {
		t.Fatalf("mirror of a missing source topic: %v", err)
	}
	caughtUp := func() (bool, string) {
		m, err := s.Mirror(ctx, "west", "orders")
		if err != nil {
			return false, err.Error()
		}
		var total int64
		for _, l := range m.Lags {
			total += l.Lag
		}
		return m.State == MirrorActive && len(m.Lags) == 3 && total == 0 && m.Lags[0].LastSourceFetchOffset == 30, fmt.Sprintf("%+v", m)
	}
	waitFor(t, "the mirror to catch up", caughtUp)
	l, err := s.Link(ctx, "west")
	if err != nil || l.State != StateActive || len(l.TopicNames) != 1 || l.SourceClusterID == "" {
		t.Fatalf("link %+v, %v", l, err)
	}
	if link, ok := s.MirrorLink("orders"); !ok || link != "west" {
		t.Fatalf("MirrorLink(orders) = %q, %v", link, ok)
	}

	// Pause: new records are not copied; resume: they are.
	res, err := s.AlterMirrors(ctx, "west", OpPause, []string{"orders"}, false)
	if err != nil || res[0].Err != nil {
		t.Fatalf("pause: %v %+v", err, res)
	}
	produceN(t, tc.srcCl, "orders", 3, 30)
	time.Sleep(300 * time.Millisecond)
	if m, _ := s.Mirror(ctx, "west", "orders"); m.State != MirrorPaused || m.Lags[0].Lag != 10 {
		t.Fatalf("paused mirror %+v", m)
	}
	if err := s.DeleteLink(ctx, "west", false, false); statusOf(err) != http.StatusConflict {
		t.Fatalf("delete of a link with active mirrors: %v", err)
	}
	if res, _ := s.AlterMirrors(ctx, "west", OpResume, []string{"orders"}, false); res[0].Err != nil {
		t.Fatalf("resume: %+v", res[0].Err)
	}
	waitFor(t, "the resumed mirror to catch up", func() (bool, string) {
		m, _ := s.Mirror(ctx, "west", "orders")
		return m.State == MirrorActive && m.Lags[0].LastSourceFetchOffset == 40 && m.Lags[0].Lag == 0, fmt.Sprintf("%+v", m)
	})

	// A restarted service resumes from the state topic alone.
	stop()
	produceN(t, tc.srcCl, "orders", 3, 30)
	s2, _ := startService(t, tc)
	waitFor(t, "the restarted service to copy on", func() (bool, string) {
		m, err := s2.Mirror(ctx, "west", "orders")
		return err == nil && m.State == MirrorActive && m.Lags[0].LastSourceFetchOffset == 50 && m.Lags[0].Lag == 0, fmt.Sprintf("%+v %v", m, err)
	})

	// Promote: the mirror stops and becomes writable.
	if res, _ := s2.AlterMirrors(ctx, "west", OpPromote, []string{"orders"}, false); res[0].Err != nil {
		t.Fatalf("promote: %+v", res[0].Err)
	}
	waitFor(t, "promotion", func() (bool, string) {
		m, _ := s2.Mirror(ctx, "west", "orders")
		return m.State == MirrorStopped, string(m.State)
	})
	if _, ok := s2.MirrorLink("orders"); ok {
		t.Fatal("a promoted mirror is still read-only")
	}
	if err := s2.DeleteLink(ctx, "west", false, false); err != nil {
		t.Fatalf("delete after promotion: %v", err)
	}
	if links, _ := s2.Links(ctx); len(links) != 0 {
		t.Fatalf("links after delete: %+v", links)
	}
}

func TestServicePromoteWithLag(t *testing.T) {
	tc := newClusters(t)
	ctx := context.Background()
	createTopic(t, tc.srcCl, "lagging", 1)
	produceN(t, tc.srcCl, "lagging", 1, 20)
	s, _ := startService(t, tc)
	if err := s.CreateLink(ctx, "west", "", tc.fastLinkConfig, false, true); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMirror(ctx, "west", CreateMirror{SourceTopic: "lagging"}, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "copy", func() (bool, string) {
		m, _ := s.Mirror(ctx, "west", "lagging")
		return len(m.Lags) == 1 && m.Lags[0].LastSourceFetchOffset == 20, fmt.Sprintf("%+v", m)
	})
	if res, _ := s.AlterMirrors(ctx, "west", OpPause, []string{"lagging"}, false); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	produceN(t, tc.srcCl, "lagging", 1, 5)
	waitFor(t, "lag", func() (bool, string) {
		m, _ := s.Mirror(ctx, "west", "lagging")
		return len(m.Lags) == 1 && m.Lags[0].Lag == 5, fmt.Sprintf("%+v", m)
	})
	res, err := s.AlterMirrors(ctx, "west", OpPromote, []string{"lagging"}, true)
	if err != nil || res[0].Err == nil || res[0].Err.Status != http.StatusConflict {
		t.Fatalf("promote of a paused mirror: %v %+v", err, res)
	}
	// Failover stops at once, lag or not.
	if res, _ := s.AlterMirrors(ctx, "west", OpFailover, []string{"lagging"}, false); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	if m, _ := s.Mirror(ctx, "west", "lagging"); m.State != MirrorStopped || m.Lags[0].LastSourceFetchOffset != 20 {
		t.Fatalf("failed over mirror %+v", m)
	}
}

// TestServiceRequestContext: links and engines started on behalf of a
// request outlive the request.
func TestServiceRequestContext(t *testing.T) {
	tc := newClusters(t)
	createTopic(t, tc.srcCl, "short", 1)
	s, _ := startService(t, tc)
	rctx, cancel := context.WithCancel(context.Background())
	if err := s.CreateLink(rctx, "west", "", tc.fastLinkConfig, false, true); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMirror(rctx, "west", CreateMirror{SourceTopic: "short"}, false); err != nil {
		t.Fatal(err)
	}
	cancel()
	var run *mirrorRun
	waitFor(t, "the group to assign the mirror's partition", func() (bool, string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		run = s.mirrors[mirrorKey("west", "short")]
		return run != nil, "no engine"
	})
	time.Sleep(300 * time.Millisecond) // several reconciles
	s.mu.Lock()
	same := s.mirrors[mirrorKey("west", "short")] == run
	s.mu.Unlock()
	if !same || run.exited() {
		t.Fatal("the engine stopped with the request's context")
	}
	s.mu.Lock()
	lr := s.links["west"]
	s.mu.Unlock()
	select {
	case <-lr.done:
		t.Fatal("the link's loops stopped with the request's context")
	default:
	}
}

// TestServiceConfigSync: synced configs follow the source; others and the
// engine's own do not.
func TestServiceConfigSync(t *testing.T) {
	tc := newClusters(t)
	ctx := context.Background()
	createTopic(t, tc.srcCl, "configured", 1)
	s, _ := startService(t, tc)
	cfg := map[string]string{
		"bootstrap.servers":         tc.srcAddrs,
		"topic.config.sync.ms":      "100",
		"topic.config.sync.include": "retention.ms,compression.type",
	}
	if err := s.CreateLink(ctx, "west", "", cfg, false, true); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMirror(ctx, "west", CreateMirror{SourceTopic: "configured"}, false); err != nil {
		t.Fatal(err)
	}
	alter := func(op kadm.IncrementalOp, name, value string) {
		t.Helper()
		ac := kadm.AlterConfig{Op: op, Name: name}
		if op == kadm.SetConfig {
			ac.Value = &value
		}
		resps, err := kadm.NewClient(tc.srcCl).AlterTopicConfigs(ctx, []kadm.AlterConfig{ac}, "configured")
		if err == nil {
			err = resps[0].Err
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	mirrorConfigs := func() map[string]configValue {
		c, err := describeTopicConfigs(ctx, kadm.NewClient(tc.dstCl), "configured")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	alter(kadm.SetConfig, "max.message.bytes", "123456")
	alter(kadm.SetConfig, "retention.ms", "3600000")
	alter(kadm.SetConfig, "compression.type", "gzip")
	alter(kadm.SetConfig, "segment.bytes", "1048576")
	waitFor(t, "configs synced", func() (bool, string) {
		c := mirrorConfigs()
		return c["max.message.bytes"].value() == "123456" && c["retention.ms"].value() == "3600000", fmt.Sprintf("%+v", c)
	})
	c := mirrorConfigs()
	if c["compression.type"].value() != "producer" {
		t.Errorf("compression.type %q on the mirror: the engine's own config was synced", c["compression.type"].value())
	}
	if c["segment.bytes"].value() == "1048576" {
		t.Error("segment.bytes was synced without being included")
	}
	alter(kadm.DeleteConfig, "retention.ms", "")
	waitFor(t, "a source default to remove the mirror's override", func() (bool, string) {
		rc := mirrorConfigs()["retention.ms"]
		return rc.Source != int8(kmsg.ConfigSourceDynamicTopicConfig), fmt.Sprintf("%+v", rc)
	})
}

// TestServiceSourceTopicDeleted: a source topic gone for longer than
// cluster.link.retry.timeout.ms fails its mirror with
// SOURCE_TOPIC_MAY_BE_DELETED; the mirror keeps what it copied.
func TestServiceSourceTopicDeleted(t *testing.T) {
	tc := newClusters(t)
	ctx := context.Background()
	createTopic(t, tc.srcCl, "doomed", 2)
	produceN(t, tc.srcCl, "doomed", 2, 10)
	s, _ := startService(t, tc)
	cfg := map[string]string{"bootstrap.servers": tc.srcAddrs, "cluster.link.retry.timeout.ms": "300"}
	if err := s.CreateLink(ctx, "west", "", cfg, false, true); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMirror(ctx, "west", CreateMirror{SourceTopic: "doomed"}, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "copy", func() (bool, string) {
		m, _ := s.Mirror(ctx, "west", "doomed")
		return len(m.Lags) == 2 && m.Lags[0].LastSourceFetchOffset == 5 && m.Lags[1].LastSourceFetchOffset == 5, fmt.Sprintf("%+v", m)
	})
	if _, err := kadm.NewClient(tc.srcCl).DeleteTopics(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the mirror to fail", func() (bool, string) {
		m, _ := s.Mirror(ctx, "west", "doomed")
		return m.State == MirrorFailed && m.Error == MirrorErrSourceTopicMayBeDeleted, fmt.Sprintf("%s %s %s", m.State, m.Error, m.ErrorMessage)
	})
	ends, err := kadm.NewClient(tc.dstCl).ListEndOffsets(ctx, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset != 5 {
			t.Errorf("mirror partition %d ends at %d, want 5", o.Partition, o.Offset)
		}
	})
}

// TestServicePartitionsAdded: partitions added to the source are added to
// the mirror, assigned through the group and copied.
func TestServicePartitionsAdded(t *testing.T) {
	tc := newClusters(t)
	ctx := context.Background()
	createTopic(t, tc.srcCl, "growing", 2)
	produceN(t, tc.srcCl, "growing", 2, 10)
	s, _ := startService(t, tc)
	if err := s.CreateLink(ctx, "west", "", tc.fastLinkConfig, false, true); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMirror(ctx, "west", CreateMirror{SourceTopic: "growing"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := kadm.NewClient(tc.srcCl).UpdatePartitions(ctx, 3, "growing"); err != nil {
		t.Fatal(err)
	}
	fresh, err := kgo.NewClient(kgo.SeedBrokers(tc.src.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	produceN(t, fresh, "growing", 3, 9) // 3 records into the new partition 2
	deadline := time.Now().Add(40 * time.Second)
	for {
		m, err := s.Mirror(ctx, "west", "growing")
		if err == nil && m.NumPartitions == 3 && m.Lags[2].LastSourceFetchOffset == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("new partition not mirrored: %+v %v", m, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
