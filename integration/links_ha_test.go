package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/mirror/link"
)

// TestLinkTwoInstancesSurviveSIGKILL runs two "linkproxy serve" processes
// for the same destination cluster (east) and state topic, with the same
// link and mirror declared in their config files. The instances share the
// mirror's partitions through their consumer group; one is SIGKILLed while
// a producer keeps writing to the source (west). After the group's session
// timeout the survivor copies the dead instance's partitions too, and the
// mirror must then equal the source record for record, offset for offset.
func TestLinkTwoInstancesSurviveSIGKILL(t *testing.T) {
	const (
		topic      = "orders"
		partitions = 6
	)
	began := time.Now()
	logf := func(format string, args ...any) {
		t.Helper()
		t.Logf("%5.1fs: "+format, append([]any{time.Since(began).Seconds()}, args...)...)
	}
	linkproxyBin(t) // built before anything runs, so that its time counts for nothing
	logf("linkproxy built")
	west := newKfake(t, "west")
	east := newKfake(t, "east")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	westCl := newClient(t, west.ListenAddrs(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	eastCl := newClient(t, east.ListenAddrs())
	if _, err := kadm.NewClient(westCl).CreateTopic(ctx, partitions, -1, nil, topic); err != nil {
		t.Fatal(err)
	}

	prod := startProducer(ctx, t, westCl, topic, partitions)
	// Some data before the instances start, so that they start mid-stream.
	waitUntil(t, 10*time.Second, "the producer to get acks", func() (bool, string) {
		n := prod.count()
		return n >= 500, fmt.Sprintf("%d acked", n)
	})

	// Both instances at once, as a deployment would start them.
	var insts [2]*linkInstance
	for i := range insts {
		insts[i] = startLinkInstance(t, i, east.ListenAddrs(), west.ListenAddrs()[0], topic)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, in := range insts {
				t.Logf("instance %d stderr (tail):\n%s", i, tail(in.proc.stderr.String(), 80))
			}
		}
	})
	for _, in := range insts {
		in.rest = strings.TrimPrefix(in.proc.waitLine(t, "ready rest="), "ready rest=")
	}
	logf("both instances ready")

	// Both copy: the group splits the partitions between them (each
	// instance logs what it is assigned, at debug level), and every
	// partition then progresses on the mirror, each copied by its owner.
	all := []int32{0, 1, 2, 3, 4, 5}
	waitUntil(t, 30*time.Second, "the instances to share the mirror's partitions", func() (bool, string) {
		a, b := insts[0].owned(topic), insts[1].owned(topic)
		return len(a) > 0 && len(b) > 0 && disjoint(a, b) && slices.Equal(union(a, b), all),
			fmt.Sprintf("instance 0 owns %v, instance 1 owns %v", a, b)
	})
	shared := [2][]int32{insts[0].owned(topic), insts[1].owned(topic)}
	logf("instance 0 owns %v, instance 1 owns %v", shared[0], shared[1])
	before := endOffsets(ctx, t, eastCl, topic)
	waitUntil(t, 20*time.Second, "every mirror partition to progress", func() (bool, string) {
		now := endOffsets(ctx, t, eastCl, topic)
		for _, p := range all {
			if now[p] <= before[p] {
				return false, fmt.Sprintf("before %v, now %v", before, now)
			}
		}
		return true, ""
	})
	if a, b := insts[0].owned(topic), insts[1].owned(topic); !slices.Equal(a, shared[0]) || !slices.Equal(b, shared[1]) {
		t.Fatalf("the assignment changed while checking progress: %v %v, then %v %v", shared[0], shared[1], a, b)
	}
	// Either instance's REST API shows the mirror, its lags and state.
	for i, in := range insts {
		m := describeMirror(t, in.rest, "west", topic)
		if m.MirrorStatus != string(link.MirrorActive) || m.NumPartitions != partitions || len(m.MirrorLags) != partitions {
			t.Fatalf("instance %d REST: mirror %+v", i, m)
		}
	}

	// SIGKILL mid-copy: the producer is still writing.
	victim, survivor := insts[0], insts[1]
	victim.proc.kill()
	killed := time.Now()
	logf("both copy; instance 0 killed with %d records acked", prod.count())
	time.Sleep(2 * time.Second)
	prod.stop(t)
	srcEnds := endOffsets(ctx, t, westCl, topic)
	logf("producer stopped: %d records acked, source end offsets %v", prod.count(), srcEnds)

	// The survivor takes the dead instance's partitions after the
	// session timeout and catches up.
	waitUntil(t, 40*time.Second, "the survivor to own every partition", func() (bool, string) {
		o := survivor.owned(topic)
		return slices.Equal(o, all), fmt.Sprintf("survivor owns %v", o)
	})
	logf("survivor owns every partition, %v after the kill", time.Since(killed).Round(100*time.Millisecond))
	waitUntil(t, 30*time.Second, "the mirror to catch up", func() (bool, string) {
		dst := endOffsets(ctx, t, eastCl, topic)
		for _, p := range all {
			if dst[p] != srcEnds[p] {
				return false, fmt.Sprintf("source %v, mirror %v", srcEnds, dst)
			}
		}
		return true, ""
	})
	logf("mirror caught up, %v after the kill", time.Since(killed).Round(100*time.Millisecond))
	m := describeMirror(t, survivor.rest, "west", topic)
	var lag int64
	for _, l := range m.MirrorLags {
		lag += l.Lag
	}
	if m.MirrorStatus != string(link.MirrorActive) || len(m.MirrorLags) != partitions || lag != 0 {
		t.Errorf("survivor REST after catching up: %+v", m)
	}

	// Record for record: the acked records are the source's, and the
	// mirror holds the same records at the same offsets.
	src := readPartitions(ctx, t, west.ListenAddrs(), topic, srcEnds)
	dst := readPartitions(ctx, t, east.ListenAddrs(), topic, srcEnds)
	prod.checkSource(t, src)
	total := 0
	for _, p := range all {
		s, d := src[p], dst[p]
		total += len(d)
		if len(s) != len(d) {
			t.Errorf("partition %d: source has %d records, mirror %d", p, len(s), len(d))
		}
		for i := 0; i < min(len(s), len(d)); i++ {
			if diff := recordDiff(s[i], d[i]); diff != "" {
				t.Errorf("partition %d record %d: %s", p, i, diff)
				break
			}
		}
		if hasDuplicates(d) {
			t.Errorf("partition %d: the mirror has duplicate values", p)
		}
	}
	srcStarts, dstStarts := startOffsets(ctx, t, westCl, topic), startOffsets(ctx, t, eastCl, topic)
	for _, p := range all {
		if srcStarts[p] != dstStarts[p] {
			t.Errorf("partition %d: log start %d on the source, %d on the mirror", p, srcStarts[p], dstStarts[p])
		}
	}
	logf("%d records compared", total)
	survivor.proc.stop(t)
}

// TestLinkReconnectBackoff points a link at a source that accepts each
// connection and closes it at once, and watches when the link connects.
//
// The link must become UNAVAILABLE after
// availability.check.consecutive.failure.threshold failed checks, with
// BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR: as in Kafka's client, a connection
// that drops before it is ready is a failed connection.
//
// Between connection attempts the link's client must back off as Kafka's
// does with reconnect.backoff.ms and reconnect.backoff.max.ms: exponentially
// from the base towards the max, with ±20% jitter. The assertions are
// loose: timing on a loaded 2-core machine only ever stretches gaps, it
// never shortens them. Request retries are pinned at 100ms (see below) so
// that they cannot pass for a reconnect backoff.
func TestLinkReconnectBackoff(t *testing.T) {
	const (
		base      = 50 * time.Millisecond
		maxB      = time.Second
		threshold = 3
		observe   = 6 * time.Second
	)
	src := startClosingListener(t)
	east := newKfake(t, "east")
	svc := startLinkService(t, east.ListenAddrs())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	created := time.Now()
	err := svc.CreateLink(ctx, "west", "", map[string]string{
		"bootstrap.servers":        src.addr(),
		"reconnect.backoff.ms":     strconv.Itoa(int(base.Milliseconds())),
		"reconnect.backoff.max.ms": strconv.Itoa(int(maxB.Milliseconds())),
		// Request retries back off on their own (retry.backoff.*, 100ms
		// to 1s by default), which would stretch gaps whether or not
		// connections back off. Pinned at 100ms, only reconnect.backoff.*
		// can make the gaps grow beyond it.
		"retry.backoff.ms":                                 "100",
		"retry.backoff.max.ms":                             "100",
		"availability.check.ms":                            "100",
		"availability.check.consecutive.failure.threshold": strconv.Itoa(threshold),
	}, false, false) // validate_link=false: the source cannot be reached
	if err != nil {
		t.Fatal(err)
	}

	t.Run("state", func(t *testing.T) {
		var l link.Link
		waitUntil(t, 30*time.Second, "the link to become UNAVAILABLE", func() (bool, string) {
			var err error
			l, err = svc.Link(ctx, "west")
			if err != nil {
				return false, err.Error()
			}
			return l.State == link.StateUnavailable, fmt.Sprintf("%+v", l)
		})
		// Each check connects at least once, so fewer connections than
		// the threshold would mean the link gave up too early.
		if n := len(src.times()); n < threshold {
			t.Errorf("UNAVAILABLE after %d connections, fewer than the threshold of %d checks", n, threshold)
		}
		if l.Error != link.ErrBootstrapTCPConnectionFailed || l.ErrorMessage == "" {
			t.Errorf("link_error %s (%q), want %s with a message", l.Error, l.ErrorMessage, link.ErrBootstrapTCPConnectionFailed)
		}
		ms, err := svc.Mirrors(ctx, "west", "")
		if err != nil || len(ms) != 0 {
			t.Errorf("mirrors of the unreachable link: %+v, %v", ms, err)
		}
	})

	t.Run("backoff", func(t *testing.T) {
		if d := observe - time.Since(created); d > 0 {
			time.Sleep(d)
		}
		times := src.times()
		if len(times) < 4 {
			t.Fatalf("only %d connections in %v", len(times), time.Since(created))
		}
		gaps := make([]time.Duration, len(times)-1)
		for i := range gaps {
			gaps[i] = times[i+1].Sub(times[i])
		}
		t.Logf("%d connections in %v; gaps: %v", len(times), time.Since(created).Round(time.Millisecond), roundAll(gaps))

		// Never far below the base: Kafka's smallest wait is base*0.8;
		// allow a few for a burst at start (several client connections
		// may open at once) but not a habit of it.
		short := 0
		for _, g := range gaps {
			if g < base/2 {
				short++
			}
		}
		if short > 2 {
			t.Errorf("%d of %d gaps between connection attempts are under %v (reconnect.backoff.ms is %v): the client does not back off between attempts", short, len(gaps), base/2, base)
		}
		// Growing from about the base (the first two waits are 50ms and
		// 100ms, ±20%) ...
		for _, g := range gaps[:2] {
			if g > 400*time.Millisecond {
				t.Errorf("an early gap is %v, want under 400ms: the backoff starts at %v", g, base)
			}
		}
		// ... to about the max, and never far beyond it (a stalled
		// machine may add a little; the link default of 10s would not
		// pass).
		var longest time.Duration
		for _, g := range gaps {
			longest = max(longest, g)
			if g > 5*maxB/2 {
				t.Errorf("a gap of %v, far over reconnect.backoff.max.ms (%v)", g, maxB)
			}
		}
		if longest < maxB/2 {
			t.Errorf("the longest gap is %v, want over %v: the backoff grows towards reconnect.backoff.max.ms (%v)", longest, maxB/2, maxB)
		}
	})
}

// --- the two-instance test's helpers

func newKfake(t *testing.T, id string) *kfake.Cluster {
	t.Helper()
	// kfake's default cluster id is the same for every cluster.
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.ClusterID(id))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newClient(t *testing.T, addrs []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addrs...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// producer writes unique records to every partition and keeps the ones
// acked, by partition and offset.
type producer struct {
	cancel context.CancelFunc
	done   chan struct{}
	cl     *kgo.Client

	mu    sync.Mutex
	acked map[int32]map[int64]*kgo.Record
	n     int
	errs  []error
}

func startProducer(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, partitions int32) *producer {
	ctx, cancel := context.WithCancel(ctx)
	p := &producer{cancel: cancel, done: make(chan struct{}), cl: cl, acked: make(map[int32]map[int64]*kgo.Record)}
	go func() {
		defer close(p.done)
		for i := 0; ctx.Err() == nil; i++ {
			r := &kgo.Record{
				Topic: topic, Partition: int32(i) % partitions,
				Key:   []byte(fmt.Sprintf("k-%d", i)),
				Value: []byte(fmt.Sprintf("v-%d-%s", i, strings.Repeat("x", i%64))),
			}
			cl.Produce(context.Background(), r, p.ack)
			if i%12 == 11 {
				time.Sleep(10 * time.Millisecond) // about 1200 records a second
			}
		}
	}()
	t.Cleanup(func() { p.cancel(); <-p.done })
	return p
}

func (p *producer) ack(r *kgo.Record, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.errs = append(p.errs, err)
		return
	}
	m := p.acked[r.Partition]
	if m == nil {
		m = make(map[int64]*kgo.Record)
		p.acked[r.Partition] = m
	}
	if _, dup := m[r.Offset]; dup {
		p.errs = append(p.errs, fmt.Errorf("two records acked at partition %d offset %d", r.Partition, r.Offset))
	}
	m[r.Offset] = r
	p.n++
}

func (p *producer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// stop ends production and waits for every record's ack.
func (p *producer) stop(t *testing.T) {
	t.Helper()
	p.cancel()
	<-p.done
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.cl.Flush(ctx); err != nil {
		t.Fatalf("flushing the producer: %v", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.errs) > 0 {
		t.Fatalf("%d produce errors, first: %v", len(p.errs), p.errs[0])
	}
}

// checkSource checks that the source holds exactly the acked records.
func (p *producer) checkSource(t *testing.T, src map[int32][]*kgo.Record) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for part, rs := range src {
		acked := p.acked[part]
		if len(rs) != len(acked) {
			t.Errorf("partition %d: %d records on the source, %d acked", part, len(rs), len(acked))
		}
		for _, r := range rs {
			a, ok := acked[r.Offset]
			if !ok || string(a.Value) != string(r.Value) || string(a.Key) != string(r.Key) {
				t.Errorf("partition %d offset %d: source record %q was not acked there", part, r.Offset, r.Value)
				return
			}
		}
	}
}

// linkInstance is one "linkproxy serve" with the link declared.
type linkInstance struct {
	proc *process
	rest string // base URL
}

func startLinkInstance(t *testing.T, i int, east []string, west, topic string) *linkInstance {
	t.Helper()
	listen := freeBase(t, "127.0.0.1", 12)
	rest := freeBase(t, "127.0.0.1", 0)
	toml := fmt.Sprintf(`[cluster]
name = "east"
"bootstrap.servers" = %q

[proxy]
log_level = "debug"

[[listener]]
name = "INTERNAL"
listen = "127.0.0.1:%d"

[rest]
listeners = ["http://127.0.0.1:%d"]

[[link]]
name = "west"
"bootstrap.servers" = %q
"availability.check.ms" = 1000

[[link.mirror]]
source_topic = %q
`, strings.Join(east, ","), listen, rest, west, topic)
	path := filepath.Join(t.TempDir(), fmt.Sprintf("instance%d.toml", i))
	if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return &linkInstance{proc: startProcess(t, "serve", "--config", path)}
}

var partitionsLog = regexp.MustCompile(`mirror partitions (assigned to|revoked from) this instance: partitions="?map\[(.*)\]"?$`)

// owned replays the instance's assignment log lines: the partitions of
// topic it copies now.
func (in *linkInstance) owned(topic string) []int32 {
	set := make(map[int32]bool)
	for _, line := range strings.Split(in.proc.stderr.String(), "\n") {
		m := partitionsLog.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		// "orders:[0 1 2] other:[3]"
		for _, tp := range regexp.MustCompile(`(\S+?):\[([0-9 ]*)\]`).FindAllStringSubmatch(m[2], -1) {
			if tp[1] != topic {
				continue
			}
			for _, f := range strings.Fields(tp[2]) {
				p, _ := strconv.Atoi(f)
				set[int32(p)] = m[1] == "assigned to"
			}
		}
	}
	var out []int32
	for p, ok := range set {
		if ok {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

type restMirror struct {
	MirrorStatus  string `json:"mirror_status"`
	NumPartitions int    `json:"num_partitions"`
	MirrorLags    []struct {
		Partition             int32 `json:"partition"`
		Lag                   int64 `json:"lag"`
		LastSourceFetchOffset int64 `json:"last_source_fetch_offset"`
	} `json:"mirror_lags"`
}

// describeMirror asks an instance's REST API, through the CLI.
func describeMirror(t *testing.T, restURL, linkName, topic string) restMirror {
	t.Helper()
	out, errOut, code := runCLI(t, "mirrors", "describe", "--rest-url", restURL, "--link", linkName, "--mirror-topic", topic, "-o", "json")
	if code != 0 {
		t.Fatalf("mirrors describe: exit %d: %s", code, errOut)
	}
	var m restMirror
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("mirrors describe output %q: %v", out, err)
	}
	return m
}

func endOffsets(ctx context.Context, t *testing.T, cl *kgo.Client, topic string) map[int32]int64 {
	t.Helper()
	lo, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	return offsetMap(t, lo, err)
}

func startOffsets(ctx context.Context, t *testing.T, cl *kgo.Client, topic string) map[int32]int64 {
	t.Helper()
	lo, err := kadm.NewClient(cl).ListStartOffsets(ctx, topic)
	return offsetMap(t, lo, err)
}

func offsetMap(t *testing.T, lo kadm.ListedOffsets, err error) map[int32]int64 {
	t.Helper()
	if err == nil {
		err = lo.Error()
	}
	if err != nil {
		t.Fatalf("listing offsets: %v", err)
	}
	out := make(map[int32]int64)
	lo.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// readPartitions reads every partition of topic from its start up to
// ends, read_uncommitted: filler or markers the mirror should not have
// would show as records or as holes.
func readPartitions(ctx context.Context, t *testing.T, addrs []string, topic string, ends map[int32]int64) map[int32][]*kgo.Record {
	t.Helper()
	offsets := make(map[int32]kgo.Offset)
	for p := range ends {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	out := make(map[int32][]*kgo.Record)
	next := make(map[int32]int64)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		done := true
		for p, end := range ends {
			if next[p] < end {
				done = false
			}
		}
		if done {
			return out
		}
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s from %v: stuck at %v, want %v", topic, addrs, next, ends)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Logf("fetch partition %d: %v", p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < ends[r.Partition] {
				out[r.Partition] = append(out[r.Partition], r)
			}
			next[r.Partition] = r.Offset + 1
		})
	}
}

// recordDiff compares a mirrored record with its source record.
func recordDiff(s, d *kgo.Record) string {
	var diffs []string
	if s.Offset != d.Offset {
		diffs = append(diffs, fmt.Sprintf("offset %d on the source, %d on the mirror", s.Offset, d.Offset))
	}
	if string(s.Key) != string(d.Key) {
		diffs = append(diffs, fmt.Sprintf("key %q, mirror %q", s.Key, d.Key))
	}
	if string(s.Value) != string(d.Value) {
		diffs = append(diffs, fmt.Sprintf("value %q, mirror %q", s.Value, d.Value))
	}
	if !s.Timestamp.Equal(d.Timestamp) || s.Attrs.TimestampType() != d.Attrs.TimestampType() {
		diffs = append(diffs, fmt.Sprintf("timestamp %v (type %d), mirror %v (type %d)", s.Timestamp, s.Attrs.TimestampType(), d.Timestamp, d.Attrs.TimestampType()))
	}
	if len(s.Headers) != len(d.Headers) {
		diffs = append(diffs, fmt.Sprintf("%d headers, mirror %d", len(s.Headers), len(d.Headers)))
	}
	return strings.Join(diffs, "; ")
}

func hasDuplicates(rs []*kgo.Record) bool {
	seen := make(map[string]bool, len(rs))
	for _, r := range rs {
		if seen[string(r.Value)] {
			return true
		}
		seen[string(r.Value)] = true
	}
	return false
}

func disjoint(a, b []int32) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return false
			}
		}
	}
	return true
}

func union(a, b []int32) []int32 {
	set := make(map[int32]bool)
	for _, x := range append(append([]int32(nil), a...), b...) {
		set[x] = true
	}
	var out []int32
	for x := range set {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// waitUntil polls cond every 100ms until it holds, or fails the test with
// cond's last description.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(limit); ; time.Sleep(100 * time.Millisecond) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last: %s", limit, what, last)
		}
	}
}

// --- the reconnect test's helpers

// closingListener accepts connections and closes each at once, keeping
// the time of every accept.
type closingListener struct {
	ln net.Listener
	mu sync.Mutex
	at []time.Time
}

func startClosingListener(t *testing.T) *closingListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &closingListener{ln: ln}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.mu.Lock()
			l.at = append(l.at, time.Now())
			l.mu.Unlock()
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return l
}

func (l *closingListener) addr() string { return l.ln.Addr().String() }

func (l *closingListener) times() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.at...)
}

// startLinkService runs a link Service in process, east as its
// destination, until the test ends.
func startLinkService(t *testing.T, east []string) *link.Service {
	t.Helper()
	level := hclog.Warn
	if os.Getenv("LINKPROXY_TEST_LOG") != "" {
		level = hclog.Debug
	}
	svc, err := link.NewService(link.Options{
		Destination: []kgo.Opt{kgo.SeedBrokers(east...)},
		Reconcile:   50 * time.Millisecond,
		Log:         hclog.New(&hclog.LoggerOptions{Level: level, Output: tLogWriter{t}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := svc.Run(ctx); err != nil {
			t.Errorf("link service: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-svc.Ready():
	case <-time.After(20 * time.Second):
		t.Fatal("link service not ready after 20s")
	}
	return svc
}

type tLogWriter struct{ t *testing.T }

func (w tLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}
