package proxy

import (
	"encoding/binary"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The requests the authorizer splits beside those the mirror-topic guard
// already walks (guard.go): each has one array of topics (or groups) whose
// entries are judged, dropped from what is forwarded and answered here.
// The walks follow kmsg's field order, as the guard's do.

// walkAuthz walks the requests only the authorizer splits.
func (w *walked) walkAuthz(flex bool) {
	c, version := &w.c, w.version
	topicName := func(e *topicEntry, byID bool) {
		if byID {
			e.hasID = copy(e.id[:], c.take(16)) == 16
		} else {
			e.name = c.str(flex)
		}
	}
	switch w.key {
	case 1: // Fetch
		if version <= 14 {
			if b := c.take(4); b != nil && int32(binary.BigEndian.Uint32(b)) >= 0 {
				w.replica = true // a follower; consumers send -1
			}
		}
		c.take(4 + 4) // max wait, min bytes
		if version >= 3 {
			c.take(4) // max bytes
		}
		if version >= 4 {
			c.take(1) // isolation level
		}
		if version >= 7 {
			c.take(4 + 4) // session id, epoch
		}
		w.topics(flex, func(e *topicEntry) {
			topicName(e, version >= 13)
			w.partitions(flex, e, func() {
				if version >= 9 {
					c.take(4) // current leader epoch
				}
				c.take(8) // fetch offset
				if version >= 12 {
					c.take(4) // last fetched epoch
				}
				if version >= 5 {
					c.take(8) // log start offset
				}
				c.take(4) // partition max bytes
			})
			c.tags(flex)
		})
		if version >= 7 { // forgotten topics
			for n := c.arrayLen(flex); n > 0 && !c.failed(); n-- {
				if version >= 13 {
					c.take(16)
				} else {
					c.str(flex)
				}
				c.take(4 * c.arrayLen(flex))
				c.tags(flex)
			}
		}
		if version >= 11 {
			c.str(flex) // rack
		}
		if flex {
			for n := c.uvarint(); n > 0 && !c.failed(); n-- {
				if c.uvarint() == 1 { // ReplicaState: a follower, v15+
					w.replica = true
				}
				c.take(int(min(c.uvarint(), 1<<31)))
			}
		}
	case 8: // OffsetCommit
		c.str(flex) // group
		if version >= 1 {
			c.take(4)   // generation
			c.str(flex) // member id
		}
		if version >= 7 {
			c.nullableStr(flex) // instance id
		}
		if version >= 2 && version <= 4 {
			c.take(8) // retention
		}
		w.topics(flex, func(e *topicEntry) {
			topicName(e, version >= 10)
			w.partitions(flex, e, func() {
				c.take(8) // offset
				if version == 1 {
					c.take(8) // timestamp
				}
				if version >= 6 {
					c.take(4) // leader epoch
				}
				c.nullableStr(flex) // metadata
			})
			c.tags(flex)
		})
	case 28: // TxnOffsetCommit
		c.str(flex)   // transactional id
		c.str(flex)   // group
		c.take(8 + 2) // producer id, epoch
		if version >= 3 {
			c.take(4)           // generation
			c.str(flex)         // member id
			c.nullableStr(flex) // instance id
		}
		w.topics(flex, func(e *topicEntry) {
			topicName(e, version >= 6)
			w.partitions(flex, e, func() {
				c.take(8) // offset
				if version >= 2 {
					c.take(4) // leader epoch
				}
				c.nullableStr(flex) // metadata
			})
			c.tags(flex)
		})
	case 19: // CreateTopics
		w.topics(flex, func(e *topicEntry) {
			e.name = c.str(flex)
			c.take(4 + 2) // partitions, replication factor
			for n := c.arrayLen(flex); n > 0 && !c.failed(); n-- {
				c.take(4) // partition
				c.take(4 * c.arrayLen(flex))
				c.tags(flex)
			}
			for n := c.arrayLen(flex); n > 0 && !c.failed(); n-- {
				c.str(flex)         // name
				c.nullableStr(flex) // value
				c.tags(flex)
			}
			c.tags(flex)
		})
	case 42: // DeleteGroups: the entries are groups
		w.topics(flex, func(e *topicEntry) { e.name = c.str(flex) })
	case 47: // OffsetDelete
		c.str(flex) // group
		w.topics(flex, func(e *topicEntry) {
			e.name = c.str(flex)
			w.partitions(flex, e, func() {})
			c.tags(flex)
		})
	}
}

// authzLocalAnswer adds the refused entries of the requests walkAuthz
// walks to their response; nil for other keys.
func (w *walked) authzLocalAnswer() func(kmsg.Response) {
	mine, refusals, name := w.entries, w.refusals, w.entryName
	switch w.key {
	case 1:
		return func(resp kmsg.Response) {
			r := resp.(*kmsg.FetchResponse)
			for _, e := range mine {
				f := refusals[e.ref]
				t := kmsg.NewFetchResponseTopic()
				t.Topic, t.TopicID = name(e), e.id
				for _, p := range e.partitions {
					rp := kmsg.NewFetchResponseTopicPartition()
					rp.Partition, rp.ErrorCode = p, f.code
					rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = -1, -1, -1
					t.Partitions = append(t.Partitions, rp)
				}
				r.Topics = append(r.Topics, t)
			}
		}
	case 8:
		return func(resp kmsg.Response) {
			r := resp.(*kmsg.OffsetCommitResponse)
			for _, e := range mine {
				t := kmsg.NewOffsetCommitResponseTopic()
				t.Topic, t.TopicID = name(e), e.id
				for _, p := range e.partitions {
					rp := kmsg.NewOffsetCommitResponseTopicPartition()
					rp.Partition, rp.ErrorCode = p, refusals[e.ref].code
					t.Partitions = append(t.Partitions, rp)
				}
				r.Topics = append(r.Topics, t)
			}
		}
	case 28:
		return func(resp kmsg.Response) {
			r := resp.(*kmsg.TxnOffsetCommitResponse)
			for _, e := range mine {
				t := kmsg.NewTxnOffsetCommitResponseTopic()
				t.Topic, t.TopicID = name(e), e.id
				for _, p := range e.partitions {
					rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
					rp.Partition, rp.ErrorCode = p, refusals[e.ref].code
					t.Partitions = append(t.Partitions, rp)
				}
				r.Topics = append(r.Topics, t)
			}
		}
	case 19:
		return func(resp kmsg.Response) {
			r := resp.(*kmsg.CreateTopicsResponse)
			for _, e := range mine {
				f := refusals[e.ref]
				t := kmsg.NewCreateTopicsResponseTopic()
				t.Topic, t.ErrorCode, t.ErrorMessage = name(e), f.code, kmsg.StringPtr(f.msg)
				t.NumPartitions, t.ReplicationFactor = -1, -1
				r.Topics = append(r.Topics, t)
			}
		}
	case 42:
		return func(resp kmsg.Response) {
			r := resp.(*kmsg.DeleteGroupsResponse)
			for _, e := range mine {
				f := refusals[e.ref]
				g := kmsg.NewDeleteGroupsResponseGroup()
				g.Group, g.ErrorCode, g.ErrorMessage = name(e), f.code, kmsg.StringPtr(f.msg)
				r.Groups = append(r.Groups, g)
			}
		}
	case 47:
		return func(resp kmsg.Response) {
			r := resp.(*kmsg.OffsetDeleteResponse)
			for _, e := range mine {
				t := kmsg.NewOffsetDeleteResponseTopic()
				t.Topic = name(e)
				for _, p := range e.partitions {
					rp := kmsg.NewOffsetDeleteResponseTopicPartition()
					rp.Partition, rp.ErrorCode = p, refusals[e.ref].code
					t.Partitions = append(t.Partitions, rp)
				}
				r.Topics = append(r.Topics, t)
			}
		}
	}
	return nil
}
