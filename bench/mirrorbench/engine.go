package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/mirror"
)

// pollEvery is how often the engine's progress is checked. It bounds how
// late the end of a copy is noticed: a few ms against phases of seconds.
const pollEvery = 5 * time.Millisecond

// destinationConfigs are the mirror's default topic configs less the
// Apache Kafka 3.6+ timestamp limits, which kfake refuses as unknown. Both
// copies' destination topics get them, so that they differ only in who
// copies.
func destinationConfigs() map[string]string {
	c := mirror.DefaultDestinationConfigs()
	delete(c, "message.timestamp.before.max.ms")
	delete(c, "message.timestamp.after.max.ms")
	return c
}

// copyWithEngine runs a mirror engine from src to the existing, empty topic
// dst until every partition's mirror reaches the source's log end.
func (b *bench) copyWithEngine(ctx context.Context, src *source, dst string) (result, error) {
	srcCl, err := kgo.NewClient(kgo.SeedBrokers(b.src.seeds...), kgo.ClientID("mirrorbench-engine"))
	if err != nil {
		return result{}, fmt.Errorf("engine source client: %w", err)
	}
	defer srcCl.Close()
	dstCl, err := kgo.NewClient(kgo.SeedBrokers(b.dst.seeds...), kgo.ClientID("mirrorbench-engine"))
	if err != nil {
		return result{}, fmt.Errorf("engine destination client: %w", err)
	}
	defer dstCl.Close()

	log := hclog.NewNullLogger()
	if b.cfg.verbose {
		log = hclog.New(&hclog.LoggerOptions{Name: "engine", Level: hclog.Warn, Output: b.errOut})
	}
	e, err := mirror.New(mirror.Config{
		Source: srcCl, Destination: dstCl,
		SourceTopic: src.topic, DestinationTopic: dst,
		StartAt: mirror.StartEarliest,
		// Unique per copy: a fill transaction of an earlier copy must not
		// fence this one.
		TransactionalID:    "mirrorbench-fill-" + dst,
		DestinationConfigs: destinationConfigs(),
		MaxWait:            100 * time.Millisecond,
		Log:                log,
	})
	if err != nil {
		return result{}, fmt.Errorf("engine: %w", err)
	}

	m, err := startMeter()
	if err != nil {
		return result{}, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Run(runCtx) }()
	// Stop the engine before returning whatever happens, so that no copy
	// goes on into the next phase's measurement.
	defer func() {
		cancel()
		<-done
	}()

	ticker := time.NewTicker(pollEvery)
	defer ticker.Stop()
	for {
		if caughtUp(e.Next(), src.ends) {
			return m.stop(src.bytes)
		}
		if f := e.Failures(); len(f) > 0 {
			return result{}, fmt.Errorf("engine: partitions stopped: %v", f)
		}
		select {
		case <-ticker.C:
		case err := <-done:
			done <- err // for the deferred wait
			if f := e.Failures(); len(f) > 0 {
				return result{}, fmt.Errorf("engine: partitions stopped: %v", f)
			}
			if err == nil {
				err = errors.New("Run returned before the copy was done")
			}
			return result{}, fmt.Errorf("engine stopped at %v of %v: %w", e.Next(), src.ends, err)
		case <-ctx.Done():
			return result{}, fmt.Errorf("engine at %v of %v: %w", e.Next(), src.ends, ctx.Err())
		}
	}
}

func caughtUp(next, ends map[int32]int64) bool {
	for p, end := range ends {
		if next[p] < end {
			return false
		}
	}
	return true
}
