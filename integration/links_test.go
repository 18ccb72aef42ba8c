package integration

// Cluster links end to end: two kfake clusters, "west" and "east", each
// behind its own "linkproxy serve" child process, a link west -> east created
// on east with the CLI, stock clients (kcat, franz-go) producing on west and
// reading the mirror on east, and the REST API checked with plain net/http.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/linkproxy/linkproxy/integration/clients"
)

// linkSide is one cluster with its linkproxy in front.
type linkSide struct {
	name      string
	cluster   *kfake.Cluster
	bootstrap string // the proxy's listener
	portBase  int    // broker N is on portBase+N
	rest      string // http://host:port
	config    string // the TOML file
	proc      *process
}

// startLinkSide starts a 3-broker kfake cluster with the given cluster id
// and a "linkproxy serve" in front of it, with one PLAINTEXT listener and a
// REST listener, on free loopback ports.
func startLinkSide(t *testing.T, name string) *linkSide {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.ClusterID(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	const host = "127.0.0.1"
	// The listener's bootstrap port, one port per broker after it, and the
	// REST port past those.
	base := freeBase(t, host, 8)
	s := &linkSide{
		name:      name,
		cluster:   c,
		bootstrap: net.JoinHostPort(host, strconv.Itoa(base)),
		portBase:  base + 1,
		rest:      "http://" + net.JoinHostPort(host, strconv.Itoa(base+8)),
	}
	toml := fmt.Sprintf(`[cluster]
name = %q
"bootstrap.servers" = %q
"metadata.max.age.ms" = 2000

[proxy]
log_level = "warn"

[rest]
listeners = [%q]

[[listener]]
name = "EXTERNAL"
listen = %q
"security.protocol" = "PLAINTEXT"
`, name, strings.Join(c.ListenAddrs(), ","), s.rest, s.bootstrap)
	s.config = filepath.Join(t.TempDir(), name+".toml")
	if err := os.WriteFile(s.config, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	s.start(t)
	return s
}

// start runs "linkproxy serve" with the side's config and waits for its
// ready lines.
func (s *linkSide) start(t *testing.T) {
	t.Helper()
	s.proc = startProcess(t, "serve", "--config", s.config)
	if l := s.proc.waitLine(t, "ready listener="); !strings.HasSuffix(l, "bootstrap="+s.bootstrap) {
		t.Fatalf("%s: %q, want bootstrap=%s", s.name, l, s.bootstrap)
	}
	if l := s.proc.waitLine(t, "ready rest="); l != "ready rest="+s.rest {
		t.Fatalf("%s: %q, want ready rest=%s", s.name, l, s.rest)
	}
}

// client is a franz-go client through the side's proxy.
func (s *linkSide) client(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(s.bootstrap)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// direct is a franz-go client to the kfake brokers themselves, for when the
// proxy is down.
func (s *linkSide) direct(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(s.cluster.ListenAddrs()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// cli runs "linkproxy GROUP VERB --rest-url <side's REST> ARGS...".
func (s *linkSide) cli(t *testing.T, group, verb string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLI(t, append([]string{group, verb, "--rest-url", s.rest}, args...)...)
}

// mustCLI is cli that fails the test unless the command exits 0.
func (s *linkSide) mustCLI(t *testing.T, group, verb string, args ...string) string {
	t.Helper()
	out, errOut, code := s.cli(t, group, verb, args...)
	if code != 0 {
		t.Fatalf("linkproxy %s %s %s: exit %d\nstdout:\n%s\nstderr:\n%s\n%s serve stderr:\n%s",
			group, verb, strings.Join(args, " "), code, out, errOut, s.name, s.proc.stderr.String())
	}
	return out
}

// linkPair is west and east with the link w2e from west to east and one
// mirror topic.
type linkPair struct {
	west, east *linkSide
	topic      string
}

const (
	testLink     = "w2e"
	linkWaitTime = 30 * time.Second
)

// startLinkPair starts both sides, creates topic with partitions on west,
// and the link and mirror on east through the CLI.
func startLinkPair(t *testing.T, topic string, partitions int32) *linkPair {
	t.Helper()
	lp := &linkPair{west: startLinkSide(t, "west"), east: startLinkSide(t, "east"), topic: topic}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(lp.west.client(t)).CreateTopic(ctx, partitions, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating %s on west: %v", topic, err)
	}
	out := lp.east.mustCLI(t, "links", "create", "--link", testLink, "--config", "bootstrap.servers="+lp.west.bootstrap)
	if !strings.Contains(out, `Cluster link "w2e" created.`) {
		t.Errorf("links create printed %q", out)
	}
	// The link's source client starts with the link; the mirror needs it.
	lp.waitFor(t, "the link to be ACTIVE", func() (bool, string) {
		out, errOut, code := lp.east.cli(t, "links", "describe", "--link", testLink, "-o", "json")
		return code == 0 && strings.Contains(out, `"link_state": "ACTIVE"`), out + errOut
	})
	out = lp.east.mustCLI(t, "mirrors", "create", "--link", testLink, "--source-topic", topic)
	if !strings.Contains(out, "created") {
		t.Errorf("mirrors create printed %q", out)
	}
	return lp
}

// waitFor polls cond every 200ms for linkWaitTime; what describes the wait
// and cond's string the last state, for the failure message.
func (lp *linkPair) waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(linkWaitTime)
	var last string
	for {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not within %v; last:\n%s\neast serve stderr:\n%s\nwest serve stderr:\n%s",
				what, linkWaitTime, last, lp.east.proc.stderr.String(), lp.west.proc.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// mirrorDesc is the JSON of "linkproxy mirrors describe -o json" for one
// mirror topic (the REST API's mirror object).
type mirrorDesc struct {
	LinkName         string `json:"link_name"`
	MirrorTopicName  string `json:"mirror_topic_name"`
	SourceTopicName  string `json:"source_topic_name"`
	NumPartitions    int    `json:"num_partitions"`
	MirrorStatus     string `json:"mirror_status"`
	MirrorTopicError string `json:"mirror_topic_error"`
	MirrorLags       []struct {
		Partition             int32 `json:"partition"`
		Lag                   int64 `json:"lag"`
		LastSourceFetchOffset int64 `json:"last_source_fetch_offset"`
	} `json:"mirror_lags"`
}

func (lp *linkPair) describe(t *testing.T) (mirrorDesc, string) {
	t.Helper()
	out, errOut, code := lp.east.cli(t, "mirrors", "describe", "--link", testLink, "--mirror-topic", lp.topic, "-o", "json")
	var d mirrorDesc
	if code != 0 {
		return d, fmt.Sprintf("exit %d: %s%s", code, out, errOut)
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("mirrors describe -o json: %v\n%s", err, out)
	}
	return d, out
}

// sourceEnds are the source topic's end offsets, by partition.
func (lp *linkPair) sourceEnds(t *testing.T) map[int32]int64 {
	t.Helper()
	return topicEnds(t, lp.west.client(t), lp.topic)
}

func topicEnds(t *testing.T, cl *kgo.Client, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// waitCaughtUp waits until "mirrors describe" shows the mirror ACTIVE with
// zero lag on every partition, and its offsets at the source's ends.
func (lp *linkPair) waitCaughtUp(t *testing.T) mirrorDesc {
	t.Helper()
	want := lp.sourceEnds(t)
	var d mirrorDesc
	lp.waitFor(t, "zero lag", func() (bool, string) {
		var out string
		d, out = lp.describe(t)
		if d.MirrorStatus != "ACTIVE" || len(d.MirrorLags) != len(want) {
			return false, out
		}
		for _, l := range d.MirrorLags {
			if l.Lag != 0 || l.LastSourceFetchOffset != want[l.Partition] {
				return false, fmt.Sprintf("%s\nsource ends %v", out, want)
			}
		}
		return true, out
	})
	return d
}

// kcatPath fails the test when kcat is missing, as the kcat driver does
// (integration/install-deps.sh installs it).
func kcatPath(t *testing.T) string {
	t.Helper()
	clients.Kcat(t)
	p, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// kcatLine is one record as kcat -f prints it below.
type kcatLine struct {
	Partition int32
	Offset    int64
	Key       string
	Value     string
	Headers   string
}

// kcatFormat prints partition, offset, key, value and headers, tab
// separated; keys and values of these tests hold no tab or newline.
const kcatFormat = `%p\t%o\t%k\t%s\t%h\n`

// kcatConsume reads topic from the beginning to its end with kcat
// (librdkafka, read_committed), sorted by partition and offset.
func kcatConsume(t *testing.T, bootstrap, topic string) []kcatLine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcatPath(t), "-b", bootstrap, "-m", "10", "-q",
		"-X", "client.id=linkproxy-it-kcat",
		"-C", "-t", topic, "-o", "beginning", "-e", "-f", kcatFormat)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat -C -t %s via %s: %v\n%s", topic, bootstrap, err, stderr.String())
	}
	var out []kcatLine
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 5 {
			t.Fatalf("kcat line %q: want 5 tab-separated fields", sc.Text())
		}
		p, err1 := strconv.ParseInt(f[0], 10, 32)
		o, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("kcat line %q", sc.Text())
		}
		out = append(out, kcatLine{int32(p), o, f[2], f[3], f[4]})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Partition != out[j].Partition {
			return out[i].Partition < out[j].Partition
		}
		return out[i].Offset < out[j].Offset
	})
	return out
}

// batchInfo is one record batch as fetched: the header fields the mirror
// keeps, and the records section after the 61-byte header.
type batchInfo struct {
	BaseOffset      int64
	LastOffsetDelta int32
	BaseTimestamp   int64
	MaxTimestamp    int64
	Attributes      int16 // without the transactional bit, which the mirror's producer sets its own way
	RecordCount     int32
	Records         []byte
}

// rawBatches fetches partition p of topic from its leader through the
// proxy (Fetch v11 with kmsg, read_committed) up to the high watermark and
// splits the record batches.
func rawBatches(t *testing.T, s *linkSide, topic string, p int32) []batchInfo {
	t.Helper()
	leader := s.cluster.LeaderFor(topic, p)
	raw := dialRaw(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(s.portBase+int(leader))))
	var out []batchInfo
	next := int64(0)
	for range 100 {
		req := kmsg.NewPtrFetchRequest()
		req.Version = 11
		req.ReplicaID = -1
		req.MaxWaitMillis = 100
		req.MinBytes = 1
		req.MaxBytes = 16 << 20
		req.IsolationLevel = 1
		req.SessionEpoch = -1
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p, next, 16<<20
		rp.CurrentLeaderEpoch, rp.LogStartOffset = -1, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := raw.must(req).(*kmsg.FetchResponse)
		if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			t.Fatalf("%s: Fetch %s/%d: %+v", s.name, topic, p, resp)
		}
		rp2 := resp.Topics[0].Partitions[0]
		if rp2.ErrorCode != 0 {
			t.Fatalf("%s: Fetch %s/%d: error code %d", s.name, topic, p, rp2.ErrorCode)
		}
		if len(rp2.AbortedTransactions) > 0 {
			t.Errorf("%s: Fetch %s/%d: aborted transactions %+v", s.name, topic, p, rp2.AbortedTransactions)
		}
		b := rp2.RecordBatches
		for len(b) >= 12 {
			n := 12 + int(int32(binary.BigEndian.Uint32(b[8:12])))
			if n < 61 || n > len(b) {
				break // a partial batch at the end
			}
			batch := b[:n]
			if batch[16] != 2 {
				t.Fatalf("%s: %s/%d: batch magic %d", s.name, topic, p, batch[16])
			}
			bi := batchInfo{
				BaseOffset:      int64(binary.BigEndian.Uint64(batch[0:8])),
				Attributes:      int16(binary.BigEndian.Uint16(batch[21:23])) &^ 0x10,
				LastOffsetDelta: int32(binary.BigEndian.Uint32(batch[23:27])),
				BaseTimestamp:   int64(binary.BigEndian.Uint64(batch[27:35])),
				MaxTimestamp:    int64(binary.BigEndian.Uint64(batch[35:43])),
				RecordCount:     int32(binary.BigEndian.Uint32(batch[57:61])),
				Records:         bytes.Clone(batch[61:]),
			}
			if bi.BaseOffset >= next {
				out = append(out, bi)
				next = bi.BaseOffset + int64(bi.LastOffsetDelta) + 1
			}
			b = b[n:]
		}
		if next >= rp2.HighWatermark {
			return out
		}
	}
	t.Fatalf("%s: Fetch %s/%d: no progress to the high watermark", s.name, topic, p)
	return nil
}

// restGet GETs a REST URL with plain net/http and decodes the answer.
func restGet(t *testing.T, url string, out any) {
	t.Helper()
	cl := &http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body.String())
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("GET %s: Content-Type %q", url, ct)
	}
	if err := json.Unmarshal(body.Bytes(), out); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, body.String())
	}
}

// TestLinkEndToEnd: records produced on west with kcat and franz-go reach
// the mirror on east at the same partitions and offsets, with the same keys,
// values, headers and record bytes; the mirror is read-only for kcat until
// it is promoted, and writable at the next offset after; the REST API
// reports the link and the lags.
func TestLinkEndToEnd(t *testing.T) {
	kcatPath(t)
	const topic = "orders"
	lp := startLinkPair(t, topic, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()

	// kcat: keys, values and headers (one kcat process per header set),
	// partitioned by librdkafka's partitioner on the keys.
	kcat := clients.Kcat(t)
	type want struct{ key, headers string }
	wants := map[string]want{} // by value
	var recs []clients.Record
	for i := range 30 {
		r := clients.Record{Key: []byte(fmt.Sprintf("key-%d", i)), Value: []byte(fmt.Sprintf("kcat value %d", i))}
		headers := ""
		switch i / 10 {
		case 0:
			r.Headers = map[string]string{"origin": "kcat"}
			headers = "origin=kcat"
		case 1:
			r.Headers = map[string]string{"trace": "t-1"}
			headers = "trace=t-1"
		}
		recs = append(recs, r)
		wants[string(r.Value)] = want{string(r.Key), headers}
	}
	if err := kcat.Produce(ctx, lp.west.bootstrap, topic, "none", recs[:20]); err != nil {
		t.Fatal(err)
	}
	if err := kcat.Produce(ctx, lp.west.bootstrap, topic, "zstd", recs[20:]); err != nil {
		t.Fatal(err)
	}
	// franz-go: every partition by hand, several records per batch, two
	// headers, some records without a key, zstd.
	prod := lp.west.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.ZstdCompression()), kgo.ProducerLinger(5*time.Millisecond))
	var kgoRecs []*kgo.Record
	for i := range 45 {
		r := &kgo.Record{Topic: topic, Partition: int32(i % 3), Value: []byte(fmt.Sprintf("kgo value %d", i)),
			Headers: []kgo.RecordHeader{{Key: "n", Value: []byte(strconv.Itoa(i))}, {Key: "from", Value: []byte("kgo")}}}
		w := want{headers: fmt.Sprintf("n=%d,from=kgo", i)}
		if i%4 != 0 {
			r.Key = []byte(fmt.Sprintf("kgo-key-%d", i))
			w.key = string(r.Key)
		}
		kgoRecs = append(kgoRecs, r)
		wants[string(r.Value)] = w
	}
	if err := prod.ProduceSync(ctx, kgoRecs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	d := lp.waitCaughtUp(t)
	if d.NumPartitions != 3 || d.SourceTopicName != topic || d.LinkName != testLink {
		t.Errorf("mirrors describe: %+v", d)
	}

	// The source on west and its mirror on east, both through kcat.
	src := kcatConsume(t, lp.west.bootstrap, topic)
	dst := kcatConsume(t, lp.east.bootstrap, topic)
	if len(src) != len(wants) {
		t.Fatalf("kcat read %d records from west, want %d", len(src), len(wants))
	}
	partitions := map[int32]int{}
	for _, l := range src {
		w, ok := wants[l.Value]
		if !ok || w.key != l.Key || w.headers != l.Headers {
			t.Errorf("west record %+v, produced %+v", l, w)
		}
		partitions[l.Partition]++
	}
	if len(partitions) != 3 {
		t.Errorf("records per partition on west: %v", partitions)
	}
	if !slices.Equal(src, dst) {
		t.Errorf("the mirror differs from its source:\nwest: %+v\neast: %+v", src, dst)
	}

	// The same record batches: offsets, timestamps, codec, and the records
	// section byte for byte.
	for p := range int32(3) {
		sb := rawBatches(t, lp.west, topic, p)
		db := rawBatches(t, lp.east, topic, p)
		if len(sb) == 0 {
			t.Errorf("partition %d: no batches on west", p)
		}
		if len(sb) != len(db) {
			t.Errorf("partition %d: %d batches on west, %d on east", p, len(sb), len(db))
			continue
		}
		for i := range sb {
			s, d := sb[i], db[i]
			if s.BaseOffset != d.BaseOffset || s.LastOffsetDelta != d.LastOffsetDelta || s.BaseTimestamp != d.BaseTimestamp ||
				s.MaxTimestamp != d.MaxTimestamp || s.Attributes != d.Attributes || s.RecordCount != d.RecordCount {
				t.Errorf("partition %d batch %d header: west %+v east %+v", p, i, s, d)
			}
			if !bytes.Equal(s.Records, d.Records) {
				t.Errorf("partition %d batch %d (offset %d): records sections differ (%d and %d bytes)", p, i, s.BaseOffset, len(s.Records), len(d.Records))
			}
		}
	}

	// REST, plain net/http.
	ends := lp.sourceEnds(t)
	base := lp.east.rest + "/kafka/v3/clusters/east/links/" + testLink
	var link struct {
		LinkName             string   `json:"link_name"`
		ClusterLinkID        string   `json:"cluster_link_id"`
		SourceClusterID      *string  `json:"source_cluster_id"`
		DestinationClusterID *string  `json:"destination_cluster_id"`
		LinkState            string   `json:"link_state"`
		LinkError            string   `json:"link_error"`
		TopicNames           []string `json:"topic_names"`
	}
	restGet(t, base, &link)
	if link.LinkName != testLink || link.LinkState != "ACTIVE" || link.LinkError != "NO_ERROR" || link.ClusterLinkID == "" ||
		!slices.Equal(link.TopicNames, []string{topic}) ||
		link.SourceClusterID == nil || *link.SourceClusterID != "west" ||
		// null, as Confluent writes it for a link whose destination is
		// the cluster that answers
		link.DestinationClusterID != nil {
		t.Errorf("GET %s: %+v (source %v, destination %v)", base, link, nullStr(link.SourceClusterID), nullStr(link.DestinationClusterID))
	}
	var m mirrorDesc
	restGet(t, base+"/mirrors/"+topic, &m)
	if m.MirrorStatus != "ACTIVE" || m.MirrorTopicName != topic || m.SourceTopicName != topic || m.NumPartitions != 3 || len(m.MirrorLags) != 3 {
		t.Errorf("GET %s/mirrors/%s: %+v", base, topic, m)
	}
	for i, l := range m.MirrorLags {
		if l.Partition != int32(i) || l.Lag != 0 || l.LastSourceFetchOffset != ends[l.Partition] {
			t.Errorf("GET %s/mirrors/%s: mirror_lags[%d] = %+v, source end %d", base, topic, i, l, ends[l.Partition])
		}
	}

	// The mirror is read-only: kcat's produce through east's proxy fails
	// with INVALID_REQUEST. librdkafka 2.0.2 (Debian's kcat) prints only
	// the error code's text, not the broker's error message, so the
	// message naming the mirror is read with a Produce v9 of its own.
	err := kcat.Produce(ctx, lp.east.bootstrap, topic, "none", []clients.Record{{Key: []byte("k"), Value: []byte("refused")}})
	if err == nil {
		t.Fatal("kcat produced to the mirror topic on east")
	}
	if !strings.Contains(err.Error(), "Delivery failed") || !strings.Contains(err.Error(), "Invalid request") {
		t.Errorf("kcat produce to the mirror: %v", err)
	}
	preq := kmsg.NewPtrProduceRequest()
	preq.Version, preq.Acks, preq.TimeoutMillis = 9, -1, 5000
	preq.Topics = []kmsg.ProduceRequestTopic{{Topic: topic, Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 0, Records: batch()}}}}
	presp := dialRaw(t, lp.east.bootstrap).must(preq).(*kmsg.ProduceResponse)
	if len(presp.Topics) != 1 || len(presp.Topics[0].Partitions) != 1 {
		t.Fatalf("Produce v9 to the mirror: %+v", presp.Topics)
	}
	if pp := presp.Topics[0].Partitions[0]; pp.ErrorCode != kerr.InvalidRequest.Code || pp.ErrorMessage == nil ||
		!strings.Contains(*pp.ErrorMessage, "read-only mirror topic 'orders'") || !strings.Contains(*pp.ErrorMessage, "cluster link 'w2e'") {
		t.Errorf("Produce v9 to the mirror: error %d, message %q", pp.ErrorCode, nullStr(pp.ErrorMessage))
	}
	if got := topicEnds(t, lp.east.client(t), topic); !equalEnds(got, ends) {
		t.Fatalf("the refused produce moved the mirror: %v, source %v", got, ends)
	}

	// Promote: STOPPED once caught up, then writable at the next offset.
	lp.east.mustCLI(t, "mirrors", "promote", "--link", testLink, "--mirror-topic", topic)
	lp.waitFor(t, "STOPPED", func() (bool, string) {
		d, out := lp.describe(t)
		return d.MirrorStatus == "STOPPED", out
	})
	east := lp.east.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for p := range int32(3) {
		r := &kgo.Record{Topic: topic, Partition: p, Value: []byte("after promotion")}
		if err := east.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce to the promoted topic, partition %d: %v", p, err)
		}
		if r.Offset != ends[p] {
			t.Errorf("produce to the promoted topic, partition %d: offset %d, want %d", p, r.Offset, ends[p])
		}
	}
	if err := kcat.Produce(ctx, lp.east.bootstrap, topic, "none", []clients.Record{{Key: []byte("k"), Value: []byte("kcat after promotion")}}); err != nil {
		t.Errorf("kcat produce to the promoted topic: %v", err)
	}
}

func equalEnds(a, b map[int32]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for p, o := range a {
		if w, ok := b[p]; !ok || w != o {
			return false
		}
	}
	return true
}

// mirroredRecord is one record as TestLinkRestartResumes compares them.
type mirroredRecord struct {
	Partition int32
	Offset    int64
	Value     string
}

// readTopic reads every partition of topic from its start to ends, read
// committed.
func readTopic(t *testing.T, s *linkSide, topic string, ends map[int32]int64) []mirroredRecord {
	t.Helper()
	offsets := map[int32]kgo.Offset{}
	for p := range ends {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	cl := s.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []mirroredRecord
	next := map[int32]int64{}
	done := func() bool {
		for p, e := range ends {
			if next[p] < e {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: reading %s: got to %v of %v", s.name, topic, next, ends)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Logf("%s: fetch %s/%d: %v", s.name, topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < ends[r.Partition] {
				out = append(out, mirroredRecord{r.Partition, r.Offset, string(r.Value)})
			}
			next[r.Partition] = r.Offset + 1
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Partition != out[j].Partition {
			return out[i].Partition < out[j].Partition
		}
		return out[i].Offset < out[j].Offset
	})
	return out
}

// TestLinkRestartResumes: east's linkproxy is stopped with SIGTERM while
// west keeps taking records, and started again with the same config; the
// link, its id and the mirror come back from the state topic in east's
// cluster, and the mirror ends equal to the source, without duplicates.
func TestLinkRestartResumes(t *testing.T) {
	const topic = "events"
	lp := startLinkPair(t, topic, 3)
	linkID := func() string {
		var l struct {
			ClusterLinkID string `json:"cluster_link_id"`
		}
		out := lp.east.mustCLI(t, "links", "describe", "--link", testLink, "-o", "json")
		if err := json.Unmarshal([]byte(out), &l); err != nil || l.ClusterLinkID == "" {
			t.Fatalf("links describe -o json: %v\n%s", err, out)
		}
		return l.ClusterLinkID
	}
	id := linkID()

	// A producer on west that runs through the whole test.
	prod := lp.west.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	pctx, stopProducing := context.WithCancel(context.Background())
	var produced atomic.Int64
	var wg sync.WaitGroup
	var prodErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; pctx.Err() == nil; i++ {
			r := &kgo.Record{Topic: topic, Partition: int32(i % 3), Value: []byte(fmt.Sprintf("event %06d", i))}
			if err := prod.ProduceSync(pctx, r).FirstErr(); err != nil {
				if pctx.Err() == nil {
					prodErr = err
				}
				return
			}
			produced.Add(1)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	defer func() { stopProducing(); wg.Wait() }()

	// Some records mirrored, then east's linkproxy stops.
	lp.waitFor(t, "records on the mirror", func() (bool, string) {
		d, out := lp.describe(t)
		n := int64(0)
		for _, l := range d.MirrorLags {
			n += l.LastSourceFetchOffset
		}
		return n >= 100, out
	})
	lp.east.proc.stop(t)
	if code := lp.east.proc.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("east's linkproxy exited %d on SIGTERM; stderr:\n%s", code, lp.east.proc.stderr.String())
	}
	eastDirect := lp.east.direct(t)
	atStop := topicEnds(t, eastDirect, topic)
	srcAtStop := produced.Load()
	// West keeps taking records while east's linkproxy is down.
	deadline := time.Now().Add(10 * time.Second)
	for produced.Load() < srcAtStop+150 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := topicEnds(t, eastDirect, topic); !equalEnds(got, atStop) {
		t.Errorf("the mirror moved while east's linkproxy was stopped: %v, then %v", atStop, got)
	}

	whileDown := produced.Load() - srcAtStop
	lp.east.start(t)
	if got := linkID(); got != id {
		t.Errorf("link id %s after the restart, was %s", got, id)
	}
	// It resumes while west still takes records; then west stops.
	lp.waitFor(t, "the mirror to resume", func() (bool, string) {
		got := topicEnds(t, eastDirect, topic)
		n, m := int64(0), int64(0)
		for p := range got {
			n += got[p]
			m += atStop[p]
		}
		return n > m+100, fmt.Sprintf("mirror ends %v, at the stop %v", got, atStop)
	})
	stopProducing()
	wg.Wait()
	if prodErr != nil {
		t.Fatalf("producing on west: %v", prodErr)
	}
	lp.waitCaughtUp(t)

	ends := lp.sourceEnds(t)
	src := readTopic(t, lp.west, topic, ends)
	dst := readTopic(t, lp.east, topic, ends)
	if int64(len(src)) != produced.Load() {
		t.Errorf("%d records on west, %d produced", len(src), produced.Load())
	}
	seen := map[string]bool{}
	for _, r := range dst {
		if seen[r.Value] {
			t.Errorf("duplicate on the mirror: %+v", r)
		}
		seen[r.Value] = true
	}
	if !slices.Equal(src, dst) {
		n := min(len(src), len(dst))
		for i := range n {
			if src[i] != dst[i] {
				t.Fatalf("the mirror differs from its source at record %d: west %+v, east %+v (%d and %d records)", i, src[i], dst[i], len(src), len(dst))
			}
		}
		t.Fatalf("the mirror has %d records, its source %d", len(dst), len(src))
	}
	t.Logf("%d records, %d of them produced while east's linkproxy was down", len(src), whileDown)

	// The link's state is in east's cluster, nowhere else.
	state := lp.east.direct(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"_linkproxy-cluster-links": {0: kgo.NewOffset().AtStart()}}))
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys := map[string]bool{}
	for !(keys["link/"+testLink] && keys["mirror/"+testLink+"/"+topic]) {
		fs := state.PollFetches(sctx)
		if sctx.Err() != nil {
			t.Fatalf("state topic keys %v", keys)
		}
		fs.EachRecord(func(r *kgo.Record) { keys[string(r.Key)] = true })
	}
}

// TestLinkErrorsCLI: the CLI against east's REST API exits 1 with the API's
// message for an unknown link, a duplicate link, an unknown link property,
// and a promote refused because of the mirror's state or lag.
func TestLinkErrorsCLI(t *testing.T) {
	const topic = "payments"
	lp := startLinkPair(t, topic, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	east := lp.east

	check := func(what string, code int, stderr string, wantCode int, wants ...string) {
		t.Helper()
		if code != wantCode {
			t.Errorf("%s: exit %d, want %d; stderr:\n%s", what, code, wantCode, stderr)
		}
		for _, w := range wants {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr %q does not contain %q", what, stderr, w)
			}
		}
	}

	_, errOut, code := east.cli(t, "links", "describe", "--link", "nope")
	check("describe an unknown link", code, errOut, 1, `linkproxy links describe: cluster link "nope" does not exist`)

	_, errOut, code = east.cli(t, "mirrors", "describe", "--link", testLink, "--mirror-topic", "nope")
	check("describe an unknown mirror", code, errOut, 1, `mirror topic "nope" does not exist on cluster link "w2e"`)

	_, errOut, code = east.cli(t, "links", "create", "--link", testLink, "--config", "bootstrap.servers="+lp.west.bootstrap)
	check("create a duplicate link", code, errOut, 1, `cluster link "w2e" already exists`)

	_, errOut, code = east.cli(t, "links", "create", "--link", "other", "--config", "bootstrap.servers="+lp.west.bootstrap+",no.such.property=1")
	check("create a link with an unknown property", code, errOut, 1, "no.such.property")
	_, errOut, code = east.cli(t, "links", "describe", "--link", "other")
	check("the refused link", code, errOut, 1, `cluster link "other" does not exist`)

	prod := lp.west.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produce := func(n int, what string) {
		t.Helper()
		var rs []*kgo.Record
		for i := range n {
			rs = append(rs, &kgo.Record{Topic: topic, Partition: int32(i % 2), Value: []byte(fmt.Sprintf("%s %d", what, i))})
		}
		if err := prod.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produce(20, "first")
	lp.waitCaughtUp(t)

	// A paused mirror: promote is refused until it is resumed.
	east.mustCLI(t, "mirrors", "pause", "--link", testLink, "--mirror-topic", topic)
	lp.waitFor(t, "PAUSED", func() (bool, string) {
		d, out := lp.describe(t)
		return d.MirrorStatus == "PAUSED", out
	})
	produce(7, "while the mirror is paused")
	out, errOut, code := east.cli(t, "mirrors", "promote", "--link", testLink, "--mirror-topic", topic, "--validate-only")
	check("promote a paused mirror", code, errOut, 1, "is PAUSED", "resume it first")
	if !strings.Contains(out, "FAILED") {
		t.Errorf("promote a paused mirror: stdout %q", out)
	}
	if d, out := lp.describe(t); d.MirrorStatus != "PAUSED" || len(d.MirrorLags) != 2 || d.MirrorLags[0].Lag+d.MirrorLags[1].Lag != 7 {
		t.Errorf("after promote --validate-only of a paused mirror: %s", out)
	}
	east.mustCLI(t, "mirrors", "resume", "--link", testLink, "--mirror-topic", topic)
	lp.waitCaughtUp(t)

	// A paused link: the mirror stays ACTIVE but copies nothing, and
	// promote --validate-only is refused with its lag.
	east.mustCLI(t, "links", "configs", "--link", testLink, "--alter", "--add-config", "cluster.link.paused=true")
	lp.waitFor(t, "LINK_PAUSED", func() (bool, string) {
		d, out := lp.describe(t)
		return d.MirrorStatus == "LINK_PAUSED", out
	})
	produce(11, "while the link is paused")
	time.Sleep(time.Second) // the mirror would copy them by now if it ran
	out, errOut, code = east.cli(t, "mirrors", "promote", "--link", testLink, "--mirror-topic", topic, "--validate-only")
	check("promote with lag", code, errOut, 1, `mirror topic "payments" has a lag of 11 records: promote would wait for it`)
	if !strings.Contains(out, "FAILED") {
		t.Errorf("promote with lag: stdout %q", out)
	}
	if d, out := lp.describe(t); d.MirrorStatus != "LINK_PAUSED" {
		t.Errorf("after promote --validate-only: %s", out)
	}
	east.mustCLI(t, "links", "configs", "--link", testLink, "--alter", "--delete-config", "cluster.link.paused")
	lp.waitCaughtUp(t)

	// Nothing of the above left the mirror behind or changed it.
	ends := lp.sourceEnds(t)
	if !equalEnds(topicEnds(t, lp.east.client(t), topic), ends) {
		t.Errorf("mirror ends differ from the source's %v", ends)
	}
}

func nullStr(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
