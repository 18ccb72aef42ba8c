package conf

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseREST(t *testing.T) {
	for _, tt := range []struct {
		name      string
		src       string // after validCluster + validListener
		want      []string
		wantAddrs []string
	}{
		{"default without [rest]", "", []string{"http://127.0.0.1:8090"}, []string{"127.0.0.1:8090"}},
		{"default with an empty [rest]", "[rest]\n", []string{"http://127.0.0.1:8090"}, []string{"127.0.0.1:8090"}},
		{
			name:      "array",
			src:       `[rest]` + "\n" + `listeners = ["http://0.0.0.0:8090", "HTTP://[::1]:8091/", "http://rest.example.com:08092"]` + "\n",
			want:      []string{"http://0.0.0.0:8090", "http://[::1]:8091", "http://rest.example.com:8092"},
			wantAddrs: []string{"0.0.0.0:8090", "[::1]:8091", "rest.example.com:8092"},
		},
		{
			name:      "comma-separated string, as Kafka writes lists",
			src:       "[rest]\nlisteners = \"http://127.0.0.1:8090, http://127.0.0.2:8090\"\n",
			want:      []string{"http://127.0.0.1:8090", "http://127.0.0.2:8090"},
			wantAddrs: []string{"127.0.0.1:8090", "127.0.0.2:8090"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(validCluster+validListener+tt.src), "linkproxy.toml")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.REST.Listeners, tt.want) {
				t.Errorf("listeners %q, want %q", cfg.REST.Listeners, tt.want)
			}
			if got := cfg.REST.Addrs(); !reflect.DeepEqual(got, tt.wantAddrs) {
				t.Errorf("addrs %q, want %q", got, tt.wantAddrs)
			}
		})
	}
}

func TestRESTErrors(t *testing.T) {
	const at = `conf: linkproxy.toml:9: [rest] "listeners": `
	for _, tt := range []struct {
		name string
		src  string // after validCluster + validListener; errors are on line 9
		want []string
	}{
		{
			name: "https",
			src:  "[rest]\nlisteners = [\"https://127.0.0.1:8443\"]\n",
			want: []string{at + `"https://127.0.0.1:8443": https comes with TLS support (the security issue), not available in this version: use http://`},
		},
		{
			name: "every broken entry at once",
			src:  "[rest]\nlisteners = [\"127.0.0.1:8090\", \"ftp://h:1\", \"http://:8090\", \"http://h\", \"http://h:0\", \"http://h:1/v3\", \"http://bad_host!:1\", \"http://h:99999\", \"\", \"http://127.0.0.1:1\", \"http://127.0.0.1:1/\"]\n",
			want: []string{at + strings.Join([]string{
				`"127.0.0.1:8090": missing scheme: write http://127.0.0.1:8090`,
				`"ftp://h:1": scheme "ftp" is not valid: use http://`,
				`"http://:8090": missing host: write 0.0.0.0 to listen on every interface, or an IP or host name`,
				`"http://h": missing port: write host:port`,
				`"http://h:0": port 0 is refused: clients need a known port`,
				`"http://h:1/v3": a listener has no path: write http://host:port`,
				`"http://bad_host!:1": host "bad_host!" is not a valid host name: '!' is not allowed`,
				`"http://h:99999": port 99999 is out of range 1..65535`,
				`entry 9 is empty (a stray comma?)`,
				`"http://127.0.0.1:1/" is listed twice`,
			}, "; ")},
		},
		{
			name: "empty",
			src:  "[rest]\nlisteners = []\n",
			want: []string{at + `empty: list at least one URL, e.g. ["http://127.0.0.1:8090"], or leave listeners out for that default`},
		},
		{
			name: "not a list",
			src:  "[rest]\nlisteners = 8090\n",
			want: []string{at + `expected an array of URLs, e.g. ["http://127.0.0.1:8090"], got an integer (8090)`},
		},
		{
			name: "not strings",
			src:  "[rest]\nlisteners = [8090]\n",
			want: []string{at + `element 1: expected a string, got an integer (8090)`},
		},
		{
			name: "unknown key",
			src:  "[rest]\nlistener = [\"http://127.0.0.1:8090\"]\n",
			want: []string{`conf: linkproxy.toml:9: [rest] "listener": unknown key (did you mean "listeners"?)`},
		},
		{
			name: "not a table",
			src:  "[[rest]]\n",
			want: []string{`conf: linkproxy.toml:8: key "rest": must be a table: write [rest]`},
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
