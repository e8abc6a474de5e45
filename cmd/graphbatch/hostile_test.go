package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// These tests prove issue #10 ("Nothing lost, nothing leaked") end to end:
// graphbatch runs as a child process, against graphbatch emulate in
// another or against a hostile server in this one. Every server is on
// loopback.

// processTimeout bounds one child run: a run that reads a FIFO twice, or
// waits on a lock, would hang.
const processTimeout = time.Minute

// runGraphbatch runs graphbatch with args, and stdin (nil: none) on its
// standard input, and returns its exit status and stderr.
func runGraphbatch(t *testing.T, stdin io.Reader, args ...string) (code int, stderr string) {
	t.Helper()
	return runChild(t, func(c *exec.Cmd) { c.Stdin = stdin }, args...)
}

// runChild runs graphbatch with args, set up by setup, and returns its exit
// status and stderr.
func runChild(t *testing.T, setup func(*exec.Cmd), args ...string) (code int, stderr string) {
	t.Helper()
	u := &update{cmd: exec.Command(graphbatchBinary(t), args...)}
	setup(u.cmd)
	u.cmd.Stderr = &u.stderr
	if err := u.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(processTimeout, func() { _ = u.cmd.Process.Kill() })
	defer timer.Stop()
	return u.wait(t), u.stderr.String()
}

// emulatorArgs are the flags of an emulator that never throttles.
var emulatorArgs = []string{"--write-limit", "0", "--tenant-write-limit", "0"}

// updateArgs are the flags of an update of device statuses against the
// Graph at url, signed in to nothing and paced by nothing.
func updateArgs(url string, args ...string) []string {
	return append([]string{"update", "device-statuses", "--graph-endpoint", url, "--auth", "none", "--rate", "100000/s", "--log-format", "json"}, args...)
}

// rowsFile writes n rows of device statuses, d0 to d(n-1) of policy p1,
// to dir/name and returns its path and contents.
func rowsFile(t *testing.T, dir, name string, n int) (string, []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	writeRows(t, path, n)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

// lastOutcomes returns each row's outcomes in a results file, in the
// order written.
func lastOutcomes(t *testing.T, path string) map[int][]csvio.Result {
	t.Helper()
	byRow := make(map[int][]csvio.Result)
	for _, r := range readResults(t, path) {
		byRow[r.Row] = append(byRow[r.Row], r)
	}
	return byRow
}

// checkAllUpdated checks that each of rows 1..n has exactly one line in
// the results file, updated, for key d(row-1), and no other row has one.
func checkAllUpdated(t *testing.T, path string, n int) {
	t.Helper()
	byRow := lastOutcomes(t, path)
	if len(byRow) != n {
		t.Errorf("%s has results for %d rows, want %d", path, len(byRow), n)
	}
	for row := 1; row <= n; row++ {
		rs := byRow[row]
		if len(rs) != 1 || rs[0].Outcome != csvio.Updated || rs[0].Keys[1] != "d"+strconv.Itoa(row-1) {
			t.Errorf("row %d: results %+v, want one line, updated, for d%d", row, rs, row-1)
		}
	}
}

// checkStoreOnce checks that the emulator holds exactly the entities p1/d0 to
// p1/d(n-1), each patched once.
func checkStoreOnce(t *testing.T, emu string, n int) {
	t.Helper()
	var store []graphtest.Entity
	getJSON(t, emu+"/_emulator/store", &store)
	if len(store) != n {
		t.Errorf("the store holds %d entities, want %d", len(store), n)
	}
	seen := make(map[string]bool)
	for _, e := range store {
		id := e.Keys[len(e.Keys)-1]
		num, err := strconv.Atoi(strings.TrimPrefix(id, "d"))
		if len(e.Keys) != 2 || e.Keys[0] != "p1" || !strings.HasPrefix(id, "d") || err != nil || num < 0 || num >= n || seen[id] {
			t.Errorf("the store holds %q, which is not a row of the file (or is there twice)", e.Keys)
		}
		seen[id] = true
		if e.Patches != 1 {
			t.Errorf("%s was patched %d times, want once", e.Path, e.Patches)
		}
	}
}

// feedFIFO writes data into the FIFO at path from a goroutine, once a
// reader opens it; the channel gets the outcome.
func feedFIFO(t *testing.T, path string, data []byte) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			done <- err
			return
		}
		// In pieces, over some milliseconds: a second reader of the
		// FIFO would get some of them.
		for len(data) > 0 && err == nil {
			n := min(len(data), 4<<10)
			_, err = f.Write(data[:n])
			data = data[n:]
			time.Sleep(time.Millisecond)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	t.Cleanup(func() {
		// A child that never opened the FIFO leaves the writer waiting
		// for a reader: be that reader.
		if f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	return done
}

// feedPipe gives the child a pipe as its file descriptor 3, as bash's
// <(…) does, and writes data into it from a goroutine.
func feedPipe(t *testing.T, data []byte) (func(*exec.Cmd), <-chan error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	done := make(chan error, 1)
	go func() {
		_, err := w.Write(data)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	return func(c *exec.Cmd) { c.ExtraFiles = []*os.File{r} }, done
}

// TestPipedInputIsReadOnce: input that can be read only once (a FIFO,
// standard input as "-" or as /dev/stdin, a process substitution) was
// once read twice, the second
// reading splicing rows (issue #10.1). Each row must be sent once and
// recorded once, and a --resume on the same kind of input must find every
// row done and send nothing.
func TestPipedInputIsReadOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	const rows = 5000
	dir := t.TempDir()
	_, data := rowsFile(t, dir, "rows.csv", rows)
	fifo := filepath.Join(dir, "rows.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO: %v", err)
	}
	stdin := func(*testing.T) (func(*exec.Cmd), <-chan error) {
		return func(c *exec.Cmd) { c.Stdin = bytes.NewReader(data) }, nil
	}
	inputs := []struct {
		name string
		in   string
		feed func(t *testing.T) (setup func(*exec.Cmd), fed <-chan error)
	}{
		{"a FIFO", fifo, func(t *testing.T) (func(*exec.Cmd), <-chan error) { return func(*exec.Cmd) {}, feedFIFO(t, fifo, data) }},
		{"--in - from a pipe", "-", stdin},
		{"--in /dev/stdin from a pipe", "/dev/stdin", stdin},
		{"a process substitution", "/dev/fd/3", func(t *testing.T) (func(*exec.Cmd), <-chan error) { return feedPipe(t, data) }},
	}
	for _, tt := range inputs {
		t.Run(tt.name, func(t *testing.T) {
			emu := startEmulator(t, emulatorArgs...)
			out := filepath.Join(t.TempDir(), "results.csv")
			for i, extra := range [][]string{nil, {"--resume"}} {
				setup, fed := tt.feed(t)
				code, stderr := runChild(t, setup, updateArgs(emu, append([]string{"--in", tt.in, "--out", out}, extra...)...)...)
				if code != exitOK {
					t.Fatalf("run %d: exit %d, want 0; stderr:\n%s", i+1, code, stderr)
				}
				if fed != nil {
					if err := <-fed; err != nil {
						t.Errorf("run %d: feeding the input: %v", i+1, err)
					}
				}
				checkAllUpdated(t, out, rows)
				checkStoreOnce(t, emu, rows)
				if c := counters(t, emu); c.Patches != rows {
					t.Errorf("after run %d: %d PATCHes, want %d", i+1, c.Patches, rows)
				}
			}
		})
	}
}

// TestSameFileTwiceInAProcess: the results file or the summary written
// over the input by a hard link to it, or standard input redirected from
// the file --out names (issue #10.2), in the real process: exit 2, nothing
// sent, the input as it was.
func TestSameFileTwiceInAProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	dir := t.TempDir()
	in, before := rowsFile(t, dir, "rows.csv", 100)
	hard := filepath.Join(dir, "hard.csv")
	if err := os.Link(in, hard); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	out := filepath.Join(dir, "results.csv")
	emu := startEmulator(t, emulatorArgs...)
	tests := []struct {
		name  string
		stdin bool // the input on standard input, as a file
		args  []string
	}{
		{"--out is a hard link to --in", false, []string{"--in", in, "--out", hard, "--overwrite"}},
		{"--out is a hard link to --in, resumed", false, []string{"--in", in, "--out", hard, "--resume"}},
		{"--summary is a hard link to --in", false, []string{"--in", in, "--out", out, "--summary", hard}},
		{"--backup is a hard link to --in", false, []string{"--in", in, "--out", out, "--backup", hard}},
		{"--in - is the file --out names", true, []string{"--in", "-", "--out", hard, "--overwrite"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdin io.Reader
			if tt.stdin {
				f, err := os.Open(in)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				stdin = f
			}
			code, stderr := runGraphbatch(t, stdin, updateArgs(emu, tt.args...)...)
			if code != exitUsage || !strings.Contains(stderr, "name the same file") {
				t.Errorf("exit %d, want %d naming the clash; stderr:\n%s", code, exitUsage, stderr)
			}
			if after, err := os.ReadFile(in); err != nil || !bytes.Equal(before, after) {
				t.Errorf("the input changed (%v)", err)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was created", out)
			}
			if c := counters(t, emu); c.Envelopes != 0 {
				t.Errorf("%d envelopes sent, want none", c.Envelopes)
			}
		})
	}
}

// TestSecondRunOnTheSameResults: two runs on one --out once both wrote it,
// interleaving lines, or the second truncated the first's (issue #10.3).
// While run A (started with --resume, on no file yet) writes, run B —
// with --resume, --overwrite or neither — must exit 1 at once naming the
// file, send nothing and change nothing.
func TestSecondRunOnTheSameResults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes in real time")
	}
	const rows = 300 // 3 s at 100 writes a second
	dir := t.TempDir()
	in, _ := rowsFile(t, dir, "rows.csv", rows)
	out := filepath.Join(dir, "results.csv")
	emu := startEmulator(t, "--write-limit", "100", "--tenant-write-limit", "0", "--window", "1s")
	a := startUpdate(t, "--in", in, "--out", out, "--resume", "--graph-endpoint", emu, "--auth", "none", "--rate", "100/1s")
	t.Cleanup(func() { _ = a.cmd.Process.Kill() }) // if the test ends before it does
	waitFor(t, emu, "run A to be under way", func(c graphtest.Counters) bool { return c.Patches >= 20 })
	for _, mode := range []string{"--resume", "--overwrite", ""} {
		args := updateArgs(emu, "--in", in, "--out", out)
		if mode != "" {
			args = append(args, mode)
		}
		start := time.Now()
		code, stderr := runGraphbatch(t, nil, args...)
		if code != exitFatal || !strings.Contains(stderr, out) || !strings.Contains(stderr, "in use by another graphbatch run") {
			t.Errorf("run B %s: exit %d, want %d naming %s in use; stderr:\n%s", mode, code, exitFatal, out, stderr)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("run B %s took %v to give up; want at once", mode, d)
		}
	}
	if c := counters(t, emu); c.Patches >= rows {
		t.Fatalf("run A had finished (%d PATCHes) before the B runs ended: the test proves nothing", c.Patches)
	}
	if code := a.wait(t); code != exitOK {
		t.Fatalf("run A: exit %d; stderr:\n%s", code, a.stderr.String())
	}
	if _, torn := journalLines(t, out); torn {
		t.Error("the results file ends with a torn line")
	}
	checkAllUpdated(t, out, rows)
	checkStoreOnce(t, emu, rows) // a B that sent anything patched an entity twice
	code, stderr := runGraphbatch(t, nil, updateArgs(emu, "--in", in, "--out", out, "--resume")...)
	if code != exitOK {
		t.Errorf("--resume after run A: exit %d, want 0; stderr:\n%s", code, stderr)
	}
	if c := counters(t, emu); c.Patches != rows {
		t.Errorf("%d PATCHes in all, want %d: --resume sent rows A had updated", c.Patches, rows)
	}
}

// TestNamedPipeOutput: a results file or a backup that is a named pipe
// once hung the run before it sent anything, opening the pipe to lock it;
// only SIGKILL could stop it. It is a usage error now, naming the file.
func TestNamedPipeOutput(t *testing.T) {
	dir := t.TempDir()
	in, _ := rowsFile(t, dir, "rows.csv", 3)
	fifo := filepath.Join(dir, "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO: %v", err)
	}
	for _, args := range [][]string{
		{"--out", fifo, "--dry-run"},
		{"--out", filepath.Join(dir, "results.csv"), "--overwrite", "--emulator", "--backup", fifo},
	} {
		code, stderr := runGraphbatch(t, nil, append([]string{"update", "device-statuses", "--in", in}, args...)...)
		if code != exitUsage || !strings.Contains(stderr, fifo+" is a named pipe") {
			t.Errorf("%q: exit %d, want %d naming the pipe; stderr:\n%s", args, code, exitUsage, stderr)
		}
	}
}

// countingServer is an httptest server that counts the requests it gets.
type countingServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	auth     []string // the Authorization headers received, "" for none
	bodies   int      // requests with a body
}

// count counts r, leaving its body for the answer to read.
func (s *countingServer) count(r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	if len(body) > 0 {
		s.bodies++
	}
}

func (s *countingServer) stats() (requests, bodies int, auth []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.bodies, append([]string(nil), s.auth...)
}

// newCountingServer starts a server that counts each request, then
// answers it with answer.
func newCountingServer(t *testing.T, tls bool, answer http.HandlerFunc) *countingServer {
	t.Helper()
	s := &countingServer{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.count(r)
		answer(w, r)
	})
	if tls {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

// crashSigns are what a Go program that crashed writes to stderr.
var crashSigns = []string{"fatal error:", "stack overflow", "panic:", "goroutine "}

// TestDeeplyNestedAnswer: a broken proxy answering 15 MiB of "[" once
// overflowed the stack of the answer's decoder, killing the run with
// nothing recorded (issue #10.4): the "[" in an item's body, where the
// decoder recursed. Now the answer is a malformed one, retried and then
// failed.
func TestDeeplyNestedAnswer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes in real time")
	}
	const rows = 40
	nest := bytes.Repeat([]byte("["), 15<<20)
	inBody := append([]byte(`{"responses":[{"id":"1","status":200,"body":`), nest...)
	tests := []struct {
		name   string
		status int
		length bool // send a Content-Length, else the answer is chunked
		deep   []byte
	}{
		{"200 chunked", http.StatusOK, false, nest},
		{"502 with a length", http.StatusBadGateway, true, nest},
		{"200, in an item's body", http.StatusOK, true, inBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if tt.length {
					w.Header().Set("Content-Length", strconv.Itoa(len(tt.deep)))
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write(tt.deep)
			})
			dir := t.TempDir()
			in, _ := rowsFile(t, dir, "rows.csv", rows)
			out := filepath.Join(dir, "results.csv")
			code, stderr := runGraphbatch(t, nil, updateArgs(proxy.URL, "--in", in, "--out", out, "--max-attempts", "2")...)
			for _, sign := range crashSigns {
				if strings.Contains(stderr, sign) {
					t.Fatalf("the run crashed (%q); stderr:\n%.3000s", sign, stderr)
				}
			}
			if code != exitFatal && code != exitRowsFailed {
				t.Errorf("exit %d, want %d or %d; stderr:\n%.3000s", code, exitFatal, exitRowsFailed, stderr)
			}
			if !regexp.MustCompile(`(?m)^\d+ rows in .*0 updated`).MatchString(stderr) {
				t.Errorf("no summary on stderr:\n%.3000s", stderr)
			}
			results := readResults(t, out)
			for _, r := range results {
				if r.Outcome != csvio.Failed || r.Attempts != 2 {
					t.Errorf("row %d: %s after %d attempts (%s), want failed after 2", r.Row, r.Outcome, r.Attempts, r.ErrorMessage)
				}
			}
			if code == exitRowsFailed && len(results) != rows {
				t.Errorf("exit 3 with %d results, want one for each of the %d rows", len(results), rows)
			}
			if n, _, _ := proxy.stats(); n < 2 {
				t.Errorf("the proxy got %d requests; want every envelope sent twice", n)
			}
		})
	}
}

// TestQuoteLeftOpenInAProcess: a quote left open swallowed the rows after
// it, and the run said every row was updated (issue #10.6).
func TestQuoteLeftOpenInAProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "devices.csv")
	csvText := "policyId,id,deviceDisplayName,status\n" +
		"p1,d1,Laptop 1,compliant\n" +
		"p1,d2,Laptop 2,compliant\n" +
		"p1,d3,\"Laptop 3, 15 inch,compliant\n" + // line 4: the quote opens and never closes
		"p1,d4,Laptop 4,compliant\n" +
		"p1,d5,Laptop 5,compliant\n" +
		"p1,d6,Laptop 6,compliant\n" +
		"p1,d7,Laptop 7,compliant\n"
	if err := os.WriteFile(in, []byte(csvText), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "results.csv")
	emu := startEmulator(t, emulatorArgs...)
	code, stderr := runGraphbatch(t, nil, updateArgs(emu, "--in", in, "--out", out)...)
	if code != exitRowsFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr)
	}
	byRow := lastOutcomes(t, out)
	if len(byRow) != 3 || byRow[1][0].Outcome != csvio.Updated || byRow[2][0].Outcome != csvio.Updated {
		t.Errorf("results %v, want rows 1 and 2 updated and row 3 invalid", byRow)
	}
	r3 := byRow[3]
	if len(r3) != 1 || r3[0].Outcome != csvio.Invalid ||
		!strings.Contains(r3[0].ErrorMessage, "line 4") || !strings.Contains(r3[0].ErrorMessage, "lines 5-8 (4 lines)") {
		t.Errorf("row 3: %+v, want invalid naming line 4 and the 4 lines 5-8 it swallowed", r3)
	}
	if c := counters(t, emu); c.Patches != 2 {
		t.Errorf("%d PATCHes, want 2 (rows 1 and 2)", c.Patches)
	}
}

// TestRedirectIsNeverFollowed: a $batch answered with a redirect was once
// followed, sending the token and the rows' bodies to wherever it pointed,
// over plain http (issue #10.7). Here the Graph endpoint is https and
// graphbatch signs in for a real token; the redirect points to plain http
// on another port of the same host, which Go's client would send the
// Authorization header to.
func TestRedirectIsNeverFollowed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	const rows = 30
	authority, ca := authorityEmulator(t, graphtest.Authority{}, graphtest.Options{})
	elsewhere := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "followed", http.StatusBadRequest) // fails the rows at once, if it comes to that
	})
	dir := t.TempDir()
	in, _ := rowsFile(t, dir, "rows.csv", rows)
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			location := elsewhere.URL + "/v1.0/$batch"
			graphURL := newCountingServer(t, true, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", location)
				w.WriteHeader(status)
			})
			cas := caWith(t, ca, graphURL.Server)
			out := filepath.Join(t.TempDir(), "results.csv")
			code, stderr := runGraphbatch(t, nil, "update", "device-statuses", "--in", in, "--out", out,
				"--graph-endpoint", graphURL.URL, "--ca-cert", cas, "--rate", "100000/s")
			if code != exitRowsFailed {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr)
			}
			if n, bodies, auth := elsewhere.stats(); n != 0 {
				t.Errorf("the redirect's target got %d requests (%d with a body, Authorization %q); want none", n, bodies, auth)
			}
			if n, _, auth := graphURL.stats(); n == 0 || !strings.HasPrefix(auth[0], "Bearer "+tokenPrefix) {
				t.Errorf("the Graph endpoint got %d requests, Authorization %q; want a token at stake", n, auth)
			}
			results := readResults(t, out)
			if len(results) != rows {
				t.Errorf("%d results, want %d", len(results), rows)
			}
			for _, r := range results {
				if r.Outcome != csvio.Failed || r.HTTPStatus != status || r.Attempts != 1 || !strings.Contains(r.ErrorMessage, location) {
					t.Errorf("row %d: %s %d after %d attempts, %q; want failed at once with %d naming %s", r.Row, r.Outcome, r.HTTPStatus, r.Attempts, r.ErrorMessage, status, location)
				}
			}
		})
	}
	if c := authority.Counters(); c.TokensIssued == 0 {
		t.Error("no token was issued: the runs signed in to nothing")
	}
	t.Run("plain http to another host", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "results.csv")
		code, stderr := runGraphbatch(t, nil, "update", "device-statuses", "--in", in, "--out", out,
			"--graph-endpoint", "http://example.com", "--auth", "none")
		if code != exitUsage || !strings.Contains(stderr, "plain http") {
			t.Errorf("exit %d, want %d refusing plain http; stderr:\n%s", code, exitUsage, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s was created", out)
		}
	})
}

// caWith writes a PEM file with the certificates in the PEM file ca and
// srv's, for --ca-cert.
func caWith(t *testing.T, ca string, srv *httptest.Server) string {
	t.Helper()
	data, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})...)
	path := filepath.Join(t.TempDir(), "cas.pem")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Hostile text a Graph (or what answers in its place) may send.
const (
	hostileCode      = `=HYPERLINK("http://x")`
	hostileMessage   = "+cmd|' /C calc'!A0 \x1b]0;owned\x07 \x1b[31mred"
	hostileRequestID = "@SUM(1)"
	hostileClientID  = "-1+1\x1b[0m"
)

// hostileGraph answers every item 400 with hostileCode, hostileMessage and
// the hostile ids.
func hostileGraph(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	req, derr := graph.DecodeBatchRequest(body)
	if err != nil || derr != nil {
		http.Error(w, "not a $batch request", http.StatusBadRequest)
		return
	}
	itemBody, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code": hostileCode, "message": hostileMessage,
		"innerError": map[string]string{"request-id": hostileRequestID, "client-request-id": hostileClientID},
	}})
	var br graph.BatchResponse
	for _, it := range req.Requests {
		br.Responses = append(br.Responses, graph.Response{
			ID: it.ID, Status: http.StatusBadRequest, Body: itemBody,
			Headers: map[string]string{"Content-Type": "application/json", "request-id": hostileRequestID},
		})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", hostileRequestID)
	_ = json.NewEncoder(w).Encode(br)
}

// rawControl returns the first control character in s that is not a line
// end, or -1.
func rawControl(s string) rune {
	for _, r := range s {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) {
			return r
		}
	}
	return -1
}

// TestHostileServerText: error codes, messages and ids from the server
// once reached the results file as formulas and the terminal as escape
// sequences (issue #10.8). So did input text echoed in a message (an
// invalid row's value).
func TestHostileServerText(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	srv := newCountingServer(t, false, hostileGraph)
	dir := t.TempDir()
	in := filepath.Join(dir, "rows.csv")
	csvText := "policyId,id,status\n" +
		"p1,d1,compliant\n" +
		"p1,d2,\"compl\x1b[2J\x07iant\"\n" + // invalid: its message quotes the value
		"p1,d3,compliant\n"
	if err := os.WriteFile(in, []byte(csvText), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"json", "console"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "results.csv")
			args := append(updateArgs(srv.URL, "--in", in, "--out", out), "--log-format", format)
			code, stderr := runGraphbatch(t, nil, args...)
			if code != exitRowsFailed {
				t.Fatalf("exit %d, want %d; stderr:\n%q", code, exitRowsFailed, stderr)
			}
			if r := rawControl(stderr); r >= 0 {
				t.Errorf("stderr holds the raw control character %U:\n%q", r, stderr)
			}
			escaped := `\x1b]0;owned\x07`
			if format == "json" {
				b, _ := json.Marshal(escaped)
				escaped = strings.Trim(string(b), `"`)
			}
			if !strings.Contains(stderr, escaped) {
				t.Errorf("stderr does not show the escape sequence escaped:\n%q", stderr)
			}
			checkHostileResults(t, out)
		})
	}
}

func checkHostileResults(t *testing.T, out string) {
	t.Helper()
	byRow := lastOutcomes(t, out)
	if len(byRow) != 3 {
		t.Errorf("results for %d rows, want 3", len(byRow))
	}
	if r := byRow[2]; len(r) != 1 || r[0].Outcome != csvio.Invalid || rawControl(r[0].ErrorMessage) >= 0 {
		t.Errorf("row 2: %+v, want invalid with its value escaped", r)
	}
	for _, row := range []int{1, 3} {
		if len(byRow[row]) != 1 {
			t.Errorf("row %d: %d results, want 1", row, len(byRow[row]))
			continue
		}
		r := byRow[row][0]
		if r.Outcome != csvio.Failed || r.HTTPStatus != http.StatusBadRequest {
			t.Errorf("row %d: %s %d, want failed 400", row, r.Outcome, r.HTTPStatus)
		}
		cells := map[string]string{"errorCode": r.ErrorCode, "errorMessage": r.ErrorMessage, "requestId": r.RequestID, "clientRequestId": r.ClientRequestID}
		for name, cell := range cells {
			if !strings.HasPrefix(cell, "'") {
				t.Errorf("row %d: %s %q does not begin with ': a spreadsheet takes it for a formula", row, name, cell)
			}
			if c := rawControl(cell); c >= 0 {
				t.Errorf("row %d: %s %q holds the raw control character %U", row, name, cell, c)
			}
		}
		if want := `'+cmd|' /C calc'!A0 \x1b]0;owned\x07 \x1b[31mred`; r.ErrorMessage != want {
			t.Errorf("row %d: errorMessage %q, want %q", row, r.ErrorMessage, want)
		}
	}
}

// TestResumeChecksTheWholeInput: --resume once sent rows before it found,
// further down, a row that did not match the results file, and once
// refused rows corrected after they failed (issue #10.9).
func TestResumeChecksTheWholeInput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	const rows, wrong = 5000, 60 // rows 1 to 60 get ids that do not exist
	dir := t.TempDir()
	in, data := rowsFile(t, dir, "rows.csv", rows)
	out := filepath.Join(dir, "results.csv")
	emu := startEmulator(t, emulatorArgs...)
	write := func(b []byte) {
		t.Helper()
		if err := os.WriteFile(in, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	resume := func(stdin io.Reader, path string) (int, string) {
		t.Helper()
		return runGraphbatch(t, stdin, updateArgs(emu, "--in", path, "--out", out, "--resume")...)
	}
	if code, stderr := runGraphbatch(t, nil, updateArgs(emu, "--in", in, "--out", out, "--rows", "4001-")...); code != exitOK {
		t.Fatalf("rows 4001 to 5000: exit %d; stderr:\n%s", code, stderr)
	}

	// Row 4,500, updated, now has another key: nothing is sent, not even
	// the 4,000 rows before it, from a file or from a pipe.
	mismatch := bytes.Replace(data, []byte("\np1,d4499,"), []byte("\np1,x4499,"), 1)
	write(mismatch)
	before := counters(t, emu)
	for _, how := range []string{"file", "pipe"} {
		var stdin io.Reader
		path := in
		if how == "pipe" {
			stdin, path = bytes.NewReader(mismatch), "-"
		}
		if code, stderr := resume(stdin, path); code != exitUsage || !strings.Contains(stderr, "row 4500") {
			t.Errorf("input from a %s with row 4500 changed: exit %d, want %d naming row 4500; stderr:\n%s", how, code, exitUsage, stderr)
		}
	}
	if after := counters(t, emu); after.Envelopes != before.Envelopes {
		t.Errorf("%d envelopes sent on a mismatched --resume, want none", after.Envelopes-before.Envelopes)
	}

	// Rows that failed (a wrong id, 404) may be corrected, keys included:
	// they are sent again and updated.
	write(bytes.Replace(data, []byte("\np1,d"), []byte("\np1,missing-d"), wrong))
	if code, stderr := resume(nil, in); code != exitRowsFailed {
		t.Fatalf("rows 1 to %d with wrong ids: exit %d, want %d; stderr:\n%s", wrong, code, exitRowsFailed, stderr)
	}
	write(data)
	before = counters(t, emu)
	if code, stderr := resume(nil, in); code != exitOK {
		t.Fatalf("rows 1 to %d corrected: exit %d, want 0; stderr:\n%s", wrong, code, stderr)
	}
	byRow := lastOutcomes(t, out)
	for row := 1; row <= rows; row++ {
		r := byRow[row]
		id := "d" + strconv.Itoa(row-1)
		switch {
		case row <= wrong && (len(r) != 2 || r[0].HTTPStatus != http.StatusNotFound || r[0].Keys[1] != "missing-"+id || r[1].Outcome != csvio.Updated || r[1].Keys[1] != id):
			t.Errorf("row %d: %+v, want failed 404 as missing-%s, then updated as %s", row, r, id, id)
		case row > wrong && (len(r) != 1 || r[0].Outcome != csvio.Updated || r[0].Keys[1] != id):
			t.Errorf("row %d: %+v, want updated once as %s", row, r, id)
		}
	}
	if c := counters(t, emu); c.Patches != before.Patches+wrong {
		t.Errorf("%d PATCHes on the last resume, want %d (the rows corrected)", c.Patches-before.Patches, wrong)
	}
	checkStoreOnce(t, emu, rows)
}

// TestOversizedCell: one cell larger than Graph accepts once failed the
// other 19 rows of its envelope with a 413 (issue #10.10).
func TestOversizedCell(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	plain := func(n int) (id, name string) { return "d" + strconv.Itoa(n), "Laptop " + strconv.Itoa(n) }
	tests := []struct {
		name         string
		column, says string // how row 5's message names the column and the limit
		cell         func(row int) (id, name string)
	}{
		{"a 2 MiB display name", `column "deviceDisplayName"`, "1 MiB", func(n int) (string, string) {
			if n == 5 {
				return "d5", strings.Repeat("x", 2<<20)
			}
			return plain(n)
		}},
		{"a 5 MiB id", `column "id"`, "1 MiB", func(n int) (string, string) {
			if n == 5 {
				return strings.Repeat("d", 5<<20), "Laptop 5"
			}
			return plain(n)
		}},
		{"a 2,000-byte id", "column id", "keys of at most 1024", func(n int) (string, string) {
			if n == 5 {
				return strings.Repeat("d", 2000), "Laptop 5"
			}
			return plain(n)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var b strings.Builder
			b.WriteString("policyId,id,deviceDisplayName,status\n")
			for row := 1; row <= 20; row++ {
				id, name := tt.cell(row)
				fmt.Fprintf(&b, "p1,%s,%s,compliant\n", id, name)
			}
			in := filepath.Join(dir, "rows.csv")
			if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "results.csv")
			emu := startEmulator(t, emulatorArgs...)
			code, stderr := runGraphbatch(t, nil, updateArgs(emu, "--in", in, "--out", out)...)
			if code != exitRowsFailed {
				t.Fatalf("exit %d, want %d; stderr:\n%.2000s", code, exitRowsFailed, stderr)
			}
			byRow := lastOutcomes(t, out)
			for row := 1; row <= 20; row++ {
				r := byRow[row]
				switch {
				case len(r) != 1:
					t.Errorf("row %d: %d results, want 1", row, len(r))
				case row == 5 && (r[0].Outcome != csvio.Invalid || !strings.Contains(r[0].ErrorMessage, tt.column) || !strings.Contains(r[0].ErrorMessage, tt.says)):
					t.Errorf("row 5: %s %.300q, want invalid naming %s and %q", r[0].Outcome, r[0].ErrorMessage, tt.column, tt.says)
				case row != 5 && r[0].Outcome != csvio.Updated:
					t.Errorf("row %d: %s %d %q, want updated", row, r[0].Outcome, r[0].HTTPStatus, r[0].ErrorMessage)
				}
			}
			if c := counters(t, emu); c.Envelopes != 1 || c.Patches != 19 {
				t.Errorf("%d envelopes, %d PATCHes; want the 19 other rows in one envelope", c.Envelopes, c.Patches)
			}
		})
	}
}

// TestMaxFailuresStopsARefusedRoute: a 5,000-row run against a tenant
// whose Intune refuses the status route (as graphbatch emulate
// --refuse-status-routes patch does) stops after about --max-failures rows
// with exit 1 and one line naming the status, code and Graph's message;
// --resume against a Graph that accepts the route finishes every row.
func TestMaxFailuresStopsARefusedRoute(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	const rows, maxFailures = 5000, 100
	dir := t.TempDir()
	in, _ := rowsFile(t, dir, "rows.csv", rows)
	out := filepath.Join(dir, "results.csv")
	refusing := startEmulator(t, append([]string{"--refuse-status-routes", "patch"}, emulatorArgs...)...)
	start := time.Now()
	code, stderr := runGraphbatch(t, nil, updateArgs(refusing, "--in", in, "--out", out, "--max-failures", strconv.Itoa(maxFailures))...)
	elapsed := time.Since(start)
	if code != exitFatal {
		t.Fatalf("exit %d, want %d; stderr:\n%.3000s", code, exitFatal, stderr)
	}
	if elapsed > 10*time.Second {
		t.Errorf("the run took %v to stop; want a few seconds", elapsed)
	}
	stop := regexp.MustCompile(`(?m)^graphbatch: stopped: 100 rows in a row failed with 400 No method match route template: No OData route exists .*$`)
	if n := len(stop.FindAllString(stderr, -1)); n != 1 {
		t.Errorf("%d stop lines on stderr, want 1 naming status, code and message:\n%.3000s", n, stderr)
	}
	results := readResults(t, out)
	if len(results) < maxFailures || len(results) > 2*maxFailures {
		t.Errorf("%d results, want %d to %d: the run stopped late, or early", len(results), maxFailures, 2*maxFailures)
	}
	for _, r := range results {
		if r.Outcome != csvio.Failed || r.HTTPStatus != http.StatusBadRequest || r.ErrorCode != "No method match route template" {
			t.Errorf("row %d: %s %d %s, want failed 400 No method match route template", r.Row, r.Outcome, r.HTTPStatus, r.ErrorCode)
		}
	}

	working := startEmulator(t, emulatorArgs...)
	code, stderr = runGraphbatch(t, nil, updateArgs(working, "--in", in, "--out", out, "--resume", "--max-failures", strconv.Itoa(maxFailures))...)
	if code != exitOK {
		t.Fatalf("--resume against a working Graph: exit %d, want 0; stderr:\n%.3000s", code, stderr)
	}
	byRow := lastOutcomes(t, out)
	for row := 1; row <= rows; row++ {
		if rs := byRow[row]; len(rs) == 0 || rs[len(rs)-1].Outcome != csvio.Updated {
			t.Errorf("row %d: last outcome %v, want updated", row, rs)
		}
	}
	checkStoreOnce(t, working, rows)
}
