package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// DecodeBatchResponse parses a $batch answer. It reads "responses" and, in
// each, "id", "status", "headers" (string values) and "body" (kept raw, a
// slice of data); other members are skipped. It gives what encoding/json
// gives for this shape, member names matched without regard to case, but
// without reflection, as it runs once per envelope, thousands of times a
// second against a fast server; and it decodes the headers of failed items
// only (status outside 2xx): those of successful items, a map per row that
// nothing reads, are checked and left nil.
func DecodeBatchResponse(data []byte) (BatchResponse, error) {
	return decodeBatchResponse(data, nil)
}

// decodeBatchResponse is DecodeBatchResponse reusing, for the items' ids,
// the ids of the requests sent that they equal, as the answer repeats
// them, so that no id costs an allocation.
func decodeBatchResponse(data []byte, sent []Request) (BatchResponse, error) {
	var br BatchResponse
	err := decodeEnvelope(data, "responses", func(d *decoder) error {
		d.sent = sent
		return d.responses(&br.Responses)
	})
	if err != nil {
		return BatchResponse{}, err
	}
	return br, nil
}

// DecodeBatchRequest parses a $batch request body as encoding/json would
// into a BatchRequest (member names matched without regard to case, bodies
// kept raw), without reflection. The emulator reads every envelope with it.
func DecodeBatchRequest(data []byte) (BatchRequest, error) {
	var br BatchRequest
	err := decodeEnvelope(data, "requests", func(d *decoder) error { return d.requests(&br.Requests) })
	if err != nil {
		return BatchRequest{}, err
	}
	return br, nil
}

// decodeEnvelope decodes the object in data, handing the member called
// name to decode and skipping the others, and checks nothing follows it.
func decodeEnvelope(data []byte, name string, decode func(*decoder) error) error {
	d := decoder{data: data}
	err := d.object(func(key []byte) error {
		if !bytes.EqualFold(key, []byte(name)) {
			return d.skip()
		}
		return decode(&d)
	})
	if err == nil {
		err = d.end()
	}
	return err
}

// end checks that only spaces are left.
func (d *decoder) end() error {
	d.ws()
	if d.i < len(d.data) {
		return d.errorf("data after the JSON value")
	}
	return nil
}

// DecodeObject calls member with the name and raw value of each member of
// the JSON object in data, in order, checking the syntax of all of it.
// null is an object without members.
func DecodeObject(data []byte, member func(name string, value []byte) error) error {
	d := decoder{data: data}
	err := d.object(func(key []byte) error {
		name, err := unquote(key)
		if err != nil {
			return err
		}
		start := d.valueStart()
		if err := d.skip(); err != nil {
			return err
		}
		return member(name, d.data[start:d.i])
	})
	if err == nil {
		err = d.end()
	}
	return err
}

type decoder struct {
	data []byte
	i    int
	sent []Request // requests whose ids response ids reuse
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: "+format, append([]any{d.i}, args...)...)
}

func (d *decoder) ws() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (d *decoder) peek() byte {
	d.ws()
	if d.i == len(d.data) {
		return 0
	}
	return d.data[d.i]
}

func (d *decoder) expect(c byte) error {
	if d.peek() != c {
		return d.errorf("want %q", c)
	}
	d.i++
	return nil
}

// literal consumes null, true or false.
func (d *decoder) literal() (string, error) {
	for _, lit := range []string{"null", "true", "false"} {
		if bytes.HasPrefix(d.data[d.i:], []byte(lit)) {
			d.i += len(lit)
			return lit, nil
		}
	}
	return "", d.errorf("unexpected %q", d.data[d.i])
}

// null consumes a null, if that is what comes next, and says so. Any other
// literal starting with n is an error.
func (d *decoder) null() (bool, error) {
	if d.peek() != 'n' {
		return false, nil
	}
	_, err := d.literal()
	return true, err
}

// object calls member for each member of an object (or nothing for null),
// positioned at the member's value.
func (d *decoder) object(member func(key []byte) error) error {
	if null, err := d.null(); null {
		return err
	}
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		key, err := d.rawString()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.errorf("want , or }")
		}
	}
}

// array calls elem for each element of an array (or nothing for null).
func (d *decoder) array(elem func() error) error {
	if null, err := d.null(); null {
		return err
	}
	if err := d.expect('['); err != nil {
		return err
	}
	if d.peek() == ']' {
		d.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return d.errorf("want , or ]")
		}
	}
}

func (d *decoder) responses(out *[]Response) error {
	if null, err := d.null(); null { // as encoding/json: null empties the slice
		*out = nil
		return err
	}
	if *out == nil {
		*out = make([]Response, 0, MaxBatchSize)
	}
	*out = (*out)[:0]
	// responses and requests are alike, but a generic list with an element
	// callback moves each element to the heap: 20 allocations an envelope.
	return d.array(func() error {
		var r Response
		if n := len(*out); n < cap(*out) {
			r = (*out)[:n+1][n] // as encoding/json, which decodes over what a repeated member left
		}
		// Raw header objects, decoded once the status is known: the first in
		// a variable, any repeats (never seen from Graph) in a slice.
		var first json.RawMessage
		var more [][]byte
		err := d.object(func(key []byte) error {
			switch {
			case bytes.EqualFold(key, []byte("id")):
				return d.idInto(&r.ID)
			case bytes.EqualFold(key, []byte("status")):
				return d.intInto(&r.Status)
			case bytes.EqualFold(key, []byte("headers")):
				if first == nil {
					return d.rawInto(&first)
				}
				var raw json.RawMessage
				err := d.rawInto(&raw)
				more = append(more, raw)
				return err
			case bytes.EqualFold(key, []byte("body")):
				return d.rawInto(&r.Body)
			}
			return d.skip()
		})
		if err == nil && first != nil {
			err = r.takeHeaders(first)
		}
		for _, raw := range more {
			if err == nil {
				err = r.takeHeaders(raw)
			}
		}
		*out = append(*out, r)
		return err
	})
}

func (d *decoder) requests(out *[]Request) error {
	if null, err := d.null(); null {
		*out = nil
		return err
	}
	if *out == nil {
		*out = make([]Request, 0, MaxBatchSize)
	}
	*out = (*out)[:0]
	return d.array(func() error {
		var r Request
		if n := len(*out); n < cap(*out) {
			r = (*out)[:n+1][n]
		}
		err := d.object(func(key []byte) error {
			switch {
			case bytes.EqualFold(key, []byte("id")):
				return d.stringInto(&r.ID)
			case bytes.EqualFold(key, []byte("method")):
				return d.stringInto(&r.Method)
			case bytes.EqualFold(key, []byte("url")):
				return d.stringInto(&r.URL)
			case bytes.EqualFold(key, []byte("headers")):
				return d.headers(&r.Headers)
			case bytes.EqualFold(key, []byte("body")):
				return d.rawInto(&r.Body)
			}
			return d.skip()
		})
		*out = append(*out, r)
		return err
	})
}

// valueStart returns where the next value begins, after spaces.
func (d *decoder) valueStart() int {
	d.ws()
	return d.i
}

// rawInto keeps the next value's bytes, as json.RawMessage does.
func (d *decoder) rawInto(raw *json.RawMessage) error {
	start := d.valueStart()
	if err := d.skip(); err != nil {
		return err
	}
	*raw = d.data[start:d.i]
	return nil
}

func (d *decoder) headers(h *map[string]string) error {
	if null, err := d.null(); null {
		*h = nil
		return err
	}
	if *h == nil {
		*h = make(map[string]string, 4)
	}
	return d.object(func(key []byte) error {
		k, err := unquote(key)
		if err != nil {
			return err
		}
		v := (*h)[k]
		if err := d.stringInto(&v); err != nil {
			return err
		}
		(*h)[k] = v
		return nil
	})
}

// takeHeaders decodes the raw header object of an item that failed into
// r.Headers; for an item that succeeded it only checks that the values are
// strings, as decoding them would.
func (r *Response) takeHeaders(raw []byte) error {
	hd := decoder{data: raw}
	if r.Status < 200 || r.Status > 299 {
		return hd.headers(&r.Headers)
	}
	return hd.object(func([]byte) error {
		if null, err := hd.null(); null {
			return err
		}
		_, err := hd.rawString()
		return err
	})
}

// idInto decodes an item id, reusing the id of one of d.sent when it is
// the same.
func (d *decoder) idInto(s *string) error {
	if d.peek() == '"' && len(d.sent) > 0 {
		start := d.i
		raw, err := d.rawString()
		if err != nil {
			return err
		}
		for i := range d.sent {
			if id := d.sent[i].ID; string(raw) == id {
				*s = id
				return nil
			}
		}
		d.i = start
	}
	return d.stringInto(s)
}

// stringInto decodes a string, or leaves *s as it is for null.
func (d *decoder) stringInto(s *string) error {
	if null, err := d.null(); null {
		return err
	}
	raw, err := d.rawString()
	if err != nil {
		return err
	}
	*s, err = unquote(raw)
	return err
}

// intInto decodes an integer, or leaves *n as it is for null.
func (d *decoder) intInto(n *int) error {
	if null, err := d.null(); null {
		return err
	}
	start := d.i
	if err := d.number(); err != nil {
		return err
	}
	v, err := strconv.Atoi(string(d.data[start:d.i]))
	if err != nil {
		return d.errorf("status %s is not an integer", d.data[start:d.i])
	}
	*n = v
	return nil
}

// rawString consumes a string and returns its contents between the quotes,
// still escaped.
func (d *decoder) rawString() ([]byte, error) {
	if err := d.expect('"'); err != nil {
		return nil, err
	}
	start := d.i
	for {
		end := bytes.IndexByte(d.data[d.i:], '"')
		if end < 0 {
			return nil, d.errorf("unterminated string")
		}
		end += d.i
		if plain(d.data[d.i:end]) { // the usual case
			d.i = end + 1
			return d.data[start:end], nil
		}
		// Check the stretch up to this quote for escapes and control
		// characters; an escaped quote does not end the string.
		for d.i < end {
			switch c := d.data[d.i]; {
			case c == '\\':
				if !validEscape(d.data[d.i+1:]) {
					return nil, d.errorf("bad escape in a string")
				}
				d.i += 2
			case c < 0x20:
				return nil, d.errorf("control character in a string")
			default:
				d.i++
			}
		}
		if d.i == end {
			d.i++
			return d.data[start:end], nil
		}
		// an escape ran over the quote: it was \"; look for the next one
	}
}

// validEscape reports whether b, following a backslash, starts a valid
// JSON escape.
func validEscape(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch b[0] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return true
	case 'u':
		if len(b) < 5 {
			return false
		}
		for _, c := range b[1:5] {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
		return true
	}
	return false
}

// common are strings every item answer repeats, returned without
// allocating a copy of each.
var common = map[string]string{}

func init() {
	for _, s := range []string{
		"Content-Type", "application/json", "application/json; charset=utf-8", "Cache-Control", "no-cache",
		"Retry-After", "request-id", "client-request-id", "x-ms-resource-unit", "1", "OData-Version", "4.0",
	} {
		common[s] = s
	}
}

// unquote turns the contents of a JSON string into a Go string, as
// encoding/json does (invalid UTF-8 becomes U+FFFD).
func unquote(raw []byte) (string, error) {
	if s, ok := common[string(raw)]; ok {
		return s, nil
	}
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw), nil
	}
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", errors.New("bad string escape")
	}
	return s, nil
}

// number consumes a JSON number.
func (d *decoder) number() error {
	start := d.i
	if d.i < len(d.data) && d.data[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	intStart := d.i
	if digits() == 0 || (d.data[intStart] == '0' && d.i-intStart > 1) {
		d.i = start
		return d.errorf("bad number")
	}
	if d.i < len(d.data) && d.data[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return d.errorf("bad number")
		}
	}
	if d.i < len(d.data) && (d.data[d.i] == 'e' || d.data[d.i] == 'E') {
		d.i++
		if d.i < len(d.data) && (d.data[d.i] == '+' || d.data[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return d.errorf("bad number")
		}
	}
	return nil
}

// skip consumes any JSON value, checking its syntax.
func (d *decoder) skip() error {
	switch c := d.peek(); {
	case c == '{':
		return d.object(func([]byte) error { return d.skip() })
	case c == '[':
		return d.array(d.skip)
	case c == '"':
		_, err := d.rawString()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 0:
		return d.errorf("unexpected end")
	}
	_, err := d.literal()
	return err
}
