package csvio

import "strings"

// closest returns the name in names nearest to s by edit distance, ignoring
// case, if it is near enough to be a likely typo; otherwise "".
func closest(s string, names []string) string {
	best, bestDist := "", len(s)/3+2
	s = strings.ToLower(s)
	for _, n := range names {
		if abs(len(s)-len(n)) >= bestDist {
			continue // at least that far: a long name costs no time
		}
		if d := editDistance(s, strings.ToLower(n)); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

func abs(n int) int { return max(n, -n) }

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
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
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
