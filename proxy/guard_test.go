package proxy

import (
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/linkproxy/linkproxy/proxy/rewrite"
	"github.com/linkproxy/linkproxy/proxy/wire"
)

// mapMirrors is a MirrorTopics backed by a map from topic to link.
type mapMirrors map[string]string

func (m mapMirrors) MirrorLink(topic string) (string, bool) {
	l, ok := m[topic]
	return l, ok
}

// fakeIDs resolves topic ids from a map, or fails with err.
type fakeIDs struct {
	names map[[16]byte]string
	err   error
}

func (f fakeIDs) topicName(id [16]byte) (string, bool, error) {
	if f.err != nil {
		return "", false, f.err
	}
	n, ok := f.names[id]
	return n, ok, nil
}

var (
	mirrorID = [16]byte{1, 2, 3}
	plainID  = [16]byte{4, 5, 6}
	testGrd  = guard{
		mirrors: mapMirrors{"orders": "west"},
		ids:     fakeIDs{names: map[[16]byte]string{mirrorID: "orders", plainID: "plain"}},
	}
)

const testCorr = 77

func requestFrame(req kmsg.Request) []byte {
	return kmsg.NewRequestFormatter(kmsg.FormatterClientID("guard-test")).AppendRequest(nil, req, testCorr)
}

func responseFrame(resp kmsg.Response) []byte {
	out := make([]byte, 8)
	binary.BigEndian.PutUint32(out[4:], testCorr)
	if rewrite.FlexibleResponseHeader(resp.Key(), resp.GetVersion()) {
		out = append(out, 0)
	}
	out = resp.AppendTo(out)
	binaryPutLength(out)
	return out
}

// frames splits concatenated frames.
func frames(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			t.Fatalf("trailing %d bytes", len(b))
		}
		n := 4 + int(binary.BigEndian.Uint32(b))
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// decodeRequest decodes a request frame, checking its correlation id.
func decodeRequest(t *testing.T, frame []byte) kmsg.Request {
	t.Helper()
	h, err := wire.PeekRequestHeader(frame)
	if err != nil {
		t.Fatal(err)
	}
	if h.CorrelationID != testCorr {
		t.Fatalf("forwarded correlation id %d, want %d", h.CorrelationID, testCorr)
	}
	h, err = wire.ParseRequestHeader(frame, rewrite.FlexibleRequestHeader(h.APIKey, h.APIVersion))
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.RequestForKey(h.APIKey)
	req.SetVersion(h.APIVersion)
	if err := req.ReadFrom(frame[h.BodyOffset:]); err != nil {
		t.Fatalf("forwarded %s v%d: %v", kmsg.NameForKey(h.APIKey), h.APIVersion, err)
	}
	return req
}

func decodeResponse(t *testing.T, key, version int16, frame []byte) kmsg.Response {
	t.Helper()
	if corr, _ := wire.ResponseCorrelationID(frame); corr != testCorr {
		t.Fatalf("response correlation id %d, want %d", corr, testCorr)
	}
	if int(binary.BigEndian.Uint32(frame))+4 != len(frame) {
		t.Fatalf("response length prefix %d for %d bytes", binary.BigEndian.Uint32(frame), len(frame)-4)
	}
	off, err := wire.ResponseBodyOffset(frame, rewrite.FlexibleResponseHeader(key, version))
	if err != nil {
		t.Fatal(err)
	}
	resp := kmsg.ResponseForKey(key)
	resp.SetVersion(version)
	if err := resp.ReadFrom(frame[off:]); err != nil {
		t.Fatalf("%s v%d response: %v", kmsg.NameForKey(key), version, err)
	}
	return resp
}

// checkVerdict runs the guard on req and checks how much went upstream:
// the request minus the refused parts (kept), or only an ApiVersions
// stand-in. It returns the forwarded request, if any.
func checkVerdict(t *testing.T, g guard, req kmsg.Request, kept bool) (guardVerdict, kmsg.Request) {
	t.Helper()
	frame := requestFrame(req)
	v, err := g.check(frame, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range frame { // the frame goes back to the pool before the answer is built
		frame[i] = 0xaa
	}
	if v.pending.answer == nil {
		t.Fatal("nothing refused")
	}
	if v.pending.correlationID != testCorr || v.pending.key != req.Key() || v.pending.version != req.GetVersion() {
		t.Fatalf("pending %+v", v.pending)
	}
	fs := frames(t, v.forward)
	if !kept {
		if len(fs) != 1 {
			t.Fatalf("%d frames forwarded, want the ApiVersions stand-in", len(fs))
		}
		av := decodeRequest(t, fs[0])
		if av.Key() != 18 || av.GetVersion() != 0 {
			t.Fatalf("forwarded %s v%d, want ApiVersions v0", kmsg.NameForKey(av.Key()), av.GetVersion())
		}
		if v.pending.answer.forwarded {
			t.Fatal("answer expects a forwarded request's response")
		}
		return v, nil
	}
	if len(fs) != 1 || !v.pending.answer.forwarded {
		t.Fatalf("%d frames forwarded (answer forwarded=%v), want the request's rest", len(fs), v.pending.answer.forwarded)
	}
	return v, decodeRequest(t, fs[0])
}

// respond completes the broker's response (nil: none, the stand-in's) into
// the client's response.
func respond(t *testing.T, v guardVerdict, broker kmsg.Response) kmsg.Response {
	t.Helper()
	var up []byte
	if broker != nil {
		broker.SetVersion(v.pending.version)
		up = responseFrame(broker)
	} else {
		av := kmsg.NewPtrApiVersionsResponse()
		up = responseFrame(av)
	}
	out, err := v.pending.answer.respond(testCorr, up)
	if err != nil {
		t.Fatal(err)
	}
	return decodeResponse(t, v.pending.key, v.pending.version, out)
}

func wantMessage(t *testing.T, msg *string, has bool, what string) {
	t.Helper()
	switch {
	case !has && msg != nil:
		t.Errorf("%s: error message %q in a version without one", what, *msg)
	case has && msg == nil:
		t.Errorf("%s: no error message", what)
	case has && !(strings.Contains(*msg, "read-only mirror topic 'orders'") && strings.Contains(*msg, "cluster link 'west'")):
		t.Errorf("%s: error message %q does not name the topic and the link", what, *msg)
	}
}

func produceRequest(version int16, acks int16, topics ...string) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(version)
	req.Acks = acks
	for _, name := range topics {
		t := kmsg.NewProduceRequestTopic()
		t.Topic = name
		if version >= 13 {
			t.Topic = ""
			t.TopicID = map[string][16]byte{"orders": mirrorID, "plain": plainID}[name]
		}
		for p := range int32(2) {
			tp := kmsg.NewProduceRequestTopicPartition()
			tp.Partition, tp.Records = p, []byte("records of "+name)
			t.Partitions = append(t.Partitions, tp)
		}
		req.Topics = append(req.Topics, t)
	}
	return req
}

func produceTopicKey(version int16, t kmsg.ProduceResponseTopic) string {
	if version >= 13 {
		return map[[16]byte]string{mirrorID: "orders", plainID: "plain"}[t.TopicID]
	}
	return t.Topic
}

func TestGuardProduce(t *testing.T) {
	for v := int16(0); v <= 13; v++ {
		// Mixed: the plain topic goes on, the mirror is refused.
		gv, fwd := checkVerdict(t, testGrd, produceRequest(v, -1, "orders", "plain"), true)
		fr := fwd.(*kmsg.ProduceRequest)
		if len(fr.Topics) != 1 || produceTopicKey(v, kmsg.ProduceResponseTopic{Topic: fr.Topics[0].Topic, TopicID: fr.Topics[0].TopicID}) != "plain" ||
			string(fr.Topics[0].Partitions[1].Records) != "records of plain" || fr.Acks != -1 {
			t.Fatalf("v%d: forwarded %+v", v, fr)
		}
		if len(gv.refusals) != 1 || gv.refusals[0].topic != "orders" || gv.refusals[0].link != "west" {
			t.Fatalf("v%d: refusals %+v", v, gv.refusals)
		}
		broker := kmsg.NewPtrProduceResponse()
		bt := kmsg.NewProduceResponseTopic()
		bt.Topic, bt.TopicID = fr.Topics[0].Topic, fr.Topics[0].TopicID
		for p := range int32(2) {
			bp := kmsg.NewProduceResponseTopicPartition()
			bp.Partition, bp.BaseOffset = p, 100+int64(p)
			bt.Partitions = append(bt.Partitions, bp)
		}
		broker.Topics = append(broker.Topics, bt)
		resp := respond(t, gv, broker).(*kmsg.ProduceResponse)
		got := map[string][]kmsg.ProduceResponseTopicPartition{}
		for _, rt := range resp.Topics {
			got[produceTopicKey(v, rt)] = rt.Partitions
		}
		if len(got) != 2 || len(got["plain"]) != 2 || got["plain"][1].BaseOffset != 101 || got["plain"][0].ErrorCode != 0 {
			t.Fatalf("v%d: response %+v", v, resp.Topics)
		}
		if len(got["orders"]) != 2 {
			t.Fatalf("v%d: mirror partitions %+v", v, got["orders"])
		}
		for _, p := range got["orders"] {
			if p.ErrorCode != codeInvalidRequest || p.BaseOffset != -1 {
				t.Errorf("v%d: mirror partition %d: code %d, base offset %d", v, p.Partition, p.ErrorCode, p.BaseOffset)
			}
			wantMessage(t, p.ErrorMessage, v >= 8, "produce")
		}

		// Only the mirror: answered here in full.
		gv, _ = checkVerdict(t, testGrd, produceRequest(v, 1, "orders"), false)
		resp = respond(t, gv, nil).(*kmsg.ProduceResponse)
		if len(resp.Topics) != 1 || produceTopicKey(v, resp.Topics[0]) != "orders" || len(resp.Topics[0].Partitions) != 2 ||
			resp.Topics[0].Partitions[0].ErrorCode != codeInvalidRequest {
			t.Fatalf("v%d: response %+v", v, resp.Topics)
		}

		// No mirror: untouched.
		if gv, err := testGrd.check(requestFrame(produceRequest(v, 1, "plain", "other")), true); err != nil || gv.pending.answer != nil || gv.forward != nil {
			t.Fatalf("v%d: plain produce: %+v, %v", v, gv, err)
		}
	}
}

func TestGuardProduceAcksZero(t *testing.T) {
	for _, v := range []int16{3, 9, 13} {
		gv, err := testGrd.check(requestFrame(produceRequest(v, 0, "plain", "orders")), true)
		if err != nil {
			t.Fatal(err)
		}
		fs := frames(t, gv.forward)
		if len(fs) != 2 || !gv.stop || gv.pending.answer == nil || !strings.Contains(gv.pending.answer.closeReason, "cluster link 'west'") {
			t.Fatalf("v%d: %d frames, stop %v, answer %+v", v, len(fs), gv.stop, gv.pending.answer)
		}
		rest := decodeRequest(t, fs[0]).(*kmsg.ProduceRequest)
		if rest.Acks != 0 || len(rest.Topics) != 1 {
			t.Fatalf("v%d: forwarded %+v", v, rest)
		}
		if av := decodeRequest(t, fs[1]); av.Key() != 18 {
			t.Fatalf("v%d: second frame is %s, want the ApiVersions stand-in", v, kmsg.NameForKey(av.Key()))
		}
		var cl client
		if _, err := cl.answer(gv.pending, nil); !errors.As(err, new(closeAfter)) {
			t.Fatalf("v%d: answer %v, want closeAfter", v, err)
		}
	}
}

// A streamed produce request is decided from its head when the head holds
// every topic name.
func TestGuardProduceHead(t *testing.T) {
	big := make([]byte, 100<<10)
	req := func(v int16, topics ...string) []byte {
		r := produceRequest(v, 1, topics...)
		for i := range r.Topics {
			r.Topics[i].Partitions[0].Records = big
		}
		return requestFrame(r)
	}
	for _, v := range []int16{2, 8, 9, 12, 13} {
		head := func(f []byte) []byte { return f[:32<<10] }
		if gv, err := testGrd.check(head(req(v, "plain")), false); err != nil || gv.needWhole || gv.pending.answer != nil {
			t.Errorf("v%d: one plain topic: %+v, %v", v, gv, err)
		}
		if gv, err := testGrd.check(head(req(v, "plain", "orders")), false); err != nil || !gv.needWhole {
			t.Errorf("v%d: second topic beyond the head: %+v, %v", v, gv, err)
		}
		if gv, err := testGrd.check(head(req(v, "orders")), false); err != nil || !gv.needWhole {
			t.Errorf("v%d: a mirror in the head: %+v, %v", v, gv, err)
		}
		whole := req(v, "plain", "orders")
		if gv, err := testGrd.check(whole, true); err != nil || gv.pending.answer == nil {
			t.Errorf("v%d: whole: %+v, %v", v, gv, err)
		}
		if _, err := testGrd.check(whole[:len(whole)-(100<<10)], true); !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("v%d: truncated request: %v", v, err)
		}
	}
}

func TestGuardProduceTopicIDs(t *testing.T) {
	// An id the cluster does not know is the broker's to answer.
	g := guard{mirrors: testGrd.mirrors, ids: fakeIDs{}}
	if gv, err := g.check(requestFrame(produceRequest(13, 1, "orders")), true); err != nil || gv.pending.answer != nil {
		t.Fatalf("unknown id: %+v, %v", gv, err)
	}
	// An id that cannot be checked is refused, retriably.
	g.ids = fakeIDs{err: errors.New("cluster unreachable")}
	gv, _ := checkVerdict(t, g, produceRequest(13, 1, "orders"), false)
	resp := respond(t, gv, nil).(*kmsg.ProduceResponse)
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != codeUnknownTopicID || p.ErrorMessage == nil || !strings.Contains(*p.ErrorMessage, "cluster unreachable") {
		t.Fatalf("partition %+v", p)
	}
}

func TestGuardDeleteTopics(t *testing.T) {
	for v := int16(0); v <= 6; v++ {
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.SetVersion(v)
		if v < 6 {
			req.TopicNames = []string{"orders", "plain"}
		} else {
			req.Topics = []kmsg.DeleteTopicsRequestTopic{{TopicID: mirrorID}, {Topic: kmsg.StringPtr("plain")}}
		}
		gv, fwd := checkVerdict(t, testGrd, req, true)
		fr := fwd.(*kmsg.DeleteTopicsRequest)
		if (v < 6 && (len(fr.TopicNames) != 1 || fr.TopicNames[0] != "plain")) || (v >= 6 && (len(fr.Topics) != 1 || *fr.Topics[0].Topic != "plain")) {
			t.Fatalf("v%d: forwarded %+v", v, fr)
		}
		broker := kmsg.NewPtrDeleteTopicsResponse()
		broker.Topics = []kmsg.DeleteTopicsResponseTopic{{Topic: kmsg.StringPtr("plain")}}
		resp := respond(t, gv, broker).(*kmsg.DeleteTopicsResponse)
		if len(resp.Topics) != 2 || *resp.Topics[0].Topic != "plain" || resp.Topics[0].ErrorCode != 0 {
			t.Fatalf("v%d: response %+v", v, resp.Topics)
		}
		m := resp.Topics[1]
		if m.Topic == nil || *m.Topic != "orders" || m.ErrorCode != codeInvalidRequest || (v >= 6 && m.TopicID != mirrorID) {
			t.Fatalf("v%d: mirror %+v", v, m)
		}
		wantMessage(t, m.ErrorMessage, v >= 5, "DeleteTopics")
	}
}

func TestGuardDeleteRecords(t *testing.T) {
	for v := int16(0); v <= 2; v++ {
		req := kmsg.NewPtrDeleteRecordsRequest()
		req.SetVersion(v)
		for _, name := range []string{"orders", "plain"} {
			req.Topics = append(req.Topics, kmsg.DeleteRecordsRequestTopic{Topic: name, Partitions: []kmsg.DeleteRecordsRequestTopicPartition{{Partition: 0, Offset: 5}, {Partition: 3, Offset: 9}}})
		}
		gv, fwd := checkVerdict(t, testGrd, req, true)
		if fr := fwd.(*kmsg.DeleteRecordsRequest); len(fr.Topics) != 1 || fr.Topics[0].Topic != "plain" {
			t.Fatalf("v%d: forwarded %+v", v, fr)
		}
		broker := kmsg.NewPtrDeleteRecordsResponse()
		broker.Topics = []kmsg.DeleteRecordsResponseTopic{{Topic: "plain", Partitions: []kmsg.DeleteRecordsResponseTopicPartition{{Partition: 0, LowWatermark: 5}}}}
		resp := respond(t, gv, broker).(*kmsg.DeleteRecordsResponse)
		if len(resp.Topics) != 2 || resp.Topics[1].Topic != "orders" || len(resp.Topics[1].Partitions) != 2 {
			t.Fatalf("v%d: response %+v", v, resp.Topics)
		}
		for _, p := range resp.Topics[1].Partitions {
			if p.ErrorCode != codeInvalidRequest || p.LowWatermark != -1 {
				t.Errorf("v%d: mirror partition %+v", v, p)
			}
		}
	}
}

func TestGuardCreatePartitions(t *testing.T) {
	for v := int16(0); v <= 3; v++ {
		req := kmsg.NewPtrCreatePartitionsRequest()
		req.SetVersion(v)
		req.Topics = []kmsg.CreatePartitionsRequestTopic{{Topic: "orders", Count: 9}}
		gv, _ := checkVerdict(t, testGrd, req, false)
		resp := respond(t, gv, nil).(*kmsg.CreatePartitionsResponse)
		if len(resp.Topics) != 1 || resp.Topics[0].Topic != "orders" || resp.Topics[0].ErrorCode != codeInvalidRequest {
			t.Fatalf("v%d: response %+v", v, resp.Topics)
		}
		wantMessage(t, resp.Topics[0].ErrorMessage, true, "CreatePartitions")
	}
}

func TestGuardAlterConfigs(t *testing.T) {
	// A broker resource that happens to share the mirror's name is not a
	// topic: only the TOPIC resource is refused.
	type res struct {
		typ  kmsg.ConfigResourceType
		name string
		code int16
		msg  *string
	}
	resources := []res{{typ: kmsg.ConfigResourceTypeTopic, name: "orders"}, {typ: kmsg.ConfigResourceTypeBroker, name: "orders"}, {typ: kmsg.ConfigResourceTypeTopic, name: "plain"}}
	check := func(v int16, kept []res, resp []res) {
		t.Helper()
		if len(kept) != 2 || kept[0].typ != kmsg.ConfigResourceTypeBroker || kept[1].name != "plain" {
			t.Fatalf("v%d: forwarded %+v", v, kept)
		}
		if len(resp) != 3 {
			t.Fatalf("v%d: %d resources in the response", v, len(resp))
		}
		m := resp[2]
		if m.typ != kmsg.ConfigResourceTypeTopic || m.name != "orders" || m.code != codeInvalidRequest {
			t.Fatalf("v%d: mirror resource %+v", v, m)
		}
		wantMessage(t, m.msg, true, "AlterConfigs")
	}
	for v := int16(0); v <= 2; v++ {
		req := kmsg.NewPtrAlterConfigsRequest()
		req.SetVersion(v)
		for _, r := range resources {
			req.Resources = append(req.Resources, kmsg.AlterConfigsRequestResource{ResourceType: r.typ, ResourceName: r.name,
				Configs: []kmsg.AlterConfigsRequestResourceConfig{{Name: "retention.ms", Value: kmsg.StringPtr("1")}}})
		}
		gv, fwd := checkVerdict(t, testGrd, req, true)
		var kept []res
		broker := kmsg.NewPtrAlterConfigsResponse()
		for _, r := range fwd.(*kmsg.AlterConfigsRequest).Resources {
			kept = append(kept, res{typ: r.ResourceType, name: r.ResourceName})
			broker.Resources = append(broker.Resources, kmsg.AlterConfigsResponseResource{ResourceType: r.ResourceType, ResourceName: r.ResourceName})
		}
		var out []res
		for _, r := range respond(t, gv, broker).(*kmsg.AlterConfigsResponse).Resources {
			out = append(out, res{r.ResourceType, r.ResourceName, r.ErrorCode, r.ErrorMessage})
		}
		check(v, kept, out)
	}
	for v := int16(0); v <= 1; v++ {
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		req.SetVersion(v)
		for _, r := range resources {
			req.Resources = append(req.Resources, kmsg.IncrementalAlterConfigsRequestResource{ResourceType: r.typ, ResourceName: r.name,
				Configs: []kmsg.IncrementalAlterConfigsRequestResourceConfig{{Name: "retention.ms", Value: kmsg.StringPtr("1")}}})
		}
		gv, fwd := checkVerdict(t, testGrd, req, true)
		var kept []res
		broker := kmsg.NewPtrIncrementalAlterConfigsResponse()
		for _, r := range fwd.(*kmsg.IncrementalAlterConfigsRequest).Resources {
			kept = append(kept, res{typ: r.ResourceType, name: r.ResourceName})
			broker.Resources = append(broker.Resources, kmsg.IncrementalAlterConfigsResponseResource{ResourceType: r.ResourceType, ResourceName: r.ResourceName})
		}
		var out []res
		for _, r := range respond(t, gv, broker).(*kmsg.IncrementalAlterConfigsResponse).Resources {
			out = append(out, res{r.ResourceType, r.ResourceName, r.ErrorCode, r.ErrorMessage})
		}
		check(v, kept, out)
	}
}

func TestGuardAddPartitionsToTxn(t *testing.T) {
	for v := int16(0); v <= 5; v++ {
		req := kmsg.NewPtrAddPartitionsToTxnRequest()
		req.SetVersion(v)
		topics := []kmsg.AddPartitionsToTxnRequestTopic{{Topic: "plain", Partitions: []int32{0, 1}}, {Topic: "orders", Partitions: []int32{2}}}
		if v < 4 {
			req.TransactionalID, req.Topics = "tx", topics
		} else {
			tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
			tx.TransactionalID = "tx"
			for _, t := range topics {
				tx.Topics = append(tx.Topics, kmsg.AddPartitionsToTxnRequestTransactionTopic{Topic: t.Topic, Partitions: t.Partitions})
			}
			req.Transactions = []kmsg.AddPartitionsToTxnRequestTransaction{tx}
		}
		gv, _ := checkVerdict(t, testGrd, req, false)
		resp := respond(t, gv, nil).(*kmsg.AddPartitionsToTxnResponse)
		codes := map[string][]int16{}
		if v < 4 {
			for _, rt := range resp.Topics {
				for _, p := range rt.Partitions {
					codes[rt.Topic] = append(codes[rt.Topic], p.ErrorCode)
				}
			}
		} else {
			if len(resp.Transactions) != 1 || resp.Transactions[0].TransactionalID != "tx" {
				t.Fatalf("v%d: transactions %+v", v, resp.Transactions)
			}
			for _, rt := range resp.Transactions[0].Topics {
				for _, p := range rt.Partitions {
					codes[rt.Topic] = append(codes[rt.Topic], p.ErrorCode)
				}
			}
		}
		if len(codes["plain"]) != 2 || codes["plain"][0] != codeOperationNotAttempted || len(codes["orders"]) != 1 || codes["orders"][0] != codeInvalidRequest {
			t.Fatalf("v%d: codes %v", v, codes)
		}
	}
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.SetVersion(3)
	req.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: "plain", Partitions: []int32{0}}}
	if gv, err := testGrd.check(requestFrame(req), true); err != nil || gv.pending.answer != nil {
		t.Fatalf("no mirror: %+v, %v", gv, err)
	}
}

func TestGuardMalformed(t *testing.T) {
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TopicNames = []string{"plain", "orders"}
	f := requestFrame(req)
	f = f[:len(f)-8] // in the middle of "orders"
	binaryPutLength(f)
	if _, err := testGrd.check(f, true); !errors.Is(err, wire.ErrMalformed) {
		t.Fatalf("malformed DeleteTopics: %v", err)
	}
	// Counts are only believed as far as the bytes go: a tag section
	// claiming 2^35 fields ends with the bytes, where kmsg would loop.
	p := produceRequest(9, 1, "orders")
	f = requestFrame(p)
	f = append(f[:len(f)-1], 0xff, 0xff, 0xff, 0xff, 0x7f) // the request's tag count
	binaryPutLength(f)
	start := time.Now()
	if _, err := testGrd.check(f, true); err != nil && !errors.Is(err, wire.ErrMalformed) {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("a bogus tag count took %v", d)
	}
}

func TestTopicIDsLookup(t *testing.T) {
	var ids topicIDs
	var fetches atomic.Int32
	names := map[[16]byte]string{mirrorID: "orders"}
	release := make(chan struct{})
	fetch := func() (map[[16]byte]string, error) {
		fetches.Add(1)
		<-release
		return names, nil
	}
	// Concurrent misses share one lookup.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, ok, err := ids.name(mirrorID, fetch); n != "orders" || !ok || err != nil {
				t.Errorf("name = %q, %v, %v", n, ok, err)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d lookups, want 1", n)
	}
	// Known ids need no lookup; an unknown one does, once.
	ids.name(mirrorID, fetch)
	if _, ok, _ := ids.name(plainID, fetch); ok || fetches.Load() != 2 {
		t.Fatalf("unknown id: ok %v after %d lookups", ok, fetches.Load())
	}
	// A failed lookup's error is returned for a while without asking again.
	boom := errors.New("boom")
	failing := func() (map[[16]byte]string, error) { fetches.Add(1); return nil, boom }
	if _, _, err := ids.name(plainID, failing); err != boom {
		t.Fatalf("err %v", err)
	}
	if _, _, err := ids.name(plainID, failing); err != boom || fetches.Load() != 3 {
		t.Fatalf("err %v after %d lookups", err, fetches.Load())
	}
	if n, ok, err := ids.name(mirrorID, failing); n != "orders" || !ok || err != nil {
		t.Fatalf("known id while lookups fail: %q, %v, %v", n, ok, err)
	}
}

func TestRefusalLogRateLimit(t *testing.T) {
	var l refusalLog
	k := refusalKey{"INTERNAL", "127.0.0.1", "orders", 0}
	now := time.Now()
	if ok, _ := l.allow(k, now); !ok {
		t.Fatal("first refusal not logged")
	}
	for i := range 3 {
		if ok, _ := l.allow(k, now.Add(time.Duration(i)*time.Second)); ok {
			t.Fatal("repeat logged within the window")
		}
	}
	if ok, _ := l.allow(refusalKey{"INTERNAL", "127.0.0.1", "other", 0}, now); !ok {
		t.Fatal("another topic's refusal not logged")
	}
	if ok, n := l.allow(k, now.Add(refusalLogEvery)); !ok || n != 3 {
		t.Fatalf("after the window: logged %v, suppressed %d", ok, n)
	}
}

func TestSetMirrorTopics(t *testing.T) {
	var p Proxy
	if p.mirrorTopics() != nil {
		t.Fatal("guard installed by default")
	}
	p.SetMirrorTopics(mapMirrors{})
	if p.mirrorTopics() == nil {
		t.Fatal("guard not installed")
	}
	p.SetMirrorTopics(nil)
	if p.mirrorTopics() != nil {
		t.Fatal("guard not removed")
	}
}

func TestAPIVersionsStandIn(t *testing.T) {
	f := apiVersionsStandIn([]byte("xx"), testCorr)[2:]
	req := decodeRequest(t, f)
	if req.Key() != 18 || req.GetVersion() != 0 {
		t.Fatalf("%s v%d", kmsg.NameForKey(req.Key()), req.GetVersion())
	}
}

// allMirrors makes every topic a mirror of link "west".
type allMirrors struct{}

func (allMirrors) MirrorLink(string) (string, bool) { return "west", true }

func (allMirrors) topicName([16]byte) (string, bool, error) { return "t", true, nil }

// FuzzGuardWalk feeds arbitrary bodies to every guarded request's walk. It
// must end within the bytes given, and for Produce the allocation-free scan
// must see the topics the full walk sees.
func FuzzGuardWalk(f *testing.F) {
	for _, v := range []int16{0, 3, 8, 9, 12, 13} {
		f.Add(int16(0), v, produceRequest(v, 1, "orders", "plain", "").AppendTo(nil))
	}
	for _, key := range []int16{20, 21, 24, 33, 37, 44} {
		req := kmsg.RequestForKey(key)
		for v := int16(0); v <= req.MaxVersion(); v++ {
			req.SetVersion(v)
			f.Add(key, v, req.AppendTo(nil))
		}
	}
	g := guard{mirrors: allMirrors{}, ids: allMirrors{}}
	f.Fuzz(func(t *testing.T, key, v int16, body []byte) {
		if !guardedKey(key) || !rewrite.KnownVersion(key, v) {
			return
		}
		flex := rewrite.FlexibleRequestHeader(key, v)
		w := walk(g, key, v, flex, body)
		if w.c.off > len(body) || w.end > len(body) || w.first > w.end {
			t.Fatalf("walk beyond the body: off %d, entries %d..%d of %d bytes", w.c.off, w.first, w.end, len(body))
		}
		for _, e := range w.entries {
			if e.start < w.first || e.end > w.end || e.start > e.end {
				t.Fatalf("entry at %d..%d outside %d..%d", e.start, e.end, w.first, w.end)
			}
		}
		if key != 0 || w.c.failed() {
			return
		}
		s := newProduceScan(body, v, flex)
		for i := 0; ; i++ {
			name, id, ok := s.next()
			if !ok {
				if i != w.total {
					t.Fatalf("scan found %d topics, the walk %d", i, w.total)
				}
				break
			}
			if i >= len(w.entries) || (!s.byID && string(name) != string(w.entries[i].name)) || (s.byID && id != w.entries[i].id) {
				t.Fatalf("topic %d: scan %q %x, walk %+v", i, name, id, w.entries)
			}
		}
	})
}

// FuzzGuardSplit builds valid requests of every guarded kind from the
// fuzzer's choices and checks that the guard refuses exactly the mirror
// topic's entries and forwards the rest as kmsg encoded them.
func FuzzGuardSplit(f *testing.F) {
	f.Add(int16(0), int16(9), []byte{0, 1, 2, 3})
	f.Add(int16(20), int16(6), []byte{1, 0, 1})
	f.Add(int16(24), int16(4), []byte{0, 1, 2, 0, 1})
	f.Add(int16(44), int16(1), []byte{2, 1, 0})
	names := []string{"orders", "plain", "", "other"}
	ids := map[string][16]byte{"orders": mirrorID, "plain": plainID}
	g := guard{mirrors: mapMirrors{"orders": "west"}, ids: fakeIDs{names: map[[16]byte]string{mirrorID: "orders", plainID: "plain"}}}
	f.Fuzz(func(t *testing.T, key, v int16, choices []byte) {
		if !guardedKey(key) || !rewrite.KnownVersion(key, v) || len(choices) > 12 {
			return
		}
		flex := rewrite.FlexibleRequestHeader(key, v)
		tags := func(b byte) (t kmsg.Tags) {
			if flex && b&0x40 != 0 {
				t.Set(uint32(b&7)+10, []byte{b, b})
			}
			return t
		}
		req := kmsg.RequestForKey(key)
		req.SetVersion(v)
		var want []string // entry names in order, "orders" being refused
		for i, b := range choices {
			name := names[int(b)%len(names)]
			nparts := int(b>>2) % 3
			switch r := req.(type) {
			case *kmsg.ProduceRequest:
				t := kmsg.ProduceRequestTopic{Topic: name, TopicID: ids[name], UnknownTags: tags(b)}
				if v >= 13 && t.TopicID == ([16]byte{}) {
					name = "" // an id nobody knows: let through
				}
				for p := range nparts {
					t.Partitions = append(t.Partitions, kmsg.ProduceRequestTopicPartition{Partition: int32(p), Records: []byte{b}, UnknownTags: tags(b >> 1)})
				}
				r.Topics = append(r.Topics, t)
				r.Acks = -1
			case *kmsg.DeleteTopicsRequest:
				if v < 6 {
					r.TopicNames = append(r.TopicNames, name)
				} else if b&1 == 0 {
					r.Topics = append(r.Topics, kmsg.DeleteTopicsRequestTopic{Topic: kmsg.StringPtr(name), UnknownTags: tags(b)})
				} else {
					r.Topics = append(r.Topics, kmsg.DeleteTopicsRequestTopic{TopicID: ids[name], UnknownTags: tags(b)})
					if ids[name] == ([16]byte{}) {
						name = ""
					}
				}
			case *kmsg.DeleteRecordsRequest:
				t := kmsg.DeleteRecordsRequestTopic{Topic: name, UnknownTags: tags(b)}
				for p := range nparts {
					t.Partitions = append(t.Partitions, kmsg.DeleteRecordsRequestTopicPartition{Partition: int32(p), Offset: int64(b)})
				}
				r.Topics = append(r.Topics, t)
			case *kmsg.AddPartitionsToTxnRequest:
				parts := make([]int32, nparts)
				if v < 4 {
					r.Topics = append(r.Topics, kmsg.AddPartitionsToTxnRequestTopic{Topic: name, Partitions: parts, UnknownTags: tags(b)})
					break
				}
				if len(r.Transactions) == 0 || b&1 != 0 {
					r.Transactions = append(r.Transactions, kmsg.AddPartitionsToTxnRequestTransaction{TransactionalID: string(rune('a' + i))})
				}
				tx := &r.Transactions[len(r.Transactions)-1]
				tx.Topics = append(tx.Topics, kmsg.AddPartitionsToTxnRequestTransactionTopic{Topic: name, Partitions: parts, UnknownTags: tags(b)})
			case *kmsg.AlterConfigsRequest:
				typ := kmsg.ConfigResourceTypeTopic
				if b&1 != 0 {
					typ, name = kmsg.ConfigResourceTypeBroker, "broker:"+name
				}
				rr := kmsg.AlterConfigsRequestResource{ResourceType: typ, ResourceName: strings.TrimPrefix(name, "broker:"), UnknownTags: tags(b)}
				for range nparts {
					rr.Configs = append(rr.Configs, kmsg.AlterConfigsRequestResourceConfig{Name: "k", Value: kmsg.StringPtr("v")})
				}
				r.Resources = append(r.Resources, rr)
			case *kmsg.IncrementalAlterConfigsRequest:
				typ := kmsg.ConfigResourceTypeTopic
				if b&1 != 0 {
					typ, name = kmsg.ConfigResourceTypeBroker, "broker:"+name
				}
				rr := kmsg.IncrementalAlterConfigsRequestResource{ResourceType: typ, ResourceName: strings.TrimPrefix(name, "broker:"), UnknownTags: tags(b)}
				for range nparts {
					rr.Configs = append(rr.Configs, kmsg.IncrementalAlterConfigsRequestResourceConfig{Name: "k", Value: nil})
				}
				r.Resources = append(r.Resources, rr)
			case *kmsg.CreatePartitionsRequest:
				tp := kmsg.CreatePartitionsRequestTopic{Topic: name, Count: 3, UnknownTags: tags(b)}
				if nparts > 0 {
					tp.Assignment = []kmsg.CreatePartitionsRequestTopicAssignment{{Replicas: make([]int32, nparts)}}
				}
				r.Topics = append(r.Topics, tp)
			}
			want = append(want, name)
		}
		frame := requestFrame(req)
		gv, err := g.check(frame, true)
		if err != nil {
			t.Fatal(err)
		}
		refused := 0
		for _, n := range want {
			if n == "orders" {
				refused++
			}
		}
		if refused == 0 {
			if gv.pending.answer != nil {
				t.Fatalf("refused %+v without a mirror topic", gv.refusals)
			}
			return
		}
		if gv.pending.answer == nil || len(gv.refusals) != 1 || gv.refusals[0].link != "west" {
			t.Fatalf("%d mirror entries, refusals %+v", refused, gv.refusals)
		}
		if key == 0 && len(frame) > 60 {
			if hv, err := g.check(frame[:len(frame)-1], false); err != nil || !hv.needWhole {
				t.Fatalf("head of a refused produce: %+v, %v", hv, err)
			}
		}
		if !gv.pending.answer.forwarded {
			if key != 24 && refused != len(want) {
				t.Fatalf("%d of %d entries refused, nothing forwarded", refused, len(want))
			}
			return
		}
		fwd := decodeRequest(t, frames(t, gv.forward)[0])
		var got []string
		switch r := fwd.(type) {
		case *kmsg.ProduceRequest:
			for _, tp := range r.Topics {
				n := tp.Topic
				if v >= 13 {
					n = map[[16]byte]string{plainID: "plain"}[tp.TopicID]
				}
				got = append(got, n)
			}
		case *kmsg.DeleteTopicsRequest:
			got = append(got, r.TopicNames...)
			for _, tp := range r.Topics {
				if tp.Topic != nil {
					got = append(got, *tp.Topic)
				} else {
					got = append(got, map[[16]byte]string{plainID: "plain"}[tp.TopicID])
				}
			}
		case *kmsg.DeleteRecordsRequest:
			for _, tp := range r.Topics {
				got = append(got, tp.Topic)
			}
		case *kmsg.AlterConfigsRequest:
			for _, rr := range r.Resources {
				got = append(got, map[bool]string{true: "broker:"}[rr.ResourceType != kmsg.ConfigResourceTypeTopic]+rr.ResourceName)
			}
		case *kmsg.IncrementalAlterConfigsRequest:
			for _, rr := range r.Resources {
				got = append(got, map[bool]string{true: "broker:"}[rr.ResourceType != kmsg.ConfigResourceTypeTopic]+rr.ResourceName)
			}
		case *kmsg.CreatePartitionsRequest:
			for _, tp := range r.Topics {
				got = append(got, tp.Topic)
			}
		default:
			t.Fatalf("%T forwarded", fwd)
		}
		var kept []string
		for _, n := range want {
			if n != "orders" {
				kept = append(kept, n)
			}
		}
		if strings.Join(got, ",") != strings.Join(kept, ",") {
			t.Fatalf("forwarded %q, want %q", got, kept)
		}
	})
}
