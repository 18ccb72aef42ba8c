package link

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultStateTopic holds links and mirror states in the destination
// cluster: compacted, one partition (one order for every change), keyed
// "link/<name>", "mirror/<link>/<mirror topic>" and
// "start/<link>/<mirror topic>/<partition>", tombstones on delete.
// Everything a restarted or second instance needs is there; nothing is kept
// on local disk.
//
// Password configs of links are stored encrypted (secrets.go); protect
// the topic with ACLs all the same, as it holds every link's settings.
const DefaultStateTopic = "_linkproxy-cluster-links"

// linkRecord is a link as stored.
type linkRecord struct {
	Name            string            `json:"name"`
	ID              string            `json:"id"`
	SourceClusterID string            `json:"source_cluster_id"`
	Configs         map[string]string `json:"configs"`
	CreatedMillis   int64             `json:"created_ms"`
}

// mirrorRecord is a mirror topic as stored.
type mirrorRecord struct {
	Link            string      `json:"link"`
	MirrorTopic     string      `json:"mirror_topic"`
	SourceTopic     string      `json:"source_topic"`
	State           MirrorState `json:"state"`
	Error           string      `json:"error,omitempty"`
	ErrorMessage    string      `json:"error_message,omitempty"`
	StateTimeMillis int64       `json:"state_time_ms"`
	// StartAt is the link's start spec when the mirror was created
	// (mirror.StartEarliest, mirror.StartLatest or a timestamp).
	StartAt int64 `json:"start_at"`
}

func linkKey(name string) string { return "link/" + name }
func startKey(link, topic string, p int32) string {
	return "start/" + link + "/" + topic + "/" + strconv.Itoa(int(p))
}
func mirrorKey(link, topic string) string { return "mirror/" + link + "/" + topic }

// startRecord is the offset a mirror partition started at (from
// mirror.start.offset.spec), kept so that a start interrupted while filling
// the offsets below it is finished after a restart.
type startRecord struct {
	Offset int64 `json:"offset"`
}

// store is the state topic, read whole at open and followed after, so that
// changes made by other instances show here too.
type store struct {
	topic string
	cl    *kgo.Client // produces, and consumes the topic from its start
	log   hclog.Logger
	enc   *PasswordEncoder // nil: links with password configs are refused

	mu      sync.Mutex
	links   map[string]linkRecord   // configs decrypted
	stale   map[string]bool         // links whose passwords to encrypt again
	mirrors map[string]mirrorRecord // by mirrorKey
	starts  map[string]int64        // by startKey: where each partition started
	// readOnly maps each mirror topic that is not stopped to its link:
	// the proxy asks it for every topic of every write.
	readOnly atomic.Pointer[map[string]string]
	changed  chan struct{} // signalled (non-blocking) on every change
}

func openStore(ctx context.Context, opts []kgo.Opt, topic string, enc *PasswordEncoder, log hclog.Logger) (*store, error) {
	adm, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	if err := createStateTopic(ctx, kadm.NewClient(adm), topic); err != nil {
		return nil, err
	}
	ends, err := kadm.NewClient(adm).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("state topic %s: %w", topic, err)
	}
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)...)
	if err != nil {
		return nil, err
	}
	s := &store{
		topic: topic, cl: cl, log: log, enc: enc,
		links:   make(map[string]linkRecord),
		stale:   make(map[string]bool),
		mirrors: make(map[string]mirrorRecord),
		starts:  make(map[string]int64),
		changed: make(chan struct{}, 1),
	}
	end := int64(0)
	if o, ok := ends.Lookup(topic, 0); ok {
		end = o.Offset
	}
	for next := int64(0); next < end; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			cl.Close()
			return nil, err
		}
		fs.EachError(func(_ string, _ int32, err error) {
			log.Warn("reading the state topic; retrying", "topic", topic, "error", err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			s.apply(r)
			next = r.Offset + 1
		})
	}
	return s, nil
}

func createStateTopic(ctx context.Context, adm *kadm.Client, topic string) error {
	compact := "compact"
	resp, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{"cleanup.policy": &compact}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("creating the state topic %s: %w", topic, err)
	}
	return nil
}

// follow applies records written after open, by this instance or others,
// until ctx ends.
func (s *store) follow(ctx context.Context) {
	for ctx.Err() == nil {
		fs := s.cl.PollFetches(ctx)
		fs.EachError(func(_ string, _ int32, err error) {
			if ctx.Err() == nil {
				s.log.Warn("following the state topic; retrying", "topic", s.topic, "error", err)
			}
		})
		fs.EachRecord(s.apply)
	}
}

func (s *store) apply(r *kgo.Record) {
	key := string(r.Key)
	s.mu.Lock()
	switch {
	case strings.HasPrefix(key, "link/"):
		name := strings.TrimPrefix(key, "link/")
		delete(s.stale, name)
		if r.Value == nil {
			delete(s.links, name)
			break
		}
		var l linkRecord
		if err := json.Unmarshal(r.Value, &l); err != nil {
			s.log.Error("skipping a malformed link record in the state topic", "key", key, "offset", r.Offset, "error", err)
			break
		}
		var failed map[string]error
		var stale bool
		l.Configs, stale, failed = openConfigs(s.enc, l.Configs)
		for _, k := range slices.Sorted(maps.Keys(failed)) {
			s.log.Error("cannot decrypt a password config of a link; the link runs without it", "link", name, "config", k, "error", failed[k])
		}
		if stale && len(failed) == 0 {
			s.stale[name] = true
		}
		s.links[name] = l
	case strings.HasPrefix(key, "mirror/"):
		if r.Value == nil {
			delete(s.mirrors, key)
			break
		}
		var m mirrorRecord
		if err := json.Unmarshal(r.Value, &m); err != nil {
			s.log.Error("skipping a malformed mirror record in the state topic", "key", key, "offset", r.Offset, "error", err)
			break
		}
		s.mirrors[key] = m
	case strings.HasPrefix(key, "start/"):
		if r.Value == nil {
			delete(s.starts, key)
			break
		}
		var st startRecord
		if err := json.Unmarshal(r.Value, &st); err != nil {
			s.log.Error("skipping a malformed start record in the state topic", "key", key, "offset", r.Offset, "error", err)
			break
		}
		s.starts[key] = st.Offset
	default:
		s.log.Warn("skipping an unknown record in the state topic", "key", key, "offset", r.Offset)
	}
	ro := make(map[string]string, len(s.mirrors))
	for _, m := range s.mirrors {
		if m.State != MirrorStopped {
			ro[m.MirrorTopic] = m.Link
		}
	}
	s.readOnly.Store(&ro)
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// put writes a record and applies it at once (follow applies it again when
// it reads it back, which changes nothing).
func (s *store) put(ctx context.Context, key string, v any) error {
	var value []byte
	if v != nil {
		var err error
		if value, err = json.Marshal(v); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r := &kgo.Record{Key: []byte(key), Value: value, Partition: 0}
	if err := s.cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		return fmt.Errorf("writing %s to the state topic %s: %w", key, s.topic, err)
	}
	s.apply(r)
	return nil
}

func (s *store) putLink(ctx context.Context, l linkRecord) error {
	sealed, err := sealConfigs(s.enc, l.Name, l.Configs)
	if err != nil {
		return err
	}
	l.Configs = sealed
	return s.put(ctx, linkKey(l.Name), l)
}

// reseal writes again the links whose passwords were read with
// password.encoder.old.secret or in clear text, so that the current secret
// protects them.
func (s *store) reseal(ctx context.Context) {
	s.mu.Lock()
	var todo []linkRecord
	for name := range s.stale {
		if l, ok := s.links[name]; ok {
			todo = append(todo, l)
		}
	}
	s.mu.Unlock()
	for _, l := range todo {
		if err := s.putLink(ctx, l); err != nil {
			s.log.Warn("cannot encrypt a link's passwords again with the current password.encoder.secret; retried at the next start", "link", l.Name, "error", err)
			continue
		}
		s.log.Info("link passwords encrypted again with the current password.encoder.secret", "link", l.Name)
	}
}
func (s *store) deleteLink(ctx context.Context, name string) error {
	return s.put(ctx, linkKey(name), nil)
}

func (s *store) putMirror(ctx context.Context, m mirrorRecord) error {
	return s.put(ctx, mirrorKey(m.Link, m.MirrorTopic), m)
}

func (s *store) deleteMirror(ctx context.Context, link, topic string) error {
	s.mu.Lock()
	var starts []string
	prefix := "start/" + link + "/" + topic + "/"
	for k := range s.starts {
		if strings.HasPrefix(k, prefix) {
			starts = append(starts, k)
		}
	}
	s.mu.Unlock()
	for _, k := range starts {
		if err := s.put(ctx, k, nil); err != nil {
			return err
		}
	}
	return s.put(ctx, mirrorKey(link, topic), nil)
}

// mirrorStarts is a mirror's mirror.StartStore in the state topic.
type mirrorStarts struct {
	s           *store
	link, topic string
}

func (ms mirrorStarts) LoadStart(p int32) (int64, bool) {
	ms.s.mu.Lock()
	defer ms.s.mu.Unlock()
	o, ok := ms.s.starts[startKey(ms.link, ms.topic, p)]
	return o, ok
}

func (ms mirrorStarts) SaveStart(ctx context.Context, p int32, offset int64) error {
	return ms.s.put(ctx, startKey(ms.link, ms.topic, p), startRecord{offset})
}

func (s *store) link(name string) (linkRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[name]
	return l, ok
}

func (s *store) mirror(link, topic string) (mirrorRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.mirrors[mirrorKey(link, topic)]
	return m, ok
}

// snapshot returns copies of every link and mirror.
func (s *store) snapshot() (map[string]linkRecord, []mirrorRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	links := make(map[string]linkRecord, len(s.links))
	for k, v := range s.links {
		links[k] = v
	}
	mirrors := make([]mirrorRecord, 0, len(s.mirrors))
	for _, m := range s.mirrors {
		mirrors = append(mirrors, m)
	}
	return links, mirrors
}

// readOnlyLink returns the link of a mirror topic that is not stopped.
func (s *store) readOnlyLink(topic string) (string, bool) {
	ro := s.readOnly.Load()
	if ro == nil {
		return "", false
	}
	link, ok := (*ro)[topic]
	return link, ok
}

func (s *store) close() { s.cl.Close() }
