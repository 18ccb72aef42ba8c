package proxy

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/linkproxy/linkproxy/auth/acl"
	"github.com/linkproxy/linkproxy/conf"
	"github.com/linkproxy/linkproxy/listeners"
	"github.com/linkproxy/linkproxy/proxy/rewrite"
)

var (
	ordersID = [16]byte{9, 9, 1}
	otherID  = [16]byte{9, 9, 2}
)

func authzACL(p string, op acl.Operation, perm acl.Permission, rt acl.ResourceType, name string, pt acl.PatternType) acl.Binding {
	return acl.Binding{Principal: p, Host: "*", Operation: op, Permission: perm, ResourceType: rt, ResourceName: name, PatternType: pt}
}

// testAuthz is the ACL set of the authorizer unit tests: alice reads and
// writes orders.*, but not orders.secret, uses group g1 and transactional
// id tx1; bob may create topics, produce idempotently and describe the
// cluster; anonymous clients read public; admin is a super user.
var testAuthz = &conf.Authorizer{
	SuperUsers: []string{"User:admin"},
	ACLs: []acl.Binding{
		authzACL("User:alice", acl.Write, acl.Allow, acl.Topic, "orders.", acl.Prefixed),
		authzACL("User:alice", acl.Read, acl.Allow, acl.Topic, "orders.", acl.Prefixed),
		authzACL("User:alice", acl.Read, acl.Deny, acl.Topic, "orders.secret", acl.Literal),
		authzACL("User:alice", acl.Read, acl.Allow, acl.Group, "g1", acl.Literal),
		authzACL("User:alice", acl.Write, acl.Allow, acl.TransactionalID, "tx1", acl.Literal),
		authzACL("User:alice", acl.DescribeConfigs, acl.Allow, acl.Topic, "orders.", acl.Prefixed),
		authzACL("User:bob", acl.Create, acl.Allow, acl.Cluster, acl.ClusterName, acl.Literal),
		authzACL("User:bob", acl.IdempotentWrite, acl.Allow, acl.Cluster, acl.ClusterName, acl.Literal),
		authzACL("User:bob", acl.Describe, acl.Allow, acl.Cluster, acl.ClusterName, acl.Literal),
		authzACL("User:ANONYMOUS", acl.Read, acl.Allow, acl.Topic, "public", acl.Literal),
	},
}

// addrConn is a connection that only has a remote address.
type addrConn struct{ net.Conn }

func (addrConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 5555} }

func authzClient(t *testing.T, principal string, mirrors MirrorTopics) (*client, *lockedBuf) {
	t.Helper()
	logs := new(lockedBuf)
	p := &Proxy{cfg: &conf.Config{Authorizer: testAuthz}}
	p.guard.ids.names = map[[16]byte]string{ordersID: "orders.a", otherID: "other"}
	p.guard.ids.looked = time.Now().Add(time.Hour) // never looked up again
	if mirrors != nil {
		p.SetMirrorTopics(mirrors)
	}
	l := listeners.New(conf.Listener{Name: "TEST", Listen: "127.0.0.1:0"}, hclog.NewNullLogger())
	cl := &client{p: p, conn: &listeners.Conn{Conn: addrConn{}, Listener: l}, log: hclog.New(&hclog.LoggerOptions{Output: logs, JSONFormat: true}).With("listener", "TEST")}
	cl.principal.Store(&principal)
	return cl, logs
}

// authzRun checks req for principal and returns the verdict, what went
// upstream (nil for a stand-in; req when untouched) and the client's
// response built from broker (nil when answered here or untouched).
func authzRun(t *testing.T, principal string, req kmsg.Request, broker kmsg.Response) (guardVerdict, kmsg.Request, kmsg.Response) {
	t.Helper()
	cl, _ := authzClient(t, principal, nil)
	return authzRunOn(t, cl, req, broker)
}

func authzRunOn(t *testing.T, cl *client, req kmsg.Request, broker kmsg.Response) (guardVerdict, kmsg.Request, kmsg.Response) {
	t.Helper()
	frame := requestFrame(req)
	v, err := cl.checkRequest(frame, true)
	if err != nil {
		t.Fatal(err)
	}
	if v.pending.answer == nil {
		return v, req, nil
	}
	for i := range frame { // the frame goes back to the pool before the answer is built
		frame[i] = 0xaa
	}
	fs := frames(t, v.forward)
	if len(fs) != 1 {
		t.Fatalf("%d frames forwarded", len(fs))
	}
	fwd := decodeRequest(t, fs[0])
	if !v.pending.answer.forwarded {
		if fwd.Key() != 18 {
			t.Fatalf("answered here but forwarded %s, want the ApiVersions stand-in", kmsg.NameForKey(fwd.Key()))
		}
		return v, nil, respond(t, v, nil)
	}
	if broker == nil {
		broker = kmsg.ResponseForKey(req.Key())
	}
	return v, fwd, respond(t, v, broker)
}

func versioned[T kmsg.Request](req T, v int16) T {
	req.SetVersion(v)
	return req
}

func produceTopics(v int16, txn *string, acks int16, topics ...string) *kmsg.ProduceRequest {
	req := produceRequest(v, acks, topics...)
	req.TransactionID = txn
	return req
}

func fetchRequest(v int16, replica int32, topics ...string) *kmsg.FetchRequest {
	req := versioned(kmsg.NewPtrFetchRequest(), v)
	req.ReplicaID = replica
	for _, name := range topics {
		t := kmsg.NewFetchRequestTopic()
		t.Topic = name
		p := kmsg.NewFetchRequestTopicPartition()
		p.Partition = 0
		t.Partitions = append(t.Partitions, p)
		req.Topics = append(req.Topics, t)
	}
	return req
}

func metadataRequest(v int16, auto bool, topics ...string) *kmsg.MetadataRequest {
	req := versioned(kmsg.NewPtrMetadataRequest(), v)
	req.AllowAutoTopicCreation = auto
	if topics == nil {
		req.Topics = nil
		return req
	}
	req.Topics = []kmsg.MetadataRequestTopic{}
	for _, name := range topics {
		t := kmsg.NewMetadataRequestTopic()
		t.Topic = kmsg.StringPtr(name)
		req.Topics = append(req.Topics, t)
	}
	return req
}

func metadataResponse(code int16, topics ...string) *kmsg.MetadataResponse {
	r := kmsg.NewPtrMetadataResponse()
	for _, name := range topics {
		t := kmsg.NewMetadataResponseTopic()
		t.Topic, t.ErrorCode = kmsg.StringPtr(name), code
		t.Partitions = []kmsg.MetadataResponseTopicPartition{kmsg.NewMetadataResponseTopicPartition()}
		r.Topics = append(r.Topics, t)
	}
	return r
}

// produceCodes returns each topic's partition error code.
func produceCodes(r *kmsg.ProduceResponse) map[string]int16 {
	m := map[string]int16{}
	for _, t := range r.Topics {
		name := t.Topic
		if t.TopicID != ([16]byte{}) {
			name = formatTopicID(t.TopicID)
		}
		for _, p := range t.Partitions {
			m[name] = p.ErrorCode
		}
	}
	return m
}

func sameCodes(t *testing.T, got, want map[string]int16) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("codes %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("codes %v, want %v", got, want)
		}
	}
}

func TestAuthzPassThrough(t *testing.T) {
	for _, tt := range []struct {
		name      string
		principal string
		req       kmsg.Request
	}{
		{"allowed produce", "User:alice", produceTopics(9, nil, -1, "orders.a", "orders.b")},
		{"allowed transactional produce", "User:alice", produceTopics(9, kmsg.StringPtr("tx1"), -1, "orders.a")},
		{"allowed fetch", "User:alice", fetchRequest(11, -1, "orders.a")},
		{"heartbeat of an allowed group", "User:alice", &kmsg.HeartbeatRequest{Version: 4, Group: "g1"}},
		{"idempotent producer with WRITE on a topic (KIP-679)", "User:alice", versioned(kmsg.NewPtrInitProducerIDRequest(), 4)},
		{"idempotent producer with IDEMPOTENT_WRITE", "User:bob", versioned(kmsg.NewPtrInitProducerIDRequest(), 4)},
		{"CREATE on the cluster", "User:bob", &kmsg.CreateTopicsRequest{Version: 7, Topics: []kmsg.CreateTopicsRequestTopic{{Topic: "x", NumPartitions: 1, ReplicationFactor: 1}}}},
		{"ListGroups with DESCRIBE on the cluster", "User:bob", versioned(kmsg.NewPtrListGroupsRequest(), 4)},
		{"super user", "User:admin", &kmsg.DeleteTopicsRequest{Version: 5, TopicNames: []string{"anything"}}},
		{"super user, API without a rule", "User:admin", versioned(kmsg.NewPtrCreateDelegationTokenRequest(), 3)},
		{"ApiVersions", "User:nobody", versioned(kmsg.NewPtrApiVersionsRequest(), 3)},
		{"SaslHandshake", "User:nobody", &kmsg.SASLHandshakeRequest{Version: 1, Mechanism: "PLAIN"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, _, _ := authzRun(t, tt.principal, tt.req, nil)
			if v.pending.answer != nil || v.needWhole || v.forward != nil {
				t.Fatalf("verdict %+v, want the request forwarded untouched", v)
			}
		})
	}
}

func TestAuthzProduce(t *testing.T) {
	t.Run("split", func(t *testing.T) {
		broker := kmsg.NewPtrProduceResponse()
		bt := kmsg.NewProduceResponseTopic()
		bt.Topic = "orders.a"
		bt.Partitions = []kmsg.ProduceResponseTopicPartition{kmsg.NewProduceResponseTopicPartition()}
		broker.Topics = append(broker.Topics, bt)
		_, fwd, resp := authzRun(t, "User:alice", produceTopics(9, nil, -1, "orders.a", "other", "public"), broker)
		if got := fwd.(*kmsg.ProduceRequest).Topics; len(got) != 1 || got[0].Topic != "orders.a" {
			t.Fatalf("forwarded %+v, want orders.a only", got)
		}
		sameCodes(t, produceCodes(resp.(*kmsg.ProduceResponse)), map[string]int16{"orders.a": 0, "other": codeTopicAuthFailed, "public": codeTopicAuthFailed})
	})
	t.Run("transactional id denied", func(t *testing.T) {
		_, fwd, resp := authzRun(t, "User:alice", produceTopics(9, kmsg.StringPtr("tx2"), -1, "orders.a", "orders.b"), nil)
		if fwd != nil {
			t.Fatal("forwarded a produce whose transactional id is denied")
		}
		sameCodes(t, produceCodes(resp.(*kmsg.ProduceResponse)), map[string]int16{"orders.a": codeTxnIDAuthFailed, "orders.b": codeTxnIDAuthFailed})
	})
	t.Run("by topic id", func(t *testing.T) {
		req := produceRequest(13, -1, "", "")
		req.Topics[0].TopicID, req.Topics[1].TopicID = ordersID, otherID
		_, fwd, resp := authzRun(t, "User:alice", req, kmsg.NewPtrProduceResponse())
		if got := fwd.(*kmsg.ProduceRequest).Topics; len(got) != 1 || got[0].TopicID != ordersID {
			t.Fatalf("forwarded %+v, want orders.a's id only", got)
		}
		sameCodes(t, produceCodes(resp.(*kmsg.ProduceResponse)), map[string]int16{formatTopicID(otherID): codeTopicAuthFailed})
	})
	t.Run("acks=0 closes like a broker", func(t *testing.T) {
		cl, _ := authzClient(t, "User:alice", nil)
		v, err := cl.checkRequest(requestFrame(produceTopics(9, nil, 0, "orders.a", "other")), true)
		if err != nil || !v.stop || !strings.Contains(v.pending.answer.closeReason, "other") {
			t.Fatalf("verdict %+v, %v; want the connection closed after forwarding orders.a", v, err)
		}
		fs := frames(t, v.forward)
		if len(fs) != 2 {
			t.Fatalf("%d frames forwarded, want the allowed rest and the stand-in", len(fs))
		}
		if got := decodeRequest(t, fs[0]).(*kmsg.ProduceRequest).Topics; len(got) != 1 || got[0].Topic != "orders.a" {
			t.Fatalf("forwarded %+v, want orders.a only", got)
		}
	})
	t.Run("streamed head", func(t *testing.T) {
		cl, _ := authzClient(t, "User:alice", nil)
		frame := requestFrame(produceTopics(9, nil, -1, "orders.a", "other"))
		if v, err := cl.checkRequest(frame[:40], false); err != nil || !v.needWhole {
			t.Fatalf("head with a denied topic: %+v, %v; want the whole frame", v, err)
		}
		frame = requestFrame(produceTopics(9, nil, -1, "orders.a"))
		if v, err := cl.checkRequest(frame, false); err != nil || v.needWhole || v.pending.answer != nil {
			t.Fatalf("allowed head: %+v, %v; want it streamed", v, err)
		}
	})
	t.Run("with the mirror guard", func(t *testing.T) {
		cl, _ := authzClient(t, "User:alice", mapMirrors{"orders.m": "west"})
		_, fwd, resp := authzRunOn(t, cl, produceTopics(9, nil, -1, "orders.a", "orders.m", "other"), kmsg.NewPtrProduceResponse())
		if got := fwd.(*kmsg.ProduceRequest).Topics; len(got) != 1 || got[0].Topic != "orders.a" {
			t.Fatalf("forwarded %+v, want orders.a only", got)
		}
		sameCodes(t, produceCodes(resp.(*kmsg.ProduceResponse)), map[string]int16{"orders.m": codeInvalidRequest, "other": codeTopicAuthFailed})
	})
}

func TestAuthzFetch(t *testing.T) {
	for _, v := range []int16{4, 11, 12} {
		_, fwd, resp := authzRun(t, "User:alice", fetchRequest(v, -1, "orders.a", "orders.secret"), kmsg.NewPtrFetchResponse())
		if got := fwd.(*kmsg.FetchRequest).Topics; len(got) != 1 || got[0].Topic != "orders.a" {
			t.Fatalf("v%d: forwarded %+v, want orders.a only", v, got)
		}
		r := resp.(*kmsg.FetchResponse)
		if len(r.Topics) != 1 || r.Topics[0].Topic != "orders.secret" || r.Topics[0].Partitions[0].ErrorCode != codeTopicAuthFailed {
			t.Fatalf("v%d: response %+v, want orders.secret denied (DENY beats the prefixed ALLOW)", v, r.Topics)
		}
	}
	// A follower's fetch needs CLUSTER_ACTION.
	_, fwd, resp := authzRun(t, "User:alice", fetchRequest(11, 2, "orders.a"), nil)
	if fwd != nil || resp.(*kmsg.FetchResponse).Topics[0].Partitions[0].ErrorCode != codeTopicAuthFailed {
		t.Fatalf("replica fetch: forwarded %v, response %+v", fwd, resp)
	}
}

func TestAuthzMetadata(t *testing.T) {
	names := func(r *kmsg.MetadataResponse) map[string]int16 {
		m := map[string]int16{}
		for _, t := range r.Topics {
			m[*t.Topic] = t.ErrorCode
		}
		return m
	}
	t.Run("named", func(t *testing.T) {
		_, _, resp := authzRun(t, "User:alice", metadataRequest(12, false, "orders.a", "other"), metadataResponse(0, "orders.a", "other"))
		r := resp.(*kmsg.MetadataResponse)
		sameCodes(t, names(r), map[string]int16{"orders.a": 0, "other": codeTopicAuthFailed})
		if len(r.Topics[1].Partitions) != 0 {
			t.Fatal("a denied topic's partitions are shown")
		}
	})
	t.Run("all topics hides the rest", func(t *testing.T) {
		for _, v := range []int16{0, 1, 12} {
			req := metadataRequest(v, false)
			if v == 0 {
				req.Topics = []kmsg.MetadataRequestTopic{}
			}
			_, _, resp := authzRun(t, "User:ANONYMOUS", req, metadataResponse(0, "orders.a", "public", "other"))
			sameCodes(t, names(resp.(*kmsg.MetadataResponse)), map[string]int16{"public": 0})
		}
	})
	t.Run("auto-create needs CREATE", func(t *testing.T) {
		_, fwd, resp := authzRun(t, "User:alice", metadataRequest(12, true, "orders.new"), metadataResponse(codeUnknownTopicOrPartition, "orders.new"))
		if fwd.(*kmsg.MetadataRequest).AllowAutoTopicCreation {
			t.Fatal("auto-creation forwarded for a principal without CREATE")
		}
		sameCodes(t, names(resp.(*kmsg.MetadataResponse)), map[string]int16{"orders.new": codeTopicAuthFailed})
		_, _, resp = authzRun(t, "User:bob", metadataRequest(12, true, "orders.new"), metadataResponse(0, "orders.new"))
		if fwd := resp.(*kmsg.MetadataResponse); fwd.Topics[0].ErrorCode != codeTopicAuthFailed {
			t.Fatal("bob may create but not describe orders.new: want TOPIC_AUTHORIZATION_FAILED")
		}
	})
	t.Run("authorized operations are the proxy's", func(t *testing.T) {
		req := metadataRequest(12, false, "orders.a")
		req.IncludeTopicAuthorizedOperations = true
		broker := metadataResponse(0, "orders.a")
		broker.Topics[0].AuthorizedOperations = -1 // everything, for the proxy's own principal
		_, _, resp := authzRun(t, "User:alice", req, broker)
		want := int32(1<<acl.Read | 1<<acl.Write | 1<<acl.Describe | 1<<acl.DescribeConfigs)
		if got := resp.(*kmsg.MetadataResponse).Topics[0].AuthorizedOperations; got != want {
			t.Fatalf("authorized operations %b, want %b", got, want)
		}
	})
}

func TestAuthzGroups(t *testing.T) {
	t.Run("join a denied group", func(t *testing.T) {
		_, fwd, resp := authzRun(t, "User:alice", &kmsg.JoinGroupRequest{Version: 9, Group: "g2", ProtocolType: "consumer"}, nil)
		if fwd != nil || resp.(*kmsg.JoinGroupResponse).ErrorCode != codeGroupAuthFailed {
			t.Fatalf("forwarded %v, response %+v", fwd, resp)
		}
	})
	t.Run("consumer group heartbeat (KIP-848)", func(t *testing.T) {
		req := &kmsg.ConsumerGroupHeartbeatRequest{Version: 1, Group: "g1", SubscribedTopicNames: []string{"orders.a"}}
		if v, _, _ := authzRun(t, "User:alice", req, nil); v.pending.answer != nil {
			t.Fatal("allowed heartbeat answered here")
		}
		req.SubscribedTopicNames = append(req.SubscribedTopicNames, "other")
		_, fwd, resp := authzRun(t, "User:alice", req, nil)
		if r := resp.(*kmsg.ConsumerGroupHeartbeatResponse); fwd != nil || r.ErrorCode != codeTopicAuthFailed || r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, "'other'") {
			t.Fatalf("subscribed to other: forwarded %v, response %+v", fwd, r)
		}
		req.Group = "g2"
		_, _, resp = authzRun(t, "User:alice", req, nil)
		if r := resp.(*kmsg.ConsumerGroupHeartbeatResponse); r.ErrorCode != codeGroupAuthFailed {
			t.Fatalf("group g2: %+v", r)
		}
	})
	t.Run("offset commit", func(t *testing.T) {
		req := versioned(kmsg.NewPtrOffsetCommitRequest(), 9)
		req.Group = "g1"
		for _, name := range []string{"orders.a", "orders.secret"} {
			tp := kmsg.NewOffsetCommitRequestTopic()
			tp.Topic = name
			tp.Partitions = []kmsg.OffsetCommitRequestTopicPartition{kmsg.NewOffsetCommitRequestTopicPartition()}
			req.Topics = append(req.Topics, tp)
		}
		_, fwd, resp := authzRun(t, "User:alice", req, kmsg.NewPtrOffsetCommitResponse())
		if got := fwd.(*kmsg.OffsetCommitRequest).Topics; len(got) != 1 || got[0].Topic != "orders.a" {
			t.Fatalf("forwarded %+v", got)
		}
		if r := resp.(*kmsg.OffsetCommitResponse); r.Topics[0].Topic != "orders.secret" || r.Topics[0].Partitions[0].ErrorCode != codeTopicAuthFailed {
			t.Fatalf("response %+v", r.Topics)
		}
		req.Group = "g2"
		_, fwd, resp = authzRun(t, "User:alice", req, nil)
		if r := resp.(*kmsg.OffsetCommitResponse); fwd != nil || len(r.Topics) != 2 || r.Topics[0].Partitions[0].ErrorCode != codeGroupAuthFailed || r.Topics[1].Partitions[0].ErrorCode != codeGroupAuthFailed {
			t.Fatalf("denied group: forwarded %v, response %+v", fwd, r.Topics)
		}
	})
	t.Run("offset fetch", func(t *testing.T) {
		broker := func(v int16) *kmsg.OffsetFetchResponse {
			r := versioned(kmsg.NewPtrOffsetFetchRequest(), v).ResponseKind().(*kmsg.OffsetFetchResponse)
			for _, name := range []string{"orders.a", "other"} {
				tp := kmsg.NewOffsetFetchResponseTopic()
				tp.Topic = name
				tp.Partitions = []kmsg.OffsetFetchResponseTopicPartition{{Offset: 7}}
				r.Topics = append(r.Topics, tp)
			}
			return r
		}
		all := versioned(kmsg.NewPtrOffsetFetchRequest(), 7)
		all.Group, all.Topics = "g1", nil
		_, _, resp := authzRun(t, "User:alice", all, broker(7))
		if r := resp.(*kmsg.OffsetFetchResponse); len(r.Topics) != 1 || r.Topics[0].Topic != "orders.a" {
			t.Fatalf("all topics: %+v, want orders.a only", r.Topics)
		}
		named := versioned(kmsg.NewPtrOffsetFetchRequest(), 7)
		named.Group, named.Topics = "g1", []kmsg.OffsetFetchRequestTopic{{Topic: "orders.a"}, {Topic: "other"}}
		_, _, resp = authzRun(t, "User:alice", named, broker(7))
		if r := resp.(*kmsg.OffsetFetchResponse); len(r.Topics) != 2 || r.Topics[1].Partitions[0].ErrorCode != codeTopicAuthFailed || r.Topics[1].Partitions[0].Offset != -1 {
			t.Fatalf("named: %+v", r.Topics)
		}
		named.Group = "g2"
		_, _, resp = authzRun(t, "User:alice", named, broker(7))
		if r := resp.(*kmsg.OffsetFetchResponse); r.ErrorCode != codeGroupAuthFailed || len(r.Topics) != 0 {
			t.Fatalf("denied group: %+v", r)
		}
		multi := versioned(kmsg.NewPtrOffsetFetchRequest(), 9)
		multi.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "g1"}, {Group: "g2"}}
		mb := kmsg.NewPtrOffsetFetchResponse()
		mb.Groups = []kmsg.OffsetFetchResponseGroup{
			{Group: "g1", Topics: []kmsg.OffsetFetchResponseGroupTopic{{Topic: "orders.a"}, {Topic: "other"}}},
			{Group: "g2"},
		}
		_, _, resp = authzRun(t, "User:alice", multi, mb)
		r := resp.(*kmsg.OffsetFetchResponse)
		if len(r.Groups) != 2 || len(r.Groups[0].Topics) != 1 || r.Groups[1].ErrorCode != codeGroupAuthFailed {
			t.Fatalf("v9 groups: %+v", r.Groups)
		}
	})
	t.Run("find coordinator", func(t *testing.T) {
		_, fwd, resp := authzRun(t, "User:alice", &kmsg.FindCoordinatorRequest{Version: 3, CoordinatorKey: "g2"}, nil)
		if r := resp.(*kmsg.FindCoordinatorResponse); fwd != nil || r.ErrorCode != codeGroupAuthFailed || r.NodeID != -1 {
			t.Fatalf("v3: forwarded %v, response %+v", fwd, r)
		}
		req := &kmsg.FindCoordinatorRequest{Version: 4, CoordinatorType: 1, CoordinatorKeys: []string{"tx1", "tx2"}}
		broker := kmsg.NewPtrFindCoordinatorResponse()
		broker.Coordinators = []kmsg.FindCoordinatorResponseCoordinator{{Key: "tx1", NodeID: 1, Host: "h", Port: 1}, {Key: "tx2", NodeID: 1, Host: "h", Port: 1}}
		_, _, resp = authzRun(t, "User:alice", req, broker)
		cs := resp.(*kmsg.FindCoordinatorResponse).Coordinators
		if cs[0].ErrorCode != 0 || cs[1].ErrorCode != codeTxnIDAuthFailed || cs[1].NodeID != -1 || cs[1].Host != "" {
			t.Fatalf("v4: %+v", cs)
		}
	})
	t.Run("describe, list and delete groups", func(t *testing.T) {
		broker := kmsg.NewPtrDescribeGroupsResponse()
		broker.Groups = []kmsg.DescribeGroupsResponseGroup{{Group: "g1", State: "Stable"}, {Group: "g2", State: "Stable", Members: []kmsg.DescribeGroupsResponseGroupMember{{MemberID: "m"}}}}
		_, _, resp := authzRun(t, "User:alice", &kmsg.DescribeGroupsRequest{Version: 5, Groups: []string{"g1", "g2"}}, broker)
		gs := resp.(*kmsg.DescribeGroupsResponse).Groups
		if gs[0].ErrorCode != 0 || gs[1].ErrorCode != codeGroupAuthFailed || len(gs[1].Members) != 0 || gs[1].State != "" {
			t.Fatalf("describe: %+v", gs)
		}
		lb := kmsg.NewPtrListGroupsResponse()
		lb.Groups = []kmsg.ListGroupsResponseGroup{{Group: "g1"}, {Group: "g2"}}
		_, _, resp = authzRun(t, "User:alice", versioned(kmsg.NewPtrListGroupsRequest(), 4), lb)
		if gs := resp.(*kmsg.ListGroupsResponse).Groups; len(gs) != 1 || gs[0].Group != "g1" {
			t.Fatalf("list: %+v", gs)
		}
		_, fwd, resp := authzRun(t, "User:alice", &kmsg.DeleteGroupsRequest{Version: 2, Groups: []string{"g1", "g2"}}, nil)
		if dg := resp.(*kmsg.DeleteGroupsResponse).Groups; fwd != nil || len(dg) != 2 || dg[0].ErrorCode != codeGroupAuthFailed || dg[1].ErrorCode != codeGroupAuthFailed {
			t.Fatalf("delete: forwarded %v, %+v", fwd, dg)
		}
	})
}

func TestAuthzTransactions(t *testing.T) {
	t.Run("init producer id", func(t *testing.T) {
		for _, tt := range []struct {
			principal string
			txn       *string
			code      int16
		}{
			{"User:ANONYMOUS", nil, codeClusterAuthFailed},
			{"User:alice", kmsg.StringPtr("tx2"), codeTxnIDAuthFailed},
		} {
			req := versioned(kmsg.NewPtrInitProducerIDRequest(), 4)
			req.TransactionalID = tt.txn
			_, fwd, resp := authzRun(t, tt.principal, req, nil)
			if r := resp.(*kmsg.InitProducerIDResponse); fwd != nil || r.ErrorCode != tt.code || r.ProducerID != -1 {
				t.Fatalf("%s: forwarded %v, response %+v", tt.principal, fwd, r)
			}
		}
	})
	t.Run("add partitions is all or nothing", func(t *testing.T) {
		req := &kmsg.AddPartitionsToTxnRequest{Version: 3, TransactionalID: "tx1", Topics: []kmsg.AddPartitionsToTxnRequestTopic{{Topic: "orders.a", Partitions: []int32{0}}, {Topic: "other", Partitions: []int32{0}}}}
		_, fwd, resp := authzRun(t, "User:alice", req, nil)
		codes := map[string]int16{}
		for _, tp := range resp.(*kmsg.AddPartitionsToTxnResponse).Topics {
			codes[tp.Topic] = tp.Partitions[0].ErrorCode
		}
		if fwd != nil {
			t.Fatal("forwarded part of a transaction")
		}
		sameCodes(t, codes, map[string]int16{"orders.a": codeOperationNotAttempted, "other": codeTopicAuthFailed})
	})
	t.Run("end txn", func(t *testing.T) {
		_, _, resp := authzRun(t, "User:alice", &kmsg.EndTxnRequest{Version: 3, TransactionalID: "tx2"}, nil)
		if resp.(*kmsg.EndTxnResponse).ErrorCode != codeTxnIDAuthFailed {
			t.Fatalf("%+v", resp)
		}
	})
	t.Run("txn offset commit", func(t *testing.T) {
		req := &kmsg.TxnOffsetCommitRequest{Version: 3, TransactionalID: "tx1", Group: "g1", Topics: []kmsg.TxnOffsetCommitRequestTopic{
			{Topic: "orders.a", Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{{Partition: 1}}},
			{Topic: "other", Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{{Partition: 2}}},
		}}
		_, fwd, resp := authzRun(t, "User:alice", req, kmsg.NewPtrTxnOffsetCommitResponse())
		if got := fwd.(*kmsg.TxnOffsetCommitRequest).Topics; len(got) != 1 || got[0].Topic != "orders.a" {
			t.Fatalf("forwarded %+v", got)
		}
		if r := resp.(*kmsg.TxnOffsetCommitResponse); r.Topics[0].Topic != "other" || r.Topics[0].Partitions[0].ErrorCode != codeTopicAuthFailed {
			t.Fatalf("response %+v", r.Topics)
		}
	})
}

func TestAuthzAdmin(t *testing.T) {
	t.Run("create topics without CREATE", func(t *testing.T) {
		req := &kmsg.CreateTopicsRequest{Version: 7, Topics: []kmsg.CreateTopicsRequestTopic{{Topic: "orders.x", NumPartitions: 1, ReplicationFactor: 1}}}
		_, fwd, resp := authzRun(t, "User:alice", req, nil)
		if ts := resp.(*kmsg.CreateTopicsResponse).Topics; fwd != nil || len(ts) != 1 || ts[0].ErrorCode != codeTopicAuthFailed || ts[0].ErrorMessage == nil {
			t.Fatalf("forwarded %v, %+v", fwd, ts)
		}
	})
	t.Run("delete topics", func(t *testing.T) {
		_, _, resp := authzRun(t, "User:alice", &kmsg.DeleteTopicsRequest{Version: 5, TopicNames: []string{"orders.a"}}, nil)
		if ts := resp.(*kmsg.DeleteTopicsResponse).Topics; len(ts) != 1 || ts[0].ErrorCode != codeTopicAuthFailed {
			t.Fatalf("%+v", ts)
		}
	})
	t.Run("configs", func(t *testing.T) {
		broker := kmsg.NewPtrDescribeConfigsResponse()
		broker.Resources = []kmsg.DescribeConfigsResponseResource{
			{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "orders.a", Configs: []kmsg.DescribeConfigsResponseResourceConfig{{Name: "x"}}},
			{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "other", Configs: []kmsg.DescribeConfigsResponseResourceConfig{{Name: "x"}}},
			{ResourceType: kmsg.ConfigResourceTypeBroker, ResourceName: "1", Configs: []kmsg.DescribeConfigsResponseResourceConfig{{Name: "x"}}},
		}
		_, _, resp := authzRun(t, "User:alice", versioned(kmsg.NewPtrDescribeConfigsRequest(), 4), broker)
		rs := resp.(*kmsg.DescribeConfigsResponse).Resources
		if rs[0].ErrorCode != 0 || rs[1].ErrorCode != codeTopicAuthFailed || len(rs[1].Configs) != 0 || rs[2].ErrorCode != codeClusterAuthFailed {
			t.Fatalf("describe: %+v", rs)
		}
		alter := &kmsg.IncrementalAlterConfigsRequest{Version: 1, Resources: []kmsg.IncrementalAlterConfigsRequestResource{
			{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "orders.a"},
			{ResourceType: kmsg.ConfigResourceTypeBroker, ResourceName: "1"},
		}}
		_, fwd, resp := authzRun(t, "User:alice", alter, nil)
		ar := resp.(*kmsg.IncrementalAlterConfigsResponse).Resources
		if fwd != nil || len(ar) != 2 || ar[0].ErrorCode != codeTopicAuthFailed || ar[1].ErrorCode != codeClusterAuthFailed {
			t.Fatalf("alter: forwarded %v, %+v", fwd, ar)
		}
	})
	t.Run("acls", func(t *testing.T) {
		_, _, resp := authzRun(t, "User:alice", versioned(kmsg.NewPtrDescribeACLsRequest(), 3), nil)
		if r := resp.(*kmsg.DescribeACLsResponse); r.ErrorCode != codeClusterAuthFailed {
			t.Fatalf("describe: %+v", r)
		}
		create := &kmsg.CreateACLsRequest{Version: 3, Creations: []kmsg.CreateACLsRequestCreation{{ResourceName: "a", Principal: "User:x", Host: "*"}, {ResourceName: "b", Principal: "User:x", Host: "*"}}}
		_, _, resp = authzRun(t, "User:alice", create, nil)
		if rs := resp.(*kmsg.CreateACLsResponse).Results; len(rs) != 2 || rs[0].ErrorCode != codeClusterAuthFailed || rs[1].ErrorCode != codeClusterAuthFailed {
			t.Fatalf("create: %+v", rs)
		}
	})
	t.Run("no rule: super users only", func(t *testing.T) {
		_, _, resp := authzRun(t, "User:alice", versioned(kmsg.NewPtrCreateDelegationTokenRequest(), 3), nil)
		if r := resp.(*kmsg.CreateDelegationTokenResponse); r.ErrorCode != codeDelegationTokenAuth {
			t.Fatalf("delegation token: %+v", r)
		}
		_, _, resp = authzRun(t, "User:alice", &kmsg.ShareFetchRequest{Version: 1, GroupID: kmsg.StringPtr("g1")}, nil)
		if r := resp.(*kmsg.ShareFetchResponse); r.ErrorCode != codeClusterAuthFailed {
			t.Fatalf("share fetch: %+v", r)
		}
	})
}

func TestAuthzDenialLog(t *testing.T) {
	cl, logs := authzClient(t, "User:alice", nil)
	for range 3 {
		authzRunOn(t, cl, produceTopics(9, nil, -1, "other"), nil)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log lines for 3 denials of one resource, want 1:\n%s", len(lines), logs)
	}
	for _, want := range []string{`"principal":"User:alice"`, `"listener":"TEST"`, `"host":"127.0.0.9"`, `"operation":"WRITE"`, `"resource_type":"TOPIC"`, `"resource_name":"other"`, `"api":"Produce(0)"`} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line lacks %s: %s", want, lines[0])
		}
	}
	// The count of lines left out comes with the next line.
	var l refusalLog
	k := denialKey{"User:alice", "other", acl.Write, acl.Topic}
	now := time.Now()
	l.allowKey(k, now)
	l.allowKey(k, now)
	l.allowKey(k, now)
	if ok, n := l.allowKey(k, now.Add(refusalLogEvery)); !ok || n != 2 {
		t.Fatalf("after the window: %v, %d suppressed; want a line counting 2", ok, n)
	}
}

// FuzzAuthzWalk feeds arbitrary bodies to the walks of the requests only
// the authorizer splits: they must stay within the bytes given.
func FuzzAuthzWalk(f *testing.F) {
	for _, key := range []int16{1, 8, 19, 28, 42, 47} {
		req := kmsg.RequestForKey(key)
		for v := int16(0); v <= req.MaxVersion(); v++ {
			req.SetVersion(v)
			f.Add(key, v, req.AppendTo(nil))
		}
	}
	f.Add(int16(1), int16(11), fetchRequest(11, -1, "orders.a", "b").AppendTo(nil))
	j := aclJudge{all: &refused{code: codeTopicAuthFailed}, z: &authzReq{cl: &client{p: &Proxy{}}}}
	j.z.cl.p.guard.ids.names = map[[16]byte]string{}
	j.z.cl.p.guard.ids.looked = time.Now().Add(time.Hour)
	f.Fuzz(func(t *testing.T, key, v int16, body []byte) {
		switch key {
		case 1, 8, 19, 28, 42, 47:
		default:
			return
		}
		if !rewrite.KnownVersion(key, v) {
			return
		}
		w := walk(j, key, v, rewrite.FlexibleRequestHeader(key, v), body)
		if w.c.off > len(body) || w.end > len(body) || w.first > w.end {
			t.Fatalf("walk beyond the body: off %d, entries %d..%d of %d bytes", w.c.off, w.first, w.end, len(body))
		}
		for _, e := range w.entries {
			if e.start < w.first || e.end > w.end || e.start > e.end {
				t.Fatalf("entry at %d..%d outside %d..%d", e.start, e.end, w.first, w.end)
			}
		}
		if !w.c.failed() && w.total != len(w.entries) {
			t.Fatalf("%d entries walked, %d refused by a judge that refuses all", w.total, len(w.entries))
		}
	})
}
