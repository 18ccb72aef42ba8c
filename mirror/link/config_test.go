package link

import (
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/linkproxy/linkproxy/conf/clientprops"
	"github.com/linkproxy/linkproxy/mirror"
)

const testBootstrap = "10.0.0.1:9092"

// withBootstrap returns props plus the required bootstrap.servers.
func withBootstrap(props map[string]any) map[string]any {
	m := map[string]any{"bootstrap.servers": testBootstrap}
	for k, v := range props {
		m[k] = v
	}
	return m
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig(withBootstrap(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Props:                        cfg.Props,
		Mode:                         "DESTINATION",
		ConnectionMode:               "OUTBOUND",
		RetryTimeout:                 300 * time.Second,
		StartOffsetSpec:              "earliest",
		StartAt:                      mirror.StartEarliest,
		Paused:                       false,
		Prefix:                       "",
		ConfigSyncInterval:           5 * time.Second,
		ConfigSyncInclude:            []string{},
		Fetchers:                     1,
		AvailabilityCheck:            time.Minute,
		AvailabilityFailureThreshold: 5,
	}
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("got  %+v\nwant %+v", *cfg, want)
	}
	// Client properties come from clientprops.Client, with the link
	// defaults Confluent documents where they differ.
	for _, tt := range []struct {
		name string
		want int64
	}{
		{"reconnect.backoff.ms", 50},
		{"reconnect.backoff.max.ms", 10000},
		{"socket.connection.setup.timeout.ms", 10000},
		{"socket.connection.setup.timeout.max.ms", 30000},
		{"connections.max.idle.ms", 540000},
		{"metadata.max.age.ms", 300000},
		{"retry.backoff.ms", 100},
		{"request.timeout.ms", 30000},
	} {
		if got := cfg.Props.Int(tt.name); got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, got, tt.want)
		}
	}
	if got := cfg.Props.List("bootstrap.servers"); !reflect.DeepEqual(got, []string{testBootstrap}) {
		t.Errorf("bootstrap.servers = %v", got)
	}
	if got := cfg.Set(); !reflect.DeepEqual(got, map[string]string{"bootstrap.servers": testBootstrap}) {
		t.Errorf("Set() = %v", got)
	}
}

func TestParseConfigValues(t *testing.T) {
	ts := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	for _, tt := range []struct {
		name  string
		props map[string]any
		check func(*Config) any // returns the field under test
		want  any
	}{
		{"link.mode any case", map[string]any{"link.mode": "destination"}, func(c *Config) any { return c.Mode }, "DESTINATION"},
		{"connection.mode any case", map[string]any{"connection.mode": "Outbound"}, func(c *Config) any { return c.ConnectionMode }, "OUTBOUND"},
		{"retry timeout string", map[string]any{"cluster.link.retry.timeout.ms": "60000"}, func(c *Config) any { return c.RetryTimeout }, time.Minute},
		{"retry timeout TOML int", map[string]any{"cluster.link.retry.timeout.ms": int64(0)}, func(c *Config) any { return c.RetryTimeout }, time.Duration(0)},
		{"start latest", map[string]any{"mirror.start.offset.spec": "latest"}, func(c *Config) any { return c.StartAt }, mirror.StartLatest},
		{"start LATEST canonical", map[string]any{"mirror.start.offset.spec": "LATEST"}, func(c *Config) any { return c.StartOffsetSpec }, "latest"},
		{"start earliest", map[string]any{"mirror.start.offset.spec": "earliest"}, func(c *Config) any { return c.StartAt }, mirror.StartEarliest},
		{"start timestamp Z", map[string]any{"mirror.start.offset.spec": "2026-01-02T15:04:05Z"}, func(c *Config) any { return c.StartAt }, ts("2026-01-02T15:04:05Z")},
		{"start timestamp kept as written", map[string]any{"mirror.start.offset.spec": " 2026-01-02T15:04:05+01:00 "}, func(c *Config) any { return c.StartOffsetSpec }, "2026-01-02T15:04:05+01:00"},
		{"start timestamp offset", map[string]any{"mirror.start.offset.spec": "2026-01-02T15:04:05+01:00"}, func(c *Config) any { return c.StartAt }, ts("2026-01-02T14:04:05Z")},
		{"start timestamp fraction", map[string]any{"mirror.start.offset.spec": "2026-01-02T15:04:05.250Z"}, func(c *Config) any { return c.StartAt }, ts("2026-01-02T15:04:05Z") + 250},
		{"start epoch", map[string]any{"mirror.start.offset.spec": "1970-01-01T00:00:00Z"}, func(c *Config) any { return c.StartAt }, int64(0)},
		{"paused string", map[string]any{"cluster.link.paused": "TRUE"}, func(c *Config) any { return c.Paused }, true},
		{"paused TOML bool", map[string]any{"cluster.link.paused": true}, func(c *Config) any { return c.Paused }, true},
		{"prefix", map[string]any{"cluster.link.prefix": "west."}, func(c *Config) any { return c.Prefix }, "west."},
		{"prefix 248", map[string]any{"cluster.link.prefix": strings.Repeat("p", 248)}, func(c *Config) any { return len(c.Prefix) }, 248},
		{"sync interval", map[string]any{"topic.config.sync.ms": "1000"}, func(c *Config) any { return c.ConfigSyncInterval }, time.Second},
		{"sync include string", map[string]any{"topic.config.sync.include": "retention.ms, segment.bytes"}, func(c *Config) any { return c.ConfigSyncInclude }, []string{"retention.ms", "segment.bytes"}},
		{"sync include TOML array", map[string]any{"topic.config.sync.include": []any{"retention.ms"}}, func(c *Config) any { return c.ConfigSyncInclude }, []string{"retention.ms"}},
		{"sync include star", map[string]any{"topic.config.sync.include": "*"}, func(c *Config) any { return c.ConfigSyncInclude }, []string{"*"}},
		{"sync include empty string", map[string]any{"topic.config.sync.include": ""}, func(c *Config) any { return c.ConfigSyncInclude }, []string{}},
		{"fetchers", map[string]any{"num.cluster.link.fetchers": int64(1)}, func(c *Config) any { return c.Fetchers }, 1},
		{"availability", map[string]any{"availability.check.ms": "5000"}, func(c *Config) any { return c.AvailabilityCheck }, 5 * time.Second},
		{"availability threshold", map[string]any{"availability.check.consecutive.failure.threshold": "2"}, func(c *Config) any { return c.AvailabilityFailureThreshold }, 2},
		{"reconnect below the link max", map[string]any{"reconnect.backoff.ms": "5000"}, func(c *Config) any { return c.Props.Int("reconnect.backoff.ms") }, int64(5000)},
		{"bootstrap array", map[string]any{"bootstrap.servers": []any{"a:1", "b:2"}}, func(c *Config) any { return c.Props.List("bootstrap.servers") }, []string{"a:1", "b:2"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig(withBootstrap(tt.props))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.check(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		name  string
		props map[string]any // bootstrap.servers is added unless noBootstrap
		noBS  bool
		want  []string // every error, in order, exactly
	}{
		{
			name:  "source-initiated link",
			props: map[string]any{"link.mode": "SOURCE"},
			want:  []string{`"link.mode": SOURCE: source-initiated and bidirectional links are not supported yet; use DESTINATION`},
		},
		{
			name:  "bidirectional link",
			props: map[string]any{"link.mode": "bidirectional"},
			want:  []string{`"link.mode": BIDIRECTIONAL: source-initiated and bidirectional links are not supported yet; use DESTINATION`},
		},
		{
			name:  "unknown link mode",
			props: map[string]any{"link.mode": "mirror"},
			want:  []string{`"link.mode": "mirror" is not valid: use one of DESTINATION, SOURCE, BIDIRECTIONAL`},
		},
		{
			name:  "inbound connection",
			props: map[string]any{"connection.mode": "INBOUND"},
			want:  []string{`"connection.mode": INBOUND: source-initiated and bidirectional links are not supported yet; use OUTBOUND`},
		},
		{
			name:  "unknown connection mode",
			props: map[string]any{"connection.mode": "both"},
			want:  []string{`"connection.mode": "both" is not valid: use one of OUTBOUND, INBOUND`},
		},
		{
			name:  "start spec word",
			props: map[string]any{"mirror.start.offset.spec": "beginning"},
			want:  []string{`"mirror.start.offset.spec": "beginning" is not valid: use earliest, latest or an ISO-8601 timestamp with a zone, e.g. 2026-01-02T15:04:05Z or 2026-01-02T15:04:05+01:00`},
		},
		{
			name:  "start spec without zone",
			props: map[string]any{"mirror.start.offset.spec": "2026-01-02T15:04:05"},
			want:  []string{`"mirror.start.offset.spec": "2026-01-02T15:04:05" is not valid: use earliest, latest or an ISO-8601 timestamp with a zone, e.g. 2026-01-02T15:04:05Z or 2026-01-02T15:04:05+01:00`},
		},
		{
			name:  "start spec invalid date",
			props: map[string]any{"mirror.start.offset.spec": "2026-13-02T15:04:05Z"},
			want:  []string{`"mirror.start.offset.spec": "2026-13-02T15:04:05Z" is not valid: use earliest, latest or an ISO-8601 timestamp with a zone, e.g. 2026-01-02T15:04:05Z or 2026-01-02T15:04:05+01:00`},
		},
		{
			name:  "start spec before the epoch",
			props: map[string]any{"mirror.start.offset.spec": "1969-12-31T23:59:59Z"},
			want:  []string{`"mirror.start.offset.spec": "1969-12-31T23:59:59Z" is before 1970-01-01T00:00:00Z, where Kafka timestamps start`},
		},
		{
			name:  "start spec not a string",
			props: map[string]any{"mirror.start.offset.spec": int64(5)},
			want:  []string{`"mirror.start.offset.spec": expected a string, got an integer (5)`},
		},
		{
			name:  "prefix characters",
			props: map[string]any{"cluster.link.prefix": "west/é"},
			want:  []string{`"cluster.link.prefix": "west/é" has invalid characters '/' 'é': the prefix starts mirror topic names, which take only ASCII letters, digits, '.', '_' and '-'`},
		},
		{
			name:  "prefix too long",
			props: map[string]any{"cluster.link.prefix": strings.Repeat("p", 249)},
			want:  []string{`"cluster.link.prefix": 249 characters is too long: mirror topic names (prefix and source topic name) have at most 249`},
		},
		{
			name:  "sync include entries",
			props: map[string]any{"topic.config.sync.include": "retention.ms,,Retention.MS,retention.ms"},
			want:  []string{`"topic.config.sync.include": entry 2 is empty (a stray comma?); "Retention.MS" is not a topic config name, e.g. retention.ms (or * for all); "retention.ms" is listed twice`},
		},
		{
			name:  "intervals and counts",
			props: map[string]any{"topic.config.sync.ms": "0", "num.cluster.link.fetchers": int64(0), "availability.check.ms": "-1", "availability.check.consecutive.failure.threshold": "0", "cluster.link.retry.timeout.ms": "-5"},
			want: []string{
				`"availability.check.consecutive.failure.threshold": 0 is below the minimum 1`,
				`"availability.check.ms": -1 is below the minimum 1`,
				`"cluster.link.retry.timeout.ms": -5 is below the minimum 0`,
				`"num.cluster.link.fetchers": only 1 is supported: linkproxy fetches every mirror partition concurrently, with no fetcher pool to size`,
				`"topic.config.sync.ms": 0 is below the minimum 1`,
			},
		},
		{
			name:  "int range",
			props: map[string]any{"cluster.link.retry.timeout.ms": "3000000000"},
			want:  []string{`"cluster.link.retry.timeout.ms": 3000000000 is out of range for an int (-2147483648..2147483647)`},
		},
		{
			name:  "paused not a boolean",
			props: map[string]any{"cluster.link.paused": "yes"},
			want:  []string{`"cluster.link.paused": "yes" is not a boolean: use true or false`},
		},
		{
			name:  "not supported yet",
			props: map[string]any{"consumer.offset.sync.enable": "true", "acl.sync.enable": true, "auto.create.mirror.topics.enable": "false"},
			want: []string{
				`"acl.sync.enable": not supported: ACL sync is not implemented in linkproxy yet`,
				`"auto.create.mirror.topics.enable": not supported: auto-creating mirror topics is not implemented in linkproxy yet: declare each mirror topic`,
				`"consumer.offset.sync.enable": not supported: consumer offset sync is not implemented in linkproxy yet`,
			},
		},
		{
			name:  "SASL checked as for any client",
			props: map[string]any{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"},
			want: []string{
				`"sasl.jaas.config": missing: required with security.protocol SASL_SSL: write the login module and its options, e.g. 'org.apache.kafka.common.security.plain.PlainLoginModule required username="linkproxy" password="...";'`,
			},
		},
		{
			name:  "TLS stores read when the link's properties are parsed",
			props: map[string]any{"security.protocol": "SSL", "ssl.truststore.location": "/nonexistent/ts.jks"},
			want: []string{
				`"ssl.truststore.location": open /nonexistent/ts.jks: no such file or directory: check the path`,
			},
		},
		{
			name:  "unknown property with suggestion",
			props: map[string]any{"cluster.link.prefx": "x"},
			want:  []string{`"cluster.link.prefx": unknown Kafka client property (did you mean "cluster.link.prefix"?)`},
		},
		{
			name:  "unknown property",
			props: map[string]any{"zzz": "x"},
			want:  []string{`"zzz": unknown Kafka client property`},
		},
		{
			name: "missing bootstrap.servers",
			noBS: true,
			want: []string{`"bootstrap.servers": missing: set it to the source cluster's brokers (or the source side's linkproxy), e.g. "10.0.0.1:9092"`},
		},
		{
			name:  "reconnect base above the link max",
			props: map[string]any{"reconnect.backoff.ms": "20000"},
			want:  []string{`"reconnect.backoff.ms": reconnect.backoff.ms (20000) is greater than reconnect.backoff.max.ms (10000): raise reconnect.backoff.max.ms or lower reconnect.backoff.ms`},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			props := tt.props
			if !tt.noBS {
				props = withBootstrap(props)
			}
			cfg, err := ParseConfig(props)
			if err == nil {
				t.Fatalf("no error; config %+v", cfg)
			}
			if cfg != nil {
				t.Error("config returned with an error")
			}
			if got := err.Error(); got != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
			// Each is a *clientprops.Error naming the property, so that
			// conf can point at its line.
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var pe *clientprops.Error
				if !errors.As(e, &pe) || pe.Name == "" {
					t.Errorf("%v is not a *clientprops.Error with a name", e)
				}
			}
		})
	}
}

// TestUnsupportedRefused: every property defined but not implemented is
// refused by name, whatever its value, and none is silently accepted.
func TestUnsupportedRefused(t *testing.T) {
	var n int
	for _, name := range linkRegistry.Names() {
		d, _ := linkRegistry.Lookup(name)
		if d.Unsupported == "" {
			continue
		}
		n++
		_, err := ParseConfig(withBootstrap(map[string]any{name: "x"}))
		if err == nil || !strings.HasPrefix(err.Error(), `"`+name+`": not supported: `) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{
		"consumer.offset.sync.enable", "consumer.offset.sync.ms", "consumer.offset.group.filters",
		"acl.sync.enable", "acl.sync.ms", "acl.filters",
		"auto.create.mirror.topics.enable", "auto.create.mirror.topics.filters",
		"cluster.link.metadata.topic.replication.factor", "local.listener.name",
	} {
		if d, ok := linkRegistry.Lookup(name); !ok || d.Unsupported == "" {
			t.Errorf("%s is not defined as unsupported", name)
		}
	}
	if n < 15 {
		t.Errorf("only %d unsupported properties", n)
	}
}

func TestEntries(t *testing.T) {
	cfg, err := ParseConfig(withBootstrap(map[string]any{
		"cluster.link.prefix":       "west.",
		"topic.config.sync.include": []any{"retention.ms", "segment.ms"},
		"cluster.link.paused":       true,
		"link.mode":                 "destination",
		"client.id":                 "link-west",
	}))
	if err != nil {
		t.Fatal(err)
	}
	entries := cfg.Entries()
	byName := make(map[string]ConfigEntry, len(entries))
	var names []string
	for _, e := range entries {
		byName[e.Name] = e
		names = append(names, e.Name)
	}
	if !sort.StringsAreSorted(names) || !reflect.DeepEqual(names, linkRegistry.Names()) {
		t.Errorf("entries are not every property in name order: %v", names)
	}
	for _, want := range []ConfigEntry{
		{Name: "bootstrap.servers", Value: testBootstrap},
		{Name: "client.id", Value: "link-west"},
		{Name: "cluster.link.prefix", Value: "west.", ReadOnly: true},
		{Name: "link.mode", Value: "DESTINATION", ReadOnly: true},
		{Name: "connection.mode", Value: "OUTBOUND", IsDefault: true, ReadOnly: true},
		{Name: "cluster.link.paused", Value: "true"},
		{Name: "topic.config.sync.include", Value: "retention.ms,segment.ms"},
		{Name: "topic.config.sync.ms", Value: "5000", IsDefault: true},
		{Name: "mirror.start.offset.spec", Value: "earliest", IsDefault: true},
		{Name: "reconnect.backoff.max.ms", Value: "10000", IsDefault: true},
		{Name: "num.cluster.link.fetchers", Value: "1", IsDefault: true},
		{Name: "consumer.offset.sync.enable", Value: "false", IsDefault: true},
		{Name: "consumer.offset.sync.ms", Value: "30000", IsDefault: true},
		{Name: "ssl.enabled.protocols", Value: "TLSv1.2,TLSv1.3", IsDefault: true},
		{Name: "sasl.kerberos.ticket.renew.jitter", Value: "0.05", IsDefault: true},
		{Name: "local.listener.name", Value: "", IsDefault: true},
		{Name: "sasl.jaas.config", Value: "", IsDefault: true, Sensitive: true},
		{Name: "ssl.keystore.password", Value: "", IsDefault: true, Sensitive: true},
	} {
		if got := byName[want.Name]; got != want {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	}
	for _, e := range entries {
		if e.ReadOnly != (e.Name == "cluster.link.prefix" || e.Name == "link.mode" || e.Name == "connection.mode") {
			t.Errorf("%s: ReadOnly %v", e.Name, e.ReadOnly)
		}
		if e.Sensitive && e.Value != "" {
			t.Errorf("%s: sensitive value shown", e.Name)
		}
	}
}

// TestSetRoundTrip: Set is what links are persisted as; parsing it back
// gives the same configuration, whatever types the first parse got.
func TestSetRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name  string
		props map[string]any
		want  map[string]string
	}{
		{"only bootstrap", nil, map[string]string{"bootstrap.servers": testBootstrap}},
		{
			name: "TOML types and canonical forms",
			props: map[string]any{
				"bootstrap.servers":             []any{"a:1", " b:2 "},
				"link.mode":                     "destination",
				"cluster.link.paused":           true,
				"cluster.link.retry.timeout.ms": int64(1000),
				"mirror.start.offset.spec":      "LATEST",
				"topic.config.sync.include":     []any{"retention.ms", "segment.ms"},
				"cluster.link.prefix":           "",
				"reconnect.backoff.max.ms":      int64(10000), // set to its default: still set
			},
			want: map[string]string{
				"bootstrap.servers":             "a:1,b:2",
				"link.mode":                     "DESTINATION",
				"cluster.link.paused":           "true",
				"cluster.link.retry.timeout.ms": "1000",
				"mirror.start.offset.spec":      "latest",
				"topic.config.sync.include":     "retention.ms,segment.ms",
				"cluster.link.prefix":           "",
				"reconnect.backoff.max.ms":      "10000",
			},
		},
		{
			name:  "timestamp",
			props: map[string]any{"mirror.start.offset.spec": "2026-01-02T15:04:05+01:00", "topic.config.sync.include": ""},
			want:  map[string]string{"bootstrap.servers": testBootstrap, "mirror.start.offset.spec": "2026-01-02T15:04:05+01:00", "topic.config.sync.include": ""},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			props := tt.props
			if props["bootstrap.servers"] == nil {
				props = withBootstrap(props)
			}
			cfg, err := ParseConfig(props)
			if err != nil {
				t.Fatal(err)
			}
			set := cfg.Set()
			if !reflect.DeepEqual(set, tt.want) {
				t.Errorf("Set()\n got %v\nwant %v", set, tt.want)
			}
			again := make(map[string]any, len(set))
			for k, v := range set {
				again[k] = v
			}
			cfg2, err := ParseConfig(again)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg2.Set(), set) {
				t.Errorf("Set() after a round trip: %v, want %v", cfg2.Set(), set)
			}
			c1, c2 := *cfg, *cfg2
			c1.Props, c2.Props = nil, nil
			if !reflect.DeepEqual(c1, c2) {
				t.Errorf("round trip\n got %+v\nwant %+v", c2, c1)
			}
			if !reflect.DeepEqual(cfg.Entries(), cfg2.Entries()) {
				t.Error("entries differ after a round trip")
			}
		})
	}
}

func TestReadOnlyAfterCreate(t *testing.T) {
	for name, want := range map[string]bool{
		"cluster.link.prefix": true, "link.mode": true, "connection.mode": true,
		"cluster.link.paused": false, "bootstrap.servers": false, "mirror.start.offset.spec": false, "nonsense": false,
	} {
		if got := ReadOnlyAfterCreate(name); got != want {
			t.Errorf("ReadOnlyAfterCreate(%q) = %v", name, got)
		}
	}
}

func TestAlwaysSyncedTopicConfigs(t *testing.T) {
	want := []string{"cleanup.policy", "max.message.bytes", "message.timestamp.difference.max.ms", "message.timestamp.type"}
	got := AlwaysSyncedTopicConfigs()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
	got[0] = "changed"
	if AlwaysSyncedTopicConfigs()[0] != "cleanup.policy" {
		t.Error("the caller's slice is shared")
	}
}

func TestCheckTopicName(t *testing.T) {
	for _, tt := range []struct {
		name, want string // want "" for valid
	}{
		{"orders", ""},
		{"west.orders_v2-x", ""},
		{strings.Repeat("t", 249), ""},
		{"", "empty"},
		{".", `"." is not allowed`},
		{"..", `".." is not allowed`},
		{strings.Repeat("t", 250), `"` + strings.Repeat("t", 250) + `" is longer than 249 characters`},
		{"a b/c/", `"a b/c/" has invalid characters ' ' '/': use only ASCII letters, digits, '.', '_' and '-'`},
	} {
		err := CheckTopicName(tt.name)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("CheckTopicName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
