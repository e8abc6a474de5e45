package csvio_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/graphbatch/graphbatch/csvio"
)

// FuzzAppendResult checks that any text in the text fields comes back the
// same through AppendResult and encoding/csv.Reader, as one record.
func FuzzAppendResult(f *testing.F) {
	f.Add(1, "pol-1", "dev-1", "updated", 204, "", "", 1, "req", "cli", int64(1714979289123))
	f.Add(2, " lead", "a,b", "failed", 400, `say "hi"`, "two\nlines", 3, "\ttab", `\.`, int64(0))
	f.Add(3, "", "", "", 0, "", "", 0, "", "", int64(-1))
	f.Add(4, `"`, `""`, "#", 429, ";", "\n", 9, "日本 🎉", "\u00a0nbsp", int64(253402300799999))
	f.Fuzz(func(t *testing.T, row int, policyID, id, outcome string, status int, errorCode, errorMessage string,
		attempts int, requestID, clientRequestID string, finishedMilli int64) {
		texts := []string{policyID, id, outcome, errorCode, errorMessage, requestID, clientRequestID}
		for _, s := range texts {
			// encoding/csv reads \r\n as \n, and replaces invalid UTF-8.
			if !utf8.ValidString(s) || strings.Contains(s, "\r") {
				t.Skip()
			}
		}
		var finished time.Time
		if finishedMilli != 0 {
			finished = time.UnixMilli(finishedMilli)
			if y := finished.UTC().Year(); y < 0 || y > 9999 {
				t.Skip() // RFC 3339 has four-digit years
			}
		}
		r := csvio.Result{
			Row: row, PolicyID: policyID, ID: id, Outcome: csvio.Outcome(outcome), HTTPStatus: status,
			ErrorCode: errorCode, ErrorMessage: errorMessage, Attempts: attempts,
			RequestID: requestID, ClientRequestID: clientRequestID, FinishedAt: finished,
		}
		line := csvio.AppendResult(nil, &r)
		if !bytes.HasSuffix(line, []byte("\n")) {
			t.Fatalf("AppendResult(%+v) = %q, want a line ending in \\n", r, line)
		}

		cr := csv.NewReader(bytes.NewReader(line))
		got, err := cr.Read()
		if err != nil {
			t.Fatalf("csv Read(AppendResult(%+v) = %q) error: %v", r, line, err)
		}
		if _, err := cr.Read(); err != io.EOF {
			t.Fatalf("AppendResult(%+v) = %q holds more than one record (%v)", r, line, err)
		}
		statusCell, finishedCell := "", ""
		if status != 0 {
			statusCell = strconv.Itoa(status)
		}
		if !finished.IsZero() {
			finishedCell = finished.UTC().Format(csvio.TimeFormat)
		}
		want := []string{
			strconv.Itoa(row), policyID, id, outcome, statusCell, errorCode, errorMessage,
			strconv.Itoa(attempts), requestID, clientRequestID, finishedCell,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("csv Read(AppendResult(%+v) = %q) mismatch (-want +got):\n%s", r, line, diff)
		}
		if !finished.IsZero() {
			back, err := time.Parse(time.RFC3339Nano, got[10])
			if err != nil || !back.Equal(finished) {
				t.Fatalf("finishedAt %q = %v, %v; want %v", got[10], back, err, finished)
			}
		}
	})
}

// FuzzReader checks that no input makes Reader panic, and that every
// record encoding/csv reads in it that is not all empty cells comes out as
// a row or a *RowError, numbered one after the other.
func FuzzReader(f *testing.F) {
	for _, seed := range []string{
		"a,b,c\n1,2,3\n",
		"a;b;c\r\n1;\"2\n2\";3\r\n;;\r\n",
		"sep=;\na;b\n1;2\n",
		"\uFEFFa\tb\n1\t2\n",
		"a,b,c\n1,\"Laptop 3, 15 inch,compliant\n2,x,y\n3,z,w\n",
		"a,b,c\n1,\"x\ny,z,w\n\"\n",
		"a,b,c\n1,\"x\"y,2\n1,x\"y,2\n,,\n , \n",
		"a,b\n" + strings.Repeat("x", 100) + ",1\n",
		"\xff\xfea\x00,\x00b\x00\n\x001\x00,\x002\x00\n\x00",
		"a,b\r1,2\r",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		h := csvio.Header{Columns: []string{"a", "b", "c"}, MaxCell: 64}
		r, err := csvio.NewReader(strings.NewReader(input), h)
		if err != nil {
			return
		}
		n, lastLine := 0, 0
		for {
			row, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			num, line := row.Num, row.Line
			var re *csvio.RowError
			switch {
			case errors.As(err, &re):
				num, line = re.Row, re.Line
			case err != nil:
				t.Fatalf("Read(%q) error %v, want rows, *RowErrors and io.EOF only", input, err)
			case len(row.Fields) != len(h.Columns):
				t.Fatalf("Read(%q) = %+v: %d fields, want %d", input, row, len(row.Fields), len(h.Columns))
			}
			n++
			if num != n || line <= lastLine {
				t.Fatalf("Read(%q) #%d: row %d on line %d after line %d; want row %d on a later line", input, n, num, line, lastLine, n)
			}
			lastLine = line
		}
		if want, ok := csvRecords(input, r.Comma); ok && n != want {
			t.Fatalf("Read(%q) gave %d rows and row errors; encoding/csv reads %d records with a value", input, n, want)
		}
	})
}

// csvRecords counts the records after the header that encoding/csv reads
// in input, as Reader sets it up, that have a value or an error; ok is
// false for input that Reader reads otherwise (a byte order mark, a sep=
// line).
func csvRecords(input string, comma rune) (n int, ok bool) {
	first, _, _ := strings.Cut(input, "\n")
	first = strings.TrimSuffix(first, "\r")
	if strings.HasPrefix(input, "\xEF\xBB\xBF") || strings.HasPrefix(input, "\xFF\xFE") || strings.HasPrefix(input, "\xFE\xFF") ||
		len(first) == 5 && strings.EqualFold(first[:4], "sep=") {
		return 0, false
	}
	c := csv.NewReader(strings.NewReader(input))
	c.Comma, c.FieldsPerRecord, c.TrimLeadingSpace = comma, -1, comma != '\t'
	if _, err := c.Read(); err != nil {
		return 0, false
	}
	for {
		rec, err := c.Read()
		if errors.Is(err, io.EOF) {
			return n, true
		}
		if err != nil || strings.Join(rec, "") != "" {
			n++
		}
	}
}
