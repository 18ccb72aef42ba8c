package link

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// linkRun is a running link: its source connection and availability.
type linkRun struct {
	rec    linkRecord
	cfg    *Config
	src    *kgo.Client
	log    hclog.Logger
	cancel context.CancelFunc
	loops  sync.WaitGroup
	done   chan struct{} // closed when the loops have stopped

	mu       sync.Mutex
	checked  bool // an availability check has finished
	failures int
	state    State
	err, msg string
	srcID    string
}

// startLink connects to the source (lazily, as kgo does) and checks its
// availability every availability.check.ms.
func startLink(ctx context.Context, rec linkRecord, own string, log hclog.Logger, syncConfigs func(context.Context, *linkRun)) (*linkRun, error) {
	cfg, err := parseStored(rec.Configs)
	if err != nil {
		return nil, err
	}
	cfg.Props.SetLogger(log.With("link", rec.Name))
	src, err := kgo.NewClient(cfg.Props.KgoOpts()...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	lr := &linkRun{rec: rec, cfg: cfg, src: src, log: log.With("link", rec.Name), cancel: cancel, done: make(chan struct{}), state: StateActive, err: NoError}
	lr.loops.Add(2)
	go lr.check(ctx, own)
	go lr.every(ctx, cfg.ConfigSyncInterval, syncConfigs)
	go func() {
		lr.loops.Wait()
		close(lr.done)
	}()
	return lr, nil
}

// every calls f every interval until ctx ends, while the source is
// available.
func (lr *linkRun) every(ctx context.Context, interval time.Duration, f func(context.Context, *linkRun)) {
	defer lr.loops.Done()
	for sleep(ctx, interval) == nil {
		if st, _, _ := lr.status(); st == StateActive || st == StatePaused {
			f(ctx, lr)
		}
	}
}

func (lr *linkRun) check(ctx context.Context, own string) {
	defer lr.loops.Done()
	for {
		cctx, cancel := context.WithTimeout(ctx, lr.cfg.Props.Duration("socket.connection.setup.timeout.max.ms")+lr.cfg.Props.Duration("request.timeout.ms"))
		id, err := clusterID(cctx, lr.src)
		cancel()
		if ctx.Err() != nil {
			return
		}
		lr.mu.Lock()
		lr.checked = true
		switch {
		case err != nil:
			lr.failures++
			code := classify(err)
			if lr.failures >= lr.cfg.AvailabilityFailureThreshold || lr.state != StateActive {
				if lr.state != StateUnavailable {
					lr.log.Warn("source cluster unavailable; mirrors wait for it; check bootstrap.servers and the network path", "link_error", code, "consecutive_failures", lr.failures, "error", err)
				}
				lr.state, lr.err, lr.msg = StateUnavailable, code, err.Error()
			}
		case own != "" && id == own:
			lr.state, lr.err, lr.msg = StateFailed, ErrUnknown, "bootstrap.servers reaches this cluster: a link to its own cluster is refused; point it at the source cluster"
			lr.log.Error("link points at its own cluster; fix bootstrap.servers", "cluster_id", id)
		case lr.rec.SourceClusterID != "" && id != lr.rec.SourceClusterID:
			lr.state, lr.err, lr.msg = StateFailed, ErrSourceClusterIDMismatch, "bootstrap.servers reaches cluster "+id+", not the link's source cluster "+lr.rec.SourceClusterID
			lr.log.Error("link reaches another cluster than its source; fix bootstrap.servers", "cluster_id", id, "source_cluster_id", lr.rec.SourceClusterID)
		default:
			if lr.state == StateUnavailable {
				lr.log.Info("source cluster available again")
			}
			lr.failures, lr.srcID = 0, id
			lr.state, lr.err, lr.msg = StateActive, NoError, ""
		}
		lr.mu.Unlock()
		if sleep(ctx, lr.cfg.AvailabilityCheck) != nil {
			return
		}
	}
}

// status is the link's state as reported.
func (lr *linkRun) status() (State, string, string) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if lr.cfg.Paused && lr.state == StateActive {
		return StatePaused, NoError, ""
	}
	return lr.state, lr.err, lr.msg
}

func (lr *linkRun) sourceID() string {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.srcID
}

func (lr *linkRun) stop() {
	lr.cancel()
	<-lr.done
	lr.src.Close()
	lr.cfg.Props.Close()
}

// linkError is a failure to reach a source, with Confluent's link_error.
type linkError struct {
	code string
	err  error
}

// probe connects to the source of cfg once and returns its cluster id.
func probe(ctx context.Context, cfg *Config) (string, *linkError) {
	cl, err := kgo.NewClient(cfg.Props.KgoOpts()...)
	if err != nil {
		return "", &linkError{ErrUnknown, err}
	}
	defer cfg.Props.Close()
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, cfg.Props.Duration("socket.connection.setup.timeout.max.ms")+cfg.Props.Duration("request.timeout.ms"))
	defer cancel()
	id, err := clusterID(ctx, cl)
	if err != nil {
		return "", &linkError{classify(err), err}
	}
	return id, nil
}

// classify names a connection failure as Confluent's link_error does.
func classify(err error) string {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &dns):
		return ErrUnresolvableBootstrap
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return ErrBootstrapTCPConnectionFailed
	// The source accepted the connection but closed it before answering
	// (a TLS-only port, a load balancer without backends): as in Kafka's
	// client, a connection that drops before it is ready is a failed
	// connection. Whether the close shows as EOF or as a reset (our
	// ApiVersions reaching a socket already closed) is a race, so both
	// must map to the same code.
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ErrBootstrapTCPConnectionFailed
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.IllegalSaslState), errors.Is(err, kerr.UnsupportedSaslMechanism):
		return ErrAuthentication
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ErrTimeout
	}
	return ErrUnknown
}
