package graphtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// newServer starts a listening emulator that the test closes.
func newServer(t *testing.T, opts graphtest.Options) (*graphtest.Server, *http.Client) {
	t.Helper()
	s := graphtest.NewServer(opts)
	c := &http.Client{}
	t.Cleanup(func() {
		c.CloseIdleConnections()
		s.Close()
	})
	return s, c
}

// do sends one request over the network and returns the status, headers
// and body of the answer.
func do(t *testing.T, c *http.Client, method, url string, header map[string]string, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp.StatusCode, resp.Header, b
}

// TestServerOverHTTP drives a listening emulator with net/http: a $batch,
// GET and PATCH on entity paths, and the /_emulator endpoints.
func TestServerOverHTTP(t *testing.T) {
	t.Parallel()
	s, c := newServer(t, graphtest.Options{Seed: 7})
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || strings.HasSuffix(s.URL, "/") {
		t.Fatalf("URL = %q, want http://127.0.0.1:port with no trailing slash", s.URL)
	}

	const clientID = "over-http-1"
	env := envelope(
		patchItem("1", deviceStatus("p", "a/b"), `{"status":"compliant","platform":2}`),
		patchItem("2", userStatus("p", "?u=1"), `{"devicesCount":3}`),
		patchItem("3", deviceStatus("p", "missing-d"), `{"status":"compliant"}`),
	)
	status, header, body := do(t, c, http.MethodPost, s.URL+"/beta/$batch",
		map[string]string{"Content-Type": jsonType, "client-request-id": clientID}, env)
	if status != http.StatusOK {
		t.Fatalf("POST %s/beta/$batch = %d, want %d; body %s", s.URL, status, http.StatusOK, body)
	}
	if got := header.Get("client-request-id"); got != clientID {
		t.Errorf("POST %s/beta/$batch: client-request-id = %q, want %q", s.URL, got, clientID)
	}
	var br graph.BatchResponse
	if err := json.Unmarshal(body, &br); err != nil {
		t.Fatalf("POST %s/beta/$batch: decoding answer: %v", s.URL, err)
	}
	gotStatus := make(map[string]int)
	for _, r := range br.Responses {
		gotStatus[r.ID] = r.Status
	}
	if want := map[string]int{"1": 200, "2": 200, "3": 404}; !reflect.DeepEqual(gotStatus, want) {
		t.Errorf("item statuses = %v, want %v", gotStatus, want)
	}

	// GET of an entity path whose id holds an escaped "/".
	url := s.URL + "/beta" + deviceStatus("p", "a/b")
	status, header, body = do(t, c, http.MethodGet, url, map[string]string{"client-request-id": clientID}, "")
	if status != http.StatusOK {
		t.Fatalf("GET %s = %d, want %d; body %s", url, status, http.StatusOK, body)
	}
	if got := header.Get("client-request-id"); got != clientID {
		t.Errorf("GET %s: client-request-id = %q, want %q", url, got, clientID)
	}
	got := decodeObject(t, "GET "+url, body)
	wantContext := s.URL + "/beta/$metadata#deviceManagement/deviceCompliancePolicies('p')/deviceStatuses/$entity"
	if got["@odata.context"] != wantContext {
		t.Errorf("GET %s: @odata.context = %v, want %s", url, got["@odata.context"], wantContext)
	}
	want := deviceStatusJSON(graph.Beta, "a/b", map[string]any{"status": "compliant", "platform": json.Number("2")})
	if got := withoutContext(t, "GET "+url, got); !reflect.DeepEqual(got, want) {
		t.Errorf("GET %s = %v, want %v", url, got, want)
	}

	// PATCH on an entity path.
	url = s.URL + "/v1.0" + userStatus("p", "?u=1")
	status, _, body = do(t, c, http.MethodPatch, url, map[string]string{"Content-Type": jsonType}, `{"userDisplayName":"Ann"}`)
	if status != http.StatusOK {
		t.Fatalf("PATCH %s = %d, want %d; body %s", url, status, http.StatusOK, body)
	}
	if e, ok := s.Entity(graph.V1, userStatus("p", "?u=1")); !ok || e.Patches != 1 || e.Properties["userDisplayName"] != "Ann" {
		t.Errorf("Entity(v1.0, %q) = %+v, %v; want 1 patch and userDisplayName Ann", userStatus("p", "?u=1"), e, ok)
	}
	if e, ok := s.Entity(graph.Beta, userStatus("p", "?u=1")); !ok || e.Patches != 1 || e.Properties["devicesCount"] != json.Number("3") {
		t.Errorf("Entity(beta, %q) = %+v, %v; want 1 patch and devicesCount 3", userStatus("p", "?u=1"), e, ok)
	}

	// A missing entity.
	url = s.URL + "/v1.0" + userStatus("p", "missing-u")
	if status, _, body = do(t, c, http.MethodGet, url, nil, ""); status != http.StatusNotFound {
		t.Errorf("GET %s = %d, want %d; body %s", url, status, http.StatusNotFound, body)
	}

	// The counters and the store, over HTTP and from Go.
	status, header, body = do(t, c, http.MethodGet, s.URL+"/_emulator/counters", nil, "")
	if status != http.StatusOK || header.Get("Content-Type") != jsonType {
		t.Fatalf("GET /_emulator/counters = %d %q, want %d %q; body %s", status, header.Get("Content-Type"), http.StatusOK, jsonType, body)
	}
	var counters graphtest.Counters
	if err := json.Unmarshal(body, &counters); err != nil {
		t.Fatalf("GET /_emulator/counters: decoding %s: %v", body, err)
	}
	wantCounters := graphtest.Counters{
		Envelopes: 1, Items: 6, Patches: 3, Reads: 1,
		EnvelopeStatuses: map[int]int{200: 1}, Statuses: map[int]int{200: 4, 404: 2},
	}
	if !reflect.DeepEqual(counters, wantCounters) {
		t.Errorf("GET /_emulator/counters = %+v, want %+v", counters, wantCounters)
	}
	if got := s.Counters(); !reflect.DeepEqual(got, counters) {
		t.Errorf("Counters() = %+v, GET /_emulator/counters = %+v; want them equal", got, counters)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("GET /_emulator/counters: decoding %s: %v", body, err)
	}
	for _, name := range []string{"envelopes", "items", "reads", "patches", "envelopeStatuses", "statuses", "throttledReads"} {
		if _, ok := raw[name]; !ok {
			t.Errorf("GET /_emulator/counters = %s, want a member %q", body, name)
		}
	}

	status, _, body = do(t, c, http.MethodGet, s.URL+"/_emulator/store", nil, "")
	if status != http.StatusOK {
		t.Fatalf("GET /_emulator/store = %d, want %d; body %s", status, http.StatusOK, body)
	}
	var store []graphtest.Entity
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&store); err != nil {
		t.Fatalf("GET /_emulator/store: decoding %s: %v", body, err)
	}
	wantStore := []graphtest.Entity{
		{Version: graph.Beta, Path: deviceStatus("p", "a/b"), Type: "microsoft.graph.deviceComplianceDeviceStatus", Keys: []string{"p", "a/b"},
			Patches: 1, Properties: map[string]any{"status": "compliant", "platform": json.Number("2")}},
		{Version: graph.Beta, Path: userStatus("p", "?u=1"), Type: "microsoft.graph.deviceComplianceUserStatus", Keys: []string{"p", "?u=1"},
			Patches: 1, Properties: map[string]any{"devicesCount": json.Number("3")}},
		{Version: graph.V1, Path: userStatus("p", "?u=1"), Type: "microsoft.graph.deviceComplianceUserStatus", Keys: []string{"p", "?u=1"},
			Patches: 1, Properties: map[string]any{"userDisplayName": "Ann"}},
	}
	if !reflect.DeepEqual(store, wantStore) {
		t.Errorf("GET /_emulator/store = %+v, want %+v", store, wantStore)
	}
	if got := s.Entities(); !reflect.DeepEqual(got, store) {
		t.Errorf("Entities() = %+v, GET /_emulator/store = %+v; want them equal", got, store)
	}
}

// TestServerEnvelopeErrorOverHTTP checks a refused envelope over the network.
func TestServerEnvelopeErrorOverHTTP(t *testing.T) {
	t.Parallel()
	s, c := newServer(t, graphtest.Options{})
	const clientID = "over-http-2"
	status, header, body := do(t, c, http.MethodPost, s.URL+"/v1.0/$batch",
		map[string]string{"Content-Type": jsonType, "client-request-id": clientID}, envelope(patchItems(21)...))
	if status != http.StatusBadRequest {
		t.Fatalf("POST %s/v1.0/$batch = %d, want %d; body %s", s.URL, status, http.StatusBadRequest, body)
	}
	if got := header.Get("client-request-id"); got != clientID {
		t.Errorf("client-request-id = %q, want %q", got, clientID)
	}
	checkError(t, "POST /v1.0/$batch", body, "BadRequest", "Number of requests inside batch exceeds the limit.", clientID)
	ge := graph.ParseError(status, body)
	if ge.ClientRequestID != clientID || ge.RequestID != header.Get("request-id") {
		t.Errorf("graph.ParseError = %+v, want client-request-id %q and request-id %q", ge, clientID, header.Get("request-id"))
	}
}
