package graph

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// sameJSON reports, as a diff, how the JSON b written by AppendJSON differs
// in meaning from what encoding/json writes for the same value.
func sameJSON(t *testing.T, b *BatchRequest) string {
	t.Helper()
	got := b.AppendJSON(nil)
	want, err := json.Marshal(b)
	if err != nil {
		t.Fatalf("json.Marshal(%+v): %v", b, err)
	}
	if !json.Valid(got) {
		return "AppendJSON wrote invalid JSON: " + string(got)
	}
	var gotV, wantV any
	if err := json.Unmarshal(got, &gotV); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &wantV); err != nil {
		t.Fatal(err)
	}
	return cmp.Diff(wantV, gotV)
}

func TestBatchRequestAppendJSON(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, "device-statuses", Beta)
	patch, err := s.NewPatch("policy/1", "dev ?#1", row(t, s, map[string]string{
		"deviceDisplayName": "PC \"7\" \\ <b>&\n",
		"platform":          "2",
		"status":            "ERROR",
	}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  BatchRequest
	}{
		{"no requests", BatchRequest{Requests: []Request{}}},
		{"one patch", BatchRequest{Requests: []Request{NewPatchRequest("1", patch)}}},
		{"no headers no body", BatchRequest{Requests: []Request{{ID: "1", Method: "GET", URL: "/me"}}}},
		{"empty headers map", BatchRequest{Requests: []Request{{ID: "1", Method: "GET", URL: "/me", Headers: map[string]string{}}}}},
		{"body with whitespace", BatchRequest{Requests: []Request{{ID: "1", Method: "PATCH", URL: "/x", Body: json.RawMessage(" {\n\"a\" : [1, 2]\t} ")}}}},
		{"special characters", BatchRequest{Requests: []Request{{
			ID:     "id \"quoted\" \\ back\x00\x1f\x7f",
			Method: "PATCH",
			URL:    "/a/b?c=d&e=<f>#g\n\u2028\u2029 é🙂",
			Headers: map[string]string{
				"Content-Type": "application/json",
				"If-Match":     `W/"etag\"1"`,
				"x-é\t":        "v\r\n",
				"a":            "",
			},
			Body: json.RawMessage(`{"k":"v\"\\\u0000"}`),
		}}}},
		{"many requests", BatchRequest{Requests: []Request{
			NewPatchRequest("1", patch),
			{ID: "2", Method: "PATCH", URL: "/b", Headers: map[string]string{"Z": "1", "A": "2", "m": "3"}, Body: json.RawMessage(`{}`)},
			{ID: "3", Method: "DELETE", URL: "/c"},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := sameJSON(t, &tt.req); diff != "" {
				t.Errorf("AppendJSON(%+v) differs from encoding/json (-want +got):\n%s", tt.req, diff)
			}
		})
	}

	// AppendJSON appends: what dst held is kept.
	b := BatchRequest{Requests: []Request{{ID: "1", Method: "GET", URL: "/x"}}}
	if got, want := string(b.AppendJSON([]byte("xx"))), `xx{"requests":[{"id":"1","method":"GET","url":"/x"}]}`; got != want {
		t.Errorf("AppendJSON(\"xx\") = %s, want %s", got, want)
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("1", "PATCH", "/deviceManagement/p/deviceStatuses/d", "Content-Type", "application/json", "compliant")
	f.Add(`"\`, "\x00", "\n\r\t", "\u2028", "<>&", "\x7f🙂")
	f.Add("", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, id, method, u, hk, hv, bodyValue string) {
		for _, s := range []string{id, method, u, hk, hv, bodyValue} {
			if !utf8.ValidString(s) {
				t.Skip("AppendJSONString requires valid UTF-8")
			}
		}
		body := append(AppendJSONString([]byte(`{"v":`), bodyValue), '}')
		b := &BatchRequest{Requests: []Request{
			{ID: id, Method: method, URL: u, Headers: map[string]string{hk: hv, "Content-Type": "application/json"}, Body: body},
			{ID: hv, Method: id, URL: bodyValue},
		}}
		if diff := sameJSON(t, b); diff != "" {
			t.Errorf("AppendJSON(%+v) differs from encoding/json (-want +got):\n%s", b, diff)
		}
	})
}

func TestResponseHeader(t *testing.T) {
	t.Parallel()
	r := Response{Headers: map[string]string{
		"Retry-After":  "7",
		"content-type": "application/json",
		"request-id":   "r1",
	}}
	tests := []struct{ name, want string }{
		{"Retry-After", "7"},
		{"retry-after", "7"},
		{"RETRY-AFTER", "7"},
		{"Content-Type", "application/json"},
		{"Request-Id", "r1"},
		{"client-request-id", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := r.Header(tt.name); got != tt.want {
			t.Errorf("Header(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	var empty Response
	if got := empty.Header("Retry-After"); got != "" {
		t.Errorf("Header(%q) with no headers = %q, want \"\"", "Retry-After", got)
	}
}

func TestResponseErr(t *testing.T) {
	t.Parallel()
	const notFound = `{"error":{"code":"ResourceNotFound","message":"gone","innerError":{"request-id":"body-rid","client-request-id":"body-crid"}}}`
	tests := []struct {
		name string
		resp Response
		want *Error
	}{
		{name: "200", resp: Response{ID: "1", Status: 200, Body: json.RawMessage(`{"id":"x"}`)}},
		{name: "204", resp: Response{ID: "1", Status: 204}},
		{
			name: "429 with Retry-After",
			resp: Response{ID: "1", Status: 429,
				Headers: map[string]string{"Retry-After": "10"},
				Body:    json.RawMessage(`{"error":{"code":"TooManyRequests","message":"Too many requests"}}`)},
			want: &Error{Status: 429, Code: "TooManyRequests", Message: "Too many requests", RetryAfter: "10"},
		},
		{
			name: "429 lower-case header, fractional",
			resp: Response{ID: "1", Status: 429, Headers: map[string]string{"retry-after": "0.249"}},
			want: &Error{Status: 429, RetryAfter: "0.249"},
		},
		{
			name: "ids from the body",
			resp: Response{ID: "1", Status: 404, Body: json.RawMessage(notFound)},
			want: &Error{Status: 404, Code: "ResourceNotFound", Message: "gone", RequestID: "body-rid", ClientRequestID: "body-crid"},
		},
		{
			name: "item headers win over the body",
			resp: Response{ID: "1", Status: 404,
				Headers: map[string]string{"Request-Id": "hdr-rid", "client-request-id": "hdr-crid"},
				Body:    json.RawMessage(notFound)},
			want: &Error{Status: 404, Code: "ResourceNotFound", Message: "gone", RequestID: "hdr-rid", ClientRequestID: "hdr-crid"},
		},
		{
			name: "503 without body",
			resp: Response{ID: "1", Status: 503},
			want: &Error{Status: 503},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.resp.Err()
			if tt.want == nil {
				if got != nil {
					t.Errorf("Response{Status: %d}.Err() = %v, want nil", tt.resp.Status, got)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Response{Status: %d}.Err() mismatch (-want +got):\n%s", tt.resp.Status, diff)
			}
		})
	}
}

func TestNewPatchRequest(t *testing.T) {
	t.Parallel()
	p := Patch{URL: "/a/b", Body: []byte(`{"status":"compliant"}`)}
	want := Request{
		ID:      "7",
		Method:  "PATCH",
		URL:     "/a/b",
		Headers: map[string]string{"Content-Type": "application/json"},
		Body:    json.RawMessage(`{"status":"compliant"}`),
	}
	if diff := cmp.Diff(want, NewPatchRequest("7", p)); diff != "" {
		t.Errorf("NewPatchRequest mismatch (-want +got):\n%s", diff)
	}
}

func TestBatchResponseAppendJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	br := BatchResponse{Responses: []Response{
		{ID: "1", Status: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: json.RawMessage(`{"id":"x"}`)},
		{ID: "2\"<", Status: 429, Headers: map[string]string{"Retry-After": "10", "Content-Type": "application/json", "request-id": "r"}, Body: json.RawMessage(`{"error":{"code":"TooManyRequests"}}`)},
		{ID: "3", Status: 204},
	}}
	want, err := json.Marshal(br)
	if err != nil {
		t.Fatal(err)
	}
	got := br.AppendJSON(nil)
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("AppendJSON wrote invalid JSON %s: %v", got, err)
	}
	_ = json.Unmarshal(want, &w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("AppendJSON = %s\nwant (encoding/json) %s", got, want)
	}
}
