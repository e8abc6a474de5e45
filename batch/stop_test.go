package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

// slowGraph answers every item 200 after delay, or as answer says, and
// records when each envelope started.
type slowGraph struct {
	delay  time.Duration
	answer func(graph.Request) (status int, retryAfter string)
	mu     sync.Mutex
	starts []time.Time
}

func (g *slowGraph) Batch(ctx context.Context, _ graph.Version, reqs []graph.Request) (*graph.BatchResult, error) {
	g.mu.Lock()
	g.starts = append(g.starts, time.Now())
	g.mu.Unlock()
	select {
	case <-time.After(g.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res := &graph.BatchResult{}
	for _, r := range reqs {
		resp := graph.Response{ID: r.ID, Status: 200}
		if g.answer != nil {
			status, ra := g.answer(r)
			resp = graph.Response{ID: r.ID, Status: status, Headers: map[string]string{"Retry-After": ra}}
		}
		res.Responses = append(res.Responses, resp)
	}
	return res, nil
}

func (g *slowGraph) Reauthenticate(context.Context, uint64) error { return nil }

func (g *slowGraph) startsAfter(t time.Time) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, s := range g.starts {
		if s.After(t) {
			n++
		}
	}
	return n
}

// runStopped runs rows, closes Stop at stopAt, and returns when Run did.
func runStopped(t *testing.T, rows []csvio.Row, send Sender, cfg Config, stopAt time.Duration) (*memWriter, time.Duration, error) {
	t.Helper()
	stop := make(chan struct{})
	cfg.Stop = stop
	cfg.Target = deviceTarget
	time.AfterFunc(stopAt, func() { close(stop) })
	start := time.Now()
	w := &memWriter{}
	_, err := Run(t.Context(), &sliceReader{rows: rows}, w, send, cfg)
	return w, time.Since(start), err
}

func TestGracefulStopFinishesEnvelopesInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &slowGraph{delay: 5 * time.Second}
		w, took, err := runStopped(t, distinctRows(1000), g, Config{Concurrency: 4}, 2*time.Second)
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("Run = %v, want ErrInterrupted", err)
		}
		if took != 5*time.Second {
			t.Errorf("Run returned after %v, want 5s: when the envelopes in flight were answered", took)
		}
		if n := len(w.byRow(t)); n != 80 {
			t.Errorf("%d outcomes recorded, want the 80 rows of the 4 envelopes in flight", n)
		}
		if n := g.startsAfter(time.Now().Add(-took + 2*time.Second)); n != 0 {
			t.Errorf("%d envelopes sent after the stop", n)
		}
	})
}

func TestGracefulStopEndsThrottleWaitAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &slowGraph{answer: func(graph.Request) (int, string) { return 429, "600" }}
		w, took, err := runStopped(t, distinctRows(100), g, Config{}, 10*time.Second)
		if !errors.Is(err, ErrInterrupted) || took != 10*time.Second {
			t.Errorf("Run = %v after %v, want ErrInterrupted at once, after 10s", err, took)
		}
		if n := len(w.byRow(t)); n != 0 {
			t.Errorf("%d throttled rows got an outcome, want none: --resume sends them", n)
		}
	})
}

func TestHardStopAbandonsEnvelopesInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(2*time.Second, cancel)
		w := &memWriter{}
		_, err := Run(ctx, &sliceReader{rows: distinctRows(100)}, w, &slowGraph{delay: time.Minute}, Config{Target: deviceTarget})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
		if n := len(w.byRow(t)); n != 0 {
			t.Errorf("%d outcomes for envelopes that were cut off", n)
		}
	})
}

// history returns the History of a results file recording these outcomes,
// keyed as distinctRows keys them unless keys says otherwise.
func history(t *testing.T, outcomes map[int]csvio.Outcome, keys map[int]string) *csvio.History {
	t.Helper()
	var buf bytes.Buffer
	keyCols := []string{"policyId", "id"}
	w := csvio.NewWriter(&buf, keyCols)
	_ = w.WriteHeader()
	for row, o := range outcomes {
		id := fmt.Sprintf("d%d", row)
		if k, ok := keys[row]; ok {
			id = k
		}
		_ = w.Write(&csvio.Result{Row: row, Keys: []string{"p1", id}, Outcome: o, FinishedAt: time.Now()})
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	h, _, err := csvio.ReadHistory(&buf, keyCols)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestResumeSkipsUpdatedRows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := map[int]csvio.Outcome{}
		for n := 1; n <= 30; n++ {
			done[n] = csvio.Updated
		}
		done[31], done[32] = csvio.Failed, csvio.Invalid // sent again
		g := &fakeGraph{}
		w, sum, err := runTest(t, distinctRows(50), g, Config{History: history(t, done, nil)})
		if err != nil {
			t.Fatal(err)
		}
		got := w.byRow(t)
		for n := 1; n <= 50; n++ {
			_, sent := got[n]
			if sent != (n > 30) {
				t.Errorf("row %d sent: %v, want %v", n, sent, n > 30)
			}
		}
		if sum.Skipped != 30 || sum.Updated != 20 || sum.Read != 50 {
			t.Errorf("summary %+v, want 50 read, 30 skipped, 20 updated", sum)
		}
	})
}

func TestResumeStopsAtAForeignRow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Row 45 ended updated with other keys: only a row that ended
		// failed or invalid may have changed its keys since.
		done := map[int]csvio.Outcome{1: csvio.Updated, 2: csvio.Failed, 45: csvio.Updated}
		g := &fakeGraph{}
		_, _, err := runTest(t, distinctRows(60), g, Config{History: history(t, done, map[int]string{45: "someone-else"})})
		var me *MismatchError
		if !errors.As(err, &me) || me.Row != 45 || me.Keys[1] != "d45" {
			t.Fatalf("Run = %v, want a MismatchError for row 45", err)
		}
		for _, env := range g.envelopes {
			for _, r := range env {
				if n, _ := strconv.Atoi(r.ID); n >= 45 {
					t.Errorf("row %s sent although the file stopped matching at row 45", r.ID)
				}
			}
		}
	})
}

// failingWriter fails every write from the n-th on, and says when.
type failingWriter struct {
	memWriter
	n        int
	failedAt time.Time
}

var errDiskFull = errors.New("no space left on device")

func (w *failingWriter) Write(r *csvio.Result) error {
	w.mu.Lock()
	w.n--
	fail := w.n < 0
	if fail && w.failedAt.IsZero() {
		w.failedAt = time.Now()
	}
	w.mu.Unlock()
	if fail {
		return errDiskFull
	}
	return w.memWriter.Write(r)
}

func TestWriteFailureStopsSending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &slowGraph{delay: time.Second}
		w := &failingWriter{n: 50}
		_, err := Run(t.Context(), &sliceReader{rows: distinctRows(2000)}, w, g, Config{Target: deviceTarget})
		if !errors.Is(err, errDiskFull) {
			t.Fatalf("Run = %v, want the write error", err)
		}
		if n := g.startsAfter(w.failedAt); n != 0 {
			t.Errorf("%d envelopes sent after the first failed write", n)
		}
		if len(g.starts) >= 100 {
			t.Errorf("%d envelopes sent for 2,000 rows; the run did not stop", len(g.starts))
		}
	})
}
