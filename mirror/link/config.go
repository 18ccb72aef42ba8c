package link

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/linkproxy/linkproxy/conf/clientprops"
	"github.com/linkproxy/linkproxy/mirror"
)

// Config is a parsed and validated cluster link configuration: the Kafka
// client properties of the connection to the source cluster, and the link
// properties, with Confluent's names and defaults.
type Config struct {
	// Props holds every property, client and link ones, as parsed; the
	// fields below are the link properties read out of it.
	Props *clientprops.Props

	Mode           string // link.mode: DESTINATION
	ConnectionMode string // connection.mode: OUTBOUND
	// RetryTimeout is cluster.link.retry.timeout.ms: how long the source
	// may be unreachable before the link is UNAVAILABLE.
	RetryTimeout time.Duration
	// StartOffsetSpec is mirror.start.offset.spec: "earliest", "latest" or
	// an ISO-8601 timestamp, as written.
	StartOffsetSpec string
	// StartAt is StartOffsetSpec for the mirror engine: mirror.StartEarliest,
	// mirror.StartLatest or a timestamp in ms since the epoch.
	StartAt int64
	Paused  bool   // cluster.link.paused
	Prefix  string // cluster.link.prefix; "" for none
	// ConfigSyncInterval is topic.config.sync.ms.
	ConfigSyncInterval time.Duration
	// ConfigSyncInclude is topic.config.sync.include: the topic configs
	// synced besides AlwaysSyncedTopicConfigs ("*" for all).
	ConfigSyncInclude []string
	Fetchers          int // num.cluster.link.fetchers
	// AvailabilityCheck is availability.check.ms, and
	// AvailabilityFailureThreshold availability.check.consecutive.failure.threshold.
	AvailabilityCheck            time.Duration
	AvailabilityFailureThreshold int
}

// The link properties linkproxy implements.
const (
	propLinkMode          = "link.mode"
	propConnectionMode    = "connection.mode"
	propRetryTimeout      = "cluster.link.retry.timeout.ms"
	propStartOffsetSpec   = "mirror.start.offset.spec"
	propPaused            = "cluster.link.paused"
	propPrefix            = "cluster.link.prefix"
	propConfigSyncMs      = "topic.config.sync.ms"
	propConfigSyncInclude = "topic.config.sync.include"
	propFetchers          = "num.cluster.link.fetchers"
	propAvailabilityMs    = "availability.check.ms"
	propAvailabilityFails = "availability.check.consecutive.failure.threshold"
)

// Reasons for the link properties Confluent has and linkproxy does not
// implement yet. The registry prefixes them with "not supported: ".
const (
	notYetOffsetSync  = "consumer offset sync is not implemented in linkproxy yet"
	notYetACLSync     = "ACL sync is not implemented in linkproxy yet"
	notYetAutoCreate  = "auto-creating mirror topics is not implemented in linkproxy yet: declare each mirror topic"
	notYetSourceLinks = "source-initiated and bidirectional links are not supported yet"
	notYetMetadata    = "not a link property in linkproxy yet: in Confluent this is the broker setting confluent.cluster.link.metadata.topic.*; linkproxy keeps link metadata in its own state topic"
)

// alwaysSynced are the topic configs a mirror topic always takes from its
// source topic, whatever topic.config.sync.include says.
var alwaysSynced = []string{
	"cleanup.policy",
	"max.message.bytes",
	"message.timestamp.difference.max.ms",
	"message.timestamp.type",
}

// AlwaysSyncedTopicConfigs returns the topic configs every mirror topic
// syncs from its source topic; topic.config.sync.include adds to them.
func AlwaysSyncedTopicConfigs() []string {
	return append([]string(nil), alwaysSynced...)
}

// readOnlyAfterCreate are fixed when the link is created.
var readOnlyAfterCreate = map[string]bool{
	propPrefix:         true,
	propLinkMode:       true,
	propConnectionMode: true,
}

// ReadOnlyAfterCreate reports whether the link property name cannot be
// changed once the link exists.
func ReadOnlyAfterCreate(name string) bool { return readOnlyAfterCreate[name] }

// linkRegistry is clientprops.Client, the one parser of Kafka client
// properties, extended with the link properties. Client properties keep
// Kafka's defaults except where Confluent's differ for links.
var linkRegistry = clientprops.Client.With(append(clientOverrides(), linkDefs...)...)

// clientOverrides are the client properties whose link defaults or hints
// differ from a plain client's.
func clientOverrides() []clientprops.Def {
	override := func(name string, f func(*clientprops.Def)) clientprops.Def {
		d, ok := clientprops.Client.Lookup(name)
		if !ok {
			panic("link: client property " + name + " not defined in clientprops")
		}
		f(&d)
		return d
	}
	return []clientprops.Def{
		override("bootstrap.servers", func(d *clientprops.Def) {
			d.Hint = `set it to the source cluster's brokers (or the source side's linkproxy), e.g. "10.0.0.1:9092"`
		}),
		// Confluent: "50ms and 10s by default for cluster links".
		override("reconnect.backoff.max.ms", func(d *clientprops.Def) { d.Default = int64(10000) }),
	}
}

var linkDefs = []clientprops.Def{
	{Name: propLinkMode, Type: clientprops.TypeString, Default: "DESTINATION", Validate: validateLinkMode},
	{Name: propConnectionMode, Type: clientprops.TypeString, Default: "OUTBOUND", Validate: validateConnectionMode},
	{Name: propRetryTimeout, Type: clientprops.TypeInt, Default: int64(300000), Validate: clientprops.AtLeast(0)},
	{Name: propStartOffsetSpec, Type: clientprops.TypeString, Default: "earliest", Validate: validateStartOffsetSpec},
	{Name: propPaused, Type: clientprops.TypeBoolean, Default: false},
	{Name: propPrefix, Type: clientprops.TypeString, Default: "", Validate: validatePrefix},
	// Zero or negative intervals would spin; Confluent does not say.
	{Name: propConfigSyncMs, Type: clientprops.TypeInt, Default: int64(5000), Validate: clientprops.AtLeast(1)},
	{Name: propConfigSyncInclude, Type: clientprops.TypeList, Default: []string{}, Validate: validateSyncInclude},
	{Name: propFetchers, Type: clientprops.TypeInt, Default: int64(1), Validate: validateFetchers},
	{Name: propAvailabilityMs, Type: clientprops.TypeInt, Default: int64(60000), Validate: clientprops.AtLeast(1)},
	{Name: propAvailabilityFails, Type: clientprops.TypeInt, Default: int64(5), Validate: clientprops.AtLeast(1)},

	// Known, not implemented yet: refused with the reason, never ignored.
	{Name: "consumer.offset.sync.enable", Type: clientprops.TypeBoolean, Default: false, Unsupported: notYetOffsetSync},
	{Name: "consumer.offset.sync.ms", Type: clientprops.TypeInt, Default: int64(30000), Unsupported: notYetOffsetSync},
	{Name: "consumer.offset.group.filters", Type: clientprops.TypeString, Default: "", Unsupported: notYetOffsetSync},
	{Name: "consumer.group.prefix.enable", Type: clientprops.TypeBoolean, Default: false, Unsupported: notYetOffsetSync},
	{Name: "acl.sync.enable", Type: clientprops.TypeBoolean, Default: false, Unsupported: notYetACLSync},
	{Name: "acl.sync.ms", Type: clientprops.TypeInt, Default: int64(5000), Unsupported: notYetACLSync},
	{Name: "acl.filters", Type: clientprops.TypeString, Default: "", Unsupported: notYetACLSync},
	{Name: "auto.create.mirror.topics.enable", Type: clientprops.TypeBoolean, Default: false, Unsupported: notYetAutoCreate},
	{Name: "auto.create.mirror.topics.filters", Type: clientprops.TypeString, Default: "", Unsupported: notYetAutoCreate},
	// local.* configure the source side of a source-initiated link.
	{Name: "local.listener.name", Type: clientprops.TypeString, Unsupported: notYetSourceLinks},
	{Name: "local.security.protocol", Type: clientprops.TypeString, Unsupported: notYetSourceLinks},
	{Name: "local.sasl.mechanism", Type: clientprops.TypeString, Unsupported: notYetSourceLinks},
	{Name: "local.sasl.jaas.config", Type: clientprops.TypePassword, Unsupported: notYetSourceLinks},
	{Name: "cluster.link.metadata.topic.enable", Type: clientprops.TypeBoolean, Unsupported: notYetMetadata},
	{Name: "cluster.link.metadata.topic.partitions", Type: clientprops.TypeInt, Unsupported: notYetMetadata},
	{Name: "cluster.link.metadata.topic.replication.factor", Type: clientprops.TypeShort, Unsupported: notYetMetadata},
	{Name: "cluster.link.metadata.topic.min.insync.replicas", Type: clientprops.TypeInt, Unsupported: notYetMetadata},
}

// validateLinkMode and validateConnectionMode accept any case and keep the
// upper case Confluent reports.
// validateFetchers accepts only the default: Confluent sizes a pool of
// fetcher threads that share the link's partitions, while linkproxy fetches
// every mirror partition concurrently on its own, so there is no pool whose
// size a larger value could change, and accepting it would ignore it.
func validateFetchers(v any) (any, error) {
	if n, ok := v.(int64); ok && n != 1 {
		return nil, fmt.Errorf("only 1 is supported: linkproxy fetches every mirror partition concurrently, with no fetcher pool to size")
	}
	return v, nil
}

func validateLinkMode(v any) (any, error) {
	switch s := strings.ToUpper(v.(string)); s {
	case "DESTINATION":
		return s, nil
	case "SOURCE", "BIDIRECTIONAL":
		return nil, fmt.Errorf("%s: %s; use DESTINATION", s, notYetSourceLinks)
	}
	return nil, fmt.Errorf("%q is not valid: use one of DESTINATION, SOURCE, BIDIRECTIONAL", v)
}

func validateConnectionMode(v any) (any, error) {
	switch s := strings.ToUpper(v.(string)); s {
	case "OUTBOUND":
		return s, nil
	case "INBOUND":
		return nil, fmt.Errorf("INBOUND: %s; use OUTBOUND", notYetSourceLinks)
	}
	return nil, fmt.Errorf("%q is not valid: use one of OUTBOUND, INBOUND", v)
}

// validateStartOffsetSpec keeps earliest and latest in lower case and a
// timestamp as written.
func validateStartOffsetSpec(v any) (any, error) {
	s := v.(string)
	if _, err := startAt(s); err != nil {
		return nil, err
	}
	if l := strings.ToLower(s); l == "earliest" || l == "latest" {
		return l, nil
	}
	return s, nil
}

// startAt converts a mirror.start.offset.spec for the mirror engine.
func startAt(spec string) (int64, error) {
	switch strings.ToLower(spec) {
	case "earliest":
		return mirror.StartEarliest, nil
	case "latest":
		return mirror.StartLatest, nil
	}
	// RFC 3339 is the ISO-8601 profile with a zone; parsing also takes
	// fractional seconds.
	t, err := time.Parse(time.RFC3339, spec)
	if err != nil {
		return 0, fmt.Errorf("%q is not valid: use earliest, latest or an ISO-8601 timestamp with a zone, e.g. 2026-01-02T15:04:05Z or 2026-01-02T15:04:05+01:00", spec)
	}
	ms := t.UnixMilli()
	if ms < 0 {
		return 0, fmt.Errorf("%q is before 1970-01-01T00:00:00Z, where Kafka timestamps start", spec)
	}
	return ms, nil
}

// CheckTopicName refuses what Kafka refuses as a topic name: empty, "." or
// "..", longer than 249 characters, or characters other than ASCII letters,
// digits, '.', '_' and '-'. Link names follow the same rules.
func CheckTopicName(name string) error {
	switch {
	case name == "":
		return errors.New("empty")
	case name == "." || name == "..":
		return fmt.Errorf("%q is not allowed", name)
	case len(name) > 249:
		return fmt.Errorf("%q is longer than 249 characters", name)
	}
	if bad := badTopicChars(name); bad != "" {
		return fmt.Errorf("%q has %s: use only ASCII letters, digits, '.', '_' and '-'", name, bad)
	}
	return nil
}

// badTopicChars describes the characters of s not valid in topic names,
// "" if none.
func badTopicChars(s string) string {
	var bad []string
	seen := make(map[rune]bool)
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || seen[c] {
			continue
		}
		seen[c] = true
		bad = append(bad, strconv.QuoteRune(c))
	}
	if bad == nil {
		return ""
	}
	return "invalid characters " + strings.Join(bad, " ")
}

// validatePrefix: the prefix starts every mirror topic's name, so it takes
// topic-name characters and leaves room for at least one more.
func validatePrefix(v any) (any, error) {
	s := v.(string)
	if bad := badTopicChars(s); bad != "" {
		return nil, fmt.Errorf("%q has %s: the prefix starts mirror topic names, which take only ASCII letters, digits, '.', '_' and '-'", s, bad)
	}
	if len(s) > 248 {
		return nil, fmt.Errorf("%d characters is too long: mirror topic names (prefix and source topic name) have at most 249", len(s))
	}
	return s, nil
}

// validateSyncInclude accepts topic config names, as Kafka spells them
// (lower case, digits, '.', '_' and '-'), or "*" for every config.
func validateSyncInclude(v any) (any, error) {
	var problems []string
	seen := make(map[string]bool)
	for i, name := range v.([]string) {
		switch {
		case name == "":
			problems = append(problems, fmt.Sprintf("entry %d is empty (a stray comma?)", i+1))
		case seen[name]:
			problems = append(problems, fmt.Sprintf("%q is listed twice", name))
		case name != "*" && !isConfigName(name):
			problems = append(problems, fmt.Sprintf("%q is not a topic config name, e.g. retention.ms (or * for all)", name))
		}
		seen[name] = true
	}
	if problems != nil {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return v, nil
}

func isConfigName(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ParseConfig parses and validates a link's properties. Values may be
// strings, as the REST API sends them, or TOML types. Every problem is
// reported, joined; each is a *clientprops.Error naming the property.
func ParseConfig(props map[string]any) (*Config, error) {
	p, errs := linkRegistry.Parse(props)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c := &Config{
		Props:                        p,
		Mode:                         p.String(propLinkMode),
		ConnectionMode:               p.String(propConnectionMode),
		RetryTimeout:                 p.Duration(propRetryTimeout),
		StartOffsetSpec:              p.String(propStartOffsetSpec),
		Paused:                       p.Bool(propPaused),
		Prefix:                       p.String(propPrefix),
		ConfigSyncInterval:           p.Duration(propConfigSyncMs),
		ConfigSyncInclude:            p.List(propConfigSyncInclude),
		Fetchers:                     int(p.Int(propFetchers)),
		AvailabilityCheck:            p.Duration(propAvailabilityMs),
		AvailabilityFailureThreshold: int(p.Int(propAvailabilityFails)),
	}
	var err error
	if c.StartAt, err = startAt(c.StartOffsetSpec); err != nil {
		panic("link: validated mirror.start.offset.spec does not convert: " + err.Error())
	}
	return c, nil
}

// Entries returns every link property, supported or not, with its value,
// sorted by name. Properties not supported yet show their Confluent
// default (or ""), as they are in effect: off. Passwords are Sensitive
// with Value "".
func (c *Config) Entries() []ConfigEntry {
	names := linkRegistry.Names()
	entries := make([]ConfigEntry, 0, len(names))
	for _, name := range names {
		d, _ := linkRegistry.Lookup(name)
		e := ConfigEntry{Name: name, ReadOnly: ReadOnlyAfterCreate(name), Sensitive: d.Type == clientprops.TypePassword}
		switch {
		case d.Unsupported != "":
			e.IsDefault = true
			if !e.Sensitive {
				e.Value = formatValue(d.Default)
			}
		default:
			e.IsDefault = !c.Props.IsSet(name)
			if !e.Sensitive {
				e.Value = propString(c.Props, d)
			}
		}
		entries = append(entries, e)
	}
	return entries
}

// Set returns the properties set explicitly, as strings that ParseConfig
// reads back to the same configuration, passwords in clear: it is what a
// link's configuration is persisted as.
func (c *Config) Set() map[string]string {
	m := make(map[string]string)
	for _, name := range linkRegistry.Names() {
		d, _ := linkRegistry.Lookup(name)
		if d.Unsupported == "" && c.Props.IsSet(name) {
			m[name] = propString(c.Props, d)
		}
	}
	return m
}

// propString renders a supported property's value as a Kafka properties
// file would: lists comma-separated, passwords in clear.
func propString(p *clientprops.Props, d clientprops.Def) string {
	switch d.Type {
	case clientprops.TypeString, clientprops.TypeClass, clientprops.TypePassword:
		return p.String(d.Name)
	case clientprops.TypeShort, clientprops.TypeInt, clientprops.TypeLong:
		return strconv.FormatInt(p.Int(d.Name), 10)
	case clientprops.TypeDouble:
		return strconv.FormatFloat(p.Float(d.Name), 'g', -1, 64)
	case clientprops.TypeBoolean:
		return strconv.FormatBool(p.Bool(d.Name))
	case clientprops.TypeList:
		return strings.Join(p.List(d.Name), ",")
	}
	panic(fmt.Sprintf("link: property %s has type %v", d.Name, d.Type))
}

// formatValue renders a Def default like propString.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []string:
		return strings.Join(x, ",")
	}
	return fmt.Sprint(v)
}
