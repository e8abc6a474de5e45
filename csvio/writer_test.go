package csvio_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gocarina/gocsv"
	"github.com/google/go-cmp/cmp"

	"github.com/graphbatch/graphbatch/csvio"
)

// TestResultHeader checks the header against the contract and against the
// csv tags of Result, which gocsv and friends use.
func TestResultHeader(t *testing.T) {
	t.Parallel()
	const contract = "row,policyId,id,outcome,httpStatus,errorCode,errorMessage,attempts,requestId,clientRequestId,finishedAt"
	if csvio.ResultHeader != contract {
		t.Errorf("ResultHeader = %q, want %q", csvio.ResultHeader, contract)
	}
	var tags []string
	rt := reflect.TypeFor[csvio.Result]()
	for i := range rt.NumField() {
		tags = append(tags, rt.Field(i).Tag.Get("csv"))
	}
	if diff := cmp.Diff(strings.Split(contract, ","), tags); diff != "" {
		t.Errorf("Result csv tags mismatch (-want +got):\n%s", diff)
	}

	var buf bytes.Buffer
	w := csvio.NewWriter(&buf)
	if err := w.WriteHeader(); err != nil {
		t.Fatalf("WriteHeader() = %v", err)
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush() = %v", err)
	}
	if got, want := buf.String(), contract+"\n"; got != want {
		t.Errorf("WriteHeader wrote %q, want %q", got, want)
	}
}

var (
	paris   = time.FixedZone("CEST", 2*60*60)
	newYork = time.FixedZone("EDT", -4*60*60)
)

// TestAppendResult checks whole lines.
func TestAppendResult(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    csvio.Result
		want string
	}{{
		name: "Updated",
		r: csvio.Result{
			Row: 1, PolicyID: "pol-1", ID: "dev-1", Outcome: csvio.Updated, HTTPStatus: 204, Attempts: 1,
			RequestID: "req-1", ClientRequestID: "cli-1", FinishedAt: time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC),
		},
		want: "1,pol-1,dev-1,updated,204,,,1,req-1,cli-1,2024-05-06T07:08:09.123Z\n",
	}, {
		name: "Failed",
		r: csvio.Result{
			Row: 42, PolicyID: "pol-1", ID: "dev-2", Outcome: csvio.Failed, HTTPStatus: 429,
			ErrorCode: "TooManyRequests", ErrorMessage: "Too many requests, retry later", Attempts: 5,
			RequestID: "r", ClientRequestID: "c", FinishedAt: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		},
		want: "42,pol-1,dev-2,failed,429,TooManyRequests,\"Too many requests, retry later\",5,r,c,2024-05-06T07:08:09.000Z\n",
	}, {
		name: "InvalidNoStatusNoTime",
		r:    csvio.Result{Row: 3, PolicyID: "pol-1", ID: "dev-3", Outcome: csvio.Invalid, ErrorMessage: "status: bad value"},
		want: "3,pol-1,dev-3,invalid,,,status: bad value,0,,,\n",
	}, {
		name: "Zero",
		r:    csvio.Result{},
		want: "0,,,,,,,0,,,\n",
	}, {
		name: "Valid",
		r:    csvio.Result{Row: 7, PolicyID: "p", ID: "d", Outcome: csvio.Valid, FinishedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		want: "7,p,d,valid,,,,0,,,2024-01-01T00:00:00.000Z\n",
	}, {
		name: "NonUTCTime",
		r:    csvio.Result{Row: 1, FinishedAt: time.Date(2024, 5, 6, 1, 30, 0, 987654321, paris)},
		want: "1,,,,,,,0,,,2024-05-05T23:30:00.987Z\n",
	}, {
		name: "NonUTCTimeDayAfter",
		r:    csvio.Result{Row: 1, FinishedAt: time.Date(2024, 12, 31, 22, 0, 0, 5e6, newYork)},
		want: "1,,,,,,,0,,,2025-01-01T02:00:00.005Z\n",
	}, {
		name: "LocalTimeWithMonotonic",
		r:    csvio.Result{Row: 1, FinishedAt: time.Date(2024, 5, 6, 7, 8, 9, 1e6, time.UTC).Local().Add(0)},
		want: "1,,,,,,,0,,,2024-05-06T07:08:09.001Z\n",
	}, {
		name: "Quoting",
		r: csvio.Result{
			Row: 9, PolicyID: " lead", ID: "a,b", Outcome: csvio.Failed, HTTPStatus: 400,
			ErrorCode: `say "hi"`, ErrorMessage: "two\nlines", Attempts: 1, RequestID: "\ttab", ClientRequestID: `\.`,
		},
		want: "9,\" lead\",\"a,b\",failed,400,\"say \"\"hi\"\"\",\"two\nlines\",1,\"\ttab\",\"\\.\",\n",
	}, {
		name: "NegativeNumbers",
		r:    csvio.Result{Row: -1, HTTPStatus: -2, Attempts: -3},
		want: "-1,,,,-2,,,-3,,,\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prefix := []byte("previous line\n")
			got := csvio.AppendResult(bytes.Clone(prefix), &tt.r)
			if !bytes.HasPrefix(got, prefix) {
				t.Fatalf("AppendResult(%q, %+v) = %q, want it to keep the prefix", prefix, tt.r, got)
			}
			if got := string(got[len(prefix):]); got != tt.want {
				t.Errorf("AppendResult(%+v) = %q, want %q", tt.r, got, tt.want)
			}
		})
	}
}

// textFields sets every text field of a Result to s.
func textFields(s string) csvio.Result {
	return csvio.Result{
		Row: 1, PolicyID: s, ID: s, Outcome: csvio.Outcome(s), ErrorCode: s, ErrorMessage: s,
		RequestID: s, ClientRequestID: s,
	}
}

// encodingCSV returns the line encoding/csv.Writer writes for r.
func encodingCSV(t *testing.T, r *csvio.Result) string {
	t.Helper()
	status, finished := "", ""
	if r.HTTPStatus != 0 {
		status = strconv.Itoa(r.HTTPStatus)
	}
	if !r.FinishedAt.IsZero() {
		finished = r.FinishedAt.UTC().Format(csvio.TimeFormat)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write([]string{
		strconv.Itoa(r.Row), r.PolicyID, r.ID, string(r.Outcome), status, r.ErrorCode, r.ErrorMessage,
		strconv.Itoa(r.Attempts), r.RequestID, r.ClientRequestID, finished,
	}); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestAppendResultQuotesLikeEncodingCSV checks that each text field is
// quoted exactly as encoding/csv.Writer quotes it.
func TestAppendResultQuotesLikeEncodingCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		field string
	}{
		{"Empty", ""},
		{"Plain", "plain text"},
		{"Comma", "a,b"},
		{"OnlyComma", ","},
		{"Quote", `say "hi"`},
		{"OnlyQuote", `"`},
		{"QuotedAlready", `"x"`},
		{"Newline", "two\nlines"},
		{"CR", "cr\rhere"},
		{"CRLF", "crlf\r\nhere"},
		{"TrailingNewline", "x\n"},
		{"LeadingSpace", " lead"},
		{"LeadingTab", "\tlead"},
		{"TrailingSpace", "trail "},
		{"InnerTab", "a\tb"},
		{"Semicolon", "a;b"},
		{"BackslashDot", `\.`},
		{"BackslashDotMore", `\.x`},
		{"Hash", "#comment"},
		{"Formula", "=1+2"},
		{"NonASCII", "Jürgen Ødegård 日本 🎉"},
		{"JSON", `{"error":{"code":"BadRequest","message":"x, y"}}`},
		{"LeadingNBSP", "\u00a0nbsp"},
		{"LeadingVerticalTab", "\vvt"},
		{"LeadingFormFeed", "\fff"},
		{"LeadingNEL", "\u0085nel"},
		{"LeadingIdeographicSpace", "\u3000wide"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := textFields(tt.field)
			got := string(csvio.AppendResult(nil, &r))
			want := encodingCSV(t, &r)
			if got != want {
				t.Errorf("AppendResult(%q in every text field) = %q, want %q (as encoding/csv)", tt.field, got, want)
			}
		})
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
	r := &csvio.Result{Row: 1, PolicyID: "p", ID: "d", Outcome: csvio.Updated}

	t.Run("Flush", func(t *testing.T) {
		t.Parallel()
		fw := &failWriter{err: boom}
		w := csvio.NewWriter(fw)
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
		w := csvio.NewWriter(fw)
		big := &csvio.Result{Row: 1, ErrorMessage: strings.Repeat("x", 1000)}
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
	w := csvio.NewWriter(rw)
	var want []byte
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	want = append(want, csvio.ResultHeader+"\n"...)
	const n = 3000
	for i := 1; i <= n; i++ {
		r := &csvio.Result{
			Row: i, PolicyID: "pol-1", ID: fmt.Sprintf("dev-%d", i), Outcome: csvio.Failed, HTTPStatus: 500,
			ErrorCode: "InternalServerError", Attempts: 3, FinishedAt: time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC),
			// Vary line lengths, with newlines inside quoted fields.
			ErrorMessage: strings.Repeat("line, \"of\"\ntext ", i%17),
		}
		if err := w.Write(r); err != nil {
			t.Fatalf("Write(row %d) = %v", i, err)
		}
		want = csvio.AppendResult(want, r)
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
		if len(p) == 0 || p[len(p)-1] != '\n' {
			t.Errorf("Write call %d of %d: %d bytes ending in %q, want whole lines", i+1, len(rw.calls), len(p), p[max(0, len(p)-20):])
			continue
		}
		// A whole line is a whole record: the chunk parses on its own.
		recs, err := csv.NewReader(bytes.NewReader(p)).ReadAll()
		if err != nil {
			t.Errorf("Write call %d of %d does not parse on its own: %v", i+1, len(rw.calls), err)
		}
		rows += len(recs)
	}
	if rows != n+1 {
		t.Errorf("Write calls hold %d records, want %d", rows, n+1)
	}
	if got := bytes.Join(rw.calls, nil); !bytes.Equal(got, want) {
		t.Errorf("underlying writer got %d bytes, want the %d bytes of AppendResult", len(got), len(want))
	}
}

// TestWriterFlushEmpty checks that flushing nothing writes nothing.
func TestWriterFlushEmpty(t *testing.T) {
	t.Parallel()
	rw := &recordingWriter{}
	w := csvio.NewWriter(rw)
	if err := w.Flush(); err != nil {
		t.Errorf("Flush() = %v, want nil", err)
	}
	if len(rw.calls) != 0 {
		t.Errorf("Flush() of nothing made %d Write calls, want 0", len(rw.calls))
	}
}

// TestWriterRoundTrip writes results and reads them back with gocsv.
func TestWriterRoundTrip(t *testing.T) {
	t.Parallel()
	want := []csvio.Result{{
		Row: 1, PolicyID: "pol-1", ID: "dev-1", Outcome: csvio.Updated, HTTPStatus: 204, Attempts: 1,
		RequestID: "7b3c-req", ClientRequestID: "9f1e-cli", FinishedAt: time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC),
	}, {
		Row: 2, PolicyID: "pol-1", ID: "dev-2", Outcome: csvio.Failed, HTTPStatus: 400, ErrorCode: "BadRequest",
		ErrorMessage: `Invalid value "x", expected one of: a, b` + "\nsecond line", Attempts: 1,
		FinishedAt: time.Date(2024, 5, 6, 9, 8, 9, 999999999, paris),
	}, {
		Row: 3, PolicyID: " lead", ID: "trail ", Outcome: csvio.Invalid, ErrorMessage: "status: \"bogus\" is not a complianceStatus",
		FinishedAt: time.Date(2024, 5, 6, 7, 8, 9, 0, newYork),
	}, {
		Row: 4, PolicyID: "Jürgen", ID: `\.`, Outcome: csvio.Valid, ErrorMessage: "日本 🎉; x\ty",
		FinishedAt: time.Date(1999, 12, 31, 23, 59, 59, 1e6, time.UTC),
	}, {
		Row: 100000, PolicyID: "p", ID: "d", Outcome: csvio.Failed, HTTPStatus: 503, ErrorCode: "ServiceUnavailable",
		Attempts: 6, RequestID: "r", ClientRequestID: "c", FinishedAt: time.Date(2030, 1, 2, 3, 4, 5, 6e6, time.UTC),
	}}
	var buf bytes.Buffer
	w := csvio.NewWriter(&buf)
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if err := w.Write(&want[i]); err != nil {
			t.Fatalf("Write(%+v) = %v", want[i], err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []csvio.Result
	if err := gocsv.Unmarshal(bytes.NewReader(buf.Bytes()), &got); err != nil {
		t.Fatalf("gocsv.Unmarshal(%q) = %v", buf.String(), err)
	}
	// Times are written to the millisecond; cmp compares them with Equal.
	for i := range want {
		want[i].FinishedAt = want[i].FinishedAt.Truncate(time.Millisecond)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results read back by gocsv mismatch (-want +got):\n%s", diff)
	}
	for _, r := range got {
		if r.FinishedAt.Location() != time.UTC {
			t.Errorf("row %d: finishedAt read back in %v, want UTC", r.Row, r.FinishedAt.Location())
		}
	}
}

// TestWriterRoundTripEncodingCSV reads the results back with
// encoding/csv, empty cells included.
func TestWriterRoundTripEncodingCSV(t *testing.T) {
	t.Parallel()
	results := []csvio.Result{
		{Row: 1, PolicyID: "p", ID: "d", Outcome: csvio.Invalid, ErrorMessage: "no property to set"},
		{Row: 2, PolicyID: "p,q", ID: "\"d\"", Outcome: csvio.Updated, HTTPStatus: 200, Attempts: 2, FinishedAt: time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)},
	}
	var buf bytes.Buffer
	w := csvio.NewWriter(&buf)
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
		strings.Split(csvio.ResultHeader, ","),
		{"1", "p", "d", "invalid", "", "", "no property to set", "0", "", "", ""},
		{"2", "p,q", `"d"`, "updated", "200", "", "", "2", "", "", "2024-02-29T12:00:00.000Z"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results read back by encoding/csv mismatch (-want +got):\n%s", diff)
	}
}
