package graph

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

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

func TestMarshalDoesNotEscapeHTML(t *testing.T) {
	t.Parallel()
	got, err := Marshal(BatchRequest{Requests: []Request{{ID: "1", Method: "GET", URL: "/a?$filter=x&y=<z>"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"requests":[{"id":"1","method":"GET","url":"/a?$filter=x&y=<z>"}]}`; string(got) != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
}

// TestDecodeRefusesDeepNesting: a broken proxy's answer of 15 MiB of "["
// once overflowed the stack of a hand-written decoder (issue #10.4).
func TestDecodeRefusesDeepNesting(t *testing.T) {
	t.Parallel()
	deep := bytes.Repeat([]byte("["), 15<<20)
	if _, err := DecodeBatchResponse(deep); err == nil {
		t.Error("DecodeBatchResponse(15 MiB of [) = nil error, want one")
	}
	if _, err := DecodeBatchRequest(append([]byte(`{"requests":`), deep...)); err == nil {
		t.Error("DecodeBatchRequest(deep) = nil error, want one")
	}
}

// FuzzMarshalScalar checks Marshal's shortcut for strings and bools
// against encoding/json without HTML escaping, byte for byte.
func FuzzMarshalScalar(f *testing.F) {
	for _, s := range []string{"", "plain", "<a href='x'>&amp;</a>", `"quoted"`, `C:\Users\adele`, "tab\there", "\x00\x1f\x7f", "é🙂 Zoë Ångström",
		"\u2028\u2029", "\xff invalid", "\xe2\x80", "\ufffd"} {
		f.Add(s)
	}
	encode := func(v any) string {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			f.Fatal(err)
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range []any{s, len(s)%2 == 0} {
			got, err := Marshal(v)
			if want := encode(v); err != nil || string(got) != want {
				t.Errorf("Marshal(%#v) = %s, %v; want %s as encoding/json writes it", v, got, err, want)
			}
		}
	})
}
