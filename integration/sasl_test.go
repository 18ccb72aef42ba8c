package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	kgosasl "github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	kgoscram "github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/xdg-go/scram"

	"github.com/linkproxy/linkproxy/auth/sasl"
)

// SASL termination through real clients: kgo, Sarama, kcat (librdkafka)
// and kafkajs authenticate on a SASL_PLAINTEXT listener (EXTERNAL) beside a
// PLAINTEXT one (INTERNAL), produce and consume; a wrong password is
// refused for each; kgo re-authenticates (KIP-368). Every test then reads
// the proxy's logs for the passwords it used.

const (
	itAlicePass = "Al1ce-It-Secret-8841"
	itBobPass   = "B0b-It-Secret-2273"
	itWrongPass = "Wr0ng-It-Secret-6610"
)

var itPasswords = []string{itAlicePass, itBobPass, itWrongPass}

// saslEnv starts an env whose EXTERNAL listener is SASL_PLAINTEXT with
// SCRAM-SHA-512, SCRAM-SHA-256 and PLAIN; alice has both SCRAM entries,
// bob SCRAM-SHA-256 only. extra adds lines to that listener. When the test
// ends, the proxy's logs must hold none of the passwords.
func saslEnv(t *testing.T, extra string, topics ...string) *env {
	t.Helper()
	return saslEnvOn(t, func(sasl string) string { return `"security.protocol" = "SASL_PLAINTEXT"` + "\n" + sasl }, extra, topics...)
}

// saslEnvOn is saslEnv with the EXTERNAL listener's lines made by listener
// from the SASL lines: a SASL_SSL listener adds its TLS lines.
func saslEnvOn(t *testing.T, listener func(saslLines string) string, extra string, topics ...string) *env {
	t.Helper()
	var lines []string
	for _, u := range []struct{ user, mech, pass string }{
		{"alice", sasl.ScramSHA512, itAlicePass}, {"alice", sasl.ScramSHA256, itAlicePass}, {"bob", sasl.ScramSHA256, itBobPass},
	} {
		e, err := sasl.NewEntry(u.user, u.mech, []byte(u.pass), sasl.DefaultIterations)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, e.String())
	}
	creds := filepath.Join(t.TempDir(), "users.creds")
	if err := os.WriteFile(creds, []byte("# linkproxy scram entries\n"+strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var e *env
	t.Cleanup(func() { // runs after the proxy stopped: the whole run's logs
		if e != nil {
			checkNoSecrets(t, e.Logs.String(), append([]string{itStorePass}, itPasswords...))
		}
	})
	e = startEnv(t, withKfake(kfake.SeedTopics(3, topics...)), withListener("EXTERNAL", listener(fmt.Sprintf(`"sasl.enabled.mechanisms" = ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]
"sasl.credentials.file" = %q
%s`, creds, extra))))
	return e
}

// checkNoSecrets fails if logs hold a password, raw or base64 (as inside
// a SaslAuthenticate token).
func checkNoSecrets(t *testing.T, logs string, passwords []string) {
	t.Helper()
	if logs == "" {
		t.Error("no logs to check")
	}
	for _, p := range passwords {
		for _, form := range []string{p, base64.StdEncoding.EncodeToString([]byte(p)), base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + p))} {
			if strings.Contains(logs, form) {
				t.Errorf("the proxy's logs hold a password (%q)", form)
			}
		}
	}
}

func values(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

func sameValues(t *testing.T, who string, got, want []string) {
	t.Helper()
	got, want = slices.Clone(got), slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s consumed %d values %v, want %d %v", who, len(got), got, len(want), want)
	}
}

const authFailedSCRAM512 = "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"

// --- franz-go ---

func kgoRun(ctx context.Context, bootstrap string, m kgosasl.Mechanism, topic, group string, vals []string) ([]string, error) {
	return kgoTLSRun(ctx, bootstrap, []kgo.Opt{kgo.SASL(m), kgo.ConsumerGroup(group)}, topic, vals)
}

func TestSASLKgo(t *testing.T) {
	e := saslEnv(t, "", "kgo-scram512", "kgo-scram256", "kgo-plain")
	ext := e.Listeners["EXTERNAL"].Bootstrap
	for _, c := range []struct {
		topic string
		mech  kgosasl.Mechanism
	}{
		{"kgo-scram512", kgoscram.Auth{User: "alice", Pass: itAlicePass}.AsSha512Mechanism()},
		{"kgo-scram256", kgoscram.Auth{User: "bob", Pass: itBobPass}.AsSha256Mechanism()},
		{"kgo-plain", plain.Auth{User: "bob", Pass: itBobPass}.AsMechanism()},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		vals := values(c.topic, 20)
		got, err := kgoRun(ctx, ext, c.mech, c.topic, "g-"+c.topic, vals)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", c.topic, err)
		}
		sameValues(t, c.topic, got, vals)
	}
	// The principal is bound to each connection beside its listener.
	l := e.Logs.waitLine(t, "authenticated", func(m map[string]any) bool { return m["principal"] == "User:bob" })
	if l["listener"] != "EXTERNAL" || l["mechanism"] == nil {
		t.Errorf("authenticated line: %v", l)
	}

	// Wrong password, and a user who does not exist: the same refusal.
	for _, user := range []string{"alice", "mallory"} {
		cl, err := kgo.NewClient(kgo.SeedBrokers(ext), kgo.SASL(kgoscram.Auth{User: user, Pass: itWrongPass}.AsSha512Mechanism()))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err = cl.Ping(ctx)
		cancel()
		cl.Close()
		if err == nil || !strings.Contains(err.Error(), authFailedSCRAM512) {
			t.Errorf("kgo, %s with a wrong password: %v", user, err)
		}
	}
	// The PLAINTEXT listener beside it needs no credentials.
	cl, _ := kgo.NewClient(kgo.SeedBrokers(e.Listeners["INTERNAL"].Bootstrap))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		t.Errorf("PLAINTEXT listener: %v", err)
	}
}

// TestSASLKgoReauthentication: with connections.max.reauth.ms the session
// lifetime reaches kgo, which re-authenticates on its connections while it
// produces and consumes; no connection is closed for an expired session.
func TestSASLKgoReauthentication(t *testing.T) {
	e := saslEnv(t, `"connections.max.reauth.ms" = 2500`, "reauth")
	ext := e.Listeners["EXTERNAL"].Bootstrap
	cl, err := kgo.NewClient(kgo.SeedBrokers(ext), kgo.SASL(kgoscram.Auth{User: "alice", Pass: itAlicePass}.AsSha512Mechanism()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0), kgo.DefaultProduceTopic("reauth"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var vals []string
	for i := 0; time.Duration(i)*150*time.Millisecond < 7*time.Second; i++ {
		v := fmt.Sprintf("reauth-%03d", i)
		if err := cl.ProduceSync(ctx, kgo.StringRecord(v)).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
		vals = append(vals, v)
		time.Sleep(150 * time.Millisecond)
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(ext), kgo.SASL(kgoscram.Auth{User: "alice", Pass: itAlicePass}.AsSha512Mechanism()),
		kgo.ConsumeTopics("reauth"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var read []string
	for len(read) < len(vals) {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d: %v", len(read), len(vals), ctx.Err())
		}
		fs.EachError(func(t2 string, p int32, err error) { t.Errorf("fetch %s[%d]: %v", t2, p, err) })
		fs.EachRecord(func(r *kgo.Record) { read = append(read, string(r.Value)) })
	}
	sameValues(t, "kgo after re-authentications", read, vals)

	first := e.Logs.waitLine(t, "authenticated", func(m map[string]any) bool { return m["principal"] == "User:alice" })
	if first["session_lifetime_ms"] != float64(2500) {
		t.Errorf("authenticated line: %v", first)
	}
	if n := len(e.Logs.lines("re-authenticated")); n < 2 {
		t.Errorf("%d re-authentications in about 7s with a 2.5s session lifetime", n)
	}
	for _, l := range e.Logs.lines("connection closed") {
		if strings.Contains(fmt.Sprint(l["reason"]), "expired") {
			t.Errorf("a connection was closed for an expired session: %v", l)
		}
	}
}

// --- Sarama ---

type xdgClient struct {
	*scram.ClientConversation
	gen scram.HashGeneratorFcn
}

func (x *xdgClient) Begin(user, pass, authzID string) error {
	cl, err := x.gen.NewClient(user, pass, authzID)
	if err != nil {
		return err
	}
	x.ClientConversation = cl.NewConversation()
	return nil
}

func (x *xdgClient) Step(challenge string) (string, error) {
	return x.ClientConversation.Step(challenge)
}
func (x *xdgClient) Done() bool { return x.ClientConversation.Done() }

func saramaConfig(mech sarama.SASLMechanism, version int16, user, pass string) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_3_1_0
	cfg.ClientID = "linkproxy-it-sarama-sasl"
	cfg.Net.DialTimeout, cfg.Net.ReadTimeout, cfg.Net.WriteTimeout = 5*time.Second, 10*time.Second, 10*time.Second
	cfg.Net.SASL.Enable, cfg.Net.SASL.Handshake = true, true
	cfg.Net.SASL.Mechanism, cfg.Net.SASL.Version = mech, version
	cfg.Net.SASL.User, cfg.Net.SASL.Password = user, pass
	// Sarama's legacy flow starts with SaslHandshake v0, no ApiVersions.
	cfg.ApiVersionsRequest = version != sarama.SASLHandshakeV0
	switch mech {
	case sarama.SASLTypeSCRAMSHA512:
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &xdgClient{gen: scram.SHA512} }
	case sarama.SASLTypeSCRAMSHA256:
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &xdgClient{gen: scram.SHA256} }
	}
	cfg.Metadata.Retry.Max, cfg.Metadata.Retry.Backoff = 5, 100*time.Millisecond
	cfg.Producer.Return.Successes, cfg.Producer.RequiredAcks = true, sarama.WaitForAll
	cfg.Consumer.Return.Errors, cfg.Consumer.MaxWaitTime = true, 200*time.Millisecond
	return cfg
}

func saramaRoundTrip(bootstrap string, cfg *sarama.Config, topic string, vals []string) ([]string, error) {
	cl, err := sarama.NewClient([]string{bootstrap}, cfg)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	p, err := sarama.NewSyncProducerFromClient(cl)
	if err != nil {
		return nil, err
	}
	for _, v := range vals {
		if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(v)}); err != nil {
			p.Close()
			return nil, fmt.Errorf("produce: %w", err)
		}
	}
	p.Close()
	c, err := sarama.NewConsumerFromClient(cl)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	parts, err := c.Partitions(topic)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	var once sync.Once
	for _, part := range parts {
		pc, err := c.ConsumePartition(topic, part, sarama.OffsetOldest)
		if err != nil {
			return nil, err
		}
		defer pc.Close()
		go func() {
			for m := range pc.Messages() {
				mu.Lock()
				got = append(got, string(m.Value))
				if len(got) == len(vals) {
					once.Do(func() { close(done) })
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		return nil, errors.New("consume: timeout")
	}
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(got), nil
}

func TestSASLSarama(t *testing.T) {
	e := saslEnv(t, "", "sarama-scram512", "sarama-scram256-v0", "sarama-plain-v0")
	ext := e.Listeners["EXTERNAL"].Bootstrap
	for _, c := range []struct {
		topic      string
		mech       sarama.SASLMechanism
		version    int16
		user, pass string
	}{
		{"sarama-scram512", sarama.SASLTypeSCRAMSHA512, sarama.SASLHandshakeV1, "alice", itAlicePass},
		{"sarama-scram256-v0", sarama.SASLTypeSCRAMSHA256, sarama.SASLHandshakeV0, "bob", itBobPass}, // raw tokens
		{"sarama-plain-v0", sarama.SASLTypePlaintext, sarama.SASLHandshakeV0, "alice", itAlicePass},
	} {
		vals := values(c.topic, 10)
		got, err := saramaRoundTrip(ext, saramaConfig(c.mech, c.version, c.user, c.pass), c.topic, vals)
		if err != nil {
			t.Fatalf("%s: %v", c.topic, err)
		}
		sameValues(t, c.topic, got, vals)
	}
	_, err := sarama.NewClient([]string{ext}, saramaConfig(sarama.SASLTypeSCRAMSHA512, sarama.SASLHandshakeV1, "alice", itWrongPass))
	if err == nil || !errors.Is(err, sarama.ErrOutOfBrokers) {
		t.Errorf("Sarama, wrong password: %v", err)
	}
	l := e.Logs.waitLine(t, "SASL authentication failed", func(m map[string]any) bool { return m["user"] == "alice" })
	if l["mechanism"] != "SCRAM-SHA-512" || !strings.Contains(fmt.Sprint(l["reason"]), "wrong password") {
		t.Errorf("failure line: %v", l)
	}
}

// --- kcat (librdkafka) ---

func TestSASLKcat(t *testing.T) {
	e := saslEnv(t, "", "kcat-scram512", "kcat-plain")
	ext := e.Listeners["EXTERNAL"].Bootstrap
	for _, c := range []struct{ topic, mech, user, pass string }{
		{"kcat-scram512", "SCRAM-SHA-512", "alice", itAlicePass},
		{"kcat-plain", "PLAIN", "bob", itBobPass},
	} {
		vals := values(c.topic, 10)
		if _, stderr, err := kcatSASL(t, ext, c.mech, c.user, c.pass, []byte(strings.Join(vals, "\n")+"\n"),
			"-P", "-t", c.topic, "-X", "acks=all", "-X", "linger.ms=0"); err != nil {
			t.Fatalf("kcat produce %s: %v\n%s", c.topic, err, stderr)
		}
		stdout, stderr, err := kcatSASL(t, ext, c.mech, c.user, c.pass, nil,
			"-C", "-G", "g-"+c.topic, "-o", "beginning", "-X", "auto.offset.reset=earliest", "-X", "fetch.wait.max.ms=200",
			"-c", fmt.Sprint(len(vals)), "-f", "%s\n", c.topic)
		if err != nil {
			t.Fatalf("kcat consume %s: %v\n%s", c.topic, err, stderr)
		}
		sameValues(t, "kcat "+c.mech, strings.Fields(stdout), vals)
	}
	_, stderr, err := kcatSASL(t, ext, "SCRAM-SHA-512", "alice", itWrongPass, nil, "-L")
	if err == nil || !strings.Contains(stderr, authFailedSCRAM512) {
		t.Errorf("kcat, wrong password: %v\n%s", err, stderr)
	}
}

// --- kafkajs ---

// kafkajsScript produces the values to a topic and consumes them back in a
// group, with the SASL (user and password, or an OAUTHBEARER token) and TLS
// settings it is given.
const kafkajsScript = `'use strict'
const { Kafka, logLevel } = require('kafkajs')
let input = ''
process.stdin.on('data', d => { input += d })
process.stdin.on('end', async () => {
  const cmd = JSON.parse(input)
  let sasl = cmd.sasl
  if (cmd.token) {
    sasl = { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: cmd.token }) }
  }
  const kafka = new Kafka({
    clientId: 'linkproxy-it-kafkajs', brokers: cmd.brokers, sasl, ssl: cmd.ssl, logLevel: logLevel.NOTHING,
    connectionTimeout: 5000, requestTimeout: 10000,
    retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: cmd.retries },
  })
  try {
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    await producer.connect()
    await producer.send({ topic: cmd.topic, acks: -1, messages: cmd.values.map(v => ({ value: v })) })
    await producer.disconnect()
    const got = []
    const consumer = kafka.consumer({ groupId: cmd.group, sessionTimeout: 10000, rebalanceTimeout: 10000, heartbeatInterval: 1000, maxWaitTimeInMs: 200 })
    await consumer.connect()
    await consumer.subscribe({ topics: [cmd.topic], fromBeginning: true })
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('consume timeout')), 40000)
      consumer.run({ eachMessage: async ({ message }) => {
        got.push(message.value.toString())
        if (got.length >= cmd.values.length) { clearTimeout(timer); resolve() }
      } }).catch(reject)
    })
    await consumer.disconnect()
    console.log(JSON.stringify({ ok: true, values: got }))
    process.exit(0)
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String((e && e.message) || e), name: e && e.name }))
    process.exit(1)
  }
})
`

type kafkajsSASLReply struct {
	OK     bool     `json:"ok"`
	Error  string   `json:"error"`
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// kafkajsJob is what kafkajsScript does: Sasl (mechanism, username,
// password) or Token (OAUTHBEARER); SSL, when set, is kafkajs's ssl option
// (e.g. {"ca": [pem]}).
type kafkajsJob struct {
	Brokers []string          `json:"brokers"`
	Topic   string            `json:"topic"`
	Group   string            `json:"group"`
	Values  []string          `json:"values"`
	Retries int               `json:"retries"`
	SASL    map[string]string `json:"sasl,omitempty"`
	Token   string            `json:"token,omitempty"`
	SSL     map[string]any    `json:"ssl,omitempty"`
}

func kafkajsRun(t *testing.T, job kafkajsJob) kafkajsSASLReply {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH (%v); run integration/install-deps.sh", err)
	}
	wd, _ := os.Getwd()
	nodePath := filepath.Join(filepath.Dir(wd), ".deps", "node", "node_modules")
	if _, err := os.Stat(filepath.Join(nodePath, "kafkajs", "package.json")); err != nil {
		t.Fatalf("kafkajs is not installed in %s (%v); run integration/install-deps.sh", nodePath, err)
	}
	script := filepath.Join(t.TempDir(), "kafkajs.js")
	if err := os.WriteFile(script, []byte(kafkajsScript), 0o644); err != nil {
		t.Fatal(err)
	}
	if job.Group == "" {
		job.Group = "g-" + job.Topic
	}
	if job.Retries == 0 {
		job.Retries = 3
	}
	in, _ := json.Marshal(job)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodePath, "KAFKAJS_NO_PARTITIONER_WARNING=1")
	cmd.Stdin = bytes.NewReader(in)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = 2 * time.Second
	_ = cmd.Run()
	var r kafkajsSASLReply
	line := strings.TrimSpace(out.String())
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("kafkajs: no reply (%v)\nstdout: %s\nstderr: %s", err, out.String(), errOut.String())
	}
	return r
}

func kafkajsSASL(t *testing.T, bootstrap, mechanism, user, pass, topic string, vals []string) kafkajsSASLReply {
	t.Helper()
	return kafkajsRun(t, kafkajsJob{Brokers: []string{bootstrap}, Topic: topic, Values: vals,
		SASL: map[string]string{"mechanism": mechanism, "username": user, "password": pass}})
}

func TestSASLKafkaJS(t *testing.T) {
	e := saslEnv(t, "", "kafkajs-scram512", "kafkajs-plain", "kafkajs-refused")
	ext := e.Listeners["EXTERNAL"].Bootstrap
	for _, c := range []struct{ topic, mech, user, pass string }{
		{"kafkajs-scram512", "scram-sha-512", "alice", itAlicePass},
		{"kafkajs-plain", "plain", "alice", itAlicePass},
	} {
		vals := values(c.topic, 10)
		r := kafkajsSASL(t, ext, c.mech, c.user, c.pass, c.topic, vals)
		if !r.OK {
			t.Fatalf("kafkajs %s: %s", c.mech, r.Error)
		}
		sameValues(t, "kafkajs "+c.mech, r.Values, vals)
	}
	r := kafkajsSASL(t, ext, "scram-sha-512", "alice", itWrongPass, "kafkajs-refused", []string{"x"})
	if r.OK || r.Name != "KafkaJSSASLAuthenticationError" || !strings.Contains(r.Error, authFailedSCRAM512) {
		t.Errorf("kafkajs, wrong password: %+v", r)
	}
}
