package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/linkproxy/linkproxy/conf"
	"github.com/linkproxy/linkproxy/mirror/link"
	"github.com/linkproxy/linkproxy/proxy"
	"github.com/linkproxy/linkproxy/proxy/rest"
)

// node is one linkproxy: the proxy in front of the cluster, the cluster
// links whose destination is that cluster, and the REST API over them.
type node struct {
	proxy *proxy.Proxy
	links *link.Service
	rest  []net.Listener // bound at start, so that their addresses are known
	log   hclog.Logger
}

func newNode(cfg *conf.Config, log hclog.Logger) (*node, error) {
	p, err := proxy.New(cfg, log)
	if err != nil {
		return nil, err
	}
	declared := make([]link.Declared, 0, len(cfg.Links))
	for _, l := range cfg.Links {
		d := link.Declared{Name: l.Name, Configs: l.Configs}
		for _, m := range l.Mirrors {
			d.Mirrors = append(d.Mirrors, link.CreateMirror{SourceTopic: m.SourceTopic, MirrorTopic: m.MirrorTopic})
		}
		declared = append(declared, d)
	}
	var enc *link.PasswordEncoder
	if pc := cfg.Proxy; pc.PasswordEncoderSecret != "" {
		if enc, err = link.NewPasswordEncoder(pc.PasswordEncoderSecret, pc.PasswordEncoderOldSecret, pc.PasswordEncoderIterations); err != nil {
			return nil, fmt.Errorf("[proxy] password.encoder: %w", err)
		}
	}
	svc, err := link.NewService(link.Options{
		Destination:     cfg.Cluster.Props.KgoOpts(),
		Declared:        declared,
		PasswordEncoder: enc,
		Log:             log,
	})
	if err != nil {
		return nil, err
	}
	p.SetMirrorTopics(svc)
	n := &node{proxy: p, links: svc, log: log}
	for _, addr := range cfg.REST.Addrs() {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			n.closeREST()
			return nil, fmt.Errorf("rest listener %s: %w; is another linkproxy running? set [rest] listeners", addr, err)
		}
		n.rest = append(n.rest, ln)
	}
	return n, nil
}

func (n *node) closeREST() {
	for _, ln := range n.rest {
		ln.Close()
	}
}

// restURLs are the REST API's base URLs.
func (n *node) restURLs() []string {
	out := make([]string, len(n.rest))
	for i, ln := range n.rest {
		out[i] = "http://" + ln.Addr().String()
	}
	return out
}

// run runs everything until ctx ends or a part fails; ready is called once
// the proxy's listeners accept.
func (n *node) run(ctx context.Context, ready func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2+len(n.rest))
	start := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && !errors.Is(err, context.Canceled) {
				errs <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	start("cluster links", func() error { return n.links.Run(ctx) })
	srv := rest.New(n.links, n.log.Named("rest"))
	for _, ln := range n.rest {
		start("rest", func() error { return srv.Serve(ctx, ln) })
	}
	start("proxy", func() error { return n.proxy.Run(ctx, ready) })
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}
