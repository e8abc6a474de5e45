package csvio_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphbatch/graphbatch/csvio"
)

var journalHeader = histHeader + "\n"

// journalResult returns a realistic result for row. A row not updated
// has a message with quotes and commas, and an id that spans two lines
// (keys are written as given; a message's newlines are escaped).
func journalResult(row int, o csvio.Outcome) csvio.Result {
	r := csvio.Result{
		Row: row, Keys: keys("6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7", fmt.Sprintf("%08x-1a2b-4c3d-8e4f-%012x", row, row)),
		Outcome: o, HTTPStatus: 204, Attempts: 1, RequestID: fmt.Sprintf("req-%d", row),
		FinishedAt: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC).Add(time.Duration(row) * time.Second),
	}
	if o != csvio.Updated {
		r.Keys[1] += "\nsecond line"
		r.HTTPStatus, r.ErrorCode, r.Attempts = 400, "BadRequest", 3
		r.ErrorMessage = "Invalid value for \"status\", expected\none of: active, retired"
	}
	return r
}

// journalWrite writes rs to j.
func journalWrite(t *testing.T, j *csvio.Journal, rs ...csvio.Result) {
	t.Helper()
	for i := range rs {
		if err := j.Write(&rs[i]); err != nil {
			t.Fatalf("Write(row %d): %v", rs[i].Row, err)
		}
	}
}

func journalClose(t *testing.T, j *csvio.Journal) {
	t.Helper()
	if err := j.Close(); err != nil {
		t.Fatalf("Close(): %v", err)
	}
}

func journalRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// journalCheckCSV checks that the file is well formed: encoding/csv reads
// it, the header comes first and every record has 11 fields. It returns the
// last outcome of each row.
func journalCheckCSV(t *testing.T, content string) map[string]string {
	t.Helper()
	c := csv.NewReader(strings.NewReader(content))
	c.FieldsPerRecord = 11
	recs, err := c.ReadAll()
	if err != nil {
		t.Fatalf("encoding/csv cannot read the file: %v\n%s", err, content)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != histHeader {
		t.Fatalf("the file does not start with the header:\n%s", content)
	}
	last := map[string]string{}
	for _, rec := range recs[1:] {
		last[rec[0]] = rec[3]
	}
	return last
}

// journalCheckHistory checks h against the last outcomes in last.
func journalCheckHistory(t *testing.T, h *csvio.History, last map[string]string) {
	t.Helper()
	updated := 0
	for row, outcome := range last {
		n, err := strconv.Atoi(row)
		if err != nil {
			t.Fatalf("row %q: %v", row, err)
		}
		if got, want := h.Done(n), outcome == string(csvio.Updated); got != want {
			t.Errorf("Done(%d) = %v, want %v (last outcome %s)", n, got, want, outcome)
		}
		if outcome == string(csvio.Updated) {
			updated++
		}
	}
	if h.Rows() != len(last) || h.DoneRows() != updated {
		t.Errorf("Rows, UpdatedRows = %d, %d; want %d, %d", h.Rows(), h.DoneRows(), len(last), updated)
	}
}

func TestResumeJournalMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "results.csv")
	j, h, err := csvio.ResumeJournal(path, testKeys)
	if err != nil {
		t.Fatalf("ResumeJournal(%s): %v", path, err)
	}
	if h.Rows() != 0 || h.DoneRows() != 0 || h.Done(1) || !h.Match(1, keys("p", "d")) {
		t.Errorf("ResumeJournal(missing file) History is not empty: Rows %d, UpdatedRows %d", h.Rows(), h.DoneRows())
	}
	journalClose(t, j)
	if got := journalRead(t, path); got != journalHeader {
		t.Errorf("after ResumeJournal(missing file) and Close, the file holds %q, want %q", got, journalHeader)
	}
}

func TestResumeJournalMissingDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "no", "such", "results.csv")
	j, _, err := csvio.ResumeJournal(path, testKeys)
	if err == nil {
		j.Close()
		t.Fatalf("ResumeJournal(%s) = nil error, want one", path)
	}
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("ResumeJournal(%s) error = %v, want one wrapping os.ErrNotExist that names the file", path, err)
	}
}

// TestResumeJournal starts from files left by a crash, appends two results
// and checks the bytes of the file and its History.
func TestResumeJournal(t *testing.T) {
	t.Parallel()
	l1 := histLines(journalResult(1, csvio.Updated))
	l2 := histLines(journalResult(2, csvio.Failed)) // two lines
	l3 := histLines(journalResult(3, csvio.Updated))
	l2again := histLines(journalResult(2, csvio.Updated))
	tests := []struct {
		name        string
		whole       string // the lines the file keeps
		torn        string // what the crash left after them
		wantUpdated []int
		wantRows    int
	}{
		{name: "Empty"},
		{name: "HeaderOnly", whole: journalHeader},
		{name: "TornHeader", torn: histHeader[:17]},
		{name: "TornHeaderNewlineMissing", torn: histHeader},
		{name: "Whole", whole: journalHeader + l1 + l2 + l3, wantUpdated: []int{1, 3}, wantRows: 3},
		{name: "TornSimpleLine", whole: journalHeader + l1 + l2, torn: l3[:20], wantUpdated: []int{1}, wantRows: 2},
		{name: "TornNewlineMissing", whole: journalHeader + l1 + l2, torn: l3[:len(l3)-1], wantUpdated: []int{1}, wantRows: 2},
		{name: "TornQuotedOpenQuote", whole: journalHeader + l1, torn: l2[:strings.Index(l2, "\n")+1], wantUpdated: []int{1}, wantRows: 1},
		{name: "TornQuotedAfterQuote", whole: journalHeader + l1, torn: l2[:strings.Index(l2, `"`)+1], wantUpdated: []int{1}, wantRows: 1},
		{name: "TornRetry", whole: journalHeader + l1 + l2, torn: l2again[:30], wantUpdated: []int{1}, wantRows: 2},
		{name: "RetryWhole", whole: journalHeader + l1 + l2 + l2again, wantUpdated: []int{1, 2}, wantRows: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "results.csv")
			if err := os.WriteFile(path, []byte(tt.whole+tt.torn), 0o644); err != nil {
				t.Fatal(err)
			}
			j, h, err := csvio.ResumeJournal(path, testKeys)
			if err != nil {
				t.Fatalf("ResumeJournal(%q): %v", tt.whole+tt.torn, err)
			}
			var updated []int
			for row := range 10 {
				if h.Done(row) {
					updated = append(updated, row)
				}
			}
			if diff := cmp.Diff(tt.wantUpdated, updated); diff != "" || h.Rows() != tt.wantRows {
				t.Errorf("ResumeJournal(%q): Rows() = %d, want %d; updated rows (-want +got):\n%s", tt.whole+tt.torn, h.Rows(), tt.wantRows, diff)
			}
			more := []csvio.Result{journalResult(4, csvio.Updated), journalResult(5, csvio.Failed)}
			journalWrite(t, j, more...)
			journalClose(t, j)

			want := tt.whole
			if want == "" {
				want = journalHeader
			}
			want += histLines(more...)
			got := journalRead(t, path)
			if got != want {
				t.Errorf("after ResumeJournal(%q), two writes and Close the file holds\n%q\nwant\n%q", tt.whole+tt.torn, got, want)
			}
			journalCheckCSV(t, got)
			if _, end, err := csvio.ReadHistory(strings.NewReader(got), testKeys); err != nil || end != int64(len(got)) {
				t.Errorf("ReadHistory(resumed file) = _, %d, %v; want %d, nil", end, err, len(got))
			}
		})
	}
}

// TestResumeJournalNotResults checks that a file that is not a results
// file, or is corrupted, is an error and is left as it was.
func TestResumeJournalNotResults(t *testing.T) {
	t.Parallel()
	l1 := histLines(journalResult(1, csvio.Updated))
	other := journalResult(1, csvio.Updated)
	other.Keys = keys(other.Keys[0], "ffffffff-0000-4000-8000-000000000000")
	tests := []struct {
		name    string
		content string
	}{
		{"InputFile", "parentId,id,status\n6f1c2a3b,dev-1,active\n"},
		{"InputFileNoNewline", "parentId,id,status"},
		{"HeaderOtherColumns", "row,parentId,id,outcome\n1,p,d,updated\n"},
		{"HeaderOtherKeys", "row,id,outcome,httpStatus,errorCode,errorMessage,attempts,requestId,clientRequestId,finishedAt\n"},
		{"UnknownOutcome", journalHeader + l1 + "2,p,d,done,204,,,1,,,\n"},
		{"UnknownOutcomeThenTorn", journalHeader + l1 + "2,p,d,done,204,,,1,,,\n3,p,d,upd"},
		{"RowAboveLimit", journalHeader + l1 + "4294967296,p,d,updated,204,,,1,,,\n"},
		{"SameRowOtherKeys", journalHeader + l1 + histLines(other)},
		{"Binary", "\x00\x01\x02PK\x03\x04"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "results.csv")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			j, h, err := csvio.ResumeJournal(path, testKeys)
			if !errors.Is(err, csvio.ErrNotResults) {
				if j != nil {
					j.Close()
				}
				t.Fatalf("ResumeJournal(%q) = _, %v, %v; want an error wrapping ErrNotResults", tt.content, h, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("ResumeJournal error %q does not name the file %s", err, path)
			}
			if j != nil || h != nil {
				t.Errorf("ResumeJournal(%q) = %v, %v with an error; want nil, nil", tt.content, j, h)
			}
			if got := journalRead(t, path); got != tt.content {
				t.Errorf("ResumeJournal(%q) changed the file to %q", tt.content, got)
			}
		})
	}
}

// TestResumeJournalTwice runs, crashes, resumes, crashes in the middle of
// a multi-line record, resumes again, and checks the file and History
// after each resume.
func TestResumeJournalTwice(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "results.csv")
	crash := func(torn string) {
		t.Helper()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(torn); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	resume := func() (*csvio.Journal, *csvio.History) {
		t.Helper()
		before := journalRead(t, path)
		j, h, err := csvio.ResumeJournal(path, testKeys)
		if err != nil {
			t.Fatalf("ResumeJournal(%q): %v", before, err)
		}
		return j, h
	}

	// Run 1: rows 1-6, row 3 retried, then a crash in row 7.
	j, err := csvio.CreateJournal(path, testKeys)
	if err != nil {
		t.Fatal(err)
	}
	for row := 1; row <= 6; row++ {
		o := csvio.Updated
		if row%3 == 0 {
			o = csvio.Failed
		}
		journalWrite(t, j, journalResult(row, o))
	}
	journalWrite(t, j, journalResult(3, csvio.Updated), journalResult(4, csvio.Failed))
	journalClose(t, j)
	crash(histLines(journalResult(7, csvio.Updated))[:40])

	// Run 2: the failed rows again; row 6 fails again; a crash inside the
	// quotes of row 8's two-line message.
	j, h := resume()
	journalCheckHistory(t, h, map[string]string{"1": "updated", "2": "updated", "3": "updated", "4": "failed", "5": "updated", "6": "failed"})
	journalWrite(t, j, journalResult(4, csvio.Updated), journalResult(6, csvio.Failed), journalResult(7, csvio.Invalid))
	journalClose(t, j)
	l8 := histLines(journalResult(8, csvio.Failed))
	crash(l8[:strings.Index(l8, "\n")+1])

	// Run 3.
	j, h = resume()
	journalCheckHistory(t, h, map[string]string{"1": "updated", "2": "updated", "3": "updated", "4": "updated", "5": "updated", "6": "failed", "7": "invalid"})
	journalWrite(t, j, journalResult(6, csvio.Updated), journalResult(8, csvio.Updated))
	if err := j.Flush(); err != nil {
		t.Fatalf("Flush(): %v", err)
	}
	journalClose(t, j)

	content := journalRead(t, path)
	last := journalCheckCSV(t, content)
	want := map[string]string{"1": "updated", "2": "updated", "3": "updated", "4": "updated", "5": "updated", "6": "updated", "7": "invalid", "8": "updated"}
	if diff := cmp.Diff(want, last); diff != "" {
		t.Errorf("last outcomes in the file (-want +got):\n%s", diff)
	}
	h, end, err := csvio.ReadHistory(strings.NewReader(content), testKeys)
	if err != nil || end != int64(len(content)) {
		t.Fatalf("ReadHistory(final file) = _, %d, %v; want %d, nil", end, err, len(content))
	}
	journalCheckHistory(t, h, want)
	if n := strings.Count(content, histHeader); n != 1 {
		t.Errorf("the file holds the header %d times, want once:\n%s", n, content)
	}
}

func TestCreateJournal(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "results.csv")
	old := journalHeader + histLines(journalResult(1, csvio.Updated), journalResult(2, csvio.Updated), journalResult(3, csvio.Failed))
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	j, err := csvio.CreateJournal(path, testKeys)
	if err != nil {
		t.Fatalf("CreateJournal(%s): %v", path, err)
	}
	r := journalResult(9, csvio.Failed)
	journalWrite(t, j, r)
	journalClose(t, j)
	if got, want := journalRead(t, path), journalHeader+histLines(r); got != want {
		t.Errorf("CreateJournal over an old file, Write and Close: the file holds %q, want %q", got, want)
	}
}

func TestCreateJournalError(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "no-such-dir", "results.csv")
	j, err := csvio.CreateJournal(path, testKeys)
	if err == nil {
		j.Close()
		t.Fatalf("CreateJournal(%s) = nil error, want one", path)
	}
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("CreateJournal(%s) error = %v, want one wrapping os.ErrNotExist that names the file", path, err)
	}
}

// TestJournalFlush checks that every Flush hands the recorded lines to the
// operating system, whether or not it is time to force them to the disk,
// on a fake clock so that the seconds between syncs pass at once.
func TestJournalFlush(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(dir, "results.csv")
		j, err := csvio.CreateJournal(path, testKeys)
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Flush(); err != nil {
			t.Fatalf("Flush() with nothing recorded: %v", err)
		}
		if got := journalRead(t, path); got != journalHeader {
			t.Errorf("after CreateJournal and Flush the file holds %q, want the header", got)
		}
		want := journalHeader
		for row := 1; row <= 12; row++ {
			r := journalResult(row, csvio.Updated)
			journalWrite(t, j, r)
			want += histLines(r)
			if err := j.Flush(); err != nil {
				t.Fatalf("Flush() after row %d: %v", row, err)
			}
			if got := journalRead(t, path); got != want {
				t.Fatalf("after Flush of row %d the file holds %q, want %q", row, got, want)
			}
			time.Sleep(300 * time.Millisecond) // a sync is due every fourth Flush
		}
		if err := j.Flush(); err != nil { // nothing new: no sync due
			t.Fatalf("Flush() with nothing new: %v", err)
		}
		journalClose(t, j)
		if got := journalRead(t, path); got != want {
			t.Errorf("after Close the file holds %q, want %q", got, want)
		}
	})
}

// TestJournalManyLines writes more than the Writer buffers, so that Write
// itself passes lines on, and checks them after Close.
func TestJournalManyLines(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "results.csv")
	j, err := csvio.CreateJournal(path, testKeys)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	want.WriteString(journalHeader)
	for row := 1; row <= 5000; row++ {
		r := journalResult(row, []csvio.Outcome{csvio.Updated, csvio.Failed, csvio.Invalid}[row%3])
		journalWrite(t, j, r)
		want.WriteString(histLines(r))
		if row%1000 == 0 {
			if err := j.Flush(); err != nil {
				t.Fatalf("Flush(): %v", err)
			}
		}
	}
	journalClose(t, j)
	got := journalRead(t, path)
	if got != want.String() {
		t.Fatalf("the file holds %d bytes, want %d", len(got), want.Len())
	}
	h, end, err := csvio.ReadHistory(strings.NewReader(got), testKeys)
	if err != nil || end != int64(len(got)) || h.Rows() != 5000 || h.DoneRows() != 5000/3 {
		t.Errorf("ReadHistory = %d rows, %d updated, end %d, %v; want 5000, %d, %d, nil", h.Rows(), h.DoneRows(), end, err, 5000/3, len(got))
	}
}

// TestJournalDevFull checks that a full disk is reported by Flush, Write and
// Close, with the file's name and syscall.ENOSPC.
func TestJournalDevFull(t *testing.T) {
	t.Parallel()
	const path = "/dev/full"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no %s: %v", path, err)
	}
	open := func(t *testing.T) *csvio.Journal {
		j, err := csvio.CreateJournal(path, testKeys)
		if err != nil {
			t.Skipf("CreateJournal(%s): %v", path, err)
		}
		return j
	}
	check := func(t *testing.T, call string, err error) {
		t.Helper()
		if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s on %s = %v, want an error naming the file and wrapping ENOSPC", call, path, err)
		}
	}
	t.Run("Flush", func(t *testing.T) {
		t.Parallel()
		j := open(t)
		r := journalResult(1, csvio.Updated)
		if err := j.Write(&r); err != nil {
			t.Fatalf("Write() = %v, want it buffered", err)
		}
		check(t, "Flush()", j.Flush())
		check(t, "Write() after a failed Flush", j.Write(&r))
		check(t, "Close()", j.Close())
	})
	t.Run("Write", func(t *testing.T) {
		t.Parallel()
		j := open(t)
		var err error
		for row := 1; err == nil && row <= 10_000; row++ {
			r := journalResult(row, csvio.Failed)
			err = j.Write(&r)
		}
		check(t, "Write() of 10,000 lines", err)
		check(t, "Close()", j.Close())
	})
	t.Run("Close", func(t *testing.T) {
		t.Parallel()
		j := open(t)
		check(t, "Close() with the header buffered", j.Close())
	})
}

// TestJournalCloseAfterFlush checks that Close after Flush leaves every
// line once.
func TestJournalCloseAfterFlush(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "results.csv")
	j, err := csvio.CreateJournal(path, testKeys)
	if err != nil {
		t.Fatal(err)
	}
	rs := []csvio.Result{journalResult(1, csvio.Updated), journalResult(2, csvio.Failed)}
	journalWrite(t, j, rs...)
	if err := j.Flush(); err != nil {
		t.Fatalf("Flush(): %v", err)
	}
	want := journalHeader + histLines(rs...)
	if got := journalRead(t, path); got != want {
		t.Errorf("after Flush the file holds %q, want %q", got, want)
	}
	journalClose(t, j)
	if got := journalRead(t, path); !bytes.Equal([]byte(got), []byte(want)) {
		t.Errorf("after Flush and Close the file holds %q, want %q", got, want)
	}
}
