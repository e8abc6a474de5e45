package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// runCmd runs graphbatch with args in process and returns its exit status
// and what it wrote to stdout and stderr.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

// readResults parses a results file into csvio.Results, after checking
// its header line.
func readResults(t *testing.T, path string) []csvio.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	var keys []string // the columns between row and outcome
	if len(recs) > 0 && len(recs[0]) >= 10 {
		keys = recs[0][1 : len(recs[0])-8]
	}
	want := csvio.ResultHeader(keys)
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(want, ",") {
		t.Fatalf("results header = %q, want %q", recs[:min(len(recs), 1)], want)
	}
	var results []csvio.Result
	for _, rec := range recs[1:] {
		num := func(s string) int {
			if s == "" {
				return 0
			}
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("%s: %q: %v", path, rec, err)
			}
			return n
		}
		k := len(keys)
		r := csvio.Result{
			Row: num(rec[0]), Keys: rec[1 : 1+k], Outcome: csvio.Outcome(rec[1+k]), HTTPStatus: num(rec[2+k]),
			ErrorCode: rec[3+k], ErrorMessage: rec[4+k], Attempts: num(rec[5+k]), RequestID: rec[6+k], ClientRequestID: rec[7+k],
		}
		if rec[8+k] != "" {
			if r.FinishedAt, err = time.Parse(time.RFC3339Nano, rec[8+k]); err != nil {
				t.Fatalf("%s: %q: %v", path, rec, err)
			}
		}
		results = append(results, r)
	}
	return results
}

// readCSV returns a CSV file's records as maps from column to cell.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		m := make(map[string]string)
		for i, name := range recs[0] {
			m[name] = rec[i]
		}
		rows = append(rows, m)
	}
	return rows
}

var guid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestUpdateEndToEnd runs the real command against the emulator for both
// resources on both API versions, then checks the results file line by
// line and the emulator's store value by value.
func TestUpdateEndToEnd(t *testing.T) {
	tests := []struct {
		resource, version, sample string
	}{
		{"device-statuses", "v1.0", "device-statuses.csv"},
		{"device-statuses", "beta", "device-statuses-beta.csv"},
		{"user-statuses", "v1.0", "user-statuses.csv"},
		{"user-statuses", "beta", "user-statuses.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.resource+" "+tt.version, func(t *testing.T) {
			t.Parallel()
			emu := graphtest.NewServer(graphtest.Options{})
			defer emu.Close()
			in := filepath.Join("..", "..", "samples", tt.sample)
			out := filepath.Join(t.TempDir(), "results.csv")
			code, _, stderr := runCmd(t, "update", tt.resource, "--in", in, "--out", out,
				"--api-version", tt.version, "--graph-endpoint", emu.URL, "--auth", "none")
			if code != exitOK {
				t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
			}
			rows := readCSV(t, in)
			checkResults(t, readResults(t, out), rows)
			checkStore(t, emu, tt.resource, tt.version, rows)
		})
	}
}

func checkResults(t *testing.T, results []csvio.Result, rows []map[string]string) {
	t.Helper()
	checkResultsFor(t, results, rows, []string{"policyId", "id"}, 200)
}

// checkResultsFor checks that results hold one updated line per row, with
// the row's key columns keys and Graph's answer status.
func checkResultsFor(t *testing.T, results []csvio.Result, rows []map[string]string, keys []string, status int) {
	t.Helper()
	if len(results) != len(rows) {
		t.Errorf("%d result lines for %d rows", len(results), len(rows))
	}
	seen := make(map[int]bool)
	for _, r := range results {
		if r.Row < 1 || r.Row > len(rows) || seen[r.Row] {
			t.Errorf("result for row %d: out of range or repeated", r.Row)
			continue
		}
		seen[r.Row] = true
		var want []string
		for _, k := range keys {
			want = append(want, rows[r.Row-1][k])
		}
		if !slices.Equal(r.Keys, want) {
			t.Errorf("row %d: keys %q, want %q", r.Row, r.Keys, want)
		}
		if r.Outcome != csvio.Updated || r.HTTPStatus != status || r.Attempts != 1 || r.ErrorCode != "" || r.ErrorMessage != "" {
			t.Errorf("row %d: %+v, want updated with %d in one attempt", r.Row, r, status)
		}
		if !guid.MatchString(r.RequestID) || !guid.MatchString(r.ClientRequestID) {
			t.Errorf("row %d: requestId %q, clientRequestId %q, want GUIDs", r.Row, r.RequestID, r.ClientRequestID)
		}
		if age := time.Since(r.FinishedAt); age < 0 || age > time.Minute {
			t.Errorf("row %d: finishedAt %v is not just now", r.Row, r.FinishedAt)
		}
	}
}

func checkStore(t *testing.T, emu *graphtest.Server, resource, version string, rows []map[string]string) {
	t.Helper()
	m, err := graph.BuiltinModel(graph.Version(version))
	if err != nil {
		t.Fatal(err)
	}
	target, err := graph.OpenTarget(resource, m, graph.Version(version))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(emu.Entities()); got != len(rows) {
		t.Errorf("store holds %d entities, want %d", got, len(rows))
	}
	for i, row := range rows {
		e, ok := emu.Entity(graph.Version(version), target.Path([]string{row["policyId"], row["id"]}))
		if !ok {
			t.Errorf("row %d: entity %s/%s not in the store", i+1, row["policyId"], row["id"])
			continue
		}
		want := make(map[string]string)
		for _, p := range target.Settable() {
			if cell := row[p.Name]; cell != "" {
				want[p.Name] = canonical(p, cell)
			}
		}
		got := make(map[string]string)
		for name, v := range e.Properties {
			got[name] = fmt.Sprint(v)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("row %d: stored %v, want %v", i+1, got, want)
		}
	}
}

// canonical is the value Graph should store for a CSV cell.
func canonical(p *graph.Prop, cell string) string {
	for _, m := range p.Type.Members {
		if strings.EqualFold(m, cell) {
			return m
		}
	}
	return cell
}

// TestSamplesWithEmulator runs the README's first command on every valid
// sample, so that the demo never rots.
func TestSamplesWithEmulator(t *testing.T) {
	seed := []string{"policyId", "id"}
	for _, s := range []struct {
		resource, sample, version string
		keys                      []string // the key columns
		status                    int      // Graph's answer to a PATCH of the target
	}{
		{"device-statuses", "device-statuses.csv", "v1.0", seed, 200},
		{"user-statuses", "user-statuses.csv", "v1.0", seed, 200},
		{"device-statuses", "device-statuses-beta.csv", "beta", seed, 200},
		{"users", "users.csv", "v1.0", []string{"id"}, 204},
		{"managed-devices", "managed-devices.csv", "v1.0", []string{"id"}, 200},
		{"compliance-policies", "compliance-policies.csv", "v1.0", []string{"id"}, 200},
	} {
		t.Run(s.sample, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "results.csv")
			in := filepath.Join("..", "..", "samples", s.sample)
			code, _, stderr := runCmd(t, "update", s.resource, "--in", in, "--out", out, "--emulator", "--api-version", s.version)
			if code != exitOK {
				t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
			}
			checkResultsFor(t, readResults(t, out), readCSV(t, in), s.keys, s.status)
		})
	}
}

func TestSampleWithErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "results.csv")
	code, _, stderr := runCmd(t, "update", "device-statuses", "--in", "../../samples/with-errors.csv", "--out", out, "--emulator")
	if code != exitRowsFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr)
	}
	want := map[int]struct {
		outcome csvio.Outcome
		mention string // what the error message must name
	}{
		1: {csvio.Updated, ""},
		2: {csvio.Invalid, "column status"},
		3: {csvio.Invalid, "column lastReportedDateTime"},
		4: {csvio.Invalid, "column lastReportedDateTime"},
		5: {csvio.Invalid, "column id"},
		6: {csvio.Invalid, "no property"},
		7: {csvio.Failed, "not found"},
		8: {csvio.Invalid, "column lastReportedDateTime"},
		9: {csvio.Updated, ""},
	}
	results := readResults(t, out)
	if len(results) != len(want) {
		t.Errorf("%d results, want %d", len(results), len(want))
	}
	for _, r := range results {
		w := want[r.Row]
		if r.Outcome != w.outcome || !strings.Contains(r.ErrorMessage, w.mention) {
			t.Errorf("row %d: %s %q, want %s mentioning %q", r.Row, r.Outcome, r.ErrorMessage, w.outcome, w.mention)
		}
		if r.Outcome == csvio.Failed && (r.HTTPStatus != 404 || r.ErrorCode != "ResourceNotFound") {
			t.Errorf("row %d: %d %s, want 404 ResourceNotFound", r.Row, r.HTTPStatus, r.ErrorCode)
		}
	}
}

// TestUpdateRefusesBeforeSending checks usage and input errors: exit 2,
// nothing sent, no results file written.
func TestUpdateRefusesBeforeSending(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.csv", "policyId,id,status\np,d,compliant\n")
	unknown := write("unknown.csv", "policyId,id,stauts\np,d,compliant\n")
	platform := write("platform.csv", "policyId,id,platform\np,d,1\n")
	noID := write("noid.csv", "policyId,status\np,compliant\n")
	existing := write("existing.csv", "row\n1\n")
	tests := []struct {
		name    string
		args    []string
		mention string
	}{
		{"unknown target", []string{"update", "device-status", "--in", good}, "unknown target \"device-status\""},
		{"unknown template segment", []string{"update", "/user/{id}", "--in", good}, `segment 1 "user" is not an entity set or singleton; nearest: users`},
		{"template without a key", []string{"update", "/users", "--in", good}, "must end in a key"},
		{"a target beta lacks", []string{"update", "users", "--api-version", "beta", "--in", good}, "metadata save --api-version beta"},
		{"no resource", []string{"update", "--in", good}, "accepts 1 arg"},
		{"unknown flag", []string{"update", "device-statuses", "--in", good, "--bogus"}, "unknown flag"},
		{"unknown command", []string{"updat"}, "unknown command"},
		{"no input", []string{"update", "device-statuses", "--emulator"}, "--in is required"},
		{"missing input file", []string{"update", "device-statuses", "--in", filepath.Join(dir, "nope.csv"), "--emulator"}, "no such file"},
		{"stdin without --out", []string{"update", "device-statuses", "--in", "-", "--emulator"}, "--out is required"},
		{"batch size", []string{"update", "device-statuses", "--in", good, "--emulator", "--batch-size", "21"}, "--batch-size"},
		{"api version", []string{"update", "device-statuses", "--in", good, "--emulator", "--api-version", "v2"}, "unknown API version"},
		{"unknown column", []string{"update", "device-statuses", "--in", unknown, "--emulator"}, `unknown column "stauts" (did you mean status?)`},
		{"beta-only column on v1.0", []string{"update", "device-statuses", "--in", platform, "--emulator"}, `unknown column "platform": platform exists on beta only: add --api-version beta`},
		{"no id column", []string{"update", "device-statuses", "--in", noID, "--emulator"}, "no id column"},
		{"results exist", []string{"update", "device-statuses", "--in", good, "--out", existing, "--emulator"}, "--overwrite"},
		{"no credentials", []string{"update", "device-statuses", "--in", good}, "no credentials found"},
		{"unknown cloud, dry run", []string{"update", "device-statuses", "--in", good, "--dry-run", "--cloud", "mars"}, `unknown cloud "mars"`},
		{"unknown auth, dry run", []string{"update", "device-statuses", "--in", good, "--dry-run", "--auth", "foo"}, `unknown --auth "foo"`},
		{"bad graph endpoint, dry run", []string{"update", "device-statuses", "--in", good, "--dry-run", "--graph-endpoint", "ftp://x/y"}, "--graph-endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.mention) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, exitUsage, tt.mention)
			}
		})
	}
	for _, p := range []string{good, unknown, platform, noID} {
		if _, err := os.Stat(strings.TrimSuffix(p, ".csv") + ".results.csv"); err == nil {
			t.Errorf("a refused run wrote %s.results.csv", p)
		}
	}
}

func TestUpdateFromStdinAndOverwrite(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.csv")
	for range 2 { // the second run replaces the first's results
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), []string{"update", "user-statuses", "--in", "-", "--out", out, "--emulator", "--overwrite"},
			streams{In: strings.NewReader("\ufeffPOLICYID;Id;Status\r\np;u1;NONCOMPLIANT\r\np;u2;compliant\r\n"), Out: &stdout, Err: &stderr})
		if code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
		}
	}
	if got := len(readResults(t, out)); got != 2 {
		t.Errorf("%d results after two overwriting runs, want 2", got)
	}
}

func TestDryRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.csv")
	code, _, stderr := runCmd(t, "update", "device-statuses", "--in", "../../samples/with-errors.csv", "--out", out, "--dry-run")
	if code != exitRowsFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr)
	}
	counts := make(map[csvio.Outcome]int)
	for _, r := range readResults(t, out) {
		counts[r.Outcome]++
	}
	// Row 7 (an unknown entity) is valid: only Graph can tell it is missing.
	if counts[csvio.Valid] != 3 || counts[csvio.Invalid] != 6 {
		t.Errorf("dry run outcomes %v, want 3 valid and 6 invalid", counts)
	}
}

// TestDefaultResultsPath checks the results file's default name: the
// input's with .results.csv in place of .csv, in any letter case.
func TestDefaultResultsPath(t *testing.T) {
	for in, want := range map[string]string{
		"fix.csv":     "fix.results.csv",
		"FIX.CSV":     "FIX.results.csv",
		"fix.txt":     "fix.txt.results.csv",
		"dir.csv/fix": "dir.csv/fix.results.csv",
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, in)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("policyId,id,status\np,d,compliant\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := runCmd(t, "update", "device-statuses", "--in", path, "--dry-run"); code != exitOK {
			t.Fatalf("%s: exit %d; stderr:\n%s", in, code, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("--in %s: no results at %s: %v", in, want, err)
		}
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errRowsFailed, 3},
		{fmt.Errorf("run: %w", errRowsFailed), 3},
		{usagef("bad flag"), 2},
		{fmt.Errorf("opening: %w", usagef("x")), 2},
		{os.ErrPermission, 1},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestResourcesListsColumns(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"resources"}, []string{"device-statuses", "user-statuses", "/deviceManagement/deviceCompliancePolicies/{policyId}/deviceStatuses/{id}", "users", "/users/{id}", "managed-devices", "compliance-policies"}},
		{[]string{"resources", "device-statuses", "--api-version", "beta"}, []string{"platform", "Int32", "complianceStatus: unknown|notApplicable", "DeviceManagementConfiguration.ReadWrite.All", "100/20s", "Intune device configuration"}},
		{[]string{"resources", "user-statuses"}, []string{"devicesCount", "policyId", "key (required)"}},
		{[]string{"resources", "users"}, []string{"department", "usageLocation", "businessPhones", "Collection(String), as JSON", "Identity and access (directory)", "User.ReadWrite.All"}},
		{[]string{"resources", "/deviceManagement/deviceCompliancePolicies/{id}"}, []string{"@odata.type", "passwordRequired", "[androidCompliancePolicy", "Intune device configuration"}},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCmd(t, tt.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, stderr)
		}
		for _, want := range tt.want {
			if !strings.Contains(stdout, want) {
				t.Errorf("%v output lacks %q:\n%s", tt.args, want, stdout)
			}
		}
	}
}

// TestResumeAfterFixingRows follows the summary's advice: fix the invalid
// rows, run again with --resume, and only they are sent.
func TestResumeAfterFixingRows(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "rows.csv"), filepath.Join(dir, "results.csv")
	broken := "policyId,id,status\np,d1,compliant\np,,compliant\np,d3,compliantt\np,d4,compliant,extra\n"
	if err := os.WriteFile(in, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd(t, "update", "device-statuses", "--in", in, "--out", out, "--emulator"); code != exitRowsFailed {
		t.Fatalf("first run: exit %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr)
	}
	fixed := "policyId,id,status\np,d1,compliant\np,d2,compliant\np,d3,compliant\np,d4,compliant\n"
	if err := os.WriteFile(in, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "update", "device-statuses", "--in", in, "--out", out, "--emulator", "--resume")
	if code != exitOK {
		t.Fatalf("resume after fixing: exit %d, want 0; stderr:\n%s", code, stderr)
	}
	last := map[int]csvio.Result{}
	var rowOneSends int
	for _, r := range readResults(t, out) {
		last[r.Row] = r
		if r.Row == 1 {
			rowOneSends++
		}
	}
	for n := 1; n <= 4; n++ {
		if last[n].Outcome != csvio.Updated {
			t.Errorf("row %d: last outcome %s, want updated", n, last[n].Outcome)
		}
	}
	if rowOneSends != 1 {
		t.Errorf("row 1 has %d lines: an updated row was sent again", rowOneSends)
	}
	if !strings.Contains(stderr, "updated (1 in earlier runs)") {
		t.Errorf("summary does not count the earlier run:\n%s", stderr)
	}
}

func TestResourcesShowsReadablePaths(t *testing.T) {
	_, stdout, _ := runCmd(t, "resources")
	if !strings.Contains(stdout, "/deviceManagement/deviceCompliancePolicies/{policyId}/userStatuses/{id}") {
		t.Errorf("resources shows no readable path:\n%s", stdout)
	}
}

// TestSpooledInputLeavesNoCopy: with --resume, input from a pipe is
// copied to a temporary file to be read twice. The copy is unlinked as
// soon as it is made, so that a run killed with -9 leaves no copy of the
// input (which may hold personal data) in the temporary directory.
func TestSpooledInputLeavesNoCopy(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits})
	defer emu.Close()
	put(t, emu, financeStore())
	var mu sync.Mutex
	var during []string // what the temporary directory holds while Graph is asked
	spy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if entries, err := os.ReadDir(tmp); err == nil && during == nil {
			during = []string{}
			for _, e := range entries {
				during = append(during, e.Name())
			}
		}
		emu.Handler().ServeHTTP(w, r)
	}))
	defer spy.Close()
	out := filepath.Join(t.TempDir(), "out.csv")
	var stderr bytes.Buffer
	code := run(t.Context(), []string{"update", "users", "--in", "-", "--out", out, "--resume", "--graph-endpoint", spy.URL, "--auth", "none"},
		streams{In: strings.NewReader("id,department\nf1,Sales\n"), Out: io.Discard, Err: &stderr})
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if during == nil || len(during) > 0 {
		t.Errorf("while the run asked Graph, the temporary directory held %q, want nothing", during)
	}
	if got := readEntity(t, emu, "/users/f1")["department"]; got != "Sales" {
		t.Errorf("f1's department is %v, want Sales", got)
	}
}
