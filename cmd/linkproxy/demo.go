package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/conf"
)

const (
	demoTopic = "orders"
	demoLink  = "west-to-east"
)

// demoFlags are where the demo's two proxies listen.
type demoFlags struct {
	west, westREST             string
	eastInternal, eastExternal string
	eastREST                   string
	logLevel                   string
	every                      time.Duration
}

// demo runs two dev clusters, west and east, a linkproxy in front of
// each, a producer feeding a topic on west, and a cluster link west -> east
// created through east's REST API with the CLI, mirroring the topic; then
// it prints live progress until ctx ends.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f demoFlags
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.west, "west", "127.0.0.1:19092", "bootstrap address of west's proxy")
	fs.StringVar(&f.westREST, "west-rest", "127.0.0.1:18090", "REST API of west's proxy")
	fs.StringVar(&f.eastInternal, "east-internal", "127.0.0.1:29092", "bootstrap address of east's INTERNAL listener")
	fs.StringVar(&f.eastExternal, "east-external", "127.0.0.2:29192", "bootstrap address of east's EXTERNAL listener")
	fs.StringVar(&f.eastREST, "east-rest", "127.0.0.1:8090", "REST API of east's proxy (the CLI's default --rest-url)")
	fs.StringVar(&f.logLevel, "log-level", "warn", "proxy log level (the demo's own output goes to stdout)")
	fs.DurationVar(&f.every, "status-every", 2*time.Second, "how often to print the progress line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	fmt.Fprintf(stdout, "linkproxy demo: cluster linking from west to east\n\n")
	done := make(chan error, 2)
	var westCfg, eastCfg string
	for _, side := range []struct {
		name, id string
		cfg      *string
		toml     func(upstream string) string
	}{
		{"west", "west-cluster", &westCfg, func(up string) string {
			return demoConfig(up, f.westREST, f.logLevel, [2]string{"WEST", f.west})
		}},
		{"east", "east-cluster", &eastCfg, func(up string) string {
			return demoConfig(up, f.eastREST, f.logLevel, [2]string{"INTERNAL", f.eastInternal}, [2]string{"EXTERNAL", f.eastExternal})
		}},
	} {
		cluster, err := startDevCluster(3, "127.0.0.1:0", side.id)
		if err != nil {
			return err
		}
		defer cluster.Close()
		*side.cfg = side.toml(strings.Join(cluster.ListenAddrs(), ","))
		cfg, err := conf.Parse([]byte(*side.cfg), side.name+".toml")
		if err != nil {
			return err
		}
		n, err := newNode(cfg, newLogger("linkproxy-"+side.name, f.logLevel, stderr))
		if err != nil {
			return err
		}
		ready := make(chan struct{})
		go func() { done <- n.run(ctx, func() { close(ready) }) }()
		select {
		case <-ready:
		case err := <-done:
			return err
		}
		fmt.Fprintf(stdout, "%s: dev cluster %s (private: %s)\nlinkproxy config (%s.toml):\n%s\n\n", side.name, side.id, strings.Join(cluster.ListenAddrs(), ","), side.name, indent(*side.cfg))
	}

	if err := demoCreateTopic(ctx, f.west); err != nil {
		return err
	}
	var produced atomic.Int64
	go demoProduce(ctx, f.west, &produced)

	eastURL := "http://" + f.eastREST
	for _, cmd := range [][]string{
		{"links", "create", "--rest-url", eastURL, "--link", demoLink, "--config", "bootstrap.servers=" + f.west},
		{"mirrors", "create", "--rest-url", eastURL, "--link", demoLink, "--source-topic", demoTopic},
		{"links", "list", "--rest-url", eastURL},
	} {
		fmt.Fprintf(stdout, "$ linkproxy %s\n", strings.Join(cmd, " "))
		if code := run(ctx, cmd, stdout, stderr); code != 0 {
			return fmt.Errorf("linkproxy %s exited %d", strings.Join(cmd, " "), code)
		}
	}
	fmt.Fprintf(stdout, `
Try it yourself while this runs (kcat from Debian's kcat package):
  linkproxy mirrors describe --link %[1]s --mirror-topic %[2]s   # lag per partition
  curl -s %[3]s/kafka/v3/clusters/east-cluster/links/-/mirrors          # the same, REST v3
  kcat -b %[4]s -C -t %[2]s -o -5 -e -f '%%p/%%o %%s\n'   # source, through west's proxy
  kcat -b %[5]s -C -t %[2]s -o -5 -e -f '%%p/%%o %%s\n'   # its mirror on east: same offsets
  echo hi | kcat -b %[5]s -P -t %[2]s                      # refused: a mirror is read-only
  linkproxy mirrors promote --link %[1]s --mirror-topic %[2]s    # stop it; then produce works
Press Ctrl-C to stop.

`, demoLink, demoTopic, eastURL, f.west, f.eastExternal)

	api := &restClient{base: eastURL, http: &http.Client{}}
	t := time.NewTicker(f.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(stdout, "\nstopping")
			cancel()
			return errors.Join(<-done, <-done)
		case err := <-done:
			cancel()
			return errors.Join(err, <-done)
		case <-t.C:
			fmt.Fprintf(stdout, "%s produced=%d (on west)%s\n", time.Now().Format("15:04:05"), produced.Load(), demoProgress(ctx, api))
		}
	}
}

// demoProgress describes each mirror: records copied, lag, state.
func demoProgress(ctx context.Context, api *restClient) string {
	var list struct {
		Data []mirrorData `json:"data"`
	}
	if err := api.do(ctx, http.MethodGet, "/clusters/east-cluster/links/-/mirrors", nil, nil, &list); err != nil {
		return " | mirrors: " + err.Error()
	}
	var b strings.Builder
	for _, m := range list.Data {
		var copied, lag int64
		for _, l := range m.MirrorLags {
			copied += l.LastSourceFetchOffset
			lag += l.Lag
		}
		fmt.Fprintf(&b, " | mirror %s/%s %s copied=%d lag=%d", m.LinkName, m.MirrorTopicName, m.MirrorStatus, copied, lag)
	}
	return b.String()
}

func demoConfig(upstream, rest, level string, listeners ...[2]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[cluster]\nname = \"dev\"\n\"bootstrap.servers\" = %q\n\n[proxy]\nlog_level = %q\n\n[rest]\nlisteners = [\"http://%s\"]\n", upstream, level, rest)
	for _, l := range listeners {
		fmt.Fprintf(&b, "\n[[listener]]\nname = %q\nlisten = %q\n\"security.protocol\" = \"PLAINTEXT\"\n", l[0], l[1])
	}
	return b.String()
}

func demoCreateTopic(ctx context.Context, bootstrap string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, 3, -1, nil, demoTopic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("creating %s on west: %w", demoTopic, err)
	}
	return nil
}

// demoProduce feeds the topic through west's proxy until ctx ends.
func demoProduce(ctx context.Context, bootstrap string, produced *atomic.Int64) {
	prod, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.DefaultProduceTopic(demoTopic))
	if err != nil {
		return
	}
	defer prod.Close()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		prod.Produce(ctx, kgo.KeyStringRecord("customer-"+strconv.Itoa(i%7), "order "+strconv.Itoa(i)), func(_ *kgo.Record, err error) {
			if err == nil {
				produced.Add(1)
			}
		})
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

func human(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}
