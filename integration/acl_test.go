package integration

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	kgoscram "github.com/twmb/franz-go/pkg/sasl/scram"
)

// Authorization at the edge, through real clients: on one proxy the
// INTERNAL listener is PLAINTEXT (User:ANONYMOUS), EXTERNAL is SASL_SSL
// (alice and bob with SCRAM inside TLS), each principal with its own ACLs. ANONYMOUS may only read public; alice may write and read
// orders.* except write orders.audit (a DENY), and use group g1; bob is a
// super user.

// aclTables follow the EXTERNAL listener's lines, the last table of the
// harness's file, so they can open tables of their own.
const aclTables = `
[authorizer]
super.users = "User:bob"

[[authorizer.acl]]
principal = "User:alice"
operation = "WRITE"
resource_type = "TOPIC"
resource_name = "orders."
pattern_type = "PREFIXED"

[[authorizer.acl]]
principal = "User:alice"
operation = "READ"
resource_type = "TOPIC"
resource_name = "orders."
pattern_type = "PREFIXED"

[[authorizer.acl]]
principal = "User:alice"
operation = "WRITE"
permission = "DENY"
resource_type = "TOPIC"
resource_name = "orders.audit"

[[authorizer.acl]]
principal = "User:alice"
operation = "READ"
resource_type = "GROUP"
resource_name = "g1"

[[authorizer.acl]]
principal = "User:ANONYMOUS"
operation = "READ"
resource_type = "TOPIC"
resource_name = "public"
`

const deniedMsg = "request denied by ACL; if the principal needs it, add an ALLOW ACL to [authorizer]"

type aclTestEnv struct {
	*env
	pki *tlsPKI
}

func aclEnv(t *testing.T) *aclTestEnv {
	t.Helper()
	pki := newTLSPKI(t)
	e := saslEnvOn(t, func(sasl string) string { return pki.listenerLines("SASL_SSL", sasl) }, aclTables,
		"orders.a", "orders.audit", "public", "secret")
	return &aclTestEnv{env: e, pki: pki}
}

// scramClient logs in to EXTERNAL over TLS.
func (e *aclTestEnv) scramClient(t *testing.T, user, pass string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append([]kgo.Opt{kgo.SeedBrokers(e.Listeners["EXTERNAL"].Bootstrap), kgo.ClientID("linkproxy-it-acl"),
		kgo.DialTLSConfig(e.pki.clientTLS(nil)),
		kgo.SASL(kgoscram.Auth{User: user, Pass: pass}.AsSha256Mechanism()), // bob has SCRAM-SHA-256 only
		kgo.ProducerLinger(0), kgo.RetryTimeout(15 * time.Second), kgo.RecordRetries(3)}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func plainClient(t *testing.T, bootstrap string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ClientID("linkproxy-it-acl-anon"), kgo.RetryTimeout(15*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func topicNames(t *testing.T, ctx context.Context, cl *kgo.Client) []string {
	t.Helper()
	tds, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := tds.Names()
	slices.Sort(names)
	return names
}

// denialLogged waits for the denial line of principal on listener.
func denialLogged(t *testing.T, e *aclTestEnv, principal, listener, op, resource string) {
	t.Helper()
	e.Logs.waitLine(t, deniedMsg, func(m map[string]any) bool {
		return m["principal"] == principal && m["listener"] == listener && m["operation"] == op &&
			m["resource_name"] == resource && m["resource_type"] != nil && m["host"] != nil
	})
}

func TestACLKgo(t *testing.T) {
	e := aclEnv(t)
	ext, inside := e.Listeners["EXTERNAL"].Bootstrap, e.Listeners["INTERNAL"].Bootstrap
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	alice := e.scramClient(t, "alice", itAlicePass)

	t.Run("allowed prefix: idempotent produce (KIP-679), group g1", func(t *testing.T) {
		vals := values("orders", 5)
		got, err := kgoTLSRun(ctx, ext, []kgo.Opt{kgo.DialTLSConfig(e.pki.clientTLS(nil)), kgo.ConsumerGroup("g1"),
			kgo.SASL(kgoscram.Auth{User: "alice", Pass: itAlicePass}.AsSha512Mechanism())}, "orders.a", vals)
		if err != nil {
			t.Fatal(err)
		}
		sameValues(t, "alice", got, vals)
	})

	t.Run("produce to a topic without WRITE", func(t *testing.T) {
		err := alice.ProduceSync(ctx, &kgo.Record{Topic: "secret", Value: []byte("x")}).FirstErr()
		if !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("produce to secret: %v, want TOPIC_AUTHORIZATION_FAILED", err)
		}
		denialLogged(t, e, "User:alice", "EXTERNAL", "DESCRIBE", "secret") // metadata comes first
	})

	t.Run("DENY beats the prefixed ALLOW", func(t *testing.T) {
		err := alice.ProduceSync(ctx, &kgo.Record{Topic: "orders.audit", Value: []byte("x")}).FirstErr()
		if !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("produce to orders.audit: %v, want TOPIC_AUTHORIZATION_FAILED", err)
		}
		denialLogged(t, e, "User:alice", "EXTERNAL", "WRITE", "orders.audit")
	})

	t.Run("mixed produce: the allowed topic is written", func(t *testing.T) {
		admin := kadm.NewClient(e.scramClient(t, "bob", itBobPass))
		md, err := admin.Metadata(ctx, "orders.a", "orders.audit")
		if err != nil {
			t.Fatal(err)
		}
		// One request needs both topics on one broker.
		leader, ordersPart, auditPart := int32(-1), int32(-1), int32(-1)
		for _, op := range md.Topics["orders.a"].Partitions {
			for _, ap := range md.Topics["orders.audit"].Partitions {
				if op.Leader == ap.Leader {
					leader, ordersPart, auditPart = op.Leader, op.Partition, ap.Partition
				}
			}
		}
		if leader < 0 {
			t.Fatalf("no broker leads partitions of both topics: %+v", md.Topics)
		}
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = -1, 10000
		for _, tp := range []struct {
			topic string
			part  int32
		}{{"orders.a", ordersPart}, {"orders.audit", auditPart}} {
			rt := kmsg.NewProduceRequestTopic()
			rt.Topic, rt.TopicID = tp.topic, md.Topics[tp.topic].ID // v13+ names topics by id
			p := kmsg.NewProduceRequestTopicPartition()
			p.Partition, p.Records = tp.part, batch()
			rt.Partitions = append(rt.Partitions, p)
			req.Topics = append(req.Topics, rt)
		}
		resp, err := req.RequestWith(ctx, alice.Broker(int(leader)))
		if err != nil {
			t.Fatal(err)
		}
		codes := map[string]int16{}
		for _, rt := range resp.Topics {
			name := rt.Topic
			for n, td := range md.Topics {
				if rt.TopicID != ([16]byte{}) && [16]byte(td.ID) == rt.TopicID {
					name = n
				}
			}
			for _, p := range rt.Partitions {
				codes[name] = p.ErrorCode
			}
		}
		if len(codes) != 2 || codes["orders.a"] != 0 || codes["orders.audit"] != kerr.TopicAuthorizationFailed.Code {
			t.Fatalf("per-topic codes %v, want orders.a written and orders.audit TOPIC_AUTHORIZATION_FAILED", codes)
		}
		offs, err := admin.ListEndOffsets(ctx, "orders.audit")
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := offs.Lookup("orders.audit", auditPart); o.Offset != 0 {
			t.Fatalf("orders.audit partition %d has end offset %d: the denied part was written", auditPart, o.Offset)
		}
	})

	t.Run("consumer group without READ", func(t *testing.T) {
		cl := e.scramClient(t, "alice", itAlicePass, kgo.ConsumerGroup("g2"), kgo.ConsumeTopics("orders.a"))
		var err error
		for err == nil && ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			for _, fe := range fs.Errors() {
				if errors.Is(fe.Err, kerr.GroupAuthorizationFailed) {
					err = fe.Err
				}
			}
		}
		if !errors.Is(err, kerr.GroupAuthorizationFailed) {
			t.Fatalf("group g2: %v, want GROUP_AUTHORIZATION_FAILED", err)
		}
		denialLogged(t, e, "User:alice", "EXTERNAL", "DESCRIBE", "g2")
		if _, err := kadm.NewClient(alice).FetchOffsets(ctx, "g2"); !errors.Is(err, kerr.GroupAuthorizationFailed) {
			t.Fatalf("kadm FetchOffsets g2: %v, want GROUP_AUTHORIZATION_FAILED", err)
		}
	})

	t.Run("create topics without CREATE", func(t *testing.T) {
		resp, err := kadm.NewClient(alice).CreateTopics(ctx, 1, 1, nil, "orders.new")
		if err != nil {
			t.Fatal(err)
		}
		if r := resp["orders.new"]; !errors.Is(r.Err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("create orders.new: %v, want TOPIC_AUTHORIZATION_FAILED", r.Err)
		}
		denialLogged(t, e, "User:alice", "EXTERNAL", "CREATE", "orders.new")
	})

	t.Run("metadata for all topics hides the rest", func(t *testing.T) {
		if got, want := topicNames(t, ctx, alice), []string{"orders.a", "orders.audit"}; !slices.Equal(got, want) {
			t.Errorf("alice sees %v, want %v", got, want)
		}
		if got, want := topicNames(t, ctx, plainClient(t, inside)), []string{"public"}; !slices.Equal(got, want) {
			t.Errorf("ANONYMOUS sees %v, want %v", got, want)
		}
	})

	t.Run("super user bypasses", func(t *testing.T) {
		bob := e.scramClient(t, "bob", itBobPass)
		if err := bob.ProduceSync(ctx, &kgo.Record{Topic: "secret", Value: []byte("bob")}).FirstErr(); err != nil {
			t.Fatalf("bob produce to secret: %v", err)
		}
		resp, err := kadm.NewClient(bob).CreateTopics(ctx, 1, 1, nil, "bob.new")
		if err != nil || resp["bob.new"].Err != nil {
			t.Fatalf("bob create: %v %v", err, resp["bob.new"].Err)
		}
		if got := topicNames(t, ctx, bob); !slices.Contains(got, "secret") || !slices.Contains(got, "bob.new") {
			t.Errorf("bob sees %v, want every topic", got)
		}
	})
}

// kcatPlain runs kcat against a PLAINTEXT listener.
func TestACLKcat(t *testing.T) {
	e := aclEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bob := e.scramClient(t, "bob", itBobPass)
	vals := values("public", 3)
	for _, topic := range []string{"public", "secret"} {
		for _, v := range vals {
			if err := bob.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	inside := e.Listeners["INTERNAL"].Bootstrap
	stdout, stderr, err := kcatRun(t, inside, nil, "-C", "-t", "public", "-o", "beginning", "-c", fmt.Sprint(len(vals)), "-f", "%s\n")
	if err != nil {
		t.Fatalf("kcat read public: %v\n%s", err, stderr)
	}
	sameValues(t, "kcat ANONYMOUS", strings.Fields(stdout), vals)

	stdout, stderr, err = kcatRun(t, inside, nil, "-C", "-t", "secret", "-o", "beginning", "-e", "-f", "%s\n")
	if err == nil || !strings.Contains(strings.ToLower(stderr), "authorization failed") || strings.Contains(stdout, "public-") {
		t.Fatalf("kcat read secret: err %v, stdout %q, stderr:\n%s\nwant an authorization error", err, stdout, stderr)
	}
	t.Logf("kcat on secret: %v: %s", err, strings.TrimSpace(stderr))
	denialLogged(t, e, "User:ANONYMOUS", "INTERNAL", "DESCRIBE", "secret")
}
