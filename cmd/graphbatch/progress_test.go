package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"
	"github.com/vbauerster/mpb/v8"

	"github.com/graphbatch/graphbatch/batch"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// terminal is a fake terminal: it records what is drawn.
type terminal struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.Write(p)
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// screen returns what was drawn, without cursor movements.
func (t *terminal) screen() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return ansi.ReplaceAllString(t.buf.String(), "")
}

// lastFrame returns the last line drawn.
func lastFrame(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestProgressBarDraws(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stats := new(batch.Stats)
		pacer := batch.NewPacer(batch.Rate{})
		prog := newProgress(stats, pacer, false)
		prog.total.Store(5000)
		term := &terminal{}
		// The fake terminal is no terminal to mpb: refresh as --progress always does.
		b := newBar(prog, term, mpb.WithAutoRefresh(), mpb.WithWidth(160))

		stats.Failed.Store(2)
		stats.Invalid.Store(2)
		for range 60 { // a minute at 20.5 rows a second
			time.Sleep(time.Second)
			stats.Updated.Add(41)
			time.Sleep(time.Second)
		}
		pacer.Throttle(14*time.Second, time.Now())
		_, _ = b.Write([]byte("a log line\n"))
		time.Sleep(300 * time.Millisecond) // the bar samples every 200ms, mpb draws every 150ms
		synctest.Wait()
		screen := lastFrame(term.screen())
		for _, want := range []string{"2464/5000 rows", "2460 updated, 2 failed, 2 invalid", "20.5 rows/s", "throttled, resuming in 14s", "49 %", "[="} {
			if !strings.Contains(screen, want) {
				t.Errorf("the bar lacks %q; it drew:\n%s", want, screen)
			}
		}
		if all := term.screen(); !strings.Contains(all, "a log line\n") || strings.LastIndex(all, "a log line") > strings.LastIndex(all, "2464/5000") {
			t.Errorf("the log line is not printed above the bar:\n%s", all)
		}

		time.Sleep(15 * time.Second) // the throttle ends
		stats.Updated.Store(4996)
		b.finish()
		screen = lastFrame(term.screen())
		if !strings.Contains(screen, "5000/5000 rows") || !strings.Contains(screen, "100 %") || strings.Contains(screen, "throttled") {
			t.Errorf("the final frame is wrong:\n%s", screen)
		}
	})
}

func TestProgressLineETA(t *testing.T) {
	v := progressView{Total: 1000, Done: 400, Updated: 400, RowsPerSecond: 5, ETA: 2 * time.Minute}
	if got, want := v.line(), "400/1000 rows · 400 updated, 0 failed, 0 invalid · 5.0 rows/s · ETA 2m0s"; got != want {
		t.Errorf("line() = %q, want %q", got, want)
	}
	v = progressView{Done: 7, Valid: 6, Invalid: 1, DryRun: true}
	if got, want := v.line(), "7 rows · 6 valid, 1 invalid · 0.0 rows/s"; got != want {
		t.Errorf("line() of a dry run with unknown total = %q, want %q", got, want)
	}
}

// TestProgressLogLine checks the structured progress line cron logs get.
func TestProgressLogLine(t *testing.T) {
	var buf bytes.Buffer
	v := progressView{Total: 1000, Done: 250, Updated: 240, Failed: 6, Invalid: 4, RowsPerSecond: 4.96, ETA: 151 * time.Second,
		ThrottledFor: 3 * time.Second, Elapsed: 50 * time.Second}
	v.log(zerolog.New(&buf))
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("progress line %q is not JSON: %v", buf.String(), err)
	}
	want := map[string]any{
		"level": "info", "message": "progress", "done": 250.0, "total": 1000.0, "percent": 25.0, "updated": 240.0,
		"failed": 6.0, "invalid": 4.0, "rowsPerSecond": 5.0, "etaSeconds": 151.0, "throttledForSeconds": 3.0, "elapsedSeconds": 50.0,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("progress line %s = %#v, want %#v", k, got[k], w)
		}
	}
}

func TestProgressLinesWhenNotATerminal(t *testing.T) {
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits, Latency: 20 * time.Millisecond})
	defer emu.Close()
	in := filepath.Join(t.TempDir(), "rows.csv")
	writeRows(t, in, 200)
	code, _, stderr := runCmd(t, "update", "device-statuses", "--in", in, "--out", filepath.Join(t.TempDir(), "r.csv"),
		"--graph-endpoint", emu.URL, "--auth", "none", "--rate", "100000/s", "--concurrency", "1", "--progress-interval", "50ms")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var lines int
	var last map[string]any
	for _, l := range strings.Split(stderr, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["message"] == "progress" {
			lines++
			if _, ok := m["done"].(float64); !ok {
				t.Errorf("progress line without a numeric done: %s", l)
			}
			// Estimated from the bytes read until every row is read, then exact.
			if total, ok := m["total"].(float64); ok && (total < m["done"].(float64) || total > 200) {
				t.Errorf("progress line total = %v, want between done and 200: %s", m["total"], l)
			}
			last = m
		}
	}
	if lines == 0 {
		t.Fatalf("no progress lines in a non-terminal run's log:\n%s", stderr)
	}
	if last["total"] != 200.0 {
		t.Errorf("last progress line total = %v, want 200", last["total"])
	}
}

func TestSummaryJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "summary.json")
	code, _, stderr := runCmd(t, "update", "device-statuses", "--in", "../../samples/with-errors.csv", "--out", filepath.Join(dir, "r.csv"),
		"--emulator", "--summary", path)
	if code != exitRowsFailed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got map[string]any
	getFile(t, path, &got)
	rows, _ := got["rows"].(map[string]any)
	checks := map[string]any{
		"status": "rowsFailed", "exitCode": 3.0, "resource": "device-statuses", "apiVersion": "v1.0", "dryRun": false,
		"envelopes": 1.0, "sends": 3.0, "retries": 0.0, "throttled": 0.0, "faults": 0.0,
	}
	for k, w := range checks {
		if got[k] != w {
			t.Errorf("summary %s = %#v, want %#v", k, got[k], w)
		}
	}
	for k, w := range map[string]float64{"read": 9, "updated": 2, "failed": 1, "invalid": 6, "valid": 0, "updatedEarlier": 0, "unfinished": 0} {
		if rows[k] != w {
			t.Errorf("summary rows.%s = %#v, want %v", k, rows[k], w)
		}
	}
	for _, k := range []string{"startedAt", "finishedAt"} {
		if _, err := time.Parse(time.RFC3339Nano, got[k].(string)); err != nil {
			t.Errorf("summary %s = %v: %v", k, got[k], err)
		}
	}
	for _, k := range []string{"durationSeconds", "rowsPerSecond"} {
		if _, ok := got[k].(float64); !ok {
			t.Errorf("summary %s = %#v, want a number", k, got[k])
		}
	}
	if !strings.Contains(stderr, "1 row failed and 6 invalid") || !strings.Contains(stderr, "--resume") {
		t.Errorf("the human summary does not say what failed and what to do:\n%s", stderr)
	}
}

func getFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestRowsSelectsASlice(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.csv")
	code, _, stderr := runCmd(t, "update", "device-statuses", "--in", "../../samples/device-statuses.csv", "--out", out,
		"--emulator", "--rows", "11-15")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rows []int
	for _, r := range readResults(t, out) {
		rows = append(rows, r.Row)
	}
	if len(rows) != 5 {
		t.Fatalf("rows %v, want 11 to 15", rows)
	}
	for _, n := range rows {
		if n < 11 || n > 15 {
			t.Errorf("row %d processed, outside --rows 11-15", n)
		}
	}
	for _, bad := range []string{"0-5", "5-3", "x", "3"} {
		if code, _, _ := runCmd(t, "update", "device-statuses", "--in", "../../samples/device-statuses.csv", "--emulator", "--rows", bad); code != exitUsage {
			t.Errorf("--rows %s: exit %d, want %d", bad, code, exitUsage)
		}
	}
}

// TestSummarySaysWhatIsLeft checks what a stopped run's summary tells the
// person: the rows without an outcome, whether any were not read, and the
// command that continues.
func TestSummarySaysWhatIsLeft(t *testing.T) {
	tests := []struct {
		status  string
		allRead bool
		want    string
	}{
		{"interrupted", false, "Interrupted: 7 rows read have no outcome yet, and the rest of the file was not read. To continue:\n  graphbatch update"},
		{"interrupted", true, "Interrupted: 7 rows read have no outcome yet. To continue:\n  graphbatch update"},
		{"fatal", true, "Stopped by the error below: 7 rows read have no outcome yet. Once it is fixed, continue with:\n  graphbatch update"},
	}
	for _, tt := range tests {
		s := runSummary{Status: tt.status, Rows: rowCounts{Read: 10, Updated: 3, Unfinished: 7}, ResumeCommand: "graphbatch update …", allRead: tt.allRead}
		var b strings.Builder
		s.print(&b)
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("%s, all read %v: summary\n%s\nwant it to contain\n%s", tt.status, tt.allRead, b.String(), tt.want)
		}
	}
}

// TestProgressEstimatesTotal checks the rows to do shown before they are
// all read: from the bytes of a regular file read so far.
func TestProgressEstimatesTotal(t *testing.T) {
	tests := []struct {
		name    string
		size    int64 // 0: not a regular file
		offset  int64
		read    int64
		allRead bool
		want    int64
	}{
		{"Pipe", 0, 5000, 100, false, 0},
		{"NothingRead", 10_000, 0, 0, false, 0},
		{"Half", 10_000, 5000, 100, false, 200},
		{"ReadAheadOfRows", 10_000, 10_000, 150, false, 150},
		{"AllRead", 10_000, 10_000, 199, true, 199},
		{"PipeAllRead", 0, 5000, 77, true, 77},
	}
	for _, tt := range tests {
		p := newProgress(new(batch.Stats), nil, false)
		if tt.size > 0 {
			p.readFrom(tt.size, func() int64 { return tt.offset })
		}
		p.stats.Read.Store(tt.read)
		p.stats.AllRead.Store(tt.allRead)
		if got := p.sample(time.Now()).Total; got != tt.want {
			t.Errorf("%s: Total = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestProgressLogLineWithReads: a run that reads first logs its unchanged
// rows and its reads; the terminal line shows them too.
func TestProgressLogLineWithReads(t *testing.T) {
	var buf bytes.Buffer
	v := progressView{Total: 100, Done: 60, Updated: 20, Unchanged: 38, Reads: 75, Failed: 2, Elapsed: 10 * time.Second}
	v.log(zerolog.New(&buf))
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("progress line %q is not JSON: %v", buf.String(), err)
	}
	for k, w := range map[string]any{"done": 60.0, "updated": 20.0, "unchanged": 38.0, "reads": 75.0, "failed": 2.0} {
		if got[k] != w {
			t.Errorf("progress line %s = %#v, want %#v", k, got[k], w)
		}
	}
	if line := v.line(); !strings.Contains(line, "20 updated, 38 unchanged, 2 failed, 0 invalid · 75 read") {
		t.Errorf("progress line %q does not show unchanged rows and reads", line)
	}
	buf.Reset()
	progressView{Done: 5, Updated: 5}.log(zerolog.New(&buf))
	if strings.Contains(buf.String(), "unchanged") || strings.Contains(buf.String(), "reads") {
		t.Errorf("a run that reads nothing logs reads: %s", buf.String())
	}
}
