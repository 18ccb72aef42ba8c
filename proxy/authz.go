package proxy

import (
	"bytes"
	"fmt"
	"math"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/linkproxy/linkproxy/auth/acl"
	"github.com/linkproxy/linkproxy/proxy/rewrite"
	"github.com/linkproxy/linkproxy/proxy/wire"
)

// Authorization at the edge: with an [authorizer] table, every request is
// checked against Kafka-style ACLs for the connection's principal and
// client address, with Kafka's rules per API (KafkaApis), before it goes
// upstream. The fronted cluster sees the proxy's own principal, so the
// proxy is where per-client access is decided.
//
// A denied request gets Kafka's answer, never a closed connection:
// TOPIC_AUTHORIZATION_FAILED, GROUP_AUTHORIZATION_FAILED,
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED or CLUSTER_AUTHORIZATION_FAILED in
// the field Kafka uses. Requests are handled in three ways:
//
//   - Writes and commits naming several topics or groups (Produce,
//     OffsetCommit, TxnOffsetCommit, CreateTopics, DeleteTopics,
//     DeleteRecords, CreatePartitions, AlterConfigs,
//     IncrementalAlterConfigs, DeleteGroups, OffsetDelete) and Fetch are
//     split with the mirror-topic guard's walk (guard.go): the allowed
//     part is forwarded, the denied part answered here and merged into the
//     broker's response. AddPartitionsToTxn is all or nothing, as in
//     Kafka: the denied topics get TOPIC_AUTHORIZATION_FAILED, the others
//     OPERATION_NOT_ATTEMPTED.
//   - Reads without side effects (Metadata, ListOffsets, OffsetFetch,
//     FindCoordinator, DescribeGroups, ListGroups, DescribeConfigs,
//     OffsetForLeaderEpoch, DescribeProducers, DescribeTransactions,
//     ListTransactions, ConsumerGroupDescribe, DescribeTopicPartitions,
//     DescribeCluster) are forwarded whole and their responses rewritten:
//     denied entries get the error, lists of all topics, groups or
//     transactions drop what the principal may not describe, and
//     authorized-operations fields are the proxy's ACLs' answer, not the
//     upstream principal's.
//   - Requests on one group, transactional id or the cluster are answered
//     here in full when denied.
//
// Fail closed: a request the proxy has no rule for (delegation tokens,
// share groups, streams groups, vendor keys) is allowed to super users
// only; others get CLUSTER_AUTHORIZATION_FAILED where the response has a
// top-level error code, and otherwise the connection is closed with a
// logged reason, as for a malformed request. ApiVersions, SaslHandshake,
// SaslAuthenticate and the client telemetry APIs are always allowed.
//
// Every denial is logged with principal, listener, client, operation and
// resource, at most once per (principal, operation, resource) every
// refusalLogEvery, with the count of lines left out.

// Kafka error codes the authorizer answers with.
const (
	codeUnknownTopicOrPartition = 3
	codeTopicAuthFailed         = 29
	codeGroupAuthFailed         = 30
	codeClusterAuthFailed       = 31
	codeTxnIDAuthFailed         = 53
	codeDelegationTokenAuth     = 65
)

// unsetAuthorizedOperations is what Kafka puts in authorized-operations
// fields the client did not ask for.
const unsetAuthorizedOperations = math.MinInt32

// authzState is the proxy's authorizer, built once from the config.
type authzState struct {
	once sync.Once
	a    *acl.Authorizer
	err  error
	logs refusalLog
}

// authorizer returns the ACLs to enforce, nil when [authorizer] is absent.
func (p *Proxy) authorizer() (*acl.Authorizer, error) {
	s := &p.guard.authz
	s.once.Do(func() {
		if p.cfg.Authorizer != nil {
			s.a, s.err = acl.New(p.cfg.Authorizer.Config())
		}
	})
	return s.a, s.err
}

// checkRequest applies the authorizer, then the mirror-topic guard to what
// the authorizer lets through: frame is the whole request or, with whole
// false, the head of a streamed one.
func (cl *client) checkRequest(frame []byte, whole bool) (guardVerdict, error) {
	av, err := cl.authorizeRequest(frame, whole)
	if err != nil || av.needWhole {
		return av, err
	}
	if av.pending.answer == nil {
		return cl.guardRequest(frame, whole)
	}
	if !av.pending.answer.forwarded {
		return av, nil // answered here in full
	}
	gv, err := cl.guardRequest(av.forward, true)
	if err != nil || gv.pending.answer == nil {
		return av, err
	}
	outer, inner := av.pending.answer, gv.pending.answer
	inner.fill = chainFill(inner.fill, outer.fill)
	if inner.closeReason == "" {
		inner.closeReason = outer.closeReason
	}
	gv.stop = gv.stop || av.stop
	return gv, nil
}

func chainFill(fills ...func(kmsg.Response)) func(kmsg.Response) {
	return func(r kmsg.Response) {
		for _, f := range fills {
			f(r)
		}
	}
}

// authzReq is one request being authorized.
type authzReq struct {
	cl           *client
	a            *acl.Authorizer
	who          acl.Subject
	key, version int16
	flex         bool
	frame, body  []byte
	h            wire.RequestHeader
}

// authorizeRequest decides a request against the ACLs, when there are any.
func (cl *client) authorizeRequest(frame []byte, whole bool) (guardVerdict, error) {
	a, err := cl.p.authorizer()
	if err != nil {
		return guardVerdict{}, fmt.Errorf("authorizer: %w", err)
	}
	if a == nil {
		return guardVerdict{}, nil
	}
	h, err := wire.PeekRequestHeader(frame)
	if err != nil {
		return guardVerdict{}, err
	}
	key, version := h.APIKey, h.APIVersion
	switch key {
	case 17, 18, 36, 71, 72: // SASL, ApiVersions, client telemetry
		return guardVerdict{}, nil
	}
	who := cl.subject()
	if a.IsSuperUser(who.Principal) {
		return guardVerdict{}, nil
	}
	if !rewrite.KnownVersion(key, version) {
		z := &authzReq{cl: cl, a: a, who: who, key: key, version: version}
		z.deniedLog(acl.All, acl.Cluster, acl.ClusterName)
		return guardVerdict{}, fmt.Errorf("%s v%d: denied: with [authorizer] set, requests the proxy cannot decode are allowed to super users only", apiName(key), version)
	}
	if key != 0 && !whole {
		return guardVerdict{needWhole: true}, nil
	}
	flex := rewrite.FlexibleRequestHeader(key, version)
	if h, err = wire.ParseRequestHeader(frame, flex); err != nil {
		return guardVerdict{}, err
	}
	z := &authzReq{cl: cl, a: a, who: who, key: key, version: version, flex: flex, frame: frame, body: frame[h.BodyOffset:], h: h}
	v, err := z.decide(whole)
	if err != nil {
		return guardVerdict{}, fmt.Errorf("%s v%d: %w", apiName(key), version, err)
	}
	return v, nil
}

// subject is who the connection is: its principal and the client's IP.
func (cl *client) subject() acl.Subject {
	s := acl.Subject{Principal: cl.Principal()}
	switch a := cl.conn.RemoteAddr().(type) {
	case *net.TCPAddr:
		s.Host = a.AddrPort().Addr().Unmap()
	default:
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			s.Host = ap.Addr().Unmap()
		}
	}
	return s
}

// allowed decides one operation and logs it when denied.
func (z *authzReq) allowed(op acl.Operation, rt acl.ResourceType, name string) bool {
	if z.a.Authorize(z.who, op, rt, name) {
		return true
	}
	z.deniedLog(op, rt, name)
	return false
}

// quiet decides without logging: for list filtering and for a first check
// that a finer one follows, as Kafka does (logIfDenied false).
func (z *authzReq) quiet(op acl.Operation, rt acl.ResourceType, name string) bool {
	return z.a.Authorize(z.who, op, rt, name)
}

type denialKey struct {
	principal, resource string
	op                  acl.Operation
	rt                  acl.ResourceType
}

func (z *authzReq) deniedLog(op acl.Operation, rt acl.ResourceType, name string) {
	cl := z.cl
	ok, suppressed := cl.p.guard.authz.logs.allowKey(denialKey{z.who.Principal, name, op, rt}, time.Now())
	if !ok {
		return
	}
	args := []any{"principal", z.who.Principal, "host", z.who.Host.String(), "api", apiName(z.key),
		"operation", op.String(), "resource_type", rt.String(), "resource_name", name}
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	cl.log.Info("request denied by ACL; if the principal needs it, add an ALLOW ACL to [authorizer]", args...)
}

func denyMessage(who string, op acl.Operation, rt acl.ResourceType, name string) string {
	return fmt.Sprintf("Principal %s is not authorized to %s %s '%s'", who, op, strings.ToLower(strings.ReplaceAll(rt.String(), "_", " ")), name)
}

// aclJudge judges the entries of a walked request (guard.go) against one
// operation.
type aclJudge struct {
	z    *authzReq
	op   acl.Operation
	rt   acl.ResourceType
	code int16
	// all, when set, refuses every entry with its code and message: the
	// request's transactional id or group was denied.
	all *refused
}

func (j aclJudge) byName(_, name string) (refused, bool) {
	if j.all != nil {
		r := *j.all
		r.topic = name
		return r, true
	}
	if j.z.allowed(j.op, j.rt, name) {
		return refused{}, false
	}
	return refused{topic: name, code: j.code, msg: denyMessage(j.z.who.Principal, j.op, j.rt, name)}, true
}

func (j aclJudge) byID(_ string, id [16]byte) (refused, bool) {
	name, ok, err := proxyTopicIDs{j.z.cl.p}.topicName(id)
	switch {
	case err != nil:
		return refused{id: id, code: codeUnknownTopicID,
			msg: fmt.Sprintf("linkproxy could not resolve topic id %s to authorize it: %v", formatTopicID(id), err)}, true
	case !ok && j.all == nil:
		return refused{}, false // the broker answers UNKNOWN_TOPIC_ID
	}
	r, bad := j.byName("", name)
	r.id = id
	return r, bad
}

// byResource judges a config resource other than a topic: BROKER,
// BROKER_LOGGER and CLIENT_METRICS configs are the cluster's, GROUP configs
// the group's, as in Kafka.
func (j aclJudge) byResource(resType int8, name string) (refused, bool) {
	if j.all != nil {
		r := *j.all
		r.topic = name
		return r, true
	}
	rt, rname, code := configResource(kmsg.ConfigResourceType(resType), name)
	if j.z.allowed(j.op, rt, rname) {
		return refused{}, false
	}
	return refused{topic: name, code: code, msg: denyMessage(j.z.who.Principal, j.op, rt, rname)}, true
}

func configResource(t kmsg.ConfigResourceType, name string) (acl.ResourceType, string, int16) {
	switch t {
	case kmsg.ConfigResourceTypeTopic:
		return acl.Topic, name, codeTopicAuthFailed
	case kmsg.ConfigResourceTypeGroupConfig:
		return acl.Group, name, codeGroupAuthFailed
	}
	return acl.Cluster, acl.ClusterName, codeClusterAuthFailed
}

// denyAll makes a judge that refuses every entry with code.
func (z *authzReq) denyAll(code int16, op acl.Operation, rt acl.ResourceType, name string) aclJudge {
	return aclJudge{z: z, all: &refused{code: code, msg: denyMessage(z.who.Principal, op, rt, name)}}
}

// split walks the request with j and splits it.
func (z *authzReq) split(j aclJudge) (guardVerdict, error) {
	return walkVerdict(j, z.frame, z.h, z.flex)
}

// local answers the whole request here: fill builds the response.
func (z *authzReq) local(fill func(kmsg.Response)) guardVerdict {
	a := &guardAnswer{key: z.key, version: z.version, fill: fill}
	return guardVerdict{
		forward: apiVersionsStandIn(nil, z.h.CorrelationID),
		pending: pending{correlationID: z.h.CorrelationID, key: z.key, version: z.version, answer: a},
	}
}

// patch forwards the request whole and rewrites its response with fill.
func (z *authzReq) patch(fill func(kmsg.Response)) guardVerdict {
	a := &guardAnswer{key: z.key, version: z.version, forwarded: true, fill: fill}
	return guardVerdict{
		forward: bytes.Clone(z.frame), // the client's frame goes back to the pool
		pending: pending{correlationID: z.h.CorrelationID, key: z.key, version: z.version, answer: a},
	}
}

// topError answers the whole request here with a top-level error code, for
// responses that have one; ok is false for those that have none.
func (z *authzReq) topError(code int16, msg string) (guardVerdict, bool) {
	resp := kmsg.ResponseForKey(z.key)
	if resp == nil {
		return guardVerdict{}, false
	}
	v := reflect.ValueOf(resp).Elem()
	if f := v.FieldByName("ErrorCode"); !f.IsValid() || f.Kind() != reflect.Int16 {
		return guardVerdict{}, false
	}
	return z.local(func(r kmsg.Response) {
		v := reflect.ValueOf(r).Elem()
		v.FieldByName("ErrorCode").SetInt(int64(code))
		if f := v.FieldByName("ErrorMessage"); f.IsValid() && f.Type() == reflect.TypeFor[*string]() {
			f.Set(reflect.ValueOf(kmsg.StringPtr(msg)))
		}
	}), true
}

// cluster decides an operation on the cluster for the whole request.
func (z *authzReq) cluster(op acl.Operation) (guardVerdict, error) {
	if z.allowed(op, acl.Cluster, acl.ClusterName) {
		return guardVerdict{}, nil
	}
	return z.wholeDenied(codeClusterAuthFailed, op, acl.Cluster, acl.ClusterName)
}

// wholeDenied answers a denied request here with a top-level error, or,
// where the response has none, per entry for the few admin requests the
// proxy walks; otherwise the connection is closed.
func (z *authzReq) wholeDenied(code int16, op acl.Operation, rt acl.ResourceType, name string) (guardVerdict, error) {
	msg := denyMessage(z.who.Principal, op, rt, name)
	if v, ok := z.topError(code, msg); ok {
		return v, nil
	}
	if v, ok, err := z.perEntryDenied(code, msg); ok || err != nil {
		return v, err
	}
	return guardVerdict{}, fmt.Errorf("denied: %s; its response has no error field to say so, so the connection is closed", msg)
}

// decide applies Kafka's rules for the request's API.
func (z *authzReq) decide(whole bool) (guardVerdict, error) {
	c := &cursor{b: z.body}
	flex, version := z.flex, z.version
	switch z.key {
	case 0: // Produce
		return z.produce(whole)
	case 1: // Fetch
		return z.fetch()
	case 2: // ListOffsets
		return z.patch(z.patchListOffsets), nil
	case 3: // Metadata
		return z.metadata()
	case 8: // OffsetCommit
		group := string(c.str(flex))
		if c.failed() {
			return guardVerdict{}, wire.ErrMalformed
		}
		if !z.allowed(acl.Read, acl.Group, group) {
			return z.split(z.denyAll(codeGroupAuthFailed, acl.Read, acl.Group, group))
		}
		return z.split(aclJudge{z: z, op: acl.Read, rt: acl.Topic, code: codeTopicAuthFailed})
	case 9: // OffsetFetch
		return z.offsetFetch()
	case 10: // FindCoordinator
		return z.findCoordinator()
	case 11, 12, 13, 14, 68, 76: // JoinGroup, Heartbeat, LeaveGroup, SyncGroup, ConsumerGroupHeartbeat, ShareGroupHeartbeat
		group := string(c.str(flex))
		if c.failed() {
			return guardVerdict{}, wire.ErrMalformed
		}
		if !z.allowed(acl.Read, acl.Group, group) {
			return z.wholeDenied(codeGroupAuthFailed, acl.Read, acl.Group, group)
		}
		if z.key == 68 {
			return z.consumerGroupHeartbeat(c)
		}
		return guardVerdict{}, nil
	case 15: // DescribeGroups
		return z.patch(z.patchDescribeGroups), nil
	case 16: // ListGroups
		if z.quiet(acl.Describe, acl.Cluster, acl.ClusterName) {
			return guardVerdict{}, nil
		}
		return z.patch(z.patchListGroups), nil
	case 19: // CreateTopics: CREATE on the cluster, or on each topic
		if z.quiet(acl.Create, acl.Cluster, acl.ClusterName) {
			return guardVerdict{}, nil
		}
		return z.split(aclJudge{z: z, op: acl.Create, rt: acl.Topic, code: codeTopicAuthFailed})
	case 20, 21: // DeleteTopics, DeleteRecords
		return z.split(aclJudge{z: z, op: acl.Delete, rt: acl.Topic, code: codeTopicAuthFailed})
	case 22: // InitProducerId
		return z.initProducerID(c)
	case 23: // OffsetForLeaderEpoch
		if version >= 3 {
			if id := c.int32(); id >= 0 && !c.failed() { // a follower
				return z.cluster(acl.ClusterAction)
			}
		}
		return z.patch(z.patchOffsetForLeaderEpoch), nil
	case 24: // AddPartitionsToTxn
		if version >= 4 { // batched by brokers, verify only
			return z.cluster(acl.ClusterAction)
		}
		txn := string(c.str(flex))
		if c.failed() {
			return guardVerdict{}, wire.ErrMalformed
		}
		if !z.allowed(acl.Write, acl.TransactionalID, txn) {
			return z.split(z.denyAll(codeTxnIDAuthFailed, acl.Write, acl.TransactionalID, txn))
		}
		return z.split(aclJudge{z: z, op: acl.Write, rt: acl.Topic, code: codeTopicAuthFailed})
	case 25: // AddOffsetsToTxn
		txn := string(c.str(flex))
		c.take(8 + 2)
		group := string(c.str(flex))
		switch {
		case c.failed():
			return guardVerdict{}, wire.ErrMalformed
		case !z.allowed(acl.Write, acl.TransactionalID, txn):
			return z.wholeDenied(codeTxnIDAuthFailed, acl.Write, acl.TransactionalID, txn)
		case !z.allowed(acl.Read, acl.Group, group):
			return z.wholeDenied(codeGroupAuthFailed, acl.Read, acl.Group, group)
		}
		return guardVerdict{}, nil
	case 26: // EndTxn
		txn := string(c.str(flex))
		if c.failed() {
			return guardVerdict{}, wire.ErrMalformed
		}
		if z.allowed(acl.Write, acl.TransactionalID, txn) {
			return guardVerdict{}, nil
		}
		return z.wholeDenied(codeTxnIDAuthFailed, acl.Write, acl.TransactionalID, txn)
	case 28: // TxnOffsetCommit
		txn := string(c.str(flex))
		group := string(c.str(flex))
		switch {
		case c.failed():
			return guardVerdict{}, wire.ErrMalformed
		case !z.allowed(acl.Write, acl.TransactionalID, txn):
			return z.split(z.denyAll(codeTxnIDAuthFailed, acl.Write, acl.TransactionalID, txn))
		case !z.allowed(acl.Read, acl.Group, group):
			return z.split(z.denyAll(codeGroupAuthFailed, acl.Read, acl.Group, group))
		}
		return z.split(aclJudge{z: z, op: acl.Read, rt: acl.Topic, code: codeTopicAuthFailed})
	case 29, 35, 46, 50: // DescribeAcls, DescribeLogDirs, ListPartitionReassignments, DescribeUserScramCredentials
		return z.cluster(acl.Describe)
	case 30, 31, 34, 43, 45, 51, 57: // CreateAcls, DeleteAcls, AlterReplicaLogDirs, ElectLeaders, AlterPartitionReassignments, AlterUserScramCredentials, UpdateFeatures
		return z.cluster(acl.Alter)
	case 32: // DescribeConfigs
		return z.patch(z.patchDescribeConfigs), nil
	case 33, 44: // AlterConfigs, IncrementalAlterConfigs
		return z.split(aclJudge{z: z, op: acl.AlterConfigs, rt: acl.Topic, code: codeTopicAuthFailed})
	case 37: // CreatePartitions
		return z.split(aclJudge{z: z, op: acl.Alter, rt: acl.Topic, code: codeTopicAuthFailed})
	case 42: // DeleteGroups
		return z.split(aclJudge{z: z, op: acl.Delete, rt: acl.Group, code: codeGroupAuthFailed})
	case 47: // OffsetDelete
		group := string(c.str(flex))
		if c.failed() {
			return guardVerdict{}, wire.ErrMalformed
		}
		if !z.allowed(acl.Delete, acl.Group, group) {
			return z.wholeDenied(codeGroupAuthFailed, acl.Delete, acl.Group, group)
		}
		return z.split(aclJudge{z: z, op: acl.Read, rt: acl.Topic, code: codeTopicAuthFailed})
	case 48, 74: // DescribeClientQuotas, ListConfigResources
		return z.cluster(acl.DescribeConfigs)
	case 49: // AlterClientQuotas
		return z.cluster(acl.AlterConfigs)
	case 60: // DescribeCluster
		return z.patch(z.patchDescribeCluster), nil
	case 61: // DescribeProducers
		return z.patch(z.patchDescribeProducers), nil
	case 65: // DescribeTransactions
		return z.patch(z.patchDescribeTransactions), nil
	case 66: // ListTransactions
		return z.patch(z.patchListTransactions), nil
	case 69, 77: // ConsumerGroupDescribe, ShareGroupDescribe
		return z.patch(z.patchGroupDescribe), nil
	case 75: // DescribeTopicPartitions
		return z.patch(z.patchDescribeTopicPartitions), nil
	case 38, 39, 40, 41:
		// Tokens created through the proxy would belong to the proxy's
		// upstream principal, not the client's.
		z.deniedLog(acl.All, acl.DelegationToken, "*")
		return z.wholeDenied(codeDelegationTokenAuth, acl.All, acl.DelegationToken, "*")
	}
	// No rule: super users only (checked by the caller).
	z.deniedLog(acl.All, acl.Cluster, acl.ClusterName)
	msg := fmt.Sprintf("linkproxy has no authorization rule for %s: with [authorizer] set it is allowed to super users only", apiName(z.key))
	if v, ok := z.topError(codeClusterAuthFailed, msg); ok {
		return v, nil
	}
	return guardVerdict{}, fmt.Errorf("denied: %s", msg)
}

// produce: WRITE on the transactional id when there is one (Kafka checks
// it for transactional records; a producer with a transactional id sends
// nothing else), WRITE on each topic. Since KIP-679 (Kafka 3.0) Produce
// checks no IDEMPOTENT_WRITE: InitProducerId does. A head of a streamed
// request is checked without allocating; only a denial makes the proxy
// hold the whole frame.
func (z *authzReq) produce(whole bool) (guardVerdict, error) {
	c := &cursor{b: z.body}
	var txn []byte
	if z.version >= 3 {
		txn = c.nullableStr(z.flex)
	}
	if c.failed() {
		if whole {
			return guardVerdict{}, wire.ErrMalformed
		}
		return guardVerdict{needWhole: true}, nil
	}
	if txn != nil && !z.quiet(acl.Write, acl.TransactionalID, string(txn)) {
		if !whole {
			return guardVerdict{needWhole: true}, nil
		}
		name := string(txn)
		z.deniedLog(acl.Write, acl.TransactionalID, name)
		return z.split(z.denyAll(codeTxnIDAuthFailed, acl.Write, acl.TransactionalID, name))
	}
	s := newProduceScan(z.body, z.version, z.flex)
	denied := false
	for !denied {
		name, id, ok := s.next()
		if !ok {
			break
		}
		if s.byID {
			n, known, err := proxyTopicIDs{z.cl.p}.topicName(id)
			denied = err != nil || (known && !z.quiet(acl.Write, acl.Topic, n))
		} else {
			denied = !z.quiet(acl.Write, acl.Topic, string(name))
		}
	}
	switch {
	case !denied && (s.c.bad || (s.c.short && whole)):
		return guardVerdict{}, fmt.Errorf("%w: produce request body", wire.ErrMalformed)
	case !denied && !s.c.short:
		return guardVerdict{}, nil
	case !whole:
		return guardVerdict{needWhole: true}, nil
	}
	return z.split(aclJudge{z: z, op: acl.Write, rt: acl.Topic, code: codeTopicAuthFailed})
}

// consumerGroupHeartbeat (KIP-848): with READ on the group, every
// subscribed topic name needs DESCRIBE, else the whole heartbeat gets
// TOPIC_AUTHORIZATION_FAILED, as in Kafka. A subscription by regular
// expression is resolved by the group coordinator, which Kafka filters by
// the member's ACLs and the proxy cannot: the upstream cluster's ACLs for
// the proxy's principal apply to it. c is after the group id.
func (z *authzReq) consumerGroupHeartbeat(c *cursor) (guardVerdict, error) {
	c.str(z.flex)         // member id
	c.take(4)             // member epoch
	c.nullableStr(z.flex) // instance id
	c.nullableStr(z.flex) // rack id
	c.take(4)             // rebalance timeout
	var denied string
	for n := c.length(z.flex, 4); n > 0 && !c.failed(); n-- {
		if t := string(c.str(z.flex)); denied == "" && !z.allowed(acl.Describe, acl.Topic, t) {
			denied = t
		}
	}
	switch {
	case c.failed():
		return guardVerdict{}, fmt.Errorf("%w: request body", wire.ErrMalformed)
	case denied == "":
		return guardVerdict{}, nil
	}
	return z.wholeDenied(codeTopicAuthFailed, acl.Describe, acl.Topic, denied)
}

// fetch: READ on each topic; a follower's fetch needs CLUSTER_ACTION, and
// without it every partition gets TOPIC_AUTHORIZATION_FAILED, as in Kafka.
// A fetch denied whole is answered with session id 0: the broker never saw
// it, and 0 makes the client start a new fetch session rather than carry
// on with an epoch the broker does not have.
func (z *authzReq) fetch() (guardVerdict, error) {
	w := walk(aclJudge{z: z, op: acl.Read, rt: acl.Topic, code: codeTopicAuthFailed}, z.key, z.version, z.flex, z.body)
	if w.c.failed() {
		return guardVerdict{}, fmt.Errorf("%w: request body", wire.ErrMalformed)
	}
	if w.replica && !z.allowed(acl.ClusterAction, acl.Cluster, acl.ClusterName) {
		return z.split(z.denyAll(codeTopicAuthFailed, acl.ClusterAction, acl.Cluster, acl.ClusterName))
	}
	return w.verdict(z.frame, z.h, z.flex), nil
}

// initProducerID: WRITE on the transactional id; without one (an
// idempotent producer) IDEMPOTENT_WRITE on the cluster or, since KIP-679,
// WRITE on any topic.
func (z *authzReq) initProducerID(c *cursor) (guardVerdict, error) {
	txn := c.nullableStr(z.flex)
	if c.failed() {
		return guardVerdict{}, wire.ErrMalformed
	}
	fill := func(code int16) func(kmsg.Response) {
		return func(r kmsg.Response) {
			resp := r.(*kmsg.InitProducerIDResponse)
			resp.ErrorCode, resp.ProducerID, resp.ProducerEpoch = code, -1, -1
		}
	}
	if txn != nil {
		if z.allowed(acl.Write, acl.TransactionalID, string(txn)) {
			return guardVerdict{}, nil
		}
		return z.local(fill(codeTxnIDAuthFailed)), nil
	}
	if z.quiet(acl.IdempotentWrite, acl.Cluster, acl.ClusterName) || z.a.AuthorizeByResourceType(z.who, acl.Write, acl.Topic) {
		return guardVerdict{}, nil
	}
	z.deniedLog(acl.IdempotentWrite, acl.Cluster, acl.ClusterName)
	return z.local(fill(codeClusterAuthFailed)), nil
}

// metadata: DESCRIBE on each topic; a named topic denied gets
// TOPIC_AUTHORIZATION_FAILED, a request for all topics only sees those it
// may describe. Auto-creation needs CREATE on the cluster or the topic:
// without it the request goes up with allow_auto_topic_creation off, and a
// topic that does not exist answers TOPIC_AUTHORIZATION_FAILED, as Kafka
// does, instead of being created.
func (z *authzReq) metadata() (guardVerdict, error) {
	c := &cursor{b: z.body}
	flex, version := z.flex, z.version
	n := c.length(flex, 4)
	all := n < 0 || (n == 0 && version == 0)
	var names []string
	for ; n > 0 && !c.failed(); n-- {
		if version >= 10 {
			c.take(16)
			if s := c.nullableStr(flex); s != nil {
				names = append(names, string(s))
			}
			c.tags(flex)
			continue
		}
		names = append(names, string(c.str(flex)))
	}
	autoAt := -1
	if version >= 4 && !c.failed() {
		autoAt = c.off
		c.take(1)
	}
	if c.failed() {
		return guardVerdict{}, fmt.Errorf("%w: request body", wire.ErrMalformed)
	}
	var noCreate map[string]bool
	if autoAt >= 0 && z.body[autoAt] != 0 && !z.quiet(acl.Create, acl.Cluster, acl.ClusterName) {
		for _, t := range names {
			if !z.quiet(acl.Create, acl.Topic, t) {
				if noCreate == nil {
					noCreate = make(map[string]bool)
				}
				noCreate[t] = true
			}
		}
	}
	v := z.patch(func(r kmsg.Response) { z.patchMetadata(r.(*kmsg.MetadataResponse), all, noCreate) })
	if noCreate != nil {
		v.forward[z.h.BodyOffset+autoAt] = 0
	}
	return v, nil
}

func (z *authzReq) patchMetadata(r *kmsg.MetadataResponse, all bool, noCreate map[string]bool) {
	kept := r.Topics[:0]
	for _, t := range r.Topics {
		name := ""
		if t.Topic != nil {
			name = *t.Topic
		}
		describe := z.quiet(acl.Describe, acl.Topic, name)
		switch {
		case !describe && all:
			continue
		case !describe || (t.ErrorCode == codeUnknownTopicOrPartition && noCreate[name]):
			if !describe {
				z.deniedLog(acl.Describe, acl.Topic, name)
			} else {
				z.deniedLog(acl.Create, acl.Topic, name)
			}
			t.ErrorCode, t.TopicID, t.IsInternal, t.Partitions = codeTopicAuthFailed, [16]byte{}, false, nil
			t.AuthorizedOperations = unsetAuthorizedOperations
		case t.AuthorizedOperations != unsetAuthorizedOperations:
			t.AuthorizedOperations = z.a.AuthorizedOperations(z.who, acl.Topic, name, acl.TopicOperations)
		}
		kept = append(kept, t)
	}
	r.Topics = kept
	if r.AuthorizedOperations != unsetAuthorizedOperations {
		r.AuthorizedOperations = z.a.AuthorizedOperations(z.who, acl.Cluster, acl.ClusterName, acl.ClusterOperations)
	}
}

func (z *authzReq) patchListOffsets(r kmsg.Response) {
	resp := r.(*kmsg.ListOffsetsResponse)
	for i := range resp.Topics {
		t := &resp.Topics[i]
		if z.allowed(acl.Describe, acl.Topic, t.Topic) {
			continue
		}
		for j := range t.Partitions {
			p := &t.Partitions[j]
			p.ErrorCode, p.Offset, p.Timestamp, p.LeaderEpoch, p.OldStyleOffsets = codeTopicAuthFailed, -1, -1, -1, nil
		}
	}
}

func (z *authzReq) patchOffsetForLeaderEpoch(r kmsg.Response) {
	resp := r.(*kmsg.OffsetForLeaderEpochResponse)
	for i := range resp.Topics {
		t := &resp.Topics[i]
		if z.allowed(acl.Describe, acl.Topic, t.Topic) {
			continue
		}
		for j := range t.Partitions {
			p := &t.Partitions[j]
			p.ErrorCode, p.LeaderEpoch, p.EndOffset = codeTopicAuthFailed, -1, -1
		}
	}
}

func (z *authzReq) patchDescribeProducers(r kmsg.Response) {
	resp := r.(*kmsg.DescribeProducersResponse)
	for i := range resp.Topics {
		t := &resp.Topics[i]
		if z.allowed(acl.Read, acl.Topic, t.Topic) {
			continue
		}
		for j := range t.Partitions {
			p := &t.Partitions[j]
			p.ErrorCode, p.ErrorMessage, p.ActiveProducers = codeTopicAuthFailed, nil, nil
		}
	}
}

// offsetFetch: DESCRIBE on the group, then on each topic: a named topic
// denied gets TOPIC_AUTHORIZATION_FAILED, a fetch of all of a group's
// offsets only sees the topics the principal may describe.
func (z *authzReq) offsetFetch() (guardVerdict, error) {
	c := &cursor{b: z.body}
	flex, version := z.flex, z.version
	allTopics := map[string]bool{} // by group
	topics := func(group string) {
		n := c.length(flex, 4)
		allTopics[group] = n < 0
		for ; n > 0 && !c.failed(); n-- {
			if version >= 10 {
				c.take(16)
			} else {
				c.str(flex)
			}
			c.take(4 * c.arrayLen(flex))
			c.tags(flex)
		}
	}
	var single string
	if version <= 7 {
		single = string(c.str(flex))
		topics(single)
	} else {
		for n := c.arrayLen(flex); n > 0 && !c.failed(); n-- {
			g := string(c.str(flex))
			if version >= 9 {
				c.nullableStr(flex)
				c.take(4)
			}
			topics(g)
			c.tags(flex)
		}
	}
	if c.failed() {
		return guardVerdict{}, fmt.Errorf("%w: request body", wire.ErrMalformed)
	}
	return z.patch(func(r kmsg.Response) {
		resp := r.(*kmsg.OffsetFetchResponse)
		if version <= 7 {
			if !z.allowed(acl.Describe, acl.Group, single) {
				resp.ErrorCode = codeGroupAuthFailed
				for i := range resp.Topics {
					for j := range resp.Topics[i].Partitions {
						p := &resp.Topics[i].Partitions[j]
						p.ErrorCode, p.Offset, p.LeaderEpoch, p.Metadata = codeGroupAuthFailed, -1, -1, nil
					}
				}
				if version >= 2 {
					resp.Topics = nil
				}
				return
			}
			kept := resp.Topics[:0]
			for _, t := range resp.Topics {
				if !z.quiet(acl.Describe, acl.Topic, t.Topic) {
					if allTopics[single] {
						continue
					}
					z.deniedLog(acl.Describe, acl.Topic, t.Topic)
					for j := range t.Partitions {
						p := &t.Partitions[j]
						p.ErrorCode, p.Offset, p.LeaderEpoch, p.Metadata = codeTopicAuthFailed, -1, -1, nil
					}
				}
				kept = append(kept, t)
			}
			resp.Topics = kept
			return
		}
		for i := range resp.Groups {
			g := &resp.Groups[i]
			if !z.allowed(acl.Describe, acl.Group, g.Group) {
				g.ErrorCode, g.Topics = codeGroupAuthFailed, nil
				continue
			}
			kept := g.Topics[:0]
			for _, t := range g.Topics {
				name := t.Topic
				if version >= 10 {
					n, ok, err := proxyTopicIDs{z.cl.p}.topicName(t.TopicID)
					if err != nil || !ok {
						n = formatTopicID(t.TopicID) // unresolvable: denied, fail closed
					}
					name = n
				}
				if !z.quiet(acl.Describe, acl.Topic, name) {
					if allTopics[g.Group] {
						continue
					}
					z.deniedLog(acl.Describe, acl.Topic, name)
					for j := range t.Partitions {
						p := &t.Partitions[j]
						p.ErrorCode, p.Offset, p.LeaderEpoch, p.Metadata = codeTopicAuthFailed, -1, -1, nil
					}
				}
				kept = append(kept, t)
			}
			g.Topics = kept
		}
	}), nil
}

// findCoordinator: DESCRIBE on the group or transactional id looked up.
func (z *authzReq) findCoordinator() (guardVerdict, error) {
	c := &cursor{b: z.body}
	var key string
	var keyType int8
	if z.version <= 3 {
		key = string(c.str(z.flex))
		if z.version >= 1 {
			if b := c.take(1); b != nil {
				keyType = int8(b[0])
			}
		}
	} else if b := c.take(1); b != nil {
		keyType = int8(b[0])
	}
	if c.failed() {
		return guardVerdict{}, fmt.Errorf("%w: request body", wire.ErrMalformed)
	}
	// check returns the error code for a denied key, 0 when allowed.
	check := func(key string) int16 {
		switch keyType {
		case 0:
			if !z.allowed(acl.Describe, acl.Group, key) {
				return codeGroupAuthFailed
			}
		case 1:
			if !z.allowed(acl.Describe, acl.TransactionalID, key) {
				return codeTxnIDAuthFailed
			}
		default: // share coordinators are looked up by brokers
			if !z.allowed(acl.ClusterAction, acl.Cluster, acl.ClusterName) {
				return codeClusterAuthFailed
			}
		}
		return 0
	}
	if z.version <= 3 {
		code := check(key)
		if code == 0 {
			return guardVerdict{}, nil
		}
		return z.local(func(r kmsg.Response) {
			resp := r.(*kmsg.FindCoordinatorResponse)
			resp.ErrorCode, resp.NodeID, resp.Host, resp.Port = code, -1, "", -1
		}), nil
	}
	return z.patch(func(r kmsg.Response) {
		resp := r.(*kmsg.FindCoordinatorResponse)
		for i := range resp.Coordinators {
			co := &resp.Coordinators[i]
			if code := check(co.Key); code != 0 {
				co.ErrorCode, co.ErrorMessage, co.NodeID, co.Host, co.Port = code, nil, -1, "", -1
			}
		}
	}), nil
}

func (z *authzReq) patchDescribeGroups(r kmsg.Response) {
	resp := r.(*kmsg.DescribeGroupsResponse)
	for i := range resp.Groups {
		g := &resp.Groups[i]
		if !z.allowed(acl.Describe, acl.Group, g.Group) {
			*g = kmsg.DescribeGroupsResponseGroup{Group: g.Group, ErrorCode: codeGroupAuthFailed, AuthorizedOperations: unsetAuthorizedOperations}
			continue
		}
		if g.AuthorizedOperations != unsetAuthorizedOperations {
			g.AuthorizedOperations = z.a.AuthorizedOperations(z.who, acl.Group, g.Group, acl.GroupOperations)
		}
	}
}

func (z *authzReq) patchGroupDescribe(r kmsg.Response) {
	switch resp := r.(type) {
	case *kmsg.ConsumerGroupDescribeResponse:
		for i := range resp.Groups {
			g := &resp.Groups[i]
			if !z.allowed(acl.Describe, acl.Group, g.Group) {
				*g = kmsg.ConsumerGroupDescribeResponseGroup{Group: g.Group, ErrorCode: codeGroupAuthFailed, AuthorizedOperations: unsetAuthorizedOperations}
			} else if g.AuthorizedOperations != unsetAuthorizedOperations {
				g.AuthorizedOperations = z.a.AuthorizedOperations(z.who, acl.Group, g.Group, acl.GroupOperations)
			}
		}
	case *kmsg.ShareGroupDescribeResponse:
		for i := range resp.Groups {
			g := &resp.Groups[i]
			if !z.allowed(acl.Describe, acl.Group, g.GroupID) {
				*g = kmsg.ShareGroupDescribeResponseGroup{GroupID: g.GroupID, ErrorCode: codeGroupAuthFailed, AuthorizedOperations: unsetAuthorizedOperations}
			} else if g.AuthorizedOperations != unsetAuthorizedOperations {
				g.AuthorizedOperations = z.a.AuthorizedOperations(z.who, acl.Group, g.GroupID, acl.GroupOperations)
			}
		}
	}
}

func (z *authzReq) patchListGroups(r kmsg.Response) {
	resp := r.(*kmsg.ListGroupsResponse)
	kept := resp.Groups[:0]
	for _, g := range resp.Groups {
		if z.quiet(acl.Describe, acl.Group, g.Group) {
			kept = append(kept, g)
		}
	}
	resp.Groups = kept
}

func (z *authzReq) patchDescribeConfigs(r kmsg.Response) {
	resp := r.(*kmsg.DescribeConfigsResponse)
	for i := range resp.Resources {
		res := &resp.Resources[i]
		rt, name, code := configResource(res.ResourceType, res.ResourceName)
		if !z.allowed(acl.DescribeConfigs, rt, name) {
			res.ErrorCode, res.Configs = code, nil
			res.ErrorMessage = kmsg.StringPtr(denyMessage(z.who.Principal, acl.DescribeConfigs, rt, name))
		}
	}
}

func (z *authzReq) patchDescribeCluster(r kmsg.Response) {
	resp := r.(*kmsg.DescribeClusterResponse)
	if resp.ClusterAuthorizedOperations != unsetAuthorizedOperations {
		resp.ClusterAuthorizedOperations = z.a.AuthorizedOperations(z.who, acl.Cluster, acl.ClusterName, acl.ClusterOperations)
	}
}

func (z *authzReq) patchDescribeTransactions(r kmsg.Response) {
	resp := r.(*kmsg.DescribeTransactionsResponse)
	for i := range resp.TransactionStates {
		t := &resp.TransactionStates[i]
		if !z.allowed(acl.Describe, acl.TransactionalID, t.TransactionalID) {
			*t = kmsg.DescribeTransactionsResponseTransactionState{TransactionalID: t.TransactionalID, ErrorCode: codeTxnIDAuthFailed, ProducerID: -1, ProducerEpoch: -1}
		}
	}
}

func (z *authzReq) patchListTransactions(r kmsg.Response) {
	resp := r.(*kmsg.ListTransactionsResponse)
	kept := resp.TransactionStates[:0]
	for _, t := range resp.TransactionStates {
		if z.quiet(acl.Describe, acl.TransactionalID, t.TransactionalID) {
			kept = append(kept, t)
		}
	}
	resp.TransactionStates = kept
}

func (z *authzReq) patchDescribeTopicPartitions(r kmsg.Response) {
	resp := r.(*kmsg.DescribeTopicPartitionsResponse)
	for i := range resp.Topics {
		t := &resp.Topics[i]
		name := ""
		if t.Topic != nil {
			name = *t.Topic
		}
		if !z.allowed(acl.Describe, acl.Topic, name) {
			t.ErrorCode, t.TopicID, t.IsInternal, t.Partitions = codeTopicAuthFailed, [16]byte{}, false, nil
			t.AuthorizedOperations = unsetAuthorizedOperations
		} else if t.AuthorizedOperations != unsetAuthorizedOperations {
			t.AuthorizedOperations = z.a.AuthorizedOperations(z.who, acl.Topic, name, acl.TopicOperations)
		}
	}
}

// perEntryDenied answers the admin requests whose responses carry one
// result per request entry and no top-level error (CreateAcls, DeleteAcls,
// AlterUserScramCredentials, AlterReplicaLogDirs): every entry gets code.
func (z *authzReq) perEntryDenied(code int16, msg string) (guardVerdict, bool, error) {
	c := &cursor{b: z.body}
	flex, version := z.flex, z.version
	var fill func(kmsg.Response)
	switch z.key {
	case 30: // CreateAcls
		n := 0
		for k := c.arrayLen(flex); k > 0 && !c.failed(); k-- {
			c.take(1)
			c.str(flex)
			if version >= 1 {
				c.take(1)
			}
			c.str(flex)
			c.str(flex)
			c.take(2)
			c.tags(flex)
			n++
		}
		fill = func(r kmsg.Response) {
			resp := r.(*kmsg.CreateACLsResponse)
			for range n {
				res := kmsg.NewCreateACLsResponseResult()
				res.ErrorCode, res.ErrorMessage = code, kmsg.StringPtr(msg)
				resp.Results = append(resp.Results, res)
			}
		}
	case 31: // DeleteAcls
		n := 0
		for k := c.arrayLen(flex); k > 0 && !c.failed(); k-- {
			c.take(1)
			c.nullableStr(flex)
			if version >= 1 {
				c.take(1)
			}
			c.nullableStr(flex)
			c.nullableStr(flex)
			c.take(2)
			c.tags(flex)
			n++
		}
		fill = func(r kmsg.Response) {
			resp := r.(*kmsg.DeleteACLsResponse)
			for range n {
				res := kmsg.NewDeleteACLsResponseResult()
				res.ErrorCode, res.ErrorMessage = code, kmsg.StringPtr(msg)
				resp.Results = append(resp.Results, res)
			}
		}
	case 51: // AlterUserScramCredentials
		var users []string
		for k := c.arrayLen(flex); k > 0 && !c.failed(); k-- { // deletions
			users = append(users, string(c.str(flex)))
			c.take(1)
			c.tags(flex)
		}
		for k := c.arrayLen(flex); k > 0 && !c.failed(); k-- { // upsertions
			users = append(users, string(c.str(flex)))
			c.take(1 + 4)
			c.bytes(flex)
			c.bytes(flex)
			c.tags(flex)
		}
		fill = func(r kmsg.Response) {
			resp := r.(*kmsg.AlterUserSCRAMCredentialsResponse)
			for _, u := range users {
				res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
				res.User, res.ErrorCode, res.ErrorMessage = u, code, kmsg.StringPtr(msg)
				resp.Results = append(resp.Results, res)
			}
		}
	case 34: // AlterReplicaLogDirs
		type tp struct {
			topic      string
			partitions []int32
		}
		var tps []tp
		for k := c.arrayLen(flex); k > 0 && !c.failed(); k-- { // dirs
			c.str(flex)
			for t := c.arrayLen(flex); t > 0 && !c.failed(); t-- {
				e := tp{topic: string(c.str(flex))}
				for p := c.arrayLen(flex); p > 0 && !c.failed(); p-- {
					e.partitions = append(e.partitions, c.int32())
				}
				c.tags(flex)
				tps = append(tps, e)
			}
			c.tags(flex)
		}
		fill = func(r kmsg.Response) {
			resp := r.(*kmsg.AlterReplicaLogDirsResponse)
			for _, e := range tps {
				t := kmsg.NewAlterReplicaLogDirsResponseTopic()
				t.Topic = e.topic
				for _, p := range e.partitions {
					rp := kmsg.NewAlterReplicaLogDirsResponseTopicPartition()
					rp.Partition, rp.ErrorCode = p, code
					t.Partitions = append(t.Partitions, rp)
				}
				resp.Topics = append(resp.Topics, t)
			}
		}
	default:
		return guardVerdict{}, false, nil
	}
	if c.failed() {
		return guardVerdict{}, false, fmt.Errorf("%w: request body", wire.ErrMalformed)
	}
	return z.local(fill), true, nil
}
