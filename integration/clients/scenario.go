package clients

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// Target is where a scenario runs: the address the driver dials and what
// the test sees of the cluster behind it.
type Target struct {
	Bootstrap string
	// Brokers are the endpoints the driver must learn, one per node.
	Brokers []Broker
	// Allowed is every address the driver may dial or learn.
	Allowed []string
	// Admin talks to the cluster directly, to verify.
	Admin *kadm.Client
	// Spy is installed on the cluster's Produce handling.
	Spy *CodecSpy
}

// stepTimeout bounds each step of a driver test. Steps take well under a
// second on an idle machine; the margin is for loaded CI machines.
const stepTimeout = 40 * time.Second

func stepContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), stepTimeout)
	t.Cleanup(cancel)
	return ctx
}

// RunScenario drives d against tg: brokers learned, produce with every
// codec (checking the batches' real codec), consume in a group with
// committed offsets, a consume that times out, admin calls, and finally
// that every endpoint the client dialed or learned is one of tg's.
func RunScenario(t *testing.T, d Driver, tg Target) {
	c := tg

	t.Run("brokers", func(t *testing.T) {
		ctx := stepContext(t)
		bs, err := d.Brokers(ctx, c.Bootstrap)
		if err != nil {
			t.Fatal(err)
		}
		want := c.Brokers
		if !slices.Equal(bs, want) {
			t.Errorf("brokers = %v, want %v", bs, want)
		}
	})

	for _, codec := range Codecs {
		t.Run("codec-"+codec, func(t *testing.T) {
			ctx := stepContext(t)
			topic, group := "codec-"+codec, "group-"+codec
			recs := SampleRecords(codec)
			c.Spy.Take()
			err := d.Produce(ctx, c.Bootstrap, topic, codec, recs)
			if !slices.Contains(d.Codecs(), codec) {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("produce with unsupported codec: err = %v, want ErrUnsupported", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantCodec := codec
			if slices.Contains(UncompressedByClient[d.Name()], codec) {
				wantCodec = "none"
			}
			if got := c.Spy.Take(); !slices.Equal(got, []string{wantCodec}) {
				t.Errorf("batches arrived with codecs %v, want [%s]", got, wantCodec)
			}

			got, err := d.ConsumeGroup(ctx, c.Bootstrap, topic, group, len(recs))
			if err != nil {
				t.Fatal(err)
			}
			SameRecords(t, recs, got)
			CheckPositions(t, got, 3)
			if n := committedTotal(ctx, t, c.Admin, group, topic); n != int64(len(recs)) {
				t.Errorf("group %s committed %d records of %s, want %d", group, n, topic, len(recs))
			}
		})
	}

	t.Run("consume-timeout", func(t *testing.T) {
		ctx := stepContext(t)
		// Asking for more records than exist: the call must stop at
		// ctx's deadline and return what it read.
		recs := SampleRecords("none")[:2]
		if err := d.Produce(ctx, c.Bootstrap, "timeout", "none", recs); err != nil {
			t.Fatal(err)
		}
		tctx, tcancel := context.WithTimeout(ctx, 5*time.Second)
		defer tcancel()
		start := time.Now()
		got, err := d.ConsumeGroup(tctx, c.Bootstrap, "timeout", "group-timeout", len(recs)+1)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded", err)
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("ConsumeGroup took %v with a 5s deadline", el)
		}
		// Normally both records arrive well before the deadline, but a
		// loaded machine may delay the group join: only require that
		// what came back is what was produced.
		if len(got) < len(recs) {
			t.Logf("only %d of %d records before the deadline", len(got), len(recs))
			for _, r := range got {
				if !slices.ContainsFunc(recs, func(w Record) bool { return string(w.Value) == string(r.Value) }) {
					t.Errorf("unexpected record %q", r.Value)
				}
			}
		} else {
			SameRecords(t, recs, got)
		}
	})

	t.Run("admin", func(t *testing.T) {
		ctx := stepContext(t)
		topic := "created-by-" + d.Name()
		err := d.CreateTopic(ctx, c.Bootstrap, topic, 4)
		if errors.Is(err, ErrUnsupported) {
			t.Logf("CreateTopic: %v", err)
		} else {
			if err != nil {
				t.Fatal(err)
			}
			td, err := c.Admin.ListTopics(ctx, topic)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(td[topic].Partitions); n != 4 {
				t.Errorf("created topic has %d partitions, want 4", n)
			}
			if err := d.CreateTopic(ctx, c.Bootstrap, topic, 4); err == nil {
				t.Error("creating an existing topic succeeded")
			}
		}

		// A topic with an explicit config, created out of band.
		cfgTopic := "configured"
		retention := "123456"
		resp, err := c.Admin.CreateTopic(ctx, 1, -1, map[string]*string{"retention.ms": &retention}, cfgTopic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatal(err)
		}
		cfgs, err := d.DescribeTopicConfigs(ctx, c.Bootstrap, cfgTopic)
		if errors.Is(err, ErrUnsupported) {
			t.Logf("DescribeTopicConfigs: %v", err)
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := cfgs["retention.ms"]; got != retention {
			t.Errorf("retention.ms = %q, want %q (all: %v)", got, retention, cfgs)
		}
	})

	// Everything the client talked to or learned must be a kfake listener.
	obs := d.Observed()
	if len(obs) == 0 {
		t.Error("Observed() is empty")
	}
	checkAddrs(t, "observed", obs, c.Allowed)
	t.Logf("observed: %v", obs)
}

// committedTotal sums the group's committed offsets for topic. On a fresh
// topic that equals the number of records the group consumed.
func committedTotal(ctx context.Context, t *testing.T, adm *kadm.Client, group, topic string) int64 {
	t.Helper()
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets %s: %v", group, err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil && o.At > 0 {
			sum += o.At
		}
	})
	return sum
}

func checkAddrs(t *testing.T, what string, bs []Broker, allowed []string) {
	t.Helper()
	for _, b := range bs {
		if !slices.Contains(allowed, b.Addr()) {
			t.Errorf("%s: endpoint %v is not a target endpoint %v", what, b, allowed)
		}
	}
}
