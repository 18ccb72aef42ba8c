package clientprops

import (
	"errors"
	"fmt"
	"strings"

	"github.com/linkproxy/linkproxy/conf/internal/hostport"
)

// Client is the registry of the Kafka client properties linkproxy knows,
// with Kafka's defaults (client.id aside, which defaults to "linkproxy").
// Cluster links extend it with With.
var Client = NewRegistry(append(append(clientDefs, tlsDefs...), saslDefs...)...).
	WithRule(notAbove("retry.backoff.ms", "retry.backoff.max.ms")).
	WithRule(notAbove("reconnect.backoff.ms", "reconnect.backoff.max.ms")).
	WithRule(notAbove("socket.connection.setup.timeout.ms", "socket.connection.setup.timeout.max.ms")).
	WithRule(tlsRule).
	WithRule(saslRule)

// Parse parses props with the Client registry.
func Parse(props map[string]any) (*Props, []error) { return Client.Parse(props) }

var clientDefs = []Def{
	{
		Name: "bootstrap.servers", Type: TypeList, Required: true,
		Hint:     `set it to the upstream brokers, e.g. "10.0.0.1:9092"`,
		Validate: validateBootstrap,
	},
	{Name: "client.id", Type: TypeString, Default: "linkproxy"},
	{
		Name: "client.dns.lookup", Type: TypeString, Default: "use_all_dns_ips",
		Validate: OneOf("use_all_dns_ips", "resolve_canonical_bootstrap_servers_only"),
	},
	{Name: "security.protocol", Type: TypeString, Default: "PLAINTEXT", Validate: validateSecurityProtocol},

	// Where franz-go, which runs linkproxy's upstream client, bounds a
	// setting more tightly than Kafka, the bound is checked here so that
	// the operator hears about it at start with the property's name.
	{Name: "metadata.max.age.ms", Type: TypeLong, Default: int64(300000), Validate: clientRange(10, 3600000)},
	{Name: "request.timeout.ms", Type: TypeInt, Default: int64(30000), Validate: clientRange(100, 900000)},
	{Name: "connections.max.idle.ms", Type: TypeLong, Default: int64(540000), Validate: clientRange(100, 900000)},
	{Name: "retry.backoff.ms", Type: TypeLong, Default: int64(100), Validate: AtLeast(0)},
	{Name: "retry.backoff.max.ms", Type: TypeLong, Default: int64(1000), Validate: AtLeast(0)},
	{Name: "reconnect.backoff.ms", Type: TypeLong, Default: int64(50), Validate: AtLeast(0)},
	{Name: "reconnect.backoff.max.ms", Type: TypeLong, Default: int64(1000), Validate: AtLeast(0)},
	// Kafka does not validate these, but a zero or negative timeout can
	// only fail every connection.
	{Name: "socket.connection.setup.timeout.ms", Type: TypeLong, Default: int64(10000), Validate: AtLeast(1)},
	{Name: "socket.connection.setup.timeout.max.ms", Type: TypeLong, Default: int64(30000), Validate: AtLeast(1)},
	{Name: "send.buffer.bytes", Type: TypeInt, Default: int64(131072), Validate: validateBufferSize},
	{Name: "receive.buffer.bytes", Type: TypeInt, Default: int64(65536), Validate: validateBufferSize},
}

// validateBootstrap checks every entry so that one error lists all the
// broken ones, rather than the operator fixing them one start at a time.
func validateBootstrap(v any) (any, error) {
	var problems []string
	seen := make(map[string]bool)
	for i, s := range v.([]string) {
		if s == "" {
			problems = append(problems, fmt.Sprintf("entry %d is empty (a stray comma?)", i+1))
			continue
		}
		_, port, err := hostport.Split(s)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%q: %v", s, err))
		case port == 0:
			problems = append(problems, fmt.Sprintf("%q: port 0 is not a broker port", s))
		case seen[s]:
			problems = append(problems, fmt.Sprintf("%q is listed twice", s))
		}
		seen[s] = true
	}
	if problems != nil {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return v, nil
}

// validateSecurityProtocol accepts any case, as Kafka does, and keeps the
// canonical upper case so callers compare against one spelling.
func validateSecurityProtocol(v any) (any, error) {
	s := strings.ToUpper(v.(string))
	switch s {
	case "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL":
		return s, nil
	}
	return nil, fmt.Errorf("%q is not valid: use one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL", v)
}

// validateBufferSize follows Kafka: -1 leaves the OS default. Kafka's
// validator lets 0 through but Java's socket then throws; refuse it here.
func validateBufferSize(v any) (any, error) {
	if n := v.(int64); n == 0 || n < -1 {
		return nil, fmt.Errorf("%d is not valid: use -1 for the OS default or a positive size", n)
	}
	return v, nil
}

// clientRange is Between with the reason Kafka users will ask for.
func clientRange(lo, hi int64) func(any) (any, error) {
	return func(v any) (any, error) {
		if n := v.(int64); n < lo || n > hi {
			return nil, fmt.Errorf("%d is out of range %d..%d, the range linkproxy's Kafka client (franz-go) accepts", n, lo, hi)
		}
		return v, nil
	}
}

// notAbove refuses a base above its maximum. Kafka only logs a warning and
// then backs off the maximum every time, so the base the operator wrote
// would be silently ignored. The error names the property the operator
// set, preferring the base.
func notAbove(base, limit string) func(*Props) error {
	return func(p *Props) error {
		b, l := p.Int(base), p.Int(limit)
		if b <= l {
			return nil
		}
		name := base
		if !p.IsSet(base) {
			name = limit
		}
		return &Error{Name: name, Reason: fmt.Sprintf("%s (%d) is greater than %s (%d): raise %s or lower %s", base, b, limit, l, limit, base)}
	}
}
