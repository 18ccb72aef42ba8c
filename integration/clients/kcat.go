package clients

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// KcatTimeout bounds every kcat process the Kcat driver starts (the call's
// ctx may end it sooner).
var KcatTimeout = 60 * time.Second

// Kcat returns a driver that runs the kcat binary (librdkafka). It fails t
// if kcat is not on PATH; integration/install-deps.sh installs it.
//
// Limits of the kcat CLI: CreateTopic and DescribeTopicConfigs return
// ErrUnsupported; keys and values must be valid UTF-8 (kcat -J prints them as
// JSON strings) and must not contain the bytes 0x1e / 0x1f (used as message /
// key delimiters on kcat's stdin); header names must not contain '='. Records
// whose header sets differ are sent by separate kcat processes (-H applies to
// every message of one process). Brokers uses Metadata (kcat -L): kcat has
// no DescribeCluster.
//
// Observed records the brokers librdkafka added or renamed in its
// "-d broker" debug log (bootstrap servers with NodeID -1, brokers from
// metadata with their node ID) plus everything Brokers returned.
func Kcat(t testing.TB) Driver {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("clients: kcat is not on PATH (%v); run integration/install-deps.sh", err)
	}
	return &kcatDriver{path: path}
}

type kcatDriver struct {
	path string
	obs  observer
}

func (*kcatDriver) Name() string         { return "kcat" }
func (*kcatDriver) Codecs() []string     { return Codecs }
func (d *kcatDriver) Observed() []Broker { return d.obs.Observed() }

var (
	// "%7|...|BROKER|...| [thrd:app]: 127.0.0.1:4000/bootstrap: Added new broker with NodeId -1"
	kcatAddedRe = regexp.MustCompile(`\]: (\S+):(\d+)/\S+: Added new broker with NodeId (-?\d+)`)
	// "... 127.0.0.1:4000/bootstrap: NodeId changed from -1 to 2"
	kcatRenamedRe = regexp.MustCompile(`\]: (\S+):(\d+)/\S+: NodeId changed from -?\d+ to (-?\d+)`)
)

// observeDebug records brokers from librdkafka's "-d broker" log and returns
// the stderr lines that are not debug output.
func (d *kcatDriver) observeDebug(stderr []byte) string {
	var rest []string
	sc := bufio.NewScanner(bytes.NewReader(stderr))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "%7|") {
			if strings.TrimSpace(line) != "" {
				rest = append(rest, line)
			}
			continue
		}
		for _, re := range []*regexp.Regexp{kcatAddedRe, kcatRenamedRe} {
			if m := re.FindStringSubmatch(line); m != nil {
				host := strings.TrimSuffix(strings.TrimPrefix(m[1], "["), "]")
				port, err1 := strconv.ParseInt(m[2], 10, 32)
				id, err2 := strconv.ParseInt(m[3], 10, 32)
				if err1 == nil && err2 == nil {
					d.obs.add(Broker{NodeID: int32(id), Host: host, Port: int32(port)})
				}
			}
		}
	}
	return strings.Join(rest, "\n")
}

// run executes kcat with args (common options added) and returns its stdout.
// On failure stdout is still returned (for partial consumes).
func (d *kcatDriver) run(ctx context.Context, bootstrap string, stdin []byte, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, KcatTimeout)
	defer cancel()

	full := append([]string{
		"-b", bootstrap,
		"-m", "10", // metadata timeout, seconds
		"-d", "broker",
		"-X", "client.id=linkproxy-it-kcat",
		"-X", "socket.connection.setup.timeout.ms=5000",
		"-X", "reconnect.backoff.ms=50",
		"-X", "reconnect.backoff.max.ms=1000",
		"-X", "retry.backoff.ms=100",
	}, args...)
	cmd := exec.CommandContext(ctx, d.path, full...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	msg := d.observeDebug(stderr.Bytes())
	if err != nil {
		if ctx.Err() != nil {
			err = errors.Join(ctx.Err(), err)
		}
		return stdout.Bytes(), fmt.Errorf("kcat %s: %w\n%s", strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes(), nil
}

const (
	kcatMsgDelim = 0x1e
	kcatKeyDelim = 0x1f
)

func (d *kcatDriver) Produce(ctx context.Context, bootstrap, topic, codec string, recs []Record) error {
	if err := checkCodec(d, codec); err != nil {
		return err
	}
	msgTimeout := min(remaining(ctx, KcatTimeout, time.Second), KcatTimeout) - 500*time.Millisecond
	msgTimeout = max(msgTimeout, time.Second)

	// kcat's -H applies to all messages of one process: send each run of
	// records with the same headers in one process.
	for start := 0; start < len(recs); {
		end := start + 1
		for end < len(recs) && maps.Equal(recs[end].Headers, recs[start].Headers) {
			end++
		}
		var in bytes.Buffer
		for _, r := range recs[start:end] {
			if bytes.IndexByte(r.Key, kcatMsgDelim) >= 0 || bytes.IndexByte(r.Key, kcatKeyDelim) >= 0 ||
				bytes.IndexByte(r.Value, kcatMsgDelim) >= 0 || bytes.IndexByte(r.Value, kcatKeyDelim) >= 0 {
				return fmt.Errorf("kcat: record key/value contains byte 0x1e or 0x1f (kcat's delimiters): %w", ErrUnsupported)
			}
			if r.Key != nil { // no key delimiter: null key
				in.Write(r.Key)
				in.WriteByte(kcatKeyDelim)
			}
			in.Write(r.Value)
			in.WriteByte(kcatMsgDelim)
		}
		args := []string{
			"-P", "-t", topic,
			"-D", `\x1e`, "-K", `\x1f`,
			"-X", "compression.codec=" + codec,
			"-X", "acks=all",
			"-X", "linger.ms=0",
			"-X", "message.timeout.ms=" + strconv.FormatInt(msgTimeout.Milliseconds(), 10),
		}
		for k, v := range recs[start].Headers {
			if strings.Contains(k, "=") {
				return fmt.Errorf("kcat: header name %q contains '=': %w", k, ErrUnsupported)
			}
			args = append(args, "-H", k+"="+v)
		}
		if _, err := d.run(ctx, bootstrap, in.Bytes(), args...); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// kcatMessage is one line of kcat -C -J output.
type kcatMessage struct {
	Topic     string    `json:"topic"`
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	Broker    int32     `json:"broker"`
	Headers   []*string `json:"headers"`
	Key       *string   `json:"key"`
	Payload   *string   `json:"payload"`
}

func (d *kcatDriver) ConsumeGroup(ctx context.Context, bootstrap, topic, group string, n int) ([]Record, error) {
	if n <= 0 {
		return nil, nil // kcat's -c 0 would mean "no limit"
	}
	// -G: librdkafka KafkaConsumer; -c n: exit after n messages, closing the
	// consumer, which commits the offsets of the messages handed out
	// (enable.auto.commit with auto offset store) and leaves the group.
	stdout, runErr := d.run(ctx, bootstrap, nil,
		"-C", "-G", group,
		"-o", "beginning",
		"-X", "auto.offset.reset=earliest",
		"-X", "fetch.wait.max.ms=200",
		"-c", strconv.Itoa(n),
		"-J", "-u",
		topic,
	)
	var out []Record
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var m kcatMessage
		if err := json.Unmarshal(line, &m); err != nil {
			if runErr != nil {
				break // likely a line cut short by the kill
			}
			return out, fmt.Errorf("kcat: bad JSON line %q: %w", line, err)
		}
		r := Record{Partition: m.Partition, Offset: m.Offset}
		if m.Key != nil {
			r.Key = []byte(*m.Key)
		}
		if m.Payload != nil {
			r.Value = []byte(*m.Payload)
		}
		if len(m.Headers) > 0 {
			r.Headers = make(map[string]string, len(m.Headers)/2)
			for i := 0; i+1 < len(m.Headers); i += 2 {
				var k, v string
				if m.Headers[i] != nil {
					k = *m.Headers[i]
				}
				if m.Headers[i+1] != nil {
					v = *m.Headers[i+1]
				}
				r.Headers[k] = v
			}
		}
		out = append(out, r)
	}
	if runErr != nil {
		return out, runErr
	}
	if len(out) < n {
		return out, fmt.Errorf("kcat: consumed %d of %d records", len(out), n)
	}
	return out, nil
}

// kcatMetadata is the part of kcat -L -J output we use.
type kcatMetadata struct {
	Brokers []struct {
		ID   int32  `json:"id"`
		Name string `json:"name"`
	} `json:"brokers"`
}

func (d *kcatDriver) Brokers(ctx context.Context, bootstrap string) ([]Broker, error) {
	stdout, err := d.run(ctx, bootstrap, nil, "-L", "-J")
	if err != nil {
		return nil, err
	}
	var md kcatMetadata
	if err := json.Unmarshal(stdout, &md); err != nil {
		return nil, fmt.Errorf("kcat: bad -L -J output %q: %w", stdout, err)
	}
	var bs []Broker
	for _, b := range md.Brokers {
		br, err := parseBroker(b.ID, b.Name)
		if err != nil {
			return nil, fmt.Errorf("kcat: %w", err)
		}
		bs = append(bs, br)
	}
	bs = dedupBrokers(bs)
	d.obs.add(bs...)
	return bs, nil
}

func (*kcatDriver) CreateTopic(context.Context, string, string, int32) error {
	return fmt.Errorf("kcat: create topic: %w", ErrUnsupported)
}

func (*kcatDriver) DescribeTopicConfigs(context.Context, string, string) (map[string]string, error) {
	return nil, fmt.Errorf("kcat: describe configs: %w", ErrUnsupported)
}
