package link

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/linkproxy/linkproxy/mirror"
)

// mirrorRun is a mirror topic whose engine runs.
type mirrorRun struct {
	rec    mirrorRecord
	link   *linkRun
	parts  []int32 // the partitions this instance copies
	engine *mirror.Engine
	cancel context.CancelFunc
	done   chan struct{}
	err    error // why Run returned early (set before done closes)
}

func (r *mirrorRun) stop() {
	r.cancel()
	<-r.done
}

func (r *mirrorRun) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// CreateMirror implements Manager.
func (m *Service) CreateMirror(ctx context.Context, link string, req CreateMirror, validateOnly bool) error {
	if err := m.wait(ctx); err != nil {
		return err
	}
	l, ok := m.store.link(link)
	if !ok {
		return unknownLink(link)
	}
	cfg, err := parseStored(l.Configs)
	if err != nil {
		return err
	}
	if err := validName("source topic name", req.SourceTopic); err != nil {
		return err
	}
	name := req.MirrorTopic
	if name == "" {
		name = cfg.Prefix + req.SourceTopic
	} else if name != cfg.Prefix+req.SourceTopic {
		return badRequest("mirror topic %q: a mirror topic's name is cluster.link.prefix (%q) followed by the source topic's name: %q", name, cfg.Prefix, cfg.Prefix+req.SourceTopic)
	}
	if err := validName("mirror topic name", name); err != nil {
		return err
	}
	if _, ok := m.store.mirror(link, name); ok {
		return conflict("mirror topic %q already exists on cluster link %q", name, link)
	}
	for k := range req.Configs {
		if isSynced(cfg, k) {
			return badRequest("mirror topic %q: config %s follows the source topic (topic.config.sync.include) and cannot be set on the mirror", name, k)
		}
	}
	m.mu.Lock()
	lr := m.links[link]
	m.mu.Unlock()
	if lr == nil {
		return Errorf(503, "cluster link %q is starting; try again", link)
	}
	srcAdm := kadm.NewClient(lr.src)
	details, err := srcAdm.ListTopics(ctx, req.SourceTopic)
	if err != nil {
		return Errorf(503, "cluster link %q: cannot reach the source cluster: %v", link, err)
	}
	td, ok := details[req.SourceTopic]
	if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
		return notFound("source topic %q does not exist on the source cluster of link %q", req.SourceTopic, link)
	}
	if td.Err != nil {
		return Errorf(503, "source topic %q: %v", req.SourceTopic, td.Err)
	}
	if dd, err := m.adm.ListTopics(ctx, name); err == nil {
		if d, ok := dd[name]; ok && d.Err == nil {
			return conflict("topic %q already exists on the destination cluster: a mirror topic must be created by its link", name)
		}
	}
	if validateOnly {
		return nil
	}
	configs, err := m.sourceConfigs(ctx, lr, req.SourceTopic)
	if err != nil {
		return Errorf(503, "source topic %q configs: %v", req.SourceTopic, err)
	}
	for k, v := range req.Configs {
		configs[k] = v
	}
	// The record first: an instance that dies before creating the topic
	// leaves a mirror whose engine creates it, never a topic that no
	// mirror claims (which would make the next create a conflict).
	if err := m.store.putMirror(ctx, mirrorRecord{
		Link: link, MirrorTopic: name, SourceTopic: req.SourceTopic,
		State: MirrorActive, StateTimeMillis: time.Now().UnixMilli(),
		StartAt: cfg.StartAt,
	}); err != nil {
		return err
	}
	if err := createMirrorTopic(ctx, m.adm, name, int32(len(td.Partitions)), int16(req.ReplicationFactor), configs); err != nil {
		if derr := m.store.deleteMirror(ctx, link, name); derr != nil {
			m.log.Error("cannot remove the mirror record after its topic could not be created; delete the mirror", "mirror_topic", name, "error", derr)
		}
		return Errorf(500, "creating mirror topic %q: %v", name, err)
	}
	return m.applied(ctx, nil)
}

// isSynced tells the topic configs that follow the source.
func isSynced(cfg *Config, name string) bool {
	for _, s := range AlwaysSyncedTopicConfigs() {
		if s == name {
			return true
		}
	}
	for _, s := range cfg.ConfigSyncInclude {
		if s == name || s == "*" {
			return true
		}
	}
	return false
}

// sourceConfigs returns the synced configs the source topic sets (not its
// defaults).
func (m *Service) sourceConfigs(ctx context.Context, lr *linkRun, topic string) (map[string]string, error) {
	rcs, err := kadm.NewClient(lr.src).DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return nil, err
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		return nil, err
	}
	if rc.Err != nil {
		return nil, rc.Err
	}
	out := make(map[string]string)
	for _, c := range rc.Configs {
		if c.Value != nil && c.Source == 1 /* DYNAMIC_TOPIC_CONFIG */ && isSynced(lr.cfg, c.Key) {
			out[c.Key] = *c.Value
		}
	}
	return out, nil
}

// createMirrorTopic creates the mirror topic with the engine's configs
// (mirror.DefaultDestinationConfigs) under the source's. A broker older than
// Apache Kafka 3.6 (and kfake) does not know the message.timestamp.before/
// after.max.ms names and refuses them as INVALID_CONFIG: the topic is then
// created with message.timestamp.difference.max.ms at its maximum instead,
// and without either if that is refused too.
func createMirrorTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32, rf int16, configs map[string]string) error {
	if rf == 0 {
		rf = -1
	}
	attempts := []func(map[string]string){
		func(map[string]string) {},
		func(c map[string]string) {
			delete(c, "message.timestamp.before.max.ms")
			delete(c, "message.timestamp.after.max.ms")
			if _, ok := c["message.timestamp.difference.max.ms"]; !ok {
				c["message.timestamp.difference.max.ms"] = "9223372036854775807"
			}
		},
		func(c map[string]string) { delete(c, "message.timestamp.difference.max.ms") },
	}
	all := mirror.DefaultDestinationConfigs()
	for k, v := range configs {
		all[k] = v
	}
	var err error
	for _, adjust := range attempts {
		adjust(all)
		ptrs := make(map[string]*string, len(all))
		for k, v := range all {
			ptrs[k] = &v
		}
		var resp kadm.CreateTopicResponse
		resp, err = adm.CreateTopic(ctx, partitions, rf, ptrs, topic)
		if err == nil {
			err = resp.Err
		}
		if err == nil || !errors.Is(err, kerr.InvalidConfig) {
			break
		}
	}
	if errors.Is(err, kerr.TopicAlreadyExists) {
		return nil
	}
	return err
}

// Mirrors implements Manager.
func (m *Service) Mirrors(ctx context.Context, link string, state MirrorState) ([]Mirror, error) {
	if err := m.wait(ctx); err != nil {
		return nil, err
	}
	if link != "" {
		if _, ok := m.store.link(link); !ok {
			return nil, unknownLink(link)
		}
	}
	_, recs := m.store.snapshot()
	var out []Mirror
	for _, r := range recs {
		if link != "" && r.Link != link {
			continue
		}
		d := m.describeMirror(ctx, r, true)
		if state != "" && d.State != state {
			continue
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Link != out[j].Link {
			return out[i].Link < out[j].Link
		}
		return out[i].MirrorTopic < out[j].MirrorTopic
	})
	return out, nil
}

// Mirror implements Manager.
func (m *Service) Mirror(ctx context.Context, link, topic string) (Mirror, error) {
	if err := m.wait(ctx); err != nil {
		return Mirror{}, err
	}
	if _, ok := m.store.link(link); !ok {
		return Mirror{}, unknownLink(link)
	}
	r, ok := m.store.mirror(link, topic)
	if !ok {
		return Mirror{}, notFound("mirror topic %q does not exist on cluster link %q", topic, link)
	}
	return m.describeMirror(ctx, r, true), nil
}

// describeMirror reports a mirror, its state as the link sees it, and with
// lags its per-partition lag.
func (m *Service) describeMirror(ctx context.Context, r mirrorRecord, lags bool) Mirror {
	out := Mirror{
		Link: r.Link, MirrorTopic: r.MirrorTopic, SourceTopic: r.SourceTopic,
		State: r.State, Error: r.Error, ErrorMessage: r.ErrorMessage,
		StateTimeMillis: r.StateTimeMillis, Lags: []Lag{},
	}
	if out.Error == "" {
		out.Error = NoError
	}
	m.mu.Lock()
	lr := m.links[r.Link]
	m.mu.Unlock()
	if lr != nil && (r.State == MirrorActive || r.State == MirrorPendingStopped) {
		switch st, _, _ := lr.status(); st {
		case StatePaused:
			out.State = MirrorLinkPaused
		case StateUnavailable:
			out.State = MirrorSourceUnavailable
		case StateFailed:
			out.State = MirrorLinkFailed
		}
	}
	if ls, n, err := m.lags(ctx, r, lr); err == nil || errors.Is(err, errLagUnknown) {
		out.NumPartitions = n // with errLagUnknown: the last lags known
		if lags {
			out.Lags = ls
		}
	}
	return out
}

// errLagUnknown is returned by lags when the source's end offsets could not
// be read: the lags are then from the last ones read, if any.
var errLagUnknown = errors.New("the source's end offsets cannot be read now")

// lags compares the source's end offsets with the mirror's.
func (m *Service) lags(ctx context.Context, r mirrorRecord, lr *linkRun) ([]Lag, int32, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	dst, err := m.adm.ListEndOffsets(ctx, r.MirrorTopic)
	if err != nil {
		return nil, 0, err
	}
	var out []Lag
	dst.Each(func(o kadm.ListedOffset) {
		out = append(out, Lag{Partition: o.Partition, LastSourceFetchOffset: o.Offset})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Partition < out[j].Partition })
	if lr == nil || r.State == MirrorStopped {
		return out, int32(len(out)), nil
	}
	key := mirrorKey(r.Link, r.MirrorTopic)
	ends := make(map[int32]int64, len(out))
	src, serr := kadm.NewClient(lr.src).ListEndOffsets(ctx, r.SourceTopic)
	if serr == nil {
		src.Each(func(o kadm.ListedOffset) {
			if o.Err == nil {
				ends[o.Partition] = o.Offset
			}
		})
		if len(ends) < len(out) {
			serr = errLagUnknown
		}
	}
	if serr == nil {
		m.srcEnds.Store(key, ends)
	} else {
		serr = errLagUnknown
		if last, ok := m.srcEnds.Load(key); ok {
			ends = last.(map[int32]int64)
		}
	}
	for i := range out {
		if e, ok := ends[out[i].Partition]; ok {
			out[i].Lag = max(0, e-out[i].LastSourceFetchOffset)
		}
	}
	return out, int32(len(out)), serr
}

// AlterMirrors implements Manager.
func (m *Service) AlterMirrors(ctx context.Context, link string, op MirrorOp, topics []string, validateOnly bool) ([]MirrorResult, error) {
	if err := m.wait(ctx); err != nil {
		return nil, err
	}
	if _, ok := m.store.link(link); !ok {
		return nil, unknownLink(link)
	}
	switch op {
	case OpPromote, OpFailover, OpPause, OpResume:
	default:
		return nil, badRequest("unknown mirror operation %q", op)
	}
	if len(topics) == 0 {
		return nil, badRequest("mirror_topic_names is empty")
	}
	out := make([]MirrorResult, 0, len(topics))
	for _, t := range topics {
		res := MirrorResult{MirrorTopic: t}
		msgs, err := m.alterMirror(ctx, link, op, t, validateOnly)
		res.Messages = msgs
		if err != nil {
			var le *Error
			if !errors.As(err, &le) {
				le = Errorf(500, "%v", err)
			}
			res.Err = le
		}
		out = append(out, res)
	}
	return out, nil
}

func (m *Service) alterMirror(ctx context.Context, link string, op MirrorOp, topic string, validateOnly bool) ([]string, error) {
	r, ok := m.store.mirror(link, topic)
	if !ok {
		return nil, notFound("mirror topic %q does not exist on cluster link %q", topic, link)
	}
	next := r.State
	var msgs []string
	switch op {
	case OpPause:
		if r.State != MirrorActive {
			return nil, conflict("mirror topic %q is %s: only an ACTIVE mirror can be paused", topic, r.State)
		}
		next = MirrorPaused
	case OpResume:
		if r.State != MirrorPaused {
			return nil, conflict("mirror topic %q is %s: only a PAUSED mirror can be resumed", topic, r.State)
		}
		next = MirrorActive
	case OpFailover:
		if r.State == MirrorStopped {
			return nil, conflict("mirror topic %q is already STOPPED", topic)
		}
		next = MirrorStopped
	case OpPromote:
		if r.State == MirrorStopped {
			return nil, conflict("mirror topic %q is already STOPPED", topic)
		}
		if r.State == MirrorFailed || r.State == MirrorPaused {
			return nil, conflict("mirror topic %q is %s: promote needs a mirror that copies (resume it first), or use failover to stop it as it is", topic, r.State)
		}
		m.mu.Lock()
		lr := m.links[link]
		m.mu.Unlock()
		if lr == nil {
			return nil, Errorf(503, "cluster link %q is starting; try again", link)
		}
		if st, code, _ := lr.status(); st == StateUnavailable || st == StateFailed {
			return nil, conflict("mirror topic %q: the source cluster is unreachable (%s), so its lag cannot be known: use failover to stop the mirror as it is", topic, code)
		}
		lags, _, err := m.lags(ctx, r, lr)
		if err != nil {
			return nil, Errorf(503, "mirror topic %q: cannot read its lag: %v", topic, err)
		}
		var total int64
		for _, l := range lags {
			total += l.Lag
		}
		if total > 0 {
			if validateOnly {
				return nil, conflict("mirror topic %q has a lag of %d records: promote would wait for it", topic, total)
			}
			msgs = append(msgs, fmt.Sprintf("the mirror has a lag of %d records; it stops once the lag is zero (state PENDING_STOPPED until then)", total))
		}
		next = MirrorPendingStopped
	}
	if validateOnly {
		return msgs, nil
	}
	r.State, r.StateTimeMillis = next, time.Now().UnixMilli()
	return msgs, m.applied(ctx, m.store.putMirror(ctx, r))
}

// reconcile starts and stops links and engines to match the stored states,
// records engine failures, and finishes promotions whose lag reached zero.
// What it starts lives as long as Run, whoever asked for the reconcile.
func (m *Service) reconcile() {
	ctx := m.runCtx
	later := m.reconcileRuns(ctx)
	// Network calls happen outside m.mu, which REST reads take.
	for _, f := range later {
		f()
	}
}

// reconcileRuns starts and stops runs under m.mu and returns what must
// be done after: storing failures and finished promotions.
func (m *Service) reconcileRuns(ctx context.Context) (later []func()) {
	links, mirrors := m.store.snapshot()
	m.mu.Lock()
	defer m.mu.Unlock()
	// Links: start new ones, restart changed ones, stop deleted ones.
	for name, lr := range m.links {
		rec, ok := links[name]
		if ok && sameConfigs(rec.Configs, lr.rec.Configs) && rec.ID == lr.rec.ID {
			continue
		}
		for key, r := range m.mirrors {
			if r.rec.Link == name {
				r.stop()
				delete(m.mirrors, key)
			}
		}
		lr.stop()
		delete(m.links, name)
		if ok {
			m.log.Info("link configs changed; restarting it", "link", name)
		}
	}
	for name, rec := range links {
		if m.links[name] != nil {
			continue
		}
		lr, err := startLink(ctx, rec, m.ownID(), m.log, m.syncLinkConfigs)
		if err != nil {
			m.log.Error("cannot start link; fix its configs", "link", name, "error", err)
			continue
		}
		m.links[name] = lr
	}
	// Mirrors: the group shares out the partitions of those that copy.
	var copying []string
	for _, rec := range mirrors {
		if lr := m.links[rec.Link]; lr != nil && !lr.cfg.Paused && (rec.State == MirrorActive || rec.State == MirrorPendingStopped) {
			copying = append(copying, rec.MirrorTopic)
		}
	}
	m.share.subscribe(copying)
	seen := make(map[string]bool, len(mirrors))
	for _, rec := range mirrors {
		key := mirrorKey(rec.Link, rec.MirrorTopic)
		seen[key] = true
		lr := m.links[rec.Link]
		run := m.mirrors[key]
		owned := m.share.partitions(rec.MirrorTopic)
		want := lr != nil && !lr.cfg.Paused && (rec.State == MirrorActive || rec.State == MirrorPendingStopped) && len(owned) > 0
		if run != nil && (!want || run.exited() || !slices.Equal(run.parts, owned)) {
			run.stop()
			delete(m.mirrors, key)
			if run.err != nil && want {
				m.log.Warn("mirror engine stopped; restarting it", "link", rec.Link, "mirror_topic", rec.MirrorTopic, "error", run.err)
			}
			run = nil
		}
		if want && run == nil {
			m.mirrors[key] = m.startMirror(ctx, rec, lr, owned)
			continue
		}
		if run == nil {
			continue
		}
		if f := run.engine.Failures(); len(f) > 0 {
			run.stop()
			delete(m.mirrors, key)
			later = append(later, func() { m.failMirror(ctx, rec, f) })
			continue
		}
		if rec.State == MirrorPendingStopped {
			later = append(later, func() { m.finishPromotion(ctx, rec, lr) })
		}
	}
	for key, run := range m.mirrors {
		if !seen[key] {
			run.stop()
			delete(m.mirrors, key)
		}
	}
	return later
}

// finishPromotion stops a PENDING_STOPPED mirror once the source's end
// offsets, read now, show no lag.
func (m *Service) finishPromotion(ctx context.Context, rec mirrorRecord, lr *linkRun) {
	lags, _, err := m.lags(ctx, rec, lr)
	if err != nil || !zero(lags) {
		return
	}
	if cur, ok := m.store.mirror(rec.Link, rec.MirrorTopic); !ok || cur.State != MirrorPendingStopped {
		return // changed meanwhile (failover, delete)
	}
	rec.State, rec.StateTimeMillis = MirrorStopped, time.Now().UnixMilli()
	if err := m.store.putMirror(ctx, rec); err == nil {
		m.log.Info("mirror topic promoted: it is now a writable topic", "link", rec.Link, "mirror_topic", rec.MirrorTopic)
	}
}

func zero(lags []Lag) bool {
	for _, l := range lags {
		if l.Lag != 0 {
			return false
		}
	}
	return true
}

func sameConfigs(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func (m *Service) startMirror(ctx context.Context, rec mirrorRecord, lr *linkRun, parts []int32) *mirrorRun {
	ctx, cancel := context.WithCancel(ctx)
	run := &mirrorRun{rec: rec, link: lr, parts: parts, cancel: cancel, done: make(chan struct{})}
	e, err := mirror.New(mirror.Config{
		Source: lr.src, Destination: m.dst,
		SourceTopic: rec.SourceTopic, DestinationTopic: rec.MirrorTopic,
		StartAt:         rec.StartAt,
		TransactionalID: "linkproxy-" + lr.rec.ID + "-" + rec.MirrorTopic,
		Partitions:      parts,
		RetryTimeout:    max(lr.cfg.RetryTimeout, time.Nanosecond), // 0: no retries
		Starts:          mirrorStarts{m.store, rec.Link, rec.MirrorTopic},
		Log:             m.log.With("link", rec.Link),
	})
	if err != nil {
		run.err = err
		close(run.done)
		return run
	}
	run.engine = e
	go func() {
		defer close(run.done)
		run.err = e.Run(ctx)
	}()
	return run
}

// failMirror stores FAILED with the engine's reason, named as Confluent
// names mirror errors.
func (m *Service) failMirror(ctx context.Context, rec mirrorRecord, failures map[int32]error) {
	var parts []string
	code := ""
	for p, err := range failures {
		msg := err.Error()
		parts = append(parts, fmt.Sprintf("partition %d: %s", p, msg))
		for _, c := range []string{MirrorErrUnexpectedTruncation, MirrorErrDiverged, MirrorErrSourcePartitionsDecreased, MirrorErrSourceTopicMayBeDeleted} {
			if strings.Contains(msg, c) && code == "" {
				code = c
			}
		}
	}
	sort.Strings(parts)
	if code == "" {
		code = ErrUnknown
	}
	rec.State, rec.Error, rec.ErrorMessage = MirrorFailed, code, strings.Join(parts, "; ")
	rec.StateTimeMillis = time.Now().UnixMilli()
	m.log.Error("mirror topic failed; fix the cause, then delete and recreate the mirror, or fail it over", "link", rec.Link, "mirror_topic", rec.MirrorTopic, "mirror_topic_error", code, "reason", rec.ErrorMessage)
	if err := m.store.putMirror(ctx, rec); err != nil {
		m.log.Error("cannot store the mirror's FAILED state", "error", err)
	}
}
