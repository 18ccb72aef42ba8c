package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kfake"
)

// devCluster runs an in-process kfake cluster until ctx ends.
func devCluster(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev-cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	brokers := fs.Int("brokers", 3, "number of brokers")
	listen := fs.String("listen", "127.0.0.1:29092", "address of the first broker; the others take the next ports (port 0: any free ports)")
	clusterID := fs.String("cluster-id", "", "cluster id (default: random)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := startDevCluster(*brokers, *listen, *clusterID)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(stdout, "ready bootstrap=%s\n", strings.Join(c.ListenAddrs(), ","))
	<-ctx.Done()
	return nil
}

// startDevCluster starts n kfake brokers on consecutive ports from listen.
func startDevCluster(n int, listen, clusterID string) (*kfake.Cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("--brokers %d: need at least one broker", n)
	}
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port+n-1 > 65535 {
		return nil, fmt.Errorf("--listen %q: port must leave room for %d brokers below 65536", listen, n)
	}
	ports := make([]int, n)
	if port != 0 {
		for i := range ports {
			ports[i] = port + i
		}
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(n),
		kfake.Ports(ports...),
		// Apache Kafka's default auto.create.topics.enable=true.
		kfake.AllowAutoTopicCreation(),
		// kfake binds 127.0.0.1; honour the host asked for.
		kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			_, p, _ := net.SplitHostPort(addr)
			return net.Listen(network, net.JoinHostPort(host, p))
		}),
	}
	if clusterID != "" {
		opts = append(opts, kfake.ClusterID(clusterID))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting dev cluster: %w", err)
	}
	return c, nil
}
