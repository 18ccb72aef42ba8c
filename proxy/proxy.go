package proxy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/linkproxy/linkproxy/conf"
	"github.com/linkproxy/linkproxy/conf/clientprops"
	"github.com/linkproxy/linkproxy/listeners"
	"github.com/linkproxy/linkproxy/proxy/rewrite"
	"github.com/linkproxy/linkproxy/proxy/wire"
)

// Proxy fronts one Kafka cluster on one or more listeners.
type Proxy struct {
	cfg       *conf.Config
	log       hclog.Logger
	apis      *apis
	pool      wire.Pool
	brokers   *brokers
	listeners []*listeners.Listener
	dial      func(ctx context.Context, network, addr string) (net.Conn, *clientprops.Session, error)
	admin     *kgo.Client

	counters map[string]*counters     // by listener name, fixed at New
	guard    guardState               // the mirror-topic guard (guard.go)
	sasl     map[string]*saslListener // SASL listeners by name (sasl.go)
	saslLogs refusalLog
	// verify bounds the PLAIN and SCRAM verifications running at once
	// (sasl.go): PLAIN derives a PBKDF2 key per attempt, and a flood of
	// logins must not starve the data path of CPU.
	verify chan struct{}
	// apiVersions is what the upstream brokers answer ApiVersions with,
	// kept fresh by metadataLoop: SASL listeners answer it before a client
	// authenticates, with no upstream connection (sasl.go).
	apiVersions atomic.Pointer[apiVersionsCache]

	ctx     context.Context
	mu      sync.Mutex
	clients map[*client]struct{}
	closing bool
}

// New builds a proxy from cfg; nothing is bound or dialed until Run.
func New(cfg *conf.Config, log hclog.Logger) (*Proxy, error) {
	sl, err := saslListeners(cfg, log)
	if err != nil {
		return nil, err
	}
	cfg.Cluster.Props.SetLogger(log.With("cluster", cfg.Cluster.Name))
	admin, err := kgo.NewClient(cfg.Cluster.Props.KgoOpts()...)
	if err != nil {
		return nil, fmt.Errorf("upstream client for cluster %s: %w", cfg.Cluster.Name, err)
	}
	p := &Proxy{
		cfg:      cfg,
		log:      log,
		apis:     newAPIs(cfg.Proxy.PassthroughAPIKeys),
		brokers:  newBrokers(cfg.Cluster.Props.List("bootstrap.servers")),
		dial:     cfg.Cluster.Props.SessionDialer(),
		admin:    admin,
		clients:  make(map[*client]struct{}),
		counters: make(map[string]*counters),
		sasl:     sl,
		verify:   make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)),
	}
	for _, l := range cfg.Listeners {
		p.listeners = append(p.listeners, listeners.New(l, log))
		p.counters[l.Name] = new(counters)
	}
	return p, nil
}

// Listeners returns the proxy's listeners, in config order.
func (p *Proxy) Listeners() []*listeners.Listener { return p.listeners }

// Run binds every listener, calls ready once they all accept connections,
// and serves until ctx ends; then it closes every connection and returns.
func (p *Proxy) Run(ctx context.Context, ready func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p.ctx = ctx

	// Readiness does not wait for the upstream cluster: a client learns
	// broker ports only from metadata that passes through the proxy, and
	// rewriting it binds each port it hands out. Known brokers get their
	// ports from the first metadata refresh, right away.
	for _, l := range p.listeners {
		if err := l.Start(p.handle); err != nil {
			p.shutdown()
			p.admin.Close()
			return err
		}
	}
	if ready != nil {
		ready()
	}

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.metadataLoop(ctx) }()
	go func() { defer wg.Done(); p.idleLoop(ctx) }()
	wg.Go(func() { runSASL(ctx, p.sasl) })
	<-ctx.Done()
	p.shutdown()
	// kgo waits for the answer to a request already written whatever its
	// context says; closing the client is what interrupts it.
	p.admin.Close()
	wg.Wait()
	p.cfg.Cluster.Props.Close()
	return nil
}

func (p *Proxy) shutdown() {
	for _, l := range p.listeners {
		l.Close()
	}
	p.mu.Lock()
	p.closing = true
	cls := make([]*client, 0, len(p.clients))
	for c := range p.clients {
		cls = append(cls, c)
	}
	p.mu.Unlock()
	for _, c := range cls {
		c.close("proxy shutting down")
	}
	for _, l := range p.listeners {
		l.Wait()
	}
}

func (p *Proxy) track(c *client) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	p.clients[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c *client) {
	p.mu.Lock()
	delete(p.clients, c)
	p.mu.Unlock()
}

// dialUpstream connects to the broker a client port stands for, or for a
// bootstrap port to the first reachable broker. With SASL the connection
// is authenticated as the proxy, and the session says when it must
// re-authenticate (upstream.go).
func (p *Proxy) dialUpstream(ctx context.Context, nodeID int32) (net.Conn, *clientprops.Session, error) {
	if nodeID != listeners.Bootstrap {
		addr, ok := p.brokers.addr(nodeID)
		if !ok {
			return nil, nil, fmt.Errorf("broker %d is not in the cluster's metadata", nodeID)
		}
		return p.dial(ctx, "tcp", addr)
	}
	var errs []error
	for _, addr := range p.brokers.bootstrapAddrs() {
		c, s, err := p.dial(ctx, "tcp", addr)
		if err == nil {
			return c, s, nil
		}
		errs = append(errs, err)
	}
	return nil, nil, errors.Join(errs...)
}

// observe learns brokers from a response and gives new ones a port on
// every listener.
func (p *Proxy) observe(seen []rewrite.Broker) {
	if len(seen) == 0 {
		return
	}
	for _, n := range p.brokers.observe(seen) {
		p.log.Info("upstream broker discovered", "node", n)
		for _, l := range p.listeners {
			_ = l.EnsureBroker(n) // the listener logs why it cannot
		}
	}
}

func (p *Proxy) refreshMetadata(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Cluster.Props.Duration("request.timeout.ms"))
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{}
	resp, err := req.RequestWith(ctx, p.admin)
	if err != nil {
		return fmt.Errorf("metadata from %s: %w", p.cfg.Cluster.Name, err)
	}
	seen := make([]rewrite.Broker, 0, len(resp.Brokers))
	for _, b := range resp.Brokers {
		seen = append(seen, rewrite.Broker{NodeID: b.NodeID, Host: b.Host, Port: b.Port, Rack: b.Rack})
	}
	p.observe(seen)
	nodes := make([]int32, 0, len(resp.Brokers))
	for _, b := range resp.Brokers {
		nodes = append(nodes, b.NodeID)
	}
	p.refreshApiVersions(ctx, resp.ClusterID, nodes)
	return nil
}

// apiVersionsCache holds each upstream broker's answer to ApiVersions at
// the newest version both it and the proxy know.
type apiVersionsCache struct {
	byNode map[int32]*upstreamApiVersions
	any    int32 // the lowest node cached: what answers on bootstrap ports
}

// upstreamApiVersions is one broker's ApiVersions answer, and who
// answered: ApiVersions v5+ requests name the cluster and node they
// expect (KIP-1242).
type upstreamApiVersions struct {
	resp    *kmsg.ApiVersionsResponse
	node    int32
	cluster *string
}

// cachedApiVersions is the ApiVersions answer of the broker a client port
// stands for (any broker's for a bootstrap port), nil when the proxy has
// none: the cluster was not reached since start.
func (p *Proxy) cachedApiVersions(nodeID int32) *upstreamApiVersions {
	c := p.apiVersions.Load()
	if c == nil {
		return nil
	}
	if nodeID == listeners.Bootstrap {
		nodeID = c.any
	}
	return c.byNode[nodeID]
}

// refreshApiVersions asks every broker in the metadata for its
// ApiVersions. A broker that does not answer keeps its previous answer:
// the API list changes only when a broker is upgraded, and a client port
// of an unreachable broker cannot dial it anyway.
func (p *Proxy) refreshApiVersions(ctx context.Context, cluster *string, nodes []int32) {
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		fresh = make(map[int32]*upstreamApiVersions, len(nodes))
	)
	for _, n := range nodes {
		wg.Go(func() {
			req := kmsg.NewPtrApiVersionsRequest()
			// Required from v3; Kafka checks them against its pattern.
			req.ClientSoftwareName, req.ClientSoftwareVersion = "linkproxy", "1"
			resp, err := p.admin.Broker(int(n)).Request(ctx, req)
			if err == nil {
				r := resp.(*kmsg.ApiVersionsResponse)
				if err = kerr.ErrorForCode(r.ErrorCode); err == nil {
					mu.Lock()
					fresh[n] = &upstreamApiVersions{resp: r, node: n, cluster: cluster}
					mu.Unlock()
					return
				}
			}
			p.log.Debug("upstream ApiVersions not refreshed; SASL listeners answer with the broker's previous answer, or dial it before authentication if there is none",
				"cluster", p.cfg.Cluster.Name, "broker", n, "error", err)
		})
	}
	wg.Wait()
	old := p.apiVersions.Load()
	for _, n := range nodes {
		if _, ok := fresh[n]; !ok && old != nil && old.byNode[n] != nil {
			fresh[n] = old.byNode[n]
		}
	}
	if len(fresh) == 0 {
		return
	}
	c := &apiVersionsCache{byNode: fresh, any: slices.Min(slices.Collect(maps.Keys(fresh)))}
	if old == nil {
		p.log.Debug("upstream ApiVersions cached: SASL listeners now authenticate clients before dialing the upstream", "cluster", p.cfg.Cluster.Name, "brokers", len(fresh))
	}
	p.apiVersions.Store(c)
}

// metadataLoop keeps the broker directory fresh every metadata.max.age.ms,
// retrying sooner while the cluster is unreachable.
func (p *Proxy) metadataLoop(ctx context.Context) {
	every := p.cfg.Cluster.Props.Duration("metadata.max.age.ms")
	backoff := p.cfg.Cluster.Props.Duration("retry.backoff.ms")
	backoffMax := p.cfg.Cluster.Props.Duration("retry.backoff.max.ms")
	failures := 0
	var wait time.Duration // the first refresh runs at once
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if err := p.refreshMetadata(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, clientprops.ErrAuthentication) {
				p.log.Error("upstream SASL authentication failed; retrying; check sasl.mechanism and the credentials in sasl.jaas.config of [cluster]",
					"cluster", p.cfg.Cluster.Name, "error", err)
			} else {
				p.log.Warn("upstream metadata refresh failed; bootstrap ports keep serving through bootstrap.servers, retrying; check that the cluster is up and reachable",
					"cluster", p.cfg.Cluster.Name, "error", err)
			}
			wait = clientprops.Backoff(backoff, backoffMax, failures)
			failures++
			continue
		}
		failures, wait = 0, every
	}
}

// idleLoop closes connections idle for connections.max.idle.ms, as a
// broker does; a connection awaiting a response is never idle.
func (p *Proxy) idleLoop(ctx context.Context) {
	idle := p.cfg.Proxy.ConnectionsMaxIdle
	tick := min(max(idle/4, 10*time.Millisecond), 10*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			cutoff := now.Add(-idle)
			p.mu.Lock()
			var idlers []*client
			for c := range p.clients {
				if c.idleSince(cutoff) {
					idlers = append(idlers, c)
				}
			}
			p.mu.Unlock()
			for _, c := range idlers {
				c.close(fmt.Sprintf("idle for connections.max.idle.ms (%s)", idle))
			}
		}
	}
}
