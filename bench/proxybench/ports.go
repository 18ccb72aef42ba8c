package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// freePortRun returns a base port such that base..base+n-1 are all free on
// host right now.
//
// The proxy needs consecutive ports that it binds itself (bootstrap, then
// one per broker), so the bench cannot hand it listeners; it can only pick
// ports that are free and hope they stay so. Picking below the kernel's
// ephemeral range makes that likely: outgoing connections, which are
// plentiful during a bench, never take ports from there.
func freePortRun(host string, n int) (int, error) {
	lo, hi := 20000, 30000
	if elo, _, err := localPortRange(); err == nil && elo-n > 10000 {
		lo, hi = 10000, elo-n
	}
	var lastErr error
	for range 100 {
		base := lo + rand.IntN(hi-lo)
		if err := tryPorts(host, base, n); err != nil {
			lastErr = err
			continue
		}
		return base, nil
	}
	return 0, fmt.Errorf("no %d consecutive free ports on %s in [%d, %d): %w", n, host, lo, hi, lastErr)
}

func tryPorts(host string, base, n int) error {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for i := range n {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(base+i)))
		if err != nil {
			return err
		}
		lns = append(lns, ln)
	}
	if len(lns) == 0 {
		return errors.New("no ports asked for")
	}
	return nil
}

// localPortRange returns the kernel's ephemeral port range. Elsewhere than on
// Linux it fails, and freePortRun falls back to a range of its own.
func localPortRange() (lo, hi int, err error) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("ip_local_port_range: unexpected %q", b)
	}
	if lo, err = strconv.Atoi(f[0]); err != nil {
		return 0, 0, fmt.Errorf("ip_local_port_range: %w", err)
	}
	if hi, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, fmt.Errorf("ip_local_port_range: %w", err)
	}
	return lo, hi, nil
}
