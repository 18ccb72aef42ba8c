package mirror

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/linkproxy/linkproxy/mirror/internal/partlog"
)

// Where a new mirror starts, as Confluent's mirror.start.offset.spec; any
// other non-negative value is a timestamp in milliseconds.
const (
	StartEarliest int64 = partlog.Earliest
	StartLatest   int64 = partlog.Latest
)

// DefaultDestinationConfigs are the configs a mirror topic is created
// with: the producer's codec is kept (batches are copied compressed), and
// record timestamps are accepted however old, because they are the
// source's. The timestamp limits are Apache Kafka 3.6+ names.
func DefaultDestinationConfigs() map[string]string {
	return map[string]string{
		"compression.type":                "producer",
		"message.timestamp.type":          "CreateTime",
		"message.timestamp.before.max.ms": "9223372036854775807",
		"message.timestamp.after.max.ms":  "9223372036854775807",
	}
}

// Config is one mirror: a source topic copied to a destination topic.
type Config struct {
	Source, Destination           *kgo.Client
	SourceTopic, DestinationTopic string
	// StartAt is StartEarliest, StartLatest or a timestamp in ms.
	StartAt int64
	// TransactionalID prefixes the transactional ids of fill
	// transactions; it must be unique to this mirror.
	TransactionalID string
	// DestinationConfigs for a destination topic the engine creates;
	// nil means DefaultDestinationConfigs.
	DestinationConfigs map[string]string
	// MaxWait bounds a fetch waiting for new data (default 500ms).
	MaxWait time.Duration
	// PartitionCheck is how often the source is checked for added
	// partitions (default 5s).
	PartitionCheck time.Duration
	// Partitions, when not nil, are the only partitions this engine
	// copies: several engines (instances) share a mirror's partitions.
	// Partitions added to the source are still added to the mirror
	// topic, but copied only by an engine whose Partitions include them.
	Partitions []int32
	// RetryTimeout bounds how long a failing source fetch is retried
	// before its partition stops (default 5 minutes, as Confluent's
	// cluster.link.retry.timeout.ms); an unreachable source is waited for
	// without bound.
	RetryTimeout time.Duration
	// Starts, when set, keeps each partition's start offset (from
	// StartAt) across restarts, so that a start interrupted while its
	// offsets below were being filled is finished, not taken for copied
	// data. Without it a restart during that fill resumes from where
	// the fill stopped.
	Starts StartStore
	Log    hclog.Logger
}

// StartStore keeps the offset each mirror partition started at.
type StartStore interface {
	LoadStart(partition int32) (int64, bool)
	SaveStart(ctx context.Context, partition int32, offset int64) error
}

// Engine mirrors one topic.
type Engine struct {
	cfg      Config
	log      hclog.Logger
	src, dst *partlog.Client
	// out carries the copied batches, pipelined (partlog.NewOrdered).
	out *partlog.Client

	mu       sync.Mutex
	next     map[int32]int64 // next source offset per partition
	failures map[int32]error
}

// New checks cfg; nothing is sent until Run.
func New(cfg Config) (*Engine, error) {
	switch {
	case cfg.Source == nil || cfg.Destination == nil:
		return nil, errors.New("mirror: source and destination clients are required")
	case cfg.SourceTopic == "" || cfg.DestinationTopic == "":
		return nil, errors.New("mirror: source and destination topics are required")
	case cfg.TransactionalID == "":
		return nil, errors.New("mirror: a transactional id prefix for fills is required")
	case cfg.StartAt < StartEarliest:
		return nil, fmt.Errorf("mirror: start offset spec %d: use StartEarliest, StartLatest or a timestamp", cfg.StartAt)
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 500 * time.Millisecond
	}
	if cfg.PartitionCheck <= 0 {
		cfg.PartitionCheck = 5 * time.Second
	}
	if cfg.RetryTimeout <= 0 {
		cfg.RetryTimeout = 5 * time.Minute
	}
	if cfg.DestinationConfigs == nil {
		cfg.DestinationConfigs = DefaultDestinationConfigs()
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	return &Engine{
		cfg:      cfg,
		log:      cfg.Log.With("source_topic", cfg.SourceTopic, "mirror_topic", cfg.DestinationTopic),
		src:      partlog.New(cfg.Source),
		dst:      partlog.New(cfg.Destination),
		next:     make(map[int32]int64),
		failures: make(map[int32]error),
	}, nil
}

// Run mirrors every partition until ctx ends, and partitions added to the
// source as they appear. A partition that cannot go on stops alone with its
// reason (see Failures); Run returns nil when ctx ends, or an error if
// mirroring could not start at all.
func (e *Engine) Run(ctx context.Context) error {
	parts, err := e.src.Topic(ctx, e.cfg.SourceTopic, true)
	if err != nil {
		return fmt.Errorf("mirror: source topic: %w", err)
	}
	if err := e.ensureDestination(ctx, parts.Partitions()); err != nil {
		return err
	}
	pid, epoch, err := initProducerID(ctx, e.cfg.Destination)
	if err != nil {
		return err
	}
	if e.out, err = partlog.NewOrdered(e.cfg.Destination); err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	defer e.out.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	started := int32(0)
	startUpTo := func(n int32) {
		for ; started < n; started++ {
			p := started
			if !e.mine(p) {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				pt := &partition{e: e, p: p, producerID: pid, epoch: epoch, aborted: make(map[int64]bool)}
				if err := pt.run(ctx); err != nil && ctx.Err() == nil {
					e.log.Error("mirror partition stopped; fix the cause, then restart the mirror", "partition", p, "error", err)
					e.mu.Lock()
					e.failures[p] = err
					e.mu.Unlock()
				}
			}()
		}
	}
	startUpTo(parts.Partitions())
	t := time.NewTicker(e.cfg.PartitionCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		parts, err := e.src.Topic(ctx, e.cfg.SourceTopic, true)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			e.log.Warn("cannot check the source topic's partitions; retrying", "error", err)
			continue
		}
		switch n := parts.Partitions(); {
		case n > started:
			if err := e.addPartitions(ctx, n); err != nil {
				e.log.Warn("cannot add partitions to the mirror topic; retrying", "partitions", n, "error", err)
				continue
			}
			e.log.Info("source partitions added; mirroring them", "partitions", n)
			startUpTo(n)
		case n < started:
			e.log.Error("SOURCE_PARTITIONS_DECREASED: the source topic has fewer partitions than its mirror; was it deleted and recreated?", "source", n, "mirror", started)
			e.mu.Lock()
			e.failures[TopicFailure] = fmt.Errorf("SOURCE_PARTITIONS_DECREASED: the source topic has %d partitions, its mirror %d", n, started)
			e.mu.Unlock()
		}
	}
}

// addPartitions grows the mirror topic to n partitions.
func (e *Engine) addPartitions(ctx context.Context, n int32) error {
	if t, err := e.dst.Topic(ctx, e.cfg.DestinationTopic, true); err == nil && t.Partitions() >= n {
		return nil
	}
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = e.cfg.DestinationTopic, n
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, e.cfg.Destination)
	if err != nil {
		return err
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return err
		}
	}
	for { // until the destination serves them
		if t, err := e.dst.Topic(ctx, e.cfg.DestinationTopic, true); err == nil && t.Partitions() >= n {
			return nil
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// Next returns, per partition, the next source offset to copy, which is
// also the destination's log end.
func (e *Engine) Next() map[int32]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[int32]int64, len(e.next))
	for p, o := range e.next {
		out[p] = o
	}
	return out
}

// TopicFailure is the key in Failures of a failure of the whole mirror.
const TopicFailure int32 = -1

// Failures returns the partitions that stopped, with their reasons, and
// under TopicFailure a reason that concerns every partition.
func (e *Engine) Failures() map[int32]error {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[int32]error, len(e.failures))
	for p, err := range e.failures {
		out[p] = err
	}
	return out
}

// mine tells the partitions this engine copies.
func (e *Engine) mine(p int32) bool {
	if e.cfg.Partitions == nil {
		return true
	}
	for _, q := range e.cfg.Partitions {
		if q == p {
			return true
		}
	}
	return false
}

func (e *Engine) setNext(p int32, o int64) {
	e.mu.Lock()
	e.next[p] = o
	e.mu.Unlock()
}

// ensureDestination creates the mirror topic with the source's partition
// count when it does not exist.
func (e *Engine) ensureDestination(ctx context.Context, partitions int32) error {
	if t, err := e.dst.Topic(ctx, e.cfg.DestinationTopic, true); err == nil {
		switch n := t.Partitions(); {
		case n > partitions:
			return fmt.Errorf("mirror: SOURCE_PARTITIONS_DECREASED: destination topic %s has %d partitions, source has %d", e.cfg.DestinationTopic, n, partitions)
		case n < partitions: // added while no engine ran
			return e.addPartitions(ctx, partitions)
		}
		return nil
	}
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = e.cfg.DestinationTopic, partitions, -1
	for k, v := range e.cfg.DestinationConfigs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, e.cfg.Destination)
	if err != nil {
		return fmt.Errorf("mirror: creating %s: %w", e.cfg.DestinationTopic, err)
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			msg := ""
			if t.ErrorMessage != nil {
				msg = ": " + *t.ErrorMessage
			}
			return fmt.Errorf("mirror: creating %s: %w%s", e.cfg.DestinationTopic, err, msg)
		}
	}
	// Wait until the destination serves the topic.
	for {
		if _, err := e.dst.Topic(ctx, e.cfg.DestinationTopic, true); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// initProducerID gets an idempotent producer id for the data the engine
// writes.
func initProducerID(ctx context.Context, cl *kgo.Client) (int64, int16, error) {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionTimeoutMillis = 60000
	req.ProducerID, req.ProducerEpoch = -1, -1
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("mirror: idempotent producer id: %w", err)
	}
	return resp.ProducerID, resp.ProducerEpoch, nil
}

func fillID(prefix string, p int32) string { return prefix + "-" + strconv.Itoa(int(p)) }
