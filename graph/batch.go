package graph

import (
	"bytes"
	"cmp"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxBatchSize is the most requests Graph accepts in one $batch envelope.
const MaxBatchSize = 20

// Request is one item of a $batch envelope.
type Request struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"` // relative to {root}/{version}, never absolute
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// BatchRequest is the JSON body POSTed to {root}/{version}/$batch.
type BatchRequest struct {
	Requests []Request `json:"requests"`
}

// Response is Graph's answer to one Request, matched to it by ID: Graph may
// answer in any order.
type Response struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// BatchResponse is the JSON body of a $batch answer.
type BatchResponse struct {
	Responses []Response `json:"responses"`
}

// jsonHeaders are the headers of every item with a body. Shared, so never
// to be modified.
var jsonHeaders = map[string]string{"Content-Type": "application/json"}

// NewPatchRequest returns the $batch item that applies p, with the item id
// id. Its Headers are shared with every other such item: do not modify them.
func NewPatchRequest(id string, p Patch) Request {
	return Request{ID: id, Method: "PATCH", URL: p.URL, Headers: jsonHeaders, Body: p.Body}
}

// NewGetRequest returns the $batch item that reads url, relative to the
// version root.
func NewGetRequest(id, url string) Request {
	return Request{ID: id, Method: "GET", URL: url}
}

// Marshal returns the JSON body of v without encoding/json's HTML
// escaping, which would only make bodies harder to read in logs.
func Marshal(v any) ([]byte, error) {
	// Most values of a CSV cell are a bool or a string that needs no
	// escape: their JSON is plain, and an encoder would cost a dozen
	// allocations each.
	switch v := v.(type) {
	case bool:
		return strconv.AppendBool(nil, v), nil
	case string:
		if plainString(v) {
			b := make([]byte, 0, len(v)+2)
			b = append(b, '"')
			b = append(b, v...)
			return append(b, '"'), nil
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// plainString reports whether encoding/json, not escaping HTML, writes s
// as it is between quotes: valid UTF-8 without control characters, quotes,
// backslashes, U+2028 or U+2029.
func plainString(s string) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}

// DecodeBatchResponse parses a $batch answer with encoding/json, which
// refuses nesting deeper than it can handle instead of overflowing.
func DecodeBatchResponse(data []byte) (BatchResponse, error) {
	var br BatchResponse
	err := json.Unmarshal(data, &br)
	return br, err
}

// DecodeBatchRequest parses a $batch request body; the emulator reads every
// envelope with it.
func DecodeBatchRequest(data []byte) (BatchRequest, error) {
	var br BatchRequest
	err := json.Unmarshal(data, &br)
	return br, err
}

// Header returns the value of the item header name, matched case-insensitively.
func (r *Response) Header(name string) string {
	if v, ok := r.Headers[name]; ok {
		return v
	}
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Err returns Graph's error for a failed item, or nil for a 2xx item.
func (r *Response) Err() *Error {
	if r.Status >= 200 && r.Status < 300 {
		return nil
	}
	e := ParseError(r.Status, r.Body)
	e.RequestID = cmp.Or(cut(Clean(r.Header("request-id")), maxCodeText), e.RequestID)
	e.ClientRequestID = cmp.Or(cut(Clean(r.Header("client-request-id")), maxCodeText), e.ClientRequestID)
	e.RetryAfter = r.Header("Retry-After")
	return e
}
