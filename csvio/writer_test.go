package csvio_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphbatch/graphbatch/csvio"
)

// testKeys are the key columns of the results in these tests.
var testKeys = []string{"parentId", "id"}

// keys returns a Result's Keys.
func keys(k ...string) []string { return k }

// lines returns the lines a Writer writes for rs, named by keyCols.
func lines(t testing.TB, keyCols []string, rs ...csvio.Result) string {
	t.Helper()
	var buf bytes.Buffer
	w := csvio.NewWriter(&buf, keyCols)
	for i := range rs {
		if err := w.Write(&rs[i]); err != nil {
			t.Fatalf("Write(%+v): %v", rs[i], err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestResultHeader checks the header for the key columns given, against
// the contract (§4).
func TestResultHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		keys []string
		want string
	}{
		{testKeys, "row,parentId,id,outcome,httpStatus,errorCode,errorMessage,attempts,requestId,clientRequestId,finishedAt"},
		{[]string{"id"}, "row,id,outcome,httpStatus,errorCode,errorMessage,attempts,requestId,clientRequestId,finishedAt"},
		{[]string{"a", "b", "c"}, "row,a,b,c,outcome,httpStatus,errorCode,errorMessage,attempts,requestId,clientRequestId,finishedAt"},
	}
	for _, tt := range tests {
		if got := strings.Join(csvio.ResultHeader(tt.keys), ","); got != tt.want {
			t.Errorf("ResultHeader(%q) = %q, want %q", tt.keys, got, tt.want)
		}
		var buf bytes.Buffer
		w := csvio.NewWriter(&buf, tt.keys)
		if err := w.WriteHeader(); err != nil {
			t.Fatalf("WriteHeader() = %v", err)
		}
		if err := w.Flush(); err != nil {
			t.Fatalf("Flush() = %v", err)
		}
		if got := buf.String(); got != tt.want+"\n" {
			t.Errorf("WriteHeader wrote %q, want %q", got, tt.want+"\n")
		}
	}
	// The caller's slice is not the header's.
	k := []string{"x"}
	h := csvio.ResultHeader(k)
	h[1] = "changed"
	if k[0] != "x" {
		t.Errorf("ResultHeader's result shares the keys slice")
	}
}

var (
	paris   = time.FixedZone("CEST", 2*60*60)
	newYork = time.FixedZone("EDT", -4*60*60)
)

// TestWriterLines checks whole lines.
func TestWriterLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys []string // testKeys if nil
		r    csvio.Result
		want string
	}{{
		name: "Updated",
		r: csvio.Result{
			Row: 1, Keys: keys("pol-1", "dev-1"), Outcome: csvio.Updated, HTTPStatus: 204, Attempts: 1,
			RequestID: "req-1", ClientRequestID: "cli-1", FinishedAt: time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC),
		},
		want: "1,pol-1,dev-1,updated,204,,,1,req-1,cli-1,2024-05-06T07:08:09.123Z\n",
	}, {
		name: "Unchanged",
		r:    csvio.Result{Row: 2, Keys: keys("p", "d"), Outcome: csvio.Unchanged, HTTPStatus: 200, Attempts: 1, FinishedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		want: "2,p,d,unchanged,200,,,1,,,2024-01-01T00:00:00.000Z\n",
	}, {
		name: "Failed",
		r: csvio.Result{
			Row: 42, Keys: keys("pol-1", "dev-2"), Outcome: csvio.Failed, HTTPStatus: 429,
			ErrorCode: "TooManyRequests", ErrorMessage: "Too many requests, retry later", Attempts: 5,
			RequestID: "r", ClientRequestID: "c", FinishedAt: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		},
		want: "42,pol-1,dev-2,failed,429,TooManyRequests,\"Too many requests, retry later\",5,r,c,2024-05-06T07:08:09.000Z\n",
	}, {
		name: "InvalidNoStatusNoTime",
		r:    csvio.Result{Row: 3, Keys: keys("pol-1", "dev-3"), Outcome: csvio.Invalid, ErrorMessage: "status: bad value"},
		want: "3,pol-1,dev-3,invalid,,,status: bad value,0,,,\n",
	}, {
		name: "OneKey",
		keys: []string{"id"},
		r:    csvio.Result{Row: 7, Keys: keys("d"), Outcome: csvio.Valid, FinishedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		want: "7,d,valid,,,,0,,,2024-01-01T00:00:00.000Z\n",
	}, {
		name: "NoKeys",
		keys: []string{},
		r:    csvio.Result{Row: 1},
		want: "1,,,,,0,,,\n",
	}, {
		name: "NonUTCTime",
		r:    csvio.Result{Row: 1, Keys: keys("", ""), FinishedAt: time.Date(2024, 5, 6, 1, 30, 0, 987654321, paris)},
		want: "1,,,,,,,0,,,2024-05-05T23:30:00.987Z\n",
	}, {
		name: "NonUTCTimeDayAfter",
		r:    csvio.Result{Row: 1, Keys: keys("", ""), FinishedAt: time.Date(2024, 12, 31, 22, 0, 0, 5e6, newYork)},
		want: "1,,,,,,,0,,,2025-01-01T02:00:00.005Z\n",
	}, {
		name: "KeysQuotedAsEncodingCSV",
		r:    csvio.Result{Row: 9, Keys: keys(" lead", "a,b"), Outcome: csvio.Failed, HTTPStatus: 400, ErrorCode: `say "hi"`, Attempts: 1},
		want: "9,\" lead\",\"a,b\",failed,400,\"say \"\"hi\"\"\",,1,,,\n",
	}, {
		name: "NegativeNumbers",
		r:    csvio.Result{Row: -1, Keys: keys("", ""), HTTPStatus: -2, Attempts: -3},
		want: "-1,,,,-2,,,-3,,,\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := tt.keys
			if k == nil {
				k = testKeys
			}
			if got := lines(t, k, tt.r); got != tt.want {
				t.Errorf("Write(%+v) wrote %q, want %q", tt.r, got, tt.want)
			}
		})
	}
}

// TestWriterSafeText checks the cells that hold server text: a terminal
// printing the file shows control characters escaped, and a spreadsheet
// shows a cell that looks like a formula as text (§10).
func TestWriterSafeText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want string // the cell as encoding/csv reads it back
	}{
		{"Plain", "Resource not found", "Resource not found"},
		{"Empty", "", ""},
		{"Equals", "=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"Plus", "+1", "'+1"},
		{"Minus", "-2+3", "'-2+3"},
		{"At", "@SUM(A1)", "'@SUM(A1)"},
		{"LeadingTab", "\tx", `'\tx`},
		{"LeadingCR", "\rx", `'\rx`},
		{"FormulaCharInside", "a=b+c-d@e", "a=b+c-d@e"},
		{"LeadingSpaceThenEquals", " =1", " =1"},
		{"Newline", "line one\nline two", `line one\nline two`},
		{"CRLF", "a\r\nb", `a\r\nb`},
		{"Escape", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"OSC", "\x1b]0;title\x07", `\x1b]0;title\x07`},
		{"NUL", "a\x00b", `a\x00b`},
		{"Backspace", "ab\bc", `ab\x08c`},
		{"DEL", "a\x7fb", `a\x7fb`},
		{"C1CSI", "a\u009b31mb", `a\u009b31mb`},
		{"C1NEL", "a\u0085b", `a\u0085b`},
		{"NotUTF8", "a\x9b31m\xffb", `a\x9b31m\xffb`},
		{"NonASCIIKept", "Zoë Ångström 日本 🎉 \u00a0nbsp", "Zoë Ångström 日本 🎉 \u00a0nbsp"},
		{"ReplacementCharKept", "a\uFFFDb", "a\uFFFDb"},
		{"FormulaAndControl", "=1\n+2", `'=1\n+2`},
		{"Quotes", `say "hi", then go`, `say "hi", then go`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := csvio.Result{
				Row: 1, Keys: keys("p", "d"), Outcome: csvio.Failed,
				ErrorCode: tt.text, ErrorMessage: tt.text, RequestID: tt.text, ClientRequestID: tt.text,
			}
			line := lines(t, testKeys, r)
			recs, err := csv.NewReader(strings.NewReader(line)).ReadAll()
			if err != nil || len(recs) != 1 {
				t.Fatalf("Write(%q in the text cells) wrote %q: %d records, %v; want 1", tt.text, line, len(recs), err)
			}
			for _, i := range []int{5, 6, 8, 9} { // errorCode, errorMessage, requestId, clientRequestId
				if got := recs[0][i]; got != tt.want {
					t.Errorf("Write(%q in the text cells): cell %d = %q, want %q", tt.text, i, got, tt.want)
				}
			}
			for _, c := range line[:len(line)-1] {
				if c < 0x20 && c != '\t' || c == 0x7f || c >= 0x80 && c < 0xa0 {
					t.Errorf("Write(%q in the text cells) wrote %q: a control character %U reaches the file", tt.text, line, c)
				}
			}
		})
	}
}

// TestWriterKeysAsGiven checks that keys are written exactly as given,
// whatever they hold, so that the file reads back into graphbatch.
func TestWriterKeysAsGiven(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"=1+1", "-x", "@y", "\tz", "a\nb", "\x1b[2J", " lead", `"q"`, "a,b", `\.`} {
		r := csvio.Result{Row: 1, Keys: keys(k, k), Outcome: csvio.Updated}
		line := lines(t, testKeys, r)
		rec, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil || rec[1] != k || rec[2] != k {
			t.Errorf("Write(keys %q) wrote %q, read back as %q, %v; want the keys as given", k, line, rec, err)
		}
	}
}

// TestWriterKeyCount checks that a result with the wrong number of keys
// is refused, and that the Writer goes on.
func TestWriterKeyCount(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := csvio.NewWriter(&buf, testKeys)
	if err := w.Write(&csvio.Result{Row: 1, Keys: keys("only one")}); err == nil {
		t.Errorf("Write(1 key for 2 key columns) = nil, want an error")
	}
	if err := w.Write(&csvio.Result{Row: 2, Keys: keys("p", "d"), Outcome: csvio.Updated}); err != nil {
		t.Errorf("Write after a refused result = %v", err)
	}
	if err := w.Flush(); err != nil || buf.String() != "2,p,d,updated,,,,0,,,\n" {
		t.Errorf("Flush = %v, wrote %q", err, buf.String())
	}
}

// failWriter fails every Write after the first ok ones, and counts calls.
type failWriter struct {
	ok    int
	calls int
	err   error
}

func (f *failWriter) Write(p []byte) (int, error) {
	f.calls++
	if f.calls > f.ok {
		return 0, f.err
	}
	return len(p), nil
}

// TestWriterStickyError checks that once the underlying writer fails, every
// call returns that error and nothing more is written.
func TestWriterStickyError(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk full")
	r := &csvio.Result{Row: 1, Keys: keys("p", "d"), Outcome: csvio.Updated}

	t.Run("Flush", func(t *testing.T) {
		t.Parallel()
		fw := &failWriter{err: boom}
		w := csvio.NewWriter(fw, testKeys)
		if err := w.WriteHeader(); err != nil {
			t.Fatalf("WriteHeader() = %v, want nil (buffered)", err)
		}
		if err := w.Write(r); err != nil {
			t.Fatalf("Write() = %v, want nil (buffered)", err)
		}
		if err := w.Flush(); !errors.Is(err, boom) {
			t.Fatalf("Flush() = %v, want %v", err, boom)
		}
		if err := w.Write(r); !errors.Is(err, boom) {
			t.Errorf("Write() after failed Flush = %v, want %v", err, boom)
		}
		if err := w.WriteHeader(); !errors.Is(err, boom) {
			t.Errorf("WriteHeader() after failed Flush = %v, want %v", err, boom)
		}
		if err := w.Flush(); !errors.Is(err, boom) {
			t.Errorf("second Flush() = %v, want %v", err, boom)
		}
		if fw.calls != 1 {
			t.Errorf("underlying Write called %d times, want 1", fw.calls)
		}
	})

	t.Run("FullBuffer", func(t *testing.T) {
		t.Parallel()
		fw := &failWriter{ok: 1, err: boom}
		w := csvio.NewWriter(fw, testKeys)
		big := &csvio.Result{Row: 1, Keys: keys("p", "d"), ErrorMessage: strings.Repeat("x", 1000)}
		var err error
		n := 0
		for ; n < 1000 && err == nil; n++ {
			err = w.Write(big)
		}
		if !errors.Is(err, boom) {
			t.Fatalf("Write() x%d = %v, want %v once the buffer fills twice", n, err, boom)
		}
		if n > 140 {
			t.Errorf("Write() failed after %d results of 1 KB, want about 130 (two 64 KiB buffers)", n)
		}
		if err := w.Write(r); !errors.Is(err, boom) {
			t.Errorf("Write() after failure = %v, want %v", err, boom)
		}
		if err := w.Flush(); !errors.Is(err, boom) {
			t.Errorf("Flush() after failure = %v, want %v", err, boom)
		}
		if fw.calls != 2 {
			t.Errorf("underlying Write called %d times, want 2", fw.calls)
		}
	})
}

// recordingWriter keeps each Write call's bytes.
type recordingWriter struct {
	calls [][]byte
}

func (rw *recordingWriter) Write(p []byte) (int, error) {
	rw.calls = append(rw.calls, bytes.Clone(p))
	return len(p), nil
}

// TestWriterWholeLines checks that the underlying writer only ever gets
// whole lines, even when the buffer fills.
func TestWriterWholeLines(t *testing.T) {
	t.Parallel()
	rw := &recordingWriter{}
	w := csvio.NewWriter(rw, testKeys)
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	want := strings.Join(csvio.ResultHeader(testKeys), ",") + "\n"
	const n = 3000
	for i := 1; i <= n; i++ {
		r := csvio.Result{
			Row: i, Keys: keys("pol-1", fmt.Sprintf("dev\n%d", i)), Outcome: csvio.Failed, HTTPStatus: 500,
			ErrorCode: "InternalServerError", Attempts: 3, FinishedAt: time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC),
			// Vary line lengths, with quotes and commas.
			ErrorMessage: strings.Repeat("line, \"of\" text ", i%17),
		}
		if err := w.Write(&r); err != nil {
			t.Fatalf("Write(row %d) = %v", i, err)
		}
		want += lines(t, testKeys, r)
	}
	if len(want) < 3*64<<10 {
		t.Fatalf("test writes only %d bytes; want several 64 KiB buffers", len(want))
	}
	if len(rw.calls) < 2 {
		t.Errorf("%d bytes reached the underlying writer in %d calls before Flush, want several", len(want), len(rw.calls))
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush() = %v", err)
	}
	rows := 0
	for i, p := range rw.calls {
		// A whole line is a whole record: the chunk parses on its own.
		recs, err := csv.NewReader(bytes.NewReader(p)).ReadAll()
		if err != nil || len(p) == 0 || p[len(p)-1] != '\n' {
			t.Errorf("Write call %d of %d (%d bytes ending in %q) is not whole lines: %v", i+1, len(rw.calls), len(p), p[max(0, len(p)-20):], err)
		}
		rows += len(recs)
	}
	if rows != n+1 {
		t.Errorf("Write calls hold %d records, want %d", rows, n+1)
	}
	if got := string(bytes.Join(rw.calls, nil)); got != want {
		t.Errorf("underlying writer got %d bytes, want %d", len(got), len(want))
	}
}

// TestWriterFlushEmpty checks that flushing nothing writes nothing.
func TestWriterFlushEmpty(t *testing.T) {
	t.Parallel()
	rw := &recordingWriter{}
	w := csvio.NewWriter(rw, testKeys)
	if err := w.Flush(); err != nil {
		t.Errorf("Flush() = %v, want nil", err)
	}
	if len(rw.calls) != 0 {
		t.Errorf("Flush() of nothing made %d Write calls, want 0", len(rw.calls))
	}
}

// TestWriterRoundTrip reads the results back with encoding/csv, empty
// cells included.
func TestWriterRoundTrip(t *testing.T) {
	t.Parallel()
	results := []csvio.Result{
		{Row: 1, Keys: keys("p", "d"), Outcome: csvio.Invalid, ErrorMessage: "no property to set"},
		{Row: 2, Keys: keys("p,q", "\"d\""), Outcome: csvio.Updated, HTTPStatus: 200, Attempts: 2, FinishedAt: time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)},
		{Row: 100000, Keys: keys("Jürgen", "two\nlines"), Outcome: csvio.Failed, HTTPStatus: 400, ErrorCode: "BadRequest",
			ErrorMessage: `Invalid value "x", expected one of: a, b`, Attempts: 6, RequestID: "r", ClientRequestID: "c",
			FinishedAt: time.Date(2030, 1, 2, 3, 4, 5, 6789e3, paris)},
	}
	var buf bytes.Buffer
	w := csvio.NewWriter(&buf, testKeys)
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	for i := range results {
		if err := w.Write(&results[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("csv ReadAll = %v", err)
	}
	want := [][]string{
		csvio.ResultHeader(testKeys),
		{"1", "p", "d", "invalid", "", "", "no property to set", "0", "", "", ""},
		{"2", "p,q", `"d"`, "updated", "200", "", "", "2", "", "", "2024-02-29T12:00:00.000Z"},
		{"100000", "Jürgen", "two\nlines", "failed", "400", "BadRequest", `Invalid value "x", expected one of: a, b`, "6", "r", "c", "2030-01-02T01:04:05.006Z"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results read back by encoding/csv mismatch (-want +got):\n%s", diff)
	}
}

func TestOutcomeDone(t *testing.T) {
	t.Parallel()
	for o, want := range map[csvio.Outcome]bool{
		csvio.Updated: true, csvio.Unchanged: true, csvio.Failed: false, csvio.Invalid: false, csvio.Valid: false, "": false,
	} {
		if o.Done() != want {
			t.Errorf("Outcome(%q).Done() = %v, want %v", o, !want, want)
		}
	}
}
