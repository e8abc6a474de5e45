package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// TestRuntimeTuning runs the binary and reads, from its debug log, how it
// set up the Go runtime (README "Performance"): the collector at GOGC 200,
// one processor for a run that sends, every processor for a dry run, and
// the environment's GOGC and GOMAXPROCS when set. 5ee1b00 lost both
// settings without a word.
func TestRuntimeTuning(t *testing.T) {
	t.Parallel()
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits}) // four runs, 160 PATCHes in a few seconds
	defer emu.Close()
	in := filepath.Join("..", "..", "samples", "device-statuses.csv")
	send := []string{"--graph-endpoint", emu.URL, "--auth", "none"}
	tests := []struct {
		name           string
		env            []string
		args           []string
		gogc, maxProcs int
	}{
		{"dry run", nil, []string{"--dry-run"}, 200, runtime.NumCPU()},
		{"sending", nil, send, 200, 1},
		{"GOGC set", []string{"GOGC=50"}, send, 50, 1},
		{"GOMAXPROCS set", []string{"GOMAXPROCS=2"}, send, 200, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "results.csv")
			cmd := exec.Command(graphbatchBinary(t), append([]string{"update", "device-statuses", "--in", in, "--out", out,
				"--log-level", "debug", "--log-format", "json", "--progress", "never"}, tt.args...)...)
			for _, kv := range os.Environ() { // the test's own settings are not the child's
				if !strings.HasPrefix(kv, "GOGC=") && !strings.HasPrefix(kv, "GOMAXPROCS=") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(cmd.Env, tt.env...)
			stderr, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v; output:\n%s", err, stderr)
			}
			var start struct {
				Message    string `json:"message"`
				GOGC       int    `json:"gogc"`
				GOMAXPROCS int    `json:"gomaxprocs"`
			}
			sc := bufio.NewScanner(strings.NewReader(string(stderr)))
			for sc.Scan() {
				if err := json.Unmarshal(sc.Bytes(), &start); err == nil && start.Message == "starting" {
					break
				}
			}
			if start.Message != "starting" || start.GOGC != tt.gogc || start.GOMAXPROCS != tt.maxProcs {
				t.Errorf("started with GOGC %d and GOMAXPROCS %d, want %d and %d; log:\n%s", start.GOGC, start.GOMAXPROCS, tt.gogc, tt.maxProcs, stderr)
			}
		})
	}
}
