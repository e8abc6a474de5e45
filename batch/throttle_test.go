package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// sendLog records when each envelope and each item was sent.
type sendLog struct {
	mu        sync.Mutex
	envelopes []time.Time
	items     map[string][]time.Time
}

// record logs reqs as sent now and returns how many times each was sent.
func (l *sendLog) record(reqs []graph.Request) map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.envelopes = append(l.envelopes, now)
	if l.items == nil {
		l.items = make(map[string][]time.Time)
	}
	sends := make(map[string]int)
	for _, r := range reqs {
		l.items[r.ID] = append(l.items[r.ID], now)
		sends[r.ID] = len(l.items[r.ID])
	}
	return sends
}

// throttledOnce returns a sender that answers item id 429 with retryAfter
// on its first send, and records every send in log.
func throttledOnce(id, retryAfter string, log *sendLog) *scriptedSender {
	return &scriptedSender{fn: func(reqs []graph.Request) *graph.BatchResult {
		sends := log.record(reqs)
		res := &graph.BatchResult{}
		for _, r := range reqs {
			resp := graph.Response{ID: r.ID, Status: 200}
			if r.ID == id && sends[id] == 1 {
				resp = graph.Response{ID: r.ID, Status: 429, Headers: map[string]string{"Retry-After": retryAfter},
					Body: []byte(`{"error":{"code":"TooManyRequests","message":"Too many requests"}}`)}
			}
			res.Responses = append(res.Responses, resp)
		}
		return res
	}}
}

type scriptedSender struct {
	fn func([]graph.Request) *graph.BatchResult
}

func (s *scriptedSender) Reauthenticate(context.Context, uint64) error { return nil }

func (s *scriptedSender) Batch(_ context.Context, _ graph.Version, reqs []graph.Request) (*graph.BatchResult, error) {
	return s.fn(reqs), nil
}

func TestThrottledItemWaitsForItsRetryAfter(t *testing.T) {
	tests := []struct {
		retryAfter string
		want       time.Duration
	}{
		{"30", 30 * time.Second},
		{"0.249", time.Second}, // fractional seconds round up
		{"2.128", 3 * time.Second},
		{"Wed, 21 Oct 2099 07:28:00 GMT", DefaultMaxWait}, // a date far away: capped
	}
	for _, tt := range tests {
		t.Run(tt.retryAfter, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				log := &sendLog{}
				w, _, err := runTestWith(t, distinctRows(100), throttledOnce("7", tt.retryAfter, log), Config{Concurrency: 4})
				if err != nil {
					t.Fatal(err)
				}
				sends := log.items["7"]
				if len(sends) != 2 {
					t.Fatalf("row 7 sent %d times, want 2", len(sends))
				}
				if got := sends[1].Sub(sends[0]); got < tt.want {
					t.Errorf("row 7 sent again after %v, want at least %v", got, tt.want)
				}
				if r := w.byRow(t)[7]; r.Outcome != csvio.Updated || r.Attempts != 2 {
					t.Errorf("row 7: %s in %d attempts, want updated in 2", r.Outcome, r.Attempts)
				}
			})
		})
	}
}

func TestOne429PausesEveryWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &sendLog{}
		// 400 rows are 20 envelopes: the four workers have more to send
		// when row 7 is throttled, but none may send during its 30s.
		if _, _, err := runTestWith(t, distinctRows(400), throttledOnce("7", "30", log), Config{Concurrency: 4}); err != nil {
			t.Fatal(err)
		}
		throttledAt := log.items["7"][0]
		for _, at := range log.envelopes {
			if at.After(throttledAt) && at.Before(throttledAt.Add(30*time.Second)) {
				t.Errorf("an envelope was sent %v after the 429, inside its 30s Retry-After", at.Sub(throttledAt))
			}
		}
	})
}

// runTestWith runs rows through Run with send, inside the caller's bubble.
func runTestWith(t *testing.T, rows []csvio.Row, send Sender, cfg Config) (*memWriter, Summary, error) {
	t.Helper()
	if cfg.Target == nil {
		cfg.Target = deviceTarget
	}
	w := &memWriter{}
	sum, err := Run(t.Context(), &sliceReader{rows: rows}, w, send, cfg)
	return w, sum, err
}

// emulated returns a client for an in-process emulator with opts, reached
// without a socket so it runs inside a synctest bubble.
func emulated(opts graphtest.Options) (*graph.Client, *graphtest.Server) {
	emu := graphtest.New(opts)
	return graph.NewClient(&http.Client{Transport: emu.Transport()}, "http://graph.test", nil), emu
}

func TestRunAgainstIntuneLimits(t *testing.T) {
	tests := []struct {
		name        string
		appWrites   int // the emulator's per-app limit; the pacer's ceiling is 100/20s
		rows        int
		maxThrottle float64 // share of sends answered 429
	}{
		{name: "alone at the limit", appWrites: 100, rows: 1000, maxThrottle: 0},
		{name: "sharing the tenant", appWrites: 50, rows: 1000, maxThrottle: 0.10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				client, emu := emulated(graphtest.Options{Seed: 1, Limits: &graphtest.Limits{AppWrites: tt.appWrites, TenantWrites: 200, Window: 20 * time.Second}})
				start := time.Now()
				w, sum, err := runTestWith(t, distinctRows(tt.rows), client, Config{Pacer: NewPacer(Rate{100, 20 * time.Second})})
				if err != nil {
					t.Fatal(err)
				}
				elapsed := time.Since(start)
				if sum.Updated != int64(tt.rows) || len(w.byRow(t)) != tt.rows {
					t.Fatalf("%d of %d rows updated", sum.Updated, tt.rows)
				}
				c := emu.Counters()
				if c.EarlyRetries != 0 {
					t.Errorf("%d early retries, want 0", c.EarlyRetries)
				}
				share := float64(c.Throttled) / float64(sum.Sends)
				if share > tt.maxThrottle {
					t.Errorf("%d of %d sends throttled (%.1f%%), want at most %.0f%%", c.Throttled, sum.Sends, 100*share, 100*tt.maxThrottle)
				}
				// Goodput: rows per second after the first window's free burst, over the limit.
				goodput := float64(tt.rows-tt.appWrites) / elapsed.Seconds() / (float64(tt.appWrites) / 20)
				t.Logf("%d rows in %v: goodput %.3f, %d throttled (%.1f%%), %d envelopes", tt.rows, elapsed, goodput, c.Throttled, 100*share, c.Envelopes)
				if goodput < 0.9 {
					t.Errorf("goodput %.3f, want at least 0.9", goodput)
				}
			})
		})
	}
}

func TestRunSurvivesFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, emu := emulated(graphtest.Options{
			Seed:   7,
			Limits: &graphtest.NoLimits,
			// Higher than the benchmark's rates, so that every kind surely
			// happens although scheduling varies the draws.
			Faults: graphtest.Faults{ItemRate: 0.10, EnvelopeRate: 0.10, DropRate: 0.05},
		})
		const rows = 2000
		w, sum, err := runTestWith(t, distinctRows(rows), client, Config{})
		if err != nil {
			t.Fatal(err)
		}
		results := w.byRow(t)
		for n := 1; n <= rows; n++ {
			if r, ok := results[n]; !ok || r.Outcome != csvio.Updated {
				t.Errorf("row %d: %+v, want updated", n, r)
			}
		}
		c := emu.Counters()
		if c.ItemFaults == 0 || c.EnvelopeFaults == 0 || c.Dropped == 0 {
			t.Errorf("faults injected: %+v, want some of each", c)
		}
		if got := len(emu.Entities()); got != rows {
			t.Errorf("store has %d entities, want %d", got, rows)
		}
		t.Logf("%d sends for %d rows; emulator %+v", sum.Sends, rows, c)
	})
}

func TestRunFailsAfterMaxAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &fakeGraph{answer: func(r graph.Request, attempt int) int {
			if r.ID == "3" {
				return []int{500, 504, 503}[attempt%3]
			}
			return 200
		}}
		w, _, err := runTest(t, distinctRows(20), g, Config{MaxAttempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		r := w.byRow(t)[3]
		if r.Outcome != csvio.Failed || r.Attempts != 3 || r.HTTPStatus != 500 || r.ErrorCode != "Code500" {
			t.Errorf("row 3 = %+v, want failed after 3 attempts with the last status, 500", r)
		}
		if slices.ContainsFunc(g.envelopes, func(e []graph.Request) bool { return len(e) > graph.MaxBatchSize }) {
			t.Error("an envelope held more than 20 requests")
		}
	})
}

// TestCappedWaitIsLoggedInSeconds: the warning for a Retry-After longer
// than MaxWait once said cappedTo with no unit (issue #10.11).
func TestCappedWaitIsLoggedInSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		log := zerolog.New(&logs).Level(zerolog.WarnLevel)
		if _, _, err := runTestWith(t, distinctRows(20), throttledOnce("7", "86400", &sendLog{}), Config{Log: log, MaxWait: time.Minute}); err != nil {
			t.Fatal(err)
		}
		var line struct {
			Capped     *float64 `json:"cappedToSeconds"`
			RetryAfter string   `json:"retryAfter"`
		}
		if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &line); err != nil {
			t.Fatalf("log %q: %v", logs.String(), err)
		}
		if line.Capped == nil || *line.Capped != 60 || line.RetryAfter != "86400" {
			t.Errorf("log %s: want cappedToSeconds 60 and retryAfter 86400", logs.String())
		}
	})
}
