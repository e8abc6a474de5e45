package batch

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

// answerTransport answers every request 200 with the same body.
type answerTransport []byte

func (a answerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(bytes.NewReader(a)),
		Request:    req,
	}, nil
}

// clearlyUpdated returns the ids that answer gives exactly one response,
// with a 2xx status: the only rows it may make updated.
func clearlyUpdated(answer []byte) map[string]bool {
	var br graph.BatchResponse
	if json.Unmarshal(answer, &br) != nil {
		return nil
	}
	count := map[string]int{}
	ok := map[string]bool{}
	for _, r := range br.Responses {
		id := strings.ToLower(r.ID)
		count[id]++
		ok[id] = r.Status >= 200 && r.Status < 300
	}
	out := map[string]bool{}
	for id, n := range count {
		if n == 1 && ok[id] {
			out[id] = true
		}
	}
	return out
}

// FuzzAnswer feeds arbitrary bytes to the real client as Graph's answer to
// every envelope: the run must end without a panic, every row with one
// outcome, and no row updated without one clear 2xx for its own id.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(`{"responses":[{"id":"1","status":200},{"id":"2","status":204},{"id":"3","status":404}]}`))
	f.Add([]byte(`{"responses":[{"id":"1","status":200},{"id":"1","status":200},{"id":"02","status":200}]}`))
	f.Add([]byte(`{"responses":[{"id":"1","status":0},{"id":"2","status":-200},{"ID":"3","STATUS":201}]}`))
	f.Add([]byte(`{"responses":[{"id":"4","status":429,"headers":{"Retry-After":"99999999999"}}]}`))
	f.Add([]byte(`[[[[[[[[[[`))
	f.Add([]byte(`{"responses":null}`))
	f.Fuzz(func(t *testing.T, answer []byte) {
		synctest.Test(t, func(t *testing.T) {
			client := graph.NewClient(&http.Client{Transport: answerTransport(answer)}, "https://graph.test", nil)
			w, _, err := runTestWith(t, distinctRows(5), client, Config{MaxAttempts: 2})
			if err != nil {
				return // a fatal answer (a 401 with no token to renew) stops the run: allowed
			}
			allowed := clearlyUpdated(answer)
			results := w.byRow(t)
			if len(results) != 5 {
				t.Fatalf("%d outcomes for 5 rows", len(results))
			}
			for n, r := range results {
				if r.Outcome == csvio.Updated && !allowed[strconv.Itoa(n)] {
					t.Errorf("row %d updated, but the answer %q has no single 2xx for it", n, answer)
				}
			}
		})
	})
}
