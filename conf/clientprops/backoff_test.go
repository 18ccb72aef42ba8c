package clientprops

import (
	"testing"
	"time"
)

func TestBackoffBounds(t *testing.T) {
	const ms = time.Millisecond
	for _, tt := range []struct {
		base, max time.Duration
		attempt   int
		lo, hi    time.Duration // inclusive
	}{
		{100 * ms, 1000 * ms, 0, 80 * ms, 120 * ms},
		{100 * ms, 1000 * ms, -3, 80 * ms, 120 * ms},
		{100 * ms, 1000 * ms, 1, 160 * ms, 240 * ms},
		{100 * ms, 1000 * ms, 3, 640 * ms, 960 * ms},
		{100 * ms, 1000 * ms, 4, 800 * ms, 1000 * ms}, // 1600 capped before jitter
		{100 * ms, 1000 * ms, 1000, 800 * ms, 1000 * ms},
		{100 * ms, 1000 * ms, 1 << 30, 800 * ms, 1000 * ms},
		{50 * ms, 1000 * ms, 2, 160 * ms, 240 * ms},
		{1000 * ms, 1000 * ms, 5, 800 * ms, 1000 * ms},  // no growth
		{2000 * ms, 1000 * ms, 0, 1000 * ms, 1000 * ms}, // base above max: max, as Kafka
		{0, 1000 * ms, 5, 0, 0},
		{10 * time.Second, 30 * time.Second, 0, 8 * time.Second, 12 * time.Second},
		{10 * time.Second, 30 * time.Second, 2, 24 * time.Second, 30 * time.Second},
	} {
		var sawLow, sawHigh bool
		mid := (tt.lo + tt.hi) / 2
		for range 2000 {
			d := Backoff(tt.base, tt.max, tt.attempt)
			if d < tt.lo || d > tt.hi {
				t.Fatalf("Backoff(%v, %v, %d) = %v, want within [%v, %v]", tt.base, tt.max, tt.attempt, d, tt.lo, tt.hi)
			}
			sawLow = sawLow || d <= mid
			sawHigh = sawHigh || d >= mid
		}
		// The jitter must actually spread values across the range.
		if !sawLow || !sawHigh {
			t.Errorf("Backoff(%v, %v, %d) has no jitter across [%v, %v]", tt.base, tt.max, tt.attempt, tt.lo, tt.hi)
		}
	}
}
