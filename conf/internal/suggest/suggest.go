// Package suggest finds the known name an operator most likely meant when
// they mistyped one, so that "unknown key" errors can point at the fix.
package suggest

import "sort"

// MaxDistance is the largest edit distance still worth suggesting: beyond
// two edits, the suggestion is more often confusing than helpful.
const MaxDistance = 2

// Closest returns the candidate nearest to name, or "" if none is within
// MaxDistance edits. Ties go to the alphabetically first candidate so that
// messages do not depend on map iteration order.
func Closest(name string, candidates []string) string {
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	best, bestDist := "", MaxDistance+1
	for _, c := range sorted {
		if c == name {
			continue
		}
		if d := distance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// distance is the optimal string alignment distance: insertions, deletions,
// substitutions and transpositions of adjacent bytes each cost one.
// Transpositions matter because "nmae" for "name" is the typical typo.
func distance(a, b string) int {
	// Three rows suffice: the transposition step looks two rows back.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
