package refusals

import (
	"testing"
	"time"
)

func TestLog(t *testing.T) {
	var l Log[string]
	t0 := time.Unix(1000, 0)
	steps := []struct {
		key        string
		at         time.Duration
		ok         bool
		suppressed int
	}{
		{"a", 0, true, 0},
		{"a", time.Second, false, 0},
		{"b", time.Second, true, 0}, // keys are independent
		{"a", 2 * time.Second, false, 0},
		{"a", Every, true, 2}, // the two left out are counted
		{"a", Every + time.Second, false, 0},
		{"a", 3 * Every, true, 1},
	}
	for i, s := range steps {
		ok, n := l.Allow(s.key, t0.Add(s.at))
		if ok != s.ok || n != s.suppressed {
			t.Errorf("step %d (%s at %s): got %v, %d; want %v, %d", i, s.key, s.at, ok, n, s.ok, s.suppressed)
		}
	}
}

func TestLogForgets(t *testing.T) {
	var l Log[int]
	t0 := time.Unix(1000, 0)
	for i := range maxKeys {
		l.Allow(i, t0)
	}
	l.Allow(-1, t0.Add(Every)) // full: the old keys go
	if n := len(l.last); n != 1 {
		t.Fatalf("%d keys remembered, want 1", n)
	}
}
