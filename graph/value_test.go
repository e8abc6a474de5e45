package graph

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// typeTest is one cell checked by Type.AppendJSON: either want (the exact
// JSON written) or errPart (a piece of the error text) is set.
type typeTest struct {
	name    string
	cell    string
	want    string
	errPart string
}

func runTypeTests(t *testing.T, typ *Type, tests []typeTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := typ.AppendJSON([]byte("prefix:"), tt.cell)
			if tt.errPart != "" {
				if err == nil {
					t.Fatalf("%s.AppendJSON(%q) = %s, nil; want error containing %q", typ.ShortName(), tt.cell, got, tt.errPart)
				}
				if !strings.Contains(err.Error(), tt.errPart) {
					t.Errorf("%s.AppendJSON(%q) error = %q, want it to contain %q", typ.ShortName(), tt.cell, err, tt.errPart)
				}
				if string(got) != "prefix:" {
					t.Errorf("%s.AppendJSON(%q) on error returned dst %q, want it unchanged", typ.ShortName(), tt.cell, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s.AppendJSON(%q) error = %v, want %s", typ.ShortName(), tt.cell, err, tt.want)
			}
			value, ok := strings.CutPrefix(string(got), "prefix:")
			if !ok {
				t.Fatalf("%s.AppendJSON(%q) = %q, lost the bytes already in dst", typ.ShortName(), tt.cell, got)
			}
			if value != tt.want {
				t.Errorf("%s.AppendJSON(%q) = %s, want %s", typ.ShortName(), tt.cell, value, tt.want)
			}
			if !json.Valid([]byte(value)) {
				t.Errorf("%s.AppendJSON(%q) = %s, not valid JSON", typ.ShortName(), tt.cell, value)
			}
		})
	}
}

func TestStringAppendJSON(t *testing.T) {
	t.Parallel()
	// Every cell must survive a JSON round trip exactly.
	cells := []string{
		"",
		"plain",
		`say "hi"`,
		`C:\temp\x`,
		`\"`,
		"line1\nline2\r\n",
		"tab\there",
		"\x00\x01\x08\x0c\x1b\x1f",
		"del\x7f",
		"<script>&amp;</script>",
		"é 中文 🙂",
		"\u2028\u2029",
		"\ufeffbom",
		"trailing backslash\\",
	}
	for _, cell := range cells {
		t.Run(cell, func(t *testing.T) {
			t.Parallel()
			got, err := String.AppendJSON(nil, cell)
			if err != nil {
				t.Fatalf("String.AppendJSON(%q) error = %v", cell, err)
			}
			if !json.Valid(got) {
				t.Fatalf("String.AppendJSON(%q) = %s, not valid JSON", cell, got)
			}
			var back string
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("String.AppendJSON(%q) = %s, does not decode as a string: %v", cell, got, err)
			}
			if back != cell {
				t.Errorf("String.AppendJSON(%q) = %s, decodes to %q", cell, got, back)
			}
		})
	}

	runTypeTests(t, String, []typeTest{
		{name: "quote escaped", cell: `a"b`, want: `"a\"b"`},
		{name: "backslash escaped", cell: `a\b`, want: `"a\\b"`},
		{name: "newline escaped", cell: "a\nb", want: `"a\nb"`},
		{name: "NUL escaped", cell: "a\x00b", want: `"a\u0000b"`},
		{name: "unicode kept", cell: "é🙂", want: `"é🙂"`},
		{name: "invalid UTF-8 byte", cell: "caf\xe9", errPart: "UTF-8"},
		{name: "truncated sequence", cell: "a\xc3", errPart: "UTF-8"},
		{name: "lone continuation", cell: "\x80", errPart: "UTF-8"},
	})
}

func TestComplianceStatusAppendJSON(t *testing.T) {
	t.Parallel()
	runTypeTests(t, ComplianceStatus, []typeTest{
		{name: "graph spelling", cell: "nonCompliant", want: `"nonCompliant"`},
		{name: "lower", cell: "noncompliant", want: `"nonCompliant"`},
		{name: "upper", cell: "NONCOMPLIANT", want: `"nonCompliant"`},
		{name: "title", cell: "Compliant", want: `"compliant"`},
		{name: "notApplicable", cell: "NOTAPPLICABLE", want: `"notApplicable"`},
		{name: "notAssigned", cell: "notassigned", want: `"notAssigned"`},
		{name: "error", cell: "Error", want: `"error"`},
		{name: "unknown", cell: "UNKNOWN", want: `"unknown"`},
		{name: "remediated", cell: "reMEDiated", want: `"remediated"`},
		{name: "conflict", cell: "conflict", want: `"conflict"`},
		{name: "not a member", cell: "green", errPart: "is not a complianceStatus"},
		{name: "hyphenated", cell: "non-compliant", errPart: "is not a complianceStatus"},
		{name: "padded", cell: " compliant", errPart: "is not a complianceStatus"},
		{name: "number", cell: "2", errPart: "is not a complianceStatus"},
	})

	_, err := ComplianceStatus.AppendJSON(nil, "green")
	if err == nil {
		t.Fatal(`ComplianceStatus.AppendJSON("green") error = nil, want one listing the members`)
	}
	for _, m := range []string{"unknown", "notApplicable", "compliant", "remediated", "nonCompliant", "error", "conflict", "notAssigned"} {
		if !strings.Contains(err.Error(), m) {
			t.Errorf(`ComplianceStatus.AppendJSON("green") error = %q, want it to list member %q`, err, m)
		}
	}
}

func TestInt32AppendJSON(t *testing.T) {
	t.Parallel()
	runTypeTests(t, Int32, []typeTest{
		{name: "zero", cell: "0", want: "0"},
		{name: "negative zero", cell: "-0", want: "0"},
		{name: "max", cell: "2147483647", want: "2147483647"},
		{name: "min", cell: "-2147483648", want: "-2147483648"},
		{name: "leading zeros", cell: "007", want: "7"},
		// A leading plus is accepted and dropped: the JSON is still a plain number.
		{name: "plus sign", cell: "+5", want: "5"},
		{name: "max+1", cell: "2147483648", errPart: "out of range"},
		{name: "min-1", cell: "-2147483649", errPart: "out of range"},
		{name: "far too big", cell: "99999999999999999999999", errPart: "out of range"},
		{name: "decimal point", cell: "1.0", errPart: "not a whole number"},
		{name: "letters", cell: "abc", errPart: "not a whole number"},
		{name: "exponent", cell: "1e3", errPart: "not a whole number"},
		{name: "hex", cell: "0x10", errPart: "not a whole number"},
		{name: "underscore", cell: "1_000", errPart: "not a whole number"},
		{name: "thousands separator", cell: "1,000", errPart: "not a whole number"},
		{name: "leading space", cell: " 5", errPart: "not a whole number"},
		{name: "trailing space", cell: "5 ", errPart: "not a whole number"},
		{name: "sign only", cell: "-", errPart: "not a whole number"},
		{name: "full-width digit", cell: "５", errPart: "not a whole number"},
	})
}

func TestDateTimeOffsetAppendJSON(t *testing.T) {
	t.Parallel()
	ok := func(name, cell string) typeTest {
		return typeTest{name: name, cell: cell, want: `"` + cell + `"`}
	}
	tests := []typeTest{
		ok("UTC", "2024-01-31T09:30:00Z"),
		ok("positive offset", "2024-01-31T09:30:00+01:00"),
		ok("negative offset", "2024-01-31T09:30:00-08:00"),
		ok("zero offset", "2024-01-31T09:30:00+00:00"),
		ok("max offset", "2024-01-31T09:30:00+14:00"),
		ok("min offset", "2024-01-31T09:30:00-14:00"),
		ok("contract example", "2017-01-01T00:00:17.7769392-08:00"),
		ok("end of year", "2024-12-31T23:59:59Z"),
		ok("leap day", "2024-02-29T00:00:00Z"),
		ok("leap day 2000", "2000-02-29T00:00:00Z"),
		ok("April 30", "2024-04-30T00:00:00Z"),
		{name: "8 fraction digits", cell: "2024-01-31T09:30:00.12345678Z", errPart: "has 8 fractional second digits"},
		{name: "9 fraction digits", cell: "2024-01-31T09:30:00.123456789+01:00", errPart: "has 9 fractional second digits"},
		{name: "dot without digits", cell: "2024-01-31T09:30:00.Z", errPart: "is not a date and time"},
		{name: "Feb 29 non-leap", cell: "2023-02-29T00:00:00Z", errPart: "is not a real date (2023-02-29)"},
		{name: "Feb 29 1900", cell: "1900-02-29T00:00:00Z", errPart: "is not a real date"},
		{name: "Feb 30", cell: "2024-02-30T00:00:00Z", errPart: "is not a real date"},
		{name: "year 0000", cell: "0000-01-01T00:00:00Z", errPart: "is not a real date"},
		{name: "April 31", cell: "2024-04-31T00:00:00Z", errPart: "is not a real date"},
		{name: "month 13", cell: "2024-13-01T00:00:00Z", errPart: "is not a real date"},
		{name: "month 0", cell: "2024-00-10T00:00:00Z", errPart: "is not a real date"},
		{name: "day 0", cell: "2024-01-00T00:00:00Z", errPart: "is not a real date"},
		{name: "hour 24", cell: "2024-01-31T24:00:00Z", errPart: "is not a real time of day (24:00:00)"},
		{name: "minute 60", cell: "2024-01-31T23:60:00Z", errPart: "is not a real time of day"},
		{name: "leap second", cell: "2024-01-31T23:59:60Z", errPart: "is not a real time of day"},
		{name: "no zone", cell: "2024-01-31T09:30:00", errPart: "is not a date and time"},
		{name: "no zone with fraction", cell: "2024-01-31T09:30:00.5", errPart: "has no time zone"},
		{name: "lowercase t", cell: "2024-01-31t09:30:00Z", errPart: "is not a date and time"},
		{name: "lowercase z", cell: "2024-01-31T09:30:00z", errPart: "has no time zone"},
		{name: "space for T", cell: "2024-01-31 09:30:00Z", errPart: "is not a date and time"},
		{name: "offset without colon", cell: "2024-01-31T09:30:00+0100", errPart: "has no time zone"},
		{name: "offset +14:30", cell: "2024-01-31T09:30:00+14:30", errPart: "impossible offset +14:30"},
		{name: "offset +15:00", cell: "2024-01-31T09:30:00+15:00", errPart: "impossible offset +15:00"},
		{name: "offset minutes 60", cell: "2024-01-31T09:30:00+01:60", errPart: "impossible offset"},
		{name: "offset letters", cell: "2024-01-31T09:30:00+0a:00", errPart: "impossible offset"},
		{name: "trailing space", cell: "2024-01-31T09:30:00Z ", errPart: "has no time zone"},
		{name: "date only", cell: "2024-01-31", errPart: "is not a date and time"},
		{name: "no seconds", cell: "2024-01-31T09:30Z", errPart: "is not a date and time"},
		{name: "two-digit year", cell: "24-01-31T09:30:00Z", errPart: "is not a date and time"},
		{name: "one-digit month", cell: "2024-1-31T09:30:00+01:00", errPart: "is not a date and time"},
		{name: "US order", cell: "01/31/2024 09:30:00", errPart: "is not a date and time"},
		{name: "letters in year", cell: "20x4-01-31T09:30:00Z", errPart: "is not a date and time"},
	}
	for n := 1; n <= MaxFractionDigits; n++ {
		frac := "1234567"[:n]
		tests = append(tests,
			ok(frac+" Z", "2024-01-31T09:30:00."+frac+"Z"),
			ok(frac+" offset", "2024-01-31T09:30:00."+frac+"+05:30"))
	}
	runTypeTests(t, DateTimeOffset, tests)
}

// FuzzDateTimeOffset checks that every value the hand-written check accepts
// is RFC 3339 for the standard library too, and is written unchanged.
func FuzzDateTimeOffset(f *testing.F) {
	for _, s := range []string{
		"2024-01-31T09:30:00Z",
		"2017-01-01T00:00:17.7769392-08:00",
		"2024-02-29T23:59:59.1+14:00",
		"2023-02-29T00:00:00Z",
		"2024-01-31T09:30:00.12345678Z",
		"2024-01-31T09:30:00+14:30",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := DateTimeOffset.AppendJSON(nil, s)
		if err != nil {
			return
		}
		if _, perr := time.Parse(time.RFC3339Nano, s); perr != nil {
			t.Errorf("DateTimeOffset.AppendJSON(%q) accepted it, but time.Parse says %v", s, perr)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != s {
			t.Errorf("DateTimeOffset.AppendJSON(%q) = %s, decodes to %q, %v", s, got, back, err)
		}
	})
}

// row returns the cells of one CSV row for s: the named properties set, the
// others empty.
func row(t *testing.T, s *Schema, cells map[string]string) []string {
	t.Helper()
	values := make([]string, len(s.Properties))
	for name, v := range cells {
		i := slices.IndexFunc(s.Properties, func(p Property) bool { return p.Name == name })
		if i < 0 {
			t.Fatalf("%s %s has no property %q", s.Resource.Name, s.Version, name)
		}
		values[i] = v
	}
	return values
}

func mustSchema(t *testing.T, resource string, v Version) *Schema {
	t.Helper()
	r, err := LookupResource(resource)
	if err != nil {
		t.Fatal(err)
	}
	return NewSchema(r, v)
}

func TestNewPatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		resource string
		version  Version
		cells    map[string]string
		wantURL  string
		wantBody string
	}{
		{
			name:     "status in any case",
			resource: "device-statuses", version: V1,
			cells:    map[string]string{"status": "COMPLIANT"},
			wantURL:  "/deviceManagement/deviceCompliancePolicies/p1/deviceStatuses/d1",
			wantBody: `{"status":"compliant"}`,
		},
		{
			name:     "empty cells omitted, properties in Graph order",
			resource: "device-statuses", version: V1,
			cells: map[string]string{
				"userName":             "Ada",
				"lastReportedDateTime": "2024-01-31T09:30:00Z",
				"deviceModel":          "",
				"status":               "noncompliant",
			},
			wantURL:  "/deviceManagement/deviceCompliancePolicies/p1/deviceStatuses/d1",
			wantBody: `{"lastReportedDateTime":"2024-01-31T09:30:00Z","status":"nonCompliant","userName":"Ada"}`,
		},
		{
			name:     "beta platform",
			resource: "device-statuses", version: Beta,
			cells:    map[string]string{"platform": "3", "deviceDisplayName": `PC "7"`},
			wantURL:  "/deviceManagement/deviceCompliancePolicies/p1/deviceStatuses/d1",
			wantBody: `{"deviceDisplayName":"PC \"7\"","platform":3}`,
		},
		{
			name:     "user statuses",
			resource: "user-statuses", version: V1,
			cells:    map[string]string{"devicesCount": "-2147483648", "userPrincipalName": "ada@example.com"},
			wantURL:  "/deviceManagement/deviceCompliancePolicies/p1/userStatuses/d1",
			wantBody: `{"devicesCount":-2147483648,"userPrincipalName":"ada@example.com"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustSchema(t, tt.resource, tt.version)
			p, err := s.NewPatch("p1", "d1", row(t, s, tt.cells))
			if err != nil {
				t.Fatalf("NewPatch(%v) error = %v", tt.cells, err)
			}
			if p.URL != tt.wantURL {
				t.Errorf("NewPatch(%v).URL = %q, want %q", tt.cells, p.URL, tt.wantURL)
			}
			if string(p.Body) != tt.wantBody {
				t.Errorf("NewPatch(%v).Body = %s, want %s", tt.cells, p.Body, tt.wantBody)
			}
			if !json.Valid(p.Body) {
				t.Errorf("NewPatch(%v).Body = %s, not valid JSON", tt.cells, p.Body)
			}
		})
	}
}

func TestNewPatchErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		version    Version
		cells      map[string]string
		wantColumn string // "" for ErrNoProperty
		wantValue  string
	}{
		{name: "all empty", version: V1, cells: nil},
		{name: "all empty beta", version: Beta, cells: nil},
		{
			name: "bad date", version: V1,
			cells:      map[string]string{"lastReportedDateTime": "2024-02-30T00:00:00Z", "userName": "Ada"},
			wantColumn: "lastReportedDateTime", wantValue: "2024-02-30T00:00:00Z",
		},
		{
			name: "bad status", version: V1,
			cells:      map[string]string{"status": "green"},
			wantColumn: "status", wantValue: "green",
		},
		{
			name: "first bad column is named", version: V1,
			cells:      map[string]string{"deviceModel": "\xff", "status": "green"},
			wantColumn: "deviceModel", wantValue: "\xff",
		},
		{
			name: "bad platform", version: Beta,
			cells:      map[string]string{"platform": "1.5"},
			wantColumn: "platform", wantValue: "1.5",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustSchema(t, "device-statuses", tt.version)
			p, err := s.NewPatch("p1", "d1", row(t, s, tt.cells))
			if err == nil {
				t.Fatalf("NewPatch(%v) = %+v, want an error", tt.cells, p)
			}
			if tt.wantColumn == "" {
				if !errors.Is(err, ErrNoProperty) {
					t.Errorf("NewPatch(%v) error = %v, want ErrNoProperty", tt.cells, err)
				}
				return
			}
			var ve *ValueError
			if !errors.As(err, &ve) {
				t.Fatalf("NewPatch(%v) error = %v (%T), want a *ValueError", tt.cells, err, err)
			}
			if ve.Column != tt.wantColumn || ve.Value != tt.wantValue {
				t.Errorf("NewPatch(%v) error on column %q value %q, want column %q value %q", tt.cells, ve.Column, ve.Value, tt.wantColumn, tt.wantValue)
			}
			if !strings.Contains(err.Error(), tt.wantColumn) {
				t.Errorf("NewPatch(%v) error = %q, want it to name column %q", tt.cells, err, tt.wantColumn)
			}
		})
	}
}

func TestAppendBodyWrongLength(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, "device-statuses", V1)
	for _, n := range []int{0, len(s.Properties) - 1, len(s.Properties) + 1} {
		values := make([]string, n)
		for i := range values {
			values[i] = "x"
		}
		body, err := s.AppendBody(nil, values)
		if err == nil {
			t.Errorf("AppendBody(%d values for %d properties) = %s, want an error", n, len(s.Properties), body)
		}
		var ve *ValueError
		if errors.As(err, &ve) || errors.Is(err, ErrNoProperty) {
			t.Errorf("AppendBody(%d values) error = %v, want a programming error, not a row error", n, err)
		}
	}
}

func TestValueErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *ValueError
		want string
	}{
		{&ValueError{Column: "status", Value: "green", Err: errors.New("is bad")}, `column status: "green" is bad`},
		{&ValueError{Column: "id", Value: "", Err: errEmpty}, "column id is empty"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%#v.Error() = %q, want %q", tt.err, got, tt.want)
		}
		if !errors.Is(tt.err, tt.err.Err) {
			t.Errorf("errors.Is(%v, its Err) = false, want true", tt.err)
		}
	}
}

func TestPropertiesOfPlatform(t *testing.T) {
	t.Parallel()
	for _, r := range Resources {
		for _, v := range Versions {
			want := r.Name == "device-statuses" && v == Beta
			var names []string
			for _, p := range r.PropertiesOf(v) {
				names = append(names, p.Name)
			}
			if got := slices.Contains(names, "platform"); got != want {
				t.Errorf("%s.PropertiesOf(%s) has platform = %v, want %v (properties %v)", r.Name, v, got, want, names)
			}
			if got := slices.Contains(NewSchema(r, v).Columns(), "platform"); got != want {
				t.Errorf("NewSchema(%s, %s).Columns() has platform: %v, want %v", r.Name, v, got, want)
			}
		}
	}
}

func TestSchemaColumns(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, "user-statuses", V1)
	want := []string{"policyId", "id", "devicesCount", "lastReportedDateTime", "status", "userDisplayName", "userPrincipalName"}
	if got := s.Columns(); !slices.Equal(got, want) {
		t.Errorf("Columns() = %v, want %v", got, want)
	}
}
