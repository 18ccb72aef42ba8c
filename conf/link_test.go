package conf

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/linkproxy/linkproxy/mirror"
)

func TestParseFullLinksAndREST(t *testing.T) {
	cfg, err := Load(filepath.Join("testdata", "full.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Links) != 2 {
		t.Fatalf("links %+v", cfg.Links)
	}
	east, south := cfg.Links[0], cfg.Links[1]
	if east.Name != "east-to-west" || south.Name != "south" {
		t.Errorf("names %q, %q", east.Name, south.Name)
	}
	c := east.Config
	got := []any{c.Mode, c.ConnectionMode, c.RetryTimeout, c.StartOffsetSpec, c.StartAt, c.Paused, c.Prefix,
		c.ConfigSyncInterval, c.ConfigSyncInclude, c.Fetchers, c.AvailabilityCheck, c.AvailabilityFailureThreshold}
	want := []any{"DESTINATION", "OUTBOUND", 10 * time.Minute, "2026-01-02T15:04:05Z", int64(1767366245000), false, "east.",
		10 * time.Second, []string{"retention.ms", "segment.bytes"}, 1, 30 * time.Second, 3}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("east config\n got %v\nwant %v", got, want)
	}
	if n := c.Props.Int("reconnect.backoff.max.ms"); n != 20000 {
		t.Errorf("reconnect.backoff.max.ms = %d", n)
	}
	if got := c.Props.String("client.id"); got != "link-east" {
		t.Errorf("client.id = %q", got)
	}
	wantMirrors := []Mirror{{SourceTopic: "orders", MirrorTopic: "east.orders"}, {SourceTopic: "payments", MirrorTopic: "east.payments"}}
	if !reflect.DeepEqual(east.Mirrors, wantMirrors) {
		t.Errorf("east mirrors %+v", east.Mirrors)
	}
	if east.Configs["availability.check.ms"] != "30000" || east.Configs["num.cluster.link.fetchers"] != int64(1) || east.Configs["name"] != nil || east.Configs["mirror"] != nil {
		t.Errorf("east raw configs %v", east.Configs)
	}

	// Bare dotted keys, mirror.start.offset.spec among them, are
	// properties like quoted ones.
	if south.Config.StartAt != mirror.StartLatest || south.Mirrors != nil {
		t.Errorf("south %+v, mirrors %+v", south.Config, south.Mirrors)
	}
	wantSouth := map[string]any{"bootstrap.servers": "10.2.0.1:9092", "mirror.start.offset.spec": "latest"}
	if !reflect.DeepEqual(south.Configs, wantSouth) {
		t.Errorf("south raw configs %v", south.Configs)
	}

	wantREST := REST{Listeners: []string{"http://127.0.0.1:8090", "http://[::1]:8091"}}
	if !reflect.DeepEqual(cfg.REST, wantREST) {
		t.Errorf("rest %+v", cfg.REST)
	}
}

func TestParseLinks(t *testing.T) {
	for _, tt := range []struct {
		name   string
		src    string
		before bool   // src goes before the tables, as top-level keys must
		want   []Link // Config and Configs are not compared
	}{
		{name: "none"},
		{
			name: "mirrors as tables, prefix",
			src: `
[[link]]
name = "a"
"bootstrap.servers" = "10.0.0.1:9092"
"cluster.link.prefix" = "a_"
[[link.mirror]]
source_topic = "t1"
[[link.mirror]]
source_topic = "t2"
mirror_topic = "a_t2"
`,
			want: []Link{{Name: "a", Mirrors: []Mirror{{"t1", "a_t1"}, {"t2", "a_t2"}}}},
		},
		{
			name: "inline mirrors, no prefix, two links",
			src: `
[[link]]
name = "a"
"bootstrap.servers" = "10.0.0.1:9092"
mirror = [{source_topic = "t1"}, {source_topic = "t2", mirror_topic = "t2"}]

[[link]]
name = "b"
"bootstrap.servers" = "10.0.0.2:9092"
"cluster.link.prefix" = "b."
mirror = [{source_topic = "t1"}]
`,
			want: []Link{
				{Name: "a", Mirrors: []Mirror{{"t1", "t1"}, {"t2", "t2"}}},
				{Name: "b", Mirrors: []Mirror{{"t1", "b.t1"}}},
			},
		},
		{
			name:   "inline links",
			src:    `link = [{name = "a", "bootstrap.servers" = "10.0.0.1:9092", mirror = [{source_topic = "t"}]}]` + "\n",
			before: true,
			want:   []Link{{Name: "a", Mirrors: []Mirror{{"t", "t"}}}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := validCluster + validListener + tt.src
			if tt.before {
				src = tt.src + validCluster + validListener
			}
			cfg, err := Parse([]byte(src), "linkproxy.toml")
			if err != nil {
				t.Fatal(err)
			}
			var got []Link
			for _, l := range cfg.Links {
				if l.Config == nil || l.Configs == nil {
					t.Errorf("link %s: no config", l.Name)
				}
				got = append(got, Link{Name: l.Name, Mirrors: l.Mirrors})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// linkHead is a valid [[link]]: after validCluster + validListener, its
// header is on line 9 and its keys on lines 10 and 11.
const linkHead = `
[[link]]
name = "a"
"bootstrap.servers" = "10.0.0.1:9092"
`

func TestLinkErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  string // after validCluster + validListener (5 lines)
		want []string
	}{
		{
			name: "link properties, each with its line",
			src: linkHead + `"link.mode" = "SOURCE"
"consumer.offset.sync.enable" = true
"cluster.link.prefx" = "x."
"sasl.login.class" = "com.example.Login"
"mirror.start.offset.spec" = "yesterday"
`,
			want: []string{
				`conf: linkproxy.toml:12: [[link]] #1 key "link.mode": SOURCE: source-initiated and bidirectional links are not supported yet; use DESTINATION`,
				`conf: linkproxy.toml:13: [[link]] #1 key "consumer.offset.sync.enable": not supported: consumer offset sync is not implemented in linkproxy yet`,
				`conf: linkproxy.toml:14: [[link]] #1 key "cluster.link.prefx": unknown Kafka client property (did you mean "cluster.link.prefix"?)`,
				`conf: linkproxy.toml:15: [[link]] #1 key "sasl.login.class": linkproxy cannot load Java classes: give the credentials in sasl.jaas.config (username and password for PlainLoginModule and ScramLoginModule; clientId, clientSecret and scope for OAuthBearerLoginModule, with sasl.oauthbearer.token.endpoint.url), or remove it`,
				`conf: linkproxy.toml:16: [[link]] #1 key "mirror.start.offset.spec": "yesterday" is not valid: use earliest, latest or an ISO-8601 timestamp with a zone, e.g. 2026-01-02T15:04:05Z or 2026-01-02T15:04:05+01:00`,
			},
		},
		{
			name: "missing name and bootstrap.servers",
			src:  "\n[[link]]\n\"cluster.link.paused\" = true\n",
			want: []string{
				`conf: linkproxy.toml:9: [[link]] #1 key "name": missing: name the link, e.g. "west-to-east"`,
				`conf: linkproxy.toml:9: [[link]] #1 key "bootstrap.servers": missing: set it to the source cluster's brokers (or the source side's linkproxy), e.g. "10.0.0.1:9092"`,
			},
		},
		{
			name: "bad and duplicate names",
			src: linkHead + `
[[link]]
name = "a"
"bootstrap.servers" = "10.0.0.2:9092"

[[link]]
name = "west/east"
"bootstrap.servers" = "10.0.0.3:9092"

[[link]]
name = 5
"bootstrap.servers" = "10.0.0.4:9092"
`,
			want: []string{
				`conf: linkproxy.toml:14: [[link]] #2 key "name": duplicate link name "a", also used by [[link]] #1`,
				`conf: linkproxy.toml:18: [[link]] #3 key "name": link name "west/east" has invalid characters '/': use only ASCII letters, digits, '.', '_' and '-'`,
				`conf: linkproxy.toml:22: [[link]] #4 key "name": expected a string, got an integer (5)`,
			},
		},
		{
			name: "link as a table",
			src:  "\n[link]\nname = \"a\"\n",
			want: []string{`conf: linkproxy.toml:9: key "link": must be an array of tables: write [[link]], not [link]`},
		},
		{
			name: "mirror as a table",
			src:  linkHead + "[link.mirror]\nsource_topic = \"t\"\n",
			want: []string{`conf: linkproxy.toml:13: [[link]] #1 key "mirror.source_topic": mirror topics are an array of tables: write [[link.mirror]] with source_topic, not [link.mirror]`},
		},
		{
			name: "mirror not tables",
			src:  linkHead + "mirror = [\"t\"]\n",
			want: []string{`conf: linkproxy.toml:12: [[link]] #1 key "mirror": mirror topics are an array of tables: write [[link.mirror]] with source_topic`},
		},
		{
			name: "mirror keys, numbered within their link",
			src: linkHead + `
[[link.mirror]]
source_topic = "ok"

[[link]]
name = "b"
"bootstrap.servers" = "10.0.0.2:9092"
"cluster.link.prefix" = "b."

[[link.mirror]]
source_topic = "t1"
mirror_topic = "t1"

[[link.mirror]]
mirror_topc = "x"

[[link.mirror]]
source_topic = "a b"
mirror_topic = ["b.a b"]
`,
			want: []string{
				`conf: linkproxy.toml:23: [[link]] #2 [[link.mirror]] #1 key "mirror_topic": "t1": a mirror topic's name is cluster.link.prefix ("b.") followed by the source topic's name: "b.t1"; leave mirror_topic out`,
				`conf: linkproxy.toml:25: [[link]] #2 [[link.mirror]] #2 key "source_topic": missing: name the topic on the source cluster, e.g. "orders"`,
				`conf: linkproxy.toml:26: [[link]] #2 [[link.mirror]] #2 key "mirror_topc": unknown key (did you mean "mirror_topic"?)`,
				`conf: linkproxy.toml:29: [[link]] #2 [[link.mirror]] #3 key "source_topic": topic name "a b" has invalid characters ' ': use only ASCII letters, digits, '.', '_' and '-'`,
				`conf: linkproxy.toml:30: [[link]] #2 [[link.mirror]] #3 key "mirror_topic": expected a string, got an array ([b.a b])`,
			},
		},
		{
			name: "mirror topic without prefix",
			src:  linkHead + "[[link.mirror]]\nsource_topic = \"t\"\nmirror_topic = \"copy\"\n",
			want: []string{`conf: linkproxy.toml:14: [[link]] #1 [[link.mirror]] #1 key "mirror_topic": "copy": a mirror topic has its source topic's name, "t"; leave mirror_topic out, or set cluster.link.prefix on the link`},
		},
		{
			name: "prefix makes the name too long",
			src:  linkHead + `"cluster.link.prefix" = "` + strings.Repeat("p", 200) + `"` + "\n[[link.mirror]]\nsource_topic = \"" + strings.Repeat("t", 60) + "\"\n",
			want: []string{`conf: linkproxy.toml:14: [[link]] #1 [[link.mirror]] #1 key "source_topic": the mirror topic's name, cluster.link.prefix followed by source_topic: "` + strings.Repeat("p", 200) + strings.Repeat("t", 60) + `" is longer than 249 characters`},
		},
		{
			name: "the same mirror topic twice",
			src: linkHead + `
[[link.mirror]]
source_topic = "t"

[[link]]
name = "b"
"bootstrap.servers" = "10.0.0.2:9092"
mirror = [{source_topic = "u"}, {source_topic = "t"}]
`,
			want: []string{`conf: linkproxy.toml:19: [[link]] #2 [[link.mirror]] #2 key "source_topic": mirror topic "t" is already declared by [[link]] #1 [[link.mirror]] #1: a topic can mirror one source only`},
		},
		{
			name: "unknown top-level key lists link and rest",
			src:  "\n[lnk]\n",
			want: []string{`conf: linkproxy.toml:9: key "lnk": unknown key (did you mean "link"?)`},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(validCluster+validListener+tt.src), "linkproxy.toml")
			if err == nil {
				t.Fatalf("no error; config %+v", cfg)
			}
			if got := err.Error(); got != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestMirrorErrorFields(t *testing.T) {
	_, err := Parse([]byte(validCluster+validListener+linkHead+"[[link.mirror]]\nsource_topic = \"..\"\n"), "f.toml")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%v is not an *Error", err)
	}
	want := Error{File: "f.toml", Line: 13, Table: "[[link]] #1 [[link.mirror]]", Index: 1, Key: "source_topic", Reason: `topic name ".." is not allowed`}
	if *e != want {
		t.Errorf("got  %+v\nwant %+v", *e, want)
	}
}
