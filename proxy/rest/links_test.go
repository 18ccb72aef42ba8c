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

func TestListLinks(t *testing.T) {
	f := newFixture(t)
	rec := f.do("GET", cluster+"/links", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	data := collection(t, object(t, rec), "KafkaLinkDataList", base+"/clusters/dest-cluster-1/links", requiredLink)
	if len(data) != 2 {
		t.Fatalf("%d links, want 2", len(data))
	}
	checkLink(t, data[0], "link-1", "eEBkTffYSESld6EO898x3w", []any{"topic-a", "topic-b"}, "ACTIVE", "NO_ERROR", "")
	checkLink(t, data[1], "link-2", "90kRbvhHS9Kx9lxOUYoGeA", []any{}, "FAILED", "AUTHENTICATION_ERROR", "SASL authentication failed")
}

func TestGetLink(t *testing.T) {
	f := newFixture(t)
	rec := f.do("GET", cluster+"/links/link-1", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	l := object(t, rec)
	checkLink(t, l, "link-1", "eEBkTffYSESld6EO898x3w", []any{"topic-a", "topic-b"}, "ACTIVE", "NO_ERROR", "")
	if l["source_cluster_id"] != "src-cluster" {
		t.Errorf("source_cluster_id = %v", l["source_cluster_id"])
	}
	if v, ok := l["destination_cluster_id"]; !ok || v != nil {
		t.Errorf("destination_cluster_id = %v, want null", v)
	}

	errorIs(t, f.do("GET", cluster+"/links/nope", ""), http.StatusNotFound, `cluster link "nope" does not exist`)
}

func checkLink(t *testing.T, l map[string]any, name, clusterLinkID string, topics []any, state, linkErr, msg string) {
	t.Helper()
	resource(t, l, requiredLink, "KafkaLinkData", base+"/clusters/dest-cluster-1/links/"+name)
	for k, want := range map[string]any{
		"link_name": name, "cluster_link_id": clusterLinkID,
		"link_state": state, "link_error": linkErr, "link_error_message": msg,
	} {
		if l[k] != want {
			t.Errorf("%s: %s = %v, want %v", name, k, l[k], want)
		}
	}
	if got, _ := l["topic_names"].([]any); !slices.Equal(got, topics) {
		t.Errorf("%s: topic_names = %v, want %v", name, l["topic_names"], topics)
	}
}

func TestCreateLink(t *testing.T) {
	const good = `{"source_cluster_id":"src-9","configs":[{"name":"bootstrap.servers","value":"src9:9092"},{"name":"acl.sync.enable","value":"false"},{"name":"consumer.offset.sync.ms","value":null}]}`
	for _, tc := range []struct {
		name   string
		query  string
		body   string
		status int
		msg    string // error message part, for errors
		want   *call  // what the Manager was asked, when it was
	}{
		{name: "created", query: "?link_name=link-9", body: good, status: 204,
			want: &call{link: "link-9", source: "src-9", configs: map[string]string{"bootstrap.servers": "src9:9092", "acl.sync.enable": "false"}, validateLink: true}},
		{name: "validate_only", query: "?link_name=link-9&validate_only=true&validate_link=false", body: good, status: 204,
			want: &call{link: "link-9", source: "src-9", configs: map[string]string{"bootstrap.servers": "src9:9092", "acl.sync.enable": "false"}, validateOnly: true}},
		{name: "booleans in any case", query: "?link_name=link-9&validate_only=TRUE&validate_link=False", body: good, status: 204,
			want: &call{link: "link-9", source: "src-9", configs: map[string]string{"bootstrap.servers": "src9:9092", "acl.sync.enable": "false"}, validateOnly: true}},
		{name: "duplicate link", query: "?link_name=link-1", body: good, status: 409, msg: `cluster link "link-1" already exists`},
		{name: "bad config", query: "?link_name=link-9", body: `{"configs":[{"name":"bootstrap.servers","value":"b:1"},{"name":"no.such.config","value":"1"}]}`, status: 400, msg: "unknown cluster link config no.such.config"},
		{name: "no bootstrap", query: "?link_name=link-9", body: `{"source_cluster_id":"s"}`, status: 400, msg: "bootstrap.servers is required"},
		{name: "no link_name", query: "", body: good, status: 400, msg: "query parameter link_name is required"},
		{name: "empty link_name", query: "?link_name=", body: good, status: 400, msg: "link_name is required"},
		{name: "link_name twice", query: "?link_name=a&link_name=b", body: good, status: 400, msg: "link_name is given 2 times"},
		{name: "validate_only=maybe", query: "?link_name=link-9&validate_only=maybe", body: good, status: 400, msg: `validate_only must be true or false, not "maybe"`},
		{name: "validate_link=1", query: "?link_name=link-9&validate_link=1", body: good, status: 400, msg: "validate_link must be true or false"},
		{name: "malformed JSON", query: "?link_name=link-9", body: `{"configs":[`, status: 400, msg: "malformed request body"},
		{name: "not JSON", query: "?link_name=link-9", body: `source_cluster_id=x`, status: 400, msg: "malformed request body"},
		{name: "wrong type", query: "?link_name=link-9", body: `{"configs":{"name":"x"}}`, status: 400, msg: "configs must be an array"},
		{name: "array body", query: "?link_name=link-9", body: `[1]`, status: 400, msg: "a JSON object is required"},
		{name: "two values", query: "?link_name=link-9", body: good + `{}`, status: 400, msg: "more than one JSON value"},
		{name: "empty body", query: "?link_name=link-9", body: "", status: 400, msg: "request body is empty"},
		{name: "config without name", query: "?link_name=link-9", body: `{"configs":[{"value":"x"}]}`, status: 400, msg: "configs[0].name is required"},
		{name: "config twice", query: "?link_name=link-9", body: `{"configs":[{"name":"acl.sync.enable","value":"true"},{"name":"acl.sync.enable","value":"false"}]}`, status: 400, msg: "config acl.sync.enable is given more than once"},
		{name: "source-initiated", query: "?link_name=link-9", body: `{"destination_cluster_id":"d","configs":[{"name":"link.mode","value":"SOURCE"}]}`, status: 400, msg: "destination_cluster_id"},
		{name: "unknown fields ignored", query: "?link_name=link-9", body: `{"source_cluster_id":"src-9","remote_cluster_id":"src-9","configs":[{"name":"bootstrap.servers","value":"src9:9092"}]}`, status: 204,
			want: &call{link: "link-9", source: "src-9", configs: map[string]string{"bootstrap.servers": "src9:9092"}, validateLink: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.do("POST", cluster+"/links"+tc.query, tc.body)
			if tc.status >= 400 {
				errorIs(t, rec, tc.status, tc.msg)
			} else {
				noBody(t, rec, tc.status)
			}
			if tc.want == nil {
				return
			}
			got := f.fake.last
			if got.method != "CreateLink" || got.link != tc.want.link || got.source != tc.want.source ||
				!maps.Equal(got.configs, tc.want.configs) || got.validateOnly != tc.want.validateOnly || got.validateLink != tc.want.validateLink {
				t.Errorf("Manager asked %+v, want %+v", got, *tc.want)
			}
			_, exists := f.fake.links["link-9"]
			if exists == tc.want.validateOnly {
				t.Errorf("link-9 exists = %v with validate_only %v", exists, tc.want.validateOnly)
			}
		})
	}
}

func TestCreateLinkBodyLimit(t *testing.T) {
	f := newFixture(t)
	big := `{"source_cluster_id":"` + strings.Repeat("x", 1<<20) + `"}`
	errorIs(t, f.do("POST", cluster+"/links?link_name=big", big), http.StatusRequestEntityTooLarge, "larger than 1048576 bytes")
	if f.fake.calls["CreateLink"] != 0 {
		t.Error("CreateLink was called with a body over the limit")
	}
	// Data after the JSON value counts too.
	big = `{"configs":[{"name":"bootstrap.servers","value":"b:1"}]}` + strings.Repeat(" ", 1<<20)
	errorIs(t, f.do("POST", cluster+"/links?link_name=big", big), http.StatusRequestEntityTooLarge, "larger than")
}

func TestDeleteLink(t *testing.T) {
	for _, tc := range []struct {
		name    string
		link    string
		query   string
		status  int
		msg     string
		gone    bool
		force   bool
		valOnly bool
	}{
		{name: "without mirrors", link: "link-2", status: 200, gone: true},
		{name: "active mirrors", link: "link-1", status: 409, msg: "mirror topics that are not stopped"},
		{name: "force", link: "link-1", query: "?force=true", status: 200, gone: true, force: true},
		{name: "validate_only", link: "link-2", query: "?validate_only=true", status: 200, valOnly: true},
		{name: "force validate_only", link: "link-1", query: "?force=true&validate_only=true", status: 200, force: true, valOnly: true},
		{name: "unknown", link: "nope", status: 404, msg: `cluster link "nope" does not exist`},
		{name: "force=yes", link: "link-1", query: "?force=yes", status: 400, msg: "query parameter force must be true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.do("DELETE", cluster+"/links/"+tc.link+tc.query, "")
			if tc.status >= 400 {
				errorIs(t, rec, tc.status, tc.msg)
			} else {
				noBody(t, rec, tc.status) // the OpenAPI's 200 "no content in the response"
				if got := f.fake.last; got.force != tc.force || got.validateOnly != tc.valOnly {
					t.Errorf("Manager asked force=%v validate_only=%v, want %v %v", got.force, got.validateOnly, tc.force, tc.valOnly)
				}
			}
			if _, exists := f.fake.links[tc.link]; exists == tc.gone && tc.link != "nope" {
				t.Errorf("%s exists = %v after delete", tc.link, exists)
			}
		})
	}
}

func TestLinkConfigs(t *testing.T) {
	f := newFixture(t)
	rec := f.do("GET", cluster+"/links/link-2/configs", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	self := base + "/clusters/dest-cluster-1/links/link-2/configs"
	data := collection(t, object(t, rec), "KafkaLinkConfigDataList", self, requiredLinkConfig)
	if len(data) != len(linkConfigDefaults) {
		t.Fatalf("%d configs, want %d", len(data), len(linkConfigDefaults))
	}
	byName := make(map[string]map[string]any)
	for _, c := range data {
		name := c["name"].(string)
		byName[name] = c
		resource(t, c, requiredLinkConfig, "KafkaLinkConfigData", self+"/"+name)
		if c["cluster_id"] != "dest-cluster-1" || c["link_name"] != "link-2" {
			t.Errorf("%s: cluster_id %v link_name %v", name, c["cluster_id"], c["link_name"])
		}
		if syn, ok := c["synonyms"].([]any); !ok || syn == nil {
			t.Errorf("%s: synonyms = %v, want an array", name, c["synonyms"])
		}
	}
	for name, want := range map[string]map[string]any{
		"bootstrap.servers":       {"value": "src2:9092", "default": false, "source": "DYNAMIC_CLUSTER_LINK_CONFIG", "read_only": false, "sensitive": false},
		"consumer.offset.sync.ms": {"value": "30000", "default": true, "source": "DEFAULT_CONFIG"},
		"cluster.link.prefix":     {"read_only": true},
		"sasl.jaas.config":        {"value": "", "sensitive": true, "default": false},
	} {
		for k, v := range want {
			if byName[name][k] != v {
				t.Errorf("%s: %s = %v, want %v", name, k, byName[name][k], v)
			}
		}
	}
	if !slices.IsSortedFunc(data, func(a, b map[string]any) int { return strings.Compare(a["name"].(string), b["name"].(string)) }) {
		t.Error("configs are not sorted by name")
	}

	rec = f.do("GET", cluster+"/links/link-2/configs/bootstrap.servers", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET config: status %d: %s", rec.Code, rec.Body)
	}
	c := object(t, rec)
	resource(t, c, requiredLinkConfig, "KafkaLinkConfigData", self+"/bootstrap.servers")
	if c["value"] != "src2:9092" {
		t.Errorf("value = %v", c["value"])
	}

	errorIs(t, f.do("GET", cluster+"/links/link-2/configs/no.such", ""), 404, "Config no.such cannot be found for cluster link link-2.")
	errorIs(t, f.do("GET", cluster+"/links/nope/configs", ""), 404, `cluster link "nope" does not exist`)
	errorIs(t, f.do("GET", cluster+"/links/nope/configs/bootstrap.servers", ""), 404, `cluster link "nope" does not exist`)
}

func TestUpdateLinkConfigs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		method  string
		path    string // after /links/
		body    string
		status  int
		msg     string
		set     map[string]string
		reset   []string
		valOnly bool
	}{
		{name: "PUT one", method: "PUT", path: "link-1/configs/acl.sync.enable", body: `{"value":"true"}`, status: 204,
			set: map[string]string{"acl.sync.enable": "true"}},
		{name: "PUT empty value", method: "PUT", path: "link-1/configs/acl.sync.enable", body: `{"value":""}`, status: 204,
			set: map[string]string{"acl.sync.enable": ""}},
		{name: "PUT read-only", method: "PUT", path: "link-1/configs/cluster.link.prefix", body: `{"value":"x."}`, status: 400, msg: "fixed when the link is created"},
		{name: "PUT unknown config", method: "PUT", path: "link-1/configs/no.such", body: `{"value":"1"}`, status: 400, msg: "unknown cluster link config"},
		{name: "PUT unknown link", method: "PUT", path: "nope/configs/acl.sync.enable", body: `{"value":"1"}`, status: 404, msg: "does not exist"},
		{name: "PUT no value", method: "PUT", path: "link-1/configs/acl.sync.enable", body: `{}`, status: 400, msg: "value is required"},
		{name: "PUT null value", method: "PUT", path: "link-1/configs/acl.sync.enable", body: `{"value":null}`, status: 400, msg: "value is required"},
		{name: "PUT number value", method: "PUT", path: "link-1/configs/acl.sync.enable", body: `{"value":1}`, status: 400, msg: "value must be a string"},
		{name: "PUT malformed", method: "PUT", path: "link-1/configs/acl.sync.enable", body: `{"value":`, status: 400, msg: "malformed request body"},
		{name: "DELETE one", method: "DELETE", path: "link-1/configs/acl.sync.enable", status: 204,
			reset: []string{"acl.sync.enable"}},
		{name: "DELETE unknown link", method: "DELETE", path: "nope/configs/acl.sync.enable", status: 404, msg: "does not exist"},
		{name: "alter", method: "PUT", path: "link-1/configs:alter",
			body:   `{"data":[{"name":"acl.sync.enable","value":"true"},{"name":"consumer.offset.sync.ms","operation":"DELETE"},{"name":"bootstrap.servers","value":"n:1","operation":"SET"}]}`,
			status: 204, set: map[string]string{"acl.sync.enable": "true", "bootstrap.servers": "n:1"}, reset: []string{"consumer.offset.sync.ms"}},
		{name: "alter lower-case operation", method: "PUT", path: "link-1/configs:alter", body: `{"data":[{"name":"acl.sync.enable","operation":"delete"}]}`,
			status: 204, set: map[string]string{}, reset: []string{"acl.sync.enable"}},
		{name: "alter validate_only", method: "PUT", path: "link-1/configs:alter?validate_only=true", body: `{"data":[{"name":"acl.sync.enable","value":"true"}]}`,
			status: 204, set: map[string]string{"acl.sync.enable": "true"}, valOnly: true},
		{name: "alter validate_only in body", method: "PUT", path: "link-1/configs:alter", body: `{"data":[{"name":"acl.sync.enable","value":"true"}],"validate_only":true}`,
			status: 204, set: map[string]string{"acl.sync.enable": "true"}, valOnly: true},
		{name: "alter empty", method: "PUT", path: "link-1/configs:alter", body: `{"data":[]}`, status: 204, set: map[string]string{}},
		{name: "alter no data", method: "PUT", path: "link-1/configs:alter", body: `{}`, status: 400, msg: "data is required"},
		{name: "alter bad operation", method: "PUT", path: "link-1/configs:alter", body: `{"data":[{"name":"acl.sync.enable","operation":"APPEND"}]}`, status: 400, msg: `data[0].operation must be SET or DELETE, not "APPEND"`},
		{name: "alter SET without value", method: "PUT", path: "link-1/configs:alter", body: `{"data":[{"name":"acl.sync.enable"}]}`, status: 400, msg: "data[0].value is required"},
		{name: "alter without name", method: "PUT", path: "link-1/configs:alter", body: `{"data":[{"value":"1"}]}`, status: 400, msg: "data[0].name is required"},
		{name: "alter name twice", method: "PUT", path: "link-1/configs:alter", body: `{"data":[{"name":"a","value":"1"},{"name":"a","operation":"DELETE"}]}`, status: 400, msg: "given more than once"},
		{name: "alter bad config", method: "PUT", path: "link-1/configs:alter", body: `{"data":[{"name":"no.such","value":"1"}]}`, status: 400, msg: "unknown cluster link config"},
		{name: "alter unknown link", method: "PUT", path: "nope/configs:alter", body: `{"data":[]}`, status: 404, msg: "does not exist"},
		{name: "alter validate_only=maybe", method: "PUT", path: "link-1/configs:alter?validate_only=maybe", body: `{"data":[]}`, status: 400, msg: "query parameter validate_only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			before := maps.Clone(f.fake.configs["link-1"])
			rec := f.do(tc.method, cluster+"/links/"+tc.path, tc.body)
			if tc.status >= 400 {
				errorIs(t, rec, tc.status, tc.msg)
				return
			}
			noBody(t, rec, tc.status)
			got := f.fake.last
			if got.method != "AlterLinkConfigs" || got.link != "link-1" || !maps.Equal(got.configs, tc.set) ||
				!slices.Equal(got.reset, tc.reset) || got.validateOnly != tc.valOnly {
				t.Errorf("Manager asked %+v, want set %v reset %v validate_only %v", got, tc.set, tc.reset, tc.valOnly)
			}
			if tc.valOnly && !maps.Equal(before, f.fake.configs["link-1"]) {
				t.Errorf("validate_only changed configs: %v -> %v", before, f.fake.configs["link-1"])
			}
		})
	}
}

func TestLinkIDs(t *testing.T) {
	for _, tc := range []struct{ id, linkID, clusterLinkID string }{
		// The OpenAPI's examples pair these.
		{"7840644d-f7d8-4844-a577-a10ef3df31df", "7840644d-f7d8-4844-a577-a10ef3df31df", "eEBkTffYSESld6EO898x3w"},
		{"F749116E-F847-4BD2-B1F6-5C4E518A0678", "f749116e-f847-4bd2-b1f6-5c4e518a0678", "90kRbvhHS9Kx9lxOUYoGeA"},
		{"nNFxHqTvQ5CjXt_XWNl6gg", "9cd1711e-a4ef-4390-a35e-dfd758d97a82", "nNFxHqTvQ5CjXt_XWNl6gg"},
		{"not-a-uuid", "not-a-uuid", "not-a-uuid"},
	} {
		l, c := linkIDs(tc.id)
		if l != tc.linkID || c != tc.clusterLinkID {
			t.Errorf("linkIDs(%q) = %q, %q; want %q, %q", tc.id, l, c, tc.linkID, tc.clusterLinkID)
		}
	}
}

// destination_cluster_id is null for a link into this cluster, and written
// for any other destination.
func TestLinkDestination(t *testing.T) {
	for dest, want := range map[string]any{"": nil, "dest-cluster-1": nil, "elsewhere": "elsewhere"} {
		f := newFixture(t)
		f.fake.seed(link.Link{Name: "l", ID: "x", SourceClusterID: "s", DestinationClusterID: dest}, nil)
		l := object(t, f.do("GET", cluster+"/links/l", ""))
		if got, ok := l["destination_cluster_id"]; !ok || got != want {
			t.Errorf("DestinationClusterID %q: destination_cluster_id = %v (present %v), want %v", dest, got, ok, want)
		}
	}
}

// A link whose Manager-side fields are empty still writes every field.
func TestLinkEmptyFields(t *testing.T) {
	f := newFixture(t)
	f.fake.seed(link.Link{Name: "bare", ID: "x"}, nil)
	rec := f.do("GET", cluster+"/links/bare", "")
	l := object(t, rec)
	hasKeys(t, "bare", l, requiredLink)
	if l["source_cluster_id"] != nil || l["link_error"] != "NO_ERROR" || fmt.Sprint(l["topic_names"]) != "[]" {
		t.Errorf("bare link = %v", l)
	}
}
