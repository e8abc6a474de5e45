package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// These tests read before they write (CONTRACT §8): --skip-unchanged,
// --backup and its restore, plan and export, against the emulator.

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// put stores entities in the emulator as Graph would already hold them:
// path → properties.
func put(t *testing.T, emu *graphtest.Server, entities map[string]map[string]any) {
	t.Helper()
	for path, props := range entities {
		if err := emu.Put(graph.V1, path, props); err != nil {
			t.Fatal(err)
		}
	}
}

// readEntity returns the emulator's answer to GET of the entity at path
// (relative to the v1.0 root), decoded, without its @odata.context.
func readEntity(t *testing.T, emu *graphtest.Server, path string) map[string]any {
	t.Helper()
	resp, err := http.Get(emu.URL + "/v1.0" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s %v", path, resp.StatusCode, body, err)
	}
	var v map[string]any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	delete(v, "@odata.context")
	return v
}

// outcomes returns each row's last outcome in a results file.
func outcomes(t *testing.T, path string) map[int]csvio.Outcome {
	t.Helper()
	m := make(map[int]csvio.Outcome)
	for _, r := range readResults(t, path) {
		m[r.Row] = r.Outcome
	}
	return m
}

// usersStore is what the emulator holds before the tests below change it:
// values of several types, nulls and empty strings among them.
func usersStore() map[string]map[string]any {
	return map[string]map[string]any{
		"/users/u1": {"department": "Finance", "usageLocation": "NL", "employeeHireDate": "2024-03-01T00:00:00Z",
			"businessPhones": []string{"+31 20 555 0100"}, "employeeOrgData": map[string]any{"division": "EMEA", "costCenter": "C1"}},
		"/users/u2": {"department": "Finance", "usageLocation": nil, "jobTitle": ""},
		"/users/u3": {"department": nil, "jobTitle": "Analyst", "employeeOrgData": nil},
		"/users/u4": {"department": "", "usageLocation": "DE"},
	}
}

// TestSkipUnchangedWritesOnlyWhatDiffers: rows whose values equal the
// store's, compared by type, are unchanged and never PATCHed; the others
// are written.
func TestSkipUnchangedWritesOnlyWhatDiffers(t *testing.T) {
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits})
	defer emu.Close()
	put(t, emu, usersStore())
	dir := t.TempDir()
	in, out, summary := filepath.Join(dir, "in.csv"), filepath.Join(dir, "out.csv"), filepath.Join(dir, "summary.json")
	writeFile(t, in, `id,department,usageLocation,employeeHireDate,businessPhones,employeeOrgData
u1,Finance,NL,,,
u1,,,2024-03-01T01:00:00.0000000+01:00,"[""+31 20 555 0100""]","{""costCenter"":""C1"",""division"":""EMEA""}"
u2,Sales,,,,
u3,#null,,,,#null
u4,#empty,DE,,,
u2,,#null,,,
u3,#empty,,,,
u4,#null,,,,
u5,Finance,,,,
U1,finance,,,,
`)
	code, _, stderr := runCmd(t, "update", "users", "--in", in, "--out", out, "--graph-endpoint", emu.URL, "--auth", "none",
		"--skip-unchanged", "--summary", summary)
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	want := map[int]csvio.Outcome{
		1: csvio.Unchanged, 2: csvio.Unchanged, // equal by type: instants, JSON members in any order
		3: csvio.Updated, 4: csvio.Unchanged, 5: csvio.Unchanged, 6: csvio.Unchanged,
		7: csvio.Updated, 8: csvio.Updated, // null is not empty, and empty not null
		9:  csvio.Updated, // an entity never written holds nulls
		10: csvio.Updated, // strings are compared exactly; the id is not
	}
	if got := outcomes(t, out); !reflect.DeepEqual(got, want) {
		t.Errorf("outcomes = %v, want %v", got, want)
	}
	c := emu.Counters()
	if c.Patches != 5 {
		t.Errorf("%d PATCHes, want 5: one for each row that differs", c.Patches)
	}
	if c.Reads != 10 {
		t.Errorf("%d reads, want 10", c.Reads)
	}
	var sum map[string]any
	getFile(t, summary, &sum)
	rows, _ := sum["rows"].(map[string]any)
	for k, w := range map[string]any{"reads": 10.0, "writesSaved": 5.0, "sends": 5.0} {
		if sum[k] != w {
			t.Errorf("summary %s = %v, want %v", k, sum[k], w)
		}
	}
	if rows["unchanged"] != 5.0 || rows["updated"] != 5.0 {
		t.Errorf("summary rows = %v, want 5 unchanged and 5 updated", rows)
	}
	if !strings.Contains(stderr, "5 writes saved") {
		t.Errorf("the summary does not tell the writes saved:\n%s", stderr)
	}
}

// lines returns a file's header, then its other lines sorted.
func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	slices.Sort(all[1:])
	return all
}

// snapshot reads every entity at paths from the emulator.
func snapshot(t *testing.T, emu *graphtest.Server, paths ...string) map[string]map[string]any {
	t.Helper()
	m := make(map[string]map[string]any)
	for _, p := range paths {
		m[p] = readEntity(t, emu, p)
	}
	return m
}

// TestBackupRestoresTheStore: --backup saves, before each row is written,
// what it changes; updating with the backup as input brings the store
// back exactly, nulls and empty strings included, also when two rows set
// the same column of one entity.
func TestBackupRestoresTheStore(t *testing.T) {
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits})
	defer emu.Close()
	put(t, emu, usersStore())
	paths := []string{"/users/u1", "/users/u2", "/users/u3", "/users/u4", "/users/u5"}
	before := snapshot(t, emu, paths...)
	dir := t.TempDir()
	in, out, bak, undo := filepath.Join(dir, "in.csv"), filepath.Join(dir, "out.csv"), filepath.Join(dir, "backup.csv"), filepath.Join(dir, "undo.csv")
	writeFile(t, in, `id,department,usageLocation,jobTitle,businessPhones,employeeOrgData
u1,Sales,,,,
u1,Marketing,,,,
u1,,US,,,
u2,#null,DE,#null,,
u3,#empty,,Boss,"[""+1 555 0100""]","{""division"":""X""}"
u4,Ops,#null,,,
u5,HR,,,,
U1,Legal,GB,,,
`)
	code, _, stderr := runCmd(t, "update", "users", "--in", in, "--out", out, "--backup", bak, "--graph-endpoint", emu.URL, "--auth", "none")
	if code != exitOK {
		t.Fatalf("update: exit %d; stderr:\n%s", code, stderr)
	}
	if got := readEntity(t, emu, "/users/u1")["department"]; got != "Legal" {
		t.Fatalf("u1's department is %v after the update, want Legal", got)
	}
	// Each entity's column once, with the value it had before the run.
	wantBackup := []string{
		"id,businessPhones,department,employeeOrgData,jobTitle,usageLocation",
		"u1,,,,,NL",
		"u1,,Finance,,,",
		"u2,,Finance,,#empty,#null",
		"u3,[],#null,#null,Analyst,",
		"u4,,#empty,,,DE",
		"u5,,#null,,,",
	}
	if got := lines(t, bak); !slices.Equal(got, wantBackup) {
		t.Errorf("backup (sorted):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantBackup, "\n"))
	}
	code, _, stderr = runCmd(t, "update", "users", "--in", bak, "--out", undo, "--graph-endpoint", emu.URL, "--auth", "none")
	if code != exitOK {
		t.Fatalf("restore: exit %d; stderr:\n%s", code, stderr)
	}
	if after := snapshot(t, emu, paths...); !reflect.DeepEqual(after, before) {
		for _, p := range paths {
			if !reflect.DeepEqual(after[p], before[p]) {
				t.Errorf("%s after the restore:\n%v\nbefore the update:\n%v", p, after[p], before[p])
			}
		}
	}
}

// TestBackupOfDerivedTypes: the backup of a target whose entities have
// derived types names each entity's type, so that the properties only
// that type has restore.
func TestBackupOfDerivedTypes(t *testing.T) {
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits})
	defer emu.Close()
	put(t, emu, map[string]map[string]any{
		"/deviceManagement/deviceCompliancePolicies/c1": {"@odata.type": "#microsoft.graph.windows10CompliancePolicy", "displayName": "Win", "passwordRequired": false},
		"/deviceManagement/deviceCompliancePolicies/c2": {"@odata.type": "#microsoft.graph.iosCompliancePolicy", "displayName": "iOS", "passcodeRequired": true},
	})
	paths := []string{"/deviceManagement/deviceCompliancePolicies/c1", "/deviceManagement/deviceCompliancePolicies/c2"}
	before := snapshot(t, emu, paths...)
	dir := t.TempDir()
	in, bak := filepath.Join(dir, "in.csv"), filepath.Join(dir, "backup.csv")
	writeFile(t, in, `id,@odata.type,displayName,passwordRequired,passcodeRequired
c1,windows10CompliancePolicy,Win 2,true,
c2,,iOS 2,,
c2,#microsoft.graph.iosCompliancePolicy,,,false
`)
	code, _, stderr := runCmd(t, "update", "compliance-policies", "--in", in, "--out", filepath.Join(dir, "out.csv"), "--backup", bak,
		"--graph-endpoint", emu.URL, "--auth", "none")
	if code != exitOK {
		t.Fatalf("update: exit %d; stderr:\n%s", code, stderr)
	}
	want := []string{
		"id,@odata.type,displayName,passwordRequired,passcodeRequired",
		"c1,#microsoft.graph.windows10CompliancePolicy,Win,false,",
		"c2,#microsoft.graph.iosCompliancePolicy,,,true",
		"c2,#microsoft.graph.iosCompliancePolicy,iOS,,",
	}
	if got := lines(t, bak); !slices.Equal(got, want) {
		t.Errorf("backup (sorted):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	code, _, stderr = runCmd(t, "update", "compliance-policies", "--in", bak, "--out", filepath.Join(dir, "undo.csv"),
		"--graph-endpoint", emu.URL, "--auth", "none")
	if code != exitOK {
		t.Fatalf("restore: exit %d; stderr:\n%s", code, stderr)
	}
	if after := snapshot(t, emu, paths...); !reflect.DeepEqual(after, before) {
		t.Errorf("after the restore:\n%v\nbefore the update:\n%v", after, before)
	}
}

// TestPlan: plan reads every row's entity, writes a line per property
// that would change, in the input's format, counts the rows to change,
// unchanged, missing and invalid, and writes nothing to Graph.
func TestPlan(t *testing.T) {
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits})
	defer emu.Close()
	put(t, emu, usersStore())
	dir := t.TempDir()
	in, plan, summary := filepath.Join(dir, "in.csv"), filepath.Join(dir, "plan.csv"), filepath.Join(dir, "summary.json")
	writeFile(t, in, `id,@odata.type,department,usageLocation,businessPhones,employeeOrgData
u1,,Finance,NL,,"{""costCenter"":""C1"",""division"":""EMEA""}"
u2,,Sales,#null,,
u3,,#empty,,"[""+1 555 0100""]",
missing-u9,,Finance,,,
u4,,,,,
u4,#microsoft.graph.agentUser,#empty,,,
u1,,,,,"{""division"":""EMEA""}"
`)
	code, _, stderr := runCmd(t, "plan", "users", "--in", in, "--out", plan, "--graph-endpoint", emu.URL, "--auth", "none", "--summary", summary)
	if code != exitRowsFailed {
		t.Fatalf("exit %d, want %d (a row is missing, one invalid); stderr:\n%s", code, exitRowsFailed, stderr)
	}
	want := []string{
		"row,id,property,current,desired",
		`2,u2,department,Finance,Sales`,
		`3,u3,businessPhones,[],"[""+1 555 0100""]"`,
		`3,u3,department,#null,#empty`,
		`6,u4,@odata.type,#microsoft.graph.user,#microsoft.graph.agentUser`,
		`7,u1,employeeOrgData,"{""costCenter"":""C1"",""division"":""EMEA""}","{""division"":""EMEA""}"`,
	}
	if got := lines(t, plan); !slices.Equal(got, want) {
		t.Errorf("plan (sorted):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c := emu.Counters(); c.Patches != 0 || c.Reads != 5 { // the emulator counts the 404 apart
		t.Errorf("%d PATCHes and %d reads answered 200, want 0 and 5", c.Patches, c.Reads)
	}
	var sum map[string]any
	getFile(t, summary, &sum)
	rows, _ := sum["rows"].(map[string]any)
	for k, w := range map[string]float64{"toChange": 4, "unchanged": 1, "failed": 1, "invalid": 1} {
		if rows[k] != w {
			t.Errorf("summary rows.%s = %v, want %v", k, rows[k], w)
		}
	}
	if !strings.Contains(stderr, "4 to change, 1 unchanged, 1 missing or unreadable, 1 invalid") {
		t.Errorf("the summary does not count the plan's rows:\n%s", stderr)
	}

	// Every row planned: exit 0.
	writeFile(t, in, "id,department\nu1,Finance\nu2,Sales\n")
	code, _, stderr = runCmd(t, "plan", "users", "--in", in, "--out", plan, "--overwrite", "--graph-endpoint", emu.URL, "--auth", "none")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	if got := lines(t, plan); !slices.Equal(got, want[:2]) {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want[:2], "\n"))
	}
	if c := emu.Counters(); c.Patches != 0 {
		t.Errorf("plan sent %d PATCHes", c.Patches)
	}
}

// financeStore holds users of two departments, with nulls, empty strings
// and collections among their values.
func financeStore() map[string]map[string]any {
	return map[string]map[string]any{
		"/users/f1": {"department": "Finance", "usageLocation": "NL", "businessPhones": []string{"+31 20 555 0101"}},
		"/users/f2": {"department": "Finance", "usageLocation": nil, "businessPhones": []string{}},
		"/users/f3": {"department": "Finance", "usageLocation": "", "businessPhones": []string{"a", `b "quoted", c`}},
		"/users/f4": {"department": "Finance", "usageLocation": "DE"},
		"/users/f5": {"department": "Finance", "usageLocation": "BE", "jobTitle": "CFO"},
		"/users/s1": {"department": "Sales", "usageLocation": "NL"},
		"/users/s2": {"department": "Sales", "usageLocation": "FR"},
		"/users/x1": {"department": "finance", "usageLocation": "NL"}, // eq 'Finance': the directory compares without case
	}
}

// TestExport: export lists the collection page by page to the end, with
// $select and $filter, into update's input format.
func TestExport(t *testing.T) {
	for _, pages := range []struct {
		name            string
		server, flag    int // the emulator's page size, and --page-size
		wantListedPages int
	}{
		{"--page-size", 0, 2, 3},
		{"server-driven", 3, 0, 2},
	} {
		t.Run(pages.name, func(t *testing.T) {
			emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits, PageSize: pages.server})
			defer emu.Close()
			put(t, emu, financeStore())
			out := filepath.Join(t.TempDir(), "finance.csv")
			args := []string{"export", "users", "--select", "department,usageLocation,businessPhones", "--filter", "department eq 'Finance'",
				"--out", out, "--graph-endpoint", emu.URL, "--auth", "none"}
			if pages.flag > 0 {
				args = append(args, "--page-size", strconv.Itoa(pages.flag))
			}
			code, _, stderr := runCmd(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, stderr)
			}
			want := []string{
				"id,@odata.type,department,usageLocation,businessPhones",
				`f1,#microsoft.graph.user,Finance,NL,"[""+31 20 555 0101""]"`,
				`f2,#microsoft.graph.user,Finance,#null,[]`,
				`f3,#microsoft.graph.user,Finance,#empty,"[""a"",""b \""quoted\"", c""]"`,
				`f4,#microsoft.graph.user,Finance,DE,[]`,
				`f5,#microsoft.graph.user,Finance,BE,[]`,
				`x1,#microsoft.graph.user,finance,NL,[]`,
			}
			if got := lines(t, out); !slices.Equal(got, want) {
				t.Errorf("export:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if got := emu.Counters().Reads; got != pages.wantListedPages {
				t.Errorf("%d pages read, want %d", got, pages.wantListedPages)
			}
		})
	}
}

// TestExportOuterKeys: --key fixes the template's outer placeholders:
// the statuses of one compliance policy, with its id in every row.
func TestExportOuterKeys(t *testing.T) {
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits, PageSize: 2})
	defer emu.Close()
	put(t, emu, map[string]map[string]any{
		graphtest.DeviceStatusPath("p1", "d1"): {"status": "compliant", "deviceDisplayName": "LT-1"},
		graphtest.DeviceStatusPath("p1", "d2"): {"status": "nonCompliant", "deviceDisplayName": nil},
		graphtest.DeviceStatusPath("p1", "d3"): {"status": "error", "deviceDisplayName": ""},
		graphtest.DeviceStatusPath("p2", "d1"): {"status": "unknown", "deviceDisplayName": "LT-1"},
	})
	out := filepath.Join(t.TempDir(), "statuses.csv")
	code, _, stderr := runCmd(t, "export", "device-statuses", "--key", "policyId=p1", "--select", "status,deviceDisplayName",
		"--out", out, "--graph-endpoint", emu.URL, "--auth", "none")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	want := []string{
		"policyId,id,status,deviceDisplayName",
		"p1,d1,compliant,LT-1",
		"p1,d2,nonCompliant,#null",
		"p1,d3,error,#empty",
	}
	if got := lines(t, out); !slices.Equal(got, want) {
		t.Errorf("export:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	code, _, stderr = runCmd(t, "export", "device-statuses", "--select", "status", "--out", filepath.Join(t.TempDir(), "x.csv"),
		"--graph-endpoint", emu.URL, "--auth", "none")
	if code != exitUsage || !strings.Contains(stderr, "--key policyId=VALUE is required") {
		t.Errorf("export without --key: exit %d, want %d naming --key policyId; stderr:\n%s", code, exitUsage, stderr)
	}
}

// TestExportRoundTrip: update --skip-unchanged on an unedited export
// sends no PATCH; after three cells are edited, exactly three.
func TestExportRoundTrip(t *testing.T) {
	tests := []struct {
		target, selected string
		store            map[string]map[string]any
		edit             func(rows [][]string) // edits three cells
	}{
		{"users", "department,usageLocation,businessPhones,employeeOrgData,jobTitle,employeeHireDate", financeStore(), func(rows [][]string) {
			rows[1][2] = "Sales"               // department
			rows[2][3] = "#empty"              // usageLocation: was null
			rows[3][4] = `["+31 20 555 0199"]` // businessPhones
		}},
		{"compliance-policies", "displayName,passwordRequired,passcodeRequired,description", map[string]map[string]any{
			"/deviceManagement/deviceCompliancePolicies/c1": {"@odata.type": "#microsoft.graph.windows10CompliancePolicy", "displayName": "Win", "passwordRequired": true},
			"/deviceManagement/deviceCompliancePolicies/c2": {"@odata.type": "#microsoft.graph.iosCompliancePolicy", "displayName": "iOS", "passcodeRequired": false},
			"/deviceManagement/deviceCompliancePolicies/c3": {"@odata.type": "#microsoft.graph.androidCompliancePolicy", "displayName": "Android", "description": nil},
		}, func(rows [][]string) {
			rows[1][3] = "false"  // c1 passwordRequired
			rows[2][4] = "TRUE"   // c2 passcodeRequired
			rows[3][2] = "#empty" // c3 displayName
		}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits, PageSize: 4})
			defer emu.Close()
			put(t, emu, tt.store)
			dir := t.TempDir()
			export := filepath.Join(dir, "export.csv")
			endpoint := []string{"--graph-endpoint", emu.URL, "--auth", "none"}
			code, _, stderr := runCmd(t, append([]string{"export", tt.target, "--select", tt.selected, "--out", export}, endpoint...)...)
			if code != exitOK {
				t.Fatalf("export: exit %d; stderr:\n%s", code, stderr)
			}
			code, _, stderr = runCmd(t, append([]string{"update", tt.target, "--in", export, "--out", filepath.Join(dir, "r1.csv"), "--skip-unchanged"}, endpoint...)...)
			if code != exitOK {
				t.Fatalf("update: exit %d; stderr:\n%s", code, stderr)
			}
			if n := emu.Counters().Patches; n != 0 {
				t.Errorf("the unedited export sent %d PATCHes, want 0", n)
			}
			for row, o := range outcomes(t, filepath.Join(dir, "r1.csv")) {
				if o != csvio.Unchanged {
					t.Errorf("row %d: %s, want unchanged", row, o)
				}
			}
			rows := readRecords(t, export)
			tt.edit(rows)
			edited := filepath.Join(dir, "edited.csv")
			writeRecords(t, edited, rows)
			code, _, stderr = runCmd(t, append([]string{"update", tt.target, "--in", edited, "--out", filepath.Join(dir, "r2.csv"), "--skip-unchanged"}, endpoint...)...)
			if code != exitOK {
				t.Fatalf("update of the edited export: exit %d; stderr:\n%s", code, stderr)
			}
			if n := emu.Counters().Patches; n != 3 {
				t.Errorf("three edited cells sent %d PATCHes, want 3", n)
			}
		})
	}
}

func readRecords(t *testing.T, path string) [][]string {
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
	return recs
}

func writeRecords(t *testing.T, path string, recs [][]string) {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b.String())
}

// TestExportKeyNotID: an entity whose key property is not "id" exports
// its key in the template's key column, and the export round-trips.
func TestExportKeyNotID(t *testing.T) {
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits})
	defer emu.Close()
	const template = "/policies/crossTenantAccessPolicy/partners/{partnerTenant}"
	put(t, emu, map[string]map[string]any{
		"/policies/crossTenantAccessPolicy/partners/t1": {"isServiceProvider": true},
		"/policies/crossTenantAccessPolicy/partners/t2": {"isServiceProvider": false, "isInMultiTenantOrganization": nil},
	})
	dir := t.TempDir()
	out := filepath.Join(dir, "partners.csv")
	endpoint := []string{"--graph-endpoint", emu.URL, "--auth", "none"}
	code, _, stderr := runCmd(t, append([]string{"export", template, "--select", "isServiceProvider,isInMultiTenantOrganization", "--out", out}, endpoint...)...)
	if code != exitOK {
		t.Fatalf("export: exit %d; stderr:\n%s", code, stderr)
	}
	want := []string{"partnerTenant,isServiceProvider,isInMultiTenantOrganization", "t1,true,#null", "t2,false,#null"}
	if got := lines(t, out); !slices.Equal(got, want) {
		t.Errorf("export:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	code, _, stderr = runCmd(t, append([]string{"update", template, "--in", out, "--out", filepath.Join(dir, "r.csv"), "--skip-unchanged"}, endpoint...)...)
	if code != exitOK || emu.Counters().Patches != 0 {
		t.Errorf("update of the export: exit %d, %d PATCHes; want 0 and 0; stderr:\n%s", code, emu.Counters().Patches, stderr)
	}
}

// TestStatusRoutesRefusingReads: where Intune refuses GET on a status
// route, --skip-unchanged warns once and writes every row unread, and
// --backup writes nothing, failing the rows (and --max-failures stops
// the run).
func TestStatusRoutesRefusingReads(t *testing.T) {
	const rows = 120
	newEmulator := func() *graphtest.Server {
		return graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits, Refuse: graphtest.Refusal{StatusGet: true}})
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "rows.csv")
	writeRows(t, in, rows)

	t.Run("skip-unchanged", func(t *testing.T) {
		emu := newEmulator()
		defer emu.Close()
		out := filepath.Join(t.TempDir(), "r.csv")
		code, _, stderr := runCmd(t, "update", "device-statuses", "--in", in, "--out", out, "--graph-endpoint", emu.URL, "--auth", "none",
			"--skip-unchanged", "--rate", "100000/s", "--log-format", "json")
		if code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		if n := strings.Count(stderr, "Graph does not read this target"); n != 1 {
			t.Errorf("warned %d times that the target cannot be read, want once:\n%s", n, stderr)
		}
		for row, o := range outcomes(t, out) {
			if o != csvio.Updated {
				t.Errorf("row %d: %s, want updated", row, o)
			}
		}
		if c := emu.Counters(); c.Patches != rows {
			t.Errorf("%d PATCHes, want %d", c.Patches, rows)
		}
	})
	t.Run("backup", func(t *testing.T) {
		emu := newEmulator()
		defer emu.Close()
		out, bak := filepath.Join(t.TempDir(), "r.csv"), filepath.Join(t.TempDir(), "b.csv")
		code, _, stderr := runCmd(t, "update", "device-statuses", "--in", in, "--out", out, "--backup", bak, "--graph-endpoint", emu.URL,
			"--auth", "none", "--max-failures", "0")
		if code != exitRowsFailed {
			t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr)
		}
		res := readResults(t, out)
		for _, r := range res {
			if r.Outcome != csvio.Failed || r.HTTPStatus != http.StatusBadRequest || r.ErrorCode != "No method match route template" {
				t.Errorf("row %d: %s %d %s, want failed 400 No method match route template", r.Row, r.Outcome, r.HTTPStatus, r.ErrorCode)
			}
		}
		if len(res) != rows {
			t.Errorf("%d outcomes, want %d", len(res), rows)
		}
		if got := lines(t, bak); len(got) != 1 {
			t.Errorf("the backup holds %d lines, want only its header", len(got))
		}
		if c := emu.Counters(); c.Patches != 0 {
			t.Errorf("%d PATCHes without their backup, want 0", c.Patches)
		}
	})
	t.Run("backup stops", func(t *testing.T) {
		emu := newEmulator()
		defer emu.Close()
		out := filepath.Join(t.TempDir(), "r.csv")
		code, _, stderr := runCmd(t, "update", "device-statuses", "--in", in, "--out", out, "--backup", filepath.Join(t.TempDir(), "b.csv"),
			"--graph-endpoint", emu.URL, "--auth", "none", "--max-failures", "10", "--concurrency", "1")
		if code != exitFatal || !strings.Contains(stderr, "stopped: 10 rows in a row failed with 400 No method match route template") {
			t.Errorf("exit %d, want %d with the stop message; stderr:\n%s", code, exitFatal, stderr)
		}
		if n := len(readResults(t, out)); n >= rows {
			t.Errorf("%d rows have an outcome: the run did not stop", n)
		}
		if c := emu.Counters(); c.Patches != 0 {
			t.Errorf("%d PATCHes, want 0", c.Patches)
		}
	})
}

// TestBackupOfAPropertyGraphDidNotAnswer: a row setting a property the
// read did not answer (here, of another type than the entity's) has no
// value to back up: it fails unwritten, and the backup stays restorable.
func TestBackupOfAPropertyGraphDidNotAnswer(t *testing.T) {
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits})
	defer emu.Close()
	put(t, emu, map[string]map[string]any{
		"/deviceManagement/deviceCompliancePolicies/c2": {"@odata.type": "#microsoft.graph.iosCompliancePolicy", "displayName": "iOS", "passcodeRequired": true},
	})
	dir := t.TempDir()
	in, out, bak := filepath.Join(dir, "in.csv"), filepath.Join(dir, "out.csv"), filepath.Join(dir, "backup.csv")
	writeFile(t, in, "id,@odata.type,displayName,passwordRequired\nc2,windows10CompliancePolicy,Win,true\n")
	code, _, stderr := runCmd(t, "update", "compliance-policies", "--in", in, "--out", out, "--backup", bak, "--graph-endpoint", emu.URL, "--auth", "none")
	if code != exitRowsFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr)
	}
	res := readResults(t, out)
	if len(res) != 1 || res[0].Outcome != csvio.Failed || !strings.Contains(res[0].ErrorMessage, "passwordRequired") {
		t.Errorf("results %+v, want row 1 failed naming passwordRequired", res)
	}
	if got := lines(t, bak); len(got) != 1 {
		t.Errorf("backup %q, want only its header", got)
	}
	if c := emu.Counters(); c.Patches != 0 {
		t.Errorf("%d PATCHes, want 0: nothing is written without its backup", c.Patches)
	}
}

// TestTextThatIsAToken: a string Graph holds that is itself the null
// token has no cell in update's input format. An export says so and
// suggests another --null-token, with which it round-trips; a backup
// fails the row unwritten rather than back up a value that would
// restore as null.
func TestTextThatIsAToken(t *testing.T) {
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits})
	defer emu.Close()
	put(t, emu, map[string]map[string]any{"/users/u1": {"department": "Finance", "jobTitle": "#null"}, "/users/u2": {"jobTitle": nil}})
	dir := t.TempDir()
	endpoint := []string{"--graph-endpoint", emu.URL, "--auth", "none"}
	export := filepath.Join(dir, "export.csv")
	code, _, stderr := runCmd(t, append([]string{"export", "users", "--select", "department,jobTitle", "--out", export}, endpoint...)...)
	if code != exitFatal || !strings.Contains(stderr, "--null-token") {
		t.Errorf("export: exit %d, want %d suggesting --null-token; stderr:\n%s", code, exitFatal, stderr)
	}
	code, _, stderr = runCmd(t, append([]string{"export", "users", "--select", "department,jobTitle", "--out", export, "--overwrite", "--null-token", "<null>"}, endpoint...)...)
	if code != exitOK {
		t.Fatalf("export --null-token: exit %d; stderr:\n%s", code, stderr)
	}
	code, _, stderr = runCmd(t, append([]string{"update", "users", "--in", export, "--out", filepath.Join(dir, "r.csv"), "--skip-unchanged", "--null-token", "<null>"}, endpoint...)...)
	if code != exitOK || emu.Counters().Patches != 0 {
		t.Errorf("round trip: exit %d, %d PATCHes; want 0 and 0; stderr:\n%s", code, emu.Counters().Patches, stderr)
	}

	in, out, bak := filepath.Join(dir, "in.csv"), filepath.Join(dir, "out.csv"), filepath.Join(dir, "backup.csv")
	writeFile(t, in, "id,jobTitle\nu1,Analyst\nu2,Analyst\n")
	code, _, stderr = runCmd(t, append([]string{"update", "users", "--in", in, "--out", out, "--backup", bak}, endpoint...)...)
	if code != exitRowsFailed {
		t.Fatalf("update: exit %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr)
	}
	if got := outcomes(t, out); got[1] != csvio.Failed || got[2] != csvio.Updated {
		t.Errorf("outcomes %v, want row 1 failed (its jobTitle has no cell), row 2 updated", got)
	}
	if got := readEntity(t, emu, "/users/u1")["jobTitle"]; got != "#null" {
		t.Errorf("u1's jobTitle is %v, want #null: written without its backup", got)
	}
}

// TestExportSignsInBeforeCreatingItsFile: an export whose sign-in fails
// leaves no file behind, so that the next one needs no --overwrite.
func TestExportSignsInBeforeCreatingItsFile(t *testing.T) {
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits})
	defer emu.Close()
	put(t, emu, financeStore())
	t.Setenv("AZURE_CLIENT_SECRET", "")
	out := filepath.Join(t.TempDir(), "finance.csv")
	args := []string{"export", "users", "--select", "department", "--out", out, "--graph-endpoint", emu.URL}
	code, _, stderr := runCmd(t, append(args, "--auth", "secret", "--tenant-id", "t", "--client-id", "c")...)
	if code == exitOK {
		t.Fatalf("export without a secret: exit 0; stderr:\n%s", stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("the failed export left %s behind", out)
	}
	if code, _, stderr := runCmd(t, append(args, "--auth", "none")...); code != exitOK {
		t.Errorf("export after a failed one: exit %d; stderr:\n%s", code, stderr)
	}
}

// TestExistingPlanOrExportAdvisesOverwrite: plan and export have no
// --resume; refusing a file that exists, they advise --overwrite only.
func TestExistingPlanOrExportAdvisesOverwrite(t *testing.T) {
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits})
	defer emu.Close()
	put(t, emu, financeStore())
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.csv"), filepath.Join(dir, "out.csv")
	writeFile(t, in, "id,department\nf1,Sales\n")
	writeFile(t, out, "something\n")
	endpoint := []string{"--graph-endpoint", emu.URL, "--auth", "none"}
	for _, args := range [][]string{
		{"plan", "users", "--in", in, "--out", out},
		{"export", "users", "--select", "department", "--out", out},
	} {
		code, _, stderr := runCmd(t, append(args, endpoint...)...)
		if code != exitUsage || !strings.Contains(stderr, "--overwrite") || strings.Contains(stderr, "--resume") {
			t.Errorf("%s: exit %d, want %d advising --overwrite, not --resume; stderr:\n%s", args[0], code, exitUsage, stderr)
		}
	}
}

// TestLineBreaksRoundTrip: text Graph holds with CR LF line breaks (typed
// on Windows) is exported and backed up as it is: the unedited export
// sends no PATCH, and the restore gives the CR LF back.
func TestLineBreaksRoundTrip(t *testing.T) {
	const text = "first line\r\nsecond line"
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits})
	defer emu.Close()
	put(t, emu, map[string]map[string]any{"/users/u1": {"department": "Finance", "jobTitle": text}})
	dir := t.TempDir()
	endpoint := []string{"--graph-endpoint", emu.URL, "--auth", "none"}
	export := filepath.Join(dir, "export.csv")
	if code, _, stderr := runCmd(t, append([]string{"export", "users", "--select", "department,jobTitle", "--out", export}, endpoint...)...); code != exitOK {
		t.Fatalf("export: exit %d; stderr:\n%s", code, stderr)
	}
	code, _, stderr := runCmd(t, append([]string{"update", "users", "--in", export, "--out", filepath.Join(dir, "r1.csv"), "--skip-unchanged"}, endpoint...)...)
	if code != exitOK || emu.Counters().Patches != 0 {
		t.Errorf("the unedited export: exit %d, %d PATCHes; want 0 and 0; stderr:\n%s", code, emu.Counters().Patches, stderr)
	}

	in, bak := filepath.Join(dir, "in.csv"), filepath.Join(dir, "backup.csv")
	writeFile(t, in, "id,jobTitle\nu1,Analyst\n")
	if code, _, stderr := runCmd(t, append([]string{"update", "users", "--in", in, "--out", filepath.Join(dir, "r2.csv"), "--backup", bak}, endpoint...)...); code != exitOK {
		t.Fatalf("update --backup: exit %d; stderr:\n%s", code, stderr)
	}
	if code, _, stderr := runCmd(t, append([]string{"update", "users", "--in", bak, "--out", filepath.Join(dir, "r3.csv")}, endpoint...)...); code != exitOK {
		t.Fatalf("restore: exit %d; stderr:\n%s", code, stderr)
	}
	if got := readEntity(t, emu, "/users/u1")["jobTitle"]; got != text {
		t.Errorf("restored jobTitle %q, want %q", got, text)
	}
}

// TestResumeWithAnotherBackupIsUsage: --resume with a backup file that
// belongs to another run (another header) or was edited (a stray quote)
// is a usage error, exit 2, sending nothing, and the file is left as it is.
func TestResumeWithAnotherBackupIsUsage(t *testing.T) {
	emu := graphtest.NewServer(graphtest.Options{Limits: &graphtest.NoLimits})
	defer emu.Close()
	put(t, emu, financeStore())
	for name, content := range map[string]string{
		"another header": "id,jobTitle\nf1,Boss\n",
		"a stray quote":  "id,department\nf1,Fin\"ance\nf2,Sales\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			in, out, bak := filepath.Join(dir, "in.csv"), filepath.Join(dir, "out.csv"), filepath.Join(dir, "backup.csv")
			writeFile(t, in, "id,department\nf1,Sales\n")
			writeFile(t, bak, content)
			code, _, stderr := runCmd(t, "update", "users", "--in", in, "--out", out, "--backup", bak, "--resume",
				"--graph-endpoint", emu.URL, "--auth", "none")
			if code != exitUsage || !strings.Contains(stderr, bak) {
				t.Errorf("exit %d, want %d naming %s; stderr:\n%s", code, exitUsage, bak, stderr)
			}
			if got := readEntity(t, emu, "/users/f1")["department"]; got != "Finance" {
				t.Errorf("f1's department is %v, want Finance untouched", got)
			}
			if b, _ := os.ReadFile(bak); string(b) != content {
				t.Errorf("the backup was changed to %q", b)
			}
		})
	}
}
