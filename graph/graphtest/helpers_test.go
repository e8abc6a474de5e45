package graphtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// The paths of the seed resources' entities.
var (
	deviceStatus = graphtest.DeviceStatusPath
	userStatus   = graphtest.UserStatusPath
)

const jsonType = "application/json"

// send serves one request with h, in process, and returns what h wrote.
// header values are set as given; body "" sends no body.
func send(t *testing.T, h http.Handler, method, target string, header map[string]string, body string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, target, r)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// envelope returns the JSON body of a $batch carrying reqs.
func envelope(reqs ...graph.Request) string {
	b, err := json.Marshal(graph.BatchRequest{Requests: reqs})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// patchItem is a well-formed PATCH item for the entity at path.
func patchItem(itemID, path, body string) graph.Request {
	return graph.Request{
		ID:      itemID,
		Method:  http.MethodPatch,
		URL:     path,
		Headers: map[string]string{"Content-Type": jsonType},
		Body:    json.RawMessage(body),
	}
}

// getItem is a GET item for url.
func getItem(itemID, url string) graph.Request {
	return graph.Request{ID: itemID, Method: http.MethodGet, URL: url}
}

// patchItems returns n PATCH items with ids "1".."n", each on its own
// device status under policy "p".
func patchItems(n int) []graph.Request {
	reqs := make([]graph.Request, n)
	for i := range reqs {
		id := strconv.Itoa(i + 1)
		reqs[i] = patchItem(id, deviceStatus("p", "d"+id), `{"status":"compliant"}`)
	}
	return reqs
}

// postBatch POSTs reqs to /{v}/$batch, requires a 200 envelope and returns
// its responses in the order they came.
func postBatch(t *testing.T, h http.Handler, v graph.Version, reqs ...graph.Request) []graph.Response {
	t.Helper()
	target := "/" + string(v) + "/$batch"
	w := send(t, h, http.MethodPost, target, map[string]string{"Content-Type": jsonType}, envelope(reqs...))
	if w.Code != http.StatusOK {
		t.Fatalf("POST %s = %d, want %d; body %s", target, w.Code, http.StatusOK, w.Body)
	}
	var br graph.BatchResponse
	if err := json.Unmarshal(w.Body.Bytes(), &br); err != nil {
		t.Fatalf("POST %s: decoding answer: %v; body %s", target, err, w.Body)
	}
	if len(br.Responses) != len(reqs) {
		t.Fatalf("POST %s: %d responses for %d requests", target, len(br.Responses), len(reqs))
	}
	return br.Responses
}

// postOne sends one item in an envelope and returns its response.
func postOne(t *testing.T, h http.Handler, v graph.Version, req graph.Request) graph.Response {
	t.Helper()
	resps := postBatch(t, h, v, req)
	if resps[0].ID != req.ID {
		t.Fatalf("response id = %q, want %q", resps[0].ID, req.ID)
	}
	return resps[0]
}

// requestIDs returns the item ids of reqs, in order.
func requestIDs(reqs []graph.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.ID
	}
	return out
}

// responseIDs returns the item ids of resps, in order.
func responseIDs(resps []graph.Response) []string {
	out := make([]string, len(resps))
	for i, r := range resps {
		out[i] = r.ID
	}
	return out
}

// graphError is Graph's error body, decoded strictly.
type graphError struct {
	Error struct {
		Code       string            `json:"code"`
		Message    string            `json:"message"`
		InnerError map[string]string `json:"innerError"`
	} `json:"error"`
}

// checkError checks that body is Graph's error shape,
// {"error":{"code","message","innerError":{"request-id","date"[,"client-request-id"]}}},
// with the given code and a message containing msg. The innerError must
// carry clientID when it is not empty. It returns the decoded error.
func checkError(t *testing.T, what string, body []byte, code, msg, clientID string) graphError {
	t.Helper()
	var e graphError
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Errorf("%s: body is not Graph's error shape: %v; body %s", what, err, body)
		return e
	}
	if e.Error.Code != code {
		t.Errorf("%s: error.code = %q, want %q", what, e.Error.Code, code)
	}
	if !strings.Contains(e.Error.Message, msg) || e.Error.Message == "" {
		t.Errorf("%s: error.message = %q, want it to contain %q", what, e.Error.Message, msg)
	}
	inner := e.Error.InnerError
	if inner["request-id"] == "" {
		t.Errorf("%s: innerError.request-id is empty; innerError %v", what, inner)
	}
	if _, err := time.Parse("2006-01-02T15:04:05", inner["date"]); err != nil {
		t.Errorf("%s: innerError.date = %q, want a date like 2025-02-13T10:17:06", what, inner["date"])
	}
	if got := inner["client-request-id"]; got != clientID {
		t.Errorf("%s: innerError.client-request-id = %q, want %q", what, got, clientID)
	}
	for _, k := range slices.Sorted(maps.Keys(inner)) {
		if k != "request-id" && k != "date" && k != "client-request-id" {
			t.Errorf("%s: innerError has unexpected member %q", what, k)
		}
	}
	return e
}

// decodeObject decodes a JSON object keeping numbers as json.Number.
func decodeObject(t *testing.T, what string, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s: decoding %s: %v", what, b, err)
	}
	return m
}
