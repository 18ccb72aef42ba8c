package integration

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// mirrorSet is the link manager as the proxy sees it: topics that are
// read-only mirrors, by link.
type mirrorSet struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *mirrorSet) MirrorLink(topic string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.m[topic]
	return l, ok
}

func (s *mirrorSet) stop(topic string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, topic)
}

// readOnlyMsg reports whether msg is the guard's message for the mirror
// topic "orders" of link "west".
func readOnlyMsg(msg string) bool {
	return strings.Contains(msg, "read-only mirror topic 'orders'") && strings.Contains(msg, "cluster link 'west'")
}

func TestReadOnlyMirrorTopic(t *testing.T) {
	e := startEnv(t)
	l := e.Listeners["INTERNAL"]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cl, err := kgo.NewClient(kgo.SeedBrokers(l.Bootstrap), kgo.RecordRetries(3))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopics(ctx, 3, 1, nil, "orders", "plain", "scratch"); err != nil {
		t.Fatal(err)
	}
	topics, err := adm.ListTopics(ctx, "orders")
	if err != nil || topics.Error() != nil {
		t.Fatalf("list topics: %v %v", err, topics.Error())
	}
	ordersID := topics["orders"].ID

	mirrors := &mirrorSet{m: map[string]string{"orders": "west"}}
	e.Proxy.SetMirrorTopics(mirrors)

	// One produce call to both topics: kgo sends them in the same
	// requests, which the proxy splits.
	res := cl.ProduceSync(ctx,
		&kgo.Record{Topic: "orders", Partition: 0, Value: []byte("refused")},
		&kgo.Record{Topic: "plain", Value: []byte("accepted")},
		&kgo.Record{Topic: "orders", Value: []byte("refused too")})
	for _, r := range res {
		switch r.Record.Topic {
		case "orders":
			if !errors.Is(r.Err, kerr.InvalidRequest) {
				t.Errorf("produce to the mirror topic: %v, want INVALID_REQUEST", r.Err)
			}
		default:
			if r.Err != nil {
				t.Errorf("produce to %s: %v", r.Record.Topic, r.Err)
			}
		}
	}
	e.Logs.waitLine(t, "write to a read-only mirror topic refused", func(m map[string]any) bool {
		return m["listener"] == "INTERNAL" && m["client"] != "" && m["topic"] == "orders" && m["link"] == "west" && m["api"] == "Produce(0)"
	})

	// The error message, at versions that carry one, by name and by id.
	raw := dialRaw(t, l.Bootstrap)
	for _, v := range []int16{7, 8, 12, 13} {
		req := kmsg.NewPtrProduceRequest()
		req.Version, req.Acks, req.TimeoutMillis = v, -1, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic, rt.TopicID = "orders", ordersID
		rt.Partitions = []kmsg.ProduceRequestTopicPartition{{Partition: 1, Records: []byte("not even a batch")}}
		req.Topics = append(req.Topics, rt)
		resp := raw.must(req).(*kmsg.ProduceResponse)
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			t.Fatalf("Produce v%d response: %+v", v, resp.Topics)
		}
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != kerr.InvalidRequest.Code || p.Partition != 1 {
			t.Errorf("Produce v%d: partition %d error %d", v, p.Partition, p.ErrorCode)
		}
		if v >= 8 && (p.ErrorMessage == nil || !readOnlyMsg(*p.ErrorMessage)) {
			t.Errorf("Produce v%d: error message %v", v, p.ErrorMessage)
		}
	}

	// A request split for sure: both topics in one request to the leader
	// of plain's partition 0, which gets its record.
	topics, err = adm.ListTopics(ctx, "plain")
	if err != nil || topics.Error() != nil {
		t.Fatalf("list topics: %v %v", err, topics.Error())
	}
	plainID := topics["plain"].ID
	leader := dialRaw(t, net.JoinHostPort(l.Host, strconv.Itoa(l.PortBase+int(e.Cluster.LeaderFor("plain", 0)))))
	mixed := []int16{3, 9, 13, 12}
	for _, v := range mixed {
		junk := []byte("junk")
		if v == 12 {
			// Above the streaming threshold, with plain's name beyond
			// the head the guard looks at first.
			junk = make([]byte, 200<<10)
		}
		req := kmsg.NewPtrProduceRequest()
		req.Version, req.Acks, req.TimeoutMillis = v, -1, 5000
		for _, tp := range []struct {
			name    string
			id      [16]byte
			records []byte
		}{{"orders", ordersID, junk}, {"plain", plainID, batch()}} {
			rt := kmsg.NewProduceRequestTopic()
			rt.Topic, rt.TopicID = tp.name, tp.id
			rt.Partitions = []kmsg.ProduceRequestTopicPartition{{Partition: 0, Records: tp.records}}
			req.Topics = append(req.Topics, rt)
		}
		resp := leader.must(req).(*kmsg.ProduceResponse)
		codes := map[string]int16{}
		for _, rt := range resp.Topics {
			name := rt.Topic
			if v >= 13 {
				name = map[[16]byte]string{ordersID: "orders", plainID: "plain"}[rt.TopicID]
			}
			for _, p := range rt.Partitions {
				codes[name] = p.ErrorCode
			}
		}
		if len(codes) != 2 || codes["orders"] != kerr.InvalidRequest.Code || codes["plain"] != 0 {
			t.Errorf("mixed Produce v%d: error codes %v", v, codes)
		}
	}

	// Large produce requests, streamed when they go through untouched.
	big := make([]byte, 300<<10)
	rand.Read(big) // incompressible
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "plain", Value: big}).FirstErr(); err != nil {
		t.Fatalf("large produce to plain: %v", err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: big}).FirstErr(); !errors.Is(err, kerr.InvalidRequest) {
		t.Fatalf("large produce to the mirror topic: %v, want INVALID_REQUEST", err)
	}

	// Admin requests that change the topic.
	dr, err := adm.DeleteRecords(ctx, kadm.Offsets{"orders": {0: {Topic: "orders", Partition: 0, At: 0}}})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := dr.Lookup("orders", 0); !errors.Is(r.Err, kerr.InvalidRequest) {
		t.Errorf("DeleteRecords: %v, want INVALID_REQUEST", r.Err)
	}
	ac, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: kmsg.StringPtr("1000")}}, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if len(ac) != 1 || !errors.Is(ac[0].Err, kerr.InvalidRequest) || !readOnlyMsg(ac[0].ErrMessage) {
		t.Errorf("IncrementalAlterConfigs: %+v", ac)
	}
	ac, err = adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: kmsg.StringPtr("1000")}}, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if len(ac) != 1 || !errors.Is(ac[0].Err, kerr.InvalidRequest) || !readOnlyMsg(ac[0].ErrMessage) {
		t.Errorf("AlterConfigs: %+v", ac)
	}
	cp, err := adm.CreatePartitions(ctx, 1, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if r := cp["orders"]; !errors.Is(r.Err, kerr.InvalidRequest) || !readOnlyMsg(r.ErrMessage) {
		t.Errorf("CreatePartitions: %+v", r)
	}
	// A delete of the mirror and another topic: the other one goes.
	dt, err := adm.DeleteTopics(ctx, "orders", "scratch")
	if err != nil {
		t.Fatal(err)
	}
	if r := dt["orders"]; !errors.Is(r.Err, kerr.InvalidRequest) || !readOnlyMsg(r.ErrMessage) {
		t.Errorf("DeleteTopics orders: %+v", r)
	}
	if r := dt["scratch"]; r.Err != nil {
		t.Errorf("DeleteTopics scratch: %+v", r)
	}
	// By topic id (DeleteTopics v6), resolved through the cluster's metadata.
	dreq := kmsg.NewPtrDeleteTopicsRequest()
	dreq.Version, dreq.TimeoutMillis = 6, 5000
	dreq.Topics = []kmsg.DeleteTopicsRequestTopic{{TopicID: ordersID}}
	dresp := raw.must(dreq).(*kmsg.DeleteTopicsResponse)
	if len(dresp.Topics) != 1 || dresp.Topics[0].ErrorCode != kerr.InvalidRequest.Code || dresp.Topics[0].ErrorMessage == nil || !readOnlyMsg(*dresp.Topics[0].ErrorMessage) {
		t.Errorf("DeleteTopics v6 by id: %+v", dresp.Topics)
	}

	// acks=0 gets no response: as a broker does for a failed acks=0
	// produce, the proxy closes the connection.
	noAck, err := kgo.NewClient(kgo.SeedBrokers(l.Bootstrap), kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	if err != nil {
		t.Fatal(err)
	}
	if err := noAck.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("acks=0")}).FirstErr(); err != nil {
		t.Fatalf("acks=0 produce: %v", err)
	}
	e.Logs.waitLine(t, "connection closed", func(m map[string]any) bool {
		r, _ := m["reason"].(string)
		return strings.Contains(r, "acks=0") && readOnlyMsg(r)
	})
	noAck.Close()

	// A transaction cannot take the mirror in (AddPartitionsToTxn, or
	// Produce for KIP-890 transactions), so its abort marker cannot land
	// there either.
	// Produce v11 at most: partitions join with AddPartitionsToTxn.
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(0, 11)
	txc, err := kgo.NewClient(kgo.SeedBrokers(l.Bootstrap), kgo.TransactionalID("readonly-tx"), kgo.RecordRetries(3), kgo.MaxVersions(versions))
	if err != nil {
		t.Fatal(err)
	}
	if err := txc.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txc.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("in a transaction")}).FirstErr(); !errors.Is(err, kerr.InvalidRequest) {
		t.Errorf("transactional produce to the mirror topic: %v, want INVALID_REQUEST", err)
	}
	if err := txc.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Logf("abort: %v", err)
	}
	txc.Close()

	// Nothing reached the mirror; the other topic got its record.
	ends, err := adm.ListEndOffsets(ctx, "orders", "plain")
	if err != nil {
		t.Fatal(err)
	}
	count := func(topic string) (n int64) {
		ends.Each(func(o kadm.ListedOffset) {
			if o.Topic == topic {
				n += o.Offset
			}
		})
		return n
	}
	if n := count("orders"); n != 0 {
		t.Fatalf("%d records reached the mirror topic", n)
	}
	if n, want := count("plain"), int64(2+len(mixed)); n != want {
		t.Fatalf("%d records in plain, want %d", n, want)
	}

	// Promoted: a normal topic again, for the same client.
	mirrors.stop("orders")
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("after promotion")}).FirstErr(); err != nil {
		t.Fatalf("produce after the mirror stopped: %v", err)
	}
	ac, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: kmsg.StringPtr("86400000")}}, "orders")
	if err != nil || ac[0].Err != nil {
		t.Fatalf("IncrementalAlterConfigs after the mirror stopped: %v %+v", err, ac)
	}
	if ends, err = adm.ListEndOffsets(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if n := count("orders"); n != 1 {
		t.Fatalf("%d records in the promoted topic, want 1", n)
	}
}
