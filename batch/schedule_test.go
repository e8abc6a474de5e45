package batch

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

// until answers status for the first n sends of an item, then 200.
func until(n, status int) func(graph.Request, int) int {
	return func(_ graph.Request, attempt int) int {
		if attempt <= n {
			return status
		}
		return http.StatusOK
	}
}

// TestRetriedRowsWaitTheirDueTimeAndShareEnvelopesWithFreshRows: rows
// 1-5 are answered 503 with a Retry-After of 1s by a Graph that takes a
// second for each envelope of 10. They must not be sent again before their
// second has passed, and then go in the next envelope with the fresh rows
// still waiting (21-25), not alone.
func TestRetriedRowsWaitTheirDueTimeAndShareEnvelopesWithFreshRows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &sendLog{}
		var answered time.Time
		send := &scriptedSender{fn: func(reqs []graph.Request) *graph.BatchResult {
			sends := log.record(reqs)
			time.Sleep(time.Second)
			res := &graph.BatchResult{}
			for _, r := range reqs {
				resp := graph.Response{ID: r.ID, Status: 200}
				if n, _ := strconv.Atoi(r.ID); n <= 5 && sends[r.ID] == 1 {
					resp = graph.Response{ID: r.ID, Status: 503, Headers: map[string]string{"Retry-After": "1"}}
					answered = time.Now()
				}
				res.Responses = append(res.Responses, resp)
			}
			return res
		}}
		w, _, err := runTestWith(t, distinctRows(25), send, Config{Concurrency: 1, BatchSize: 10})
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; n <= 5; n++ {
			s := log.items[strconv.Itoa(n)]
			if len(s) != 2 || s[1].Before(answered.Add(time.Second)) {
				t.Errorf("row %d sent at %v, want twice, the second time at least 1s after the 503 at %v", n, s, answered)
			}
		}
		third := log.envelopes[2]
		var inThird []int
		for id, at := range log.items {
			if at[len(at)-1].Equal(third) {
				n, _ := strconv.Atoi(id)
				inThird = append(inThird, n)
			}
		}
		slices.Sort(inThird)
		if want := []int{1, 2, 3, 4, 5, 21, 22, 23, 24, 25}; !slices.Equal(inThird, want) {
			t.Errorf("third envelope holds rows %v, want %v: retried and fresh rows together", inThird, want)
		}
		if got := len(w.byRow(t)); got != 25 {
			t.Errorf("%d outcomes, want 25", got)
		}
	})
}

func TestFailureStreakStopsTheRun(t *testing.T) {
	refused := func(graph.Request, int) int { return http.StatusBadRequest }
	tests := []struct {
		name        string
		maxFailures int
		answer      func(graph.Request, int) int
		wantStop    bool
		wantSentMax int
	}{
		{name: "a refused route stops after the streak", maxFailures: 30, answer: refused, wantStop: true, wantSentMax: 30 + 4*20},
		{name: "0 turns it off", maxFailures: 0, answer: refused},
		{name: "a success between breaks the streak", maxFailures: 30, answer: func(r graph.Request, _ int) int {
			if n, _ := strconv.Atoi(r.ID); n%10 == 0 {
				return http.StatusOK
			}
			return http.StatusBadRequest
		}},
		{name: "retryable failures do not count", maxFailures: 30, answer: func(graph.Request, int) int { return http.StatusServiceUnavailable }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := &fakeGraph{answer: tt.answer}
				w, sum, err := runTest(t, distinctRows(500), g, Config{MaxFailures: tt.maxFailures, MaxAttempts: 2})
				var fe *FailureStreakError
				if got := errors.As(err, &fe); got != tt.wantStop {
					t.Fatalf("Run = %v; stopped by a failure streak: %v, want %v", err, got, tt.wantStop)
				}
				if !tt.wantStop {
					if len(w.byRow(t)) != 500 {
						t.Errorf("%d outcomes, want every row's", len(w.byRow(t)))
					}
					return
				}
				if fe.Rows != tt.maxFailures || fe.Err.Status != 400 || fe.Err.Code != "Code400" {
					t.Errorf("streak error %+v, want %d rows of 400 Code400", fe, tt.maxFailures)
				}
				if want := "stopped: 30 rows in a row failed with 400 Code400: message 400"; err.Error() != want {
					t.Errorf("message %q, want %q", err, want)
				}
				if sum.Sends > int64(tt.wantSentMax) {
					t.Errorf("%d rows sent, want at most %d: the streak and what was in flight", sum.Sends, tt.wantSentMax)
				}
				if n := len(w.byRow(t)); int64(n) != sum.Sends {
					t.Errorf("%d outcomes for %d rows sent: rows in flight must be recorded", n, sum.Sends)
				}
			})
		})
	}
}

func TestUnclearAnswersAreRetried(t *testing.T) {
	tests := []struct {
		name  string
		reply func(reqs []graph.Request) []graph.Response
	}{
		{name: "status 0", reply: func(reqs []graph.Request) []graph.Response {
			out := make([]graph.Response, len(reqs))
			for i, r := range reqs {
				out[i] = graph.Response{ID: r.ID}
			}
			return out
		}},
		{name: "id named twice", reply: func(reqs []graph.Request) []graph.Response {
			var out []graph.Response
			for _, r := range reqs {
				out = append(out, graph.Response{ID: r.ID, Status: 200}, graph.Response{ID: r.ID, Status: 404})
			}
			return out
		}},
		{name: "ids not sent", reply: func(reqs []graph.Request) []graph.Response {
			var out []graph.Response
			for _, r := range reqs {
				out = append(out, graph.Response{ID: "x" + r.ID, Status: 200})
			}
			return out
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				first := true
				send := &scriptedSender{fn: func(reqs []graph.Request) *graph.BatchResult {
					if first {
						first = false
						return &graph.BatchResult{Responses: tt.reply(reqs)}
					}
					return allOK(reqs)
				}}
				w, _, err := runTestWith(t, distinctRows(20), send, Config{Concurrency: 1})
				if err != nil {
					t.Fatal(err)
				}
				for n, r := range w.byRow(t) {
					if r.Outcome != csvio.Updated || r.Attempts != 2 {
						t.Errorf("row %d: %s after %d attempts, want updated after 2 (the first answer was not clear)", n, r.Outcome, r.Attempts)
					}
				}
			})
		})
	}
}

func allOK(reqs []graph.Request) *graph.BatchResult {
	res := &graph.BatchResult{}
	for _, r := range reqs {
		res.Responses = append(res.Responses, graph.Response{ID: r.ID, Status: 200})
	}
	return res
}

// TestRedirectFailsTheEnvelopeAtOnce: a 3xx is not Graph; its rows fail
// without being sent again (README, "Files and servers").
func TestRedirectFailsTheEnvelopeAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		redirect := &graph.Error{Status: 307, Code: "Redirect", Message: "the answer redirects to http://elsewhere/"}
		g := &fakeGraph{envelope: func([]graph.Request) error { return redirect }}
		w, _, err := runTest(t, distinctRows(20), g, Config{})
		if err != nil {
			t.Fatal(err)
		}
		for n, r := range w.byRow(t) {
			if r.Outcome != csvio.Failed || r.HTTPStatus != 307 || r.Attempts != 1 || !strings.Contains(r.ErrorMessage, "elsewhere") {
				t.Errorf("row %d = %+v, want failed with 307 after one attempt, naming the Location", n, r)
			}
		}
	})
}

func TestEnvelopesStayUnderTheByteBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rows := distinctRows(40)
		big := strings.Repeat("x", 900<<10) // a value a spreadsheet may hold; the cell limit is 1 MiB
		for _, i := range []int{4, 5, 6} {
			rows[i].Fields[slices.Index(deviceTarget.Columns(), "deviceDisplayName")] = big
		}
		g := &fakeGraph{}
		w, _, err := runTest(t, rows, g, Config{Concurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range g.envelopes {
			size := 0
			for _, r := range env {
				size += len(r.Body)
			}
			if len(env) > 1 && size > maxEnvelopeBytes {
				t.Errorf("an envelope of %d rows carries %d bytes, over the %d budget", len(env), size, maxEnvelopeBytes)
			}
		}
		if got := len(w.byRow(t)); got != 40 {
			t.Errorf("%d outcomes, want 40", got)
		}
	})
}

// TestReadEnvelopesAreNotCutByWhatRowsWrite: a GET carries no body, so
// rows whose PATCHes are large are still read twenty to an envelope.
func TestReadEnvelopesAreNotCutByWhatRowsWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rows := distinctRows(40)
		big := strings.Repeat("x", 600<<10)
		for i := range rows {
			rows[i].Fields[slices.Index(deviceTarget.Columns(), "deviceDisplayName")] = big
		}
		var mu sync.Mutex
		var reads []int
		send := &scriptedSender{fn: func(reqs []graph.Request) *graph.BatchResult {
			res := allOK(reqs)
			if reqs[0].Method == http.MethodGet {
				mu.Lock()
				reads = append(reads, len(reqs))
				mu.Unlock()
				for i := range res.Responses {
					res.Responses[i].Body = []byte(`{"status":"compliant"}`)
				}
			}
			return res
		}}
		if _, _, err := runTestWith(t, rows, send, Config{Concurrency: 1, SkipUnchanged: true}); err != nil {
			t.Fatal(err)
		}
		if want := []int{20, 20}; !slices.Equal(reads, want) {
			t.Errorf("read envelopes of %v rows, want %v", reads, want)
		}
	})
}
