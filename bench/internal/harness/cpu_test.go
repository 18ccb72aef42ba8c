package harness

import (
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and a ')' of its own, as the kernel allows:
	// the fields must be counted from the last ')'.
	const stat = "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 125 0 0 20 0 1 0 100 0 0"
	got, err := parseStatCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3750 * time.Millisecond; got != want { // (250+125) ticks of 10 ms
		t.Errorf("got %v, want %v", got, want)
	}

	for _, bad := range []string{
		"4242 no parens S 1",
		"4242 (short) S 1 2 3",
		"4242 (x) S 1 4242 4242 0 -1 4194560 100 0 0 0 u 125",
	} {
		if _, err := parseStatCPU(bad); err == nil {
			t.Errorf("parseStatCPU(%q): no error", bad)
		}
	}
}
