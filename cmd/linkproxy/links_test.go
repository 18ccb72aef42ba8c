package main

import "testing"

// Answers in the shapes of the OpenAPI's examples.
const (
	linksListJSON = `{"kind":"KafkaLinkDataList","metadata":{"self":"http://x/kafka/v3/clusters/cluster-1/links","next":null},
 "data":[
  {"kind":"KafkaLinkData","metadata":{"self":"http://x/kafka/v3/clusters/cluster-1/links/my-new-link-1","resource_name":null},
   "source_cluster_id":"src-cluster-id","destination_cluster_id":null,"link_name":"my-new-link-1",
   "link_id":"7840644d-f7d8-4844-a577-a10ef3df31df","cluster_link_id":"eEBkTffYSESld6EO898x3w","topic_names":["topic-sb-1","topic-sb-2"]},
  {"kind":"KafkaLinkData","metadata":{"self":"http://x/kafka/v3/clusters/cluster-1/links/my-new-link-3","resource_name":null},
   "source_cluster_id":null,"destination_cluster_id":"dest-cluster-id","link_name":"my-new-link-3",
   "link_id":"9cd1711e-a4ef-4390-a35e-dfd758d97a82","cluster_link_id":"nNFxHqTvQ5CjXt_XWNl6gg","topic_names":[]}]}`

	linkJSON = `{"kind":"KafkaLinkData","metadata":{"self":"http://x/kafka/v3/clusters/cluster-1/links/my-new-link-1","resource_name":null},
 "source_cluster_id":"src-cluster-id","destination_cluster_id":null,"link_name":"my-new-link-1",
 "link_id":"7840644d-f7d8-4844-a577-a10ef3df31df","cluster_link_id":"eEBkTffYSESld6EO898x3w","topic_names":["topic-sb-1","topic-sb-2"]}`

	linkConfigsJSON = `{"kind":"KafkaLinkConfigDataList","metadata":{"self":"http://x/kafka/v3/clusters/cluster-1/links/l1/configs","next":null},
 "data":[
  {"kind":"KafkaLinkConfigData","metadata":{"self":"http://x/kafka/v3/clusters/cluster-1/links/l1/configs/bootstrap.servers","resource_name":null},
   "cluster_id":"cluster-1","name":"bootstrap.servers","value":"src:9092","read_only":false,"sensitive":false,
   "source":"DYNAMIC_CLUSTER_LINK_CONFIG","synonyms":[],"link_name":"l1"},
  {"kind":"KafkaLinkConfigData","metadata":{"self":"http://x/kafka/v3/clusters/cluster-1/links/l1/configs/sasl.jaas.config","resource_name":null},
   "cluster_id":"cluster-1","name":"sasl.jaas.config","value":null,"read_only":false,"sensitive":true,
   "source":"DYNAMIC_CLUSTER_LINK_CONFIG","synonyms":[],"link_name":"l1"}]}`
)

const (
	linksPath   = "/kafka/v3/clusters/cluster-1/links"
	noContent   = ""
	emptyList   = `{"kind":"KafkaLinkDataList","metadata":{"self":"s","next":null},"data":[]}`
	linkExists  = `{"error_code":40002,"message":"Cluster link 'l1' already exists."}`
	linkMissing = `{"error_code":40403,"message":"Cluster link 'l9' does not exist."}`
)

func TestLinksCommands(t *testing.T) {
	linkFile := writeFile(t, "link.properties", `# the source
bootstrap.servers=src1:9092,src2:9092
security.protocol = SASL_SSL
acl.sync.enable: true
`)
	runCLICases(t, []cliCase{{
		name: "create",
		args: []string{"links", "create", "--link", "l1", "--source-cluster-id", "src-1",
			"--config", "bootstrap.servers=src:9092", "--config", "consumer.offset.sync.enable=true,acl.sync.enable=false"},
		routes:   map[string]canned{"POST " + linksPath: {204, noContent, ""}},
		wantCode: 0,
		wantCalls: []apiCall{{"POST", linksPath, "link_name=l1", `{"source_cluster_id":"src-1","configs":[
			{"name":"acl.sync.enable","value":"false"},
			{"name":"bootstrap.servers","value":"src:9092"},
			{"name":"consumer.offset.sync.enable","value":"true"}]}`}},
		wantStdout: "Cluster link \"l1\" created.\n",
	}, {
		name: "create from a config file, flags override, validate only",
		args: []string{"links", "create", "--link", "l1", "--config-file", linkFile,
			"--config", "acl.sync.enable=false", "--validate-only", "--destination-cluster-id", "dst"},
		routes: map[string]canned{"POST " + linksPath: {204, noContent, ""}},
		wantCalls: []apiCall{{"POST", linksPath, "link_name=l1&validate_only=true", `{"destination_cluster_id":"dst","configs":[
			{"name":"acl.sync.enable","value":"false"},
			{"name":"bootstrap.servers","value":"src1:9092,src2:9092"},
			{"name":"security.protocol","value":"SASL_SSL"}]}`}},
		wantStdout: "Cluster link \"l1\" can be created (--validate-only: nothing was created).\n",
	}, {
		name:       "create -o json prints nothing",
		args:       []string{"links", "create", "--link", "l1", "-o", "json"},
		routes:     map[string]canned{"POST " + linksPath: {204, noContent, ""}},
		wantCalls:  []apiCall{{"POST", linksPath, "link_name=l1", `{}`}},
		wantStdout: "",
	}, {
		name:       "create fails with the API's message",
		args:       []string{"links", "create", "--link", "l1", "--config", "bootstrap.servers=x:1"},
		routes:     map[string]canned{"POST " + linksPath: {400, linkExists, ""}},
		wantCode:   1,
		wantCalls:  []apiCall{{"POST", linksPath, "link_name=l1", `{"configs":[{"name":"bootstrap.servers","value":"x:1"}]}`}},
		wantStderr: "linkproxy links create: Cluster link 'l1' already exists.\n",
	}, {
		name:      "list",
		args:      []string{"links", "list"},
		routes:    map[string]canned{"GET " + linksPath: {200, linksListJSON, ""}},
		wantCalls: []apiCall{{"GET", linksPath, "", ""}},
		wantStdout: "" +
			"LINK NAME      CLUSTER LINK ID         SOURCE CLUSTER  DESTINATION CLUSTER  MIRROR TOPICS\n" +
			"my-new-link-1  eEBkTffYSESld6EO898x3w  src-cluster-id  -                    2\n" +
			"my-new-link-3  nNFxHqTvQ5CjXt_XWNl6gg  -               dest-cluster-id      0\n",
	}, {
		name:      "list json",
		args:      []string{"links", "list", "--output", "json"},
		routes:    map[string]canned{"GET " + linksPath: {200, `{"kind":"KafkaLinkDataList","metadata":{"self":"s"},"data":[{"link_name":"l1","cluster_link_id":"id1","topic_names":["t"],"extra":{"kept":true}}]}`, ""}},
		wantCalls: []apiCall{{"GET", linksPath, "", ""}},
		wantStdout: `[
  {
    "link_name": "l1",
    "cluster_link_id": "id1",
    "topic_names": [
      "t"
    ],
    "extra": {
      "kept": true
    }
  }
]
`,
	}, {
		name:       "list empty",
		args:       []string{"links", "list"},
		routes:     map[string]canned{"GET " + linksPath: {200, emptyList, ""}},
		wantCalls:  []apiCall{{"GET", linksPath, "", ""}},
		wantStdout: "No cluster links.\n",
	}, {
		name:       "list empty json",
		args:       []string{"links", "list", "-o", "json"},
		routes:     map[string]canned{"GET " + linksPath: {200, `{"kind":"KafkaLinkDataList","metadata":{"self":"s"},"data":null}`, ""}},
		wantCalls:  []apiCall{{"GET", linksPath, "", ""}},
		wantStdout: "[]\n",
	}, {
		name:      "describe",
		args:      []string{"links", "describe", "--link", "my-new-link-1"},
		routes:    map[string]canned{"GET " + linksPath + "/my-new-link-1": {200, linkJSON, ""}},
		wantCalls: []apiCall{{"GET", linksPath + "/my-new-link-1", "", ""}},
		wantStdout: "" +
			"Link name:              my-new-link-1\n" +
			"Cluster link ID:        eEBkTffYSESld6EO898x3w\n" +
			"Source cluster ID:      src-cluster-id\n" +
			"Destination cluster ID: -\n" +
			"Mirror topics:          topic-sb-1, topic-sb-2\n",
	}, {
		name:      "describe json is the object",
		args:      []string{"links", "describe", "--link", "l1", "-o", "json"},
		routes:    map[string]canned{"GET " + linksPath + "/l1": {200, `{"kind":"KafkaLinkData","link_name":"l1","topic_names":[]}`, ""}},
		wantCalls: []apiCall{{"GET", linksPath + "/l1", "", ""}},
		wantStdout: `{
  "kind": "KafkaLinkData",
  "link_name": "l1",
  "topic_names": []
}
`,
	}, {
		name:       "describe escapes the link name",
		args:       []string{"links", "describe", "--link", "a b/c"},
		routes:     map[string]canned{"GET " + linksPath + "/a%20b%2Fc": {404, linkMissing, ""}},
		wantCode:   1,
		wantCalls:  []apiCall{{"GET", linksPath + "/a%20b%2Fc", "", ""}},
		wantStderr: "linkproxy links describe: Cluster link 'l9' does not exist.\n",
	}, {
		name:       "delete",
		args:       []string{"links", "delete", "--link", "l1"},
		routes:     map[string]canned{"DELETE " + linksPath + "/l1": {204, noContent, ""}},
		wantCalls:  []apiCall{{"DELETE", linksPath + "/l1", "", ""}},
		wantStdout: "Cluster link \"l1\" deleted.\n",
	}, {
		name:       "delete --force --validate-only",
		args:       []string{"links", "delete", "--link", "l1", "--force", "--validate-only"},
		routes:     map[string]canned{"DELETE " + linksPath + "/l1": {200, noContent, ""}},
		wantCalls:  []apiCall{{"DELETE", linksPath + "/l1", "force=true&validate_only=true", ""}},
		wantStdout: "Cluster link \"l1\" can be deleted (--validate-only: nothing was deleted).\n",
	}, {
		name:       "delete fails",
		args:       []string{"links", "delete", "--link", "l9", "-o", "json"},
		routes:     map[string]canned{"DELETE " + linksPath + "/l9": {404, linkMissing, ""}},
		wantCode:   1,
		wantCalls:  []apiCall{{"DELETE", linksPath + "/l9", "", ""}},
		wantStderr: "linkproxy links delete: Cluster link 'l9' does not exist.\n",
	}, {
		name:      "configs",
		args:      []string{"links", "configs", "--link", "l1"},
		routes:    map[string]canned{"GET " + linksPath + "/l1/configs": {200, linkConfigsJSON, ""}},
		wantCalls: []apiCall{{"GET", linksPath + "/l1/configs", "", ""}},
		wantStdout: "" +
			"NAME               VALUE     SOURCE                       READ ONLY  SENSITIVE\n" +
			"bootstrap.servers  src:9092  DYNAMIC_CLUSTER_LINK_CONFIG  false      false\n" +
			"sasl.jaas.config   [hidden]  DYNAMIC_CLUSTER_LINK_CONFIG  false      true\n",
	}, {
		name:      "configs json",
		args:      []string{"links", "configs", "--link", "l1", "-o", "json"},
		routes:    map[string]canned{"GET " + linksPath + "/l1/configs": {200, `{"data":[{"name":"a","value":"1"}]}`, ""}},
		wantCalls: []apiCall{{"GET", linksPath + "/l1/configs", "", ""}},
		wantStdout: `[
  {
    "name": "a",
    "value": "1"
  }
]
`,
	}, {
		name: "configs --alter",
		args: []string{"links", "configs", "--link", "l1", "--alter",
			"--add-config", "consumer.offset.sync.ms=30000,bootstrap.servers=a:9092,b:9092",
			"--delete-config", "acl.sync.ms", "--delete-config", "x,y,x"},
		routes: map[string]canned{"PUT " + linksPath + "/l1/configs:alter": {204, noContent, ""}},
		wantCalls: []apiCall{{"PUT", linksPath + "/l1/configs:alter", "", `{"data":[
			{"name":"bootstrap.servers","value":"a:9092,b:9092","operation":"SET"},
			{"name":"consumer.offset.sync.ms","value":"30000","operation":"SET"},
			{"name":"acl.sync.ms","operation":"DELETE"},
			{"name":"x","operation":"DELETE"},
			{"name":"y","operation":"DELETE"}]}`}},
		wantStdout: "Configs of cluster link \"l1\" altered: 2 set, 3 deleted.\n",
	}, {
		name: "configs --alter from a file, validate only",
		args: []string{"links", "configs", "--link", "l1", "--alter", "--add-config-file", linkFile,
			"--add-config", "security.protocol=SSL", "--validate-only"},
		routes: map[string]canned{"PUT " + linksPath + "/l1/configs:alter": {204, noContent, ""}},
		wantCalls: []apiCall{{"PUT", linksPath + "/l1/configs:alter", "validate_only=true", `{"data":[
			{"name":"acl.sync.enable","value":"true","operation":"SET"},
			{"name":"bootstrap.servers","value":"src1:9092,src2:9092","operation":"SET"},
			{"name":"security.protocol","value":"SSL","operation":"SET"}]}`}},
		wantStdout: "Configs of cluster link \"l1\" can be altered (--validate-only: nothing was changed).\n",
	}, {
		name:       "configs --alter fails",
		args:       []string{"links", "configs", "--link", "l1", "--alter", "--delete-config", "bootstrap.servers"},
		routes:     map[string]canned{"PUT " + linksPath + "/l1/configs:alter": {400, `{"error_code":40002,"message":"bootstrap.servers cannot be deleted"}`, ""}},
		wantCode:   1,
		wantCalls:  []apiCall{{"PUT", linksPath + "/l1/configs:alter", "", `{"data":[{"name":"bootstrap.servers","operation":"DELETE"}]}`}},
		wantStderr: "linkproxy links configs: bootstrap.servers cannot be deleted\n",
	}})
}
