package graphtest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// checkAnswer returns why an answer is neither Graph's error shape nor,
// for a 2xx, valid JSON (or no body); for a $batch answered 200, it checks
// every item the same way.
func checkAnswer(status int, body []byte, batch bool) error {
	switch {
	case status >= 400:
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
			return fmt.Errorf("status %d with a body not in Graph's error shape: %.300s", status, body)
		}
	case status == http.StatusNoContent && len(body) == 0:
	case !json.Valid(body):
		return fmt.Errorf("status %d with a body that is not JSON: %.300s", status, body)
	case batch && status == http.StatusOK:
		br, err := graph.DecodeBatchResponse(body)
		if err != nil {
			return err
		}
		for _, r := range br.Responses {
			if err := checkAnswer(r.Status, r.Body, false); err != nil {
				return fmt.Errorf("item %s: %w", r.ID, err)
			}
		}
	}
	return nil
}

// serve sends one request to h and checks its answer's shape.
func serve(h http.Handler, method, target string, body []byte, batch bool) (int, error) {
	u, err := url.Parse(target)
	if err != nil {
		return 0, err
	}
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	req.URL, req.RequestURI = u, u.RequestURI()
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code, checkAnswer(w.Code, w.Body.Bytes(), batch)
}

// hostile is what FuzzServe and TestHostileInput send: data as a $batch
// body, as a direct PATCH body, as an item's body, as an item's URL and
// as its query.
func hostile(h http.Handler, data []byte) error {
	var errs []error
	_, err := serve(h, http.MethodPost, "/v1.0/$batch", data, true)
	errs = append(errs, err)
	_, err = serve(h, http.MethodPatch, "/v1.0/users/u", data, false)
	errs = append(errs, err)
	if json.Valid(data) {
		env := envelope(patchItem("1", "/deviceManagement/deviceCompliancePolicies/p", string(data)), patchItem("2", "/users/u", string(data)))
		_, err = serve(h, http.MethodPost, "/beta/$batch", []byte(env), true)
		errs = append(errs, err)
	}
	env := envelope(patchItem("1", string(data), `{}`), getItem("2", "/users?"+string(data)), getItem("3", "/users/"+string(data)))
	_, err = serve(h, http.MethodPost, "/v1.0/$batch", []byte(env), true)
	return errors.Join(append(errs, err)...)
}

// TestHostileInput checks that large, deep and malformed requests get
// answers in Graph's shape (README, "Files and servers").
func TestHostileInput(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{Limits: &graphtest.NoLimits})
	h := emu.Handler()
	deep := bytes.Repeat([]byte("["), 3500<<10)
	tests := []struct {
		name, method, target string
		body                 []byte
		status               int
	}{
		{"3.5 MB of [ as a $batch", http.MethodPost, "/v1.0/$batch", deep, http.StatusBadRequest},
		{"3.5 MB of [ as a PATCH", http.MethodPatch, "/v1.0/users/u", deep, http.StatusBadRequest},
		{"3.5 MB of [ in a property", http.MethodPatch, "/v1.0/users/u", append([]byte(`{"city":`), deep...), http.StatusBadRequest},
		{"3.5 MB of [ in a $batch item's body", http.MethodPost, "/v1.0/$batch",
			append([]byte(`{"requests":[{"id":"1","method":"PATCH","url":"/users/u","headers":{"Content-Type":"application/json"},"body":`), deep...), http.StatusBadRequest},
		{"deep objects in a complex property", http.MethodPatch, "/v1.0/users/u",
			[]byte(`{"passwordProfile":` + strings.Repeat(`{"a":`, 100000) + `1` + strings.Repeat(`}`, 100000) + `}`), http.StatusBadRequest},
		{"5 MB $batch", http.MethodPost, "/v1.0/$batch", bytes.Repeat([]byte(" "), 5<<20), http.StatusRequestEntityTooLarge},
		{"5 MB PATCH", http.MethodPatch, "/v1.0/users/u", bytes.Repeat([]byte(" "), 5<<20), http.StatusRequestEntityTooLarge},
		{"NUL bytes", http.MethodPatch, "/v1.0/users/u", []byte("{\x00}"), http.StatusBadRequest},
		{"invalid UTF-8 in a string", http.MethodPatch, "/v1.0/users/u", []byte("{\"city\":\"\xff\"}"), http.StatusNoContent},
		{"control characters in the path", http.MethodGet, "/v1.0/users/%00%1b[31m", nil, http.StatusOK},
		{"a long key", http.MethodGet, "/v1.0/users/" + strings.Repeat("k", 100000), nil, http.StatusOK},
	}
	for _, tt := range tests {
		status, err := serve(h, tt.method, tt.target, tt.body, strings.HasSuffix(tt.target, "$batch"))
		if status != tt.status || err != nil {
			t.Errorf("%s: %s %s = %d, %v; want %d in Graph's shape", tt.name, tt.method, tt.target, status, err, tt.status)
		}
	}
	for _, data := range []string{"", "{", `{"requests":[{"id":"1","method":"GET","url":"%"}]}`, "\xff\xfe", strings.Repeat("/", 1000)} {
		if err := hostile(h, []byte(data)); err != nil {
			t.Errorf("hostile(%q): %v", data, err)
		}
	}
}

// FuzzServe sends arbitrary bytes as a $batch body, as a PATCH body, as
// item URLs and queries: the emulator never panics, and every answer is
// Graph's error shape, or valid JSON, or a $batch answer whose items are.
func FuzzServe(f *testing.F) {
	for _, seed := range []string{
		envelope(patchItems(2)...),
		envelope(getItem("1", "/users?$filter=city eq 'Oslo'&$top=2"), getItem("2", "/deviceManagement/deviceCompliancePolicies/p/deviceStatuses/d?$select=status")),
		`{"status":"compliant","platform":1}`,
		`{"@odata.type":"#microsoft.graph.windows10CompliancePolicy","passwordRequired":true}`,
		`{"businessPhones":["1"],"passwordProfile":{"password":"x"},"city":null}`,
		`/deviceManagement/deviceCompliancePolicies/p/deviceStatuses/d`,
		`$filter=status eq 'compliant' and userName eq null&$skiptoken=YQ`,
		`[[[[`, `{"a":1,"a":2}`, "%2e%2e/x", "users('x')",
	} {
		f.Add([]byte(seed))
	}
	emu := graphtest.New(graphtest.Options{Limits: &graphtest.NoLimits, PageSize: 3})
	h := emu.Handler()
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := hostile(h, data); err != nil {
			t.Error(err)
		}
	})
}
