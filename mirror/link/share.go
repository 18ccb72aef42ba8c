package link

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Sharing mirror partitions between instances.
//
// Every instance with the same state topic joins one consumer group on the
// destination cluster, subscribed to the mirror topics that copy. The
// group's assignment is the work split: an instance copies exactly the
// mirror partitions assigned to it. Fetching is paused for every topic, so
// the group never reads a record; it exists for its membership and
// rebalancing. When an instance stops or dies, its partitions are
// reassigned after the session timeout, and the new owner continues them:
// it resumes the predecessor's producer from the mirror's last batch and
// fences its fills (see package mirror), so a late write of the dead
// instance is refused rather than duplicated.

// groupSessionTimeout bounds how long a dead instance's partitions wait.
const groupSessionTimeout = 10 * time.Second

type sharer struct {
	cl  *kgo.Client
	log hclog.Logger

	mu       sync.Mutex
	owned    map[string][]int32 // mirror topic -> partitions, sorted
	topics   map[string]bool    // subscribed
	onChange func()
	onRevoke func(map[string][]int32)
}

func groupName(stateTopic string) string { return "linkproxy-links-" + stateTopic }

func startSharer(opts []kgo.Opt, stateTopic string, log hclog.Logger, onChange func(), onRevoke func(map[string][]int32)) (*sharer, error) {
	sh := &sharer{log: log, owned: make(map[string][]int32), topics: make(map[string]bool), onChange: onChange, onRevoke: onRevoke}
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumerGroup(groupName(stateTopic)),
		kgo.SessionTimeout(groupSessionTimeout),
		kgo.HeartbeatInterval(time.Second),
		// Partitions added to a mirror must reach the group soon.
		kgo.MetadataMaxAge(5*time.Second),
		kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(sh.assigned),
		kgo.OnPartitionsRevoked(sh.revoked),
		kgo.OnPartitionsLost(sh.revoked),
	)...)
	if err != nil {
		return nil, err
	}
	sh.cl = cl
	return sh, nil
}

// run polls, which drives the group (no records arrive: fetching is
// paused).
func (sh *sharer) run(ctx context.Context) {
	for ctx.Err() == nil {
		sh.cl.PollFetches(ctx)
	}
}

// subscribe makes the group's subscription the given topics.
func (sh *sharer) subscribe(topics []string) {
	sh.mu.Lock()
	var add, remove []string
	want := make(map[string]bool, len(topics))
	for _, t := range topics {
		want[t] = true
		if !sh.topics[t] {
			add = append(add, t)
		}
	}
	for t := range sh.topics {
		if !want[t] {
			remove = append(remove, t)
		}
	}
	sh.topics = want
	sh.mu.Unlock()
	if len(add) > 0 {
		sh.cl.PauseFetchTopics(add...)
		sh.cl.AddConsumeTopics(add...)
	}
	if len(remove) > 0 {
		sh.cl.PurgeTopicsFromConsuming(remove...)
	}
}

// partitions returns the partitions of topic this instance owns.
func (sh *sharer) partitions(topic string) []int32 {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.owned[topic]
}

func (sh *sharer) assigned(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	sh.mu.Lock()
	for t, ps := range m {
		sh.owned[t] = merge(sh.owned[t], ps, true)
	}
	sh.mu.Unlock()
	sh.log.Debug("mirror partitions assigned to this instance", "partitions", m)
	sh.onChange()
}

// revoked stops the engines of revoked partitions before the group hands
// them to another instance.
func (sh *sharer) revoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	sh.mu.Lock()
	for t, ps := range m {
		sh.owned[t] = merge(sh.owned[t], ps, false)
		if len(sh.owned[t]) == 0 {
			delete(sh.owned, t)
		}
	}
	sh.mu.Unlock()
	sh.log.Debug("mirror partitions revoked from this instance", "partitions", m)
	sh.onRevoke(m)
	sh.onChange()
}

func (sh *sharer) close() { sh.cl.Close() }

// merge adds (or removes) ps to (from) set, sorted.
func merge(set, ps []int32, add bool) []int32 {
	in := make(map[int32]bool, len(set)+len(ps))
	for _, p := range set {
		in[p] = true
	}
	for _, p := range ps {
		in[p] = add
	}
	out := make([]int32, 0, len(in))
	for p, ok := range in {
		if ok {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
