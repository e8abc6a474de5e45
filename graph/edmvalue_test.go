package graph

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// prop returns a property of type t for tests.
func prop(t *DataType, coll, nullable bool) *Prop {
	return &Prop{Name: "p", Type: t, Collection: coll, Nullable: nullable}
}

func TestEncodeByEDMType(t *testing.T) {
	t.Parallel()
	status := &DataType{Name: "microsoft.graph.complianceStatus", Kind: KindEnum, Members: []string{"unknown", "compliant", "nonCompliant"}}
	days := &DataType{Name: "microsoft.graph.dayOfWeek", Kind: KindEnum, Flags: true, Members: []string{"sunday", "monday", "tuesday"}}
	tests := []struct {
		typ  *DataType
		cell string
		want string // the JSON sent; "" for an invalid cell
	}{
		{EdmString, "Ada Lovelace", `"Ada Lovelace"`},
		{EdmString, "  padded  ", `"  padded  "`}, // strings as given
		{EdmString, `quote " back \ <tag> é`, `"quote \" back \\ <tag> é"`},
		{EdmString, "bad \xff", ""},
		{EdmBoolean, "true", "true"}, {EdmBoolean, "FALSE", "false"}, {EdmBoolean, " True ", "true"},
		{EdmBoolean, "yes", ""}, {EdmBoolean, "1", ""},
		{EdmByte, "255", "255"}, {EdmByte, "256", ""}, {EdmByte, "-1", ""},
		{EdmSByte, "-128", "-128"}, {EdmSByte, "128", ""},
		{EdmInt16, "-32768", "-32768"}, {EdmInt16, "32768", ""},
		{EdmInt32, "2147483647", "2147483647"}, {EdmInt32, "2147483648", ""}, {EdmInt32, "1.5", ""}, {EdmInt32, "0x10", ""}, {EdmInt32, "+7", "7"},
		{EdmInt64, "9223372036854775807", "9223372036854775807"}, {EdmInt64, "9223372036854775808", ""},
		{EdmDouble, "12.5", "12.5"}, {EdmDouble, "-3", "-3"}, {EdmDouble, "1e300", "1e300"}, {EdmDouble, "NaN", ""}, {EdmDouble, "01", ""}, {EdmDouble, ".5", ""},
		{EdmSingle, "3.4e38", "3.4e38"}, {EdmSingle, "3.5e38", ""},
		{EdmDecimal, "12345678901234567890.123456789", "12345678901234567890.123456789"}, {EdmDecimal, "1,5", ""},
		{EdmGuid, "5F8C1A2E-0B3C-4D5E-8F90-123456789ABC", `"5F8C1A2E-0B3C-4D5E-8F90-123456789ABC"`}, {EdmGuid, "5f8c1a2e0b3c4d5e8f90123456789abc", ""},
		{EdmDate, "2024-02-29", `"2024-02-29"`}, {EdmDate, "2023-02-29", ""}, {EdmDate, "2024-1-31", ""}, {EdmDate, "0000-01-01", ""},
		{EdmTimeOfDay, "09:30:00", `"09:30:00"`}, {EdmTimeOfDay, "23:59:59.1234567", `"23:59:59.1234567"`}, {EdmTimeOfDay, "24:00:00", ""}, {EdmTimeOfDay, "09:30:00.12345678", ""},
		{EdmDuration, "P1DT2H30M", `"P1DT2H30M"`}, {EdmDuration, "PT45S", `"PT45S"`}, {EdmDuration, "-PT1.5S", `"-PT1.5S"`}, {EdmDuration, "P", ""}, {EdmDuration, "PT", ""}, {EdmDuration, "P1Y", ""}, {EdmDuration, "1h", ""},
		{EdmDateTimeOffset, "2017-01-01T00:00:17.7769392-08:00", `"2017-01-01T00:00:17.7769392-08:00"`},
		{EdmDateTimeOffset, "2024-01-31T09:30:00Z", `"2024-01-31T09:30:00Z"`},
		{EdmDateTimeOffset, "2024-01-31T09:30:00", ""},           // no zone
		{EdmDateTimeOffset, "2024-01-31T09:30:00.12345678Z", ""}, // eight digits
		{EdmDateTimeOffset, "2024-01-31T09:30:00+15:00", ""},     // offset
		{EdmDateTimeOffset, "2024-02-30T09:30:00Z", ""},          // no such day
		{EdmDateTimeOffset, "0001-01-01T00:00:00+14:00", ""},     // year 0 in UTC (issue #10.11)
		{EdmDateTimeOffset, "9999-12-31T23:59:59-01:00", ""},     // year 10000 in UTC
		{EdmDateTimeOffset, "0001-01-01T00:00:00-01:00", `"0001-01-01T00:00:00-01:00"`},
		{EdmBinary, "aGVsbG8=", `"aGVsbG8="`}, {EdmBinary, "aGVsbG8", `"aGVsbG8"`}, {EdmBinary, "not base64!", ""},
		{status, "NonCompliant", `"nonCompliant"`}, {status, " compliant ", `"compliant"`}, {status, "green", ""},
		{days, "Monday, TUESDAY", `"monday,tuesday"`}, {days, "monday,friday", ""},
	}
	for _, tt := range tests {
		got, err := prop(tt.typ, false, true).Encode(tt.cell)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("%s %q = %s, want an error", tt.typ.Name, tt.cell, got)
		case tt.want != "" && (err != nil || string(got) != tt.want):
			t.Errorf("%s %q = %s, %v; want %s", tt.typ.Name, tt.cell, got, err, tt.want)
		}
	}
}

func TestEncodeJSONCells(t *testing.T) {
	t.Parallel()
	m, err := BuiltinModel(V1)
	if err != nil {
		t.Fatal(err)
	}
	user := m.Type("microsoft.graph.user")
	custom := m.Type("microsoft.graph.windows10CustomConfiguration")
	tests := []struct {
		prop *Prop
		cell string
		want string // "" for invalid; a part of the message after "!"
	}{
		{user.Prop("businessPhones"), `["+31 20 555 0100"]`, `["+31 20 555 0100"]`},
		{user.Prop("businessPhones"), `[]`, `[]`},
		{user.Prop("businessPhones"), `"+31 20 555 0100"`, "!is not a JSON array"},
		{user.Prop("businessPhones"), `[1]`, "!item 1 is a number"},
		{user.Prop("businessPhones"), `[null]`, "!item 1 is null"},
		{user.Prop("employeeOrgData"), `{"division":"EMEA","costCenter":"CC-1"}`, `{"costCenter":"CC-1","division":"EMEA"}`},
		{user.Prop("employeeOrgData"), `{"Division":"EMEA"}`, `{"division":"EMEA"}`}, // Graph's spelling of the member
		{user.Prop("employeeOrgData"), `{"division":"EMEA","team":"x"}`, `!has member "team"`},
		{user.Prop("employeeOrgData"), `{"division":7}`, "!member division is a number"},
		{user.Prop("employeeOrgData"), `{"division":`, "!is not JSON"},
		{user.Prop("employeeOrgData"), `{} {}`, "!is not JSON"},
		{custom.Prop("omaSettings"), `[{"@odata.type":"#microsoft.graph.omaSettingInteger","displayName":"Lock","omaUri":"./Device/Vendor/MSFT/Policy/Config/X","value":5}]`,
			`[{"@odata.type":"#microsoft.graph.omaSettingInteger","displayName":"Lock","omaUri":"./Device/Vendor/MSFT/Policy/Config/X","value":5}]`},
		{custom.Prop("omaSettings"), `[{"@odata.type":"omaSettingInteger","displayName":"Lock","omaUri":"./X","value":"five"}]`, "!item 1 member value is a string"},
		{custom.Prop("omaSettings"), `[{"@odata.type":"#microsoft.graph.omaSettingBoolean","displayName":"Lock","omaUri":"./X","value":null}]`, "!item 1 member value is null"},
		{custom.Prop("omaSettings"), `[{"@odata.type":"#microsoft.graph.user","displayName":"Lock"}]`, "!is not omaSetting or a type derived from it"},
		{custom.Prop("omaSettings"), `[{"displayName":"Lock","omaUri":"./X","oops":1}]`, `!item 1 has member "oops"`},
	}
	for _, tt := range tests {
		if tt.prop == nil {
			t.Fatalf("a property of the test is missing from the metadata")
		}
		got, err := tt.prop.Encode(tt.cell)
		if msg, bad := strings.CutPrefix(tt.want, "!"); bad {
			if err == nil || !strings.Contains(err.Error(), msg) {
				t.Errorf("%s %s = %s, %v; want an error containing %q", tt.prop.Name, tt.cell, got, err, msg)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("%s %s = %s, %v; want %s", tt.prop.Name, tt.cell, got, err, tt.want)
		}
	}
}

func TestRowNewPatch(t *testing.T) {
	t.Parallel()
	users := mustTarget(t, "users", V1)
	policies := mustTarget(t, "compliance-policies", V1)
	tests := []struct {
		target *Target
		cells  map[string]string
		body   string // "" for an invalid row; then want is part of its message
		want   string
	}{
		{users, map[string]string{"id": "ada@contoso.com", "department": "Finance", "usageLocation": "NL"}, `{"department":"Finance","usageLocation":"NL"}`, "/users/ada@contoso.com"},
		{users, map[string]string{"id": " ada@contoso.com ", "jobTitle": "#null"}, `{"jobTitle":null}`, "/users/ada@contoso.com"},
		{users, map[string]string{"id": "a", "jobTitle": "#empty"}, `{"jobTitle":""}`, "/users/a"},
		{users, map[string]string{"id": "a", "businessPhones": "#null"}, "", "column businessPhones: \"#null\" is #null, but businessPhones cannot be null"},
		{users, map[string]string{"id": "a", "accountEnabled": "maybe"}, "", `column accountEnabled: "maybe" is not true or false`},
		{users, map[string]string{"id": "", "department": "x"}, "", "column id is empty"},
		{users, map[string]string{"id": "a/b?c#d", "department": "x"}, `{"department":"x"}`, "/users/a%2Fb%3Fc%23d"},
		{users, map[string]string{"id": "..", "department": "x"}, "", "not a valid key"},
		{users, map[string]string{"id": strings.Repeat("k", MaxKeyBytes+1), "department": "x"}, "", "Graph takes keys of at most 1024"},
		{users, map[string]string{"id": "\xff\xfe", "department": "x"}, "", "not valid UTF-8"},
		{users, map[string]string{"id": "a"}, "", "no property to set"},
		{policies, map[string]string{"id": "p1", "@odata.type": "#microsoft.graph.windows10CompliancePolicy", "passwordRequired": "TRUE"},
			`{"@odata.type":"#microsoft.graph.windows10CompliancePolicy","passwordRequired":true}`, "/deviceManagement/deviceCompliancePolicies/p1"},
		{policies, map[string]string{"id": "p1", "@odata.type": "windows10CompliancePolicy", "description": "#null"},
			`{"@odata.type":"#microsoft.graph.windows10CompliancePolicy","description":null}`, "/deviceManagement/deviceCompliancePolicies/p1"},
		{policies, map[string]string{"id": "p1", "@odata.type": "#microsoft.graph.iosCompliancePolicy", "bitLockerEnabled": "true"}, "",
			"column bitLockerEnabled is not a property of iosCompliancePolicy; it belongs to windows10CompliancePolicy"},
		{policies, map[string]string{"id": "p1", "passwordRequired": "true"}, "", "it belongs to androidCompliancePolicy"},
		{policies, map[string]string{"id": "p1", "@odata.type": "#microsoft.graph.user", "description": "x"}, "", "is not deviceCompliancePolicy or a type derived from it"},
		{policies, map[string]string{"id": "p1", "displayName": "#null"}, "", "displayName cannot be null"},
		{users, map[string]string{"id": "a", "businessPhones": `[ "+31 20 555 0100" ]`, "employeeOrgData": `{"Division":"EMEA"}`},
			`{"businessPhones":["+31 20 555 0100"],"employeeOrgData":{"division":"EMEA"}}`, "/users/a"},
		{users, map[string]string{"id": "a", "employeeOrgData": `{"region":"EMEA"}`}, "", `has member "region", which employeeOrgData does not have`},
		{users, map[string]string{"id": "a", "businessPhones": `+31 20 555 0100`}, "", `is not JSON`},
	}
	for _, tt := range tests {
		row := tt.target.NewRow("")
		cells := fields(t, tt.target, tt.cells)
		p, err := row.NewPatch(cells)
		// A dry run's Check: the same verdict and message, nothing built.
		if cerr := row.Check(cells); fmt.Sprint(cerr) != fmt.Sprint(err) {
			t.Errorf("%v: Check = %v, NewPatch = %v; want the same", tt.cells, cerr, err)
		}
		if tt.body == "" {
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v = %s, %v; want an error containing %q", tt.cells, p.Body, err, tt.want)
			}
			continue
		}
		if err != nil || string(p.Body) != tt.body || p.URL != tt.want {
			t.Errorf("%v = %s %s, %v; want %s %s", tt.cells, p.URL, p.Body, err, tt.want, tt.body)
		}
	}
}

func TestColumnsLeaveOutWhatCannotBeSet(t *testing.T) {
	t.Parallel()
	devices := mustTarget(t, "managed-devices", V1)
	if got, want := strings.Join(devices.Columns(), ","), "id,managedDeviceName,managedDeviceOwnerType,notes"; got != want {
		t.Errorf("managed-devices columns = %s, want %s", got, want)
	}
	if why := devices.WhyNotColumn("deviceName"); !strings.Contains(why, "read-only") {
		t.Errorf("WhyNotColumn(deviceName) = %q, want read-only", why)
	}
	users := mustTarget(t, "users", V1)
	if why := users.WhyNotColumn("manager"); !strings.Contains(why, "navigation property") {
		t.Errorf("WhyNotColumn(manager) = %q, want navigation property", why)
	}
}

func TestQuoteCutsLongValues(t *testing.T) {
	t.Parallel()
	q := Quote(strings.Repeat("é", 5<<20))
	if utf8.RuneCountInString(q) > 70 || !strings.HasSuffix(q, "…") {
		t.Errorf("Quote of 5 M characters = %d characters, want about 64 and …", utf8.RuneCountInString(q))
	}
	if got := Quote("a\x1bb"); got != `"a\x1bb"` {
		t.Errorf("Quote(ESC) = %s, want it escaped", got)
	}
}

// FuzzEncodeString checks the cell → JSON path against encoding/json: a
// String cell must come back from the JSON it becomes unchanged, and any
// other type's JSON must be valid.
func FuzzEncodeString(f *testing.F) {
	for _, s := range []string{"plain", `"quoted" \ back`, "\x00\x1f\u2028<>&", "é🙂", "[1,2]", `{"a":1}`} {
		f.Add(s)
	}
	m, err := BuiltinModel(V1)
	if err != nil {
		f.Fatal(err)
	}
	user := m.Type("microsoft.graph.user")
	props := []*Prop{user.Prop("businessPhones"), user.Prop("employeeOrgData"), user.Prop("accountEnabled"), user.Prop("employeeHireDate"),
		prop(EdmInt64, false, true), prop(EdmDouble, false, true), prop(EdmDuration, false, true), prop(EdmGuid, false, true)}
	f.Fuzz(func(t *testing.T, cell string) {
		got, err := prop(EdmString, false, true).Encode(cell)
		if utf8.ValidString(cell) {
			var back string
			if err != nil || json.Unmarshal(got, &back) != nil || back != cell {
				t.Fatalf("String %q = %s, %v; does not decode back", cell, got, err)
			}
		}
		for _, p := range props {
			if out, err := p.Encode(cell); err == nil && !json.Valid(out) {
				t.Fatalf("%s %q = invalid JSON %s", p.Name, cell, out)
			}
		}
	})
}
