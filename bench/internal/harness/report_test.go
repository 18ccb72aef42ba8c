package harness

import (
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	for _, tt := range []struct {
		argv []string
		want string
	}{
		{nil, ""},
		{[]string{"bin/bench", "-quick", "-mb", "4"}, "bin/bench -quick -mb 4"},
		// go run's binary is not worth repeating; the go run is.
		{[]string{"/tmp/go-build123/b001/exe/bench", "-quick"}, "go run ./bench/x -quick"},
		{[]string{"/home/u/.cache/go-build/ab/cd/bench", "-quick"}, "go run ./bench/x -quick"},
		{[]string{"b", "", "a b", "$HOME", "it's"}, `b '' 'a b' '$HOME' 'it'\''s'`},
	} {
		if got := CommandLine(tt.argv, "./bench/x"); got != tt.want {
			t.Errorf("CommandLine(%q) = %q, want %q", tt.argv, got, tt.want)
		}
	}
}

func TestMachine(t *testing.T) {
	// The bench tests match the report's machine line on this shape.
	if m := Machine(); !strings.HasPrefix(m, "nproc=") || !strings.Contains(m, "go1") {
		t.Errorf("Machine() = %q, want nproc=N, ..., goVERSION OS/ARCH", m)
	}
}
