package csvio_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
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

func TestOpenJournalResumeMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "results.csv")
	j, h, err := csvio.OpenJournal(path, testKeys, csvio.Resume)
	if err != nil {
		t.Fatalf("OpenJournal(%s): %v", path, err)
	}
	if h.Rows() != 0 || h.DoneRows() != 0 || h.Done(1) || !h.Match(1, keys("p", "d")) {
		t.Errorf("OpenJournal(missing file) History is not empty: Rows %d, UpdatedRows %d", h.Rows(), h.DoneRows())
	}
	journalClose(t, j)
	if got := journalRead(t, path); got != journalHeader {
		t.Errorf("after OpenJournal(missing file) and Close, the file holds %q, want %q", got, journalHeader)
	}
}

func TestOpenJournalMissingDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "no", "such", "results.csv")
	for _, mode := range journalModes {
		j, _, err := csvio.OpenJournal(path, testKeys, mode.mode)
		if err == nil {
			j.Close()
			t.Fatalf("OpenJournal(%s, %s) = nil error, want one", path, mode.name)
		}
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
			t.Errorf("OpenJournal(%s, %s) error = %v, want one wrapping os.ErrNotExist that names the file", path, mode.name, err)
		}
	}
}

// TestOpenJournalResume starts from files left by a crash, appends two results
// and checks the bytes of the file and its History.
func TestOpenJournalResume(t *testing.T) {
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
			j, h, err := csvio.OpenJournal(path, testKeys, csvio.Resume)
			if err != nil {
				t.Fatalf("OpenJournal(%q): %v", tt.whole+tt.torn, err)
			}
			var updated []int
			for row := range 10 {
				if h.Done(row) {
					updated = append(updated, row)
				}
			}
			if diff := cmp.Diff(tt.wantUpdated, updated); diff != "" || h.Rows() != tt.wantRows {
				t.Errorf("OpenJournal(%q): Rows() = %d, want %d; updated rows (-want +got):\n%s", tt.whole+tt.torn, h.Rows(), tt.wantRows, diff)
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
				t.Errorf("after OpenJournal(%q), two writes and Close the file holds\n%q\nwant\n%q", tt.whole+tt.torn, got, want)
			}
			journalCheckCSV(t, got)
			if _, end, err := csvio.ReadHistory(strings.NewReader(got), testKeys); err != nil || end != int64(len(got)) {
				t.Errorf("ReadHistory(resumed file) = _, %d, %v; want %d, nil", end, err, len(got))
			}
		})
	}
}

// TestOpenJournalResumeNotResults checks that a file that is not a results
// file, or is corrupted, is an error and is left as it was.
func TestOpenJournalResumeNotResults(t *testing.T) {
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
			j, h, err := csvio.OpenJournal(path, testKeys, csvio.Resume)
			if !errors.Is(err, csvio.ErrNotResults) {
				if j != nil {
					j.Close()
				}
				t.Fatalf("OpenJournal(%q) = _, %v, %v; want an error wrapping ErrNotResults", tt.content, h, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("OpenJournal error %q does not name the file %s", err, path)
			}
			if j != nil || h != nil {
				t.Errorf("OpenJournal(%q) = %v, %v with an error; want nil, nil", tt.content, j, h)
			}
			if got := journalRead(t, path); got != tt.content {
				t.Errorf("OpenJournal(%q) changed the file to %q", tt.content, got)
			}
		})
	}
}

// TestOpenJournalResumeTwice runs, crashes, resumes, crashes in the middle of
// a multi-line record, resumes again, and checks the file and History
// after each resume.
func TestOpenJournalResumeTwice(t *testing.T) {
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
		j, h, err := csvio.OpenJournal(path, testKeys, csvio.Resume)
		if err != nil {
			t.Fatalf("OpenJournal(%q): %v", before, err)
		}
		return j, h
	}

	// Run 1: rows 1-6, row 3 retried, then a crash in row 7.
	j, _, err := csvio.OpenJournal(path, testKeys, csvio.New)
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

// TestJournalFlush checks that every Flush hands the recorded lines to the
// operating system, whether or not it is time to force them to the disk,
// on a fake clock so that the seconds between syncs pass at once.
func TestJournalFlush(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(dir, "results.csv")
		j, _, err := csvio.OpenJournal(path, testKeys, csvio.New)
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Flush(); err != nil {
			t.Fatalf("Flush() with nothing recorded: %v", err)
		}
		if got := journalRead(t, path); got != journalHeader {
			t.Errorf("after OpenJournal and Flush the file holds %q, want the header", got)
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
	j, _, err := csvio.OpenJournal(path, testKeys, csvio.New)
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
		j, _, err := csvio.OpenJournal(path, testKeys, csvio.New)
		if err != nil { // another test process may hold its lock
			t.Skipf("OpenJournal(%s): %v", path, err)
		}
		return j
	}
	check := func(t *testing.T, call string, err error) {
		t.Helper()
		if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s on %s = %v, want an error naming the file and wrapping ENOSPC", call, path, err)
		}
	}
	// One after the other: each locks /dev/full.
	t.Run("Flush", func(t *testing.T) {
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
		j := open(t)
		check(t, "Close() with the header buffered", j.Close())
	})
}

// TestJournalCloseAfterFlush checks that Close after Flush leaves every
// line once.
func TestJournalCloseAfterFlush(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "results.csv")
	j, _, err := csvio.OpenJournal(path, testKeys, csvio.New)
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

// journalModes are OpenJournal's modes, by name.
var journalModes = []struct {
	name string
	mode csvio.JournalMode
}{
	{"new", csvio.New},
	{"overwrite", csvio.Overwrite},
	{"resume", csvio.Resume},
}

// TestOpenJournalModes opens files of every kind in every mode, writes a
// result, and checks the file.
func TestOpenJournalModes(t *testing.T) {
	t.Parallel()
	old := journalHeader + histLines(journalResult(1, csvio.Updated), journalResult(2, csvio.Failed))
	r := journalResult(9, csvio.Failed)
	line := histLines(r)
	tests := []struct {
		name    string
		content string // "" with missing: no file
		missing bool
		mode    csvio.JournalMode
		want    string // the file after a Write and Close; or as it was, after an error
		wantErr error
	}{
		{name: "NewMissing", missing: true, mode: csvio.New, want: journalHeader + line},
		{name: "NewEmpty", mode: csvio.New, want: journalHeader + line},
		{name: "NewResults", content: old, mode: csvio.New, want: old, wantErr: csvio.ErrExists},
		{name: "NewOther", content: "x", mode: csvio.New, want: "x", wantErr: csvio.ErrExists},
		{name: "OverwriteMissing", missing: true, mode: csvio.Overwrite, want: journalHeader + line},
		{name: "OverwriteEmpty", mode: csvio.Overwrite, want: journalHeader + line},
		{name: "OverwriteResults", content: old, mode: csvio.Overwrite, want: journalHeader + line},
		{name: "OverwriteOther", content: "parentId,id\np,d\n", mode: csvio.Overwrite, want: journalHeader + line},
		{name: "ResumeMissing", missing: true, mode: csvio.Resume, want: journalHeader + line},
		{name: "ResumeEmpty", mode: csvio.Resume, want: journalHeader + line},
		{name: "ResumeResults", content: old, mode: csvio.Resume, want: old + line},
		{name: "ResumeOther", content: "parentId,id\np,d\n", mode: csvio.Resume, want: "parentId,id\np,d\n", wantErr: csvio.ErrNotResults},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "results.csv")
			if !tt.missing {
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			j, h, err := csvio.OpenJournal(path, testKeys, tt.mode)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Errorf("OpenJournal = %v, want an error wrapping %v that names the file", err, tt.wantErr)
				}
				if j != nil {
					j.Close()
				}
			} else {
				if err != nil {
					t.Fatalf("OpenJournal: %v", err)
				}
				if h == nil || (tt.mode != csvio.Resume && h.Rows() != 0) {
					t.Errorf("OpenJournal History = %v, want an empty one", h)
				}
				journalWrite(t, j, r)
				journalClose(t, j)
			}
			if got := journalRead(t, path); got != tt.want {
				t.Errorf("the file holds %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOpenJournalBadMode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "results.csv")
	if _, _, err := csvio.OpenJournal(path, testKeys, csvio.JournalMode(7)); err == nil {
		t.Errorf("OpenJournal(mode 7) = nil error, want one")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenJournal(mode 7) created the file (%v)", err)
	}
}

// TestOpenJournalLocked checks that while a Journal is open, opening its
// file again fails at once in every mode, naming the file, and changes
// nothing: no truncation (Overwrite), no torn line cut off (Resume), no
// header (New).
func TestOpenJournalLocked(t *testing.T) {
	t.Parallel()
	for _, holder := range journalModes {
		t.Run(holder.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "results.csv")
			if holder.mode == csvio.Resume {
				content := journalHeader + histLines(journalResult(1, csvio.Updated))
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			j, _, err := csvio.OpenJournal(path, testKeys, holder.mode)
			if err != nil {
				t.Fatal(err)
			}
			journalWrite(t, j, journalResult(2, csvio.Updated))
			if err := j.Flush(); err != nil {
				t.Fatal(err)
			}
			// A torn line, as if the holder were in the middle of a write:
			// a Resume that got through would cut it off.
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString("3,p,d,upd"); err != nil {
				t.Fatal(err)
			}
			f.Close()
			before := journalRead(t, path)
			for _, mode := range journalModes {
				j2, h2, err := csvio.OpenJournal(path, testKeys, mode.mode)
				want := fmt.Sprintf("results file %s is in use by another graphbatch run", path)
				if !errors.Is(err, csvio.ErrLocked) || err.Error() != want || j2 != nil || h2 != nil {
					t.Errorf("OpenJournal(%s) while open = %v, %v, %v; want nil, nil, %q wrapping ErrLocked", mode.name, j2, h2, err, want)
				}
				if got := journalRead(t, path); got != before {
					t.Errorf("OpenJournal(%s) while open changed the file from %q to %q", mode.name, before, got)
				}
			}
			journalClose(t, j)
			j, _, err = csvio.OpenJournal(path, testKeys, csvio.Resume)
			if err != nil {
				t.Fatalf("OpenJournal after Close: %v", err)
			}
			journalClose(t, j)
		})
	}
}

// The test binary runs as a second graphbatch when this variable names
// what it does: "hold" opens the journal, says "open" and waits for its
// standard input to close; "try" opens it and exits at once, with
// childLocked if it is in use.
const journalChildEnv = "CSVIO_TEST_JOURNAL_CHILD"

const childLocked = 3

func TestMain(m *testing.M) {
	if role := os.Getenv(journalChildEnv); role != "" {
		os.Exit(journalChild(role, os.Getenv("CSVIO_TEST_JOURNAL_PATH"), os.Getenv("CSVIO_TEST_JOURNAL_MODE")))
	}
	os.Exit(m.Run())
}

func journalChild(role, path, modeName string) int {
	mode := csvio.JournalMode(-1)
	for _, m := range journalModes {
		if m.name == modeName {
			mode = m.mode
		}
	}
	j, _, err := csvio.OpenJournal(path, testKeys, mode)
	switch {
	case errors.Is(err, csvio.ErrLocked):
		fmt.Println(err)
		return childLocked
	case err != nil:
		fmt.Println(err)
		return 1
	}
	if role == "hold" {
		fmt.Println("open")
		_, _ = io.Copy(io.Discard, os.Stdin)
	}
	if err := j.Close(); err != nil {
		fmt.Println(err)
		return 1
	}
	return 0
}

// journalProcess returns the command that runs the test binary as a
// graphbatch opening path in mode.
func journalProcess(t *testing.T, role, path, mode string) *exec.Cmd {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), journalChildEnv+"="+role, "CSVIO_TEST_JOURNAL_PATH="+path, "CSVIO_TEST_JOURNAL_MODE="+mode)
	return cmd
}

// TestOpenJournalLockedAcrossProcesses runs two processes on one results
// file: while the first holds it, the second fails at once, whatever its
// mode, and the file stays byte for byte as it was.
func TestOpenJournalLockedAcrossProcesses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "results.csv")
	content := journalHeader + histLines(journalResult(1, csvio.Updated), journalResult(2, csvio.Failed))
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	holder := journalProcess(t, "hold", path, "resume")
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	defer func() { // on a failure below
		if !waited {
			stdin.Close()
			_ = holder.Wait()
		}
	}()
	said, err := bufio.NewReader(stdout).ReadString('\n')
	if said != "open\n" {
		t.Fatalf("the first process said %q, %v; want open", said, err)
	}
	before := journalRead(t, path)
	if before != content {
		t.Fatalf("the first process, resuming, changed the file to %q", before)
	}
	for _, mode := range journalModes {
		out, err := journalProcess(t, "try", path, mode.name).CombinedOutput()
		var ee *exec.ExitError
		want := fmt.Sprintf("results file %s is in use by another graphbatch run", path)
		if !errors.As(err, &ee) || ee.ExitCode() != childLocked || strings.TrimSpace(string(out)) != want {
			t.Errorf("a second process opening it (%s) = %v, %q; want exit %d, %q", mode.name, err, out, childLocked, want)
		}
		if got := journalRead(t, path); got != before {
			t.Errorf("a second process opening it (%s) changed the file from %q to %q", mode.name, before, got)
		}
	}
	if _, _, err := csvio.OpenJournal(path, testKeys, csvio.Overwrite); !errors.Is(err, csvio.ErrLocked) {
		t.Errorf("OpenJournal(overwrite) in this process = %v, want ErrLocked", err)
	}
	stdin.Close()
	waited = true
	if err := holder.Wait(); err != nil {
		t.Fatalf("the first process: %v", err)
	}
	if out, err := journalProcess(t, "try", path, "resume").CombinedOutput(); err != nil {
		t.Errorf("a process opening it after the first exited = %v, %q; want success", err, out)
	}
}

// TestOpenJournalSymlink checks that a results file is never opened
// through a symbolic link: in every mode, OpenJournal refuses it, and
// neither the target nor the link changes.
func TestOpenJournalSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "precious.csv")
	content := journalHeader + histLines(journalResult(1, csvio.Updated))
	if err := os.WriteFile(target, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "results.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	dangling := filepath.Join(dir, "dangling.csv")
	missing := filepath.Join(dir, "missing.csv")
	if err := os.Symlink(missing, dangling); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{link, dangling} {
		for _, mode := range journalModes {
			j, _, err := csvio.OpenJournal(path, testKeys, mode.mode)
			if !errors.Is(err, csvio.ErrSymlink) || !strings.Contains(err.Error(), path) {
				t.Errorf("OpenJournal(%s, %s) = %v, want an error wrapping ErrSymlink that names the file", path, mode.name, err)
			}
			if j != nil {
				j.Close()
			}
		}
	}
	if got := journalRead(t, target); got != content {
		t.Errorf("the link's target changed to %q", got)
	}
	if _, err := os.Lstat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dangling link's target was created (%v)", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is no longer a link: %v, %v", fi, err)
	}
}
