package graphtest_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// TestBatchEnvelope checks the rules that accept or refuse a whole $batch
// envelope, and that a refused envelope has Graph's error shape, echoes
// client-request-id and changes nothing in the store.
func TestBatchEnvelope(t *testing.T) {
	t.Parallel()
	absolute := patchItem("1", deviceStatus("p", "d"), `{"status":"compliant"}`)
	absolute.URL = "https://graph.microsoft.com/v1.0" + absolute.URL
	noID := patchItem("", deviceStatus("p", "d"), `{"status":"compliant"}`)
	noMethod := patchItem("1", deviceStatus("p", "d"), `{"status":"compliant"}`)
	noMethod.Method = ""
	noURL := patchItem("1", deviceStatus("p", "d"), `{"status":"compliant"}`)
	noURL.URL = ""

	tests := []struct {
		name        string
		target      string
		contentType string // "" sends no Content-Type
		body        string
		status      int
		msg         string // for an error, a part of error.message
	}{
		{"20 requests", "/v1.0/$batch", jsonType, envelope(patchItems(20)...), http.StatusOK, ""},
		{"one request on beta", "/beta/$batch", jsonType, envelope(patchItems(1)...), http.StatusOK, ""},
		{"content type with charset", "/v1.0/$batch", "application/json; charset=utf-8", envelope(patchItems(1)...), http.StatusOK, ""},
		{"21 requests", "/v1.0/$batch", jsonType, envelope(patchItems(21)...), http.StatusBadRequest, "Number of requests inside batch exceeds the limit."},
		{"ids differing only in case", "/v1.0/$batch", jsonType,
			envelope(patchItem("a", deviceStatus("p", "d1"), `{"status":"compliant"}`), patchItem("A", deviceStatus("p", "d2"), `{"status":"compliant"}`)),
			http.StatusBadRequest, "Request Id A has to be unique in a batch."},
		{"equal ids", "/v1.0/$batch", jsonType,
			envelope(patchItem("7", deviceStatus("p", "d1"), `{"status":"compliant"}`), patchItem("7", deviceStatus("p", "d2"), `{"status":"compliant"}`)),
			http.StatusBadRequest, "Request Id 7 has to be unique in a batch."},
		{"empty requests", "/v1.0/$batch", jsonType, `{"requests":[]}`, http.StatusBadRequest, "Invalid batch payload format."},
		{"no requests member", "/v1.0/$batch", jsonType, `{}`, http.StatusBadRequest, "Invalid batch payload format."},
		{"not JSON", "/v1.0/$batch", jsonType, `this is not JSON`, http.StatusBadRequest, "Invalid batch payload format."},
		{"empty body", "/v1.0/$batch", jsonType, ``, http.StatusBadRequest, "Invalid batch payload format."},
		{"item without id", "/v1.0/$batch", jsonType, envelope(noID), http.StatusBadRequest, "Invalid batch payload format."},
		{"item without method", "/v1.0/$batch", jsonType, envelope(noMethod), http.StatusBadRequest, "Invalid batch payload format."},
		{"item without url", "/v1.0/$batch", jsonType, envelope(noURL), http.StatusBadRequest, "Invalid batch payload format."},
		{"absolute item url", "/v1.0/$batch", jsonType, envelope(patchItem("0", deviceStatus("p", "d0"), `{"status":"compliant"}`), absolute),
			http.StatusBadRequest, "Invalid batch payload format."},
		{"text/plain envelope", "/v1.0/$batch", "text/plain", envelope(patchItems(1)...), http.StatusUnsupportedMediaType, "A supported MIME type could not be found"},
		{"no content type", "/v1.0/$batch", "", envelope(patchItems(1)...), http.StatusUnsupportedMediaType, "A supported MIME type could not be found"},
		{"unknown version", "/v2.0/$batch", jsonType, envelope(patchItems(1)...), http.StatusNotFound, "Resource not found for the segment 'v2.0'."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := graphtest.New(graphtest.Options{})
			const clientID = "3f0c7e3a-1a2b-4c5d-8e9f-0a1b2c3d4e5f"
			header := map[string]string{"client-request-id": clientID}
			if tt.contentType != "" {
				header["Content-Type"] = tt.contentType
			}
			w := send(t, emu.Handler(), http.MethodPost, tt.target, header, tt.body)
			if w.Code != tt.status {
				t.Fatalf("POST %s = %d, want %d; body %s", tt.target, w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("client-request-id"); got != clientID {
				t.Errorf("POST %s: client-request-id header = %q, want %q", tt.target, got, clientID)
			}
			if w.Header().Get("request-id") == "" {
				t.Errorf("POST %s: no request-id header", tt.target)
			}
			if got := w.Header().Get("Content-Type"); got != jsonType {
				t.Errorf("POST %s: Content-Type = %q, want %q", tt.target, got, jsonType)
			}
			if tt.status == http.StatusOK {
				var br graph.BatchResponse
				if err := json.Unmarshal(w.Body.Bytes(), &br); err != nil {
					t.Fatalf("POST %s: decoding answer: %v", tt.target, err)
				}
				for _, r := range br.Responses {
					if r.Status != http.StatusOK {
						t.Errorf("POST %s: item %s = %d, want %d; body %s", tt.target, r.ID, r.Status, http.StatusOK, r.Body)
					}
				}
				return
			}
			e := checkError(t, "POST "+tt.target, w.Body.Bytes(), "BadRequest", tt.msg, clientID)
			if got, want := e.Error.InnerError["request-id"], w.Header().Get("request-id"); got != want {
				t.Errorf("POST %s: innerError.request-id = %q, header request-id = %q; want them equal", tt.target, got, want)
			}
			if got := emu.Entities(); len(got) != 0 {
				t.Errorf("POST %s refused the envelope but stored %v", tt.target, got)
			}
		})
	}
}

// TestBatchItemErrors checks rules that refuse one item of an envelope that
// is itself accepted.
func TestBatchItemErrors(t *testing.T) {
	t.Parallel()
	const body = `{"status":"compliant"}`
	path := deviceStatus("p", "d")
	withVersion := patchItem("1", deviceStatus("p", "d"), body)
	withVersion.URL = "/v1.0" + path
	withBeta := patchItem("1", deviceStatus("p", "d"), body)
	withBeta.URL = "/beta" + path
	noHeaders := patchItem("1", deviceStatus("p", "d"), body)
	noHeaders.Headers = nil
	otherHeader := patchItem("1", deviceStatus("p", "d"), body)
	otherHeader.Headers = map[string]string{"Accept": jsonType}
	emptyType := patchItem("1", deviceStatus("p", "d"), body)
	emptyType.Headers = map[string]string{"Content-Type": ""}
	lowerType := patchItem("1", deviceStatus("p", "d"), body)
	lowerType.Headers = map[string]string{"content-type": jsonType}
	noSlash := patchItem("1", deviceStatus("p", "d"), body)
	noSlash.URL = path[1:]
	lowerMethod := patchItem("1", deviceStatus("p", "d"), body)
	lowerMethod.Method = "patch"
	del := graph.Request{ID: "1", Method: http.MethodDelete, URL: path}

	tests := []struct {
		name   string
		req    graph.Request
		status int
		msg    string // for an error, a part of error.message
	}{
		{"url with version", withVersion, http.StatusBadRequest, "Resource not found for the segment 'v1.0'."},
		{"url with other version", withBeta, http.StatusBadRequest, "Resource not found for the segment 'beta'."},
		{"body without headers", noHeaders, http.StatusBadRequest, "Content-Type header must be specified when a body is present."},
		{"body without Content-Type", otherHeader, http.StatusBadRequest, "Content-Type header must be specified when a body is present."},
		{"body with empty Content-Type", emptyType, http.StatusBadRequest, "Content-Type header must be specified when a body is present."},
		{"lower-case content-type header", lowerType, http.StatusOK, ""},
		{"url without leading slash", noSlash, http.StatusOK, ""},
		{"lower-case method", lowerMethod, http.StatusOK, ""},
		{"DELETE", del, http.StatusMethodNotAllowed, "Specified HTTP method is not allowed for the request target."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := graphtest.New(graphtest.Options{})
			const clientID = "client-1"
			w := send(t, emu.Handler(), http.MethodPost, "/v1.0/$batch",
				map[string]string{"Content-Type": jsonType, "client-request-id": clientID}, envelope(tt.req))
			if w.Code != http.StatusOK {
				t.Fatalf("POST /v1.0/$batch = %d, want %d; body %s", w.Code, http.StatusOK, w.Body)
			}
			var br graph.BatchResponse
			if err := json.Unmarshal(w.Body.Bytes(), &br); err != nil || len(br.Responses) != 1 {
				t.Fatalf("POST /v1.0/$batch: answer %s (%v), want one response", w.Body, err)
			}
			r := br.Responses[0]
			if r.Status != tt.status {
				t.Fatalf("%s %s in $batch = %d, want %d; body %s", tt.req.Method, tt.req.URL, r.Status, tt.status, r.Body)
			}
			_, stored := emu.Entity(graph.V1, deviceStatus("p", "d"))
			if tt.status == http.StatusOK {
				if !stored {
					t.Errorf("%s %s in $batch = 200 but stored nothing", tt.req.Method, tt.req.URL)
				}
				return
			}
			if stored {
				t.Errorf("%s %s in $batch = %d but stored the entity", tt.req.Method, tt.req.URL, r.Status)
			}
			if got := r.Header("Content-Type"); got != jsonType {
				t.Errorf("%s %s in $batch: Content-Type = %q, want %q", tt.req.Method, tt.req.URL, got, jsonType)
			}
			checkError(t, tt.req.Method+" "+tt.req.URL, r.Body, "BadRequest", tt.msg, clientID)
		})
	}
}

// TestErrorShapeEverywhere checks that every error answer outside $batch,
// whatever the route, has Graph's shape, a request-id, and echoes
// client-request-id.
func TestErrorShapeEverywhere(t *testing.T) {
	t.Parallel()
	path := deviceStatus("p", "d")
	tests := []struct {
		method, target string
		body           string
	}{
		{http.MethodGet, "/v2.0" + path, ""},
		{http.MethodGet, "/v1.0" + deviceStatus("p", "missing-d"), ""},
		{http.MethodGet, "/v1.0/deviceManagement/nothingHere", ""},
		{http.MethodPatch, "/v1.0" + path, `{"status":"Compliant"}`},
		{http.MethodDelete, "/v1.0" + path, ""},
		{http.MethodPost, "/v1.0" + path, `{"status":"compliant"}`},
		{http.MethodGet, "/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			t.Parallel()
			emu := graphtest.New(graphtest.Options{})
			const clientID = "client-2"
			w := send(t, emu.Handler(), tt.method, tt.target,
				map[string]string{"Content-Type": jsonType, "client-request-id": clientID}, tt.body)
			if w.Code < 400 {
				t.Fatalf("%s %s = %d, want an error status; body %s", tt.method, tt.target, w.Code, w.Body)
			}
			if got := w.Header().Get("client-request-id"); got != clientID {
				t.Errorf("%s %s: client-request-id header = %q, want %q", tt.method, tt.target, got, clientID)
			}
			if w.Header().Get("request-id") == "" {
				t.Errorf("%s %s: no request-id header", tt.method, tt.target)
			}
			var e graphError
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" {
				t.Fatalf("%s %s: body %s is not Graph's error shape", tt.method, tt.target, w.Body)
			}
			checkError(t, tt.method+" "+tt.target, w.Body.Bytes(), e.Error.Code, e.Error.Message, clientID)
		})
	}
}

// TestBatchShuffles checks that a seeded emulator answers a full envelope
// out of order, with every id once, and in the same order for the same seed.
func TestBatchShuffles(t *testing.T) {
	t.Parallel()
	reqs := patchItems(graph.MaxBatchSize)
	order := func() []string {
		emu := graphtest.New(graphtest.Options{Seed: 42})
		return responseIDs(postBatch(t, emu.Handler(), graph.V1, reqs...))
	}
	first, second := order(), order()
	want := requestIDs(reqs)
	if slices.Equal(first, want) {
		t.Errorf("responses came in request order %v, want them shuffled", first)
	}
	if got := slices.Sorted(slices.Values(first)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("response ids (sorted) = %v, want the request ids %v", got, slices.Sorted(slices.Values(want)))
	}
	if !slices.Equal(first, second) {
		t.Errorf("Seed 42 answered in order %v, then %v; want the same order", first, second)
	}
}
