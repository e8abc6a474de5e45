package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

var (
	deviceTarget = mustTarget("device-statuses", graph.V1)
	statusCol    = slices.Index(deviceTarget.Columns(), "status")
)

// mustTarget opens a target on the built-in metadata of v.
func mustTarget(name string, v graph.Version) *graph.Target {
	m, err := graph.BuiltinModel(v)
	if err != nil {
		panic(err)
	}
	t, err := graph.OpenTarget(name, m, v)
	if err != nil {
		panic(err)
	}
	return t
}

// row returns a valid device-status row for the v1.0 schema with keys policyID and id.
func row(num int, policyID, id string) csvio.Row {
	f := make([]string, len(deviceTarget.Columns()))
	f[0], f[1] = policyID, id
	f[statusCol] = "compliant"
	return csvio.Row{Num: num, Line: num + 1, Fields: f}
}

// distinctRows returns n rows, each for its own entity.
func distinctRows(n int) []csvio.Row {
	rows := make([]csvio.Row, n)
	for i := range rows {
		rows[i] = row(i+1, "p1", fmt.Sprintf("d%d", i+1))
	}
	return rows
}

type sliceReader struct {
	rows []csvio.Row
	next int
}

func (r *sliceReader) Read() (csvio.Row, error) {
	if r.next == len(r.rows) {
		return csvio.Row{}, errEOF
	}
	r.next++
	return r.rows[r.next-1], nil
}

type memWriter struct {
	mu      sync.Mutex
	results []csvio.Result
}

func (w *memWriter) Write(r *csvio.Result) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.results = append(w.results, *r)
	return nil
}

func (w *memWriter) Flush() error { return nil }

// byRow returns the outcome of every row, failing the test if a row has
// more than one.
func (w *memWriter) byRow(t *testing.T) map[int]csvio.Result {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	m := make(map[int]csvio.Result)
	for _, r := range w.results {
		if _, dup := m[r.Row]; dup {
			t.Errorf("row %d has more than one outcome", r.Row)
		}
		m[r.Row] = r
	}
	return m
}

// fakeGraph is a sender whose answers a test scripts item by item.
type fakeGraph struct {
	mu        sync.Mutex
	envelopes [][]graph.Request
	versions  []graph.Version
	// answer returns the status for one item; nil answers 200 to all.
	answer func(req graph.Request, attempt int) int
	// envelope, if set, may fail a whole envelope before items are answered.
	envelope func(reqs []graph.Request) error
	attempts map[string]int
	// reauth, if set, answers Reauthenticate.
	reauth  func(gen uint64) error
	refresh []uint64 // the generations Reauthenticate was asked to replace
}

func (f *fakeGraph) Reauthenticate(_ context.Context, gen uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refresh = append(f.refresh, gen)
	if f.reauth != nil {
		return f.reauth(gen)
	}
	return nil
}

func (f *fakeGraph) Batch(ctx context.Context, v graph.Version, reqs []graph.Request) (*graph.BatchResult, error) {
	f.mu.Lock()
	f.envelopes = append(f.envelopes, reqs)
	f.versions = append(f.versions, v)
	if f.attempts == nil {
		f.attempts = make(map[string]int)
	}
	res := &graph.BatchResult{RequestID: "rid", ClientRequestID: "crid"}
	if f.envelope != nil {
		if err := f.envelope(reqs); err != nil {
			f.mu.Unlock()
			return res, err
		}
	}
	for _, r := range slices.Backward(reqs) { // answer in reverse: never by position
		f.attempts[r.ID]++
		status := http200
		if f.answer != nil {
			status = f.answer(r, f.attempts[r.ID])
		}
		if status == 0 {
			continue // no answer for this item
		}
		resp := graph.Response{ID: r.ID, Status: status}
		if status >= 400 {
			resp.Body = []byte(`{"error":{"code":"Code` + strconv.Itoa(status) + `","message":"message ` + strconv.Itoa(status) + `"}}`)
		}
		res.Responses = append(res.Responses, resp)
	}
	f.mu.Unlock()
	return res, nil
}

const http200 = 200

func (f *fakeGraph) envelopeSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var sizes []int
	for _, e := range f.envelopes {
		sizes = append(sizes, len(e))
	}
	return sizes
}

// runTest runs rows through Run inside a synctest bubble.
func runTest(t *testing.T, rows []csvio.Row, g *fakeGraph, cfg Config) (*memWriter, Summary, error) {
	t.Helper()
	var send Sender
	if g != nil { // a nil *fakeGraph is not a nil sender
		send = g
	}
	return runTestWith(t, rows, send, cfg)
}

func TestRunPacksFullEnvelopes(t *testing.T) {
	tests := []struct {
		rows, batchSize int
		want            []int
	}{
		{rows: 20, want: []int{20}},
		{rows: 40, want: []int{20, 20}},
		{rows: 45, want: []int{20, 20, 5}},
		{rows: 15, batchSize: 7, want: []int{7, 7, 1}},
		{rows: 1, want: []int{1}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d rows by %d", tt.rows, tt.batchSize), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := &fakeGraph{}
				w, _, err := runTest(t, distinctRows(tt.rows), g, Config{BatchSize: tt.batchSize, Concurrency: 1})
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if got := g.envelopeSizes(); !slices.Equal(got, tt.want) {
					t.Errorf("envelope sizes = %v, want %v", got, tt.want)
				}
				if got := len(w.byRow(t)); got != tt.rows {
					t.Errorf("%d outcomes, want %d", got, tt.rows)
				}
			})
		})
	}
}

func TestRunSendsTheSchemaVersion(t *testing.T) {
	for _, v := range graph.Versions {
		synctest.Test(t, func(t *testing.T) {
			g := &fakeGraph{}
			if _, _, err := runTest(t, distinctRows(30), g, Config{Target: mustTarget("device-statuses", v)}); err != nil {
				t.Fatal(err)
			}
			for _, got := range g.versions {
				if got != v {
					t.Errorf("envelope sent to %s, want %s", got, v)
				}
			}
		})
	}
}

func TestRunKeepsOneEntityOutOfFlightAndInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Entities e0..e4 each appear 12 times, interleaved, so every
		// envelope would otherwise hold several rows of one entity.
		var rows []csvio.Row
		for i := range 60 {
			rows = append(rows, row(i+1, "P", fmt.Sprintf("e%d", i%5)))
		}
		rows[7].Fields[1] = "E2"   // same entity as e2: ids are case-insensitive
		rows[8].Fields[1] = " e3 " // same entity as e3: keys are trimmed
		var (
			mu       sync.Mutex
			inFlight = map[string]string{} // entity → the row in flight for it
			sent     = map[string][]int{}
		)
		g := &fakeGraph{}
		g.envelope = func(reqs []graph.Request) error {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range reqs {
				n, _ := strconv.Atoi(r.ID)
				key := strconv.Itoa((n - 1) % 5)
				if other, busy := inFlight[key]; busy && other != r.ID {
					t.Errorf("row %s sent while row %s for the same entity e%s is in flight", r.ID, other, key)
				}
				inFlight[key] = r.ID
				sent[key] = append(sent[key], n)
			}
			return nil
		}
		g.answer = func(r graph.Request, attempt int) int {
			mu.Lock()
			defer mu.Unlock()
			n, _ := strconv.Atoi(r.ID)
			if n%7 == 0 && attempt == 1 {
				return 503 // a retry must keep the entity's later rows waiting
			}
			delete(inFlight, strconv.Itoa((n-1)%5))
			return 200
		}
		w, _, err := runTest(t, rows, g, Config{Concurrency: 4})
		if err != nil {
			t.Fatal(err)
		}
		for key, order := range sent {
			if !slices.IsSorted(dedupe(order)) {
				t.Errorf("rows for entity e%s sent in order %v, want input order", key, order)
			}
		}
		if got := len(w.byRow(t)); got != len(rows) {
			t.Errorf("%d outcomes, want %d", got, len(rows))
		}
	})
}

// dedupe drops repeats of a row (its resends) from a send order.
func dedupe(order []int) []int {
	var out []int
	for _, n := range order {
		if len(out) == 0 || out[len(out)-1] != n {
			out = append(out, n)
		}
	}
	return out
}

func TestRunOutcomes(t *testing.T) {
	tests := []struct {
		name         string
		answer       func(graph.Request, int) int
		envelope     func([]graph.Request) error
		wantOutcome  csvio.Outcome
		wantStatus   int
		wantCode     string
		wantAttempts int
	}{
		{name: "ok", wantOutcome: csvio.Updated, wantStatus: 200, wantAttempts: 1},
		{name: "204 is success", answer: func(graph.Request, int) int { return 204 }, wantOutcome: csvio.Updated, wantStatus: 204, wantAttempts: 1},
		{name: "404 fails at once", answer: func(graph.Request, int) int { return 404 }, wantOutcome: csvio.Failed, wantStatus: 404, wantCode: "Code404", wantAttempts: 1},
		{name: "missing answer is retried", answer: until(1, 0), wantOutcome: csvio.Updated, wantStatus: 200, wantAttempts: 2},
		{name: "503 then ok", answer: until(2, 503), wantOutcome: csvio.Updated, wantStatus: 200, wantAttempts: 3},
		{name: "503 until attempts run out", answer: func(graph.Request, int) int { return 503 }, wantOutcome: csvio.Failed, wantStatus: 503, wantCode: "Code503", wantAttempts: DefaultMaxAttempts},
		{name: "429 never fails by itself", answer: until(8, 429), wantOutcome: csvio.Updated, wantStatus: 200, wantAttempts: 9},
		{name: "envelope 400 fails every row", envelope: func([]graph.Request) error {
			return &graph.Error{Status: 400, Code: "BadRequest", Message: "Invalid batch payload format."}
		}, wantOutcome: csvio.Failed, wantStatus: 400, wantCode: "BadRequest", wantAttempts: 1},
		{name: "lost envelope is retried", envelope: firstSendFails(errors.New("connection reset")), wantOutcome: csvio.Updated, wantStatus: 200, wantAttempts: 2},
		{name: "envelope 503 is retried", envelope: firstSendFails(&graph.Error{Status: 503, RetryAfter: "3"}), wantOutcome: csvio.Updated, wantStatus: 200, wantAttempts: 2},
		{name: "401 refreshes the token and retries", answer: until(1, 401), wantOutcome: csvio.Updated, wantStatus: 200, wantAttempts: 2},
		{name: "401 twice fails", answer: func(graph.Request, int) int { return 401 }, wantOutcome: csvio.Failed, wantStatus: 401, wantCode: "Code401", wantAttempts: 2},
		{name: "envelope 401 refreshes and retries", envelope: firstSendFails(&graph.Error{Status: 401, Code: "InvalidAuthenticationToken"}), wantOutcome: csvio.Updated, wantStatus: 200, wantAttempts: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := &fakeGraph{answer: tt.answer, envelope: tt.envelope}
				w, _, err := runTest(t, distinctRows(25), g, Config{})
				if err != nil {
					t.Fatal(err)
				}
				results := w.byRow(t)
				if len(results) != 25 {
					t.Fatalf("%d outcomes, want 25", len(results))
				}
				for n, r := range results {
					if r.Outcome != tt.wantOutcome || r.HTTPStatus != tt.wantStatus || r.ErrorCode != tt.wantCode || r.Attempts != tt.wantAttempts {
						t.Errorf("row %d: outcome %s, status %d, code %q, attempts %d; want %s, %d, %q, %d",
							n, r.Outcome, r.HTTPStatus, r.ErrorCode, r.Attempts, tt.wantOutcome, tt.wantStatus, tt.wantCode, tt.wantAttempts)
					}
					if len(r.Keys) != 2 || r.Keys[0] != "p1" || r.Keys[1] != "d"+strconv.Itoa(n) || r.FinishedAt.IsZero() {
						t.Errorf("row %d: keys %q, finishedAt %v", n, r.Keys, r.FinishedAt)
					}
				}
			})
		})
	}
}

// firstSendFails fails every envelope holding rows sent for the first
// time with err, and lets resends through.
func firstSendFails(err error) func([]graph.Request) error {
	seen := make(map[string]bool) // the fake calls this under its lock
	return func(reqs []graph.Request) error {
		first := !seen[reqs[0].ID]
		for _, r := range reqs {
			seen[r.ID] = true
		}
		if first {
			return err
		}
		return nil
	}
}

func TestRunStopsWhenSignInFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errRevoked := errors.New("AADSTS7000222: the secret expired")
		g := &fakeGraph{
			answer: func(graph.Request, int) int { return 401 },
			reauth: func(uint64) error { return errRevoked },
		}
		w, _, err := runTest(t, distinctRows(60), g, Config{Concurrency: 1})
		if !errors.Is(err, errRevoked) {
			t.Fatalf("Run = %v, want the sign-in error", err)
		}
		if n := len(w.byRow(t)); n != 0 {
			t.Errorf("%d rows have an outcome; a sign-in failure must leave them for --resume", n)
		}
	})
}

func TestRunStopsWhenAFreshTokenIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		refused := &graph.Error{Status: 401, Code: "InvalidAuthenticationToken", Message: "Access token is empty."}
		g := &fakeGraph{envelope: func([]graph.Request) error { return refused }}
		w, _, err := runTest(t, distinctRows(60), g, Config{Concurrency: 1})
		if !errors.Is(err, graph.ErrAuth) || !errors.Is(err, refused) {
			t.Fatalf("Run = %v, want a sign-in error wrapping Graph's 401", err)
		}
		if len(g.refresh) != 1 {
			t.Errorf("Reauthenticate called %d times, want once before giving up", len(g.refresh))
		}
		if n := len(w.byRow(t)); n != 0 {
			t.Errorf("%d rows have an outcome; a refused sign-in must leave them for --resume", n)
		}
	})
}

func TestRunRefreshesOnceForManyRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &fakeGraph{answer: until(1, 401)}
		if _, _, err := runTest(t, distinctRows(20), g, Config{}); err != nil {
			t.Fatal(err)
		}
		if len(g.refresh) != 1 {
			t.Errorf("Reauthenticate called %d times for one envelope of 401s, want 1", len(g.refresh))
		}
	})
}

func TestRunRecordsInvalidRowsWithoutSending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rows := distinctRows(4)
		rows[1].Fields[1] = ""                // no id
		rows[2].Fields[statusCol] = "Unknown" // status column, any case is fine
		rows[3].Fields[statusCol] = "bogus"
		g := &fakeGraph{}
		w, sum, err := runTest(t, rows, g, Config{})
		if err != nil {
			t.Fatal(err)
		}
		got := w.byRow(t)
		want := map[int]csvio.Outcome{1: csvio.Updated, 2: csvio.Invalid, 3: csvio.Updated, 4: csvio.Invalid}
		for n, o := range want {
			if got[n].Outcome != o {
				t.Errorf("row %d: %s (%s), want %s", n, got[n].Outcome, got[n].ErrorMessage, o)
			}
		}
		if got[4].ErrorMessage == "" || got[4].Attempts != 0 || got[4].HTTPStatus != 0 {
			t.Errorf("invalid row 4 = %+v, want a message, no attempts, no status", got[4])
		}
		if sum.Updated != 2 || sum.Invalid != 2 || sum.Sends != 2 {
			t.Errorf("summary %+v, want 2 updated, 2 invalid, 2 sends", sum)
		}
	})
}

func TestRunDryRunSendsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rows := distinctRows(30)
		rows[4].Fields[statusCol] = "bogus"
		w, sum, err := runTest(t, rows, nil, Config{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Valid != 29 || sum.Invalid != 1 || sum.Envelopes != 0 {
			t.Errorf("summary %+v, want 29 valid, 1 invalid, no envelopes", sum)
		}
		if got := w.byRow(t)[5].Outcome; got != csvio.Invalid {
			t.Errorf("row 5 is %s, want invalid", got)
		}
	})
}

func TestRunLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &fakeGraph{}
		w, sum, err := runTest(t, distinctRows(50), g, Config{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Read != 10 || len(w.byRow(t)) != 10 {
			t.Errorf("read %d rows with %d outcomes, want 10 and 10", sum.Read, len(w.byRow(t)))
		}
	})
}

func TestRunStopsOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		g := &fakeGraph{answer: func(graph.Request, int) int { return 429 }} // waits forever
		w := &memWriter{}
		done := make(chan error)
		go func() {
			_, err := Run(ctx, &sliceReader{rows: distinctRows(100)}, w, g, Config{Target: deviceTarget})
			done <- err
		}()
		time.Sleep(time.Hour)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
		if n := len(w.byRow(t)); n != 0 {
			t.Errorf("%d outcomes for rows that never got an answer, want 0", n)
		}
	})
}

var errEOF = io.EOF
