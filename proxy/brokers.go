package proxy

import (
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/linkproxy/linkproxy/proxy/rewrite"
)

// brokers is the proxy's view of the upstream cluster: where each node id
// really is. It is fed by the metadata loop and by every response the proxy
// rewrites, so a broker that joins is known as soon as any client asks.
type brokers struct {
	seeds []string
	next  atomic.Uint32

	mu    sync.RWMutex
	addrs map[int32]string
	order []int32 // node ids, for round-robin of bootstrap connections
}

func newBrokers(seeds []string) *brokers {
	return &brokers{seeds: seeds, addrs: make(map[int32]string)}
}

// addr returns the upstream address of nodeID.
func (b *brokers) addr(nodeID int32) (string, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	a, ok := b.addrs[nodeID]
	return a, ok
}

// bootstrapAddrs returns the upstream addresses to try, in order, for a
// connection to a bootstrap port: known brokers round-robin, then the seeds.
func (b *brokers) bootstrapAddrs() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]string, 0, len(b.order)+len(b.seeds))
	start := int(b.next.Add(1))
	for i := range b.order {
		out = append(out, b.addrs[b.order[(start+i)%len(b.order)]])
	}
	return append(out, b.seeds...)
}

// observe records brokers seen in a response and returns the node ids that
// were not known before.
func (b *brokers) observe(seen []rewrite.Broker) []int32 {
	var added []int32
	for _, s := range seen {
		addr := net.JoinHostPort(s.Host, strconv.Itoa(int(s.Port)))
		b.mu.RLock()
		cur, ok := b.addrs[s.NodeID]
		b.mu.RUnlock()
		if ok && cur == addr {
			continue
		}
		b.mu.Lock()
		if _, ok := b.addrs[s.NodeID]; !ok {
			b.order = append(b.order, s.NodeID)
			added = append(added, s.NodeID)
		}
		b.addrs[s.NodeID] = addr
		b.mu.Unlock()
	}
	return added
}
