package rest

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/linkproxy/linkproxy/mirror/link"
)

func TestListMirrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		path   string // after /links/
		status int
		msg    string
		self   string // after /links/
		topics []string
	}{
		{name: "one link", path: "link-1/mirrors", status: 200, self: "link-1/mirrors", topics: []string{"topic-a", "topic-b"}},
		{name: "one link, by status", path: "link-1/mirrors?mirror_status=PAUSED", status: 200, self: "link-1/mirrors", topics: []string{"topic-b"}},
		{name: "status in lower case", path: "link-1/mirrors?mirror_status=active", status: 200, self: "link-1/mirrors", topics: []string{"topic-a"}},
		{name: "status none has", path: "link-1/mirrors?mirror_status=PENDING_STOPPED", status: 200, self: "link-1/mirrors", topics: []string{}},
		{name: "link without mirrors", path: "link-2/mirrors", status: 200, self: "link-2/mirrors", topics: []string{}},
		{name: "every link", path: "-/mirrors", status: 200, self: "-/mirrors", topics: []string{"topic-a", "topic-b", "topic-c"}},
		{name: "every link, by status", path: "-/mirrors?mirror_status=ACTIVE", status: 200, self: "-/mirrors", topics: []string{"topic-a", "topic-c"}},
		{name: "unknown status", path: "link-1/mirrors?mirror_status=SLEEPING", status: 400, msg: `query parameter mirror_status must be one of ACTIVE, `},
		{name: "unknown status, every link", path: "-/mirrors?mirror_status=SLEEPING", status: 400, msg: "mirror_status"},
		{name: "unknown link", path: "nope/mirrors", status: 404, msg: `cluster link "nope" does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.fake.seed(link.Link{Name: "link-3", ID: "x"}, nil, link.Mirror{MirrorTopic: "topic-c", SourceTopic: "c", State: link.MirrorActive})
			rec := f.do("GET", cluster+"/links/"+tc.path, "")
			if tc.status >= 400 {
				errorIs(t, rec, tc.status, tc.msg)
				return
			}
			if rec.Code != tc.status {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			data := collection(t, object(t, rec), "KafkaMirrorDataList", base+"/clusters/dest-cluster-1/links/"+tc.self, requiredMirror)
			var topics []string
			for _, m := range data {
				topics = append(topics, m["mirror_topic_name"].(string))
				checkMirror(t, m)
			}
			if !slices.Equal(topics, tc.topics) && !(len(topics) == 0 && len(tc.topics) == 0) {
				t.Errorf("mirrors %v, want %v", topics, tc.topics)
			}
		})
	}
}

// checkMirror checks a mirror's shape, and topic-a's values.
func checkMirror(t *testing.T, m map[string]any) {
	t.Helper()
	name := m["mirror_topic_name"].(string)
	resource(t, m, requiredMirror, "KafkaMirrorData", fmt.Sprintf("%s/clusters/dest-cluster-1/links/%s/mirrors/%s", base, m["link_name"], name))
	lags, ok := m["mirror_lags"].([]any)
	if !ok {
		t.Fatalf("%s: mirror_lags is %T, want an array", name, m["mirror_lags"])
	}
	for _, l := range lags {
		hasKeys(t, "MirrorLag", l.(map[string]any), requiredMirrorLag)
	}
	if _, ok := m["mirror_topic_error"]; !ok {
		t.Errorf("%s: no mirror_topic_error", name)
	}
	if name != "topic-a" {
		return
	}
	for k, want := range map[string]any{
		"link_name": "link-1", "source_topic_name": "topic-a", "num_partitions": 2.0,
		"mirror_status": "ACTIVE", "state_time_ms": 1612550939300.0, "mirror_topic_error": "NO_ERROR",
		"mirror_lags": "[map[lag:0 last_source_fetch_offset:5 partition:0] map[lag:10000 last_source_fetch_offset:1000 partition:1]]",
	} {
		got := m[k]
		if k == "mirror_lags" {
			got = fmt.Sprint(got)
		}
		if got != want {
			t.Errorf("topic-a: %s = %v, want %v", k, got, want)
		}
	}
	if _, ok := m["mirror_topic_error_message"]; ok {
		t.Errorf("topic-a: mirror_topic_error_message written without a message")
	}
}

func TestGetMirror(t *testing.T) {
	f := newFixture(t)
	rec := f.do("GET", cluster+"/links/link-1/mirrors/topic-a", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	checkMirror(t, object(t, rec))

	// A failed mirror says why.
	f.fake.mirrors["link-1"]["topic-a"].State = link.MirrorFailed
	f.fake.mirrors["link-1"]["topic-a"].Error = link.MirrorErrSourceTopicMayBeDeleted
	f.fake.mirrors["link-1"]["topic-a"].ErrorMessage = "the source topic is gone"
	m := object(t, f.do("GET", cluster+"/links/link-1/mirrors/topic-a", ""))
	if m["mirror_status"] != "FAILED" || m["mirror_topic_error"] != "SOURCE_TOPIC_MAY_BE_DELETED" || m["mirror_topic_error_message"] != "the source topic is gone" {
		t.Errorf("failed mirror = %v", m)
	}
	// No error and no lags: NO_ERROR and [].
	m = object(t, f.do("GET", cluster+"/links/link-1/mirrors/topic-b", ""))
	if m["mirror_topic_error"] != "NO_ERROR" {
		t.Errorf("topic-b mirror_topic_error = %v", m["mirror_topic_error"])
	}
	f.fake.mirrors["link-1"]["topic-b"].Lags = nil
	m = object(t, f.do("GET", cluster+"/links/link-1/mirrors/topic-b", ""))
	if lags, ok := m["mirror_lags"].([]any); !ok || len(lags) != 0 {
		t.Errorf("mirror_lags without lags = %v, want []", m["mirror_lags"])
	}

	errorIs(t, f.do("GET", cluster+"/links/link-1/mirrors/nope", ""), 404, `mirror topic "nope" does not exist on cluster link "link-1"`)
	errorIs(t, f.do("GET", cluster+"/links/nope/mirrors/topic-a", ""), 404, `cluster link "nope" does not exist`)
}

func TestCreateMirror(t *testing.T) {
	for _, tc := range []struct {
		name    string
		link    string
		query   string
		body    string
		status  int
		msg     string
		want    link.CreateMirror
		valOnly bool
		created string
	}{
		{name: "created", link: "link-2", body: `{"source_topic_name":"orders","configs":[{"name":"retention.ms","value":"1000"}],"replication_factor":3}`, status: 204,
			want: link.CreateMirror{SourceTopic: "orders", ReplicationFactor: 3, Configs: map[string]string{"retention.ms": "1000"}}, created: "orders"},
		{name: "mirror_topic_name", link: "link-2", body: `{"source_topic_name":"orders","mirror_topic_name":"dc1.orders"}`, status: 204,
			want: link.CreateMirror{SourceTopic: "orders", MirrorTopic: "dc1.orders", Configs: map[string]string{}}, created: "dc1.orders"},
		{name: "validate_only", link: "link-2", query: "?validate_only=true", body: `{"source_topic_name":"orders"}`, status: 204,
			want: link.CreateMirror{SourceTopic: "orders", Configs: map[string]string{}}, valOnly: true},
		{name: "exists", link: "link-1", body: `{"source_topic_name":"topic-a"}`, status: 409, msg: `mirror topic "topic-a" already exists`},
		{name: "no source topic", link: "link-2", body: `{"source_topic_name":"missing"}`, status: 404, msg: `source topic "missing" does not exist`},
		{name: "unknown link", link: "nope", body: `{"source_topic_name":"orders"}`, status: 404, msg: `cluster link "nope" does not exist`},
		{name: "source_topic_name missing", link: "link-2", body: `{"mirror_topic_name":"x"}`, status: 400, msg: "source_topic_name is required"},
		{name: "source_topic_name empty", link: "link-2", body: `{"source_topic_name":""}`, status: 400, msg: "source_topic_name is required"},
		{name: "replication_factor negative", link: "link-2", body: `{"source_topic_name":"o","replication_factor":-1}`, status: 400, msg: "replication_factor must be between 1 and 32767"},
		{name: "replication_factor string", link: "link-2", body: `{"source_topic_name":"o","replication_factor":"all"}`, status: 400, msg: "replication_factor must be a number"},
		{name: "malformed", link: "link-2", body: `{"source_topic_name":`, status: 400, msg: "malformed request body"},
		{name: "validate_only=maybe", link: "link-2", query: "?validate_only=maybe", body: `{"source_topic_name":"o"}`, status: 400, msg: "validate_only must be true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.do("POST", cluster+"/links/"+tc.link+"/mirrors"+tc.query, tc.body)
			if tc.status >= 400 {
				errorIs(t, rec, tc.status, tc.msg)
				return
			}
			noBody(t, rec, tc.status)
			got := f.fake.last
			if got.method != "CreateMirror" || got.link != tc.link || got.validateOnly != tc.valOnly ||
				got.mirror.SourceTopic != tc.want.SourceTopic || got.mirror.MirrorTopic != tc.want.MirrorTopic ||
				got.mirror.ReplicationFactor != tc.want.ReplicationFactor || !maps.Equal(got.mirror.Configs, tc.want.Configs) {
				t.Errorf("Manager asked %+v, want %+v validate_only %v", got, tc.want, tc.valOnly)
			}
			if tc.created != "" {
				if _, ok := f.fake.mirrors[tc.link][tc.created]; !ok {
					t.Errorf("mirror %s was not created", tc.created)
				}
			}
			if tc.valOnly && len(f.fake.mirrors[tc.link]) != 0 {
				t.Errorf("validate_only created %v", f.fake.mirrors[tc.link])
			}
		})
	}
}

func TestAlterMirrors(t *testing.T) {
	type outcome struct {
		code    int // 0: success (error_code null)
		state   link.MirrorState
		message string // error_message part, or the first of messages
	}
	for _, tc := range []struct {
		name    string
		op      string
		query   string
		body    string
		status  int
		msg     string
		valOnly bool
		want    map[string]outcome
	}{
		{name: "promote", op: "promote", body: `{"mirror_topic_names":["topic-a"]}`, status: 200,
			want: map[string]outcome{"topic-a": {state: link.MirrorStopped, message: "mirror topic topic-a is STOPPED"}}},
		{name: "failover both", op: "failover", body: `{"mirror_topic_names":["topic-a","topic-b"]}`, status: 200,
			want: map[string]outcome{"topic-a": {state: link.MirrorStopped}, "topic-b": {state: link.MirrorStopped}}},
		{name: "pause", op: "pause", body: `{"mirror_topic_names":["topic-a"]}`, status: 200,
			want: map[string]outcome{"topic-a": {state: link.MirrorPaused}}},
		{name: "resume", op: "resume", body: `{"mirror_topic_names":["topic-b"]}`, status: 200,
			want: map[string]outcome{"topic-b": {state: link.MirrorActive}}},
		{name: "partly refused", op: "pause", body: `{"mirror_topic_names":["topic-a","topic-b","nope"]}`, status: 200,
			want: map[string]outcome{
				"topic-a": {state: link.MirrorPaused},
				"topic-b": {code: 409, state: link.MirrorPaused, message: `mirror topic "topic-b" is PAUSED`},
				"nope":    {code: 404, message: `mirror topic "nope" does not exist`},
			}},
		{name: "validate_only", op: "promote", query: "?validate_only=true", body: `{"mirror_topic_names":["topic-a"]}`, status: 200, valOnly: true,
			want: map[string]outcome{"topic-a": {state: link.MirrorActive}}},
		{name: "unknown link", op: "promote", body: `{"mirror_topic_names":["topic-a"]}`, status: 404, msg: `cluster link "nope" does not exist`},
		{name: "empty names", op: "promote", body: `{"mirror_topic_names":[]}`, status: 400, msg: "mirror_topic_names is empty"},
		{name: "no names", op: "promote", body: `{}`, status: 400, msg: "mirror_topic_names is required"},
		{name: "pattern", op: "failover", body: `{"mirror_topic_name_pattern":".*"}`, status: 400, msg: "mirror_topic_name_pattern is not supported"},
		{name: "names not an array", op: "pause", body: `{"mirror_topic_names":"topic-a"}`, status: 400, msg: "mirror_topic_names must be an array"},
		{name: "malformed", op: "resume", body: `{"mirror_topic_names":["topic-b"`, status: 400, msg: "malformed request body"},
		{name: "empty body", op: "resume", body: ``, status: 400, msg: "request body is empty"},
		{name: "validate_only=maybe", op: "promote", query: "?validate_only=maybe", body: `{"mirror_topic_names":["topic-a"]}`, status: 400, msg: "validate_only must be true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			linkName := "link-1"
			if tc.name == "unknown link" {
				linkName = "nope"
			}
			rec := f.do("POST", cluster+"/links/"+linkName+"/mirrors:"+tc.op+tc.query, tc.body)
			if tc.status >= 400 {
				errorIs(t, rec, tc.status, tc.msg)
				return
			}
			if rec.Code != tc.status {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got := f.fake.last; got.op != link.MirrorOp(tc.op) || got.validateOnly != tc.valOnly {
				t.Errorf("Manager asked op %s validate_only %v, want %s %v", got.op, got.validateOnly, tc.op, tc.valOnly)
			}
			self := base + "/clusters/dest-cluster-1/links/link-1/mirrors"
			data := collection(t, object(t, rec), "KafkaAlterMirrorsDataList", self, requiredAlterMirror)
			if len(data) != len(tc.want) {
				t.Fatalf("%d results, want %d", len(data), len(tc.want))
			}
			for _, d := range data {
				name := d["mirror_topic_name"].(string)
				want, ok := tc.want[name]
				if !ok {
					t.Fatalf("result for %s, which was not asked", name)
				}
				resource(t, d, requiredAlterMirror, "AlterMirrorsData", self+"/"+name)
				lags, ok := d["mirror_lags"].([]any)
				if !ok {
					t.Errorf("%s: mirror_lags = %v, want an array", name, d["mirror_lags"])
				}
				if n := lagCount(f, name); len(lags) != n {
					t.Errorf("%s: %d mirror_lags, want %d", name, len(lags), n)
				}
				if want.code == 0 {
					if d["error_code"] != nil || d["error_message"] != nil {
						t.Errorf("%s: error_code %v error_message %v, want null", name, d["error_code"], d["error_message"])
					}
					if msgs, _ := d["messages"].([]any); want.message != "" && (len(msgs) == 0 || msgs[0] != want.message) {
						t.Errorf("%s: messages = %v, want %q", name, d["messages"], want.message)
					}
				} else {
					if code, _ := d["error_code"].(float64); int(code) != want.code {
						t.Errorf("%s: error_code = %v, want %d", name, d["error_code"], want.code)
					}
					if msg, _ := d["error_message"].(string); !strings.Contains(msg, want.message) {
						t.Errorf("%s: error_message = %q, want %q", name, msg, want.message)
					}
					if _, ok := d["messages"]; ok {
						t.Errorf("%s: messages written without any", name)
					}
				}
				if m, ok := f.fake.mirrors["link-1"][name]; ok && want.state != "" && m.State != want.state {
					t.Errorf("%s is %s after %s, want %s", name, m.State, tc.op, want.state)
				}
			}
		})
	}
}

// Only the four operations are routed; others are unknown paths.
func TestAlterMirrorsUnknownOp(t *testing.T) {
	f := newFixture(t)
	errorIs(t, f.do("POST", cluster+"/links/link-1/mirrors:reverse-and-pause-mirror", `{"mirror_topic_names":["topic-a"]}`), 404, "HTTP 404 Not Found")
	if f.fake.calls["AlterMirrors"] != 0 {
		t.Error("AlterMirrors was called")
	}
}

// The lags of an operation's results are read with Mirror, once per topic
// that exists; a topic that cannot be read still carries [].
func TestAlterMirrorsLags(t *testing.T) {
	f := newFixture(t)
	rec := f.do("POST", cluster+"/links/link-1/mirrors:failover", `{"mirror_topic_names":["topic-a","topic-b","nope"]}`)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if n := f.fake.calls["Mirror"]; n != 2 {
		t.Errorf("Mirror called %d times, want 2 (not for the unknown topic)", n)
	}
	data := object(t, rec)["data"].([]any)
	want := []string{
		"[map[lag:0 last_source_fetch_offset:5 partition:0] map[lag:10000 last_source_fetch_offset:1000 partition:1]]",
		"[map[lag:3 last_source_fetch_offset:7 partition:0]]",
		"[]",
	}
	for i, d := range data {
		if got := fmt.Sprint(d.(map[string]any)["mirror_lags"]); got != want[i] {
			t.Errorf("data[%d].mirror_lags = %s, want %s", i, got, want[i])
		}
	}
}

// lagCount is how many lags the fake holds for link-1's mirror topic.
func lagCount(f *fixture, topic string) int {
	if m, ok := f.fake.mirrors["link-1"][topic]; ok {
		return len(m.Lags)
	}
	return 0
}
