package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/mirror/internal/partlog"
)

// The crash test runs the engine in a child process, the test binary
// itself re-executed to run TestCrashChild, and SIGKILLs it at random
// moments. Both clusters live in the parent, so they outlive every child.
const (
	crashEnvChild = "LINKPROXY_CRASH_CHILD" // set (to the parent's pid) in the child
	crashEnvSrc   = "LINKPROXY_CRASH_SRC"   // source seed brokers, comma separated
	crashEnvDst   = "LINKPROXY_CRASH_DST"   // destination seed brokers
	crashEnvTopic = "LINKPROXY_CRASH_TOPIC" // source topic; the mirror is "mirror-"+topic
	crashEnvTxnID = "LINKPROXY_CRASH_TXNID" // fill transactional id prefix
	crashEnvParts = "LINKPROXY_CRASH_PARTITIONS"
	crashEnvSeed  = "LINKPROXY_CRASH_SEED" // optional, for the parent: its random seed

	crashStarting = "crash-child: starting" // Run is called
	crashCopying  = "crash-child: copying"  // every partition has its position
	crashFailed   = "crash-child: FAILED"
)

// TestCrashChild is the child of TestCrash: it mirrors until killed. A
// partition failure, or Run returning, is printed with crashFailed and ends
// the process on its own, which the parent reports.
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashEnvChild) == "" {
		t.Skip("the engine process of TestCrash; runs only as its child")
	}
	ppid := os.Getppid()
	go func() { // never outlive the parent (and its clusters)
		for os.Getppid() == ppid {
			time.Sleep(100 * time.Millisecond)
		}
		os.Exit(4)
	}()
	clients := make([]*kgo.Client, 2)
	for i, env := range []string{crashEnvSrc, crashEnvDst} {
		cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(os.Getenv(env), ",")...))
		if err != nil {
			fmt.Printf("%s: client: %v\n", crashFailed, err)
			os.Exit(2)
		}
		clients[i] = cl
	}
	topic := os.Getenv(crashEnvTopic)
	e, err := New(Config{
		Source: clients[0], Destination: clients[1],
		SourceTopic: topic, DestinationTopic: "mirror-" + topic,
		StartAt: StartEarliest, TransactionalID: os.Getenv(crashEnvTxnID),
		DestinationConfigs: kfakeDestinationConfigs(), MaxWait: 50 * time.Millisecond,
		Log: hclog.New(&hclog.LoggerOptions{Name: "crash-child", Level: hclog.Warn, Output: os.Stderr}),
	})
	if err != nil {
		fmt.Printf("%s: New: %v\n", crashFailed, err)
		os.Exit(2)
	}
	go func() {
		for {
			time.Sleep(10 * time.Millisecond)
			if f := e.Failures(); len(f) > 0 {
				fmt.Printf("%s: partitions stopped: %v (mirror positions %v)\n", crashFailed, f, e.Next())
				os.Exit(3)
			}
		}
	}()
	parts, _ := strconv.Atoi(os.Getenv(crashEnvParts))
	go func() {
		for len(e.Next()) < parts {
			time.Sleep(5 * time.Millisecond)
		}
		fmt.Println(crashCopying)
	}()
	fmt.Println(crashStarting)
	err = e.Run(context.Background())
	fmt.Printf("%s: Run returned %v (partition failures %v)\n", crashFailed, err, e.Failures())
	os.Exit(2)
}

// TestCrash kills the engine process at random moments, mid-copy and
// mid-fill, many times over, with the source growing between kills; a last
// engine then catches up, and the mirror must equal the source: same log
// start and end, same records at the same offsets, same compressed bytes.
// After each kill no mirror partition may end beyond its source partition.
//
// The seed (logged; set it with LINKPROXY_CRASH_SEED) fixes the source's
// contents and the kill delays; where the engine stands at a kill also
// depends on the machine's speed.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: slow")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashEnvSeed); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s: %v", crashEnvSeed, err)
		}
	}
	t.Logf("seed %d (rerun with %s=%d)", seed, crashEnvSeed, seed)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("failed with seed %d (rerun with %s=%d)", seed, crashEnvSeed, seed)
		}
	})
	rng := rand.New(rand.NewPCG(seed, 0))

	const (
		topic      = "crash"
		partitions = 4
		kills      = 20
	)
	p := newPair(t, topic, partitions)
	ctx := context.Background()
	srcAdm, dstAdm := kadm.NewClient(p.srcCl), kadm.NewClient(p.dstCl)

	// The source before the first engine: small batches in every codec,
	// interleaved committed and aborted transactions, and a log start
	// trimmed mid-batch on every partition.
	src := newCrashSource(t, p, topic, partitions, seed)
	for range 6 {
		if err := src.round(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before := crashOffsets(t, srcAdm.ListEndOffsets, topic)
	for part := range int32(partitions) {
		to := 1 + rng.Int64N(before[part]/3)
		if err := partlog.New(p.srcCl).DeleteRecords(ctx, topic, part, to); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		if err := src.round(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("source before the first engine: starts %v, ends %v",
		crashOffsets(t, srcAdm.ListStartOffsets, topic), crashOffsets(t, srcAdm.ListEndOffsets, topic))

	env := []string{
		crashEnvChild + "=" + strconv.Itoa(os.Getpid()),
		crashEnvSrc + "=" + strings.Join(p.src.ListenAddrs(), ","),
		crashEnvDst + "=" + strings.Join(p.dst.ListenAddrs(), ","),
		crashEnvTopic + "=" + topic,
		crashEnvTxnID + "=crash-fill",
		crashEnvParts + "=" + strconv.Itoa(partitions),
	}
	lagging, midFill := 0, 0
	for i := range kills {
		// The kill comes 20-300ms after Run is called (every fourth
		// kill: mid start-up, which under load takes a few hundred ms)
		// or after every partition started copying. The process
		// start-up before is not counted: under -race it takes
		// 100-300ms itself.
		c := startCrashChild(t, env)
		d := time.Duration(20+rng.IntN(281)) * time.Millisecond
		mark, what := c.out.copying, "copying"
		if i%4 == 0 {
			mark, what = c.out.starting, "Run"
		}
		select {
		case <-c.done:
			t.Fatalf("kill %d: the engine process exited on its own (%v):\n%s", i, c.err, c.out)
		case <-time.After(20 * time.Second):
			t.Fatalf("kill %d: the engine process did not start %s in 20s:\n%s", i, what, c.out)
		case <-mark:
		}
		select {
		case <-c.done:
			t.Fatalf("kill %d: the engine process exited on its own (%v):\n%s", i, c.err, c.out)
		case <-time.After(d):
		}
		_ = c.cmd.Process.Kill()
		<-c.done
		c.check(t, fmt.Sprintf("kill %d", i))
		// The destination first: the source only grows.
		dst := crashOffsets(t, dstAdm.ListEndOffsets, "mirror-"+topic)
		srcEnds := crashOffsets(t, srcAdm.ListEndOffsets, topic)
		behind := false
		for part, end := range dst {
			if end > srcEnds[part] {
				t.Fatalf("kill %d: partition %d: mirror log end %d is beyond the source's %d (mirror ends %v, source ends %v)",
					i, part, end, srcEnds[part], dst, srcEnds)
			}
			if end < srcEnds[part] {
				behind = true
			}
		}
		if behind {
			lagging++
		}
		// Only fills are transactions on the mirror: one still open
		// was cut by the kill (the next engine's fill.New aborts it).
		open := ""
		stable := crashOffsets(t, dstAdm.ListCommittedOffsets, "mirror-"+topic)
		for part, end := range dst {
			if stable[part] < end {
				open += fmt.Sprintf(" %d:%d-%d", part, stable[part], end-1)
			}
		}
		if open != "" {
			midFill++
			open = "; open fill transactions at" + open
		}
		t.Logf("kill %d %v after %s: mirror ends %v, source ends %v%s", i, d, what, dst, srcEnds, open)
		// The source grows between engines, not during: the parent's
		// producers under -race would starve the engine on 2 cores, and
		// this way the source is a function of the seed alone.
		if err := src.round(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d of %d kills left the mirror behind the source, %d mid-fill", lagging, kills, midFill)

	// A last engine catches up; every partition ends with a plain record
	// so that read_committed reads end there.
	if err := src.tail(ctx); err != nil {
		t.Fatal(err)
	}
	ends := crashOffsets(t, srcAdm.ListEndOffsets, topic)
	c := startCrashChild(t, env)
	began := time.Now()
	deadline := began.Add(30 * time.Second)
	var dst map[int32]int64
	for {
		dst = crashOffsets(t, dstAdm.ListEndOffsets, "mirror-"+topic)
		if fmt.Sprint(dst) == fmt.Sprint(ends) {
			break
		}
		for part, end := range dst {
			if end > ends[part] {
				t.Fatalf("partition %d: mirror log end %d is beyond the source's %d (mirror ends %v, source ends %v)",
					part, end, ends[part], dst, ends)
			}
		}
		select {
		case <-c.done:
			t.Fatalf("final engine exited on its own (%v), mirror ends %v, source ends %v:\n%s", c.err, dst, ends, c.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = c.cmd.Process.Kill()
			<-c.done
			t.Fatalf("the final engine did not catch up: mirror ends %v, source ends %v; its output:\n%s", dst, ends, c.out)
		}
	}
	_ = c.cmd.Process.Kill()
	<-c.done
	c.check(t, "final engine")
	t.Logf("the last engine caught up in %v: ends %v", time.Since(began).Round(time.Millisecond), ends)

	starts := crashOffsets(t, srcAdm.ListStartOffsets, topic)
	dstStarts := crashOffsets(t, dstAdm.ListStartOffsets, "mirror-"+topic)
	for part := range int32(partitions) {
		if dstStarts[part] != starts[part] {
			t.Errorf("partition %d: mirror log start %d, source log start %d (mirror starts %v, source %v)",
				part, dstStarts[part], starts[part], dstStarts, starts)
		}
	}
	srcRecs := records(t, p.seeds(p.srcCl), topic, ends)
	dstRecs := records(t, p.seeds(p.dstCl), "mirror-"+topic, ends)
	n := 0
	for part := range ends {
		n += len(srcRecs[part])
		if rs := srcRecs[part]; len(rs) == 0 || rs[len(rs)-1].Offset != ends[part]-1 {
			t.Fatalf("partition %d: read %d source records, not up to the log end %d", part, len(rs), ends[part])
		}
	}
	t.Logf("comparing %d committed records", n)
	sameRecords(t, srcRecs, dstRecs)
	samePayloads(t, p, topic, ends)
}

// crashOffsets lists a topic's offsets by partition with list, one of
// kadm.Client's ListStartOffsets, ListEndOffsets or ListCommittedOffsets
// (last stable offsets); a topic that does not exist yet has none.
func crashOffsets(t *testing.T, list func(context.Context, ...string) (kadm.ListedOffsets, error), topic string) map[int32]int64 {
	t.Helper()
	offs, err := list(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	offs.Each(func(o kadm.ListedOffset) {
		switch {
		case errors.Is(o.Err, kerr.UnknownTopicOrPartition):
		case o.Err != nil:
			t.Fatalf("listing offsets of %s/%d: %v", topic, o.Partition, o.Err)
		default:
			out[o.Partition] = o.Offset
		}
	})
	return out
}

// crashSource writes the crash test's source topic: plain records in small
// batches from one producer per codec, and transactions from three
// producers, open at the same time, each committed or aborted at random.
type crashSource struct {
	partitions int32
	rng        *rand.Rand
	plain      []*kgo.Client
	txns       []*kgo.Client
	n          int
}

func newCrashSource(t *testing.T, p *pair, topic string, partitions int32, seed uint64) *crashSource {
	t.Helper()
	s := &crashSource{partitions: partitions, rng: rand.New(rand.NewPCG(seed, 1))}
	client := func(opts ...kgo.Opt) *kgo.Client {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(p.src.ListenAddrs()...), kgo.DefaultProduceTopic(topic),
			kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(1024), kgo.ProducerLinger(time.Millisecond)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	codecs := []kgo.CompressionCodec{kgo.NoCompression(), kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()}
	for _, c := range codecs {
		s.plain = append(s.plain, client(kgo.ProducerBatchCompression(c)))
	}
	for i := range 3 {
		s.txns = append(s.txns, client(kgo.ProducerBatchCompression(codecs[i*2]), kgo.TransactionalID(fmt.Sprintf("crash-src-tx-%d", i))))
	}
	return s
}

func (s *crashSource) record(part int32, what string) *kgo.Record {
	s.n++
	return &kgo.Record{
		Partition: part,
		Key:       []byte(fmt.Sprintf("k%d", s.n%23)),
		Value:     bytes.Repeat([]byte(fmt.Sprintf("%s %d ", what, s.n)), 1+s.n%7),
		Headers:   []kgo.RecordHeader{{Key: "n", Value: []byte(strconv.Itoa(s.n))}, {Key: "what", Value: []byte(what)}},
		Timestamp: time.UnixMilli(1_600_000_000_000 + int64(s.n)),
	}
}

// crashProduce sends records and waits for all of them.
func crashProduce(ctx context.Context, cl *kgo.Client, rs []*kgo.Record) error {
	var mu sync.Mutex
	var first error
	for _, r := range rs {
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return first
}

// round writes plain batches in every codec, then one round of
// interleaved transactions.
func (s *crashSource) round(ctx context.Context) error {
	for _, cl := range s.plain {
		var rs []*kgo.Record
		for range 20 + s.rng.IntN(60) {
			rs = append(rs, s.record(s.rng.Int32N(s.partitions), "plain"))
		}
		if err := crashProduce(ctx, cl, rs); err != nil {
			return err
		}
	}
	for _, cl := range s.txns {
		if err := cl.BeginTransaction(); err != nil {
			return err
		}
	}
	for range 3 { // the transactions' batches interleave on each partition
		for _, cl := range s.txns {
			var rs []*kgo.Record
			for range 1 + s.rng.IntN(12) {
				rs = append(rs, s.record(s.rng.Int32N(s.partitions), "txn"))
			}
			if err := crashProduce(ctx, cl, rs); err != nil {
				return err
			}
		}
	}
	for _, cl := range s.txns {
		commit := kgo.TransactionEndTry(s.rng.IntN(5) < 3)
		if err := cl.EndTransaction(ctx, commit); err != nil {
			return err
		}
	}
	return nil
}

// tail ends every partition with a plain record.
func (s *crashSource) tail(ctx context.Context) error {
	var rs []*kgo.Record
	for part := range s.partitions {
		rs = append(rs, s.record(part, "tail"))
	}
	return crashProduce(ctx, s.plain[0], rs)
}

type crashChild struct {
	cmd  *exec.Cmd
	out  *crashOutput
	done chan struct{}
	err  error // from Wait, once done is closed
}

func startCrashChild(t *testing.T, env []string) *crashChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), env...)
	out := &crashOutput{starting: make(chan struct{}), copying: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &crashChild{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	return c
}

// check fails the test if the killed engine had reported a failure or a
// data race before it died.
func (c *crashChild) check(t *testing.T, what string) {
	t.Helper()
	out := c.out.String()
	if strings.Contains(out, crashFailed) || strings.Contains(out, "DATA RACE") || strings.Contains(out, "panic:") {
		t.Fatalf("%s: the engine process failed before it was killed (%v):\n%s", what, c.err, out)
	}
}

// crashOutput collects a child's stdout and stderr.
type crashOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
	// closed when the child prints crashStarting, crashCopying
	starting, copying chan struct{}
	seen              map[string]bool
}

func (o *crashOutput) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(b)
	for _, m := range []struct {
		line string
		ch   chan struct{}
	}{{crashStarting, o.starting}, {crashCopying, o.copying}} {
		if !o.seen[m.line] && bytes.Contains(o.buf.Bytes(), []byte(m.line)) {
			if o.seen == nil {
				o.seen = map[string]bool{}
			}
			o.seen[m.line] = true
			close(m.ch)
		}
	}
	return len(b), nil
}

func (o *crashOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
