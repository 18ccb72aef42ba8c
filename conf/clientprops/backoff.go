package clientprops

import (
	"math"
	"math/rand/v2"
	"time"
)

// Backoff returns the wait before retry number attempt (0 for the first
// retry), computed as Kafka's ExponentialBackoff with multiplier 2 and
// jitter 0.2: base doubled per attempt but not beyond max, scaled by a
// random factor in [0.8, 1.2), then capped at max. As in Kafka, a base above
// max yields max, and a zero base never waits.
//
// Kafka uses it for retry.backoff.ms, reconnect.backoff.ms and
// socket.connection.setup.timeout.ms with their .max.ms counterparts; so
// does linkproxy.
func Backoff(base, max time.Duration, attempt int) time.Duration {
	return backoff(base, max, attempt, rand.Float64)
}

// backoff is Backoff with the source of the jitter given, so that tests
// can compute exact waits. jitter returns a number in [0, 1).
func backoff(base, max time.Duration, attempt int, jitter func() float64) time.Duration {
	if base <= 0 {
		return 0
	}
	if attempt < 0 {
		attempt = 0
	}
	term := float64(base)
	if max > base {
		// Pow may overflow to +Inf for large attempts; Min absorbs it,
		// which is why the cap comes before the conversion back.
		term = math.Min(term*math.Pow(2, float64(attempt)), float64(max))
	}
	d := term * (0.8 + 0.4*jitter())
	if d >= float64(max) {
		return max
	}
	return time.Duration(d)
}
