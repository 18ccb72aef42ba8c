// Package clients drives third-party Kafka clients (franz-go, Sarama, kcat,
// KafkaJS) behind one small API so that integration tests can run the same
// scenario through every client and check what each client learned about the
// cluster.
//
// The package is meant to be used from tests only. Drivers that need external
// tools (kcat, node + kafkajs) fail the test with a clear message when the tool
// is missing; run integration/install-deps.sh to install them.
package clients

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ErrUnsupported is returned (possibly wrapped) by a driver for an operation
// or option that its client cannot perform, e.g. CreateTopic with kcat or
// snappy compression with KafkaJS.
var ErrUnsupported = errors.New("clients: operation not supported by this client")

// Codecs lists the compression codec names that Produce accepts.
var Codecs = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// Record is one Kafka record as produced or consumed through a driver.
//
// Partition and Offset are filled in by ConsumeGroup; Produce ignores them
// (the client's default partitioner picks the partition).
type Record struct {
	Key       []byte
	Value     []byte
	Headers   map[string]string
	Partition int32
	Offset    int64
}

// Broker is a broker endpoint as a client learned it. NodeID is -1 when the
// client used the endpoint without knowing its node ID (a bootstrap server).
type Broker struct {
	NodeID int32
	Host   string
	Port   int32
}

// Addr returns "host:port".
func (b Broker) Addr() string {
	return net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
}

func (b Broker) String() string { return fmt.Sprintf("%d@%s", b.NodeID, b.Addr()) }

// Driver runs Kafka operations through one third-party client. Each call
// creates its own client (connection set) and closes it before returning.
// A Driver is safe for concurrent use.
type Driver interface {
	// Name is a short identifier: "kgo", "sarama", "kcat" or "kafkajs".
	Name() string

	// Codecs returns the compression codecs (subset of Codecs) that Produce
	// supports with this client.
	Codecs() []string

	// Produce sends recs to topic compressed with codec ("none", "gzip",
	// "snappy", "lz4", "zstd") and waits until every record is acknowledged
	// (acks=all). It returns an error wrapping ErrUnsupported for a codec the
	// client cannot use.
	Produce(ctx context.Context, bootstrap, topic, codec string, recs []Record) error

	// ConsumeGroup joins consumer group group, subscribes to topic (starting
	// from the earliest offset when the group has no committed offset), reads
	// until n records have arrived, commits the offsets of exactly those n
	// records and leaves the group. It returns the records read so far along
	// with ctx's error if ctx ends first.
	ConsumeGroup(ctx context.Context, bootstrap, topic, group string, n int) ([]Record, error)

	// Brokers returns the broker endpoints the client learned from the
	// cluster: Metadata and, where the client can send it, DescribeCluster.
	// The result is deduplicated and sorted by node ID, then address; it
	// includes every distinct endpoint reported for a node, so an endpoint
	// leaked by either response shows up.
	Brokers(ctx context.Context, bootstrap string) ([]Broker, error)

	// CreateTopic creates topic with the given number of partitions and the
	// broker-default replication factor. It fails if the topic exists.
	// Returns ErrUnsupported when the client has no admin API.
	CreateTopic(ctx context.Context, bootstrap, topic string, partitions int32) error

	// DescribeTopicConfigs returns the topic's configuration as name → value
	// (entries with a null value are omitted). Returns ErrUnsupported when
	// the client has no admin API.
	DescribeTopicConfigs(ctx context.Context, bootstrap, topic string) (map[string]string, error)

	// Observed returns every distinct broker endpoint this driver's clients
	// connected to, sent requests to or learned from metadata during all
	// previous calls (including the bootstrap servers, with NodeID -1 when
	// the node is unknown). What is recorded depends on the client; see the
	// driver's constructor.
	Observed() []Broker
}

// All returns every driver: Kgo, Sarama, Kcat and KafkaJS. The external ones
// fail t when their tool is missing.
func All(t testing.TB) []Driver {
	t.Helper()
	return []Driver{Kgo(), Sarama(), Kcat(t), KafkaJS(t)}
}

var (
	_ Driver = (*kgoDriver)(nil)
	_ Driver = (*saramaDriver)(nil)
	_ Driver = (*kcatDriver)(nil)
	_ Driver = (*kafkajsDriver)(nil)
)

// observer accumulates broker endpoints seen by a driver.
type observer struct {
	mu   sync.Mutex
	seen map[Broker]struct{}
}

func (o *observer) add(bs ...Broker) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = make(map[Broker]struct{})
	}
	for _, b := range bs {
		if b.NodeID < 0 {
			b.NodeID = -1
		}
		o.seen[b] = struct{}{}
	}
}

func (o *observer) addAddr(nodeID int32, addr string) {
	if b, err := parseBroker(nodeID, addr); err == nil {
		o.add(b)
	}
}

func (o *observer) Observed() []Broker {
	o.mu.Lock()
	bs := make([]Broker, 0, len(o.seen))
	for b := range o.seen {
		bs = append(bs, b)
	}
	o.mu.Unlock()
	sortBrokers(bs)
	return bs
}

// parseBroker builds a Broker from "host:port".
func parseBroker(nodeID int32, addr string) (Broker, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return Broker{}, fmt.Errorf("bad broker address %q: %w", addr, err)
	}
	p, err := strconv.ParseInt(port, 10, 32)
	if err != nil {
		return Broker{}, fmt.Errorf("bad broker port in %q: %w", addr, err)
	}
	return Broker{NodeID: nodeID, Host: host, Port: int32(p)}, nil
}

func sortBrokers(bs []Broker) {
	slices.SortFunc(bs, func(a, b Broker) int {
		if a.NodeID != b.NodeID {
			if a.NodeID < b.NodeID {
				return -1
			}
			return 1
		}
		if a.Host != b.Host {
			if a.Host < b.Host {
				return -1
			}
			return 1
		}
		return int(a.Port) - int(b.Port)
	})
}

// dedupBrokers sorts bs and removes exact duplicates.
func dedupBrokers(bs []Broker) []Broker {
	sortBrokers(bs)
	return slices.Compact(bs)
}

func checkCodec(d Driver, codec string) error {
	if slices.Contains(d.Codecs(), codec) {
		return nil
	}
	if slices.Contains(Codecs, codec) {
		return fmt.Errorf("%s: compression %q: %w", d.Name(), codec, ErrUnsupported)
	}
	return fmt.Errorf("%s: unknown compression codec %q", d.Name(), codec)
}

// bootstrapList splits a comma-separated bootstrap string.
func bootstrapList(bootstrap string) []string {
	var out []string
	for s := range strings.SplitSeq(bootstrap, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// remaining returns how long until ctx's deadline, or def if there is none,
// never less than min.
func remaining(ctx context.Context, def, minimum time.Duration) time.Duration {
	d := def
	if dl, ok := ctx.Deadline(); ok {
		d = time.Until(dl)
	}
	return max(d, minimum)
}
