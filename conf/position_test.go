package conf

import (
	"testing"
)

func TestPositions(t *testing.T) {
	const src = `# linkproxy test config
top = 1

[ cluster ]   # comment with "quotes" and [brackets]
name = "west"
"bootstrap.servers" = "a:1"
client . id = 'x'
x = { a = 1, b = "}" }
multi = """
not_a_key = "inside a string"
[not_a_table]
"""
lit = '''
''' # trailing
arr = [
  "a=b", # comment
  [1, 2],
  { k = 1 },
]
"esc\u0061ped" = "\"quoted\" key"

[[listener]]
name = "A"

[[listener]]
name = "B"
'security.protocol' = "PLAINTEXT"

[listener.tls]
enabled = true

[proxy]
log_level = "info"
after_multiline = 1
`
	p := scanPositions(src)
	for _, tt := range []struct {
		arr  string
		occ  int
		path string
		want int
	}{
		{"", 0, "top", 2},
		{"", 0, "cluster", 4},
		{"", 0, "cluster.name", 5},
		{"", 0, "cluster.bootstrap.servers", 6},
		{"", 0, "cluster.client.id", 7},
		{"", 0, "cluster.x", 8},
		{"", 0, "cluster.x.a", 8}, // inside an inline table: its line
		{"", 0, "cluster.multi", 9},
		{"", 0, "cluster.not_a_key", 4}, // not a key: falls back to the header
		{"", 0, "not_a_table", 0},
		{"", 0, "cluster.lit", 13},
		{"", 0, "cluster.arr", 15},
		{"", 0, "cluster.escaped", 20},
		{"", 0, "cluster.missing", 4},
		{"listener", 0, "", 22},
		{"listener", 0, "name", 23},
		{"listener", 0, "listen", 22}, // missing key: the element's header
		{"listener", 1, "name", 26},
		{"listener", 1, "security.protocol", 27},
		{"listener", 1, "tls", 29},
		{"listener", 1, "tls.enabled", 30},
		{"listener", 2, "name", 0},
		{"", 0, "proxy.log_level", 33},
		{"", 0, "proxy.after_multiline", 34},
		{"", 0, "nothing", 0},
	} {
		if got := p.line(tt.arr, tt.occ, tt.path); got != tt.want {
			t.Errorf("line(%q, %d, %q) = %d, want %d", tt.arr, tt.occ, tt.path, got, tt.want)
		}
	}
}

func TestPositionsInlineArrayAndDottedRoot(t *testing.T) {
	const src = `cluster.name = "west"
cluster."bootstrap.servers" = "a:1"
listener = [
  { name = "A" },
  { name = "B" },
]
`
	p := scanPositions(src)
	for _, tt := range []struct {
		arr  string
		occ  int
		path string
		want int
	}{
		{"", 0, "cluster.name", 1},
		{"", 0, "cluster.bootstrap.servers", 2},
		{"", 0, "cluster.client.id", 0},
		{"listener", 1, "name", 3}, // inline array: the key holding it
		{"listener", 0, "", 3},
	} {
		if got := p.line(tt.arr, tt.occ, tt.path); got != tt.want {
			t.Errorf("line(%q, %d, %q) = %d, want %d", tt.arr, tt.occ, tt.path, got, tt.want)
		}
	}
}

// FuzzPositions only checks that the scanner terminates without panicking
// on any input; go test runs the seeds.
func FuzzPositions(f *testing.F) {
	for _, s := range []string{"", "[", "[[", `"`, `'''`, `a = """`, "a = [\n", "a.\"b", `a = "\`, "x = {", "# c\r\n[t]\nk=1", `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		scanPositions(src).line("", 0, "a")
	})
}
