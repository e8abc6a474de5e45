package csvio_test

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphbatch/graphbatch/csvio"
)

const histParent = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"

// histDevice returns a GUID-shaped device id that differs for each row.
func histDevice(row int) string {
	return fmt.Sprintf("%08x-6c1e-4b7a-9d2f-%012x", row*2654435761%(1<<32), row)
}

// histResult returns a realistic result for row: an updated row has no
// error, a failed one has a quoted error message with commas and quotes,
// an invalid one an unquoted message.
func histResult(row int, o csvio.Outcome) csvio.Result {
	r := csvio.Result{
		Row: row, Keys: keys(histParent, histDevice(row)), Outcome: o, Attempts: 1,
		RequestID:       "0b5e5f1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
		ClientRequestID: "7d9c1e2f-3a4b-4c5d-9e6f-7a8b9c0d1e2f",
		FinishedAt:      time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC),
	}
	switch o {
	case csvio.Updated:
		r.HTTPStatus = 204
	case csvio.Failed:
		r.HTTPStatus, r.ErrorCode, r.Attempts = 400, "BadRequest", 3
		r.ErrorMessage = `csvio.Invalid value for property 'status', expected one of: "active", "retired"`
	case csvio.Invalid:
		r.ErrorMessage, r.Attempts, r.RequestID, r.ClientRequestID, r.FinishedAt = "status: bad value", 0, "", "", time.Time{}
	}
	return r
}

// histMultiLine returns a failed result whose id spans three lines: keys
// are written as given, server text is not (its newlines are escaped).
func histMultiLine(row int) csvio.Result {
	r := histResult(row, csvio.Failed)
	r.Keys[1] = "first line\nsecond, \"quoted\" line\nthird line"
	return r
}

// histLines returns the CSV lines a Writer writes for rs.
func histLines(rs ...csvio.Result) string {
	var b strings.Builder
	w := csvio.NewWriter(&b, testKeys)
	for i := range rs {
		if err := w.Write(&rs[i]); err != nil {
			panic(err)
		}
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
	return b.String()
}

// histHeader is the header line of the results files in these tests.
var histHeader = strings.Join(csvio.ResultHeader(testKeys), ",")

func histLine(row int, o csvio.Outcome) string { return histLines(histResult(row, o)) }

// histDone lists the rows up to last that h says are updated.
func histDone(h *csvio.History, last int) []int {
	var rows []int
	for row := range last + 1 {
		if h.Done(row) {
			rows = append(rows, row)
		}
	}
	return rows
}

var histReaders = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"Whole", func(r io.Reader) io.Reader { return r }},
	{"OneByte", iotest.OneByteReader},
	{"DataErr", iotest.DataErrReader},
	{"Half", iotest.HalfReader},
}

func TestReadHistory(t *testing.T) {
	t.Parallel()
	hdr := histHeader + "\n"
	l1, l2 := histLine(1, csvio.Updated), histLine(2, csvio.Failed)
	ml := histLines(histMultiLine(2))
	nl := strings.Index(ml, "\n") // the first newline inside the quotes
	open := strings.Index(ml, `"`)
	tests := []struct {
		name     string
		in       string
		wantEnd  int64 // -1: len(in)
		wantRows int
		wantDone []int
	}{
		{name: "Empty", in: "", wantEnd: 0},
		{name: "HeaderOnly", in: hdr, wantEnd: -1},
		{name: "HeaderCRLF", in: histHeader + "\r\n", wantEnd: -1},
		{name: "HeaderCRLFAndRows", in: histHeader + "\r\n" + l1, wantEnd: -1, wantRows: 1, wantDone: []int{1}},
		{name: "TornHeaderOneByte", in: "r", wantEnd: 0},
		{name: "TornHeaderMiddle", in: histHeader[:20], wantEnd: 0},
		{name: "TornHeaderLastByteMissing", in: histHeader[:len(histHeader)-1], wantEnd: 0},
		// A crash can tear the first write just before the header's newline.
		{name: "TornHeaderNewlineMissing", in: histHeader, wantEnd: 0},
		{
			name:    "AllOutcomes",
			in:      hdr + histLine(1, csvio.Updated) + histLine(2, csvio.Failed) + histLine(3, csvio.Invalid) + histLine(4, csvio.Valid),
			wantEnd: -1, wantRows: 4, wantDone: []int{1},
		},
		{name: "UpdatedThenFailed", in: hdr + histLine(1, csvio.Updated) + histLine(1, csvio.Failed), wantEnd: -1, wantRows: 1},
		{name: "FailedThenUpdated", in: hdr + histLine(1, csvio.Failed) + histLine(1, csvio.Updated), wantEnd: -1, wantRows: 1, wantDone: []int{1}},
		{
			name:    "UpdatedFailedUpdated",
			in:      hdr + histLine(1, csvio.Updated) + histLine(1, csvio.Failed) + histLine(1, csvio.Updated),
			wantEnd: -1, wantRows: 1, wantDone: []int{1},
		},
		{name: "InvalidThenValid", in: hdr + histLine(9, csvio.Invalid) + histLine(9, csvio.Valid), wantEnd: -1, wantRows: 1},
		{
			name:    "OutOfOrder",
			in:      hdr + histLine(7, csvio.Updated) + histLine(3, csvio.Failed) + histLine(5, csvio.Updated) + histLine(3, csvio.Updated) + histLine(5, csvio.Failed),
			wantEnd: -1, wantRows: 3, wantDone: []int{3, 7},
		},
		{
			name:    "WordBoundaries",
			in:      hdr + histLine(63, csvio.Updated) + histLine(64, csvio.Updated) + histLine(65, csvio.Failed) + histLine(127, csvio.Updated) + histLine(128, csvio.Updated),
			wantEnd: -1, wantRows: 5, wantDone: []int{63, 64, 127, 128},
		},
		{name: "TornSimpleLine", in: hdr + l1 + l2[:15], wantEnd: int64(len(hdr + l1)), wantRows: 1, wantDone: []int{1}},
		{name: "TornRowNumber", in: hdr + l1 + "2", wantEnd: int64(len(hdr + l1)), wantRows: 1, wantDone: []int{1}},
		{
			name:    "TornLineNewlineMissing",
			in:      hdr + l1 + histLine(3, csvio.Updated)[:len(histLine(3, csvio.Updated))-1],
			wantEnd: int64(len(hdr + l1)), wantRows: 1, wantDone: []int{1},
		},
		{name: "TornQuotedAfterOpenQuote", in: hdr + l1 + ml[:open+1], wantEnd: int64(len(hdr + l1)), wantRows: 1, wantDone: []int{1}},
		{name: "TornQuotedInsideMultiLine", in: hdr + l1 + ml[:nl+1], wantEnd: int64(len(hdr + l1)), wantRows: 1, wantDone: []int{1}},
		{name: "TornQuotedNewlineMissing", in: hdr + l1 + ml[:len(ml)-1], wantEnd: int64(len(hdr + l1)), wantRows: 1, wantDone: []int{1}},
		{name: "TornQuotedAfterClosingQuote", in: hdr + l1 + l2[:strings.LastIndex(l2, `"`)+1], wantEnd: int64(len(hdr + l1)), wantRows: 1, wantDone: []int{1}},
		{name: "MultiLineComplete", in: hdr + l1 + ml + histLine(3, csvio.Updated), wantEnd: -1, wantRows: 3, wantDone: []int{1, 3}},
		{name: "MultiLineLast", in: hdr + l1 + ml, wantEnd: -1, wantRows: 2, wantDone: []int{1}},
		{name: "Unchanged", in: hdr + histLine(1, csvio.Unchanged) + histLine(2, csvio.Failed) + histLine(2, csvio.Unchanged), wantEnd: -1, wantRows: 2, wantDone: []int{1, 2}},
		{name: "UnchangedThenFailed", in: hdr + histLine(1, csvio.Unchanged) + histLine(1, csvio.Failed), wantEnd: -1, wantRows: 1},
		// A spreadsheet that saved the file again: a byte order mark, CRLF.
		{name: "ExcelResaved", in: "\uFEFF" + strings.ReplaceAll(hdr+l1+l2+ml, "\n", "\r\n"), wantEnd: -1, wantRows: 2, wantDone: []int{1}},
		{name: "ExcelResavedTorn", in: "\uFEFF" + strings.ReplaceAll(hdr+l1+l2, "\n", "\r\n") + "3,p", wantEnd: int64(3 + len(hdr+l1+l2) + 3), wantRows: 2, wantDone: []int{1}},
		{name: "ExcelResavedTornCRLF", in: "\uFEFF" + strings.ReplaceAll(hdr+l1, "\n", "\r\n") + strings.TrimSuffix(l2, "\n") + "\r", wantEnd: int64(3 + len(hdr+l1) + 2), wantRows: 1, wantDone: []int{1}},
		{name: "BOMOnly", in: "\uFEFF", wantEnd: 0},
		{name: "BlankLinesSkipped", in: hdr + l1 + "\n\r\n" + histLine(3, csvio.Updated), wantEnd: -1, wantRows: 2, wantDone: []int{1, 3}},
		// A quote open at the end is a torn record, also after a newline.
		{name: "TornQuotedCRLF", in: hdr + l1 + strings.ReplaceAll(ml[:nl+1], "\n", "\r\n"), wantEnd: int64(len(hdr + l1)), wantRows: 1, wantDone: []int{1}},
		{name: "TornQuotedAfterEmptyLine", in: hdr + l1 + ml[:nl+1] + "\n", wantEnd: int64(len(hdr + l1)), wantRows: 1, wantDone: []int{1}},
	}
	for _, tt := range tests {
		for _, rd := range histReaders {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				t.Parallel()
				h, end, err := csvio.ReadHistory(rd.wrap(strings.NewReader(tt.in)), testKeys)
				if err != nil {
					t.Fatalf("ReadHistory(%q) error: %v", tt.in, err)
				}
				wantEnd := tt.wantEnd
				if wantEnd < 0 {
					wantEnd = int64(len(tt.in))
				}
				if end != wantEnd {
					t.Errorf("ReadHistory(%q) end = %d, want %d", tt.in, end, wantEnd)
				}
				if got := h.Rows(); got != tt.wantRows {
					t.Errorf("Rows() = %d, want %d", got, tt.wantRows)
				}
				if diff := cmp.Diff(tt.wantDone, histDone(h, 200)); diff != "" {
					t.Errorf("updated rows mismatch (-want +got):\n%s", diff)
				}
				if got := h.DoneRows(); got != len(tt.wantDone) {
					t.Errorf("DoneRows() = %d, want %d", got, len(tt.wantDone))
				}
			})
		}
	}
}

// TestReadHistoryNotResults checks inputs that are not results files, or
// are corrupted in the middle: the error wraps ErrNotResults and names the
// line.
func TestReadHistoryNotResults(t *testing.T) {
	t.Parallel()
	hdr := histHeader + "\n"
	l1 := histLine(1, csvio.Updated)
	other := histResult(1, csvio.Updated)
	other.Keys[1] = "11111111-2222-4333-8444-555555555555"
	if h, _, err := csvio.ReadHistory(strings.NewReader(hdr+l1), testKeys); err != nil || h.Match(1, other.Keys) {
		t.Fatalf("test keys share a fingerprint (%v): pick others", err)
	}
	tests := []struct {
		name     string
		in       string
		wantText string // in the message
	}{
		{name: "InputFile", in: "parentId,id,status\npol,dev,active\n", wantText: "first line"},
		{name: "WrongHeaderNoNewline", in: "parentId,id", wantText: "first line"},
		{name: "OtherKeys", in: strings.Join(csvio.ResultHeader([]string{"id"}), ",") + "\n", wantText: "first line"},
		{name: "HeaderExtraColumn", in: histHeader + ",extra\n" + l1, wantText: "first line"},
		{name: "HeaderOtherCase", in: strings.ToUpper(histHeader) + "\n", wantText: "first line"},
		{name: "HeaderAfterBlankLine", in: "\n" + hdr, wantText: "first line"},
		{name: "HeaderLongerThanBuffer", in: strings.Repeat("x", 2<<20) + "\n", wantText: "first line"},
		{name: "BadRowNumber", in: hdr + l1 + "x,pol,dev,updated,204,,,1,,,\n", wantText: "line 3"},
		{name: "RowZero", in: hdr + l1 + "0,pol,dev,updated,204,,,1,,,\n", wantText: "line 3"},
		{name: "NegativeRow", in: hdr + l1 + "-4,pol,dev,updated,204,,,1,,,\n", wantText: "line 3"},
		{name: "RowWithSpace", in: hdr + l1 + " 4,pol,dev,updated,204,,,1,,,\n", wantText: "line 3"},
		{name: "RowAboveLimit", in: hdr + l1 + "2147483649,pol,dev,updated,204,,,1,,,\n", wantText: "line 3"},
		{name: "RowOverflowsInt", in: hdr + l1 + "99999999999999999999,pol,dev,updated,204,,,1,,,\n", wantText: "line 3"},
		{name: "UnknownOutcome", in: hdr + l1 + "2,pol,dev,done,204,,,1,,,\n", wantText: "line 3"},
		{name: "OutcomeOtherCase", in: hdr + l1 + "2,pol,dev,Updated,204,,,1,,,\n", wantText: "line 3"},
		{name: "EmptyOutcome", in: hdr + l1 + "2,pol,dev,,204,,,1,,,\n", wantText: "line 3"},
		{name: "QuotedUnknownOutcome", in: hdr + l1 + "2,\"p,ol\",dev,done,204,,,1,,,\n", wantText: "line 3"},
		{name: "SameRowTwoKeys", in: hdr + l1 + histLines(other), wantText: "line 3"},
		{name: "GarbageThenValid", in: hdr + l1 + "2,pol,dev,done,204,,,1,,,\n" + histLine(3, csvio.Updated), wantText: "line 3"},
		{name: "SameRowDoneWithTwoKeysUnchanged", in: hdr + l1 + strings.Replace(histLines(other), "updated", "unchanged", 1), wantText: "line 3"},
		// Field counts: every line of a results file has 11 fields.
		{name: "TooFewFields", in: hdr + l1 + "2,pol,dev\n", wantText: "line 3"},
		{name: "FourFields", in: hdr + l1 + "2,pol,dev,updated\n", wantText: "line 3"},
		{name: "TenFields", in: hdr + l1 + "2,pol,dev,updated,204,,,1,,\n", wantText: "line 3"},
		{name: "TwelveFields", in: hdr + l1 + "2,pol,dev,updated,204,,,1,,,,\n", wantText: "line 3"},
		{name: "QuotedTenFields", in: hdr + l1 + "2,\"p,ol\",dev,updated,204,,,1,,\n", wantText: "line 3"},
		{name: "BadQuoting", in: hdr + l1 + "2,\"pol\"x,dev,updated,204,,,1,,,\n", wantText: "line 3"},
		{name: "BadQuotingCRLF", in: hdr + l1 + "2,\"pol\"x,dev,updated,204,,,1,,,\r\n", wantText: "line 3"},
		{name: "BadQuotingInTheMiddle", in: hdr + l1 + "2,\"pol\"x,dev,updated,204,,,1,,,\n" + histLine(3, csvio.Updated), wantText: "line 3"},
		{name: "BareQuote", in: hdr + l1 + "2,p\"ol,dev,updated,204,,,1,,,\n", wantText: "line 3"},
		{name: "QuoteOpenForMoreThan4MiB", in: hdr + l1 + "2,\"pol,dev,updated,204,,,1,,,\n" + strings.Repeat(histLine(3, csvio.Updated), 30_000), wantText: "line 3"},
		{name: "QuoteOpenForMoreThan16MiB", in: hdr + l1 + "2,\"pol,dev,updated,204,,,1,,,\n" + strings.Repeat(histLine(3, csvio.Updated), 120_000), wantText: "byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, end, err := csvio.ReadHistory(strings.NewReader(tt.in), testKeys)
			if !errors.Is(err, csvio.ErrNotResults) {
				t.Fatalf("ReadHistory(%.200q) = %v, %d, %v; want an error wrapping ErrNotResults", tt.in, h, end, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("ReadHistory(%.200q) error %q does not contain %q", tt.in, err, tt.wantText)
			}
			if h != nil || end != 0 {
				t.Errorf("ReadHistory(%.200q) = %v, %d with an error; want nil, 0", tt.in, h, end)
			}
		})
	}
}

// TestReadHistoryErrorLineAfterMultiLineRecord checks that the line an error
// names is the line of the file, which an editor shows, also after records
// that span several lines.
func TestReadHistoryErrorLineAfterMultiLineRecord(t *testing.T) {
	t.Parallel()
	// Lines: 1 header, 2-4 row 1 (two newlines in its errorMessage), 5 garbage.
	in := histHeader + "\n" + histLines(histMultiLine(1)) + "2,pol,dev,done,204,,,1,,,\n"
	_, _, err := csvio.ReadHistory(strings.NewReader(in), testKeys)
	if !errors.Is(err, csvio.ErrNotResults) {
		t.Fatalf("ReadHistory(%q) error = %v, want one wrapping ErrNotResults", in, err)
	}
	if !strings.Contains(err.Error(), "line 5") {
		t.Errorf("ReadHistory(%q) error = %q, want it to name line 5", in, err)
	}
}

// TestReadHistoryRowLimit checks that a corrupted, huge row number is an
// error and not an allocation of gigabytes.
func TestReadHistoryRowLimit(t *testing.T) {
	t.Parallel()
	for _, row := range []string{"2147483649", "4294967296", "9223372036854775807"} {
		in := histHeader + "\n" + row + ",pol,dev,updated,204,,,1,,,\n"
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := csvio.ReadHistory(strings.NewReader(in), testKeys)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, csvio.ErrNotResults) {
			t.Errorf("ReadHistory(row %s) error = %v, want one wrapping ErrNotResults", row, err)
		}
		// Parallel tests allocate too, but nowhere near this.
		if n := after.TotalAlloc - before.TotalAlloc; n > 256<<20 {
			t.Errorf("ReadHistory(row %s) allocated %d bytes", row, n)
		}
	}
}

// TestReadHistoryQuotedFields checks records written by Writer whose keys
// and message need quotes: commas, doubled quotes, newlines, leading
// spaces.
func TestReadHistoryQuotedFields(t *testing.T) {
	t.Parallel()
	rs := []csvio.Result{
		{Row: 1, Keys: keys(`pol,"A"`, "dev\nwith a newline, and a comma"), Outcome: csvio.Failed, HTTPStatus: 400,
			ErrorMessage: "he said \"no\", then\nleft\r\nagain", Attempts: 2},
		{Row: 2, Keys: keys(histParent, " leading space"), Outcome: csvio.Updated, HTTPStatus: 204, Attempts: 1},
		{Row: 3, Keys: keys(`\.`, `""`), Outcome: csvio.Updated, ErrorCode: "a,b", Attempts: 1},
		{Row: 4, Keys: keys("\"\n\"", ","), Outcome: csvio.Invalid, ErrorMessage: ",,,\n\n\n\"\"\""},
		{Row: 5, Keys: keys(histParent, histDevice(5)), Outcome: csvio.Unchanged, RequestID: `"r"`, ClientRequestID: "c\nd"},
		{Row: 6, Keys: keys("\r\n", "a\r\nb"), Outcome: csvio.Failed},
	}
	var buf bytes.Buffer
	w := csvio.NewWriter(&buf, testKeys)
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		if err := w.Write(&rs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	in := buf.String()

	// The file is what encoding/csv expects, else the test proves nothing.
	recs, err := csv.NewReader(strings.NewReader(in)).ReadAll()
	if err != nil || len(recs) != len(rs)+1 {
		t.Fatalf("encoding/csv read %d records, %v; want %d", len(recs), err, len(rs)+1)
	}

	for _, rd := range histReaders {
		t.Run(rd.name, func(t *testing.T) {
			t.Parallel()
			h, end, err := csvio.ReadHistory(rd.wrap(strings.NewReader(in)), testKeys)
			if err != nil {
				t.Fatalf("ReadHistory(%q) error: %v", in, err)
			}
			if end != int64(len(in)) {
				t.Errorf("ReadHistory end = %d, want %d", end, len(in))
			}
			if got := h.Rows(); got != len(rs) {
				t.Errorf("Rows() = %d, want %d", got, len(rs))
			}
			if diff := cmp.Diff([]int{2, 3, 5}, histDone(h, 200)); diff != "" {
				t.Errorf("updated rows mismatch (-want +got):\n%s", diff)
			}
			for _, r := range rs {
				if !h.Match(r.Row, r.Keys) {
					t.Errorf("Match(%d, %q) = false, want true", r.Row, r.Keys)
				}
			}
		})
	}

	// Every cut inside the quoted records is a torn line: end stays at the
	// last whole line.
	lineEnds := []int{len(histHeader) + 1}
	for i := range rs {
		lineEnds = append(lineEnds, lineEnds[len(lineEnds)-1]+len(histLines(rs[i])))
	}
	for cut := lineEnds[0]; cut < len(in); cut++ {
		want := int64(0)
		for _, e := range lineEnds {
			if e <= cut {
				want = int64(e)
			}
		}
		_, end, err := csvio.ReadHistory(strings.NewReader(in[:cut]), testKeys)
		if err != nil || end != want {
			t.Errorf("ReadHistory(%q) = _, %d, %v; want end %d, nil", in[:cut], end, err, want)
		}
	}
}

// TestReadHistoryLongLines checks lines longer than ReadHistory's 1 MiB
// buffer, plain and quoted, whole and torn, and lines right at its size.
func TestReadHistoryLongLines(t *testing.T) {
	t.Parallel()
	big := func(row int, msg string) string {
		r := histResult(row, csvio.Failed)
		r.ErrorMessage = msg
		return histLines(r)
	}
	plain := big(1, strings.Repeat("x", 3<<20))                                // no quotes: bufio.ErrBufferFull
	quoted := big(3, strings.Repeat(strings.Repeat(`a, "b" `, 1<<16)+"\n", 6)) // quotes, commas, a few newlines
	prefix := len(big(0, ""))                                                  // a line with an empty message
	atSize := []string{                                                        // lines of 1 MiB - 1, 1 MiB and 1 MiB + 1
		big(6, strings.Repeat("y", 1<<20-prefix-1)),
		big(7, strings.Repeat("y", 1<<20-prefix)),
		big(8, strings.Repeat("y", 1<<20-prefix+1)),
	}
	if n := len(atSize[1]); n != 1<<20 {
		t.Fatalf("line is %d bytes, want %d", n, 1<<20)
	}
	whole := histHeader + "\n" + plain + histLine(2, csvio.Updated) + quoted + histLine(4, csvio.Updated) + strings.Join(atSize, "") + histLine(9, csvio.Updated)
	tests := []struct {
		name    string
		in      string
		wantEnd int
	}{
		{"Whole", whole, len(whole)},
		{"TornPlain", whole + big(10, strings.Repeat("z", 3<<20))[:2<<20], len(whole)},
		{"TornQuoted", whole + big(10, strings.Repeat(strings.Repeat("z,", 1<<16)+"\n", 30))[:2<<20], len(whole)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, end, err := csvio.ReadHistory(strings.NewReader(tt.in), testKeys)
			if err != nil {
				t.Fatalf("ReadHistory error: %v", err)
			}
			if end != int64(tt.wantEnd) {
				t.Errorf("ReadHistory end = %d, want %d", end, tt.wantEnd)
			}
			if got := h.Rows(); got != 8 { // rows 1-4 and 6-9
				t.Errorf("Rows() = %d, want 8", got)
			}
			if diff := cmp.Diff([]int{2, 4, 9}, histDone(h, 200)); diff != "" {
				t.Errorf("updated rows mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadHistoryManyLinesInOneRecord checks that a quoted record of many
// lines is read in time linear in its size. A message of 500,000 short
// lines (1 MB) takes about 20 ms (200 ms with -race) when each line is
// scanned once, and seconds if the quotes of the whole record are counted
// again after each line.
func TestReadHistoryManyLinesInOneRecord(t *testing.T) {
	t.Parallel()
	r := histResult(1, csvio.Failed)
	r.ErrorMessage = strings.Repeat("a\n", 500_000)
	in := histHeader + "\n" + histLines(r) + histLine(2, csvio.Updated)
	const budget = 2 * time.Second // 10 times what it takes with -race
	type result struct {
		h   *csvio.History
		end int64
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		h, end, err := csvio.ReadHistory(strings.NewReader(in), testKeys)
		done <- result{h, end, err}
	}()
	select {
	case got := <-done:
		if got.err != nil || got.end != int64(len(in)) || got.h.Rows() != 2 {
			t.Errorf("ReadHistory = %v, %d, %v; want 2 rows, %d, nil", got.h, got.end, got.err, len(in))
		}
		t.Logf("read a record of 500,000 lines in %v", time.Since(start))
	case <-time.After(budget):
		t.Errorf("ReadHistory of a record of 500,000 lines (%d bytes) takes more than %v", len(in), budget)
	}
}

// errAfterReader returns its data, then err.
type errAfterReader struct {
	data string
	err  error
}

func (r *errAfterReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestReadHistoryIOError checks that a failing read is reported as itself,
// not as a file that is not a results file.
func TestReadHistoryIOError(t *testing.T) {
	t.Parallel()
	errDisk := errors.New("input/output error")
	tests := []struct {
		name string
		data string
	}{
		{"BeforeHeader", ""},
		{"InHeader", histHeader[:10]},
		{"AfterHeader", histHeader + "\n"},
		{"InRow", histHeader + "\n" + histLine(1, csvio.Updated) + "2,pol"},
		{"InQuotedRow", histHeader + "\n" + histLine(1, csvio.Updated) + "2,\"pol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, end, err := csvio.ReadHistory(&errAfterReader{tt.data, errDisk}, testKeys)
			if !errors.Is(err, errDisk) || errors.Is(err, csvio.ErrNotResults) {
				t.Errorf("ReadHistory(%q then an error) = %v, %d, %v; want an error wrapping %q and not ErrNotResults",
					tt.data, h, end, err, errDisk)
			}
		})
	}
}

func TestHistoryEmpty(t *testing.T) {
	t.Parallel()
	for _, h := range []*csvio.History{csvio.NewHistory(), {}} {
		for _, row := range []int{0, 1, 63, 64, 1 << 40} {
			if h.Done(row) {
				t.Errorf("empty History: Updated(%d) = true, want false", row)
			}
			if !h.Match(row, keys(histParent, histDevice(row))) {
				t.Errorf("empty History: Match(%d, …) = false, want true", row)
			}
		}
		if h.Rows() != 0 || h.DoneRows() != 0 {
			t.Errorf("empty History: Rows, UpdatedRows = %d, %d; want 0, 0", h.Rows(), h.DoneRows())
		}
	}
}

// histRead returns the History of a results file holding lines.
func histRead(t *testing.T, lines string) *csvio.History {
	t.Helper()
	h, _, err := csvio.ReadHistory(strings.NewReader(histHeader+"\n"+lines), testKeys)
	if err != nil {
		t.Fatalf("ReadHistory: %v", err)
	}
	return h
}

// histRetained returns how many heap bytes build's result holds, by the
// heap's size before and after. It must not run in parallel with other
// tests.
func histRetained(build func() *csvio.History) (*csvio.History, int64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(h)
	return h, int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// TestHistorySparse records row 5,000,000 before row 1 and checks the
// answers and the memory: at most about 1.1 bytes per row up to the
// largest, whatever the order. It does not run in parallel, to measure the
// heap.
func TestHistorySparse(t *testing.T) {
	const last = 5_000_000
	lines := histLine(last, csvio.Updated) + histLine(1, csvio.Failed) + histLine(1, csvio.Updated) + histLine(4096, csvio.Failed)
	h, size := histRetained(func() *csvio.History { return histRead(t, lines) })

	if got, want := histDone(h, 5000), []int{1}; !cmp.Equal(got, want) {
		t.Errorf("updated rows up to 5000 = %v, want %v", got, want)
	}
	if !h.Done(last) {
		t.Errorf("Updated(%d) = false, want true", last)
	}
	if h.Rows() != 3 || h.DoneRows() != 2 {
		t.Errorf("Rows, UpdatedRows = %d, %d; want 3, 2", h.Rows(), h.DoneRows())
	}
	for _, row := range []int{1, 4096, last} {
		if !h.Match(row, keys(histParent, histDevice(row))) {
			t.Errorf("Match(%d, its keys) = false, want true", row)
		}
	}
	for _, row := range []int{0, 2, 4095, 4097, 1 << 16, last - 1, last + 1, 1 << 40} {
		if !h.Match(row, keys("any", "thing")) || h.Done(row) {
			t.Errorf("row %d, never recorded: Match = %v, Done = %v; want true, false", row, h.Match(row, keys("any", "thing")), h.Done(row))
		}
	}
	t.Logf("History of rows 1, 4096 and %d holds %d bytes", last, size)
	if limit := int64(1.3 * last); size > limit {
		t.Errorf("History of rows 1, 4096 and %d holds %d bytes, want at most %d", last, size, limit)
	}
}

// TestHistoryDenseMemory records every row up to n, in order, and checks
// that History holds about a byte per row, growing a quarter at a time.
// It does not run in parallel, to measure the heap.
func TestHistoryDenseMemory(t *testing.T) {
	const n = 1_100_000 // just past a power of two: a doubling slice would hold 2 bytes a row
	var b []byte
	for row := 1; row <= n; row++ {
		b = strconv.AppendInt(b, int64(row), 10)
		if row%3 == 0 {
			b = append(b, ",pol,dev,invalid,,,bad value,0,,,\n"...)
		} else {
			b = append(b, ",pol,dev,updated,204,,,1,r,c,2024-05-06T07:08:09.123Z\n"...)
		}
	}
	lines := string(b)
	b = nil
	h, size := histRetained(func() *csvio.History { return histRead(t, lines) })
	runtime.KeepAlive(lines)
	if h.Rows() != n || h.DoneRows() != n-n/3 {
		t.Errorf("Rows, UpdatedRows = %d, %d; want %d, %d", h.Rows(), h.DoneRows(), n, n-n/3)
	}
	t.Logf("History of rows 1..%d holds %d bytes (%.3f a row)", n, size, float64(size)/n)
	if limit := int64(1.3*n) + 80<<10; size > limit {
		t.Errorf("History of rows 1..%d holds %d bytes (%.2f a row), want at most %d", n, size, float64(size)/n, limit)
	}
}

// histGUID returns a random GUID in the usual form.
func histGUID(rnd *rand.Rand) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rnd.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rnd.Uint64())
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80 // version 4, RFC 4122 variant
	var g [36]byte
	hex.Encode(g[:], b[:4])
	g[8] = '-'
	hex.Encode(g[9:], b[4:6])
	g[13] = '-'
	hex.Encode(g[14:], b[6:8])
	g[18] = '-'
	hex.Encode(g[19:], b[8:10])
	g[23] = '-'
	hex.Encode(g[24:], b[10:])
	return string(g[:])
}

// TestHistoryMatchFalsePositives checks that Match lets other keys through
// about 1 time in 254, whether the first key, the second or both differ,
// and that keys differing in case only match.
func TestHistoryMatchFalsePositives(t *testing.T) {
	t.Parallel()
	const n = 100_000
	rnd := rand.New(rand.NewPCG(1, 2))
	parents, devices := make([]string, n+1), make([]string, n+1)
	rs := make([]csvio.Result, n)
	for row := 1; row <= n; row++ {
		parents[row], devices[row] = histGUID(rnd), histGUID(rnd)
		rs[row-1] = csvio.Result{Row: row, Keys: keys(parents[row], devices[row]), Outcome: csvio.Updated}
	}
	h := histRead(t, histLines(rs...))
	tests := []struct {
		name  string
		other func(row int) (string, string)
	}{
		{"OtherDevice", func(row int) (string, string) { return parents[row], histGUID(rnd) }},
		{"OtherParent", func(row int) (string, string) { return histGUID(rnd), devices[row] }},
		{"BothOther", func(row int) (string, string) { return histGUID(rnd), histGUID(rnd) }},
		{"NeighbourRow", func(row int) (string, string) { return parents[row%n+1], devices[row%n+1] }},
		{"Swapped", func(row int) (string, string) { return devices[row], parents[row] }},
		{"Joined", func(row int) (string, string) { return parents[row] + devices[row][:1], devices[row][1:] }},
	}
	for _, tt := range tests {
		matched := 0
		for row := 1; row <= n; row++ {
			if !h.Match(row, keys(parents[row], devices[row])) || !h.Match(row, keys(strings.ToUpper(parents[row]), devices[row])) {
				t.Fatalf("Match(%d, its keys) = false, want true, also in upper case", row)
			}
			if p, d := tt.other(row); h.Match(row, keys(p, d)) {
				matched++
			}
		}
		rate := float64(matched) / n
		t.Logf("%s: %d of %d wrong keys match (%.3f%%, 1/254 = %.3f%%)", tt.name, matched, n, 100*rate, 100.0/254)
		if rate >= 0.01 || rate < 0.001 {
			t.Errorf("%s: Match let %d of %d wrong keys through (%.3f%%), want about 1/254 (0.394%%)", tt.name, matched, n, 100*rate)
		}
	}
}

// BenchmarkReadHistory reads journals of a million realistic lines: GUID
// keys and request ids, millisecond times; failed rows have a quoted
// message. It reports lines/s, and the bytes a row the History holds.
func BenchmarkReadHistory(b *testing.B) {
	for _, bb := range []struct {
		name       string
		failedEach int // one row in failedEach failed; 0 for none
	}{
		{"OneIn50Failed", 50},
		{"AllUpdated", 0},
		{"AllFailed", 1},
	} {
		b.Run(bb.name, func(b *testing.B) {
			const lines = 1_000_000
			data := histJournal(lines, bb.failedEach)
			_, size := histRetained(func() *csvio.History {
				h, _, _ := csvio.ReadHistory(bytes.NewReader(data), testKeys)
				return h
			})
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				h, end, err := csvio.ReadHistory(bytes.NewReader(data), testKeys)
				if err != nil || end != int64(len(data)) || h.Rows() != lines {
					b.Fatalf("ReadHistory = %v, end %d, %v; want %d rows, %d, nil", h, end, err, lines, len(data))
				}
				n++
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(sec*1e9/float64(n*lines), "ns/line")
			b.ReportMetric(float64(n*lines)/sec, "lines/s")
			b.ReportMetric(float64(size)/lines, "B/row")
		})
	}
}

// histJournal returns a results file of n lines, one row in failedEach
// failed (none for 0).
func histJournal(n, failedEach int) []byte {
	rnd := rand.New(rand.NewPCG(3, 4))
	parent := histGUID(rnd)
	var buf bytes.Buffer
	w := csvio.NewWriter(&buf, testKeys)
	_ = w.WriteHeader()
	start := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for row := 1; row <= n; row++ {
		r := csvio.Result{
			Row: row, Keys: keys(parent, histGUID(rnd)), Outcome: csvio.Updated, HTTPStatus: 204, Attempts: 1,
			RequestID: histGUID(rnd), ClientRequestID: histGUID(rnd), FinishedAt: start.Add(time.Duration(row) * time.Millisecond),
		}
		if failedEach > 0 && row%failedEach == 0 {
			r.Outcome, r.HTTPStatus, r.ErrorCode, r.Attempts = csvio.Failed, 400, "BadRequest", 3
			r.ErrorMessage = `Invalid value for property 'status', expected one of: "active", "retired"`
		}
		_ = w.Write(&r) // a bytes.Buffer does not fail
	}
	_ = w.Flush()
	return buf.Bytes()
}

// TestHistoryOnlyDoneRowsKeepTheirKeys checks the rule of §10: a row that
// ended updated or unchanged must keep its keys (in any case); one that
// ended failed or invalid may be corrected, keys included.
func TestHistoryOnlyDoneRowsKeepTheirKeys(t *testing.T) {
	t.Parallel()
	lines := histHeader + "\n" +
		"1,p,,invalid,,,column id is empty,0,,,2026-01-01T00:00:00.000Z\n" +
		"2,p,d2,invalid,,,bad status,0,,,2026-01-01T00:00:00.000Z\n" +
		"3,p,d3,invalid,,,bad status,0,,,2026-01-01T00:00:00.000Z\n" +
		"3,p,d3,failed,404,ResourceNotFound,gone,1,,,2026-01-01T00:00:00.000Z\n" +
		"4,p,D4,updated,204,,,1,,,2026-01-01T00:00:00.000Z\n" +
		"5,p,d5,failed,400,BadRequest,bad,1,,,2026-01-01T00:00:00.000Z\n" +
		"5,p,d5,unchanged,200,,,1,,,2026-01-01T00:00:00.000Z\n" +
		"6,Ünïcödé,ΣΊΣΥΦΟΣ,updated,204,,,1,,,2026-01-01T00:00:00.000Z\n"
	h, _, err := csvio.ReadHistory(strings.NewReader(lines), testKeys)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		row  int
		keys []string
		want bool
	}{
		{1, keys("p", "d1"), true},       // invalid: corrected
		{2, keys("p", "d2-fixed"), true}, // invalid: corrected
		{3, keys("p", "other"), true},    // failed: corrected
		{3, keys("q", "d3"), true},
		{4, keys("p", "D4"), true},
		{4, keys("P", "d4"), true}, // Graph ids are compared without regard to case
		{4, keys("p", "d5"), false},
		{4, keys("pd", "4"), false},
		{5, keys("p", "d5"), true},
		{5, keys("p", "d6"), false},
		{6, keys("ünïcödé", "σίσυφος"), true},
		{6, keys("ünïcödé", "σίσυφοσ"), true}, // final sigma folds as sigma
		{6, keys("unicode", "σισυφος"), false},
		{7, keys("never", "recorded"), true},
	}
	for _, tt := range tests {
		if got := h.Match(tt.row, tt.keys); got != tt.want {
			t.Errorf("Match(%d, %q) = %v, want %v", tt.row, tt.keys, got, tt.want)
		}
	}
	for row, want := range map[int]bool{1: false, 2: false, 3: false, 4: true, 5: true, 6: true, 7: false} {
		if h.Done(row) != want {
			t.Errorf("Done(%d) = %v, want %v", row, !want, want)
		}
	}
	if h.Rows() != 6 || h.DoneRows() != 3 {
		t.Errorf("Rows, DoneRows = %d, %d; want 6, 3", h.Rows(), h.DoneRows())
	}
}

// TestHistoryMatchFoldsAsEqualFold: Match compares keys as strings.EqualFold
// does, wherever in a key a letter that folds to ASCII stands. The
// fingerprint folded ASCII letters to lower case but, from the first
// other rune on, every rune to the least of its fold, upper case for
// ASCII: "ſa" (long s) and "sa", or "\u212Aelvin" (Kelvin sign) and
// "kelvin", did not match, and --resume refused an input that matched
// its results file.
func TestHistoryMatchFoldsAsEqualFold(t *testing.T) {
	t.Parallel()
	for _, tt := range [][2]string{
		{"sa", "ſa"}, {"ſa", "SA"}, {"kelvin", "\u212Aelvin"}, {"\u212Aelvin", "KELVIN"}, {"xſ", "Xs"}, {"éa", "ÉA"},
	} {
		recorded, input := tt[0], tt[1]
		if !strings.EqualFold(recorded, input) {
			t.Fatalf("%+q and %+q are not equal without regard to case: pick others", recorded, input)
		}
		h := histRead(t, "1,p,"+recorded+",updated,204,,,1,,,2026-01-01T00:00:00.000Z\n")
		if !h.Match(1, keys("p", input)) {
			t.Errorf("row 1 recorded done for id %+q: Match(1, id %+q) = false, want true", recorded, input)
		}
	}
}
