package rest

import (
	"context"
	"net/http"
	"slices"
	"sync"

	"github.com/linkproxy/linkproxy/mirror/link"
)

// fakeManager is an in-memory link.Manager: plain maps, no Kafka. It
// refuses what the real one refuses with the statuses api.go's helpers
// give (404 unknown, 400 bad config, 409 conflicts) and records the flags
// of the last write, to check that the API passes them on.
type fakeManager struct {
	mu        sync.Mutex
	clusterID string
	links     map[string]*link.Link
	configs   map[string]map[string]string       // link -> configs set
	mirrors   map[string]map[string]*link.Mirror // link -> topic -> mirror
	fail      error                              // when set, every method returns it
	last      call                               // the last write
	calls     map[string]int                     // method -> count
}

// call is what a write was asked.
type call struct {
	method       string
	link         string
	source       string
	configs      map[string]string
	reset        []string
	validateOnly bool
	validateLink bool
	force        bool
	mirror       link.CreateMirror
	op           link.MirrorOp
	topics       []string
}

// linkConfigDefaults are the configs the fake knows, with their defaults.
var linkConfigDefaults = map[string]string{
	"bootstrap.servers":       "",
	"cluster.link.prefix":     "",
	"consumer.offset.sync.ms": "30000",
	"acl.sync.enable":         "false",
	"sasl.jaas.config":        "",
}

var (
	readOnlyConfigs  = map[string]bool{"cluster.link.prefix": true}
	sensitiveConfigs = map[string]bool{"sasl.jaas.config": true}
)

func newFake() *fakeManager {
	return &fakeManager{
		clusterID: "dest-cluster-1",
		links:     make(map[string]*link.Link),
		configs:   make(map[string]map[string]string),
		mirrors:   make(map[string]map[string]*link.Mirror),
		calls:     make(map[string]int),
	}
}

// seed adds link l with configs and mirrors, as if created.
func (f *fakeManager) seed(l link.Link, configs map[string]string, mirrors ...link.Mirror) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.links[l.Name] = &l
	f.configs[l.Name] = configs
	f.mirrors[l.Name] = make(map[string]*link.Mirror)
	for _, m := range mirrors {
		m.Link = l.Name
		f.mirrors[l.Name][m.MirrorTopic] = &m
	}
}

func (f *fakeManager) begin(method string) error {
	f.calls[method]++
	return f.fail
}

func (f *fakeManager) ClusterID(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("ClusterID"); err != nil {
		return "", err
	}
	return f.clusterID, nil
}

func checkConfigs(configs map[string]string, create bool) error {
	for k := range configs {
		if _, ok := linkConfigDefaults[k]; !ok {
			return link.Errorf(http.StatusBadRequest, "unknown cluster link config %s", k)
		}
		if readOnlyConfigs[k] && !create {
			return link.Errorf(http.StatusBadRequest, "%s is fixed when the link is created", k)
		}
	}
	return nil
}

func (f *fakeManager) CreateLink(_ context.Context, name, source string, configs map[string]string, validateOnly, validateLink bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("CreateLink"); err != nil {
		return err
	}
	f.last = call{method: "CreateLink", link: name, source: source, configs: configs, validateOnly: validateOnly, validateLink: validateLink}
	if _, ok := f.links[name]; ok {
		return link.Errorf(http.StatusConflict, "cluster link %q already exists", name)
	}
	if configs["bootstrap.servers"] == "" {
		return link.Errorf(http.StatusBadRequest, "cluster link %q: bootstrap.servers is required", name)
	}
	if err := checkConfigs(configs, true); err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	f.links[name] = &link.Link{
		Name: name, ID: "7840644d-f7d8-4844-a577-a10ef3df31df", SourceClusterID: source,
		State: link.StateActive, Error: link.NoError,
	}
	f.configs[name] = configs
	f.mirrors[name] = make(map[string]*link.Mirror)
	return nil
}

func (f *fakeManager) linkLocked(name string) (link.Link, error) {
	l, ok := f.links[name]
	if !ok {
		return link.Link{}, link.Errorf(http.StatusNotFound, "cluster link %q does not exist", name)
	}
	out := *l
	out.TopicNames = nil
	for t := range f.mirrors[name] {
		out.TopicNames = append(out.TopicNames, t)
	}
	slices.Sort(out.TopicNames)
	return out, nil
}

func (f *fakeManager) Links(context.Context) ([]link.Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Links"); err != nil {
		return nil, err
	}
	var out []link.Link
	for name := range f.links {
		l, _ := f.linkLocked(name)
		out = append(out, l)
	}
	return out, nil
}

func (f *fakeManager) Link(_ context.Context, name string) (link.Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Link"); err != nil {
		return link.Link{}, err
	}
	return f.linkLocked(name)
}

func (f *fakeManager) DeleteLink(_ context.Context, name string, force, validateOnly bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DeleteLink"); err != nil {
		return err
	}
	f.last = call{method: "DeleteLink", link: name, force: force, validateOnly: validateOnly}
	if _, err := f.linkLocked(name); err != nil {
		return err
	}
	if !force {
		for t, m := range f.mirrors[name] {
			if m.State != link.MirrorStopped {
				return link.Errorf(http.StatusConflict, "cluster link %q has mirror topics that are not stopped (%s)", name, t)
			}
		}
	}
	if validateOnly {
		return nil
	}
	delete(f.links, name)
	delete(f.configs, name)
	delete(f.mirrors, name)
	return nil
}

func (f *fakeManager) LinkConfigs(_ context.Context, name string) ([]link.ConfigEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("LinkConfigs"); err != nil {
		return nil, err
	}
	if _, err := f.linkLocked(name); err != nil {
		return nil, err
	}
	var out []link.ConfigEntry
	for k, def := range linkConfigDefaults {
		v, set := f.configs[name][k]
		if !set {
			v = def
		}
		e := link.ConfigEntry{Name: k, Value: v, IsDefault: !set, ReadOnly: readOnlyConfigs[k], Sensitive: sensitiveConfigs[k]}
		if e.Sensitive {
			e.Value = ""
		}
		out = append(out, e)
	}
	return out, nil
}

func (f *fakeManager) AlterLinkConfigs(_ context.Context, name string, set map[string]string, reset []string, validateOnly bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("AlterLinkConfigs"); err != nil {
		return err
	}
	f.last = call{method: "AlterLinkConfigs", link: name, configs: set, reset: reset, validateOnly: validateOnly}
	if _, err := f.linkLocked(name); err != nil {
		return err
	}
	if err := checkConfigs(set, false); err != nil {
		return err
	}
	for _, k := range reset {
		if err := checkConfigs(map[string]string{k: ""}, false); err != nil {
			return err
		}
	}
	if validateOnly {
		return nil
	}
	for k, v := range set {
		f.configs[name][k] = v
	}
	for _, k := range reset {
		delete(f.configs[name], k)
	}
	return nil
}

func (f *fakeManager) CreateMirror(_ context.Context, name string, m link.CreateMirror, validateOnly bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("CreateMirror"); err != nil {
		return err
	}
	f.last = call{method: "CreateMirror", link: name, mirror: m, validateOnly: validateOnly}
	if _, err := f.linkLocked(name); err != nil {
		return err
	}
	topic := m.MirrorTopic
	if topic == "" {
		topic = f.configs[name]["cluster.link.prefix"] + m.SourceTopic
	}
	if _, ok := f.mirrors[name][topic]; ok {
		return link.Errorf(http.StatusConflict, "mirror topic %q already exists on cluster link %q", topic, name)
	}
	if m.SourceTopic == "missing" {
		return link.Errorf(http.StatusNotFound, "source topic %q does not exist on the source cluster of link %q", m.SourceTopic, name)
	}
	if validateOnly {
		return nil
	}
	f.mirrors[name][topic] = &link.Mirror{
		Link: name, MirrorTopic: topic, SourceTopic: m.SourceTopic, State: link.MirrorActive,
		Error: link.NoError, NumPartitions: 1, Lags: []link.Lag{{Partition: 0}}, StateTimeMillis: 1,
	}
	return nil
}

func (f *fakeManager) Mirrors(_ context.Context, name string, state link.MirrorState) ([]link.Mirror, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Mirrors"); err != nil {
		return nil, err
	}
	names := []string{name}
	if name == "" {
		names = nil
		for n := range f.links {
			names = append(names, n)
		}
	} else if _, err := f.linkLocked(name); err != nil {
		return nil, err
	}
	var out []link.Mirror
	for _, n := range names {
		for _, m := range f.mirrors[n] {
			if state == "" || m.State == state {
				out = append(out, *m)
			}
		}
	}
	return out, nil
}

func (f *fakeManager) Mirror(_ context.Context, name, topic string) (link.Mirror, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Mirror"); err != nil {
		return link.Mirror{}, err
	}
	if _, err := f.linkLocked(name); err != nil {
		return link.Mirror{}, err
	}
	m, ok := f.mirrors[name][topic]
	if !ok {
		return link.Mirror{}, link.Errorf(http.StatusNotFound, "mirror topic %q does not exist on cluster link %q", topic, name)
	}
	return *m, nil
}

// transitions are the states each operation starts from, and leads to.
var transitions = map[link.MirrorOp]struct {
	from []link.MirrorState
	to   link.MirrorState
}{
	link.OpPromote:  {[]link.MirrorState{link.MirrorActive}, link.MirrorStopped},
	link.OpFailover: {[]link.MirrorState{link.MirrorActive, link.MirrorPaused, link.MirrorFailed}, link.MirrorStopped},
	link.OpPause:    {[]link.MirrorState{link.MirrorActive}, link.MirrorPaused},
	link.OpResume:   {[]link.MirrorState{link.MirrorPaused}, link.MirrorActive},
}

func (f *fakeManager) AlterMirrors(_ context.Context, name string, op link.MirrorOp, topics []string, validateOnly bool) ([]link.MirrorResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("AlterMirrors"); err != nil {
		return nil, err
	}
	f.last = call{method: "AlterMirrors", link: name, op: op, topics: topics, validateOnly: validateOnly}
	if _, err := f.linkLocked(name); err != nil {
		return nil, err
	}
	if len(topics) == 0 {
		return nil, link.Errorf(http.StatusBadRequest, "mirror_topic_names is empty")
	}
	tr := transitions[op]
	var out []link.MirrorResult
	for _, t := range topics {
		res := link.MirrorResult{MirrorTopic: t}
		m, ok := f.mirrors[name][t]
		switch {
		case !ok:
			res.Err = link.Errorf(http.StatusNotFound, "mirror topic %q does not exist on cluster link %q", t, name)
		case !slices.Contains(tr.from, m.State):
			res.Err = link.Errorf(http.StatusConflict, "mirror topic %q is %s", t, m.State)
		default:
			res.Messages = []string{"mirror topic " + t + " is " + string(tr.to)}
			if !validateOnly {
				m.State = tr.to
			}
		}
		out = append(out, res)
	}
	return out, nil
}

var _ link.Manager = (*fakeManager)(nil)
