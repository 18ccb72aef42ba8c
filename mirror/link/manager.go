package link

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Options configure a Service.
type Options struct {
	// Destination are the kgo options that reach the fronted cluster
	// (conf's cluster properties, KgoOpts).
	Destination []kgo.Opt
	// StateTopic defaults to DefaultStateTopic.
	StateTopic string
	// Declared links come from the config file: created at start when the
	// state topic does not have them yet.
	Declared []Declared
	// Reconcile is how often running mirrors are checked against their
	// stored states (default 1s); changes also trigger it at once.
	Reconcile time.Duration
	// PasswordEncoder encrypts link password configs in the state topic;
	// without one, links with password configs are refused.
	PasswordEncoder *PasswordEncoder
	Log             hclog.Logger
}

// Declared is a link from the config file, with its mirror topics.
type Declared struct {
	Name    string
	Configs map[string]any
	Mirrors []CreateMirror
}

// Service runs the links of the destination cluster. It implements the
// Manager interface and the proxy's mirror-topic guard (MirrorLink).
type Service struct {
	opts Options
	log  hclog.Logger
	dst  *kgo.Client
	adm  *kadm.Client

	ready     chan struct{} // closed once the state topic is read
	store     *store
	share     *sharer
	kick      chan struct{}          // asks for a reconcile
	runCtx    context.Context        // Run's: links and engines live as long as it
	clusterID atomic.Pointer[string] // learnt once

	srcEnds sync.Map // mirrorKey -> map[int32]int64: the source's last end offsets read

	mu      sync.Mutex
	links   map[string]*linkRun   // by name
	mirrors map[string]*mirrorRun // by mirrorKey
}

var _ Manager = (*Service)(nil)

// NewManager connects nothing yet: Run does.
func NewService(opts Options) (*Service, error) {
	if opts.StateTopic == "" {
		opts.StateTopic = DefaultStateTopic
	}
	if opts.Reconcile <= 0 {
		opts.Reconcile = time.Second
	}
	if opts.Log == nil {
		opts.Log = hclog.NewNullLogger()
	}
	for _, d := range opts.Declared {
		cfg, err := ParseConfig(d.Configs)
		if err != nil {
			return nil, fmt.Errorf("link %s: %w", d.Name, err)
		}
		if _, err := sealConfigs(opts.PasswordEncoder, d.Name, cfg.Set()); err != nil {
			return nil, err
		}
	}
	dst, err := kgo.NewClient(opts.Destination...)
	if err != nil {
		return nil, fmt.Errorf("link manager: destination client: %w", err)
	}
	return &Service{
		opts:    opts,
		log:     opts.Log.Named("links"),
		dst:     dst,
		adm:     kadm.NewClient(dst),
		ready:   make(chan struct{}),
		kick:    make(chan struct{}, 1),
		links:   make(map[string]*linkRun),
		mirrors: make(map[string]*mirrorRun),
	}, nil
}

// Run reads the state topic, creates the declared links, and keeps links
// and mirrors running as stored until ctx ends. It retries a destination
// it cannot reach at start.
func (m *Service) Run(ctx context.Context) error {
	defer m.dst.Close()
	for {
		s, err := openStore(ctx, m.opts.Destination, m.opts.StateTopic, m.opts.PasswordEncoder, m.log)
		if err == nil {
			m.store = s
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		m.log.Warn("cannot read the link state topic yet; retrying; check that the cluster is reachable and the principal may create and read the topic", "topic", m.opts.StateTopic, "error", err)
		if sleep(ctx, 2*time.Second) != nil {
			return nil
		}
	}
	defer m.store.close()
	m.runCtx = ctx
	sh, err := startSharer(m.opts.Destination, m.opts.StateTopic, m.log, m.poke, m.revoked)
	if err != nil {
		return fmt.Errorf("link manager: group client: %w", err)
	}
	m.share = sh
	defer sh.close()
	go sh.run(ctx)
	id, err := m.ClusterID(ctx)
	if err != nil && ctx.Err() == nil {
		m.log.Warn("cannot learn the cluster id yet", "error", err)
	}
	if id != "" {
		m.clusterID.Store(&id)
	}
	close(m.ready)
	go m.store.follow(ctx)
	m.store.reseal(ctx)
	m.declare(ctx)

	t := time.NewTicker(m.opts.Reconcile)
	defer t.Stop()
	for {
		m.reconcile()
		select {
		case <-ctx.Done():
			m.stopAll()
			return nil
		case <-t.C:
		case <-m.store.changed:
		case <-m.kick:
		}
	}
}

// poke asks the Run loop for a reconcile.
func (m *Service) poke() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// revoked stops the engines of mirror topics whose partitions the group
// took away, before the group gives them to another instance.
func (m *Service) revoked(topics map[string][]int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, r := range m.mirrors {
		if _, ok := topics[r.rec.MirrorTopic]; ok {
			r.stop()
			delete(m.mirrors, key)
		}
	}
}

// Ready is closed once the manager serves requests.
func (m *Service) Ready() <-chan struct{} { return m.ready }

func (m *Service) wait(ctx context.Context) error {
	select {
	case <-m.ready:
		return nil
	case <-ctx.Done():
		return Errorf(503, "cluster links are starting: the state topic %s is not read yet", m.opts.StateTopic)
	}
}

func (m *Service) declare(ctx context.Context) {
	for _, d := range m.opts.Declared {
		if _, ok := m.store.link(d.Name); !ok {
			cfg, err := ParseConfig(d.Configs) // checked in NewService
			if err == nil {
				err = m.createLink(ctx, d.Name, "", cfg.Set(), false, false, declaredID(d.Name))
			}
			if err != nil {
				m.log.Error("cannot create the link declared in the config file; fix it there and restart", "link", d.Name, "error", err)
				continue
			}
		}
		for _, cm := range d.Mirrors {
			err := m.CreateMirror(ctx, d.Name, cm, false)
			var le *Error
			if err != nil && !(errors.As(err, &le) && le.Status == 409) {
				m.log.Error("cannot create the mirror topic declared in the config file; it is retried at the next start", "link", d.Name, "source_topic", cm.SourceTopic, "error", err)
			}
		}
	}
}

// ownID is the destination's cluster id once known, or "".
func (m *Service) ownID() string {
	if id := m.clusterID.Load(); id != nil {
		return *id
	}
	return ""
}

// ClusterID asks the destination cluster for its id.
func (m *Service) ClusterID(ctx context.Context) (string, error) {
	if id := m.clusterID.Load(); id != nil {
		return *id, nil
	}
	id, err := clusterID(ctx, m.dst)
	if err == nil {
		m.clusterID.Store(&id)
	}
	return id, err
}

func clusterID(ctx context.Context, cl *kgo.Client) (string, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return "", err
	}
	if resp.ClusterID == nil {
		return "", errors.New("the cluster reports no cluster id")
	}
	return *resp.ClusterID, nil
}

// CreateLink implements Manager.
func (m *Service) CreateLink(ctx context.Context, name, sourceClusterID string, configs map[string]string, validateOnly, validateLink bool) error {
	return m.createLink(ctx, name, sourceClusterID, configs, validateOnly, validateLink, newID())
}

// declaredID is the id of a link declared in the config file: the same in
// every instance, so that instances starting together and each creating
// the link write the same link.
func declaredID(name string) string {
	sum := sha256.Sum256([]byte("linkproxy declared link " + name))
	return formatUUID(sum[:16])
}

func (m *Service) createLink(ctx context.Context, name, sourceClusterID string, configs map[string]string, validateOnly, validateLink bool, id string) error {
	if err := m.wait(ctx); err != nil {
		return err
	}
	if err := validName("link name", name); err != nil {
		return err
	}
	if _, ok := m.store.link(name); ok {
		return conflict("cluster link %q already exists", name)
	}
	props := make(map[string]any, len(configs))
	for k, v := range configs {
		props[k] = v
	}
	cfg, err := ParseConfig(props)
	if err != nil {
		return badRequest("cluster link %q: %v", name, err)
	}
	if !cfg.Props.IsSet("bootstrap.servers") {
		return badRequest("cluster link %q: bootstrap.servers is required: the source cluster's brokers, or the source side's linkproxy", name)
	}
	if validateLink {
		id, lerr := probe(ctx, cfg)
		if lerr != nil {
			return badRequest("cluster link %q: cannot reach the source cluster (%s): %v", name, lerr.code, lerr.err)
		}
		if sourceClusterID != "" && id != sourceClusterID {
			return badRequest("cluster link %q: %s: source_cluster_id is %s but bootstrap.servers reaches cluster %s", name, ErrSourceClusterIDMismatch, sourceClusterID, id)
		}
		if own, _ := m.ClusterID(ctx); own != "" && id == own {
			return badRequest("cluster link %q: bootstrap.servers reaches this cluster (%s): a link to its own cluster is refused", name, id)
		}
		sourceClusterID = id
	}
	if _, err := sealConfigs(m.opts.PasswordEncoder, name, cfg.Set()); err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	err = m.store.putLink(ctx, linkRecord{
		Name: name, ID: id, SourceClusterID: sourceClusterID,
		Configs: cfg.Set(), CreatedMillis: time.Now().UnixMilli(),
	})
	return m.applied(ctx, err)
}

// applied makes a change this instance stored take effect here before the
// call returns (a paused mirror's engine has stopped, a new link runs);
// other instances follow within Options.Reconcile.
func (m *Service) applied(_ context.Context, err error) error {
	if err == nil {
		m.reconcile()
	}
	return err
}

// Links implements Manager.
func (m *Service) Links(ctx context.Context) ([]Link, error) {
	if err := m.wait(ctx); err != nil {
		return nil, err
	}
	links, mirrors := m.store.snapshot()
	out := make([]Link, 0, len(links))
	for _, l := range links {
		out = append(out, m.describeLink(l, mirrors))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Link implements Manager.
func (m *Service) Link(ctx context.Context, name string) (Link, error) {
	if err := m.wait(ctx); err != nil {
		return Link{}, err
	}
	l, ok := m.store.link(name)
	if !ok {
		return Link{}, unknownLink(name)
	}
	_, mirrors := m.store.snapshot()
	return m.describeLink(l, mirrors), nil
}

func unknownLink(name string) *Error { return notFound("cluster link %q does not exist", name) }

func (m *Service) describeLink(l linkRecord, mirrors []mirrorRecord) Link {
	out := Link{
		Name: l.Name, ID: l.ID, SourceClusterID: l.SourceClusterID,
		DestinationClusterID: m.ownID(),
		State:                StateUnavailable, Error: NoError,
		TopicNames: []string{},
	}
	for _, mr := range mirrors {
		if mr.Link == l.Name {
			out.TopicNames = append(out.TopicNames, mr.MirrorTopic)
		}
	}
	sort.Strings(out.TopicNames)
	m.mu.Lock()
	lr := m.links[l.Name]
	m.mu.Unlock()
	if lr != nil {
		out.State, out.Error, out.ErrorMessage = lr.status()
		if out.SourceClusterID == "" {
			out.SourceClusterID = lr.sourceID()
		}
	}
	return out
}

// DeleteLink implements Manager.
func (m *Service) DeleteLink(ctx context.Context, name string, force, validateOnly bool) error {
	if err := m.wait(ctx); err != nil {
		return err
	}
	if _, ok := m.store.link(name); !ok {
		return unknownLink(name)
	}
	_, mirrors := m.store.snapshot()
	var active []string
	for _, mr := range mirrors {
		if mr.Link == name && mr.State != MirrorStopped {
			active = append(active, mr.MirrorTopic)
		}
	}
	sort.Strings(active)
	if len(active) > 0 && !force {
		return conflict("cluster link %q has mirror topics that are not stopped (%s): promote or fail them over first, or delete with force (they stay read-only until then, and are left as ordinary topics by a forced delete)", name, strings.Join(active, ", "))
	}
	if validateOnly {
		return nil
	}
	for _, mr := range mirrors {
		if mr.Link == name {
			if err := m.store.deleteMirror(ctx, name, mr.MirrorTopic); err != nil {
				return err
			}
		}
	}
	return m.applied(ctx, m.store.deleteLink(ctx, name))
}

// LinkConfigs implements Manager.
func (m *Service) LinkConfigs(ctx context.Context, name string) ([]ConfigEntry, error) {
	if err := m.wait(ctx); err != nil {
		return nil, err
	}
	l, ok := m.store.link(name)
	if !ok {
		return nil, unknownLink(name)
	}
	cfg, err := parseStored(l.Configs)
	if err != nil {
		return nil, err
	}
	return cfg.Entries(), nil
}

// AlterLinkConfigs implements Manager.
func (m *Service) AlterLinkConfigs(ctx context.Context, name string, set map[string]string, reset []string, validateOnly bool) error {
	if err := m.wait(ctx); err != nil {
		return err
	}
	l, ok := m.store.link(name)
	if !ok {
		return unknownLink(name)
	}
	configs := make(map[string]string, len(l.Configs)+len(set))
	for k, v := range l.Configs {
		configs[k] = v
	}
	for k, v := range set {
		if ReadOnlyAfterCreate(k) && configs[k] != v {
			return badRequest("cluster link %q: %s is fixed when the link is created", name, k)
		}
		configs[k] = v
	}
	for _, k := range reset {
		if ReadOnlyAfterCreate(k) {
			return badRequest("cluster link %q: %s is fixed when the link is created", name, k)
		}
		delete(configs, k)
	}
	cfg, err := parseStored(configs)
	if err != nil {
		return badRequest("cluster link %q: %v", name, err)
	}
	if _, err := sealConfigs(m.opts.PasswordEncoder, name, cfg.Set()); err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	l.Configs = cfg.Set()
	return m.applied(ctx, m.store.putLink(ctx, l))
}

func parseStored(configs map[string]string) (*Config, error) {
	props := make(map[string]any, len(configs))
	for k, v := range configs {
		props[k] = v
	}
	return ParseConfig(props)
}

// MirrorLink implements the proxy's guard: a mirror topic is read-only
// until it is stopped.
func (m *Service) MirrorLink(topic string) (string, bool) {
	select {
	case <-m.ready:
	default:
		return "", false
	}
	return m.store.readOnlyLink(topic)
}

func (m *Service) stopAll() {
	m.mu.Lock()
	runs := make([]*mirrorRun, 0, len(m.mirrors))
	for _, r := range m.mirrors {
		runs = append(runs, r)
	}
	links := make([]*linkRun, 0, len(m.links))
	for _, l := range m.links {
		links = append(links, l)
	}
	m.mu.Unlock()
	for _, r := range runs {
		r.stop()
	}
	for _, l := range links {
		l.stop()
	}
}

// validName checks a link or topic name as Kafka checks topic names.
func validName(what, name string) error {
	if name == "" {
		return badRequest("%s is empty", what)
	}
	if len(name) > 249 {
		return badRequest("%s %q is longer than 249 characters", what, name)
	}
	if name == "." || name == ".." {
		return badRequest("%s %q is not allowed", what, name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return badRequest("%s %q: only ASCII letters, digits, '.', '_' and '-' are allowed", what, name)
		}
	}
	return nil
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return formatUUID(b[:])
}

// formatUUID formats 16 bytes as a version 4 UUID.
func formatUUID(b []byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
