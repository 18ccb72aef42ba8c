package harness

import (
	"bytes"
	"slices"
	"testing"
)

func TestLineWriter(t *testing.T) {
	var lines []string
	w := &lineWriter{fn: func(l string) { lines = append(lines, l) }}
	for _, s := range []string{"rea", "dy x=1\r\nsecond\n", "third"} {
		w.Write([]byte(s))
	}
	// "third" has no newline yet, so it is not a line yet.
	if want := []string{"ready x=1", "second"}; !slices.Equal(lines, want) {
		t.Errorf("lines %q, want %q", lines, want)
	}
}

func TestTail(t *testing.T) {
	var through bytes.Buffer
	tl := &tail{max: 8, through: &through, prefix: "c: "}
	for _, s := range []string{"one\ntw", "o\n", "three\nfour"} {
		tl.Write([]byte(s))
	}
	// A partial line goes through at once, prefixed once.
	if got, want := through.String(), "c: one\nc: two\nc: three\nc: four"; got != want {
		t.Errorf("through %q, want %q", got, want)
	}
	if got, want := tl.String(), "ree\nfour"; got != want {
		t.Errorf("kept %q, want the last 8 bytes %q", got, want)
	}
}
