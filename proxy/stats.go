package proxy

import "sync/atomic"

// ListenerStats counts a listener's traffic since start.
type ListenerStats struct {
	Listener    string
	Open        int64 // connections open now
	Accepted    int64 // connections accepted since start
	Requests    int64
	BytesIn     int64 // request bytes from clients
	BytesOut    int64 // response bytes to clients
	Rewritten   int64 // responses whose endpoints were rewritten
	RefusedReqs int64 // requests refused (unknown API, oversized, malformed)
}

type counters struct {
	open, accepted, requests, bytesIn, bytesOut, rewritten, refused atomic.Int64
}

// Stats returns a snapshot per listener, in config order.
func (p *Proxy) Stats() []ListenerStats {
	out := make([]ListenerStats, len(p.listeners))
	for i, l := range p.listeners {
		c := p.counters[l.Name()]
		out[i] = ListenerStats{
			Listener:    l.Name(),
			Open:        c.open.Load(),
			Accepted:    c.accepted.Load(),
			Requests:    c.requests.Load(),
			BytesIn:     c.bytesIn.Load(),
			BytesOut:    c.bytesOut.Load(),
			Rewritten:   c.rewritten.Load(),
			RefusedReqs: c.refused.Load(),
		}
	}
	return out
}
