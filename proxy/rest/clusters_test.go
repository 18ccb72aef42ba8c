package rest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/linkproxy/linkproxy/mirror/link"
)

func TestClusters(t *testing.T) {
	f := newFixture(t)

	rec := f.do("GET", "/kafka/v3/clusters", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /clusters: %d %s", rec.Code, rec.Body)
	}
	data := collection(t, object(t, rec), "KafkaClusterList", base+"/clusters", requiredCluster)
	if len(data) != 1 {
		t.Fatalf("GET /clusters: %d clusters, want the fronted one alone", len(data))
	}
	checkCluster(t, data[0])

	rec = f.do("GET", cluster, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /clusters/{id}: %d %s", rec.Code, rec.Body)
	}
	checkCluster(t, object(t, rec))
}

func checkCluster(t *testing.T, c map[string]any) {
	t.Helper()
	self := base + "/clusters/dest-cluster-1"
	resource(t, c, requiredCluster, "KafkaCluster", self)
	if c["cluster_id"] != "dest-cluster-1" {
		t.Errorf("cluster_id = %v", c["cluster_id"])
	}
	if rn := c["metadata"].(map[string]any)["resource_name"]; rn != "crn:///kafka=dest-cluster-1" {
		t.Errorf("metadata.resource_name = %v", rn)
	}
	for rel, path := range map[string]string{
		"acls": "/acls", "brokers": "/brokers", "broker_configs": "/broker-configs",
		"consumer_groups": "/consumer-groups", "topics": "/topics",
		"partition_reassignments": "/topics/-/partitions/-/reassignment",
	} {
		r, ok := c[rel].(map[string]any)
		if !ok || r["related"] != self+path {
			t.Errorf("%s = %v, want related %s", rel, c[rel], self+path)
		}
	}
}

// Every endpoint under /clusters/{cluster_id} answers 404 for another
// cluster, before the Manager is asked anything else.
func TestUnknownCluster(t *testing.T) {
	other := "/kafka/v3/clusters/other-cluster"
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "", ""},
		{"GET", "/links", ""},
		{"POST", "/links?link_name=x", `{"configs":[{"name":"bootstrap.servers","value":"b:9092"}]}`},
		{"GET", "/links/link-1", ""},
		{"DELETE", "/links/link-1", ""},
		{"GET", "/links/link-1/configs", ""},
		{"GET", "/links/link-1/configs/acl.sync.enable", ""},
		{"PUT", "/links/link-1/configs/acl.sync.enable", `{"value":"true"}`},
		{"DELETE", "/links/link-1/configs/acl.sync.enable", ""},
		{"PUT", "/links/link-1/configs:alter", `{"data":[]}`},
		{"GET", "/links/link-1/mirrors", ""},
		{"POST", "/links/link-1/mirrors", `{"source_topic_name":"t"}`},
		{"GET", "/links/-/mirrors", ""},
		{"GET", "/links/link-1/mirrors/topic-a", ""},
		{"POST", "/links/link-1/mirrors:promote", `{"mirror_topic_names":["topic-a"]}`},
		{"POST", "/links/link-1/mirrors:failover", `{"mirror_topic_names":["topic-a"]}`},
		{"POST", "/links/link-1/mirrors:pause", `{"mirror_topic_names":["topic-a"]}`},
		{"POST", "/links/link-1/mirrors:resume", `{"mirror_topic_names":["topic-b"]}`},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			f := newFixture(t)
			errorIs(t, f.do(tc.method, other+tc.path, tc.body), http.StatusNotFound, "Cluster other-cluster cannot be found.")
			for m, n := range f.fake.calls {
				if m != "ClusterID" && n > 0 {
					t.Errorf("Manager.%s was called for an unknown cluster", m)
				}
			}
		})
	}
}

// A failing ClusterID is answered with its status (a *link.Error) or 500.
func TestClusterIDFails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		msg    string
	}{
		{"link.Error", link.Errorf(http.StatusServiceUnavailable, "cluster links are starting"), 503, "cluster links are starting"},
		{"other", errors.New("metadata request: broker unreachable"), 500, "metadata request: broker unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.fake.fail = tc.err
			for _, path := range []string{"/kafka/v3/clusters", cluster, cluster + "/links"} {
				errorIs(t, f.do("GET", path, ""), tc.status, tc.msg)
			}
		})
	}
}

// metadata.self follows the host and scheme the client used.
func TestSelfFollowsRequest(t *testing.T) {
	f := newFixture(t)
	r := httptest.NewRequest("GET", "https://kafka.internal:443"+cluster+"/links/link-1", nil)
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, r)
	self := object(t, rec)["metadata"].(map[string]any)["self"].(string)
	if want := "https://kafka.internal:443/kafka/v3/clusters/dest-cluster-1/links/link-1"; self != want {
		t.Errorf("self = %s, want %s", self, want)
	}
	if !strings.HasPrefix(self, "https://") {
		t.Errorf("self %s is not https", self)
	}
}
