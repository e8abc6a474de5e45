package graph

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
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

// jsonHeaders are the headers of every PATCH item. Shared, so never to be
// modified.
var jsonHeaders = map[string]string{"Content-Type": "application/json"}

// NewPatchRequest returns the $batch item that applies p, with the item id
// id. Its Headers are shared with every other such item: do not modify them.
func NewPatchRequest(id string, p Patch) Request {
	return Request{ID: id, Method: "PATCH", URL: p.URL, Headers: jsonHeaders, Body: p.Body}
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
	e.RequestID = cmp.Or(r.Header("request-id"), e.RequestID)
	e.ClientRequestID = cmp.Or(r.Header("client-request-id"), e.ClientRequestID)
	e.RetryAfter = r.Header("Retry-After")
	return e
}

// AppendJSON appends the JSON encoding of b to dst: the same JSON as
// encoding/json's (without its HTML escaping), without reflection and
// without re-validating bodies, which NewPatch built.
func (b *BatchRequest) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"requests":[`...)
	for i := range b.Requests {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = b.Requests[i].appendJSON(dst)
	}
	return append(dst, "]}"...)
}

func (r *Request) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = AppendJSONString(dst, r.ID)
	dst = append(dst, `,"method":`...)
	dst = AppendJSONString(dst, r.Method)
	dst = append(dst, `,"url":`...)
	dst = AppendJSONString(dst, r.URL)
	dst = appendHeadersAndBody(dst, r.Headers, r.Body)
	return append(dst, '}')
}

// AppendJSON appends the JSON encoding of b to dst: the same JSON as
// encoding/json's (headers in key order, without its HTML escaping),
// without reflection. Bodies must be valid JSON.
func (b *BatchResponse) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"responses":[`...)
	for i := range b.Responses {
		r := &b.Responses[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":`...)
		dst = AppendJSONString(dst, r.ID)
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(r.Status), 10)
		dst = appendHeadersAndBody(dst, r.Headers, r.Body)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// appendHeadersAndBody appends the "headers" and "body" members of a
// request or an answer, when they are not empty.
func appendHeadersAndBody(dst []byte, h map[string]string, body json.RawMessage) []byte {
	if len(h) > 0 {
		dst = append(dst, `,"headers":{`...)
		dst = appendHeaders(dst, h)
		dst = append(dst, '}')
	}
	if len(body) > 0 {
		dst = append(dst, `,"body":`...)
		dst = append(dst, body...)
	}
	return dst
}

// appendHeaders appends the members of h, in key order.
func appendHeaders(dst []byte, h map[string]string) []byte {
	member := func(k, v string) {
		dst = AppendJSONString(dst, k)
		dst = append(dst, ':')
		dst = AppendJSONString(dst, v)
	}
	if len(h) == 1 { // the usual case, Content-Type alone: no sorting
		for k, v := range h {
			member(k, v)
		}
		return dst
	}
	for i, k := range slices.Sorted(maps.Keys(h)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		member(k, h[k])
	}
	return dst
}
