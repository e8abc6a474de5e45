package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// TestMetadataSaveThenLoad saves beta's metadata from the emulator, which
// serves GET /beta/$metadata, and uses the file with --metadata.
func TestMetadataSaveThenLoad(t *testing.T) {
	t.Parallel()
	emu := graphtest.NewServer(graphtest.Options{})
	defer emu.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "beta.csdl")
	code, stdout, stderr := runCmd(t, "metadata", "save", "--api-version", "beta", "--out", file, "--graph-endpoint", emu.URL)
	if code != exitOK || !strings.Contains(stdout, "saved beta metadata") {
		t.Fatalf("metadata save: exit %d; stdout %q; stderr:\n%s", code, stdout, stderr)
	}
	want, err := graph.BuiltinCSDL(graph.Beta)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFileString(t, file); got != string(want) {
		t.Errorf("saved %d bytes, not the %d bytes the emulator serves", len(got), len(want))
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("saved file: %v, %v; want mode -rw-r--r-- like graphbatch's other files", fi.Mode(), err)
	}
	code, stdout, stderr = runCmd(t, "resources", "device-statuses", "--api-version", "beta", "--metadata", file)
	if code != exitOK {
		t.Fatalf("resources --metadata: exit %d; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"metadata: " + file, "platform", "Int32"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("resources --metadata output lacks %q:\n%s", want, stdout)
		}
	}
}

// TestMetadataSaveOpensBeta follows betaHint for a target the built-in
// beta lacks: with a beta that has users (here v1.0's metadata served as
// beta), the saved file makes /beta/users a target.
func TestMetadataSaveOpensBeta(t *testing.T) {
	t.Parallel()
	v1, err := graph.BuiltinModel(graph.V1)
	if err != nil {
		t.Fatal(err)
	}
	csdl, err := graph.BuiltinCSDL(graph.V1)
	if err != nil {
		t.Fatal(err)
	}
	emu := graphtest.NewServer(graphtest.Options{
		Models: map[graph.Version]*graph.Model{graph.Beta: v1},
		CSDL:   map[graph.Version][]byte{graph.Beta: csdl},
	})
	defer emu.Close()
	dir := t.TempDir()
	in := writeIn(t, dir, "hr.csv", "id,department\nAdeleV@contoso.com,Finance\n")
	file := filepath.Join(dir, "beta.csdl")
	if code, _, stderr := runCmd(t, "update", "users", "--api-version", "beta", "--in", in, "--dry-run"); code != exitUsage || !strings.Contains(stderr, "metadata save --api-version beta") {
		t.Fatalf("users on the built-in beta: exit %d, want %d with the hint; stderr:\n%s", code, exitUsage, stderr)
	}
	if code, _, stderr := runCmd(t, "metadata", "save", "--out", file, "--graph-endpoint", emu.URL); code != exitOK {
		t.Fatalf("metadata save: exit %d; stderr:\n%s", code, stderr)
	}
	code, stderr := updateAgainst(t, emu, "users", "--api-version", "beta", "--metadata", file, "--in", in)
	if code != exitOK {
		t.Fatalf("update with --metadata: exit %d; stderr:\n%s", code, stderr)
	}
	if e, ok := emu.Entity(graph.Beta, "/users/AdeleV@contoso.com"); !ok || e.Properties["department"] != "Finance" {
		t.Errorf("beta store: %+v, %v; want the user's department", e, ok)
	}
}

// TestMetadataSaveFailsCleanly checks that a save that fails says why and
// leaves --out as it was: no half file, no temporary file beside it.
func TestMetadataSaveFailsCleanly(t *testing.T) {
	t.Parallel()
	csdl, err := graph.BuiltinCSDL(graph.Beta)
	if err != nil {
		t.Fatal(err)
	}
	serve := func(h http.HandlerFunc) string {
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return s.URL
	}
	closed := func() string { // a port nothing listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String()
	}()
	tests := []struct {
		name     string
		endpoint string
		code     int
		mention  string
	}{
		{"unreachable", closed, exitFatal, "fetching " + closed + "/beta/$metadata"},
		{"not a root", closed + "/beta", exitUsage, "without a path"},
		{"Graph's error", serve(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":"serviceNotAvailable","message":"try later"}}`))
		}), exitFatal, "serviceNotAvailable"},
		{"not metadata", serve(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<html><body>Sign in to the guest network</body></html>"))
		}), exitFatal, "the answer is not usable metadata: csdl: not a CSDL document"},
		{"cut off", serve(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "100000")
			_, _ = w.Write(csdl[:len(csdl)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // the connection drops mid-document
		}), exitFatal, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := writeIn(t, dir, "beta.csdl", "the file saved last week")
			code, _, stderr := runCmd(t, "metadata", "save", "--api-version", "beta", "--out", file, "--graph-endpoint", tt.endpoint)
			if code != tt.code || !strings.Contains(stderr, tt.mention) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tt.code, tt.mention)
			}
			// The message names the URL once, and never the temporary
			// file, which is gone.
			if strings.Count(stderr, "$metadata") > 1 || strings.Contains(stderr, ".graphbatch-metadata-") {
				t.Errorf("message repeats the URL or names the temporary file: %q", stderr)
			}
			if got := readFileString(t, file); got != "the file saved last week" {
				t.Errorf("--out changed by a failed save: %.80q", got)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				names := slices.Collect(func(yield func(string) bool) {
					for _, e := range entries {
						yield(e.Name())
					}
				})
				t.Errorf("the directory holds %q, want only beta.csdl", names)
			}
		})
	}
}
