package conf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFull(t *testing.T) {
	cfg, err := Load(filepath.Join("testdata", "full.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cluster.Name != "west" {
		t.Errorf("cluster name %q", cfg.Cluster.Name)
	}
	wantProps := map[string]string{
		"bootstrap.servers":                        "10.0.0.1:9092,kafka-2.west.example:9092",
		"client.id":                                "proxy-west",
		"client.dns.lookup":                        "resolve_canonical_bootstrap_servers_only",
		"security.protocol":                        "PLAINTEXT",
		"metadata.max.age.ms":                      "60000",
		"request.timeout.ms":                       "45000",
		"retry.backoff.ms":                         "200",
		"retry.backoff.max.ms":                     "2000",
		"reconnect.backoff.ms":                     "100",
		"reconnect.backoff.max.ms":                 "5000",
		"socket.connection.setup.timeout.ms":       "5000",
		"socket.connection.setup.timeout.max.ms":   "20000",
		"connections.max.idle.ms":                  "300000",
		"send.buffer.bytes":                        "-1",
		"receive.buffer.bytes":                     "262144",
		"ssl.enabled.protocols":                    "TLSv1.2,TLSv1.3",
		"ssl.endpoint.identification.algorithm":    "https",
		"ssl.keymanager.algorithm":                 "SunX509",
		"ssl.keystore.type":                        "JKS",
		"ssl.protocol":                             "TLSv1.3",
		"ssl.trustmanager.algorithm":               "PKIX",
		"ssl.truststore.type":                      "JKS",
		"sasl.mechanism":                           "GSSAPI",
		"sasl.kerberos.kinit.cmd":                  "/usr/bin/kinit",
		"sasl.kerberos.min.time.before.relogin":    "60000",
		"sasl.kerberos.ticket.renew.jitter":        "0.05",
		"sasl.kerberos.ticket.renew.window.factor": "0.8",
		"sasl.oauthbearer.scope.claim.name":        "scope",
		"sasl.oauthbearer.sub.claim.name":          "sub",
		"sasl.login.refresh.buffer.seconds":        "300",
		"sasl.login.refresh.min.period.seconds":    "60",
		"sasl.login.refresh.window.factor":         "0.8",
		"sasl.login.refresh.window.jitter":         "0.05",
		"sasl.login.retry.backoff.ms":              "100",
		"sasl.login.retry.backoff.max.ms":          "10000",
	}
	if got := cfg.Cluster.Props.Redacted(); !reflect.DeepEqual(got, wantProps) {
		t.Errorf("props\n got %v\nwant %v", got, wantProps)
	}
	for _, name := range cfg.Cluster.Props.Names() {
		if !cfg.Cluster.Props.IsSet(name) {
			t.Errorf("%s not set although the file sets it", name)
		}
	}
	wantProxy := Proxy{
		SocketRequestMaxBytes:     52428800,
		ConnectionsMaxIdle:        2 * time.Minute,
		MaxInflightRequests:       50,
		PassthroughAPIKeys:        []int16{1000, 1001},
		LogLevel:                  "debug",
		PasswordEncoderSecret:     "full-test-encoder-secret",
		PasswordEncoderOldSecret:  "full-test-old-encoder-secret",
		PasswordEncoderIterations: 8192,
	}
	if !reflect.DeepEqual(cfg.Proxy, wantProxy) {
		t.Errorf("proxy\n got %+v\nwant %+v", cfg.Proxy, wantProxy)
	}
	wantListeners := []Listener{
		{Name: "EXTERNAL", Listen: "0.0.0.0:19092", AdvertisedHost: "proxy.example.com", SecurityProtocol: "PLAINTEXT", BrokerPortBase: 19100},
		{Name: "INTERNAL_2", Listen: "[::1]:29092", AdvertisedHost: "::1", SecurityProtocol: "PLAINTEXT", BrokerPortBase: 29093},
	}
	if !reflect.DeepEqual(cfg.Listeners, wantListeners) {
		t.Errorf("listeners\n got %+v\nwant %+v", cfg.Listeners, wantListeners)
	}
}

func TestParseMinimalDefaults(t *testing.T) {
	cfg, err := Parse([]byte(`
[cluster]
name = "west"
"bootstrap.servers" = "127.0.0.1:29092"

[[listener]]
name = "EXTERNAL"
listen = "127.0.0.2:19092"
advertised_host = "127.0.0.2"
"security.protocol" = "PLAINTEXT"
`), "linkproxy.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Proxy, defaultProxy()) {
		t.Errorf("proxy defaults %+v", cfg.Proxy)
	}
	want := Proxy{SocketRequestMaxBytes: 104857600, ConnectionsMaxIdle: 10 * time.Minute, MaxInflightRequests: 100, LogLevel: "info", PasswordEncoderIterations: 4096}
	if !reflect.DeepEqual(defaultProxy(), want) {
		t.Errorf("defaultProxy() = %+v, want %+v", defaultProxy(), want)
	}
	if got := cfg.Cluster.Props.List("bootstrap.servers"); !reflect.DeepEqual(got, []string{"127.0.0.1:29092"}) {
		t.Errorf("bootstrap.servers = %v", got)
	}
	if got := cfg.Cluster.Props.String("client.id"); got != "linkproxy" {
		t.Errorf("client.id = %q", got)
	}
	want0 := Listener{Name: "EXTERNAL", Listen: "127.0.0.2:19092", AdvertisedHost: "127.0.0.2", SecurityProtocol: "PLAINTEXT", BrokerPortBase: 19093}
	if len(cfg.Listeners) != 1 || cfg.Listeners[0] != want0 {
		t.Errorf("listeners %+v", cfg.Listeners)
	}
}

// TestDocExample keeps the example in doc.go valid.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "// A complete file, with every key and its default:\n//\n")
	block, _, _ := strings.Cut(rest, "\n//\n// Dotted keys")
	var b strings.Builder
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimPrefix(line, "//")
		b.WriteString(strings.TrimPrefix(line, "\t") + "\n")
	}
	if !strings.Contains(b.String(), "[[listener]]") {
		t.Fatalf("example not found in doc.go:\n%s", b.String())
	}
	cfg, err := Parse([]byte(b.String()), "doc.go example")
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(cfg.Listeners) != 2 || cfg.Listeners[1].BrokerPortBase != 29093 || cfg.Listeners[1].AdvertisedHost != "127.0.0.1" {
		t.Errorf("listeners %+v", cfg.Listeners)
	}
	// The example states the defaults: parsing it must equal the defaults.
	if !reflect.DeepEqual(cfg.Proxy, defaultProxy()) {
		t.Errorf("example [proxy] %+v differs from the defaults %+v", cfg.Proxy, defaultProxy())
	}
	for _, name := range cfg.Cluster.Props.Names() {
		if name == "bootstrap.servers" {
			continue
		}
		if !cfg.Cluster.Props.IsSet(name) {
			t.Errorf("example does not show %s", name)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.HasPrefix(err.Error(), "conf: open ") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestBrokerPort(t *testing.T) {
	l := Listener{BrokerPortBase: 19093}
	for _, tt := range []struct {
		node int32
		port int
		ok   bool
	}{
		{0, 19093, true},
		{3, 19096, true},
		{65535 - 19093, 65535, true},
		{65536 - 19093, 0, false},
		{-1, 0, false},
		{1 << 30, 0, false},
	} {
		if port, ok := l.BrokerPort(tt.node); port != tt.port || ok != tt.ok {
			t.Errorf("BrokerPort(%d) = %d, %v; want %d, %v", tt.node, port, ok, tt.port, tt.ok)
		}
	}
}
