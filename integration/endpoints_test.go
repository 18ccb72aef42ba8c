package integration

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type endpoint struct {
	node int32
	host string
	port int32
}

// endpoints lists every broker endpoint a decoded response carries.
func endpoints(resp kmsg.Response) []endpoint {
	var out []endpoint
	switch r := resp.(type) {
	case *kmsg.MetadataResponse:
		for _, b := range r.Brokers {
			out = append(out, endpoint{b.NodeID, b.Host, b.Port})
		}
	case *kmsg.FindCoordinatorResponse:
		if r.Version < 4 && r.NodeID >= 0 {
			out = append(out, endpoint{r.NodeID, r.Host, r.Port})
		}
		for _, c := range r.Coordinators {
			if c.NodeID >= 0 {
				out = append(out, endpoint{c.NodeID, c.Host, c.Port})
			}
		}
	case *kmsg.DescribeClusterResponse:
		for _, b := range r.Brokers {
			out = append(out, endpoint{b.NodeID, b.Host, b.Port})
		}
	case *kmsg.ProduceResponse:
		for _, b := range r.Brokers {
			out = append(out, endpoint{b.NodeID, b.Host, b.Port})
		}
	case *kmsg.FetchResponse:
		for _, b := range r.Brokers {
			out = append(out, endpoint{b.NodeID, b.Host, b.Port})
		}
	case *kmsg.ShareFetchResponse:
		for _, b := range r.NodeEndpoints {
			out = append(out, endpoint{b.NodeID, b.Host, b.Port})
		}
	case *kmsg.ShareAcknowledgeResponse:
		for _, b := range r.NodeEndpoints {
			out = append(out, endpoint{b.NodeID, b.Host, b.Port})
		}
	}
	return out
}

// batch is a valid one-record v2 record batch.
func batch() []byte {
	rec := kmsg.Record{Key: []byte("k"), Value: []byte("v")}
	recBytes := rec.AppendTo(nil)
	var recs []byte
	recs = binary.AppendVarint(recs, int64(len(recBytes)))
	recs = append(recs, recBytes...)
	b := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1, Magic: 2, LastOffsetDelta: 0,
		FirstTimestamp: time.Now().UnixMilli(), MaxTimestamp: time.Now().UnixMilli(),
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: 1, Records: recs,
	}
	raw := b.AppendTo(nil)
	b.Length = int32(len(raw) - 12)
	raw = b.AppendTo(nil)
	crc := crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli))
	binary.BigEndian.PutUint32(raw[17:], crc)
	return raw
}

// TestEndpointsStayOnTheirListener walks every response that carries broker
// endpoints, at every version the proxy advertises, over two listeners, and
// checks that a client only ever receives endpoints of its own listener:
// never the other listener's, never the upstream cluster's.
func TestEndpointsStayOnTheirListener(t *testing.T) {
	const topic = "walk"
	e := startEnv(t, withKfake(kfake.SeedTopics(3, topic)))
	upstream := e.upstreamPorts()
	leader := e.Cluster.LeaderFor(topic, 0)
	follower := (leader + 1) % 3

	for _, name := range []string{"INTERNAL", "EXTERNAL"} {
		l := e.Listeners[name]
		t.Run(name, func(t *testing.T) {
			seen := map[string]int{}
			check := func(api string, v int16, raw []byte, resp kmsg.Response) {
				t.Helper()
				for _, ep := range endpoints(resp) {
					seen[api]++
					if !l.owns(ep.host, ep.port) || upstream[ep.port] {
						t.Errorf("%s v%d: node %d endpoint %s:%d is not a %s endpoint", api, v, ep.node, ep.host, ep.port, name)
					}
					if want := int32(l.PortBase) + ep.node; ep.port != want {
						t.Errorf("%s v%d: node %d on port %d, want %d", api, v, ep.node, ep.port, want)
					}
				}
				for p := range upstream {
					if bytes.Contains(raw, binary.BigEndian.AppendUint32(nil, uint32(p))) {
						t.Errorf("%s v%d: response carries upstream port %d", api, v, p)
					}
				}
				if name == "EXTERNAL" && bytes.Contains(raw, []byte("127.0.0.1")) {
					t.Errorf("%s v%d: EXTERNAL response contains 127.0.0.1", api, v)
				}
			}

			boot := dialRaw(t, l.Bootstrap)
			versions := boot.apiVersions()
			for _, k := range []int16{52, 53, 54, 55, 59, 80, 81, 82} {
				if _, ok := versions[k]; ok {
					t.Errorf("controller API %s advertised through the proxy", kmsg.NameForKey(k))
				}
			}
			for k, v := range versions {
				if req := kmsg.RequestForKey(k); req == nil || v > req.MaxVersion() {
					t.Errorf("api %d advertised at v%d, above what the proxy decodes", k, v)
				}
			}

			var topicID [16]byte
			for v := int16(0); v <= versions[3]; v++ {
				req := kmsg.NewPtrMetadataRequest()
				req.Version = v
				rt := kmsg.NewMetadataRequestTopic()
				rt.Topic = kmsg.StringPtr(topic)
				req.Topics = append(req.Topics, rt)
				raw, resp, err := boot.roundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				check("Metadata", v, raw, resp)
				if m := resp.(*kmsg.MetadataResponse); len(m.Topics) == 1 {
					topicID = m.Topics[0].TopicID
				}
			}
			for v := int16(0); v <= versions[10]; v++ {
				req := kmsg.NewPtrFindCoordinatorRequest()
				req.Version = v
				req.CoordinatorKey = "walk-group"
				req.CoordinatorKeys = []string{"walk-group", "other-group"}
				raw, resp, err := boot.roundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				check("FindCoordinator", v, raw, resp)
			}
			for v := int16(0); v <= versions[60]; v++ {
				req := kmsg.NewPtrDescribeClusterRequest()
				req.Version = v
				raw, resp, err := boot.roundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				check("DescribeCluster", v, raw, resp)
			}

			// KIP-951: produce and fetch sent to a broker that does not
			// lead the partition answer with the leader's endpoint.
			notLeader := dialRaw(t, net.JoinHostPort(l.Host, strconv.Itoa(l.PortBase+int(follower))))
			for v := int16(10); v <= versions[0]; v++ {
				req := kmsg.NewPtrProduceRequest()
				req.Version, req.Acks, req.TimeoutMillis = v, -1, 5000
				rt := kmsg.NewProduceRequestTopic()
				rt.Topic, rt.TopicID = topic, topicID
				rp := kmsg.NewProduceRequestTopicPartition()
				rp.Records = batch()
				rt.Partitions = append(rt.Partitions, rp)
				req.Topics = append(req.Topics, rt)
				raw, resp, err := notLeader.roundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				check("Produce", v, raw, resp)
			}
			for v := int16(16); v <= versions[1]; v++ {
				req := kmsg.NewPtrFetchRequest()
				req.Version, req.ReplicaID, req.MaxBytes, req.SessionEpoch = v, -1, 1<<20, -1
				rt := kmsg.NewFetchRequestTopic()
				rt.Topic, rt.TopicID = topic, topicID
				rp := kmsg.NewFetchRequestTopicPartition()
				rp.PartitionMaxBytes, rp.CurrentLeaderEpoch, rp.LastFetchedEpoch, rp.LogStartOffset = 1<<20, -1, -1, -1
				rt.Partitions = append(rt.Partitions, rp)
				req.Topics = append(req.Topics, rt)
				raw, resp, err := notLeader.roundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				check("Fetch", v, raw, resp)
			}
			// KIP-932: a share group member fetching from a broker that
			// does not lead the partition gets the leader's endpoint.
			// (kfake never puts endpoints in ShareAcknowledge responses;
			// package rewrite's tests cover those.)
			_, shareFetch := versions[78]
			_, shareHeartbeat := versions[76]
			if !shareFetch || !shareHeartbeat {
				t.Fatal("share group APIs not advertised through the proxy")
			}
			fc := kmsg.NewPtrFindCoordinatorRequest()
			fc.Version, fc.CoordinatorKey = 3, "walk-share"
			coord := boot.must(fc).(*kmsg.FindCoordinatorResponse)
			hb := kmsg.NewPtrShareGroupHeartbeatRequest()
			hb.Version = versions[76]
			hb.GroupID, hb.MemberID, hb.SubscribedTopicNames = "walk-share", "walk-member-"+name, []string{topic}
			if r := dialRaw(t, net.JoinHostPort(coord.Host, strconv.Itoa(int(coord.Port)))).must(hb).(*kmsg.ShareGroupHeartbeatResponse); r.ErrorCode != 0 {
				t.Fatalf("share group heartbeat: error %d", r.ErrorCode)
			}
			for v := int16(0); v <= versions[78]; v++ {
				req := kmsg.NewPtrShareFetchRequest()
				req.Version = v
				req.GroupID, req.MemberID = kmsg.StringPtr("walk-share"), kmsg.StringPtr(hb.MemberID)
				req.MaxWaitMillis, req.MaxBytes, req.MaxRecords, req.BatchSize = 0, 1<<20, 10, 10
				rt := kmsg.NewShareFetchRequestTopic()
				rt.TopicID = topicID
				rp := kmsg.NewShareFetchRequestTopicPartition()
				rt.Partitions = append(rt.Partitions, rp)
				req.Topics = append(req.Topics, rt)
				raw, resp, err := dialRaw(t, net.JoinHostPort(l.Host, strconv.Itoa(l.PortBase+int(follower)))).roundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				check("ShareFetch", v, raw, resp)
			}
			for _, api := range []string{"Metadata", "FindCoordinator", "DescribeCluster", "Produce", "Fetch", "ShareFetch"} {
				if seen[api] == 0 {
					t.Errorf("%s: no endpoint seen; the walk proves nothing for it", api)
				}
			}
			t.Logf("endpoints checked per API: %v", seen)
		})
	}
}
