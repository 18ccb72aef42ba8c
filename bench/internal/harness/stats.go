package harness

import "slices"

// Median returns the median of vs, the mean of the middle two for an even
// count, and 0 for none. The benches report medians over rounds because one
// noisy round on a shared machine would drag a mean along with it.
func Median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(vs)) // a copy: callers keep round order
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
