package integration

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// dialRecorder is a kgo hook that records every broker address the client
// connects to, which is everything it learned from metadata.
type dialRecorder struct {
	mu    sync.Mutex
	addrs map[string]bool
}

func (d *dialRecorder) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.addrs == nil {
		d.addrs = map[string]bool{}
	}
	d.addrs[net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port)))] = true
}

// check fails the test for any dialed address that is not l's, and returns
// the node ports dialed.
func (d *dialRecorder) check(t *testing.T, l testListener) map[int32]bool {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	ports := map[int32]bool{}
	for a := range d.addrs {
		h, p, _ := net.SplitHostPort(a)
		n, _ := strconv.Atoi(p)
		if a == l.Bootstrap {
			continue
		}
		if !l.owns(h, int32(n)) {
			t.Errorf("client dialed %s, not an endpoint of %s", a, l.Name)
		}
		ports[int32(n)] = true
	}
	return ports
}

// produceAndVerify produces n records through l while during() runs, then
// consumes the topic from the start and checks every record arrived once,
// in order per partition.
func produceAndVerify(t *testing.T, l testListener, topic string, n int, during func()) *dialRecorder {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rec := new(dialRecorder)
	prod, err := kgo.NewClient(kgo.SeedBrokers(l.Bootstrap), kgo.DefaultProduceTopic(topic),
		kgo.WithHooks(rec), kgo.MetadataMinAge(50*time.Millisecond), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	done := make(chan struct{})
	go func() { defer close(done); during() }()
	for i := range n {
		wg.Add(1)
		prod.Produce(ctx, kgo.StringRecord(strconv.Itoa(i)), func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				errs <- err
			}
		})
		if i%50 == 0 {
			time.Sleep(5 * time.Millisecond) // spread the load over the changes
		}
	}
	wg.Wait()
	<-done
	close(errs)
	for err := range errs {
		t.Fatalf("produce: %v", err)
	}

	cons, err := kgo.NewClient(kgo.SeedBrokers(l.Bootstrap), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.WithHooks(rec), kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	seen := map[string]int{}
	last := map[int32]int64{}
	for len(seen) < n {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d distinct records", len(seen), n)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Logf("fetch: %v", err) })
		fs.EachRecord(func(r *kgo.Record) {
			if o, ok := last[r.Partition]; ok && r.Offset != o+1 {
				t.Errorf("partition %d: offset %d after %d", r.Partition, r.Offset, o)
			}
			last[r.Partition] = r.Offset
			seen[string(r.Value)]++
		})
	}
	for v, c := range seen {
		if c != 1 {
			t.Errorf("record %s consumed %d times", v, c)
		}
	}
	return rec
}

// TestLeaderMovesDuringTraffic moves partition leaders while a client
// produces through the proxy: the client follows the leaders through the
// proxy's broker ports and nothing is lost or duplicated.
func TestLeaderMovesDuringTraffic(t *testing.T) {
	const topic = "moving"
	e := startEnv(t, withKfake(kfake.SeedTopics(3, topic)))
	l := e.Listeners["EXTERNAL"]
	rec := produceAndVerify(t, l, topic, 3000, func() {
		for i := range 6 {
			time.Sleep(30 * time.Millisecond)
			p := int32(i % 3)
			to := (e.Cluster.LeaderFor(topic, p) + 1) % 3
			if err := e.Cluster.MoveTopicPartition(topic, p, to); err != nil {
				t.Errorf("move: %v", err)
			}
		}
	})
	if ports := rec.check(t, l); len(ports) != 3 {
		t.Errorf("client used %d broker ports, want all 3: %v", len(ports), ports)
	}
}

// TestBrokerAddedAtRuntime adds a broker to the cluster and moves a leader
// to it: the proxy gives it a port on every listener when metadata shows
// it, and clients reach exactly that broker there.
func TestBrokerAddedAtRuntime(t *testing.T) {
	const topic = "growing"
	e := startEnv(t, withKfake(kfake.SeedTopics(3, topic)))
	l := e.Listeners["INTERNAL"]
	var newNode int32
	rec := produceAndVerify(t, l, topic, 1000, func() {
		time.Sleep(50 * time.Millisecond)
		n, _, err := e.Cluster.AddNode(-1, 0)
		if err != nil {
			t.Errorf("add node: %v", err)
			return
		}
		newNode = n
		for p := range int32(3) {
			if err := e.Cluster.MoveTopicPartition(topic, p, n); err != nil {
				t.Errorf("move: %v", err)
			}
		}
	})
	ports := rec.check(t, l)
	if !ports[int32(l.PortBase)+newNode] {
		t.Errorf("client never used node %d's port %d: %v", newNode, l.PortBase+int(newNode), ports)
	}
	// The other listener serves the new broker too.
	other := e.Listeners["EXTERNAL"]
	rc := dialRaw(t, net.JoinHostPort(other.Host, fmt.Sprint(other.PortBase+int(newNode))))
	metadataWorks(t, rc)
}
