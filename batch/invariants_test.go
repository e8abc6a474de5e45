package batch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

// chaosGraph answers every envelope at random (2xx, 204, 404, 400, 401,
// 429, 500, items missing or unclear, whole envelopes 503, 429, 401 or
// lost) after a random delay, and checks, as envelopes arrive, what the
// scheduler must never do: send a row while another row of its entity is
// in flight, or before an earlier row of it; mix reads and writes in one
// envelope, or put more than 20 items in one; PATCH a row before its
// backup is on the disk; send anything after a graceful stop was taken.
type chaosGraph struct {
	t       *testing.T
	mu      sync.Mutex
	rng     *rand.Rand
	busy    map[string]int // entity → the row in flight
	last    map[string]int // entity → the last row sent
	bak     *chaosTable
	gen     uint64
	stopped bool // Config.Stop is closed and the scheduler has seen it
	late    int  // envelopes sent after that
}

// chaosTable is a backup in memory that knows what reached the disk.
type chaosTable struct {
	mu      sync.Mutex
	records [][]string
	synced  int
}

func (m *chaosTable) Write(rec []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, append([]string(nil), rec...))
	return nil
}

func (m *chaosTable) Sync() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.synced = len(m.records)
	return nil
}

// backedUp reports whether the entity at url has a backup record on the disk.
func (m *chaosTable) backedUp(url string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, rec := range m.records[:m.synced] {
		if strings.EqualFold(deviceTarget.Path(rec[:2]), url) {
			return true
		}
	}
	return false
}

func (c *chaosGraph) Reauthenticate(context.Context, uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	return nil
}

func (c *chaosGraph) Batch(_ context.Context, _ graph.Version, reqs []graph.Request) (*graph.BatchResult, error) {
	c.mu.Lock()
	if c.stopped {
		c.late++
	}
	if len(reqs) > graph.MaxBatchSize {
		c.t.Errorf("an envelope of %d items", len(reqs))
	}
	for _, q := range reqs {
		if q.Method != reqs[0].Method {
			c.t.Errorf("%s and %s in one envelope", reqs[0].Method, q.Method)
		}
		e, _, _ := strings.Cut(strings.ToLower(q.URL), "?")
		var num int
		fmt.Sscan(q.ID, &num)
		if b, ok := c.busy[e]; ok && b != num {
			c.t.Errorf("row %d of %s sent while row %d is in flight", num, e, b)
		}
		if num < c.last[e] {
			c.t.Errorf("row %d of %s sent after row %d", num, e, c.last[e])
		}
		c.last[e], c.busy[e] = num, num
		if q.Method == "PATCH" && c.bak != nil && !c.bak.backedUp(q.URL) {
			c.t.Errorf("row %d PATCHed before its backup reached the disk", num)
		}
	}
	res, err := c.answer(reqs)
	delay := time.Duration(c.rng.IntN(100)) * time.Millisecond
	c.mu.Unlock()
	time.Sleep(delay)
	c.mu.Lock()
	for _, q := range reqs {
		e, _, _ := strings.Cut(strings.ToLower(q.URL), "?")
		delete(c.busy, e)
	}
	c.mu.Unlock()
	return res, err
}

// answer draws Graph's answer to reqs.
func (c *chaosGraph) answer(reqs []graph.Request) (*graph.BatchResult, error) {
	res := &graph.BatchResult{RequestID: "r", ClientRequestID: "c", TokenGen: c.gen}
	switch r := c.rng.IntN(100); {
	case r < 3:
		return res, &graph.Error{Status: 503, Message: "down"}
	case r < 5:
		return res, errors.New("connection reset")
	case r < 6:
		return res, &graph.Error{Status: 429, RetryAfter: "1"}
	case r < 7:
		return res, &graph.Error{Status: 401}
	}
	for _, q := range reqs {
		st := []int{200, 200, 200, 200, 200, 204, 429, 500, 404, 400, 401, 0, -1}[c.rng.IntN(13)]
		resp := graph.Response{ID: q.ID, Status: st}
		switch {
		case st == 0:
			continue // no answer for this item
		case st == -1:
			resp.Status = 200
			res.Responses = append(res.Responses, resp) // and another below: named twice
		case st == 429:
			resp.Headers = map[string]string{"Retry-After": "1"}
		case st >= 400:
			resp.Body = []byte(`{"error":{"code":"C","message":"m"}}`)
		case q.Method == "GET" && st == 200:
			resp.Body = fmt.Appendf(nil, `{"status":%q}`, []string{"compliant", "nonCompliant", "unknown"}[c.rng.IntN(3)])
		}
		res.Responses = append(res.Responses, resp)
	}
	return res, nil
}

// TestSchedulerInvariants runs rows for a few entities against
// chaosGraph, writing, reading first, backing up, and stopping at a
// random moment: besides what chaosGraph checks, a run that ends without
// an error records exactly one outcome per row.
func TestSchedulerInvariants(t *testing.T) {
	for seed := range uint64(40) {
		for _, mode := range []string{"write", "skip", "backup", "stop"} {
			t.Run(fmt.Sprint(mode, seed), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) { chaosRun(t, seed, mode) })
			})
		}
	}
}

func chaosRun(t *testing.T, seed uint64, mode string) {
	c := &chaosGraph{t: t, rng: rand.New(rand.NewPCG(seed, 1)), busy: map[string]int{}, last: map[string]int{}}
	rows := make([]csvio.Row, 200)
	for i := range rows {
		rows[i] = statusRow(i+1, fmt.Sprintf("e%d", c.rng.IntN(30)), []string{"compliant", "nonCompliant", "unknown"}[c.rng.IntN(3)])
	}
	cfg := Config{MaxAttempts: 3, Concurrency: 1 + int(seed%4), BatchSize: 1 + int(seed%20)}
	finished := make(chan struct{})
	var stopper sync.WaitGroup
	switch mode {
	case "skip":
		cfg.SkipUnchanged = true
	case "backup":
		c.bak = &chaosTable{}
		cfg.Backup = NewBackup(c.bak, []string{"policyId", "id", "status"}, 2, graph.DefaultNullToken)
	case "stop":
		cfg.SkipUnchanged = true
		stop := make(chan struct{})
		cfg.Stop = stop
		after := time.Duration(c.rng.IntN(20000)) * time.Millisecond
		stopper.Go(func() {
			select {
			case <-time.After(after):
			case <-finished:
				return
			}
			close(stop)
			synctest.Wait() // the scheduler has taken the stop
			c.mu.Lock()
			c.stopped = true
			c.mu.Unlock()
		})
	}
	w, _, err := runTestWith(t, rows, c, cfg)
	close(finished)
	stopper.Wait()
	got := w.byRow(t)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.late > 0 {
		t.Errorf("%d envelopes sent after the stop", c.late)
	}
	switch {
	case err == nil && len(got) != len(rows):
		t.Errorf("%d outcomes for %d rows", len(got), len(rows))
	case err != nil && !errors.Is(err, ErrInterrupted) && !errors.Is(err, graph.ErrAuth):
		t.Errorf("Run: %v", err)
	}
}
