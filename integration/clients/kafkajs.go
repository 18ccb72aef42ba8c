package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// KafkaJSTimeout bounds every node process the KafkaJS driver starts (the
// call's ctx may end it sooner).
var KafkaJSTimeout = 60 * time.Second

// KafkaJS returns a driver that runs integration/clients/kafkajs/driver.js
// with node and the kafkajs package installed in <repo>/.deps/node by
// integration/install-deps.sh. It fails t if node, the script or kafkajs is
// missing.
//
// Limits of kafkajs 2.2.4: only "none" and "gzip" compression (snappy, lz4
// and zstd need codec plugin packages) — other codecs return ErrUnsupported.
// Brokers uses admin.describeCluster(), which kafkajs implements with a
// Metadata request (kafkajs has no DescribeCluster API).
//
// Observed records the "host:port" of every broker kafkajs sent a request to
// (its REQUEST instrumentation events; NodeID -1 since the events carry no
// node ID) plus everything Brokers returned.
func KafkaJS(t testing.TB) Driver {
	t.Helper()
	d, err := newKafkaJS()
	if err != nil {
		t.Fatalf("clients: %v", err)
	}
	return d
}

type kafkajsDriver struct {
	node, script, nodePath string
	obs                    observer
}

func newKafkaJS() (*kafkajsDriver, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node is not on PATH (%v); install Node.js and run integration/install-deps.sh", err)
	}
	pkgDir, err := packageDir()
	if err != nil {
		return nil, err
	}
	script := filepath.Join(pkgDir, "kafkajs", "driver.js")
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("kafkajs driver script: %w", err)
	}
	root, err := repoRoot(pkgDir)
	if err != nil {
		return nil, err
	}
	nodePath := filepath.Join(root, ".deps", "node", "node_modules")
	if _, err := os.Stat(filepath.Join(nodePath, "kafkajs", "package.json")); err != nil {
		return nil, fmt.Errorf("kafkajs is not installed in %s (%v); run integration/install-deps.sh", nodePath, err)
	}
	return &kafkajsDriver{node: node, script: script, nodePath: nodePath}, nil
}

// packageDir returns this package's source directory: from the compiled-in
// file name, or, when that is unusable (-trimpath), by looking for
// integration/clients above the working directory.
func packageDir() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dir := filepath.Dir(file)
		if _, err := os.Stat(filepath.Join(dir, "kafkajs", "driver.js")); err == nil {
			return dir, nil
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root, err := repoRoot(wd)
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "integration", "clients"), nil
}

// repoRoot walks up from dir to the directory holding go.mod.
func repoRoot(dir string) (string, error) {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		d = parent
	}
}

func (*kafkajsDriver) Name() string         { return "kafkajs" }
func (*kafkajsDriver) Codecs() []string     { return []string{"none", "gzip"} }
func (d *kafkajsDriver) Observed() []Broker { return d.obs.Observed() }

type kjsRecord struct {
	Key       []byte            `json:"key"`
	Value     []byte            `json:"value"`
	Headers   map[string]string `json:"headers,omitempty"`
	Partition int32             `json:"partition,omitempty"`
	Offset    int64             `json:"offset,omitempty"`
}

type kjsCommand struct {
	Op         string      `json:"op"`
	Brokers    []string    `json:"brokers"`
	Topic      string      `json:"topic,omitempty"`
	Codec      string      `json:"codec,omitempty"`
	Records    []kjsRecord `json:"records,omitempty"`
	Group      string      `json:"group,omitempty"`
	N          int         `json:"n,omitempty"`
	Partitions int32       `json:"partitions,omitempty"`
	// DeadlineUnixMs is when the script gives up, in ms since the epoch.
	DeadlineUnixMs int64 `json:"deadlineUnixMs,omitempty"`
}

type kjsReply struct {
	OK          bool            `json:"ok"`
	Error       string          `json:"error"`
	Unsupported bool            `json:"unsupported"`
	TimedOut    bool            `json:"timedOut"`
	Result      json.RawMessage `json:"result"`
	Observed    []string        `json:"observed"`
}

// run sends cmd to driver.js and decodes its reply. The reply's result is
// decoded into result (if non-nil) even when the op failed, so that partial
// results come back.
func (d *kafkajsDriver) run(ctx context.Context, cmd kjsCommand, result any) error {
	if len(cmd.Brokers) == 0 {
		return errors.New("kafkajs: empty bootstrap")
	}
	ctx, cancel := context.WithTimeout(ctx, KafkaJSTimeout)
	defer cancel()
	// Let the script stop by itself a second before the kill, so it can
	// report partial results. The deadline is absolute so that a slow node
	// start does not push it past the kill.
	dl, _ := ctx.Deadline()
	cmd.DeadlineUnixMs = dl.Add(-time.Second).UnixMilli()

	in, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	c := exec.CommandContext(ctx, d.node, d.script)
	c.Env = append(os.Environ(),
		"NODE_PATH="+d.nodePath,
		"KAFKAJS_NO_PARTITIONER_WARNING=1",
	)
	c.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	c.Stdout = &stdout
	c.Stderr = &stderr
	c.WaitDelay = 2 * time.Second
	runErr := c.Run()

	var reply kjsReply
	line := bytes.TrimSpace(stdout.Bytes())
	if i := bytes.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	if jerr := json.Unmarshal(line, &reply); jerr != nil {
		if ctx.Err() != nil {
			runErr = errors.Join(ctx.Err(), runErr)
		}
		return fmt.Errorf("kafkajs %s: no reply (%v; run: %w)\nstdout: %s\nstderr: %s",
			cmd.Op, jerr, runErr, stdout.Bytes(), strings.TrimSpace(stderr.String()))
	}
	for _, a := range reply.Observed {
		d.obs.addAddr(-1, a)
	}
	if result != nil && len(reply.Result) > 0 && string(reply.Result) != "null" {
		if err := json.Unmarshal(reply.Result, result); err != nil {
			return fmt.Errorf("kafkajs %s: bad result %s: %w", cmd.Op, reply.Result, err)
		}
	}
	if !reply.OK {
		err := fmt.Errorf("kafkajs %s: %s", cmd.Op, reply.Error)
		if reply.Unsupported {
			err = fmt.Errorf("%w: %w", err, ErrUnsupported)
		}
		switch {
		case ctx.Err() != nil:
			err = errors.Join(err, ctx.Err())
		case reply.TimedOut: // the script gave up just before ctx's deadline
			err = errors.Join(err, context.DeadlineExceeded)
		}
		if s := strings.TrimSpace(stderr.String()); s != "" {
			err = fmt.Errorf("%w\nstderr: %s", err, s)
		}
		return err
	}
	return nil
}

func (d *kafkajsDriver) Produce(ctx context.Context, bootstrap, topic, codec string, recs []Record) error {
	if err := checkCodec(d, codec); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil // kafkajs rejects an empty send
	}
	krs := make([]kjsRecord, 0, len(recs))
	for _, r := range recs {
		krs = append(krs, kjsRecord{Key: r.Key, Value: r.Value, Headers: r.Headers})
	}
	return d.run(ctx, kjsCommand{Op: "produce", Brokers: bootstrapList(bootstrap), Topic: topic, Codec: codec, Records: krs}, nil)
}

func (d *kafkajsDriver) ConsumeGroup(ctx context.Context, bootstrap, topic, group string, n int) ([]Record, error) {
	if n <= 0 {
		return nil, nil
	}
	var krs []kjsRecord
	err := d.run(ctx, kjsCommand{Op: "consume", Brokers: bootstrapList(bootstrap), Topic: topic, Group: group, N: n}, &krs)
	out := make([]Record, 0, len(krs))
	for _, r := range krs {
		out = append(out, Record(r))
	}
	return out, err
}

func (d *kafkajsDriver) Brokers(ctx context.Context, bootstrap string) ([]Broker, error) {
	var res []struct {
		NodeID int32  `json:"nodeId"`
		Host   string `json:"host"`
		Port   int32  `json:"port"`
	}
	if err := d.run(ctx, kjsCommand{Op: "brokers", Brokers: bootstrapList(bootstrap)}, &res); err != nil {
		return nil, err
	}
	bs := make([]Broker, 0, len(res))
	for _, b := range res {
		bs = append(bs, Broker{NodeID: b.NodeID, Host: b.Host, Port: b.Port})
	}
	bs = dedupBrokers(bs)
	d.obs.add(bs...)
	return bs, nil
}

func (d *kafkajsDriver) CreateTopic(ctx context.Context, bootstrap, topic string, partitions int32) error {
	return d.run(ctx, kjsCommand{Op: "createTopic", Brokers: bootstrapList(bootstrap), Topic: topic, Partitions: partitions}, nil)
}

func (d *kafkajsDriver) DescribeTopicConfigs(ctx context.Context, bootstrap, topic string) (map[string]string, error) {
	out := map[string]string{}
	if err := d.run(ctx, kjsCommand{Op: "describeConfigs", Brokers: bootstrapList(bootstrap), Topic: topic}, &out); err != nil {
		return nil, err
	}
	return out, nil
}
