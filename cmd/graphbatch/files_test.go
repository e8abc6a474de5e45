package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// copySample copies samples/device-statuses.csv into dir as name.
func copySample(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile("../../samples/device-statuses.csv")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSameFileTwiceIsRefused: --out (or --summary) naming the input once
// sent rows and then replaced the input (issue #10.2). Now the command
// exits 2 before anything is opened for writing, and the input is as it was.
func TestSameFileTwiceIsRefused(t *testing.T) {
	dir := t.TempDir()
	in := copySample(t, dir, "fix.csv")
	if err := os.Symlink(in, filepath.Join(dir, "link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(in, filepath.Join(dir, "hard.csv")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.csv")
	tests := []struct {
		name string
		args []string
	}{
		{"--out is --in", []string{"--out", in, "--overwrite"}},
		{"--out is --in by another name", []string{"--out", filepath.Join(dir, ".", "sub", "..", "fix.csv"), "--overwrite"}},
		{"--out is a symlink to --in", []string{"--out", filepath.Join(dir, "link.csv"), "--overwrite"}},
		{"--out is a hard link to --in", []string{"--out", filepath.Join(dir, "hard.csv"), "--resume"}},
		{"--summary is --in", []string{"--out", out, "--summary", in}},
		{"--summary is --out", []string{"--out", out, "--summary", out}},
	}
	before, _ := os.ReadFile(in)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"update", "device-statuses", "--in", in, "--emulator"}, tt.args...)
			code, _, stderr := runCmd(t, args...)
			if code != exitUsage || !strings.Contains(stderr, "name the same file") {
				t.Errorf("exit %d, want %d naming the clash; stderr:\n%s", code, exitUsage, stderr)
			}
			if after, _ := os.ReadFile(in); !bytes.Equal(before, after) {
				t.Errorf("the input changed")
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was created", out)
			}
		})
	}
}

// TestStdinIsTheOutput: --in - with standard input redirected from the file
// --out names.
func TestStdinIsTheOutput(t *testing.T) {
	dir := t.TempDir()
	in := copySample(t, dir, "fix.csv")
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var errOut bytes.Buffer
	code := run(t.Context(), []string{"update", "device-statuses", "--in", "-", "--out", in, "--overwrite", "--emulator"}, streams{In: f, Out: &bytes.Buffer{}, Err: &errOut})
	if code != exitUsage || !strings.Contains(errOut.String(), "name the same file") {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, errOut.String())
	}
}

// TestSummaryReflectsTheLastRun: a stale "completed" summary once survived
// a failed start, so an alert on it stayed silent (issue #10.5).
func TestSummaryReflectsTheLastRun(t *testing.T) {
	dir := t.TempDir()
	in := copySample(t, dir, "fix.csv")
	summary := filepath.Join(dir, "summary.json")
	same := filepath.Join(dir, "same.csv")
	status := func() (string, int) {
		t.Helper()
		var s struct {
			Status   string `json:"status"`
			ExitCode int    `json:"exitCode"`
		}
		data, err := os.ReadFile(summary)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatalf("summary %s: %v", data, err)
		}
		return s.Status, s.ExitCode
	}
	tests := []struct {
		name       string
		args       []string
		wantStatus string
		wantCode   int
	}{
		{"completed", []string{"--emulator", "--overwrite"}, "completed", exitOK},
		{"a bad flag value", []string{"--emulator", "--overwrite", "--rate", "fast"}, "usage", exitUsage},
		{"completed again", []string{"--emulator", "--overwrite"}, "completed", exitOK},
		{"a flag cobra refuses", []string{"--emulator", "--overwrite", "--concurrency", "many"}, "usage", exitUsage},
		{"completed once more", []string{"--emulator", "--overwrite"}, "completed", exitOK},
		{"completed before a clash", []string{"--emulator", "--overwrite"}, "completed", exitOK},
		{"--backup is --out", []string{"--emulator", "--overwrite", "--out", same, "--backup", same}, "usage", exitUsage},
		{"a failed sign-in", []string{"--overwrite", "--auth", "secret", "--tenant-id", "t", "--client-id", "c", "--authority-host", "https://127.0.0.1:1"}, "fatal", exitFatal},
	}
	for _, tt := range tests {
		args := append([]string{"update", "device-statuses", "--in", in, "--summary", summary}, tt.args...)
		t.Setenv("AZURE_CLIENT_SECRET", "not-a-secret")
		code, _, stderr := runCmd(t, args...)
		if code != tt.wantCode {
			t.Fatalf("%s: exit %d, want %d; stderr:\n%s", tt.name, code, tt.wantCode, stderr)
		}
		if s, c := status(); s != tt.wantStatus || c != tt.wantCode {
			t.Errorf("%s: summary says %s, exit %d; want %s, %d", tt.name, s, c, tt.wantStatus, tt.wantCode)
		}
	}
}

// TestResumeCommandIsShellSafe: the printed command once broke (or ran
// other commands) for file names with backticks, |, &&, > or newlines
// (issue #10.11). A POSIX shell must read it back as the same words.
func TestResumeCommandIsShellSafe(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	names := []string{
		"plain.csv", "with space.csv", "it's.csv", "`reboot`.csv", "a|b.csv", "x && rm -rf ~.csv", "out>here.csv",
		"new\nline.csv", "$(id).csv", "tab\there.csv", "esc\x1b[31m.csv", "c1\u009b.csv", `back\slash.csv`, "-dash.csv", "",
	}
	for _, name := range names {
		opts := &updateOptions{Resource: "device-statuses", In: name, Out: name + ".results.csv", Target: targetOptions{APIVersion: "beta"}}
		line := strings.TrimSuffix(resumeCommand(opts), " [your other flags]")
		if strings.ContainsFunc(line, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 }) {
			t.Errorf("command for %q holds a control character: %q", name, line)
		}
		out, err := exec.Command(sh, "-c", `printf '%s\0' `+line[len("graphbatch "):]).Output()
		if err != nil {
			t.Errorf("sh could not read %q: %v", line, err)
			continue
		}
		got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		want := []string{"update", "device-statuses", "--in", name, "--out", name + ".results.csv", "--resume", "--api-version", "beta"}
		if !slices.Equal(got, want) {
			t.Errorf("sh reads %q as %q, want %q", line, got, want)
		}
	}
}

func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	dir := t.TempDir()
	in := copySample(t, dir, "fix.csv")
	code, _, stderr := runCmd(t, "update", "device-statuses", "--in", in, "--graph-endpoint", "http://anyhost:8080", "--auth", "none")
	if code != exitUsage || !strings.Contains(stderr, "plain http") {
		t.Errorf("exit %d, want %d refusing plain http; stderr:\n%s", code, exitUsage, stderr)
	}
}

func TestLogLevels(t *testing.T) {
	dir := t.TempDir()
	in := copySample(t, dir, "fix.csv")
	for level, want := range map[string]int{"trace": exitOK, "debug": exitOK, "error": exitOK, "fatal": exitUsage, "disabled": exitUsage, "-1": exitUsage} {
		code, _, stderr := runCmd(t, "update", "device-statuses", "--in", in, "--dry-run", "--overwrite", "--log-level", level)
		if code != want {
			t.Errorf("--log-level %s: exit %d, want %d; stderr:\n%s", level, code, want, stderr)
		}
	}
}

func TestTerminalSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain name.csv", "plain name.csv"},
		{"two\nlines\tand tab", "two\nlines\tand tab"},
		{"no\x1b[31m.csv", `no\x1b[31m.csv`},
		{"bell\x07 del\x7f c1\u009b", `bell\x07 del\x7f c1\x9b`},
		{"invoice\u202ecod.exe and \u2066isolated\u2069", `invoice\u202ecod.exe and \u2066isolated\u2069`},
		{"naïve Ωmega 日本", "naïve Ωmega 日本"},
	}
	for _, tt := range tests {
		if got := terminalSafe(tt.in); got != tt.want {
			t.Errorf("terminalSafe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// A file name that would drive the terminal is shown escaped in the
	// error that names it.
	code, _, stderr := runCmd(t, "update", "device-statuses", "--in", "no\x1b]0;owned\x07.csv", "--dry-run")
	if code != exitUsage || strings.ContainsAny(stderr, "\x1b\x07") || !strings.Contains(stderr, `no\x1b]0;owned\x07.csv`) {
		t.Errorf("exit %d, stderr %q: want exit 2 naming the file escaped", code, stderr)
	}
}

// TestShellWord: a name shellWord quotes reads back as itself through a
// POSIX shell, and what it prints holds no control character and no
// control of text direction raw.
func TestShellWord(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, name := range []string{
		"plain.csv", "with space.csv", "it's.csv", "", "-dash", "a\nb\tc", "esc\x1b[31m.csv",
		"invoice\u202ecod.exe", "naïve 日本.csv", `$HOME "q" \ * ?`,
	} {
		word := shellWord(name)
		if strings.IndexFunc(word, unsafeForTerminal) >= 0 {
			t.Errorf("shellWord(%q) = %q, which holds a character unsafe for a terminal", name, word)
		}
		out, err := exec.Command(sh, "-c", "printf %s "+word).Output()
		if err != nil || string(out) != name {
			t.Errorf("sh reads shellWord(%q) = %s back as %q (%v)", name, word, out, err)
		}
	}
}
