package clientprops

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// KgoOpts translates the properties into franz-go client options. p must
// come from Client or a registry extending it.
func (p *Props) KgoOpts() []kgo.Opt {
	retryBase, retryMax := p.Duration("retry.backoff.ms"), p.Duration("retry.backoff.max.ms")
	maxAge := p.Duration("metadata.max.age.ms")
	opts := []kgo.Opt{
		kgo.SeedBrokers(p.List("bootstrap.servers")...),
		kgo.ClientID(p.String("client.id")),
		kgo.MetadataMaxAge(maxAge),
		// franz-go refuses a max age below its min age (5s by default).
		// Kafka has no min age, so a small max age must lower it.
		kgo.MetadataMinAge(min(maxAge, 5*time.Second)),
		// franz-go counts failures from 1, Kafka's attempts from 0.
		kgo.RetryBackoffFn(func(fails int) time.Duration {
			return Backoff(retryBase, retryMax, fails-1)
		}),
		// Only used if a caller later swaps the Dialer out; kept so the
		// property holds either way.
		kgo.DialTimeout(p.Duration("socket.connection.setup.timeout.ms")),
		kgo.ConnIdleTimeout(p.Duration("connections.max.idle.ms")),
		// franz-go adds this to the timeout a request carries itself,
		// the closest it has to Kafka's request.timeout.ms.
		kgo.RequestTimeoutOverhead(p.Duration("request.timeout.ms")),
		// The Dialer plus reconnect.backoff.ms and .max.ms, which
		// franz-go does not have.
		kgo.Dialer(p.kgoDialer()),
	}
	if p.sasl != nil {
		// franz-go runs the exchange on every connection and
		// re-authenticates before the broker's session lifetime ends
		// (KIP-368).
		opts = append(opts, kgo.SASL(p.sasl))
	}
	return opts
}
