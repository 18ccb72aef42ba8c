package clients

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kgo returns a driver for franz-go (kgo + kadm).
//
// Observed records every broker the client dialed (kgo's OnBrokerConnect
// hook: seeds get NodeID -1, the others the node ID from metadata) plus
// everything Brokers returned.
func Kgo() Driver { return &kgoDriver{} }

type kgoDriver struct{ obs observer }

var _ kgo.HookBrokerConnect = (*kgoDriver)(nil)

func (*kgoDriver) Name() string         { return "kgo" }
func (*kgoDriver) Codecs() []string     { return Codecs }
func (d *kgoDriver) Observed() []Broker { return d.obs.Observed() }

// OnBrokerConnect implements kgo.HookBrokerConnect.
func (d *kgoDriver) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, _ error) {
	d.obs.add(Broker{NodeID: meta.NodeID, Host: meta.Host, Port: meta.Port})
}

func (d *kgoDriver) client(bootstrap string, opts ...kgo.Opt) (*kgo.Client, error) {
	seeds := bootstrapList(bootstrap)
	if len(seeds) == 0 {
		return nil, errors.New("kgo: empty bootstrap")
	}
	base := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.WithHooks(d),
		kgo.ClientID("linkproxy-it-kgo"),
		kgo.DialTimeout(5 * time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 100 * time.Millisecond }),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kgo: new client: %w", err)
	}
	return cl, nil
}

func kgoCodec(codec string) kgo.CompressionCodec {
	switch codec {
	case "gzip":
		return kgo.GzipCompression()
	case "snappy":
		return kgo.SnappyCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	default:
		return kgo.NoCompression()
	}
}

func (d *kgoDriver) Produce(ctx context.Context, bootstrap, topic, codec string, recs []Record) error {
	if err := checkCodec(d, codec); err != nil {
		return err
	}
	cl, err := d.client(bootstrap,
		kgo.ProducerBatchCompression(kgoCodec(codec)),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.AllowAutoTopicCreation(),
		kgo.ProducerLinger(0),
	)
	if err != nil {
		return err
	}
	defer cl.Close()

	krs := make([]*kgo.Record, 0, len(recs))
	for _, r := range recs {
		kr := &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value}
		for k, v := range r.Headers {
			kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
		}
		krs = append(krs, kr)
	}
	if err := cl.ProduceSync(ctx, krs...).FirstErr(); err != nil {
		return fmt.Errorf("kgo: produce to %s: %w", topic, err)
	}
	return nil
}

func (d *kgoDriver) ConsumeGroup(ctx context.Context, bootstrap, topic, group string, n int) ([]Record, error) {
	if n <= 0 {
		return nil, nil
	}
	cl, err := d.client(bootstrap,
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	if err != nil {
		return nil, err
	}
	defer cl.Close() // leaves the group

	var (
		out     []Record
		taken   []*kgo.Record
		lastErr error
	)
	for len(out) < n {
		fs := cl.PollRecords(ctx, n-len(out))
		if ctx.Err() != nil {
			return out, errors.Join(fmt.Errorf("kgo: consume %s: %w", topic, ctx.Err()), lastErr)
		}
		fs.EachError(func(t string, p int32, err error) {
			lastErr = fmt.Errorf("kgo: fetch %s[%d]: %w", t, p, err)
		})
		fs.EachRecord(func(kr *kgo.Record) {
			r := Record{Key: kr.Key, Value: kr.Value, Partition: kr.Partition, Offset: kr.Offset}
			if len(kr.Headers) > 0 {
				r.Headers = make(map[string]string, len(kr.Headers))
				for _, h := range kr.Headers {
					r.Headers[h.Key] = string(h.Value)
				}
			}
			out = append(out, r)
			taken = append(taken, kr)
		})
		if fs.IsClientClosed() {
			return out, errors.Join(errors.New("kgo: client closed"), lastErr)
		}
	}
	if err := cl.CommitRecords(ctx, taken...); err != nil {
		return out, fmt.Errorf("kgo: commit group %s: %w", group, err)
	}
	return out, nil
}

func (d *kgoDriver) Brokers(ctx context.Context, bootstrap string) ([]Broker, error) {
	cl, err := d.client(bootstrap)
	if err != nil {
		return nil, err
	}
	defer cl.Close()

	m, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("kgo: metadata: %w", err)
	}
	var bs []Broker
	for _, b := range m.Brokers {
		bs = append(bs, Broker{NodeID: b.NodeID, Host: b.Host, Port: b.Port})
	}

	// DescribeCluster (KIP-700) reports endpoints separately from Metadata.
	resp, err := kmsg.NewPtrDescribeClusterRequest().RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("kgo: describe cluster: %w", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, fmt.Errorf("kgo: describe cluster: %w", err)
	}
	for _, b := range resp.Brokers {
		bs = append(bs, Broker{NodeID: b.NodeID, Host: b.Host, Port: b.Port})
	}
	bs = dedupBrokers(bs)
	d.obs.add(bs...)
	return bs, nil
}

func (d *kgoDriver) CreateTopic(ctx context.Context, bootstrap, topic string, partitions int32) error {
	cl, err := d.client(bootstrap)
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("kgo: create topic %s: %w", topic, err)
	}
	return nil
}

func (d *kgoDriver) DescribeTopicConfigs(ctx context.Context, bootstrap, topic string) (map[string]string, error) {
	cl, err := d.client(bootstrap)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("kgo: describe configs %s: %w", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return nil, fmt.Errorf("kgo: describe configs %s: %w", topic, err)
	}
	out := make(map[string]string, len(rc.Configs))
	for _, c := range rc.Configs {
		if c.Value != nil {
			out[c.Key] = *c.Value
		}
	}
	return out, nil
}
