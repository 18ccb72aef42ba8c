package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/bench/internal/harness"
)

const adminTimeout = 30 * time.Second

// cluster is one dev cluster in its own process, with an admin client for
// making and dropping topics outside the timed phases.
type cluster struct {
	name  string
	proc  *harness.Child
	seeds []string
	cl    *kgo.Client
	adm   *kadm.Client
}

// startCluster runs `linkproxy dev-cluster` on free ports. On error the
// process is already stopped.
func startCluster(ctx context.Context, name, bin string, brokers int, logs io.Writer) (*cluster, error) {
	p, seeds, err := harness.StartDevCluster(ctx, name, bin, brokers, logs)
	if err != nil {
		return nil, err
	}
	c := &cluster{name: name, proc: p, seeds: seeds}
	if c.cl, err = kgo.NewClient(kgo.SeedBrokers(c.seeds...), kgo.ClientID("mirrorbench-admin")); err != nil {
		_ = p.Stop(harness.StopGrace)
		return nil, fmt.Errorf("%s admin client: %w", name, err)
	}
	c.adm = kadm.NewClient(c.cl)
	return c, nil
}

// close closes the admin client and stops the process.
func (c *cluster) close() error {
	c.cl.Close()
	return c.proc.Stop(harness.StopGrace)
}

func (c *cluster) createTopic(ctx context.Context, topic string, partitions int32, configs map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	var cfgs map[string]*string
	if len(configs) > 0 {
		cfgs = make(map[string]*string, len(configs))
		for k, v := range configs {
			cfgs[k] = &v
		}
	}
	resp, err := c.adm.CreateTopic(ctx, partitions, -1, cfgs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("%s: creating topic %s: %w", c.name, topic, err)
	}
	return nil
}

// deleteTopic drops topic. The dev cluster keeps every record in memory,
// so a copy's topic must go before the next copy: a heap grown round after
// round would slow later phases by the cluster's garbage collector alone.
func (c *cluster) deleteTopic(ctx context.Context, topic string) error {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	resp, err := c.adm.DeleteTopic(ctx, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("%s: deleting topic %s: %w", c.name, topic, err)
	}
	return nil
}

// endOffsets returns the log end offset of each partition of topic.
func (c *cluster) endOffsets(ctx context.Context, topic string) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	listed, err := c.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: end offsets of %s: %w", c.name, topic, err)
	}
	out := make(map[int32]int64)
	listed.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out, nil
}
