package proxy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/linkproxy/linkproxy/listeners/refusals"
	"github.com/linkproxy/linkproxy/proxy/rewrite"
	"github.com/linkproxy/linkproxy/proxy/wire"
)

// The mirror-topic guard: through the proxy, a mirror topic is read-only
// until its link stops it (promote or failover), as with Confluent Cluster
// Linking.
//
// Refused, for a topic that MirrorLink reports:
//
//	Produce (0)                  every version; v13+ names topics by id
//	DeleteTopics (20)            by name, and by id from v6
//	DeleteRecords (21)
//	AddPartitionsToTxn (24)      an aborted transaction would write its
//	                             marker into the mirror
//	AlterConfigs (33)            TOPIC resources only
//	CreatePartitions (37)
//	IncrementalAlterConfigs (44) TOPIC resources only
//
// Left alone: reads, consumer group offsets (OffsetCommit, TxnOffsetCommit,
// OffsetDelete), replica placement (AlterPartitionReassignments,
// AlterReplicaLogDirs, ElectLeaders) and ACLs, none of which changes the
// mirror's records, partitions or configs. The link service writes its
// mirrors with its own client to the fronted cluster, not through the proxy.
//
// The error is INVALID_REQUEST, what Confluent Server returns for a produce
// to a mirror topic (InvalidRequestException "Cannot append records to
// read-only mirror topic 'x'"), with a message naming the topic and the link
// wherever the response version has an error message field.
//
// A request that touches mirror and other topics is split, as a broker
// treats partitions and resources independently: the rest is forwarded and
// the broker's response gets the refused parts added, so a producer that
// writes to a mirror by mistake does not fail its writes to other topics
// sharing the request. AddPartitionsToTxn is the exception, as in Kafka: a
// transaction is all or nothing, so the whole request is answered here and
// the other partitions get OPERATION_NOT_ATTEMPTED.
//
// Responses go back in request order, so a request answered here in full is
// replaced upstream by an ApiVersions v0 request with its correlation id,
// and the broker's answer to that is swapped for the guard's response: no
// second response path and no reordering, at the cost of one small round
// trip per refused request.
//
// acks=0 produce requests have no response. A broker closes the connection
// when one fails, so that the producer notices and refreshes its metadata;
// the guard does the same: the other topics of the request are forwarded,
// the proxy reads nothing more from the client, and the connection closes
// once the responses to earlier requests are out.

// MirrorTopics tells the proxy which topics are read-only mirrors.
type MirrorTopics interface {
	// MirrorLink reports whether topic is currently a read-only mirror
	// topic, and of which cluster link. It is called for each topic of
	// every guarded request, Produce included, so it must be cheap and
	// safe for concurrent use.
	MirrorLink(topic string) (link string, ok bool)
}

// SetMirrorTopics installs the mirror-topic guard; nil removes it. It may be
// called at any time, before or during Run; requests read afterwards see it.
func (p *Proxy) SetMirrorTopics(m MirrorTopics) {
	if m == nil {
		p.guard.mirrors.Store(nil)
		return
	}
	p.guard.mirrors.Store(&mirrorTopicsBox{m})
}

func (p *Proxy) mirrorTopics() MirrorTopics {
	if b := p.guard.mirrors.Load(); b != nil {
		return b.m
	}
	return nil
}

// guardState is the proxy-wide state of the guard; its zero value has no
// guard installed.
type guardState struct {
	mirrors atomic.Pointer[mirrorTopicsBox]
	ids     topicIDs
	logs    refusalLog
	authz   authzState // the ACL authorizer (authz.go)
}

type mirrorTopicsBox struct{ m MirrorTopics }

const (
	codeInvalidRequest        = 42 // INVALID_REQUEST
	codeOperationNotAttempted = 55 // OPERATION_NOT_ATTEMPTED
	codeUnknownTopicID        = 100
)

// guardedKey reports whether requests of key can write to a topic.
func guardedKey(key int16) bool {
	switch key {
	case 0, 20, 21, 24, 33, 37, 44:
		return true
	}
	return false
}

// refused is one topic (or config resource) the guard refused.
type refused struct {
	topic string   // "" when only the id is known
	id    [16]byte // set when the request named the topic by id
	link  string   // "" when the topic id could not be resolved
	code  int16
	msg   string
}

func readOnlyMessage(action, topic, link string) string {
	return fmt.Sprintf("Cannot %s read-only mirror topic '%s': it is mirrored by cluster link '%s' until the mirror is promoted or failed over", action, topic, link)
}

func formatTopicID(id [16]byte) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// topicResolver turns a topic id into its name: ok is false when the
// cluster does not know the id; err when it could not be asked.
type topicResolver interface {
	topicName(id [16]byte) (name string, ok bool, err error)
}

// judge decides, entry by entry, what a walked request may do: the
// mirror-topic guard (guard), and the ACL authorizer (authz.go), which
// reuse one walk, split and local answer.
type judge interface {
	// byName and byID judge a topic, by name or by id.
	byName(action, topic string) (refused, bool)
	byID(action string, id [16]byte) (refused, bool)
	// byResource judges a config resource that is not a topic.
	byResource(resType int8, name string) (refused, bool)
}

// guard checks requests against one MirrorTopics.
type guard struct {
	mirrors MirrorTopics
	ids     topicResolver
}

// byResource lets every non-topic config resource through: mirrors are
// topics.
func (guard) byResource(int8, string) (refused, bool) { return refused{}, false }

func (g guard) byName(action, topic string) (refused, bool) {
	link, ok := g.mirrors.MirrorLink(topic)
	if !ok {
		return refused{}, false
	}
	return refused{topic: topic, link: link, code: codeInvalidRequest, msg: readOnlyMessage(action, topic, link)}, true
}

// byID checks a topic named by id. An id that cannot be resolved because the
// cluster's metadata cannot be read is refused with the retriable
// UNKNOWN_TOPIC_ID rather than let through unchecked; an id the cluster does
// not know is forwarded, for the broker to answer UNKNOWN_TOPIC_ID.
func (g guard) byID(action string, id [16]byte) (refused, bool) {
	name, ok, err := g.ids.topicName(id)
	if err != nil {
		return refused{id: id, code: codeUnknownTopicID,
			msg: fmt.Sprintf("linkproxy could not resolve topic id %s to check it against read-only mirror topics: %v", formatTopicID(id), err)}, true
	}
	if !ok {
		return refused{}, false
	}
	r, bad := g.byName(action, name)
	r.id = id
	return r, bad
}

// guardVerdict is what to do with a request.
type guardVerdict struct {
	// needWhole: the head of a streamed frame was not enough; check
	// again with the whole frame.
	needWhole bool
	// forward replaces the request upstream when pending.answer is set:
	// the rest of a split request, and/or an ApiVersions stand-in.
	forward []byte
	pending pending
	// stop: read nothing more from the client (acks=0 refusals).
	stop     bool
	refusals []refused
	key      int16
}

// guardAnswer turns the broker's response to what was forwarded into the
// response the client gets.
type guardAnswer struct {
	key, version int16
	// forwarded: the broker got the request minus the refused parts and
	// its response is decoded and completed; otherwise the broker got an
	// ApiVersions stand-in and its response is dropped.
	forwarded bool
	fill      func(kmsg.Response) // adds the refused parts
	// closeReason, when set, closes the connection instead (acks=0).
	closeReason string
}

// closeAfter asks the response pump to close the connection once what it
// has written so far is flushed.
type closeAfter struct{ reason string }

func (c closeAfter) Error() string { return c.reason }

// respond builds the client's response frame from upstream, the broker's
// response frame (after endpoint rewriting), which is ignored unless the
// request was forwarded. Only the broker's bytes are decoded with kmsg:
// upstream brokers are trusted, clients are not.
func (a *guardAnswer) respond(correlationID int32, upstream []byte) ([]byte, error) {
	resp := kmsg.ResponseForKey(a.key)
	resp.SetVersion(a.version)
	flexible := rewrite.FlexibleResponseHeader(a.key, a.version)
	if a.forwarded {
		off, err := wire.ResponseBodyOffset(upstream, flexible)
		if err != nil {
			return nil, err
		}
		if err := resp.ReadFrom(upstream[off:]); err != nil {
			return nil, fmt.Errorf("%s v%d response: %w", apiName(a.key), a.version, err)
		}
	}
	a.fill(resp)
	out := make([]byte, 8, 512)
	binary.BigEndian.PutUint32(out[4:], uint32(correlationID))
	if flexible {
		out = append(out, 0) // no header tags
	}
	out = resp.AppendTo(out)
	binaryPutLength(out)
	return out, nil
}

// answer is the response pump's side of the guard.
func (cl *client) answer(req pending, frame []byte) ([]byte, error) {
	a := req.answer
	if a.closeReason != "" {
		return nil, closeAfter{a.closeReason}
	}
	var upstream []byte
	if a.forwarded {
		rw, err := cl.rewrite(req, frame)
		if err != nil {
			return nil, err
		}
		if !sameSlice(rw, frame) {
			defer cl.p.pool.Put(rw)
		}
		upstream = rw
	}
	return a.respond(req.correlationID, upstream)
}

// respond returns the frame to send the client for the response frame to
// req.
func (cl *client) respond(req pending, frame []byte) ([]byte, error) {
	if req.answer != nil {
		return cl.answer(req, frame)
	}
	return cl.rewrite(req, frame)
}

// apiVersionsStandIn appends an ApiVersions v0 request: what goes upstream
// in place of a request answered here, so that its answer comes back in
// order.
func apiVersionsStandIn(dst []byte, correlationID int32) []byte {
	const clientID = "linkproxy"
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 18, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(clientID)))
	dst = append(dst, clientID...)
	binaryPutLength(dst[start:])
	return dst
}

// Requests are walked byte by byte and never decoded with kmsg: kmsg trusts
// the counts it reads (see rewrite/scanner.go), and these bytes come from
// clients. The walk works and allocates in proportion to the bytes present,
// and a split request is the client's own bytes minus the refused entries,
// so the broker parses what the client sent, less those.

// check decides what to do with a guarded request: frame is the whole
// request, or with whole false the head of a streamed one.
func (g guard) check(frame []byte, whole bool) (guardVerdict, error) {
	h, err := wire.PeekRequestHeader(frame)
	if err != nil {
		return guardVerdict{}, err
	}
	key, version := h.APIKey, h.APIVersion
	if !rewrite.KnownVersion(key, version) {
		return guardVerdict{}, fmt.Errorf("%s v%d cannot be checked against read-only mirror topics", apiName(key), version)
	}
	if key != 0 && !whole {
		return guardVerdict{needWhole: true}, nil
	}
	flex := rewrite.FlexibleRequestHeader(key, version)
	if h, err = wire.ParseRequestHeader(frame, flex); err != nil {
		return guardVerdict{}, err
	}
	body := frame[h.BodyOffset:]
	if key == 0 {
		// Most produce requests touch no mirror topic: a scan that
		// allocates nothing lets them go on untouched, streamed when
		// large.
		hit, err := g.produceHits(body, version, flex, whole)
		switch {
		case err != nil:
			return guardVerdict{}, fmt.Errorf("%s v%d: %w", apiName(key), version, err)
		case hit && !whole:
			return guardVerdict{needWhole: true}, nil
		case !hit:
			return guardVerdict{}, nil
		}
	}
	return walkVerdict(g, frame, h, flex)
}

// walkVerdict walks a whole request with j and returns what to do with it.
func walkVerdict(j judge, frame []byte, h wire.RequestHeader, flex bool) (guardVerdict, error) {
	w := walk(j, h.APIKey, h.APIVersion, flex, frame[h.BodyOffset:])
	if w.c.failed() {
		return guardVerdict{}, fmt.Errorf("%s v%d: %w: request body", apiName(h.APIKey), h.APIVersion, wire.ErrMalformed)
	}
	return w.verdict(frame, h, flex), nil
}

// produceHits reports whether a produce request names a topic to refuse;
// on a head it may need the whole frame to tell (needWhole as hit).
func (g guard) produceHits(body []byte, version int16, flex, whole bool) (bool, error) {
	s := newProduceScan(body, version, flex)
	for {
		name, id, ok := s.next()
		if !ok {
			break
		}
		var hit bool
		if s.byID {
			_, hit = g.byID("", id)
		} else {
			_, hit = g.mirrors.MirrorLink(string(name))
		}
		if hit {
			return true, nil
		}
	}
	switch {
	case s.c.bad || (s.c.short && whole):
		return false, fmt.Errorf("%w: produce request body", wire.ErrMalformed)
	case s.c.short:
		return true, nil // the rest of the names are beyond the head
	}
	return false, nil
}

// topicEntry is one element of a guarded request's topic (or config
// resource) array, as the client encoded it.
type topicEntry struct {
	start, end int      // its bytes in the body
	name       []byte   // nil when null (DeleteTopics v6 by id)
	id         [16]byte // Produce v13+, DeleteTopics v6+
	hasID      bool
	other      bool    // a config resource that is not a topic
	resType    int8    // config resources
	partitions []int32 // Produce, DeleteRecords, AddPartitionsToTxn
	txn        int     // AddPartitionsToTxn v4+: index of its transaction
	ref        int     // index in refusals; -1 when let through
}

// walked is a guarded request's layout and what the guard makes of it.
// Only refused entries are kept (every entry for AddPartitionsToTxn, which
// is answered whole), so that memory follows what is refused.
type walked struct {
	g            judge
	key, version int16
	c            cursor
	count        int // where the topic array's count starts
	first, end   int // where its entries start and end
	total        int // entries walked
	acks         int16
	txns         []string         // AddPartitionsToTxn v4+: transactional ids
	replica      bool             // Fetch: a follower's (replica id or ReplicaState)
	entries      []topicEntry     // the refused ones, in order (all for AddPartitionsToTxn)
	refusals     []refused        // one per refused topic
	byTopic      map[string]int   // refusals by topic name
	byID         map[[16]byte]int // and by id, for entries without a name
}

func walk(g judge, key, version int16, flex bool, body []byte) walked {
	w := walked{g: g, key: key, version: version, c: cursor{b: body}}
	c := &w.c
	switch key {
	case 0: // Produce
		if version >= 3 {
			c.str(flex) // transactional id
		}
		if b := c.take(2); b != nil {
			w.acks = int16(binary.BigEndian.Uint16(b))
		}
		c.take(4) // timeout
		w.topics(flex, func(e *topicEntry) {
			if version >= 13 {
				e.hasID = copy(e.id[:], c.take(16)) == 16
			} else {
				e.name = c.str(flex)
			}
			w.partitions(flex, e, func() {
				c.bytes(flex) // records
			})
			c.tags(flex)
		})
	case 20: // DeleteTopics
		w.topics(flex, func(e *topicEntry) {
			if version < 6 {
				e.name = c.str(flex)
				return
			}
			e.name = c.nullableStr(flex)
			e.hasID = copy(e.id[:], c.take(16)) == 16 && e.id != [16]byte{}
			c.tags(flex)
		})
	case 21: // DeleteRecords
		w.topics(flex, func(e *topicEntry) {
			e.name = c.str(flex)
			w.partitions(flex, e, func() {
				c.take(8) // offset
			})
			c.tags(flex)
		})
	case 24: // AddPartitionsToTxn
		txnTopics := func(txn int) {
			w.topics(flex, func(e *topicEntry) {
				e.txn = txn
				e.name = c.str(flex)
				for n := c.arrayLen(flex); n > 0 && !c.failed(); n-- {
					e.partitions = append(e.partitions, c.int32())
				}
				c.tags(flex)
			})
		}
		if version < 4 {
			c.str(flex)   // transactional id
			c.take(8 + 2) // producer id, epoch
			txnTopics(0)
			break
		}
		for n := c.arrayLen(flex); n > 0 && !c.failed(); n-- {
			w.txns = append(w.txns, string(c.str(flex)))
			c.take(8 + 2 + 1) // producer id, epoch, verify only
			txnTopics(len(w.txns) - 1)
			c.tags(flex)
		}
	case 33, 44: // AlterConfigs, IncrementalAlterConfigs
		w.topics(flex, func(e *topicEntry) {
			if b := c.take(1); b != nil {
				e.resType = int8(b[0])
			}
			e.other = e.resType != int8(kmsg.ConfigResourceTypeTopic)
			e.name = c.str(flex)
			for n := c.arrayLen(flex); n > 0 && !c.failed(); n-- {
				c.str(flex) // name
				if key == 44 {
					c.take(1) // op
				}
				c.nullableStr(flex) // value
				c.tags(flex)
			}
			c.tags(flex)
		})
	case 37: // CreatePartitions
		w.topics(flex, func(e *topicEntry) {
			e.name = c.str(flex)
			c.take(4) // count
			for n := c.arrayLen(flex); n > 0 && !c.failed(); n-- {
				c.take(4 * c.arrayLen(flex)) // replicas
				c.tags(flex)
			}
			c.tags(flex)
		})
	default: // the requests only the authorizer splits (authz_walk.go)
		w.walkAuthz(flex)
	}
	return w
}

// topics walks the topic array at the cursor, entry reading one element,
// and checks each. AddPartitionsToTxn v4+ has one array per transaction;
// its layout then only serves to answer, never to split.
func (w *walked) topics(flex bool, entry func(e *topicEntry)) {
	c := &w.c
	w.count = c.off
	n := c.arrayLen(flex)
	w.first = c.off
	for ; n > 0 && !c.failed(); n-- {
		e := topicEntry{start: c.off, ref: -1}
		entry(&e)
		e.end = c.off
		w.total++
		if !c.failed() {
			w.check(e)
		}
	}
	w.end = c.off
}

// check judges one entry, by name and by id when it has one; a topic is
// judged once per request.
func (w *walked) check(e topicEntry) {
	if e.other {
		if f, bad := w.g.byResource(e.resType, string(e.name)); bad {
			e.ref = len(w.refusals)
			w.refusals = append(w.refusals, f)
		}
	} else {
		var f refused
		var bad bool
		if i, ok := w.byTopic[string(e.name)]; ok && e.name != nil {
			e.ref = i
		} else if i, ok := w.byID[e.id]; ok && e.name == nil {
			e.ref = i
		} else {
			action := guardActions[w.key]
			if e.name != nil {
				f, bad = w.g.byName(action, string(e.name))
			}
			if !bad && e.hasID {
				f, bad = w.g.byID(action, e.id)
			}
			if bad {
				f.id = e.id
				e.ref = len(w.refusals)
				w.refusals = append(w.refusals, f)
				if e.name != nil {
					if w.byTopic == nil {
						w.byTopic = make(map[string]int)
					}
					w.byTopic[string(e.name)] = e.ref
				} else {
					if w.byID == nil {
						w.byID = make(map[[16]byte]int)
					}
					w.byID[e.id] = e.ref
				}
			}
		}
	}
	if e.ref >= 0 || w.key == 24 {
		e.name = bytes.Clone(e.name) // the frame goes back to the pool before the answer is built
		w.entries = append(w.entries, e)
	}
}

// partitions walks a partition array whose elements are an int32 index,
// then what rest reads, then tags.
func (w *walked) partitions(flex bool, e *topicEntry, rest func()) {
	c := &w.c
	for n := c.arrayLen(flex); n > 0 && !c.failed(); n-- {
		e.partitions = append(e.partitions, c.int32())
		rest()
		c.tags(flex)
	}
}

// rebuild returns the request frame without the refused entries: the
// client's header and bytes, with the topic array's count rewritten.
func (w *walked) rebuild(frame []byte, bodyOffset int, flex bool) []byte {
	body := frame[bodyOffset:]
	out := make([]byte, 0, len(frame))
	out = append(out, frame[:bodyOffset]...)
	out = append(out, body[:w.count]...)
	if kept := w.total - len(w.entries); flex {
		out = binary.AppendUvarint(out, uint64(kept)+1)
	} else {
		out = binary.BigEndian.AppendUint32(out, uint32(kept))
	}
	at := w.first
	for _, e := range w.entries {
		out = append(out, body[at:e.start]...)
		at = e.end
	}
	out = append(out, body[at:]...)
	binaryPutLength(out)
	return out
}

var guardActions = map[int16]string{
	0:  "append records to",
	20: "delete",
	21: "delete records of",
	24: "add to a transaction the",
	33: "alter the configs of",
	37: "add partitions to",
	44: "alter the configs of",
}

// verdict builds the verdict for a walked request.
func (w *walked) verdict(frame []byte, h wire.RequestHeader, flex bool) guardVerdict {
	if len(w.refusals) == 0 {
		return guardVerdict{}
	}
	// Kafka adds a transaction's partitions all or nothing: the whole
	// AddPartitionsToTxn is answered here.
	keep := w.total > len(w.entries) && w.key != 24
	acks0 := w.key == 0 && w.acks == 0
	a := &guardAnswer{key: w.key, version: w.version, forwarded: keep && !acks0, fill: w.localAnswer()}
	var fwd []byte
	if keep {
		fwd = w.rebuild(frame, h.BodyOffset, flex)
	}
	if !a.forwarded {
		fwd = apiVersionsStandIn(fwd, h.CorrelationID)
	}
	v := guardVerdict{
		forward:  fwd,
		pending:  pending{correlationID: h.CorrelationID, key: w.key, version: w.version, answer: a},
		refusals: w.refusals,
	}
	if acks0 {
		a.closeReason = fmt.Sprintf("acks=0 produce refused: %s; closing the connection, as a broker does when an acks=0 produce fails", w.refusals[0].msg)
		v.stop = true
	}
	return v
}

// entryName is e's topic or group name as the answer carries it: the
// request's, or the one resolved from its topic id ("" if none was).
func (w *walked) entryName(e topicEntry) string {
	if e.name != nil {
		return string(e.name)
	}
	return w.refusals[e.ref].topic
}

// localAnswer returns what adds the refused entries to a response (every
// entry for AddPartitionsToTxn).
func (w *walked) localAnswer() func(kmsg.Response) {
	mine, refusals, name := w.entries, w.refusals, w.entryName
	switch w.key {
	case 0:
		return func(resp kmsg.Response) {
			r := resp.(*kmsg.ProduceResponse)
			for _, e := range mine {
				f := refusals[e.ref]
				t := kmsg.NewProduceResponseTopic()
				t.Topic, t.TopicID = name(e), e.id
				for _, p := range e.partitions {
					rp := kmsg.NewProduceResponseTopicPartition()
					rp.Partition, rp.ErrorCode, rp.BaseOffset, rp.ErrorMessage = p, f.code, -1, kmsg.StringPtr(f.msg)
					t.Partitions = append(t.Partitions, rp)
				}
				r.Topics = append(r.Topics, t)
			}
		}
	case 20:
		return func(resp kmsg.Response) {
			r := resp.(*kmsg.DeleteTopicsResponse)
			for _, e := range mine {
				f := refusals[e.ref]
				t := kmsg.NewDeleteTopicsResponseTopic()
				if n := name(e); n != "" {
					t.Topic = kmsg.StringPtr(n)
				}
				t.TopicID, t.ErrorCode, t.ErrorMessage = e.id, f.code, kmsg.StringPtr(f.msg)
				r.Topics = append(r.Topics, t)
			}
		}
	case 21:
		return func(resp kmsg.Response) {
			r := resp.(*kmsg.DeleteRecordsResponse)
			for _, e := range mine {
				f := refusals[e.ref]
				t := kmsg.NewDeleteRecordsResponseTopic()
				t.Topic = name(e)
				for _, p := range e.partitions {
					rp := kmsg.NewDeleteRecordsResponseTopicPartition()
					rp.Partition, rp.LowWatermark, rp.ErrorCode = p, -1, f.code
					t.Partitions = append(t.Partitions, rp)
				}
				r.Topics = append(r.Topics, t)
			}
		}
	case 24:
		return func(resp kmsg.Response) {
			r := resp.(*kmsg.AddPartitionsToTxnResponse)
			for _, e := range mine {
				code := int16(codeOperationNotAttempted)
				if e.ref >= 0 {
					code = refusals[e.ref].code
				}
				if w.version < 4 {
					t := kmsg.NewAddPartitionsToTxnResponseTopic()
					t.Topic = string(e.name)
					for _, p := range e.partitions {
						rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
						rp.Partition, rp.ErrorCode = p, code
						t.Partitions = append(t.Partitions, rp)
					}
					r.Topics = append(r.Topics, t)
					continue
				}
				for len(r.Transactions) <= e.txn {
					tx := kmsg.NewAddPartitionsToTxnResponseTransaction()
					tx.TransactionalID = w.txns[len(r.Transactions)]
					r.Transactions = append(r.Transactions, tx)
				}
				t := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
				t.Topic = string(e.name)
				for _, p := range e.partitions {
					rp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
					rp.Partition, rp.ErrorCode = p, code
					t.Partitions = append(t.Partitions, rp)
				}
				tx := &r.Transactions[e.txn]
				tx.Topics = append(tx.Topics, t)
			}
		}
	case 33:
		return func(resp kmsg.Response) {
			r := resp.(*kmsg.AlterConfigsResponse)
			for _, e := range mine {
				f := refusals[e.ref]
				rr := kmsg.NewAlterConfigsResponseResource()
				rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceType(e.resType), name(e)
				rr.ErrorCode, rr.ErrorMessage = f.code, kmsg.StringPtr(f.msg)
				r.Resources = append(r.Resources, rr)
			}
		}
	case 37:
		return func(resp kmsg.Response) {
			r := resp.(*kmsg.CreatePartitionsResponse)
			for _, e := range mine {
				f := refusals[e.ref]
				t := kmsg.NewCreatePartitionsResponseTopic()
				t.Topic, t.ErrorCode, t.ErrorMessage = name(e), f.code, kmsg.StringPtr(f.msg)
				r.Topics = append(r.Topics, t)
			}
		}
	case 44:
		return func(resp kmsg.Response) {
			r := resp.(*kmsg.IncrementalAlterConfigsResponse)
			for _, e := range mine {
				f := refusals[e.ref]
				rr := kmsg.NewIncrementalAlterConfigsResponseResource()
				rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceType(e.resType), name(e)
				rr.ErrorCode, rr.ErrorMessage = f.code, kmsg.StringPtr(f.msg)
				r.Resources = append(r.Resources, rr)
			}
		}
	default:
		if fill := w.authzLocalAnswer(); fill != nil {
			return fill
		}
	}
	return func(kmsg.Response) {}
}

// produceScan walks the topics of a Produce request body without
// allocating. On a streamed frame's head it may run out of bytes (short)
// before the last topic; the caller then checks the whole frame.
type produceScan struct {
	c    cursor
	flex bool
	byID bool // v13+: topics are named by id
	left int  // topics not yet returned
}

func newProduceScan(body []byte, version int16, flexible bool) produceScan {
	s := produceScan{c: cursor{b: body}, flex: flexible, byID: version >= 13}
	if version >= 3 {
		s.c.str(flexible) // transactional id
	}
	s.c.take(2 + 4) // acks, timeout
	s.left = s.c.arrayLen(flexible)
	return s
}

// next returns the next topic's name (or id), then skips its partitions so
// that the following call finds the next topic; after the last topic
// nothing more is read, so that a head holding every name suffices.
func (s *produceScan) next() (name []byte, id [16]byte, ok bool) {
	if s.left <= 0 || s.c.failed() {
		return nil, id, false
	}
	s.left--
	if s.byID {
		copy(id[:], s.c.take(16))
	} else {
		name = s.c.str(s.flex)
	}
	if s.c.failed() {
		return nil, id, false
	}
	if s.left > 0 {
		for n := s.c.arrayLen(s.flex); n > 0 && !s.c.failed(); n-- {
			s.c.take(4) // partition
			s.c.bytes(s.flex)
			s.c.tags(s.flex)
		}
		s.c.tags(s.flex)
	}
	return name, id, true
}

// cursor reads Kafka primitives from a client's bytes; short means they
// ran out (a head), bad that they cannot be a request. Every count it
// returns is bounded by the bytes left, and every loop over one consumes
// bytes or stops, so no input makes it work beyond its size.
type cursor struct {
	b          []byte
	off        int
	short, bad bool
}

func (c *cursor) failed() bool { return c.short || c.bad }

func (c *cursor) take(n int) []byte {
	if c.failed() {
		return nil
	}
	if n < 0 {
		c.bad = true
		return nil
	}
	if len(c.b)-c.off < n {
		c.short = true
		return nil
	}
	s := c.b[c.off : c.off+n : c.off+n]
	c.off += n
	return s
}

func (c *cursor) uvarint() uint64 {
	if c.failed() {
		return 0
	}
	v, n := binary.Uvarint(c.b[c.off:])
	switch {
	case n == 0:
		c.short = true
	case n < 0:
		c.bad = true
	}
	c.off += max(n, 0)
	return v
}

func (c *cursor) int32() int32 {
	if b := c.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

// length reads a compact (n+1, 0 for null) or classic (-1 for null)
// length; null is -1. Kafka encodes nothing below -1, and kmsg reads such
// lengths as null too.
func (c *cursor) length(flexible bool, classic int) int {
	if c.failed() {
		return -1
	}
	var n int64
	if flexible {
		u := c.uvarint()
		if u > 1<<31 {
			c.bad = true
			return -1
		}
		n = int64(u) - 1
	} else {
		switch b := c.take(classic); {
		case b == nil:
			return -1
		case classic == 2:
			n = int64(int16(binary.BigEndian.Uint16(b)))
		default:
			n = int64(int32(binary.BigEndian.Uint32(b)))
		}
	}
	return int(max(n, -1))
}

// nullableStr returns a string's bytes, nil when null.
func (c *cursor) nullableStr(flexible bool) []byte {
	n := c.length(flexible, 2)
	if n < 0 {
		return nil
	}
	return c.take(n)
}

// str returns a string's bytes; null reads as empty.
func (c *cursor) str(flexible bool) []byte {
	if b := c.nullableStr(flexible); b != nil || c.failed() {
		return b
	}
	return []byte{}
}

func (c *cursor) bytes(flexible bool) { c.take(max(c.length(flexible, 4), 0)) }

func (c *cursor) arrayLen(flexible bool) int { return max(c.length(flexible, 4), 0) }

func (c *cursor) tags(flexible bool) {
	if !flexible {
		return
	}
	for n := c.uvarint(); n > 0 && !c.failed(); n-- {
		c.uvarint() // tag
		c.take(int(min(c.uvarint(), 1<<31)))
	}
}

// topicIDs maps topic ids to names for the requests that name topics by id
// (Produce v13+, DeleteTopics v6+). Ids never change meaning, so entries
// are kept until a lookup no longer lists them; an unknown id triggers a
// Metadata lookup of all topics, one at a time and shared by every request
// that saw the id before that lookup started. The request waits for it
// (request.timeout.ms at most); clients learn ids from Metadata that passes
// through the proxy, so a miss is rare: the first produce after a topic is
// created or the proxy started.
type topicIDs struct {
	mu       sync.Mutex
	names    map[[16]byte]string
	looked   time.Time // when the last successful lookup started
	failedAt time.Time // when the last lookup failed
	err      error
	lookup   sync.Mutex // held during a lookup
}

// lookupRetry is how long a failed lookup's error is returned before the
// cluster is asked again.
const lookupRetry = time.Second

func (t *topicIDs) name(id [16]byte, fetch func() (map[[16]byte]string, error)) (string, bool, error) {
	seen := time.Now()
	t.mu.Lock()
	n, ok := t.names[id]
	t.mu.Unlock()
	if ok {
		return n, true, nil
	}
	t.lookup.Lock()
	defer t.lookup.Unlock()
	t.mu.Lock()
	n, ok = t.names[id]
	looked, failedAt, lastErr := t.looked, t.failedAt, t.err
	t.mu.Unlock()
	switch {
	case ok:
		return n, true, nil
	case looked.After(seen):
		return "", false, nil
	case !failedAt.IsZero() && time.Since(failedAt) < lookupRetry:
		return "", false, lastErr
	}
	start := time.Now()
	names, err := fetch()
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.failedAt, t.err = time.Now(), err
		return "", false, err
	}
	t.names, t.looked = names, start
	n, ok = names[id]
	return n, ok, nil
}

// proxyTopicIDs resolves topic ids with the proxy's own metadata client.
type proxyTopicIDs struct{ p *Proxy }

func (r proxyTopicIDs) topicName(id [16]byte) (string, bool, error) {
	return r.p.guard.ids.name(id, r.p.fetchTopicIDs)
}

func (p *Proxy) fetchTopicIDs() (map[[16]byte]string, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.Cluster.Props.Duration("request.timeout.ms"))
	defer cancel()
	req := kmsg.NewPtrMetadataRequest() // no topic list: all topics
	resp, err := req.RequestWith(ctx, p.admin)
	if err != nil {
		return nil, fmt.Errorf("metadata from %s: %w", p.cfg.Cluster.Name, err)
	}
	names := make(map[[16]byte]string, len(resp.Topics))
	for _, t := range resp.Topics {
		if t.Topic != nil && t.TopicID != ([16]byte{}) && t.ErrorCode == 0 {
			names[t.TopicID] = *t.Topic
		}
	}
	return names, nil
}

// guardRequest applies the mirror-topic guard, when one is installed, to a
// request frame: whole, or the head of a streamed one.
func (cl *client) guardRequest(frame []byte, whole bool) (guardVerdict, error) {
	m := cl.p.mirrorTopics()
	if m == nil || len(frame) < 6 || !guardedKey(int16(binary.BigEndian.Uint16(frame[4:]))) {
		return guardVerdict{}, nil
	}
	v, err := guard{mirrors: m, ids: proxyTopicIDs{cl.p}}.check(frame, whole)
	if err == nil {
		cl.logRefusals(v)
	}
	return v, err
}

// refusalLog rate-limits refusal log lines (listeners/refusals): one per
// key (for the guard: listener, client host, API and topic) every
// refusalLogEvery, counting the lines left out.
type refusalLog struct{ refusals.Log[any] }

type refusalKey struct {
	listener, client, topic string
	key                     int16
}

const refusalLogEvery = refusals.Every

func (l *refusalLog) allow(k refusalKey, now time.Time) (bool, int) { return l.Allow(k, now) }

// allowKey is allow for any comparable key.
func (l *refusalLog) allowKey(k any, now time.Time) (bool, int) { return l.Allow(k, now) }

func (cl *client) logRefusals(v guardVerdict) {
	if len(v.refusals) == 0 {
		return
	}
	host, _, err := net.SplitHostPort(cl.conn.RemoteAddr().String())
	if err != nil {
		host = cl.conn.RemoteAddr().String()
	}
	now := time.Now()
	for _, f := range v.refusals {
		topic := f.topic
		if topic == "" {
			topic = formatTopicID(f.id)
		}
		ok, suppressed := cl.p.guard.logs.allow(refusalKey{cl.conn.Listener.Name(), host, topic, v.key}, now)
		if !ok {
			continue
		}
		args := []any{"api", apiName(v.key), "topic", topic}
		if f.id != ([16]byte{}) {
			args = append(args, "topic_id", formatTopicID(f.id))
		}
		if suppressed > 0 {
			args = append(args, "suppressed", suppressed)
		}
		if f.link == "" {
			cl.log.Warn("write refused: the topic id could not be checked against read-only mirror topics", append(args, "error", f.msg)...)
			continue
		}
		code := fmt.Sprint(f.code)
		if ke, ok := kerr.ErrorForCode(f.code).(*kerr.Error); ok {
			code = ke.Message
		}
		cl.log.Info("write to a read-only mirror topic refused", append(args, "link", f.link, "error_code", code)...)
	}
}
