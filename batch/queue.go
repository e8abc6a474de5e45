package batch

import (
	"container/heap"
	"time"
)

// keyLines keeps the rows of one entity in input order, one at a time: the
// row whose turn it is (in flight, ready or backing off) holds its key, and
// later rows for the same key wait in its line until it has an outcome.
type keyLines map[string][]*item

// admit takes r's key and returns true, or puts r in line behind the row
// holding it and returns false.
func (k keyLines) admit(r *item) bool {
	line, held := k[r.key]
	if held {
		k[r.key] = append(line, r)
		return false
	}
	k[r.key] = nil
	return true
}

// release gives up r's key, which r held, and returns the next row in line,
// which now holds it, or nil.
func (k keyLines) release(r *item) *item {
	line := k[r.key]
	if len(line) == 0 {
		delete(k, r.key)
		return nil
	}
	k[r.key] = line[1:]
	return line[0]
}

// fifo is a queue of rows, oldest first.
type fifo struct{ rows []*item }

func (q *fifo) push(r *item) { q.rows = append(q.rows, r) }

// pushFront puts rows before every other: rows sent before go first.
func (q *fifo) pushFront(rows []*item) { q.rows = append(rows[:len(rows):len(rows)], q.rows...) }
func (q *fifo) len() int               { return len(q.rows) }
func (q *fifo) take(n int) []*item {
	out := make([]*item, n)
	copy(out, q.rows)
	clear(q.rows[:n])
	q.rows = q.rows[n:]
	return out
}

// dueHeap holds the rows backing off, the one due first on top.
type dueHeap []*item

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(*item)) }
func (h *dueHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return r
}

// add puts r in the heap to be due at t.
func (h *dueHeap) add(r *item, t time.Time) {
	r.due = t
	heap.Push(h, r)
}

// popDue removes and returns the rows due at or before now.
func (h *dueHeap) popDue(now time.Time) []*item {
	var out []*item
	for h.Len() > 0 && !(*h)[0].due.After(now) {
		out = append(out, heap.Pop(h).(*item))
	}
	return out
}

// next returns when the first row is due, or the zero time.
func (h dueHeap) next() time.Time {
	if len(h) == 0 {
		return time.Time{}
	}
	return h[0].due
}
