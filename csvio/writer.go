package csvio

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Outcome is how a row ended.
type Outcome string

// The outcomes a results file can hold.
const (
	Updated   Outcome = "updated"   // the change was applied
	Unchanged Outcome = "unchanged" // read first and already as wanted: nothing was sent
	Failed    Outcome = "failed"    // refused, or retries ran out
	Invalid   Outcome = "invalid"   // the row was not sent: a value is wrong
	Valid     Outcome = "valid"     // a dry run found nothing wrong
)

// Done reports whether o ends a row for good: a resumed run skips it.
func (o Outcome) Done() bool { return o == Updated || o == Unchanged }

// ResultHeader returns the header of a results file whose rows are named by
// the key columns keys, in that order.
func ResultHeader(keys []string) []string {
	h := make([]string, 0, len(keys)+resultColumns)
	h = append(h, "row")
	h = append(h, keys...)
	return append(h, "outcome", "httpStatus", "errorCode", "errorMessage", "attempts", "requestId", "clientRequestId", "finishedAt")
}

// resultColumns is how many columns a results file has besides the keys.
const resultColumns = 9

// Result is one line of the results journal: the outcome of one row.
type Result struct {
	Row             int
	Keys            []string // one per key column, as the input has them
	Outcome         Outcome
	HTTPStatus      int    // 0 is written as an empty cell
	ErrorCode       string // written safe for a terminal and a spreadsheet
	ErrorMessage    string // likewise
	Attempts        int    // how many times the row was sent
	RequestID       string // likewise
	ClientRequestID string // likewise
	FinishedAt      time.Time
}

// TimeFormat is how FinishedAt is written: RFC 3339 in UTC, milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Writer writes results as CSV lines with encoding/csv. It buffers whole
// lines and hands only whole lines to the underlying writer, so a crash can
// tear at most the lines of one write. A Writer is not safe for concurrent
// use: one goroutine owns it.
//
// The cells that hold text from the server (errorCode, errorMessage,
// requestId, clientRequestId) are written so that neither a terminal nor a
// spreadsheet acts on them: control characters are shown escaped (a newline
// as \n, ESC as \x1b), and a cell that begins with =, +, -, @, TAB or CR
// gets a leading ' so that a spreadsheet shows it as text. Keys are written
// exactly as given, so that the file can be read back.
type Writer struct {
	w    io.Writer
	keys []string
	buf  bytes.Buffer // what csv writes; whole lines after csv.Flush
	csv  *csv.Writer
	rec  []string // the record being written, reused
	nums []byte   // its numbers and time, formatted
	err  error
}

// flushSize is how much Write buffers before passing lines on.
const flushSize = 64 << 10

// NewWriter returns a Writer appending results named by the key columns
// keys to w. It writes no header: call WriteHeader for a new file.
func NewWriter(w io.Writer, keys []string) *Writer {
	wr := &Writer{w: w, keys: keys, rec: make([]string, 0, len(keys)+resultColumns+1)}
	wr.csv = csv.NewWriter(&wr.buf)
	return wr
}

// WriteHeader buffers the header line, ResultHeader(keys).
func (w *Writer) WriteHeader() error {
	if w.err != nil {
		return w.err
	}
	w.err = w.csv.Write(ResultHeader(w.keys)) // only a failing bytes.Buffer could fail: never
	return w.err
}

// Write buffers the line for r, passing buffered lines on when the buffer
// is full. Errors are sticky: once a write fails, every later call returns
// the same error. r must have one key per key column.
func (w *Writer) Write(r *Result) error {
	if w.err != nil {
		return w.err
	}
	if len(r.Keys) != len(w.keys) {
		return fmt.Errorf("csvio: the result of row %d has %d keys, want %d (%s)", r.Row, len(r.Keys), len(w.keys), strings.Join(w.keys, ", "))
	}
	// The numbers and the time go into one string: one allocation a line.
	b := strconv.AppendInt(w.nums[:0], int64(r.Row), 10)
	endRow := len(b)
	if r.HTTPStatus != 0 {
		b = strconv.AppendInt(b, int64(r.HTTPStatus), 10)
	}
	endStatus := len(b)
	b = strconv.AppendInt(b, int64(r.Attempts), 10)
	endAttempts := len(b)
	if !r.FinishedAt.IsZero() {
		b = r.FinishedAt.UTC().AppendFormat(b, TimeFormat)
	}
	w.nums = b
	nums := string(b)
	rec := append(w.rec[:0], nums[:endRow])
	rec = append(rec, r.Keys...)
	rec = append(rec, string(r.Outcome), nums[endRow:endStatus], safeText(r.ErrorCode), safeText(r.ErrorMessage),
		nums[endStatus:endAttempts], safeText(r.RequestID), safeText(r.ClientRequestID), nums[endAttempts:])
	w.rec = rec
	if w.err = w.csv.Write(rec); w.err != nil {
		return w.err
	}
	if w.buf.Len() >= flushSize {
		return w.Flush()
	}
	return nil
}

// Flush passes every buffered line on to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.csv.Flush() // into buf: the lines are whole now
	if w.buf.Len() == 0 {
		return nil
	}
	_, w.err = w.w.Write(w.buf.Bytes())
	w.buf.Reset()
	return w.err
}

// safeText returns s as a results file shows text from a server: control
// characters escaped, so that printing the file cannot drive a terminal,
// and a leading ' before what a spreadsheet would take for a formula.
func safeText(s string) string {
	if s == "" {
		return s
	}
	formula := strings.IndexByte("=+-@\t\r", s[0]) >= 0
	if !formula && !hasControl(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	if formula {
		b.WriteByte('\'')
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1: // not UTF-8: a byte a terminal may take for C1
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// hasControl reports whether s holds a C0 or C1 control character, DEL,
// or bytes that are not UTF-8 (which range reads as utf8.RuneError).
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r >= 0x7f && r < 0xa0 || r == utf8.RuneError {
			return true
		}
	}
	return false
}
