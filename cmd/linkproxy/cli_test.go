package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// apiCall is a request the CLI sent to the fake REST API.
type apiCall struct {
	Method string
	Path   string // escaped
	Query  string // raw query
	Body   string // JSON, compared by value; "" for none
}

// canned is the fake API's answer to one "METHOD /escaped/path".
type canned struct {
	status int
	body   string
	ctype  string // default application/json
}

const clustersJSON = `{"kind":"KafkaClusterList","metadata":{"self":"http://x/kafka/v3/clusters","next":null},
 "data":[{"kind":"KafkaCluster","metadata":{"self":"http://x/kafka/v3/clusters/cluster-1","resource_name":null},
  "cluster_id":"cluster-1","controller":{"related":"r"},"acls":{"related":"r"},"brokers":{"related":"r"},
  "broker_configs":{"related":"r"},"consumer_groups":{"related":"r"},"topics":{"related":"r"},
  "partition_reassignments":{"related":"r"}}]}`

// fakeAPI is a loopback httptest server answering canned JSON and
// recording the requests.
type fakeAPI struct {
	*httptest.Server
	mu    sync.Mutex
	calls []apiCall
}

func newFakeAPI(t *testing.T, routes map[string]canned) *fakeAPI {
	t.Helper()
	f := &fakeAPI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.calls = append(f.calls, apiCall{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(body)})
		f.mu.Unlock()
		if len(body) > 0 && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: Content-Type %q", r.Method, r.URL, r.Header.Get("Content-Type"))
		}
		key := r.Method + " " + r.URL.EscapedPath()
		c, ok := routes[key]
		if !ok && key == "GET /kafka/v3/clusters" {
			c, ok = canned{200, clustersJSON, ""}, true
		}
		if !ok {
			c = canned{404, `{"error_code":404,"message":"HTTP 404 Not Found"}`, ""}
		}
		ct := c.ctype
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(c.status)
		io.WriteString(w, c.body)
	}))
	t.Cleanup(f.Close)
	return f
}

// apiCalls returns the calls but the cluster discovery.
func (f *fakeAPI) apiCalls() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Method == "GET" && c.Path == "/kafka/v3/clusters" {
			continue
		}
		out = append(out, c)
	}
	return out
}

func (f *fakeAPI) allCalls() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// cliCase is one command against the fake API.
type cliCase struct {
	name       string
	args       []string // after --rest-url
	routes     map[string]canned
	wantCode   int
	wantCalls  []apiCall // but the cluster discovery
	wantStdout string    // exact
	wantStderr string    // exact if it ends in "\n", else a substring
}

func runCLICases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t, tc.routes)
			args := slices.Concat(tc.args[:2], []string{"--rest-url", api.URL}, tc.args[2:])
			code, stdout, stderr := runCLI(t, args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr)
			}
			checkCalls(t, api.apiCalls(), tc.wantCalls)
			if stdout != tc.wantStdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tc.wantStdout)
			}
			if strings.HasSuffix(tc.wantStderr, "\n") {
				if stderr != tc.wantStderr {
					t.Errorf("stderr:\n%q\nwant:\n%q", stderr, tc.wantStderr)
				}
			} else if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", stderr, tc.wantStderr)
			}
			if tc.wantStderr == "" && stderr != "" {
				t.Errorf("stderr not empty:\n%s", stderr)
			}
		})
	}
}

func checkCalls(t *testing.T, got, want []apiCall) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d API calls, want %d:\ngot  %v\nwant %v", len(got), len(want), got, want)
		return
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Method != w.Method || g.Path != w.Path || g.Query != w.Query {
			t.Errorf("call %d: %s %s?%s, want %s %s?%s", i, g.Method, g.Path, g.Query, w.Method, w.Path, w.Query)
		}
		if !jsonEqual(t, g.Body, w.Body) {
			t.Errorf("call %d (%s %s) body:\n%s\nwant:\n%s", i, g.Method, g.Path, g.Body, w.Body)
		}
	}
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	if a == "" || b == "" {
		return a == b
	}
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Errorf("body %q: %v", a, err)
		return false
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("want body %q: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLIClusterDiscovery(t *testing.T) {
	two := `{"kind":"KafkaClusterList","metadata":{"self":"s"},"data":[{"cluster_id":"a"},{"cluster_id":"b"}]}`
	for _, tc := range []struct {
		name      string
		clusters  *canned
		extra     []string
		wantCode  int
		wantCalls []apiCall
		wantErr   string
	}{
		{"single cluster", nil, nil, 0, []apiCall{
			{"GET", "/kafka/v3/clusters", "", ""},
			{"GET", "/kafka/v3/clusters/cluster-1/links", "", ""},
		}, ""},
		{"--cluster-id skips discovery", nil, []string{"--cluster-id", "c/2"}, 0, []apiCall{
			{"GET", "/kafka/v3/clusters/c%2F2/links", "", ""},
		}, ""},
		{"two clusters", &canned{200, two, ""}, nil, 1, []apiCall{
			{"GET", "/kafka/v3/clusters", "", ""},
		}, "linkproxy links list: the REST API at URL lists 2 clusters (a, b); pass --cluster-id\n"},
		{"no cluster", &canned{200, `{"data":[]}`, ""}, nil, 1, []apiCall{
			{"GET", "/kafka/v3/clusters", "", ""},
		}, "linkproxy links list: the REST API at URL lists no cluster; pass --cluster-id\n"},
		{"discovery fails", &canned{500, `{"error_code":500,"message":"Internal Server Error"}`, ""}, nil, 1, []apiCall{
			{"GET", "/kafka/v3/clusters", "", ""},
		}, "linkproxy links list: Internal Server Error\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			routes := map[string]canned{
				"GET /kafka/v3/clusters/cluster-1/links": {200, `{"data":[]}`, ""},
				"GET /kafka/v3/clusters/c%2F2/links":     {200, `{"data":[]}`, ""},
			}
			if tc.clusters != nil {
				routes["GET /kafka/v3/clusters"] = *tc.clusters
			}
			api := newFakeAPI(t, routes)
			code, _, stderr := runCLI(t, append([]string{"links", "list", "--rest-url", api.URL}, tc.extra...)...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr)
			}
			checkCalls(t, api.allCalls(), tc.wantCalls)
			if want := strings.ReplaceAll(tc.wantErr, "URL", api.URL); stderr != want {
				t.Errorf("stderr %q, want %q", stderr, want)
			}
		})
	}
}

func TestCLIConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	for _, args := range [][]string{
		{"links", "list", "--rest-url", url},
		{"mirrors", "pause", "--rest-url", url + "/", "--link", "l", "--mirror-topic", "t", "--cluster-id", "c"},
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 1 || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q", args, code, stdout)
		}
		for _, want := range []string{"linkproxy " + args[0] + " " + args[1] + ": ", url + " (connection refused)", "linkproxy serve", "[rest] listener"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%v: stderr %q does not contain %q", args, stderr, want)
			}
		}
	}
}

func TestCLIRESTURL(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"http://127.0.0.1:8090", "http://127.0.0.1:8090", ""},
		{"http://127.0.0.1:8090/", "http://127.0.0.1:8090", ""},
		{"127.0.0.1:8090", "http://127.0.0.1:8090", ""},
		{"https://h:8090/kafka", "https://h:8090", ""},
		{"https://h:8090/kafka/v3/", "https://h:8090", ""},
		{"http://h/prefix/", "http://h/prefix", ""},
		{"ftp://h", "", "want an http or https URL"},
		{"http://h?x=1", "", "no query"},
		{"http://", "", "no host"},
		{" ", "", "empty"},
	} {
		got, err := normalizeRESTURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}

	// The environment sets the default; the flag wins over it.
	api := newFakeAPI(t, map[string]canned{"GET /kafka/v3/clusters/cluster-1/links": {200, `{"data":[]}`, ""}})
	t.Setenv(restURLEnv, api.URL+"/kafka/v3")
	if code, stdout, stderr := runCLI(t, "links", "list"); code != 0 || stdout != "No cluster links.\n" {
		t.Errorf("with $%s: exit %d, stdout %q, stderr %q", restURLEnv, code, stdout, stderr)
	}
	if n := len(api.allCalls()); n != 2 {
		t.Errorf("with $%s: %d calls, want 2", restURLEnv, n)
	}
	code, _, stderr := runCLI(t, "links", "list", "--rest-url", "http://127.0.0.1:1")
	if code != 1 || !strings.Contains(stderr, "http://127.0.0.1:1 (connection refused)") {
		t.Errorf("--rest-url over $%s: exit %d, stderr %q", restURLEnv, code, stderr)
	}
	// The usage names the default.
	t.Setenv(restURLEnv, "")
	_, stdout, _ := runCLI(t, "links", "list", "-h")
	if !strings.Contains(stdout, "default http://127.0.0.1:8090") {
		t.Errorf("usage does not show the default URL:\n%s", stdout)
	}
}

func TestCLIErrorBodies(t *testing.T) {
	runCLICases(t, []cliCase{{
		name:       "json error",
		args:       []string{"links", "describe", "--link", "nope"},
		routes:     map[string]canned{"GET /kafka/v3/clusters/cluster-1/links/nope": {404, `{"error_code":40403,"message":"Cluster link 'nope' does not exist."}`, ""}},
		wantCode:   1,
		wantCalls:  []apiCall{{"GET", "/kafka/v3/clusters/cluster-1/links/nope", "", ""}},
		wantStderr: "linkproxy links describe: Cluster link 'nope' does not exist.\n",
	}, {
		name:       "text/plain error",
		args:       []string{"links", "describe", "--link", "x"},
		routes:     map[string]canned{"GET /kafka/v3/clusters/cluster-1/links/x": {400, "Cannot deserialize value\n", "text/plain"}},
		wantCode:   1,
		wantCalls:  []apiCall{{"GET", "/kafka/v3/clusters/cluster-1/links/x", "", ""}},
		wantStderr: "linkproxy links describe: Cannot deserialize value\n",
	}, {
		name:       "html error",
		args:       []string{"links", "describe", "--link", "x"},
		routes:     map[string]canned{"GET /kafka/v3/clusters/cluster-1/links/x": {429, "<html>Too Many Requests</html>", "text/html"}},
		wantCode:   1,
		wantCalls:  []apiCall{{"GET", "/kafka/v3/clusters/cluster-1/links/x", "", ""}},
		wantStderr: "linkproxy links describe: HTTP 429 Too Many Requests from GET /kafka/v3/clusters/cluster-1/links/x\n",
	}, {
		name:       "null message",
		args:       []string{"links", "delete", "--link", "x"},
		routes:     map[string]canned{"DELETE /kafka/v3/clusters/cluster-1/links/x": {500, `{"error_code":500,"message":null}`, ""}},
		wantCode:   1,
		wantCalls:  []apiCall{{"DELETE", "/kafka/v3/clusters/cluster-1/links/x", "", ""}},
		wantStderr: "linkproxy links delete: HTTP 500 Internal Server Error from DELETE /kafka/v3/clusters/cluster-1/links/x\n",
	}, {
		name:       "answer not JSON",
		args:       []string{"links", "list"},
		routes:     map[string]canned{"GET /kafka/v3/clusters/cluster-1/links": {200, `not json`, ""}},
		wantCode:   1,
		wantCalls:  []apiCall{{"GET", "/kafka/v3/clusters/cluster-1/links", "", ""}},
		wantStderr: "unexpected answer",
	}})
}

func TestCLIUsageErrors(t *testing.T) {
	cfgFile := writeFile(t, "bad.properties", "ok=1\nbad=\\u12\n")
	for _, tc := range []struct {
		args       []string
		wantCode   int
		wantStdout string // substring
		wantStderr string // substring
	}{
		{[]string{"links"}, 2, "", "Usage: linkproxy links COMMAND"},
		{[]string{"mirrors"}, 2, "", "Usage: linkproxy mirrors COMMAND"},
		{[]string{"links", "-h"}, 0, "Usage: linkproxy links COMMAND", ""},
		{[]string{"mirrors", "help"}, 0, "Usage: linkproxy mirrors COMMAND", ""},
		{[]string{"links", "frob"}, 2, "", "linkproxy links: unknown subcommand \"frob\"\n\nUsage: linkproxy links COMMAND"},
		{[]string{"links", "create", "-h"}, 0, "Usage: linkproxy links create --link NAME", ""},
		{[]string{"mirrors", "failover", "--help"}, 0, "Usage: linkproxy mirrors failover --link NAME", ""},
		{[]string{"links", "create"}, 2, "", "linkproxy links create: --link is required\n\nUsage: linkproxy links create"},
		{[]string{"links", "create", "--link", "l", "--config", "nokey"}, 2, "", `invalid value "nokey" for flag --config: "nokey" is not k=v`},
		{[]string{"links", "create", "--link", "l", "--config", "=v"}, 2, "", "empty config name"},
		{[]string{"links", "list", "--bogus"}, 2, "", "linkproxy links list: flag provided but not defined: --bogus\n\nUsage: linkproxy links list"},
		{[]string{"links", "list", "extra"}, 2, "", `unexpected argument "extra"`},
		{[]string{"links", "list", "-o", "yaml"}, 2, "", `-o "yaml": want table or json`},
		{[]string{"links", "list", "-o"}, 2, "", "flag needs an argument: -o\n"},
		{[]string{"links", "describe", "--link"}, 2, "", "flag needs an argument: --link\n"},
		{[]string{"links", "describe"}, 2, "", "--link is required"},
		{[]string{"links", "delete", "--force"}, 2, "", "--link is required"},
		{[]string{"links", "configs", "--link", "l", "--add-config", "a=b"}, 2, "", "--add-config needs --alter"},
		{[]string{"links", "configs", "--link", "l", "--validate-only"}, 2, "", "--validate-only needs --alter"},
		{[]string{"links", "configs", "--link", "l", "--alter"}, 2, "", "--alter needs --add-config, --add-config-file or --delete-config"},
		{[]string{"links", "configs", "--link", "l", "--alter", "--add-config", "a=b", "--delete-config", "a"}, 2, "", `config "a" is both added and deleted`},
		{[]string{"links", "configs", "--link", "l", "--alter", "--delete-config", "a,,b"}, 2, "", "empty name"},
		{[]string{"mirrors", "create", "--link", "l"}, 2, "", "--mirror-topic or --source-topic is required"},
		{[]string{"mirrors", "create", "--mirror-topic", "t"}, 2, "", "--link is required"},
		{[]string{"mirrors", "create", "--link", "l", "--mirror-topic", "a,b"}, 2, "", "one mirror topic at a time"},
		{[]string{"mirrors", "create", "--link", "l", "--mirror-topic", "a", "--replication-factor", "-1"}, 2, "", "want a positive number"},
		{[]string{"mirrors", "create", "--link", "l", "--mirror-topic", "a", "--replication-factor", "x"}, 2, "", "invalid value"},
		{[]string{"mirrors", "describe", "--mirror-topic", "t"}, 2, "", "--mirror-topic needs --link"},
		{[]string{"mirrors", "describe", "--link", "l", "--mirror-topic", "t", "--mirror-status", "ACTIVE"}, 2, "", "does not go with --mirror-topic"},
		{[]string{"mirrors", "promote", "--link", "l"}, 2, "", "linkproxy mirrors promote: --mirror-topic is required\n\nUsage: linkproxy mirrors promote"},
		{[]string{"mirrors", "pause", "--mirror-topic", "t"}, 2, "", "--link is required"},
		{[]string{"mirrors", "resume", "--link", "l", "--validate-only=maybe"}, 2, "", "invalid boolean value"},
		{[]string{"mirrors", "list", "--rest-url", "ftp://x"}, 2, "", "want an http or https URL"},
		// Not usage errors: a config file that cannot be read or parsed.
		{[]string{"links", "create", "--link", "l", "--config-file", filepath.Join(t.TempDir(), "none")}, 1, "", "no such file"},
		{[]string{"links", "create", "--link", "l", "--config-file", cfgFile}, 1, "", "bad.properties: line 2: malformed \\uxxxx escape"},
	} {
		// A dead URL: none of these may reach the API.
		args := tc.args
		if len(args) >= 2 && !slices.Contains(args, "--rest-url") {
			args = slices.Concat(args[:2], []string{"--rest-url", "http://127.0.0.1:1"}, args[2:])
		}
		code, stdout, stderr := runCLI(t, args...)
		if code != tc.wantCode {
			t.Errorf("%v: exit %d, want %d; stderr:\n%s", tc.args, code, tc.wantCode, stderr)
		}
		if !strings.Contains(stdout, tc.wantStdout) || (tc.wantStdout == "" && stdout != "") {
			t.Errorf("%v: stdout:\n%s\nwant %q", tc.args, stdout, tc.wantStdout)
		}
		if !strings.Contains(stderr, tc.wantStderr) || (tc.wantStderr == "" && stderr != "") {
			t.Errorf("%v: stderr:\n%s\nwant %q", tc.args, stderr, tc.wantStderr)
		}
		if tc.wantCode == 2 && !strings.Contains(stderr, "Usage: linkproxy "+tc.args[0]) {
			t.Errorf("%v: usage error without the usage:\n%s", tc.args, stderr)
		}
	}
}

// TestCLIUsageMentionsEveryFlag keeps the hand-written usage texts in step
// with the flags the commands define.
func TestCLIUsageMentionsEveryFlag(t *testing.T) {
	for group, verbs := range map[string][]verb{"links": linksVerbs(), "mirrors": mirrorsVerbs()} {
		for _, v := range verbs {
			c := newCLI(group+" "+v.name, v.usage+commonFlagsUsage, io.Discard, io.Discard)
			if code := c.exit(v.run(context.Background(), c, []string{"-h"})); code != 0 {
				t.Fatalf("%s %s -h: exit %d", group, v.name, code)
			}
			n := 0
			c.fs.VisitAll(func(f *flag.Flag) {
				n++
				name := "--" + f.Name
				if len(f.Name) == 1 {
					name = "-" + f.Name
				}
				if !strings.Contains(c.usage, name+" ") && !strings.Contains(c.usage, name+",") {
					t.Errorf("usage of %s %s does not mention %s", group, v.name, name)
				}
			})
			if n < 4 {
				t.Errorf("%s %s: only %d flags", group, v.name, n)
			}
			if !strings.Contains(usage, "linkproxy "+group+" ") {
				t.Errorf("linkproxy's usage does not mention %s", group)
			}
		}
	}
}

func TestCLIConfigList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []kv
		err  string
	}{
		{"a=b", []kv{{"a", "b"}}, ""},
		{"a=b,c=d", []kv{{"a", "b"}, {"c", "d"}}, ""},
		{" a = b , c=d ", []kv{{"a", "b"}, {"c", "d"}}, ""},
		{"bootstrap.servers=h1:9092,h2:9092,acl.sync.enable=false",
			[]kv{{"bootstrap.servers", "h1:9092,h2:9092"}, {"acl.sync.enable", "false"}}, ""},
		{"k=[a,b=c],x=y", []kv{{"k", "a,b=c"}, {"x", "y"}}, ""},
		{"sasl.jaas.config=Plain required username=\"u\" password=\"p\";",
			[]kv{{"sasl.jaas.config", "Plain required username=\"u\" password=\"p\";"}}, ""},
		{"a=", []kv{{"a", ""}}, ""},
		{"nokey", nil, "not k=v"},
		{"=v", nil, "empty config name"},
	} {
		got, err := parseConfigList(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCLIConfigFile(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []kv
		err        string
	}{
		{"forms", "# a comment\n! another\n\n  a=1\nb = 2\nc: 3\nd 4\ne\nf=\n", []kv{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", ""}, {"f", ""}}, ""},
		{"value keeps = and trailing space", "sasl.jaas.config=x required user=\"u\";  \n", []kv{{"sasl.jaas.config", "x required user=\"u\";  "}}, ""},
		{"crlf", "a=1\r\nb=2\r\n", []kv{{"a", "1"}, {"b", "2"}}, ""},
		{"continuation", "servers=h1:9092,\\\n    h2:9092\nnext=x", []kv{{"servers", "h1:9092,h2:9092"}, {"next", "x"}}, ""},
		{"even backslashes do not continue", "path=c:\\\\\nx=y\n", []kv{{"path", "c:\\"}, {"x", "y"}}, ""},
		{"comment does not continue", "# c \\\na=1\n", []kv{{"a", "1"}}, ""},
		{"escapes", "key\\ with\\=odd\\:chars=tab\\there\\nnl \\u00e9 \\uD83D\\uDE00 \\q\n", []kv{{"key with=odd:chars", "tab\there\nnl é 😀 q"}}, ""},
		{"later wins in merge, order kept here", "a=1\na=2\n", []kv{{"a", "1"}, {"a", "2"}}, ""},
		{"bad escape", "a=\\uzzzz\n", nil, "line 1: malformed"},
	} {
		got, err := parseProperties(tc.text)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}

	file := writeFile(t, "link.properties", "bootstrap.servers=file:9092\nacl.sync.enable=true\n")
	got, err := mergeConfigs(file, configFlag{{"bootstrap.servers", "flag:9092"}, {"a", "b"}})
	want := []configData{{"a", "b"}, {"acl.sync.enable", "true"}, {"bootstrap.servers", "flag:9092"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("mergeConfigs: %v, %v; want %v", got, err, want)
	}
}
