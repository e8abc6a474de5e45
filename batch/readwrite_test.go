package batch

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// recorder passes envelopes on to a sender, noting each item's method and
// row as it goes.
type recorder struct {
	Sender
	mu   sync.Mutex
	sent []string // "GET 1", "PATCH 1", …
}

func (r *recorder) Batch(ctx context.Context, v graph.Version, reqs []graph.Request) (*graph.BatchResult, error) {
	r.mu.Lock()
	for _, q := range reqs {
		r.sent = append(r.sent, q.Method+" "+q.ID)
	}
	r.mu.Unlock()
	return r.Sender.Batch(ctx, v, reqs)
}

// statusRow returns a device-status row of p1/id setting status.
func statusRow(num int, id, status string) csvio.Row {
	r := row(num, "p1", id)
	r.Fields[statusCol] = status
	return r
}

// memTable is a TableWriter in memory.
type memTable struct {
	records [][]string
	syncs   int
}

func (m *memTable) Write(rec []string) error {
	m.records = append(m.records, slices.Clone(rec))
	return nil
}
func (m *memTable) Sync() error { m.syncs++; return nil }

// TestRowsOfOneEntityReadAndWriteInInputOrder: each row of an entity is
// read after the row before it was written, so that it compares with, and
// backs up, what that row left.
func TestRowsOfOneEntityReadAndWriteInInputOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, emu := emulated(graphtest.Options{Limits: &graphtest.NoLimits})
		if err := emu.Put(graph.V1, graphtest.DeviceStatusPath("p1", "e"), map[string]any{"status": "nonCompliant"}); err != nil {
			t.Fatal(err)
		}
		rows := []csvio.Row{
			statusRow(1, "e", "compliant"), statusRow(2, "e", "nonCompliant"), statusRow(3, "other", "unknown"),
			statusRow(4, "E", "nonCompliant"), statusRow(5, "e", "compliant"),
		}
		rec := &recorder{Sender: client}
		bak := &memTable{}
		cols := []string{"policyId", "id", "status"}
		w, _, err := runTestWith(t, rows, rec, Config{SkipUnchanged: true, Backup: NewBackup(bak, cols, 2, graph.DefaultNullToken)})
		if err != nil {
			t.Fatal(err)
		}
		var ofE []string
		for _, s := range rec.sent {
			if !strings.HasSuffix(s, " 3") {
				ofE = append(ofE, s)
			}
		}
		want := []string{"GET 1", "PATCH 1", "GET 2", "PATCH 2", "GET 4", "GET 5", "PATCH 5"}
		if !slices.Equal(ofE, want) {
			t.Errorf("sent for entity e: %v, want %v", ofE, want)
		}
		got := w.byRow(t)
		for n, o := range map[int]csvio.Outcome{1: csvio.Updated, 2: csvio.Updated, 3: csvio.Unchanged, 4: csvio.Unchanged, 5: csvio.Updated} {
			if got[n].Outcome != o {
				t.Errorf("row %d: %s, want %s", n, got[n].Outcome, o)
			}
		}
		if want := [][]string{{"p1", "e", "nonCompliant"}}; !slices.EqualFunc(bak.records, want, slices.Equal) {
			t.Errorf("backup %q, want %q: each entity's column once, as it was first", bak.records, want)
		}
	})
}

// TestReadAnsweredWithoutEntity: a read answered 2xx without an entity
// (204 with no body, or null) says nothing of what Graph holds, as a
// route that cannot be read (CONTRACT §8): the row is never unchanged nor
// backed up from it. --skip-unchanged writes it unread, warning once;
// --backup fails it unwritten; neither waits for retries.
func TestReadAnsweredWithoutEntity(t *testing.T) {
	for _, body := range []string{"", "null"} {
		for _, backup := range []bool{false, true} {
			t.Run(fmt.Sprintf("%q backup=%v", body, backup), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					send := &scriptedSender{fn: func(reqs []graph.Request) *graph.BatchResult {
						res := &graph.BatchResult{}
						for _, q := range reqs {
							resp := graph.Response{ID: q.ID, Status: 200}
							if q.Method == "GET" {
								resp.Status, resp.Body = 204, []byte(body)
								if body != "" {
									resp.Status = 200
								}
							}
							res.Responses = append(res.Responses, resp)
						}
						return res
					}}
					rows := distinctRows(3)
					for _, r := range rows {
						r.Fields[statusCol] = ""
						r.Fields[slices.Index(deviceTarget.Columns(), "deviceDisplayName")] = "#null" // what a null answer would seem to hold
					}
					var logs bytes.Buffer
					cfg := Config{SkipUnchanged: true, Log: zerolog.New(&logs)}
					bak := &memTable{}
					if backup {
						cfg.Backup = NewBackup(bak, []string{"policyId", "id", "deviceDisplayName"}, 2, graph.DefaultNullToken)
					}
					start := time.Now()
					w, sum, err := runTestWith(t, rows, send, cfg)
					if err != nil {
						t.Fatal(err)
					}
					want, wantSends, wantWarnings := csvio.Updated, int64(3), 1
					if backup {
						want, wantSends, wantWarnings = csvio.Failed, 0, 0
					}
					for n, o := range w.byRow(t) {
						if o.Outcome != want {
							t.Errorf("row %d: %s (%s), want %s", n, o.Outcome, o.ErrorMessage, want)
						}
					}
					if sum.Sends != wantSends || len(bak.records) != 0 {
						t.Errorf("%d writes and %d backup records, want %d and none", sum.Sends, len(bak.records), wantSends)
					}
					if n := strings.Count(logs.String(), "rows are written without being read"); n != wantWarnings {
						t.Errorf("%d warnings, want %d:\n%s", n, wantWarnings, logs.String())
					}
					if d := time.Since(start); d > time.Second {
						t.Errorf("took %s: the reads were retried", d)
					}
				})
			})
		}
	}
}

// TestThrottledReadsWaitAndGoAgain: reads over Graph's request limit are
// answered 429; they wait their Retry-After, all of them, and every row
// still ends.
func TestThrottledReadsWaitAndGoAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		limits := graphtest.Limits{AppRequests: 100, AppWrites: 50}
		client, emu := emulated(graphtest.Options{Limits: &limits})
		_, sum, err := runTestWith(t, distinctRows(400), client, Config{SkipUnchanged: true}) // reads without a ceiling of their own
		if err != nil {
			t.Fatal(err)
		}
		c := emu.Counters()
		if sum.Updated != 400 || c.ThrottledReads == 0 || c.EarlyReadRetries != 0 {
			t.Errorf("%d updated, %d reads throttled, %d sent again early; want 400, some, 0", sum.Updated, c.ThrottledReads, c.EarlyReadRetries)
		}
	})
}

// TestReadAnswerNotAnObject: a read answered with JSON that is not an
// entity is a malformed answer, sent again, then failed with the status
// Graph gave it.
func TestReadAnswerNotAnObject(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		send := &scriptedSender{fn: func(reqs []graph.Request) *graph.BatchResult {
			res := &graph.BatchResult{}
			for _, q := range reqs {
				res.Responses = append(res.Responses, graph.Response{ID: q.ID, Status: 200, Body: []byte(`["not","an","entity"]`)})
			}
			return res
		}}
		w, sum, err := runTestWith(t, distinctRows(1), send, Config{SkipUnchanged: true, MaxAttempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		o := w.byRow(t)[1]
		if o.Outcome != csvio.Failed || o.HTTPStatus != 200 || o.Attempts != 3 || sum.Sends != 0 {
			t.Errorf("outcome %s, status %d, %d attempts, %d writes; want failed, 200, 3, 0", o.Outcome, o.HTTPStatus, o.Attempts, sum.Sends)
		}
	})
}

// TestReadRefusedForOneEntity: a read answered 400 for one entity (a key
// Graph cannot parse, "Invalid object identifier") says nothing of the
// route: that row fails with the read's answer, unwritten, and the other
// rows are still read, and skipped as unchanged. Only a refusal of the
// route itself ("No method match route template", 405) makes
// --skip-unchanged write rows unread (CONTRACT §8).
func TestReadRefusedForOneEntity(t *testing.T) {
	for _, tt := range []struct {
		code      string
		status    int
		routeDown bool
	}{
		{"Request_BadRequest", 400, false},
		{"BadRequest", 400, false},
		{"No method match route template", 400, true},
		{"", 405, true},
	} {
		t.Run(fmt.Sprint(tt.status, tt.code), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				send := &scriptedSender{fn: func(reqs []graph.Request) *graph.BatchResult {
					res := &graph.BatchResult{}
					for _, q := range reqs {
						resp := graph.Response{ID: q.ID, Status: 200}
						switch {
						case q.Method == "GET" && (q.ID == "1" || tt.routeDown):
							resp.Status = tt.status
							resp.Body = []byte(fmt.Sprintf(`{"error":{"code":%q,"message":"Invalid object identifier 'x'."}}`, tt.code))
						case q.Method == "GET":
							resp.Body = []byte(`{"status":"compliant"}`)
						}
						res.Responses = append(res.Responses, resp)
					}
					return res
				}}
				w, sum, err := runTestWith(t, distinctRows(5), send, Config{SkipUnchanged: true, BatchSize: 1, Concurrency: 1, Log: zerolog.Nop()}) // row 1 is answered before the others are read
				if err != nil {
					t.Fatal(err)
				}
				got := w.byRow(t)
				if tt.routeDown {
					if sum.Sends != 5 || sum.Updated != 5 {
						t.Errorf("%d writes, %d updated; want every row written unread", sum.Sends, sum.Updated)
					}
					return
				}
				if o := got[1]; o.Outcome != csvio.Failed || o.HTTPStatus != tt.status || o.ErrorCode != tt.code {
					t.Errorf("row 1: %s %d %s, want failed %d %s", o.Outcome, o.HTTPStatus, o.ErrorCode, tt.status, tt.code)
				}
				for n := 2; n <= 5; n++ {
					if got[n].Outcome != csvio.Unchanged {
						t.Errorf("row %d: %s, want unchanged: one entity's refused read turned reading off", n, got[n].Outcome)
					}
				}
				if sum.Sends != 0 {
					t.Errorf("%d writes, want none", sum.Sends)
				}
			})
		})
	}
}
