package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// This file runs the real command on targets other than the two seed
// resources (CONTRACT §7), against graphtest over a real socket, and
// checks the results file line by line and the emulator's store value by
// value.

// resultsHeader is the first line of a results file for a target whose
// only key column is id.
const resultsHeader = "row,id,outcome,httpStatus,errorCode,errorMessage,attempts,requestId,clientRequestId,finishedAt"

// wantResult is what one line of a results file must say.
type wantResult struct {
	id      string
	outcome csvio.Outcome
	status  int    // httpStatus; 0 for a row never sent
	mention string // what errorMessage must contain; "" for none
}

// writeIn writes content to name in dir and returns its path.
func writeIn(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	writeFile(t, path, content)
	return path
}

// updateAgainst runs graphbatch update with args against emu, signing in
// to nothing, and returns its exit status and standard error.
func updateAgainst(t *testing.T, emu *graphtest.Server, args ...string) (int, string) {
	t.Helper()
	args = append(args, "--graph-endpoint", emu.URL, "--auth", "none", "--progress", "never")
	code, _, stderr := runCmd(t, append([]string{"update"}, args...)...)
	return code, stderr
}

// checkResultLines checks a results file with the one key column id: its
// header, then one line per row with the outcome want gives. A row that was
// sent must carry Graph's request ids and have been sent once.
func checkResultLines(t *testing.T, path string, want map[int]wantResult) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(data), "\n"); first != resultsHeader {
		t.Fatalf("results header %q, want %q", first, resultsHeader)
	}
	results := readResults(t, path)
	if len(results) != len(want) {
		t.Errorf("%d result lines, want %d", len(results), len(want))
	}
	seen := make(map[int]bool)
	for _, r := range results {
		w, ok := want[r.Row]
		if !ok || seen[r.Row] {
			t.Errorf("result for row %d: unexpected or repeated: %+v", r.Row, r)
			continue
		}
		seen[r.Row] = true
		if len(r.Keys) != 1 || r.Keys[0] != w.id {
			t.Errorf("row %d: keys %q, want [%q]", r.Row, r.Keys, w.id)
		}
		if r.Outcome != w.outcome || r.HTTPStatus != w.status || !strings.Contains(r.ErrorMessage, w.mention) || (w.mention == "") != (r.ErrorMessage == "") {
			t.Errorf("row %d: %s %d %q, want %s %d mentioning %q", r.Row, r.Outcome, r.HTTPStatus, r.ErrorMessage, w.outcome, w.status, w.mention)
		}
		sent := w.status != 0
		if sent && (r.Attempts != 1 || !guid.MatchString(r.RequestID) || !guid.MatchString(r.ClientRequestID)) {
			t.Errorf("row %d: attempts %d, requestId %q, clientRequestId %q; want one attempt and Graph's ids", r.Row, r.Attempts, r.RequestID, r.ClientRequestID)
		}
		if !sent && (r.Attempts != 0 || r.RequestID != "") {
			t.Errorf("row %d: attempts %d, requestId %q; want a row never sent", r.Row, r.Attempts, r.RequestID)
		}
		if age := time.Since(r.FinishedAt); age < 0 || age > time.Minute {
			t.Errorf("row %d: finishedAt %v is not just now", r.Row, r.FinishedAt)
		}
	}
}

// storedEntity is what the emulator must hold for one entity.
type storedEntity struct {
	typ   string         // e.g. "microsoft.graph.user"
	props map[string]any // as Entity.Properties holds them
}

// checkStoreHolds checks that the emulator holds exactly want: entities by
// path under v1.0, with their types and every property value.
func checkStoreHolds(t *testing.T, emu *graphtest.Server, want map[string]storedEntity) {
	t.Helper()
	if got := len(emu.Entities()); got != len(want) {
		t.Errorf("store holds %d entities, want %d", got, len(want))
	}
	for path, w := range want {
		e, ok := emu.Entity(graph.V1, path)
		if !ok {
			t.Errorf("%s: not in the store", path)
			continue
		}
		if e.Type != w.typ {
			t.Errorf("%s: type %s, want %s", path, e.Type, w.typ)
		}
		if diff := cmp.Diff(w.props, e.Properties); diff != "" {
			t.Errorf("%s: properties (-want +got):\n%s", path, diff)
		}
	}
}

// TestUsersEndToEnd sends an HR export to /users/{id}: the id is the user
// principal name, cells of six EDM kinds, JSON in cells, #null and #empty.
func TestUsersEndToEnd(t *testing.T) {
	t.Parallel()
	emu := graphtest.NewServer(graphtest.Options{})
	defer emu.Close()
	dir := t.TempDir()
	in := writeIn(t, dir, "hr.csv", `id,department,usageLocation,jobTitle,accountEnabled,employeeHireDate,businessPhones,employeeOrgData
AdeleV@contoso.com,Finance,NL,Financial Analyst,TRUE,2024-03-01T00:00:00Z,"[""+31 20 555 0100""]","{""division"":""EMEA"",""costCenter"":""CC-1010""}"
AlexW@contoso.com,Sales,US,#empty,false,2023-01-15T09:00:00-05:00,[],
DiegoS@contoso.com,#null,DE,,True,,"[""+49 30 555 0101"",""+49 30 555 0102""]","{""division"":""EMEA"",""costCenter"":null}"
GradyA@contoso.com,Engineering,GB,Engineer,,2025-09-01T08:30:00.1234567+01:00,,
missing-LeeG@contoso.com,Legal,FR,,,,,
IsaiahL@contoso.com,Support,BE,,yes,,,
`)
	out := filepath.Join(dir, "hr.results.csv")
	code, stderr := updateAgainst(t, emu, "users", "--in", in)
	if code != exitRowsFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr)
	}
	checkResultLines(t, out, map[int]wantResult{
		1: {"AdeleV@contoso.com", csvio.Updated, 204, ""},
		2: {"AlexW@contoso.com", csvio.Updated, 204, ""},
		3: {"DiegoS@contoso.com", csvio.Updated, 204, ""},
		4: {"GradyA@contoso.com", csvio.Updated, 204, ""},
		5: {"missing-LeeG@contoso.com", csvio.Failed, 404, "does not exist"},
		6: {"IsaiahL@contoso.com", csvio.Invalid, 0, `line 7: column accountEnabled: "yes" is not true or false`},
	})
	user := "microsoft.graph.user"
	checkStoreHolds(t, emu, map[string]storedEntity{
		"/users/AdeleV@contoso.com": {user, map[string]any{
			"department": "Finance", "usageLocation": "NL", "jobTitle": "Financial Analyst", "accountEnabled": true,
			"employeeHireDate": "2024-03-01T00:00:00Z", "businessPhones": []any{"+31 20 555 0100"},
			"employeeOrgData": map[string]any{"division": "EMEA", "costCenter": "CC-1010"},
		}},
		"/users/AlexW@contoso.com": {user, map[string]any{
			"department": "Sales", "usageLocation": "US", "jobTitle": "", "accountEnabled": false,
			"employeeHireDate": "2023-01-15T09:00:00-05:00", "businessPhones": []any{},
		}},
		"/users/DiegoS@contoso.com": {user, map[string]any{
			"department": nil, "usageLocation": "DE", "accountEnabled": true,
			"businessPhones":  []any{"+49 30 555 0101", "+49 30 555 0102"},
			"employeeOrgData": map[string]any{"division": "EMEA", "costCenter": nil},
		}},
		"/users/GradyA@contoso.com": {user, map[string]any{
			"department": "Engineering", "usageLocation": "GB", "jobTitle": "Engineer",
			"employeeHireDate": "2025-09-01T08:30:00.1234567+01:00",
		}},
	})
}

// TestManagedDevicesEndToEnd renames Intune devices and sets their notes
// and owner type, an enum given in any letter case.
func TestManagedDevicesEndToEnd(t *testing.T) {
	t.Parallel()
	emu := graphtest.NewServer(graphtest.Options{})
	defer emu.Close()
	dir := t.TempDir()
	const (
		d1 = "0a1b2c3d-0000-4000-8000-000000000001"
		d2 = "0a1b2c3d-0000-4000-8000-000000000002"
		d3 = "0a1b2c3d-0000-4000-8000-000000000003"
		d4 = "0a1b2c3d-0000-4000-8000-000000000004"
	)
	in := writeIn(t, dir, "devices.csv", "id,managedDeviceName,notes,managedDeviceOwnerType\n"+
		d1+",CONTOSO-LT-0001,Reimaged in November,COMPANY\n"+
		d2+",CONTOSO-LT-0002,#null,personal\n"+
		d3+",,#empty,UnknownFutureValue\n"+
		d4+",CONTOSO-LT-0004,,corporate\n")
	out := filepath.Join(dir, "devices.results.csv")
	code, stderr := updateAgainst(t, emu, "managed-devices", "--in", in)
	if code != exitRowsFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr)
	}
	checkResultLines(t, out, map[int]wantResult{
		1: {d1, csvio.Updated, 200, ""},
		2: {d2, csvio.Updated, 200, ""},
		3: {d3, csvio.Updated, 200, ""},
		4: {d4, csvio.Invalid, 0, `column managedDeviceOwnerType: "corporate" is not a managedDeviceOwnerType (one of: unknown, company, personal, unknownFutureValue)`},
	})
	device := "microsoft.graph.managedDevice"
	checkStoreHolds(t, emu, map[string]storedEntity{
		"/deviceManagement/managedDevices/" + d1: {device, map[string]any{
			"managedDeviceName": "CONTOSO-LT-0001", "notes": "Reimaged in November", "managedDeviceOwnerType": "company",
		}},
		"/deviceManagement/managedDevices/" + d2: {device, map[string]any{
			"managedDeviceName": "CONTOSO-LT-0002", "notes": nil, "managedDeviceOwnerType": "personal",
		}},
		"/deviceManagement/managedDevices/" + d3: {device, map[string]any{
			"notes": "", "managedDeviceOwnerType": "unknownFutureValue",
		}},
	})
}

// TestCompliancePoliciesEndToEnd sends rows of two derived types of the
// abstract deviceCompliancePolicy, chosen per row by an @odata.type
// column, to policies Graph already holds with their types.
func TestCompliancePoliciesEndToEnd(t *testing.T) {
	t.Parallel()
	emu := graphtest.NewServer(graphtest.Options{})
	defer emu.Close()
	const (
		win  = "#microsoft.graph.windows10CompliancePolicy"
		ios  = "#microsoft.graph.iosCompliancePolicy"
		path = "/deviceManagement/deviceCompliancePolicies/"
	)
	existing := map[string]string{"win-1": win, "win-2": win, "ios-1": ios, "ios-2": ios, "win-3": win}
	for id, typ := range existing {
		if err := emu.Put(graph.V1, path+id, map[string]any{"@odata.type": typ, "displayName": "before " + id}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	in := writeIn(t, dir, "policies.csv", `id,@odata.type,displayName,description,passwordRequired,osMinimumVersion,bitLockerEnabled,passcodeRequired,passcodeMinimumLength
win-1,#microsoft.graph.windows10CompliancePolicy,Windows baseline,#null,TRUE,10.0.19045,true,,
ios-1,#microsoft.graph.iosCompliancePolicy,iOS baseline,Phones and tablets,,#null,,true,6
win-2,windows10CompliancePolicy,,,false,,,,
ios-2,#microsoft.graph.iosCompliancePolicy,,,,,true,,
win-3,,Renamed,,true,,,,
win-3,,Renamed again,,,,,,
win-1,#microsoft.graph.user,,x,,,,,
ios-1,#microsoft.graph.windows10CompliancePolicy,,,,,true,,
`)
	out := filepath.Join(dir, "policies.results.csv")
	code, stderr := updateAgainst(t, emu, "compliance-policies", "--in", in)
	if code != exitRowsFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr)
	}
	checkResultLines(t, out, map[int]wantResult{
		1: {"win-1", csvio.Updated, 200, ""},
		2: {"ios-1", csvio.Updated, 200, ""},
		3: {"win-2", csvio.Updated, 200, ""},
		// A property the row's type lacks: the message names both.
		4: {"ios-2", csvio.Invalid, 0, "column bitLockerEnabled is not a property of iosCompliancePolicy; it belongs to windows10CompliancePolicy"},
		// A derived type's property without @odata.type.
		5: {"win-3", csvio.Invalid, 0, "column passwordRequired is not a property of deviceCompliancePolicy; it belongs to androidCompliancePolicy"},
		// Without @odata.type, a base property is sent to the stored type.
		6: {"win-3", csvio.Updated, 200, ""},
		7: {"win-1", csvio.Invalid, 0, `column @odata.type: "#microsoft.graph.user" is not deviceCompliancePolicy or a type derived from it`},
		// A type other than the one Graph holds: Graph refuses it.
		8: {"ios-1", csvio.Failed, 400, "not assignable"},
	})
	checkStoreHolds(t, emu, map[string]storedEntity{
		path + "win-1": {win[1:], map[string]any{
			"displayName": "Windows baseline", "description": nil, "passwordRequired": true,
			"osMinimumVersion": "10.0.19045", "bitLockerEnabled": true,
		}},
		path + "ios-1": {ios[1:], map[string]any{
			"displayName": "iOS baseline", "description": "Phones and tablets", "osMinimumVersion": nil,
			"passcodeRequired": true, "passcodeMinimumLength": json.Number("6"),
		}},
		path + "win-2": {win[1:], map[string]any{"displayName": "before win-2", "passwordRequired": false}},
		path + "ios-2": {ios[1:], map[string]any{"displayName": "before ios-2"}},
		path + "win-3": {win[1:], map[string]any{"displayName": "Renamed again"}},
	})
}

// TestResumeUsers resumes a run on /users/{id}, whose results file has one
// key column: a run stopped by a crash in the middle of a line, with rows
// failed for keys that do not exist, is corrected and resumed. Only the
// rows not done are sent, the header stays as it was, and a done row whose
// key changed makes the resume refuse the file.
func TestResumeUsers(t *testing.T) {
	t.Parallel()
	emu := graphtest.NewServer(graphtest.Options{})
	defer emu.Close()
	dir := t.TempDir()
	rows := `id,department,usageLocation
AdeleV@contoso.com,Finance,NL
missing-AlexW@contoso.com,Sales,US
DiegoS@contoso.com,Marketing,DE
GradyA@contoso.com,Engineering,GB
missing-IsaiahL@contoso.com,Support,BE
JoniS@contoso.com,Legal,FR
`
	in := writeIn(t, dir, "hr.csv", rows)
	out := filepath.Join(dir, "hr.results.csv")
	// One PATCH at a time, so that the results file is in row order.
	serial := []string{"users", "--in", in, "--batch-size", "1", "--concurrency", "1"}
	if code, stderr := updateAgainst(t, emu, serial...); code != exitRowsFailed {
		t.Fatalf("first run: exit %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr)
	}
	// A crash after row 3's line, in the middle of row 4's.
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) != 8 || !strings.HasPrefix(lines[4], "4,GradyA@contoso.com,updated,") {
		t.Fatalf("first run's results are not in row order:\n%s", data)
	}
	if err := os.WriteFile(out, []byte(strings.Join(lines[:4], "")+lines[4][:20]), 0o644); err != nil {
		t.Fatal(err)
	}
	before := emu.Counters().Patches

	// The failed rows' keys corrected: rows 2 and 5 have their keys changed.
	writeIn(t, dir, "hr.csv", strings.ReplaceAll(rows, "missing-", ""))
	code, stderr := updateAgainst(t, emu, append(serial, "--resume")...)
	if code != exitOK {
		t.Fatalf("resume: exit %d, want 0; stderr:\n%s", code, stderr)
	}
	if sent := emu.Counters().Patches - before; sent != 4 {
		t.Errorf("resume sent %d PATCHes, want 4 (rows 2, 4, 5, 6)", sent)
	}
	// Rows 4 and 6 were written by the first run, but their lines never
	// reached the results file: like Graph, the emulator sees them twice.
	for id, want := range map[string]int{"AdeleV": 1, "AlexW": 1, "DiegoS": 1, "GradyA": 2, "IsaiahL": 1, "JoniS": 2} {
		if e, ok := emu.Entity(graph.V1, "/users/"+id+"@contoso.com"); !ok || e.Patches != want {
			t.Errorf("%s: in the store %v after %d PATCHes, want %d", id, ok, e.Patches, want)
		}
	}
	data, err = os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(data), "row,") != 1 || !strings.HasPrefix(string(data), resultsHeader+"\n") {
		t.Errorf("results file does not start with its one header line:\n%s", data)
	}
	last := make(map[int]csvio.Result)
	for _, r := range readResults(t, out) {
		last[r.Row] = r
	}
	for n := 1; n <= 6; n++ {
		if last[n].Outcome != csvio.Updated {
			t.Errorf("row %d: last outcome %s, want updated", n, last[n].Outcome)
		}
	}
	if !strings.Contains(stderr, "6 updated (2 in earlier runs)") {
		t.Errorf("summary does not count the earlier run:\n%s", stderr)
	}

	// A done row's key changed: the results file is not this input's.
	writeIn(t, dir, "hr.csv", strings.ReplaceAll(strings.ReplaceAll(rows, "missing-", ""), "DiegoS@", "DiegoX@"))
	before, recorded := emu.Counters().Patches, readFileString(t, out)
	code, stderr = updateAgainst(t, emu, append(serial, "--resume")...)
	if code != exitUsage || !strings.Contains(stderr, `row 3 (keys ["DiegoX@contoso.com"]) was recorded with other keys`) {
		t.Errorf("resume with a done row's key changed: exit %d, want %d naming row 3; stderr:\n%s", code, exitUsage, stderr)
	}
	if emu.Counters().Patches != before || readFileString(t, out) != recorded {
		t.Errorf("a refused resume sent rows or changed the results file")
	}

	// The results of a seed resource (keys policyId,id) are not a users run's.
	seed := writeIn(t, dir, "seed.results.csv", "row,policyId,id,outcome,httpStatus,errorCode,errorMessage,attempts,requestId,clientRequestId,finishedAt\n")
	code, stderr = updateAgainst(t, emu, "users", "--in", in, "--out", seed, "--resume")
	if code != exitUsage || !strings.Contains(stderr, "the first line is not "+resultsHeader) {
		t.Errorf("resume from a device-statuses results file: exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
	}
}

func readFileString(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestResourcesListsEachDerivedTypesColumn checks the columns that only
// derived types have: each names every type that has it, with that type's
// own declaration, since two types may give one name different types.
func TestResourcesListsEachDerivedTypesColumn(t *testing.T) {
	code, stdout, stderr := runCmd(t, "resources", "compliance-policies")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	lines := func(col string) []string {
		var found []string
		for _, l := range strings.Split(stdout, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == col {
				found = append(found, l)
			}
		}
		return found
	}
	tests := []struct {
		col  string
		want []string // what the column's lines say, one line each
	}{
		{"osMinimumVersion", []string{"String [androidCompliancePolicy, androidWorkProfileCompliancePolicy, iosCompliancePolicy, macOSCompliancePolicy, windows10CompliancePolicy, windows10MobileCompliancePolicy, windows81CompliancePolicy, windowsPhone81CompliancePolicy]"}},
		{"passwordRequiredType", []string{
			"androidRequiredPasswordType: deviceDefault|alphabetic|alphanumeric|alphanumericWithSymbols|lowSecurityBiometric|numeric|numericComplex|any [androidCompliancePolicy, androidWorkProfileCompliancePolicy]",
			"requiredPasswordType: deviceDefault|alphanumeric|numeric [macOSCompliancePolicy, windows10CompliancePolicy, windows10MobileCompliancePolicy, windows81CompliancePolicy, windowsPhone81CompliancePolicy]",
		}},
		{"bitLockerEnabled", []string{"Boolean [windows10CompliancePolicy, windows10MobileCompliancePolicy]"}},
		{"displayName", []string{"String  "}}, // the base type's: no list
	}
	for _, tt := range tests {
		got := lines(tt.col)
		if len(got) != len(tt.want) {
			t.Errorf("%s: %d lines, want %d:\n%s", tt.col, len(got), len(tt.want), strings.Join(got, "\n"))
			continue
		}
		for i, want := range tt.want {
			if !strings.Contains(got[i], want) {
				t.Errorf("%s: line %q lacks %q", tt.col, got[i], want)
			}
		}
	}
}
