package graph

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is an error answer from Graph, for an envelope or for one item.
// Its text fields are safe to show (see Clean), except RetryAfter, which
// is kept as Graph sent it for RetryAfter to parse.
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
// Every text field is cleaned (see Clean).
func ParseError(status int, body []byte) *Error {
	e := &Error{Status: status}
	var w wireError
	if err := json.Unmarshal(body, &w); err != nil || (w.Error.Code == "" && w.Error.Message == "") {
		e.Message = cut(Clean(string(body)), maxBodyText)
		return e
	}
	e.Code = cut(Clean(w.Error.Code), maxCodeText)
	e.Message = Clean(readableMessage(w.Error.Message))
	e.RequestID = cut(Clean(w.Error.InnerError.RequestID), maxCodeText)
	e.ClientRequestID = cut(Clean(w.Error.InnerError.ClientRequestID), maxCodeText)
	return e
}

// Limits on text taken from Graph's answers: a message is cut to what a
// person reads (README, "Files and servers"), a code or an id to what Graph ever sends, and
// a body that is not Graph's error shape to its start.
const (
	MaxMessage  = 2000
	maxCodeText = 200
	maxBodyText = 300
)

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
			return prefix + trimmed
		}
	}
	return prefix + msg
}

// Clean makes text that came from a server or a file safe to print and to
// put in a results cell: valid UTF-8, on one line (runs of white space
// become one space), at most MaxMessage characters, and with control and
// bidirectional-override characters shown escaped (ESC as \x1b), so that
// no text can drive a terminal or hide what it says.
func Clean(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	if strings.IndexFunc(s, unsafeRune) >= 0 {
		var b strings.Builder
		for _, r := range s {
			switch {
			case !unsafeRune(r):
				b.WriteRune(r)
			case r < 0x100:
				fmt.Fprintf(&b, `\x%02x`, r)
			default:
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		}
		s = b.String()
	}
	return cut(s, MaxMessage)
}

// unsafeRune reports whether r must not reach a terminal as it is.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// cut shortens s to at most n characters, marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return s[:i] + "…"
}
