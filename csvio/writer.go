package csvio

import (
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Outcome is how a row ended.
type Outcome string

// The outcomes a results file can hold.
const (
	Updated Outcome = "updated" // Graph applied the PATCH
	Failed  Outcome = "failed"  // Graph refused it, or retries ran out
	Invalid Outcome = "invalid" // the row was not sent: a value is wrong
	Valid   Outcome = "valid"   // a dry run found nothing wrong
)

// ResultHeader is the header line of a results file.
const ResultHeader = "row,policyId,id,outcome,httpStatus,errorCode,errorMessage,attempts,requestId,clientRequestId,finishedAt"

// Result is one line of the results journal: the outcome of one row. The
// csv tags name the columns for readers that map them, such as gocsv.
type Result struct {
	Row             int       `csv:"row"`
	PolicyID        string    `csv:"policyId"`
	ID              string    `csv:"id"`
	Outcome         Outcome   `csv:"outcome"`
	HTTPStatus      int       `csv:"httpStatus"` // 0 is written as an empty cell
	ErrorCode       string    `csv:"errorCode"`
	ErrorMessage    string    `csv:"errorMessage"`
	Attempts        int       `csv:"attempts"` // how many times the row was sent
	RequestID       string    `csv:"requestId"`
	ClientRequestID string    `csv:"clientRequestId"`
	FinishedAt      time.Time `csv:"finishedAt"`
}

// TimeFormat is how FinishedAt is written: RFC 3339 in UTC, milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Writer encodes results as CSV lines. It buffers whole lines and hands only
// whole lines to the underlying writer, so a crash can tear at most the line
// being written by the operating system. A Writer is not safe for
// concurrent use: one goroutine owns it.
type Writer struct {
	w   io.Writer
	buf []byte
	err error

	stamp   []byte    // the last finishedAt written, formatted
	stampAt time.Time // which it formats, to the millisecond
}

// flushSize is how much Write buffers before passing lines on.
const flushSize = 64 << 10

// NewWriter returns a Writer appending to w. It writes no header: call
// WriteHeader for a new file.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, buf: make([]byte, 0, flushSize+1024)}
}

// WriteHeader buffers the header line.
func (w *Writer) WriteHeader() error {
	w.buf = append(w.buf, ResultHeader...)
	w.buf = append(w.buf, '\n')
	return w.err
}

// Write buffers the line for r, passing buffered lines on when the buffer
// is full. Errors are sticky: once a write fails, every later call returns
// the same error.
func (w *Writer) Write(r *Result) error {
	if w.err != nil {
		return w.err
	}
	w.buf = w.appendResult(w.buf, r)
	if len(w.buf) >= flushSize {
		return w.Flush()
	}
	return nil
}

// Flush passes every buffered line on to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil || len(w.buf) == 0 {
		return w.err
	}
	_, w.err = w.w.Write(w.buf)
	w.buf = w.buf[:0]
	return w.err
}

// appendResult is AppendResult, reusing the last formatted finishedAt:
// the rows of an envelope finish in the same millisecond.
func (w *Writer) appendResult(dst []byte, r *Result) []byte {
	at := r.FinishedAt.Truncate(time.Millisecond)
	if !at.Equal(w.stampAt) { // a zero time equals the zero stampAt, whose stamp is empty
		w.stampAt = at
		w.stamp = w.stamp[:0]
		if !at.IsZero() {
			w.stamp = at.UTC().AppendFormat(w.stamp, TimeFormat)
		}
	}
	return appendResult(dst, r, w.stamp)
}

// AppendResult appends the CSV line for r, with its newline, to dst.
func AppendResult(dst []byte, r *Result) []byte {
	return new(Writer).appendResult(dst, r)
}

func appendResult(dst []byte, r *Result, stamp []byte) []byte {
	dst = strconv.AppendInt(dst, int64(r.Row), 10)
	dst = appendField(dst, r.PolicyID)
	dst = appendField(dst, r.ID)
	dst = appendField(dst, string(r.Outcome))
	dst = append(dst, ',')
	if r.HTTPStatus != 0 {
		dst = strconv.AppendInt(dst, int64(r.HTTPStatus), 10)
	}
	dst = appendField(dst, r.ErrorCode)
	dst = appendField(dst, r.ErrorMessage)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(r.Attempts), 10)
	dst = appendField(dst, r.RequestID)
	dst = appendField(dst, r.ClientRequestID)
	dst = append(dst, ',')
	dst = append(dst, stamp...)
	return append(dst, '\n')
}

// appendField appends a comma and s, quoted as encoding/csv would quote it.
func appendField(dst []byte, s string) []byte {
	dst = append(dst, ',')
	if !needsQuotes(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, '"')
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, '"')
}

// needsQuotes reports whether encoding/csv.Writer would quote s.
func needsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` || strings.ContainsAny(s, ",\"\r\n") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}
