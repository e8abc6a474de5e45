package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// statusGET returns the status and deviceDisplayName the emulator at emu
// answers for the device status p1/id, as cells.
func statusGET(t *testing.T, emu, id string) map[string]string {
	t.Helper()
	var v map[string]any
	getJSON(t, emu+"/v1.0"+graphtest.DeviceStatusPath("p1", id), &v)
	out := make(map[string]string)
	for _, col := range []string{"status", "deviceDisplayName"} {
		switch s, ok := v[col].(string); {
		case v[col] == nil:
			out[col] = "#null"
		case ok && s == "":
			out[col] = "#empty"
		default:
			out[col] = s
		}
	}
	return out
}

// TestKillBetweenBackupAndPatch runs update --skip-unchanged --backup as a
// process against graphbatch emulate with latency, kills it with SIGKILL
// twice while envelopes are in flight, and resumes it. Every entity the
// store changed must have its backup at every kill; at the end every row
// is updated or unchanged, the backup holds each entity's column once,
// with the value it had before the first run, and restoring it gives the
// store back exactly.
func TestKillBetweenBackupAndPatch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes in real time")
	}
	const entities = 1200 // the last 100 never written before: virtual
	dir := t.TempDir()
	emu := startEmulator(t, "--write-limit", "0", "--tenant-write-limit", "0", "--latency", "100ms", "--seed", "13")
	endpoint := []string{"--graph-endpoint", emu, "--auth", "none", "--rate", "100000/s", "--read-rate", "100000/s"}

	// What Graph holds first: statuses of both kinds, names, nulls and
	// empty strings.
	var b bytes.Buffer
	b.WriteString("policyId,id,status,deviceDisplayName\n")
	for j := 1; j <= entities-100; j++ {
		name := fmt.Sprintf("LT-%d", j)
		switch j % 7 {
		case 0:
			name = "#null"
		case 1:
			name = "#empty"
		}
		status := "nonCompliant"
		if j%3 == 0 {
			status = "compliant"
		}
		fmt.Fprintf(&b, "p1,d%d,%s,%s\n", j, status, name)
	}
	seed := filepath.Join(dir, "seed.csv")
	writeFile(t, seed, b.String())
	if code, _, stderr := runCmd(t, append([]string{"update", "device-statuses", "--in", seed, "--out", filepath.Join(dir, "seed.results.csv")}, endpoint...)...); code != exitOK {
		t.Fatalf("seeding: exit %d; stderr:\n%s", code, stderr)
	}
	before := make(map[string]map[string]string)
	for j := 1; j <= entities; j++ {
		id := fmt.Sprintf("d%d", j)
		before[id] = statusGET(t, emu, id)
	}

	// The change: every status compliant, some names; then a second row
	// for some entities, setting the name again.
	type change struct{ id, status, name string }
	var rows []change
	for j := 1; j <= entities; j++ {
		c := change{id: fmt.Sprintf("d%d", j), status: "compliant"}
		if j%5 == 0 {
			c.name = fmt.Sprintf("New-%d", j)
		}
		rows = append(rows, c)
	}
	for j := 1; j <= 200; j += 4 {
		rows = append(rows, change{id: fmt.Sprintf("d%d", j), name: fmt.Sprintf("Again-%d", j)})
	}
	b.Reset()
	b.WriteString("policyId,id,status,deviceDisplayName\n")
	for _, c := range rows {
		fmt.Fprintf(&b, "p1,%s,%s,%s\n", c.id, c.status, c.name)
	}
	in, out, bak := filepath.Join(dir, "change.csv"), filepath.Join(dir, "change.results.csv"), filepath.Join(dir, "backup.csv")
	writeFile(t, in, b.String())

	// The backup each entity's columns should get: the value before the
	// first row that changes the entity, once.
	wantBackup := make(map[string]string) // "id/column" → cell
	held := make(map[string]map[string]string)
	for id, v := range before {
		held[id] = map[string]string{"status": v["status"], "deviceDisplayName": v["deviceDisplayName"]}
	}
	for _, c := range rows {
		sets := map[string]string{"status": c.status, "deviceDisplayName": c.name}
		changed := false
		for col, v := range sets {
			changed = changed || (v != "" && held[c.id][col] != v)
		}
		for col, v := range sets {
			if v == "" || !changed {
				continue
			}
			if _, done := wantBackup[c.id+"/"+col]; !done {
				wantBackup[c.id+"/"+col] = held[c.id][col]
			}
			held[c.id][col] = v
		}
	}

	args := append([]string{"--in", in, "--out", out, "--backup", bak, "--skip-unchanged", "--log-format", "json"}, endpoint...)
	patched := counters(t, emu).Patches
	for i, at := range []int{150, 600} {
		a := args
		if i > 0 {
			a = append(a, "--resume")
		}
		u := startUpdate(t, a...)
		waitFor(t, emu, fmt.Sprintf("%d PATCHes", at), func(c graphtest.Counters) bool { return c.Patches >= patched+at })
		if err := u.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if code := u.wait(t); code != -int(syscall.SIGKILL) {
			t.Fatalf("kill %d: exit %d, want death by SIGKILL; stderr:\n%s", i+1, code, u.stderr.String())
		}
		// Whatever the store changed has its backup already.
		backup := backupCells(t, bak)
		changedNow := 0
		for id, was := range before {
			now := statusGET(t, emu, id)
			for col, v := range now {
				if v == was[col] {
					continue
				}
				changedNow++
				if got, ok := backup[id+"/"+col]; !ok || len(got) == 0 || got[0] != was[col] {
					t.Errorf("kill %d: %s's %s changed from %q to %q, and its backup is %q", i+1, id, col, was[col], v, got)
				}
			}
		}
		t.Logf("kill %d: %d values changed in the store, %d backed up", i+1, changedNow, len(backup))
	}
	u := startUpdate(t, append(args, "--resume")...)
	if code := u.wait(t); code != exitOK {
		t.Fatalf("final resume: exit %d; stderr:\n%s", code, u.stderr.String())
	}

	recs, _ := journalLines(t, out)
	last := make(map[string]string)
	for _, r := range recs[1:] {
		last[r[0]] = r[3]
	}
	for n := 1; n <= len(rows); n++ {
		if o := last[fmt.Sprint(n)]; o != string(csvio.Updated) && o != string(csvio.Unchanged) {
			t.Errorf("row %d: last outcome %q, want updated or unchanged", n, o)
		}
	}
	backup := backupCells(t, bak)
	for pair, cells := range backup {
		if len(cells) != 1 {
			t.Errorf("backup holds %s %d times: %q", pair, len(cells), cells)
		}
		if want, ok := wantBackup[pair]; !ok || cells[0] != want {
			t.Errorf("backup of %s = %q, want %q (backed up: %v)", pair, cells[0], want, ok)
		}
	}
	for pair := range wantBackup {
		if _, ok := backup[pair]; !ok {
			t.Errorf("backup lacks %s", pair)
		}
	}

	if code, _, stderr := runCmd(t, append([]string{"update", "device-statuses", "--in", bak, "--out", filepath.Join(dir, "undo.csv")}, endpoint...)...); code != exitOK {
		t.Fatalf("restore: exit %d; stderr:\n%s", code, stderr)
	}
	for id, was := range before {
		if now := statusGET(t, emu, id); now["status"] != was["status"] || now["deviceDisplayName"] != was["deviceDisplayName"] {
			t.Errorf("%s after the restore: %v, before: %v", id, now, was)
		}
	}
}

// backupCells reads a device-statuses backup: "id/column" → the cells
// backed up for it, in file order.
func backupCells(t *testing.T, path string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1] // a kill tears no line, but a torn one is not a record
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	out := make(map[string][]string)
	if len(recs) == 0 {
		return out
	}
	header := recs[0]
	if !slices.Equal(header[:2], []string{"policyId", "id"}) {
		t.Fatalf("backup header %q", header)
	}
	for _, r := range recs[1:] {
		for i := 2; i < len(r); i++ {
			if r[i] != "" {
				pair := strings.ToLower(r[1]) + "/" + header[i]
				out[pair] = append(out[pair], r[i])
			}
		}
	}
	return out
}
