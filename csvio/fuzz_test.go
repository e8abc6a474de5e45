package csvio_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/graphbatch/graphbatch/csvio"
)

// FuzzWriter checks that any result comes back through Writer and
// encoding/csv.Reader as one record: keys exactly as given, the cells of
// server text as given unless they hold a control character or begin like
// a formula, and then with none of either.
func FuzzWriter(f *testing.F) {
	f.Add(1, "pol-1", "dev-1", "updated", 204, "", "", 1, "req", "cli", int64(1714979289123))
	f.Add(2, " lead", "a,b", "failed", 400, `say "hi"`, "two\nlines", 3, "\ttab", `\.`, int64(0))
	f.Add(3, "", "", "", 0, "", "", 0, "", "", int64(-1))
	f.Add(4, `"`, `""`, "#", 429, "=1+1", "\x1b[2J\u009b", 9, "日本 🎉", "\u00a0nbsp", int64(253402300799999))
	f.Add(5, "=x", "\r\n", "unchanged", 200, "-", "\xff\x80", 1, "@", "+", int64(1))
	f.Fuzz(func(t *testing.T, row int, key1, key2, outcome string, status int, errorCode, errorMessage string,
		attempts int, requestID, clientRequestID string, finishedMilli int64) {
		for _, s := range []string{key1, key2, outcome} {
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
			Row: row, Keys: []string{key1, key2}, Outcome: csvio.Outcome(outcome), HTTPStatus: status,
			ErrorCode: errorCode, ErrorMessage: errorMessage, Attempts: attempts,
			RequestID: requestID, ClientRequestID: clientRequestID, FinishedAt: finished,
		}
		var buf bytes.Buffer
		w := csvio.NewWriter(&buf, []string{"k1", "k2"})
		if err := w.Write(&r); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		line := buf.String()
		cr := csv.NewReader(strings.NewReader(line))
		got, err := cr.Read()
		if err != nil {
			t.Fatalf("csv Read(%q, written for %+v) error: %v", line, r, err)
		}
		if _, err := cr.Read(); err != io.EOF {
			t.Fatalf("Write(%+v) wrote %q: more than one record (%v)", r, line, err)
		}
		statusCell, finishedCell := "", ""
		if status != 0 {
			statusCell = strconv.Itoa(status)
		}
		if !finished.IsZero() {
			finishedCell = finished.UTC().Format(csvio.TimeFormat)
		}
		want := []string{strconv.Itoa(row), key1, key2, outcome, statusCell, "", "", strconv.Itoa(attempts), "", "", finishedCell}
		texts := map[int]string{5: errorCode, 6: errorMessage, 8: requestID, 9: clientRequestID}
		for i, text := range texts {
			want[i] = got[i] // checked below
			cell := got[i]
			for _, c := range cell {
				if c < 0x20 || c >= 0x7f && c < 0xa0 {
					t.Fatalf("Write(%+v): cell %d %q holds control character %U", r, i, cell, c)
				}
			}
			if cell != "" && strings.IndexByte("=+-@\t\r", cell[0]) >= 0 {
				t.Fatalf("Write(%+v): cell %d %q begins like a formula", r, i, cell)
			}
			plain := utf8.ValidString(text) && !strings.ContainsFunc(text, func(c rune) bool { return c < 0x20 || c >= 0x7f && c < 0xa0 })
			if plain && (text == "" || strings.IndexByte("=+-@", text[0]) < 0) && cell != text {
				t.Fatalf("Write(%+v): cell %d = %q, want the text as given", r, i, cell)
			}
			if text != "" && strings.IndexByte("=+-@\t\r", text[0]) >= 0 && !strings.HasPrefix(cell, "'") {
				t.Fatalf("Write(%+v): cell %d = %q, want a leading '", r, i, cell)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("csv Read(%q, written for %+v) mismatch (-want +got):\n%s", line, r, diff)
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

// FuzzReadBack checks that cells encoding/csv writes, as an export or a
// backup does, read back exactly as they were: quotes, delimiters, spaces,
// and line breaks inside cells, CR LF included.
func FuzzReadBack(f *testing.F) {
	f.Add("a\r\nb", " c", "d\re", byte(','))
	f.Add("\r\n", "\"x\"\r\n\"", "", byte(';'))
	f.Add("two\nlines", "a, b", "\t", byte('\t'))
	f.Fuzz(func(t *testing.T, a, b, c string, comma byte) {
		if comma != ',' && comma != ';' && comma != '\t' {
			return
		}
		h := csvio.Header{Columns: []string{"k", "a", "b", "c"}}
		want := []string{"key", a, b, c}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Comma = rune(comma)
		_ = w.Write(h.Columns)
		_ = w.Write(want)
		w.Flush()
		r, err := csvio.NewReader(&buf, h)
		if err != nil {
			t.Fatalf("NewReader: %v", err)
		}
		row, err := r.Read()
		if err != nil {
			return // a cell that is not a row's (a quote swallowing rows, say): Reader reports it
		}
		if !slices.Equal(row.Fields, want) {
			t.Fatalf("wrote %q, read back %q", want, row.Fields)
		}
	})
}
