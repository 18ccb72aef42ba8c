package clientprops

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKgoOptsAccepted checks that the bounds clientprops enforces are the
// ones franz-go enforces: every accepted extreme makes a valid client.
func TestKgoOptsAccepted(t *testing.T) {
	for _, props := range []map[string]any{
		{},
		{"metadata.max.age.ms": "10", "connections.max.idle.ms": "100", "request.timeout.ms": "100"},
		{"metadata.max.age.ms": "3600000", "connections.max.idle.ms": "900000", "request.timeout.ms": "900000"},
		{"retry.backoff.ms": "0", "retry.backoff.max.ms": "0", "client.id": ""},
	} {
		props["bootstrap.servers"] = "127.0.0.1:1"
		cl, err := kgo.NewClient(mustParse(t, props).KgoOpts()...)
		if err != nil {
			t.Errorf("%v: %v", props, err)
			continue
		}
		cl.Close()
	}
}

// TestKgoOptsPing runs a franz-go client, dialing through Dialer, against an
// in-process fake cluster.
func TestKgoOptsPing(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := mustParse(t, map[string]any{"bootstrap.servers": c.ListenAddrs(), "client.id": "clientprops-test"})
	cl, err := kgo.NewClient(p.KgoOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}
