package clients

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
)

// SaramaVersion is the Kafka protocol version the Sarama driver announces
// (Config.Version): the newest one Sarama v1.61 knows. kfake emulates Kafka
// 4.4, so every request version Sarama picks for it is served.
var SaramaVersion = sarama.V4_3_1_0

// Sarama returns a driver for IBM/sarama.
//
// Sarama's API is not context-aware: the driver runs each call in a goroutine
// and returns ctx's error as soon as ctx ends, closing the client; Sarama's
// own network timeouts (at most 10s) bound the abandoned goroutine.
//
// Observed records the bootstrap servers (NodeID -1) and the brokers the
// client knew from metadata (client.Brokers()) at the end of every call, plus
// everything Brokers returned.
func Sarama() Driver { return &saramaDriver{} }

type saramaDriver struct{ obs observer }

func (*saramaDriver) Name() string         { return "sarama" }
func (*saramaDriver) Codecs() []string     { return Codecs }
func (d *saramaDriver) Observed() []Broker { return d.obs.Observed() }

func saramaCodec(codec string) sarama.CompressionCodec {
	switch codec {
	case "gzip":
		return sarama.CompressionGZIP
	case "snappy":
		return sarama.CompressionSnappy
	case "lz4":
		return sarama.CompressionLZ4
	case "zstd":
		return sarama.CompressionZSTD
	default:
		return sarama.CompressionNone
	}
}

func (d *saramaDriver) config() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = SaramaVersion
	cfg.ClientID = "linkproxy-it-sarama"
	cfg.Net.DialTimeout = 5 * time.Second
	cfg.Net.ReadTimeout = 10 * time.Second
	cfg.Net.WriteTimeout = 10 * time.Second
	cfg.Metadata.Retry.Max = 20
	cfg.Metadata.Retry.Backoff = 100 * time.Millisecond
	cfg.Metadata.AllowAutoTopicCreation = true
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Retry.Backoff = 100 * time.Millisecond
	cfg.Producer.Retry.Max = 20
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.Retry.Backoff = 100 * time.Millisecond
	cfg.Consumer.MaxWaitTime = 100 * time.Millisecond
	cfg.Consumer.Group.Rebalance.Retry.Backoff = 200 * time.Millisecond
	cfg.Admin.Timeout = 10 * time.Second
	cfg.Admin.Retry.Backoff = 100 * time.Millisecond
	return cfg
}

type saramaResult[T any] struct {
	v   T
	err error
}

// saramaRun creates a client and calls fn with it in a goroutine. It returns
// fn's result, or ctx's error as soon as ctx ends (closing the client to make
// fn's pending requests fail). With ctxAware, fn itself watches ctx, and
// saramaRun waits for it (a few seconds at most) so that fn's partial result
// is returned.
func saramaRun[T any](ctx context.Context, d *saramaDriver, bootstrap string, ctxAware bool, tweak func(*sarama.Config), fn func(sarama.Client) (T, error)) (T, error) {
	var zero T
	seeds := bootstrapList(bootstrap)
	if len(seeds) == 0 {
		return zero, errors.New("sarama: empty bootstrap")
	}
	for _, s := range seeds {
		d.obs.addAddr(-1, s)
	}
	cfg := d.config()
	if tweak != nil {
		tweak(cfg)
	}
	if err := cfg.Validate(); err != nil {
		return zero, fmt.Errorf("sarama: config: %w", err)
	}

	clCh := make(chan sarama.Client, 1)
	done := make(chan saramaResult[T], 1)
	go func() {
		cl, err := sarama.NewClient(seeds, cfg)
		if err != nil {
			done <- saramaResult[T]{err: fmt.Errorf("sarama: new client: %w", err)}
			return
		}
		clCh <- cl
		v, err := fn(cl)
		for _, b := range cl.Brokers() {
			d.obs.addAddr(b.ID(), b.Addr())
		}
		_ = cl.Close()
		done <- saramaResult[T]{v, err}
	}()

	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
	}
	if ctxAware {
		select {
		case r := <-done:
			return r.v, r.err
		case <-time.After(5 * time.Second):
		}
	}
	select {
	case cl := <-clCh:
		_ = cl.Close()
	default:
	}
	return zero, fmt.Errorf("sarama: %w", ctx.Err())
}

func (d *saramaDriver) Produce(ctx context.Context, bootstrap, topic, codec string, recs []Record) error {
	if err := checkCodec(d, codec); err != nil {
		return err
	}
	tweak := func(cfg *sarama.Config) { cfg.Producer.Compression = saramaCodec(codec) }
	_, err := saramaRun(ctx, d, bootstrap, false, tweak, func(cl sarama.Client) (struct{}, error) {
		p, err := sarama.NewSyncProducerFromClient(cl)
		if err != nil {
			return struct{}{}, fmt.Errorf("sarama: new producer: %w", err)
		}
		msgs := make([]*sarama.ProducerMessage, 0, len(recs))
		for _, r := range recs {
			m := &sarama.ProducerMessage{Topic: topic}
			if r.Key != nil {
				m.Key = sarama.ByteEncoder(r.Key)
			}
			if r.Value != nil {
				m.Value = sarama.ByteEncoder(r.Value)
			}
			for k, v := range r.Headers {
				m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(k), Value: []byte(v)})
			}
			msgs = append(msgs, m)
		}
		err = p.SendMessages(msgs)
		if cerr := p.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return struct{}{}, fmt.Errorf("sarama: produce to %s: %w", topic, err)
		}
		return struct{}{}, nil
	})
	return err
}

type saramaMsg struct {
	sess sarama.ConsumerGroupSession
	m    *sarama.ConsumerMessage
}

// saramaHandler forwards every claimed message to msgs.
type saramaHandler struct{ msgs chan saramaMsg }

func (*saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (*saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *saramaHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for {
		select {
		case m, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			select {
			case h.msgs <- saramaMsg{sess, m}:
			case <-sess.Context().Done():
				return nil
			}
		case <-sess.Context().Done():
			return nil
		}
	}
}

func (d *saramaDriver) ConsumeGroup(ctx context.Context, bootstrap, topic, group string, n int) ([]Record, error) {
	if n <= 0 {
		return nil, nil
	}
	return saramaRun(ctx, d, bootstrap, true, nil, func(cl sarama.Client) ([]Record, error) {
		g, err := sarama.NewConsumerGroupFromClient(group, cl)
		if err != nil {
			return nil, fmt.Errorf("sarama: new consumer group: %w", err)
		}
		defer g.Close() // leaves the group

		cctx, cancel := context.WithCancel(ctx)
		defer cancel()

		var (
			errCh   = make(chan error, 16)
			h       = &saramaHandler{msgs: make(chan saramaMsg)}
			loopEnd = make(chan struct{})
		)
		go func() { // async errors (fetch, commit)
			for err := range g.Errors() {
				select {
				case errCh <- err:
				default:
				}
			}
		}()
		go func() {
			defer close(loopEnd)
			for cctx.Err() == nil {
				if err := g.Consume(cctx, []string{topic}, h); err != nil {
					select {
					case errCh <- err:
					default:
					}
					if errors.Is(err, sarama.ErrClosedConsumerGroup) {
						return
					}
					select {
					case <-time.After(100 * time.Millisecond):
					case <-cctx.Done():
					}
				}
			}
		}()

		var (
			lastErr error
			sess    sarama.ConsumerGroupSession
			local   []Record
		)
		for len(local) < n {
			select {
			case sm := <-h.msgs:
				m := sm.m
				r := Record{Key: m.Key, Value: m.Value, Partition: m.Partition, Offset: m.Offset}
				if len(m.Headers) > 0 {
					r.Headers = make(map[string]string, len(m.Headers))
					for _, hd := range m.Headers {
						r.Headers[string(hd.Key)] = string(hd.Value)
					}
				}
				local = append(local, r)
				sm.sess.MarkMessage(m, "")
				sess = sm.sess
			case err := <-errCh:
				lastErr = err
			case <-ctx.Done():
				cancel()
				<-loopEnd
				return local, errors.Join(fmt.Errorf("sarama: consume %s: %w", topic, ctx.Err()), lastErr)
			}
		}
		// Errors from before are transient ones Sarama retried past.
		for drained := false; !drained; {
			select {
			case <-errCh:
			default:
				drained = true
			}
		}
		sess.Commit() // synchronous; failures are reported on g.Errors()
		cancel()
		<-loopEnd
		select {
		case err := <-errCh:
			if !errors.Is(err, context.Canceled) {
				return local, fmt.Errorf("sarama: group %s: commit: %w", group, err)
			}
		default:
		}
		return local, nil
	})
}

// The client's metadata brokers plus the DescribeCluster answer (Sarama uses
// the DescribeCluster API for Version >= 2.8).
func (d *saramaDriver) Brokers(ctx context.Context, bootstrap string) ([]Broker, error) {
	bs, err := saramaRun(ctx, d, bootstrap, false, nil, func(cl sarama.Client) ([]Broker, error) {
		if err := cl.RefreshMetadata(); err != nil {
			return nil, fmt.Errorf("sarama: metadata: %w", err)
		}
		var local []Broker
		for _, b := range cl.Brokers() {
			br, err := parseBroker(b.ID(), b.Addr())
			if err != nil {
				return nil, fmt.Errorf("sarama: %w", err)
			}
			local = append(local, br)
		}
		adm, err := sarama.NewClusterAdminFromClient(cl)
		if err != nil {
			return nil, fmt.Errorf("sarama: new admin: %w", err)
		}
		dbs, _, err := adm.DescribeCluster()
		if err != nil {
			return nil, fmt.Errorf("sarama: describe cluster: %w", err)
		}
		for _, b := range dbs {
			br, err := parseBroker(b.ID(), b.Addr())
			if err != nil {
				return nil, fmt.Errorf("sarama: %w", err)
			}
			local = append(local, br)
		}
		return dedupBrokers(local), nil
	})
	if err != nil {
		return nil, err
	}
	d.obs.add(bs...)
	return bs, nil
}

func (d *saramaDriver) CreateTopic(ctx context.Context, bootstrap, topic string, partitions int32) error {
	_, err := saramaRun(ctx, d, bootstrap, false, nil, func(cl sarama.Client) (struct{}, error) {
		adm, err := sarama.NewClusterAdminFromClient(cl)
		if err != nil {
			return struct{}{}, fmt.Errorf("sarama: new admin: %w", err)
		}
		detail := &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: -1}
		if err := adm.CreateTopic(topic, detail, false); err != nil {
			return struct{}{}, fmt.Errorf("sarama: create topic %s: %w", topic, err)
		}
		return struct{}{}, nil
	})
	return err
}

func (d *saramaDriver) DescribeTopicConfigs(ctx context.Context, bootstrap, topic string) (map[string]string, error) {
	return saramaRun(ctx, d, bootstrap, false, nil, func(cl sarama.Client) (map[string]string, error) {
		adm, err := sarama.NewClusterAdminFromClient(cl)
		if err != nil {
			return nil, fmt.Errorf("sarama: new admin: %w", err)
		}
		entries, err := adm.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
		if err != nil {
			return nil, fmt.Errorf("sarama: describe configs %s: %w", topic, err)
		}
		out := make(map[string]string, len(entries))
		for _, e := range entries {
			out[e.Name] = e.Value
		}
		return out, nil
	})
}
