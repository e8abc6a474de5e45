package batch

import (
	"slices"
	"testing"
	"time"
)

// TestKeyLines: one row of an entity holds its key; later rows wait in
// line, in input order, and each inherits the key when the one ahead of
// it finishes.
func TestKeyLines(t *testing.T) {
	lines := make(keyLines)
	mk := func(num int, key string) *item { return &item{num: num, key: key} }
	rows := []*item{mk(1, "a"), mk(2, "b"), mk(3, "a"), mk(4, "a"), mk(5, "b"), mk(6, "c")}
	var admitted []int
	for _, r := range rows {
		if lines.admit(r) {
			admitted = append(admitted, r.num)
		}
	}
	if want := []int{1, 2, 6}; !slices.Equal(admitted, want) {
		t.Fatalf("admitted %v, want %v: one row per key", admitted, want)
	}
	tests := []struct {
		finish int // the row that finishes
		next   int // the row that gets its key; 0 for none
	}{
		{1, 3}, {3, 4}, {2, 5}, {4, 0}, {5, 0}, {6, 0},
	}
	for _, tt := range tests {
		next := lines.release(rows[tt.finish-1])
		got := 0
		if next != nil {
			got = next.num
		}
		if got != tt.next {
			t.Errorf("row %d finished: row %d goes next, want %d", tt.finish, got, tt.next)
		}
	}
	if len(lines) != 0 {
		t.Errorf("%d keys still held after every row finished", len(lines))
	}
}

// TestDueHeap: rows come out of backoff in the order they are due, and
// none before its time.
func TestDueHeap(t *testing.T) {
	var h dueHeap
	t0 := time.Unix(1000, 0)
	for i, d := range []time.Duration{5, 1, 3, 1, 9} {
		h.add(&item{num: i + 1}, t0.Add(d*time.Second))
	}
	if got := h.next(); !got.Equal(t0.Add(time.Second)) {
		t.Errorf("next due %v, want t0+1s", got.Sub(t0))
	}
	nums := func(rs []*item) []int {
		var out []int
		for _, r := range rs {
			out = append(out, r.num)
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		at   time.Duration
		want []int
	}{
		{0, nil}, {time.Second, []int{2, 4}}, {2 * time.Second, nil}, {5 * time.Second, []int{1, 3}}, {time.Hour, []int{5}},
	}
	for _, tt := range tests {
		if got := nums(h.popDue(t0.Add(tt.at))); !slices.Equal(got, tt.want) {
			t.Errorf("due at t0+%v: rows %v, want %v", tt.at, got, tt.want)
		}
	}
	if !h.next().IsZero() {
		t.Errorf("an empty heap says a row is due at %v", h.next())
	}
}
