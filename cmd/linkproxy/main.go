// Command linkproxy is a Kafka-protocol proxy for the network edge that
// brings cluster linking to any Kafka-protocol cluster.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"
)

const usage = `linkproxy: a Kafka-protocol edge proxy with cluster linking

Usage:
  linkproxy serve --config FILE                     run the proxy
  linkproxy dev-cluster [--brokers N] [--listen HOST:PORT]
                                                    run an in-process Kafka cluster for development
  linkproxy demo                                    a dev cluster and a proxy with two listeners, live
  linkproxy links create|list|describe|delete|configs [flags]
                                                    manage cluster links over the REST API
  linkproxy mirrors create|list|describe|promote|failover|pause|resume [flags]
                                                    manage mirror topics over the REST API
  linkproxy scram --user NAME [--mechanism SCRAM-SHA-512] [--iterations 4096] [--password-file FILE]
                                                    print a SASL credentials file entry

Run "linkproxy COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs one command until it finishes or ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "dev-cluster":
		err = devCluster(ctx, args[1:], stdout, stderr)
	case "demo":
		err = demo(ctx, args[1:], stdout, stderr)
	case "links":
		return links(ctx, args[1:], stdout, stderr)
	case "mirrors":
		return mirrors(ctx, args[1:], stdout, stderr)
	case "scram":
		err = scramCmd(args[1:], os.Stdin, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "linkproxy: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "linkproxy %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func newLogger(name, level string, w io.Writer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:   name,
		Level:  hclog.LevelFromString(level),
		Output: w,
	})
}
