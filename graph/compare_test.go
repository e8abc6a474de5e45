package graph

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestEqualByType(t *testing.T) {
	t.Parallel()
	m, err := BuiltinModel(V1)
	if err != nil {
		t.Fatal(err)
	}
	user := m.Type("microsoft.graph.user")
	status := &DataType{Name: "microsoft.graph.complianceStatus", Kind: KindEnum, Members: []string{"unknown", "compliant", "nonCompliant"}}
	days := &DataType{Name: "microsoft.graph.dayOfWeek", Kind: KindEnum, Flags: true, Members: []string{"sunday", "monday", "tuesday"}}
	tests := []struct {
		prop  *Prop
		a, b  string // JSON; "" is absent
		equal bool
	}{
		{prop(EdmString, false, true), `"Finance"`, `"Finance"`, true},
		{prop(EdmString, false, true), `"Finance"`, `"finance"`, false}, // strings are compared exactly
		{prop(EdmString, false, true), `""`, `null`, false},             // null is not empty
		{prop(EdmString, false, true), `null`, ``, true},                // absent is null
		{prop(status, false, true), `"nonCompliant"`, `"NONCOMPLIANT"`, true},
		{prop(days, false, true), `"monday,tuesday"`, `"Tuesday, monday"`, true},
		{prop(days, false, true), `"monday"`, `"monday,tuesday"`, false},
		{prop(EdmDateTimeOffset, false, true), `"2024-01-31T09:30:00Z"`, `"2024-01-31T10:30:00.0000000+01:00"`, true},
		{prop(EdmDateTimeOffset, false, true), `"2024-01-31T09:30:00Z"`, `"2024-01-31T09:30:00.0000001Z"`, false},
		{prop(EdmTimeOfDay, false, true), `"09:30"`, `"09:30:00.0000000"`, true},
		{prop(EdmInt32, false, true), `7`, `7.0`, true},
		{prop(EdmDouble, false, true), `1e2`, `100`, true},
		{prop(EdmDecimal, false, true), `0.1`, `0.10000000000000001`, false},
		{prop(EdmGuid, false, true), `"5F8C1A2E-0B3C-4D5E-8F90-123456789ABC"`, `"5f8c1a2e-0b3c-4d5e-8f90-123456789abc"`, true},
		{prop(EdmDuration, false, true), `"PT60M"`, `"PT1H"`, true},
		{prop(EdmDuration, false, true), `"P1D"`, `"PT24H"`, true},
		{prop(EdmBinary, false, true), `"aGVsbG8="`, `"aGVsbG8"`, true},
		{prop(EdmBoolean, false, true), `true`, `false`, false},
		{user.Prop("businessPhones"), `["a","b"]`, `["a","b"]`, true},
		{user.Prop("businessPhones"), `["a","b"]`, `["b","a"]`, false},
		{user.Prop("businessPhones"), `[]`, `null`, false},
		{user.Prop("employeeOrgData"), `{"division":"EMEA"}`, `{"division":"EMEA","costCenter":null}`, true}, // an omitted member is null
		{user.Prop("employeeOrgData"), `{"division":"EMEA"}`, `{"division":"EMEA","costCenter":"CC-1"}`, false},
		{user.Prop("employeeOrgData"), `{"Division":"EMEA"}`, `{"division":"EMEA"}`, true},

		// Enums: flags as a set of members, in any case, order and spacing.
		{prop(status, false, true), `"compliant"`, `"nonCompliant"`, false},
		{prop(status, false, true), `"compliant"`, `null`, false},
		{prop(days, false, true), `"sunday,monday"`, `"MONDAY,sunday,monday"`, true},
		{prop(days, false, true), `"sunday"`, `"sunday,"`, false},
		{prop(days, true, true), `["Monday","sunday"]`, `["monday","SUNDAY"]`, true}, // a collection of enums keeps its order
		{prop(days, true, true), `["monday","sunday"]`, `["sunday","monday"]`, false},

		// Instants: the same moment, whatever its offset and fractional digits.
		{prop(EdmDateTimeOffset, false, true), `"2017-01-01T00:00:17.7769392-08:00"`, `"2017-01-01T08:00:17.776939200Z"`, true},
		{prop(EdmDateTimeOffset, false, true), `"2024-01-31T09:30:00+05:30"`, `"2024-01-31T04:00:00Z"`, true},
		{prop(EdmDateTimeOffset, false, true), `"2024-01-31T09:30:00.1Z"`, `"2024-01-31T09:30:00.1000000+00:00"`, true},
		{prop(EdmDateTimeOffset, false, true), `"2024-01-31T09:30:00+01:00"`, `"2024-01-31T09:30:00Z"`, false}, // same wall clock, not the same moment
		{prop(EdmDateTimeOffset, false, true), `"0001-01-01T00:00:00Z"`, `null`, false},
		{prop(EdmTimeOfDay, false, true), `"09:30:00.5"`, `"09:30:00.5000000"`, true},
		{prop(EdmDate, false, true), `"2024-01-31"`, `"2024-01-30"`, false},

		// Numbers: by value, whatever the notation; never a string for a number.
		{prop(EdmInt64, false, true), `9007199254740993`, `9007199254740992`, false}, // beyond float64's exact integers
		{prop(EdmInt64, false, true), `-0`, `0`, true},
		{prop(EdmInt32, false, true), `7`, `"7"`, false},
		{prop(EdmDouble, false, true), `1.5`, `1.50`, true},
		{prop(EdmDouble, false, true), `1E+2`, `100.0`, true},
		{prop(EdmDecimal, false, true), `12345678901234567890.123456789`, `12345678901234567890.1234567890`, true},
		{prop(EdmInt32, false, false), `0`, ``, false}, // absent is null, not the zero value

		// JSON meaning of complex and collection values: members in any
		// order, nested values by their types, collections in order.
		{user.Prop("passwordProfile"), `{"password":"x","forceChangePasswordNextSignIn":true}`, `{"forceChangePasswordNextSignIn":true,"password":"x"}`, true},
		{user.Prop("passwordProfile"), `{"forceChangePasswordNextSignIn":true}`, `{"forceChangePasswordNextSignIn":false}`, false},
		{user.Prop("passwordProfile"), `null`, `{}`, false}, // no value is not a value of no members
		{user.Prop("passwordProfile"), `{}`, `{"password":null}`, true},
		{user.Prop("assignedLicenses"), `[{"skuId":"5F8C1A2E-0B3C-4D5E-8F90-123456789ABC","disabledPlans":[]}]`, `[{"disabledPlans":[],"skuId":"5f8c1a2e-0b3c-4d5e-8f90-123456789abc"}]`, true},
		{user.Prop("assignedLicenses"), `[{"skuId":"5f8c1a2e-0b3c-4d5e-8f90-123456789abc"}]`, `[{"skuId":"5f8c1a2e-0b3c-4d5e-8f90-123456789abc","disabledPlans":[]}]`, false}, // an omitted collection is null, not empty
		{user.Prop("businessPhones"), `["a"]`, `"a"`, false},
		{user.Prop("businessPhones"), `[]`, `[]`, true},

		// Null, empty, absent.
		{prop(EdmString, false, true), `""`, ``, false},
		{prop(EdmString, false, true), `" "`, `""`, false},
		{prop(EdmString, true, true), `[""]`, `[]`, false},
		{prop(EdmString, true, true), `[null]`, `[]`, false},
	}
	for _, tt := range tests {
		var a, b json.RawMessage
		if tt.a != "" {
			a = json.RawMessage(tt.a)
		}
		if tt.b != "" {
			b = json.RawMessage(tt.b)
		}
		if got := tt.prop.Equal(a, b); got != tt.equal {
			t.Errorf("%s: Equal(%s, %s) = %v, want %v", tt.prop.Type.Name, tt.a, tt.b, got, tt.equal)
		}
		if got := tt.prop.Equal(b, a); got != tt.equal {
			t.Errorf("%s: Equal(%s, %s) = %v, want %v (not symmetric)", tt.prop.Type.Name, tt.b, tt.a, got, tt.equal)
		}
	}
}

// TestCellRoundTrip: a value Graph holds, written as a cell, reads back as
// an equal value, so that an unedited export changes nothing.
func TestCellRoundTrip(t *testing.T) {
	t.Parallel()
	m, err := BuiltinModel(V1)
	if err != nil {
		t.Fatal(err)
	}
	user := m.Type("microsoft.graph.user")
	users := mustTarget(t, "users", V1)
	row := users.NewRow("")
	tests := []struct {
		prop *Prop
		raw  string
		cell string
	}{
		{user.Prop("department"), `"Finance"`, "Finance"},
		{user.Prop("department"), `""`, EmptyToken},
		{user.Prop("department"), `null`, DefaultNullToken},
		{user.Prop("department"), `"  spaced "`, "  spaced "},
		{user.Prop("accountEnabled"), `true`, "true"},
		{user.Prop("employeeHireDate"), `"2024-03-01T00:00:00Z"`, "2024-03-01T00:00:00Z"},
		{user.Prop("businessPhones"), `["+31 20 555 0100","<x>"]`, `["+31 20 555 0100","<x>"]`},
		{user.Prop("employeeOrgData"), `{"division":"EMEA","costCenter":null}`, `{"costCenter":null,"division":"EMEA"}`},
	}
	for _, tt := range tests {
		cell := tt.prop.Cell(json.RawMessage(tt.raw), DefaultNullToken)
		if cell != tt.cell {
			t.Errorf("%s Cell(%s) = %q, want %q", tt.prop.Name, tt.raw, cell, tt.cell)
		}
		body, err := row.Body(fields(t, users, map[string]string{tt.prop.Name: cell})[len(users.Keys):])
		if err != nil {
			t.Errorf("%s cell %q does not read back: %v", tt.prop.Name, cell, err)
			continue
		}
		var sent map[string]json.RawMessage
		if err := json.Unmarshal(body, &sent); err != nil {
			t.Fatal(err)
		}
		if !tt.prop.Equal(sent[tt.prop.Name], json.RawMessage(tt.raw)) {
			t.Errorf("%s %s → cell %q → %s: not equal", tt.prop.Name, tt.raw, cell, sent[tt.prop.Name])
		}
	}
}

// TestCellRoundTripByType: every kind of value Graph holds, written as a
// cell by Cell, reads back through update's input as an Equal value.
func TestCellRoundTripByType(t *testing.T) {
	t.Parallel()
	users := mustTarget(t, "users", V1)
	configs := mustTarget(t, "/deviceManagement/deviceConfigurations/{id}", V1)
	ios := "#microsoft.graph.iosCustomConfiguration"
	tests := []struct {
		target *Target
		typ    string // the row's @odata.type, if any
		column string
		raw    string // the value Graph holds
	}{
		{users, "", "accountEnabled", `false`},
		{users, "", "employeeHireDate", `"2024-03-01T09:30:00.1234567+01:00"`},
		{users, "", "passwordProfile", `{"forceChangePasswordNextSignIn":true,"password":null}`},
		{users, "", "assignedLicenses", `[{"disabledPlans":["5F8C1A2E-0B3C-4D5E-8F90-123456789ABC"],"skuId":"5f8c1a2e-0b3c-4d5e-8f90-123456789abd"}]`},
		{users, "", "otherMails", `[]`},
		{users, "", "employeeOrgData", `null`},
		{users, "", "department", `" "`},
		{configs, "", "version", `2147483647`},
		{configs, ios, "payload", `"aGVsbG8="`},
		{configs, ios, "payload", `""`}, // the empty value of a Binary that cannot be null
		{configs, ios, "payloadName", `""`},
	}
	for _, tt := range tests {
		row := tt.target.NewRow("")
		var p *Prop
		for _, s := range tt.target.Settable() {
			if s.Name == tt.column {
				p = s
			}
		}
		if p == nil {
			t.Fatalf("%s has no column %s", tt.target.Name(), tt.column)
		}
		cell := p.Cell(json.RawMessage(tt.raw), DefaultNullToken)
		cells := map[string]string{tt.column: cell}
		if tt.typ != "" {
			cells[TypeColumn] = tt.typ
		}
		body, err := row.Body(fields(t, tt.target, cells)[len(tt.target.Keys):])
		if err != nil {
			t.Errorf("%s %s: cell %q does not read back: %v", tt.column, tt.raw, cell, err)
			continue
		}
		var sent map[string]json.RawMessage
		if err := json.Unmarshal(body, &sent); err != nil {
			t.Fatal(err)
		}
		if !p.Equal(sent[tt.column], json.RawMessage(tt.raw)) {
			t.Errorf("%s %s → cell %q → %s: not equal", tt.column, tt.raw, cell, sent[tt.column])
		}
	}
}

// TestReadURL: a read selects what the row sets, also when the row names
// its type: Graph answers a user without $select with a default set of
// properties that leaves most of them out.
func TestReadURL(t *testing.T) {
	t.Parallel()
	users := mustTarget(t, "users", V1)
	policies := mustTarget(t, "compliance-policies", V1)
	tests := []struct {
		target *Target
		cells  map[string]string
		want   string
	}{
		{users, map[string]string{"department": "Finance", "usageLocation": "NL"}, "/users/u1?$select=department,usageLocation"},
		{users, map[string]string{TypeColumn: "#microsoft.graph.user", "department": "Finance"}, "/users/u1?$select=department"},
		{policies, map[string]string{TypeColumn: "#microsoft.graph.windows10CompliancePolicy", "displayName": "P"}, "/deviceManagement/deviceCompliancePolicies/u1?$select=displayName"},
		// A property only a derived type has: the whole entity, which
		// Intune answers in full.
		{policies, map[string]string{TypeColumn: "#microsoft.graph.windows10CompliancePolicy", "displayName": "P", "passwordRequired": "true"}, "/deviceManagement/deviceCompliancePolicies/u1"},
	}
	for _, tt := range tests {
		f := fields(t, tt.target, tt.cells)
		f[0] = "u1"
		p, err := tt.target.NewRow("").NewPatch(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := tt.target.ReadURL(p.URL, p); got != tt.want {
			t.Errorf("ReadURL(%v) = %s, want %s", tt.cells, got, tt.want)
		}
	}
}

// TestDiff: what a row would change on an entity, by what Graph answered
// to its read.
func TestDiff(t *testing.T) {
	t.Parallel()
	users := mustTarget(t, "users", V1)
	policies := mustTarget(t, "compliance-policies", V1)
	win10 := "#microsoft.graph.windows10CompliancePolicy"
	tests := []struct {
		name    string
		target  *Target
		cells   map[string]string
		current string
		want    []string // column: current → desired, as cells
		wantErr bool
	}{
		{name: "equal", target: users, cells: map[string]string{"department": "Finance"}, current: `{"id":"u1","department":"Finance"}`},
		{name: "changed", target: users, cells: map[string]string{"department": "Finance", "usageLocation": "NL"},
			current: `{"department":"Sales","usageLocation":"NL"}`, want: []string{"department: Sales → Finance"}},
		{name: "null to empty", target: users, cells: map[string]string{"department": EmptyToken}, current: `{"department":null}`,
			want: []string{"department: #null → #empty"}},
		{name: "empty to null", target: users, cells: map[string]string{"department": "#null"}, current: `{"department":""}`,
			want: []string{"department: #empty → #null"}},
		{name: "null stays null", target: users, cells: map[string]string{"department": "#null"}, current: `{"department":null}`},
		{name: "same type", target: policies, cells: map[string]string{TypeColumn: "windows10CompliancePolicy", "passwordRequired": "true"},
			current: `{"@odata.type":"#microsoft.graph.windows10CompliancePolicy","passwordRequired":true}`},
		{name: "other type", target: policies, cells: map[string]string{TypeColumn: win10, "displayName": "P"},
			current: `{"@odata.type":"#microsoft.graph.iosCompliancePolicy","displayName":"P"}`,
			want:    []string{"@odata.type: #microsoft.graph.iosCompliancePolicy → #microsoft.graph.windows10CompliancePolicy"}},
		// Graph leaves out the type of an entity of the declared type.
		{name: "declared type left out", target: users, cells: map[string]string{TypeColumn: "#microsoft.graph.user", "department": "Finance"},
			current: `{"department":"Finance"}`},
		// A property the answer leaves out is unknown, not null: it may
		// differ, and the plan shows no current value.
		{name: "not answered", target: users, cells: map[string]string{"department": "#null", "usageLocation": "NL"}, current: `{"usageLocation":"NL"}`,
			want: []string{"department:  → #null"}},
		// An answer that is not an entity says nothing of what it holds:
		// nothing may be taken as unchanged, or backed up, from it.
		{name: "null answer", target: users, cells: map[string]string{"department": "#null"}, current: `null`, wantErr: true},
		{name: "empty answer", target: users, cells: map[string]string{"department": "#null"}, current: ``, wantErr: true},
		{name: "array answer", target: users, cells: map[string]string{"department": "#null"}, current: `[]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fields(t, tt.target, tt.cells)
			f[0] = "u1"
			p, err := tt.target.NewRow("").NewPatch(f)
			if err != nil {
				t.Fatal(err)
			}
			changes, err := tt.target.Diff(p, []byte(tt.current))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Diff(%s) error = %v, want error: %v", tt.current, err, tt.wantErr)
			}
			if unread := p.Unread(holdsOf(tt.current)); !tt.wantErr && (unread != nil) != (tt.name == "not answered") {
				t.Errorf("Unread(%s) = %v", tt.current, unread)
			}
			var got []string
			for _, c := range changes {
				got = append(got, c.Column+": "+c.Cell(c.Current, DefaultNullToken)+" → "+c.Cell(c.Desired, DefaultNullToken))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Diff(%s) = %q, want %q", tt.current, got, tt.want)
			}
		})
	}
}

// holdsOf decodes an answer for Unread, nil if it is not an object.
func holdsOf(current string) map[string]json.RawMessage {
	holds, _ := Values([]byte(current))
	return holds
}

// TestCellOfTokens: a string that is itself the null token or #empty has
// no cell that reads back as it; CellOf says so rather than write one
// that would set null or "".
func TestCellOfTokens(t *testing.T) {
	t.Parallel()
	m, err := BuiltinModel(V1)
	if err != nil {
		t.Fatal(err)
	}
	user := m.Type("microsoft.graph.user")
	tests := []struct {
		prop    *Prop
		raw     string
		null    string
		want    string
		wantErr bool
	}{
		{user.Prop("jobTitle"), `"#null"`, DefaultNullToken, "", true},
		{user.Prop("jobTitle"), `"#null"`, "<null>", "#null", false}, // another null token frees it
		{user.Prop("jobTitle"), `"<null>"`, "<null>", "", true},
		{user.Prop("jobTitle"), `"#empty"`, DefaultNullToken, "", true},
		{user.Prop("jobTitle"), `null`, DefaultNullToken, DefaultNullToken, false},
		{user.Prop("jobTitle"), `""`, DefaultNullToken, EmptyToken, false},
		{user.Prop("businessPhones"), `["#null"]`, DefaultNullToken, `["#null"]`, false}, // JSON: a string in quotes
		// A null token that spells a value of another type: that value's
		// cell would read back as null.
		{user.Prop("accountEnabled"), `true`, "true", "", true},
		{prop(EdmInt32, false, true), `0`, "0", "", true},
		{user.Prop("businessPhones"), `[]`, "[]", "", true},
		{user.Prop("accountEnabled"), `null`, "true", "true", false}, // null itself is the token
		{user.Prop("jobTitle"), `""`, EmptyToken, "", true},          // #empty as the null token: "" has no cell
	}
	for _, tt := range tests {
		got, err := tt.prop.CellOf(json.RawMessage(tt.raw), tt.null)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("CellOf(%s, null %q) = %q, %v; want %q, error %v", tt.raw, tt.null, got, err, tt.want, tt.wantErr)
		}
	}
}

// FuzzCellReadsBack checks what an export and a backup rely on: a value of
// a property's type that CellOf gives a cell for reads back, as update
// reads a cell, as a value Equal to it, whatever the null token.
func FuzzCellReadsBack(f *testing.F) {
	m, err := BuiltinModel(V1)
	if err != nil {
		f.Fatal(err)
	}
	complexType, enum := m.Type("microsoft.graph.passwordProfile"), m.Type("microsoft.graph.complianceStatus")
	props := []*Prop{
		prop(EdmString, false, true), prop(EdmInt32, false, true), prop(EdmInt64, false, true), prop(EdmDouble, false, true),
		prop(EdmSingle, false, true), prop(EdmDecimal, false, true), prop(EdmBoolean, false, true), prop(EdmGuid, false, true),
		prop(EdmDate, false, true), prop(EdmTimeOfDay, false, true), prop(EdmDuration, false, true), prop(EdmDateTimeOffset, false, true),
		prop(EdmBinary, false, true), prop(EdmUntyped, false, true), prop(EdmString, true, true), prop(EdmInt32, true, true),
		prop(complexType, false, true), prop(enum, false, true), prop(enum, true, true), prop(complexType, true, true),
		prop(EdmString, false, false), prop(EdmInt32, false, false),
	}
	for _, v := range []string{`"x"`, `1`, `1.5e3`, `true`, `"2024-01-01T00:00:00Z"`, `"PT1H"`, `"09:30"`, `null`, `[]`,
		`["a",null]`, `{"password":"x"}`, `"compliant"`, `""`, `" a "`, `"#null"`, `"#empty"`, `0`, `"AAAA"`} {
		for i := range props {
			f.Add(i, v, DefaultNullToken)
		}
	}
	f.Add(1, `0`, "0")
	f.Fuzz(func(t *testing.T, i int, raw, null string) {
		if i < 0 || i >= len(props) || null == "" {
			return
		}
		p := props[i]
		value, err := p.CheckJSON(json.RawMessage(raw))
		if err != nil {
			return // not a value of p
		}
		cell, err := p.CellOf(value, null)
		if err != nil || cell == "" {
			return // no cell, said so; or none needed (left alone)
		}
		r := &Row{null: null}
		back, err := r.value(p, cell)
		if err != nil {
			t.Fatalf("%s: %s → cell %q does not read back: %v", p.Type.Name, value, cell, err)
		}
		if !p.Equal(value, back) {
			t.Fatalf("%s: %s → cell %q → %s, not Equal", p.Type.Name, value, cell, back)
		}
	})
}
