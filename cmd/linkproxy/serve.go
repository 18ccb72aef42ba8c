package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/linkproxy/linkproxy/conf"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "TOML config file (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("--config is required")
	}
	cfg, err := conf.Load(*path)
	if err != nil {
		return err
	}
	log := newLogger("linkproxy", cfg.Proxy.LogLevel, stderr)
	n, err := newNode(cfg, log)
	if err != nil {
		return err
	}
	return n.run(ctx, func() {
		for _, l := range n.proxy.Listeners() {
			fmt.Fprintf(stdout, "ready listener=%s bootstrap=%s\n", l.Name(), l.BootstrapAddr())
		}
		for _, u := range n.restURLs() {
			fmt.Fprintf(stdout, "ready rest=%s\n", u)
		}
	})
}
