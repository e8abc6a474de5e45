package graph

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Error is an error answer from Graph, for an envelope or for one item.
type Error struct {
	Status          int    // HTTP status
	Code            string // Graph's error code, e.g. "ResourceNotFound"; may be empty
	Message         string // readable text, unwrapped from Intune's nested JSON
	RequestID       string // Graph's request-id
	ClientRequestID string // the client-request-id Graph echoed
	RetryAfter      string // the raw Retry-After header, if any
}

var _ error = (*Error)(nil)

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph: %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	} else {
		b.WriteString(" " + http.StatusText(e.Status))
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// wireError mirrors Graph's error body:
// {"error":{"code":…,"message":…,"innerError":{"request-id":…,"client-request-id":…,"date":…}}}
type wireError struct {
	Error struct {
		Code       string     `json:"code"`
		Message    string     `json:"message"`
		InnerError innerError `json:"innerError"`
	} `json:"error"`
}

type innerError struct {
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

// ParseError decodes Graph's error body. A body that is not Graph's error
// shape still gives an Error, carrying the start of the body as its message.
func ParseError(status int, body []byte) *Error {
	e := &Error{Status: status}
	var w wireError
	if err := json.Unmarshal(body, &w); err != nil || (w.Error.Code == "" && w.Error.Message == "") {
		e.Message = oneLine(truncate(strings.ToValidUTF8(string(body), "\uFFFD"), 300))
		return e
	}
	e.Code = w.Error.Code
	e.Message = readableMessage(w.Error.Message)
	e.RequestID = w.Error.InnerError.RequestID
	e.ClientRequestID = w.Error.InnerError.ClientRequestID
	return e
}

// intuneMessage is the JSON Intune puts inside error.message, sometimes twice:
// {"_version":3,"Message":"An error has occurred - Operation ID …","CustomApiErrorPhrase":"",…}
// or {"ErrorCode":"Forbidden","Message":"{…}"}.
type intuneMessage struct {
	ErrorCode            string
	Message              string
	CustomApiErrorPhrase string
}

// readableMessage returns the text a person should read from a Graph error
// message, unwrapping Intune's JSON-in-a-string (nested up to a few levels).
func readableMessage(msg string) string {
	var prefix string
	for range 4 {
		trimmed := strings.TrimSpace(msg)
		if !strings.HasPrefix(trimmed, "{") {
			break
		}
		var m intuneMessage
		if json.Unmarshal([]byte(trimmed), &m) != nil {
			break
		}
		if m.ErrorCode != "" && prefix == "" {
			prefix = m.ErrorCode + ": "
		}
		switch {
		case m.Message != "":
			msg = m.Message
		case m.CustomApiErrorPhrase != "":
			msg = m.CustomApiErrorPhrase
		default:
			return prefix + oneLine(trimmed)
		}
	}
	return prefix + oneLine(msg)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// truncate shortens s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
