package rest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/linkproxy/linkproxy/mirror/link"
)

// Required properties, as the OpenAPI's schemas list them (allOf of
// Resource or ResourceCollection and the schema's own _allOf).
var (
	requiredError      = []string{"error_code", "message"}
	requiredCollection = []string{"kind", "metadata", "data"}
	requiredCluster    = []string{"kind", "metadata", "cluster_id", "acls", "broker_configs", "brokers", "consumer_groups", "partition_reassignments", "topics"}
	requiredLink       = []string{"kind", "metadata", "cluster_link_id", "link_id", "link_name", "topic_names",
		// not required by the Platform OpenAPI, but always written
		"source_cluster_id", "destination_cluster_id", "link_state", "link_error", "link_error_message"}
	requiredLinkConfig  = []string{"kind", "metadata", "cluster_id", "default", "link_name", "name", "read_only", "sensitive", "source", "synonyms", "value"}
	requiredMirror      = []string{"kind", "metadata", "link_name", "mirror_lags", "mirror_status", "mirror_topic_name", "num_partitions", "source_topic_name", "state_time_ms"}
	requiredMirrorLag   = []string{"lag", "last_source_fetch_offset", "partition"}
	requiredAlterMirror = []string{"kind", "metadata", "error_code", "error_message", "mirror_lags", "mirror_topic_name"}
)

const (
	host    = "rest.example:8090"
	base    = "http://" + host + "/kafka/v3"
	cluster = "/kafka/v3/clusters/dest-cluster-1"
)

// Seeded state: link-1 (two mirrors) and link-2 (none, failed).
var (
	link1 = link.Link{
		Name: "link-1", ID: "7840644d-f7d8-4844-a577-a10ef3df31df", SourceClusterID: "src-cluster",
		State: link.StateActive, Error: link.NoError,
	}
	link2 = link.Link{
		Name: "link-2", ID: "f749116e-f847-4bd2-b1f6-5c4e518a0678", SourceClusterID: "src-cluster-2",
		State: link.StateFailed, Error: link.ErrAuthentication, ErrorMessage: "SASL authentication failed",
	}
	mirrorA = link.Mirror{
		MirrorTopic: "topic-a", SourceTopic: "topic-a", State: link.MirrorActive, Error: link.NoError,
		NumPartitions: 2, StateTimeMillis: 1612550939300,
		Lags: []link.Lag{{Partition: 1, Lag: 10000, LastSourceFetchOffset: 1000}, {Partition: 0, Lag: 0, LastSourceFetchOffset: 5}},
	}
	mirrorB = link.Mirror{
		MirrorTopic: "topic-b", SourceTopic: "topic-b", State: link.MirrorPaused,
		NumPartitions: 1, StateTimeMillis: 1612551353640, Lags: []link.Lag{{Partition: 0, Lag: 3, LastSourceFetchOffset: 7}},
	}
)

type fixture struct {
	t    *testing.T
	fake *fakeManager
	srv  *Server
	logs *syncBuffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fake := newFake()
	fake.seed(link1, map[string]string{"bootstrap.servers": "src:9092"}, mirrorA, mirrorB)
	fake.seed(link2, map[string]string{"bootstrap.servers": "src2:9092", "sasl.jaas.config": "secret"})
	logs := &syncBuffer{}
	log := hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: logs})
	return &fixture{t: t, fake: fake, srv: New(fake, log), logs: logs}
}

// do sends one request to the handler, as a client of host would.
func (f *fixture) do(method, path, body string) *httptest.ResponseRecorder {
	f.t.Helper()
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, "http://"+host+path, nil)
	} else {
		r = httptest.NewRequest(method, "http://"+host+path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, r)
	return rec
}

// object is rec's body as a JSON object, checked to be one.
func object(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json; body %s", ct, rec.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, rec.Body)
	}
	return m
}

// hasKeys fails for each of keys missing from obj.
func hasKeys(t *testing.T, what string, obj map[string]any, keys []string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s: required property %q is missing from %v", what, k, obj)
		}
	}
}

// resource checks a Resource: its required properties, kind and
// metadata.self.
func resource(t *testing.T, obj map[string]any, keys []string, kind, self string) {
	t.Helper()
	hasKeys(t, kind, obj, keys)
	if obj["kind"] != kind {
		t.Errorf("kind = %v, want %s", obj["kind"], kind)
	}
	md, ok := obj["metadata"].(map[string]any)
	if !ok {
		t.Fatalf("%s: metadata is %T, want an object", kind, obj["metadata"])
	}
	if md["self"] != self {
		t.Errorf("%s: metadata.self = %v, want %s", kind, md["self"], self)
	}
}

// collection checks a ResourceCollection and returns its data, each
// checked to be an object with keys.
func collection(t *testing.T, obj map[string]any, kind, self string, keys []string) []map[string]any {
	t.Helper()
	resource(t, obj, requiredCollection, kind, self)
	md := obj["metadata"].(map[string]any)
	if next, ok := md["next"]; !ok || next != nil {
		t.Errorf("metadata.next = %v (present %v), want null", next, ok)
	}
	raw, ok := obj["data"].([]any)
	if !ok {
		t.Fatalf("data is %T, want an array", obj["data"])
	}
	out := make([]map[string]any, 0, len(raw))
	for i, d := range raw {
		m, ok := d.(map[string]any)
		if !ok {
			t.Fatalf("data[%d] is %T, want an object", i, d)
		}
		hasKeys(t, kind, m, keys)
		out = append(out, m)
	}
	return out
}

// errorIs checks an Error answer: status, error_code equal to it, and a
// message containing want.
func errorIs(t *testing.T, rec *httptest.ResponseRecorder, status int, want string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	obj := object(t, rec)
	hasKeys(t, "Error", obj, requiredError)
	if code, _ := obj["error_code"].(float64); int(code) != status {
		t.Errorf("error_code = %v, want %d", obj["error_code"], status)
	}
	if msg, _ := obj["message"].(string); !strings.Contains(msg, want) {
		t.Errorf("message = %q, want it to contain %q", msg, want)
	}
}

// noBody checks a success without content.
func noBody(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if rec.Body.Len() != 0 {
		t.Errorf("body = %q, want none", rec.Body)
	}
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
