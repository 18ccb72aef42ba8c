package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
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
