package graph

import (
	"cmp"
	"slices"
	"strings"
)

// maxNearest is how many names an error suggests.
const maxNearest = 5

// nearest returns up to maxNearest of names, the closest to name first:
// names that contain name (of three letters or more) come first, then by
// edit distance, both case-insensitively; ties go by name.
func nearest(name string, names []string) []string {
	type scored struct {
		name        string
		apart, dist int
	}
	lower := strings.ToLower(name)
	var all []scored
	for _, n := range names {
		l := strings.ToLower(n)
		apart := 1
		if len(lower) >= 3 && strings.Contains(l, lower) {
			apart = 0
		}
		all = append(all, scored{n, apart, editDistance(lower, l)})
	}
	slices.SortFunc(all, func(a, b scored) int {
		return cmp.Or(cmp.Compare(a.apart, b.apart), cmp.Compare(a.dist, b.dist), strings.Compare(a.name, b.name))
	})
	var out []string
	for _, s := range all {
		if len(out) == maxNearest {
			break
		}
		if !slices.Contains(out, s.name) {
			out = append(out, s.name)
		}
	}
	return out
}

// editDistance returns the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
