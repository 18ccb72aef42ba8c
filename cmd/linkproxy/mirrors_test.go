package main

import "testing"

// Answers in the shapes of the OpenAPI's examples. 1700000000000 ms is
// 2023-11-14T22:13:20Z.
const (
	mirrorTopic1JSON = `{"kind":"KafkaMirrorData","metadata":{"self":"http://x/kafka/v3/clusters/cluster-1/links/link-1/mirrors/topic-1","resource_name":null},
   "link_name":"link-1","mirror_topic_name":"topic-1","source_topic_name":"topic-1","num_partitions":3,
   "mirror_lags":[{"partition":0,"lag":142,"last_source_fetch_offset":1293},
                  {"partition":1,"lag":0,"last_source_fetch_offset":1301},
                  {"partition":2,"lag":10000,"last_source_fetch_offset":12030}],
   "mirror_status":"ACTIVE","state_time_ms":1700000000000}`
	mirrorTopic2JSON = `{"kind":"KafkaMirrorData","metadata":{"self":"http://x/kafka/v3/clusters/cluster-1/links/link-2/mirrors/pre.topic-2","resource_name":null},
   "link_name":"link-2","mirror_topic_name":"pre.topic-2","source_topic_name":"topic-2","num_partitions":1,
   "mirror_lags":[{"partition":0,"lag":0,"last_source_fetch_offset":0}],
   "mirror_status":"PAUSED","state_time_ms":1700000060000}`
	mirrorsListJSON = `{"kind":"KafkaMirrorDataList","metadata":{"self":"http://x/kafka/v3/clusters/cluster-1/links/-/mirrors","next":null},
 "data":[` + mirrorTopic1JSON + `,` + mirrorTopic2JSON + `]}`

	alterOKJSON = `{"kind":"KafkaPromoteMirror","metadata":{"self":"http://x/kafka/v3/clusters/cluster-1/links/link-1/mirrors","resource_name":null},
 "data":[
  {"kind":"AlterMirrorsData","metadata":{"self":"s1"},"mirror_topic_name":"topic-1","error_code":null,"error_message":null,
   "mirror_lags":[{"partition":0,"lag":0,"last_source_fetch_offset":0},{"partition":1,"lag":10000,"last_source_fetch_offset":1000}]},
  {"kind":"AlterMirrorsData","metadata":{"self":"s2"},"mirror_topic_name":"topic-2","error_code":null,"error_message":null,"mirror_lags":[]}]}`

	alterPartialJSON = `{"kind":"KafkaPromoteMirror","metadata":{"self":"http://x/kafka/v3/clusters/cluster-1/links/link-1/mirrors","resource_name":null},
 "data":[
  {"kind":"AlterMirrorsData","metadata":{"self":"s1"},"mirror_topic_name":"topic-1","error_code":null,"error_message":null,
   "mirror_lags":[{"partition":0,"lag":5,"last_source_fetch_offset":7}]},
  {"kind":"AlterMirrorsData","metadata":{"self":"s2"},"mirror_topic_name":"topic-2","error_code":400,
   "error_message":"Topic 'topic-2' has already stopped its mirror from 'link-1'","mirror_lags":[]}]}`
)

const (
	link1Mirrors = "/kafka/v3/clusters/cluster-1/links/link-1/mirrors"
	allMirrors   = "/kafka/v3/clusters/cluster-1/links/-/mirrors"
)

func TestMirrorsCommands(t *testing.T) {
	topicFile := writeFile(t, "topic.properties", "retention.ms=86400000\ncleanup.policy=compact\n")
	cases := []cliCase{{
		name: "create",
		args: []string{"mirrors", "create", "--link", "link-1", "--mirror-topic", "pre.orders", "--source-topic", "orders",
			"--replication-factor", "3", "--config-file", topicFile, "--config", "cleanup.policy=delete"},
		routes: map[string]canned{"POST " + link1Mirrors: {204, noContent, ""}},
		wantCalls: []apiCall{{"POST", link1Mirrors, "", `{"source_topic_name":"orders","mirror_topic_name":"pre.orders","replication_factor":3,
			"configs":[{"name":"cleanup.policy","value":"delete"},{"name":"retention.ms","value":"86400000"}]}`}},
		wantStdout: "Mirror topic \"pre.orders\" created on cluster link \"link-1\" (source topic \"orders\").\n",
	}, {
		name:       "create with the mirror topic's name only",
		args:       []string{"mirrors", "create", "--link", "link-1", "--mirror-topic", "orders"},
		routes:     map[string]canned{"POST " + link1Mirrors: {204, noContent, ""}},
		wantCalls:  []apiCall{{"POST", link1Mirrors, "", `{"source_topic_name":"orders","mirror_topic_name":"orders"}`}},
		wantStdout: "Mirror topic \"orders\" created on cluster link \"link-1\" (source topic \"orders\").\n",
	}, {
		name:       "create with the source topic's name only, json",
		args:       []string{"mirrors", "create", "--link", "link-1", "--source-topic", "orders", "-o", "json"},
		routes:     map[string]canned{"POST " + link1Mirrors: {204, noContent, ""}},
		wantCalls:  []apiCall{{"POST", link1Mirrors, "", `{"source_topic_name":"orders"}`}},
		wantStdout: "",
	}, {
		name:       "create fails",
		args:       []string{"mirrors", "create", "--link", "link-1", "--mirror-topic", "orders"},
		routes:     map[string]canned{"POST " + link1Mirrors: {400, `{"error_code":40002,"message":"Topic 'orders' already exists."}`, ""}},
		wantCode:   1,
		wantCalls:  []apiCall{{"POST", link1Mirrors, "", `{"source_topic_name":"orders","mirror_topic_name":"orders"}`}},
		wantStderr: "linkproxy mirrors create: Topic 'orders' already exists.\n",
	}, {
		name:      "list all links, status filter",
		args:      []string{"mirrors", "list", "--mirror-status", "active"},
		routes:    map[string]canned{"GET " + allMirrors: {200, mirrorsListJSON, ""}},
		wantCalls: []apiCall{{"GET", allMirrors, "mirror_status=ACTIVE", ""}},
		wantStdout: "" +
			"LINK NAME  MIRROR TOPIC  SOURCE TOPIC  STATUS  PARTITIONS  MAX LAG  STATUS SINCE\n" +
			"link-1     topic-1       topic-1       ACTIVE  3           10000    2023-11-14T22:13:20Z\n" +
			"link-2     pre.topic-2   topic-2       PAUSED  1           0        2023-11-14T22:14:20Z\n",
	}, {
		name:       "list one link, json",
		args:       []string{"mirrors", "list", "--link", "link-1", "-o", "json"},
		routes:     map[string]canned{"GET " + link1Mirrors: {200, `{"kind":"KafkaMirrorDataList","metadata":{"self":"s"},"data":[{"mirror_topic_name":"topic-1","mirror_lags":[]}]}`, ""}},
		wantCalls:  []apiCall{{"GET", link1Mirrors, "", ""}},
		wantStdout: "[\n  {\n    \"mirror_topic_name\": \"topic-1\",\n    \"mirror_lags\": []\n  }\n]\n",
	}, {
		name:       "list empty",
		args:       []string{"mirrors", "list", "--link", "link-1"},
		routes:     map[string]canned{"GET " + link1Mirrors: {200, `{"data":[]}`, ""}},
		wantCalls:  []apiCall{{"GET", link1Mirrors, "", ""}},
		wantStdout: "No mirror topics.\n",
	}, {
		name:       "list of a missing link",
		args:       []string{"mirrors", "list", "--link", "l9"},
		routes:     map[string]canned{"GET /kafka/v3/clusters/cluster-1/links/l9/mirrors": {404, linkMissing, ""}},
		wantCode:   1,
		wantCalls:  []apiCall{{"GET", "/kafka/v3/clusters/cluster-1/links/l9/mirrors", "", ""}},
		wantStderr: "linkproxy mirrors list: Cluster link 'l9' does not exist.\n",
	}, {
		name:      "describe one topic",
		args:      []string{"mirrors", "describe", "--link", "link-1", "--mirror-topic", "topic-1"},
		routes:    map[string]canned{"GET " + link1Mirrors + "/topic-1": {200, mirrorTopic1JSON, ""}},
		wantCalls: []apiCall{{"GET", link1Mirrors + "/topic-1", "", ""}},
		wantStdout: "" +
			"Mirror topic: topic-1\n" +
			"Link name:    link-1\n" +
			"Source topic: topic-1\n" +
			"Status:       ACTIVE\n" +
			"Status since: 2023-11-14T22:13:20Z\n" +
			"Partitions:   3\n" +
			"Max lag:      10000\n" +
			"\n" +
			"PARTITION  LAG    LAST SOURCE FETCH OFFSET\n" +
			"0          142    1293\n" +
			"1          0      1301\n" +
			"2          10000  12030\n",
	}, {
		name:      "describe one topic, json is the object",
		args:      []string{"mirrors", "describe", "--link", "link-1", "--mirror-topic", "topic-1", "-o", "json"},
		routes:    map[string]canned{"GET " + link1Mirrors + "/topic-1": {200, `{"mirror_topic_name":"topic-1","mirror_lags":[{"partition":0,"lag":1,"last_source_fetch_offset":2}]}`, ""}},
		wantCalls: []apiCall{{"GET", link1Mirrors + "/topic-1", "", ""}},
		wantStdout: `{
  "mirror_topic_name": "topic-1",
  "mirror_lags": [
    {
      "partition": 0,
      "lag": 1,
      "last_source_fetch_offset": 2
    }
  ]
}
`,
	}, {
		name: "describe two topics, json is an array",
		args: []string{"mirrors", "describe", "--link", "link-1", "--mirror-topic", "a,b", "-o", "json"},
		routes: map[string]canned{
			"GET " + link1Mirrors + "/a": {200, `{"mirror_topic_name":"a"}`, ""},
			"GET " + link1Mirrors + "/b": {200, `{"mirror_topic_name":"b"}`, ""},
		},
		wantCalls:  []apiCall{{"GET", link1Mirrors + "/a", "", ""}, {"GET", link1Mirrors + "/b", "", ""}},
		wantStdout: "[\n  {\n    \"mirror_topic_name\": \"a\"\n  },\n  {\n    \"mirror_topic_name\": \"b\"\n  }\n]\n",
	}, {
		name:       "describe a missing topic",
		args:       []string{"mirrors", "describe", "--link", "link-1", "--mirror-topic", "topic-1", "--mirror-topic", "nope"},
		routes:     map[string]canned{"GET " + link1Mirrors + "/topic-1": {200, mirrorTopic1JSON, ""}, "GET " + link1Mirrors + "/nope": {404, `{"error_code":40403,"message":"Topic 'nope' is not a mirror topic."}`, ""}},
		wantCode:   1,
		wantCalls:  []apiCall{{"GET", link1Mirrors + "/topic-1", "", ""}, {"GET", link1Mirrors + "/nope", "", ""}},
		wantStderr: "linkproxy mirrors describe: Topic 'nope' is not a mirror topic.\n",
	}, {
		name:      "describe all of all links",
		args:      []string{"mirrors", "describe", "--mirror-status", "PAUSED"},
		routes:    map[string]canned{"GET " + allMirrors: {200, mirrorsListJSON, ""}},
		wantCalls: []apiCall{{"GET", allMirrors, "mirror_status=PAUSED", ""}},
		wantStdout: "" +
			"Mirror topic: topic-1\n" +
			"Link name:    link-1\n" +
			"Source topic: topic-1\n" +
			"Status:       ACTIVE\n" +
			"Status since: 2023-11-14T22:13:20Z\n" +
			"Partitions:   3\n" +
			"Max lag:      10000\n" +
			"\n" +
			"PARTITION  LAG    LAST SOURCE FETCH OFFSET\n" +
			"0          142    1293\n" +
			"1          0      1301\n" +
			"2          10000  12030\n" +
			"\n" +
			"Mirror topic: pre.topic-2\n" +
			"Link name:    link-2\n" +
			"Source topic: topic-2\n" +
			"Status:       PAUSED\n" +
			"Status since: 2023-11-14T22:14:20Z\n" +
			"Partitions:   1\n" +
			"Max lag:      0\n" +
			"\n" +
			"PARTITION  LAG  LAST SOURCE FETCH OFFSET\n" +
			"0          0    0\n",
	}, {
		name:       "describe all of a link, json is an array",
		args:       []string{"mirrors", "describe", "--link", "link-1", "-o", "json"},
		routes:     map[string]canned{"GET " + link1Mirrors: {200, `{"data":[{"mirror_topic_name":"a"}]}`, ""}},
		wantCalls:  []apiCall{{"GET", link1Mirrors, "", ""}},
		wantStdout: "[\n  {\n    \"mirror_topic_name\": \"a\"\n  }\n]\n",
	}, {
		name:       "describe all of a link without mirrors",
		args:       []string{"mirrors", "describe", "--link", "link-1"},
		routes:     map[string]canned{"GET " + link1Mirrors: {200, `{"data":[]}`, ""}},
		wantCalls:  []apiCall{{"GET", link1Mirrors, "", ""}},
		wantStdout: "No mirror topics.\n",
	}}

	// promote, failover, pause and resume share their shape.
	for _, op := range []string{"promote", "failover", "pause", "resume"} {
		cases = append(cases, cliCase{
			name:      op,
			args:      []string{"mirrors", op, "--link", "link-1", "--mirror-topic", "topic-1", "--topics", "topic-2"},
			routes:    map[string]canned{"POST " + link1Mirrors + ":" + op: {200, alterOKJSON, ""}},
			wantCalls: []apiCall{{"POST", link1Mirrors + ":" + op, "", `{"mirror_topic_names":["topic-1","topic-2"]}`}},
			wantStdout: "" +
				"MIRROR TOPIC  MAX LAG  RESULT\n" +
				"topic-1       10000    OK\n" +
				"topic-2       -        OK\n",
		}, cliCase{
			name:     op + " validate only, comma list",
			args:     []string{"mirrors", op, "--link", "link-1", "--mirror-topic", "topic-1,topic-2", "--validate-only"},
			routes:   map[string]canned{"POST " + link1Mirrors + ":" + op: {200, alterOKJSON, ""}},
			wantCode: 0,
			wantCalls: []apiCall{{"POST", link1Mirrors + ":" + op, "validate_only=true",
				`{"mirror_topic_names":["topic-1","topic-2"]}`}},
			wantStdout: "" +
				"MIRROR TOPIC  MAX LAG  RESULT\n" +
				"topic-1       10000    OK\n" +
				"topic-2       -        OK\n" +
				"--validate-only: nothing was changed.\n",
		}, cliCase{
			name:      op + " partly fails",
			args:      []string{"mirrors", op, "--link", "link-1", "--mirror-topic", "topic-1", "--mirror-topic", "topic-2"},
			routes:    map[string]canned{"POST " + link1Mirrors + ":" + op: {200, alterPartialJSON, ""}},
			wantCode:  1,
			wantCalls: []apiCall{{"POST", link1Mirrors + ":" + op, "", `{"mirror_topic_names":["topic-1","topic-2"]}`}},
			wantStdout: "" +
				"MIRROR TOPIC  MAX LAG  RESULT\n" +
				"topic-1       5        OK\n" +
				"topic-2       -        FAILED: Topic 'topic-2' has already stopped its mirror from 'link-1'\n",
			wantStderr: "linkproxy mirrors " + op + ": 1 of 2 mirror topics failed: topic-2: Topic 'topic-2' has already stopped its mirror from 'link-1'\n",
		}, cliCase{
			name:       op + " fails",
			args:       []string{"mirrors", op, "--link", "l9", "--mirror-topic", "t"},
			routes:     map[string]canned{"POST /kafka/v3/clusters/cluster-1/links/l9/mirrors:" + op: {404, linkMissing, ""}},
			wantCode:   1,
			wantCalls:  []apiCall{{"POST", "/kafka/v3/clusters/cluster-1/links/l9/mirrors:" + op, "", `{"mirror_topic_names":["t"]}`}},
			wantStderr: "linkproxy mirrors " + op + ": Cluster link 'l9' does not exist.\n",
		})
	}
	cases = append(cases, cliCase{
		name:      "pause json, partly failed",
		args:      []string{"mirrors", "pause", "--link", "link-1", "--mirror-topic", "topic-2", "-o", "json"},
		routes:    map[string]canned{"POST " + link1Mirrors + ":pause": {200, `{"kind":"KafkaPromoteMirror","metadata":{"self":"s"},"data":[{"mirror_topic_name":"topic-2","error_code":400,"error_message":"nope","mirror_lags":[]}]}`, ""}},
		wantCode:  1,
		wantCalls: []apiCall{{"POST", link1Mirrors + ":pause", "", `{"mirror_topic_names":["topic-2"]}`}},
		wantStdout: `[
  {
    "mirror_topic_name": "topic-2",
    "error_code": 400,
    "error_message": "nope",
    "mirror_lags": []
  }
]
`,
		wantStderr: "linkproxy mirrors pause: 1 of 1 mirror topics failed: topic-2: nope\n",
	}, cliCase{
		name:       "error code without a message",
		args:       []string{"mirrors", "resume", "--link", "link-1", "--mirror-topic", "t"},
		routes:     map[string]canned{"POST " + link1Mirrors + ":resume": {200, `{"data":[{"mirror_topic_name":"t","error_code":500,"error_message":null,"mirror_lags":[]}]}`, ""}},
		wantCode:   1,
		wantCalls:  []apiCall{{"POST", link1Mirrors + ":resume", "", `{"mirror_topic_names":["t"]}`}},
		wantStdout: "MIRROR TOPIC  MAX LAG  RESULT\nt             -        FAILED: error code 500\n",
		wantStderr: "linkproxy mirrors resume: 1 of 1 mirror topics failed: t: error code 500\n",
	})
	runCLICases(t, cases)
}
