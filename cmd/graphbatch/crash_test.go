package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// These tests run graphbatch as a child process against graphbatch emulate
// in another, and kill it. They take real time: a few seconds each.

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// graphbatchBinary builds the command once per test process.
func graphbatchBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "graphbatch-bin")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "graphbatch")
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = err
			return
		}
		out, err := exec.Command(goTool, "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// startEmulator runs graphbatch emulate in its own process and returns its URL.
func startEmulator(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(graphbatchBinary(t), append([]string{"emulate", "--listen", "127.0.0.1:0", "--log-level", "warn"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("emulator: %v", err)
	}
	return strings.TrimSpace(url)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func counters(t *testing.T, emu string) graphtest.Counters {
	var c graphtest.Counters
	getJSON(t, emu+"/_emulator/counters", &c)
	return c
}

// waitFor polls the emulator's counters until cond holds.
func waitFor(t *testing.T, emu string, what string, cond func(graphtest.Counters) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond(counters(t, emu)) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// update is a graphbatch update child process.
type update struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
}

func startUpdate(t *testing.T, args ...string) *update {
	t.Helper()
	u := &update{cmd: exec.Command(graphbatchBinary(t), append([]string{"update", "device-statuses"}, args...)...)}
	u.cmd.Stderr = &u.stderr
	if err := u.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return u
}

// wait returns the exit status.
func (u *update) wait(t *testing.T) int {
	t.Helper()
	err := u.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

func tearJournal(t *testing.T, path, fragment string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(fragment); err != nil {
		t.Fatal(err)
	}
}

// journalLines returns the results file's records, and whether its last
// line is torn (has no newline).
func journalLines(t *testing.T, path string) (records [][]string, torn bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		torn = true
		data = data[:bytes.LastIndexByte(data, '\n')+1]
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = 11
	records, err = r.ReadAll()
	if err != nil {
		t.Fatalf("%s has a broken line before its end: %v", path, err)
	}
	return records, torn
}

func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes in real time")
	}
	const rows = 3000
	dir := t.TempDir()
	in, out := filepath.Join(dir, "rows.csv"), filepath.Join(dir, "results.csv")
	writeRows(t, in, rows)
	// Latency keeps envelopes in flight; a write limit below the client's
	// rate makes throttle waits.
	emu := startEmulator(t, "--write-limit", "1000", "--tenant-write-limit", "0", "--window", "2s", "--latency", "80ms", "--seed", "5")
	args := []string{"--in", in, "--out", out, "--graph-endpoint", emu, "--auth", "none", "--rate", "2000/2s", "--log-format", "json"}

	kills := []struct {
		moment string
		when   func(graphtest.Counters) bool
		settle time.Duration // after when holds, before the kill
	}{
		{"early, after the first envelope arrived", func(c graphtest.Counters) bool { return c.Items >= 1 }, 0},
		{"mid-envelope, with envelopes in flight", func(c graphtest.Counters) bool { return c.Patches >= 900 }, 0},
		// The emulator counts a 429 before its 80ms latency: wait until the
		// client has the answer and sits in its Retry-After of a second or more.
		{"during a throttle wait", func(c graphtest.Counters) bool { return c.Throttled > 0 }, 300 * time.Millisecond},
	}
	for i, k := range kills {
		a := args
		if i > 0 {
			a = append(a, "--resume")
		}
		u := startUpdate(t, a...)
		waitFor(t, emu, k.moment, k.when)
		time.Sleep(k.settle)
		if err := u.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if code := u.wait(t); code != -int(syscall.SIGKILL) {
			t.Fatalf("kill %d (%s): exit %d, want death by SIGKILL; stderr:\n%s", i+1, k.moment, code, u.stderr.String())
		}
		recs, torn := journalLines(t, out)
		t.Logf("killed %s: %d results in the journal, torn last line: %v", k.moment, max(len(recs)-1, 0), torn)
		if i == 1 {
			// A SIGKILL never tears a line (each write of lines completes or
			// not), but a power loss can: leave half a line for resume.
			tearJournal(t, out, "2999,p1,d2998,upd")
		}
	}
	u := startUpdate(t, append(args, "--resume")...)
	if code := u.wait(t); code != exitOK {
		t.Fatalf("final resume: exit %d; stderr:\n%s", code, u.stderr.String())
	}

	recs, torn := journalLines(t, out)
	if torn {
		t.Error("the journal ends with a torn line after a clean finish")
	}
	last := make(map[string]string) // row → last outcome
	for _, r := range recs[1:] {
		last[r[0]] = r[3]
	}
	for n := 1; n <= rows; n++ {
		if o := last[fmt.Sprint(n)]; o != string(csvio.Updated) {
			t.Errorf("row %d: last outcome %q, want updated", n, o)
		}
	}
	var store []graphtest.Entity
	getJSON(t, emu+"/_emulator/store", &store)
	if len(store) != rows {
		t.Errorf("store has %d entities, want %d", len(store), rows)
	}
	for _, e := range store {
		if e.Properties["status"] != "compliant" {
			t.Errorf("%s: status %v, want compliant", e.Path, e.Properties["status"])
		}
		if e.Patches > 2 {
			t.Errorf("%s was patched %d times; at most twice (in flight at a kill, then on resume)", e.Path, e.Patches)
		}
	}
	c := counters(t, emu)
	t.Logf("emulator: %d patches for %d rows, %d throttled, %d early retries", c.Patches, rows, c.Throttled, c.EarlyRetries)
}

func TestSIGTERMStopsGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes in real time")
	}
	const rows = 1000
	dir := t.TempDir()
	in, out := filepath.Join(dir, "rows.csv"), filepath.Join(dir, "results.csv")
	writeRows(t, in, rows)
	emu := startEmulator(t, "--write-limit", "0", "--tenant-write-limit", "0", "--latency", "200ms")
	args := []string{"--in", in, "--out", out, "--graph-endpoint", emu, "--auth", "none", "--rate", "1000/s"}
	u := startUpdate(t, args...)
	waitFor(t, emu, "half the rows", func(c graphtest.Counters) bool { return c.Patches >= rows/2 })
	if err := u.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := u.wait(t); code != exitInterrupted {
		t.Fatalf("exit %d after SIGTERM, want %d; stderr:\n%s", code, exitInterrupted, u.stderr.String())
	}
	if !strings.Contains(u.stderr.String(), "--resume") {
		t.Errorf("stderr does not say how to resume:\n%s", u.stderr.String())
	}
	// Envelopes in flight at the signal finished: everything the emulator
	// applied is in the journal, flushed.
	recs, torn := journalLines(t, out)
	if torn {
		t.Error("journal ends with a torn line after a graceful stop")
	}
	var store []graphtest.Entity
	getJSON(t, emu+"/_emulator/store", &store)
	recorded := make(map[string]bool)
	for _, r := range recs[1:] {
		if r[3] == string(csvio.Updated) {
			recorded[r[2]] = true
		}
	}
	if len(store) == rows || len(store) == 0 {
		t.Fatalf("%d of %d rows applied at the stop; the test did not stop mid-run", len(store), rows)
	}
	for _, e := range store {
		if !recorded[e.Keys[1]] {
			t.Errorf("entity %s was updated but its row is not in the journal", e.Path)
		}
	}
	u = startUpdate(t, append(args, "--resume")...)
	if code := u.wait(t); code != exitOK {
		t.Fatalf("resume: exit %d; stderr:\n%s", code, u.stderr.String())
	}
	getJSON(t, emu+"/_emulator/store", &store)
	if len(store) != rows {
		t.Errorf("after resume the store has %d entities, want %d", len(store), rows)
	}
}

func TestFullDiskStopsTheRun(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits})
	defer emu.Close()
	in := filepath.Join(t.TempDir(), "rows.csv")
	writeRows(t, in, 5000)
	// /dev/full takes the results like a disk with no space left: the first
	// 64 KiB of outcomes fail to be written, long before the last row.
	code, _, stderr := runCmd(t, "update", "device-statuses", "--in", in, "--out", "/dev/full",
		"--graph-endpoint", emu.URL, "--auth", "none", "--rate", "100000/s", "--concurrency", "1")
	if code != exitFatal || !strings.Contains(stderr, "no space left on device") {
		t.Errorf("exit %d, stderr %q; want exit 1 saying the disk is full", code, stderr)
	}
	if n := emu.Counters().Items; n >= 5000 {
		t.Errorf("%d rows sent: the run went on after the results could not be written", n)
	}
}
