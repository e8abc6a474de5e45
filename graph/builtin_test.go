package graph_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"github.com/graphbatch/graphbatch/graph"
)

func mustBuiltin(t testing.TB, v graph.Version) *graph.Model {
	t.Helper()
	m, err := graph.BuiltinModel(v)
	if err != nil {
		t.Fatalf("BuiltinModel(%s): %v", v, err)
	}
	return m
}

// The facts of shared/reference/schema.md: v1.0 and beta differ only in
// beta's platform.
var (
	deviceStatusV1 = []propFacts{
		{"id", "Edm.String", false, false, false},
		{"complianceGracePeriodExpirationDateTime", "Edm.DateTimeOffset", false, false, false},
		{"deviceDisplayName", "Edm.String", false, true, false},
		{"deviceModel", "Edm.String", false, true, false},
		{"lastReportedDateTime", "Edm.DateTimeOffset", false, false, false},
		{"status", "microsoft.graph.complianceStatus", false, false, false},
		{"userName", "Edm.String", false, true, false},
		{"userPrincipalName", "Edm.String", false, true, false},
	}
	deviceStatusBeta = slices.Insert(slices.Clone(deviceStatusV1), 5, propFacts{"platform", "Edm.Int32", false, false, false})
	userStatus       = []propFacts{
		{"id", "Edm.String", false, false, false},
		{"devicesCount", "Edm.Int32", false, false, false},
		{"lastReportedDateTime", "Edm.DateTimeOffset", false, false, false},
		{"status", "microsoft.graph.complianceStatus", false, false, false},
		{"userDisplayName", "Edm.String", false, true, false},
		{"userPrincipalName", "Edm.String", false, true, false},
	}
	complianceStatusMembers = []string{"unknown", "notApplicable", "compliant", "remediated", "nonCompliant", "error", "conflict", "notAssigned"}
)

const (
	deviceStatuses = "/deviceManagement/deviceCompliancePolicies/{policyId}/deviceStatuses/{id}"
	userStatuses   = "/deviceManagement/deviceCompliancePolicies/{policyId}/userStatuses/{id}"
)

func TestBuiltinTargets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v         graph.Version
		template  string
		wantNorm  string
		wantType  string
		wantKeys  []string
		wantProps []propFacts // all of them, if set
	}{
		{graph.V1, "/users/{id}", "/users/{id}", "microsoft.graph.user", []string{"id"}, nil},
		{graph.V1, "/USERS/{userId}", "/users/{userId}", "microsoft.graph.user", []string{"userId"}, nil},
		{graph.V1, "/groups/{id}", "/groups/{id}", "microsoft.graph.group", []string{"id"}, nil},
		{graph.V1, "/me/messages/{id}", "/me/messages/{id}", "microsoft.graph.message", []string{"id"}, nil},
		{graph.V1, "/devicemanagement/manageddevices/{id}", "/deviceManagement/managedDevices/{id}", "microsoft.graph.managedDevice", []string{"id"}, nil},
		{graph.V1, "/deviceManagement/deviceCompliancePolicies/{id}", "", "microsoft.graph.deviceCompliancePolicy", []string{"id"}, nil},
		{graph.V1, "/deviceManagement/deviceConfigurations/{id}", "", "microsoft.graph.deviceConfiguration", []string{"id"}, nil},
		{graph.V1, "/deviceManagement/deviceCompliancePolicies/{id}/assignments/{assignmentId}", "", "microsoft.graph.deviceCompliancePolicyAssignment", []string{"id", "assignmentId"}, nil},
		{graph.V1, deviceStatuses, "", "microsoft.graph.deviceComplianceDeviceStatus", []string{"policyId", "id"}, deviceStatusV1},
		{graph.V1, userStatuses, "", "microsoft.graph.deviceComplianceUserStatus", []string{"policyId", "id"}, userStatus},
		{graph.Beta, deviceStatuses, "", "microsoft.graph.deviceComplianceDeviceStatus", []string{"policyId", "id"}, deviceStatusBeta},
		{graph.Beta, userStatuses, "", "microsoft.graph.deviceComplianceUserStatus", []string{"policyId", "id"}, userStatus},
	}
	for _, tt := range tests {
		target, err := mustBuiltin(t, tt.v).Resolve(tt.template)
		if err != nil {
			t.Errorf("%s Resolve(%q): %v", tt.v, tt.template, err)
			continue
		}
		if tt.wantNorm == "" {
			tt.wantNorm = tt.template
		}
		if target.Template != tt.wantNorm || target.Type.Name != tt.wantType || !slices.Equal(target.Keys, tt.wantKeys) {
			t.Errorf("%s Resolve(%q) = %s %s %q, want %s %s %q", tt.v, tt.template,
				target.Template, target.Type.Name, target.Keys, tt.wantNorm, tt.wantType, tt.wantKeys)
		}
		if tt.wantProps == nil {
			continue
		}
		if diff := cmp.Diff(tt.wantProps, propsOf(target.Type.AllProperties())); diff != "" {
			t.Errorf("%s %s properties mismatch (-want +got):\n%s", tt.v, tt.wantType, diff)
		}
		if got := target.Type.Prop("status").Type.Members; !slices.Equal(got, complianceStatusMembers) {
			t.Errorf("%s complianceStatus members = %q, want %q", tt.v, got, complianceStatusMembers)
		}
	}
}

func TestV1Properties(t *testing.T) {
	t.Parallel()
	m := mustBuiltin(t, graph.V1)
	tests := []struct {
		typ, prop    string
		wantType     string
		wantReadOnly bool
	}{
		{"graph.user", "department", "Edm.String", false},
		{"graph.user", "usageLocation", "Edm.String", false},
		{"graph.user", "accountEnabled", "Edm.Boolean", false},
		{"graph.user", "businessPhones", "Edm.String", false}, // a collection
		// The v1.0 CSDL does not annotate user's createdDateTime, although
		// Graph's documentation calls it read-only.
		{"graph.user", "createdDateTime", "Edm.DateTimeOffset", false},
		{"graph.managedDevice", "notes", "Edm.String", false},
		{"graph.managedDevice", "managedDeviceOwnerType", "microsoft.graph.managedDeviceOwnerType", false},
		{"graph.managedDevice", "deviceName", "Edm.String", true},
		{"graph.managedDevice", "complianceState", "microsoft.graph.complianceState", true},
		{"graph.managedDevice", "serialNumber", "Edm.String", true},
		{"graph.windows81GeneralConfiguration", "applyOnlyToWindows81", "Edm.Boolean", true}, // Computed and Permissions Read
		{"graph.configurationDrift", "tenantId", "Edm.String", true},                         // Computed and Immutable
		{"graph.agentIdentity", "agentIdentityBlueprintId", "Edm.String", true},              // Immutable only
		{"graph.community", "groupId", "Edm.String", true},                                   // Permissions Read only
		{"graph.engagementConversation", "creationMode", "microsoft.graph.engagementCreationMode", false},
		{"microsoft.graph.security.user", "displayName", "Edm.String", false},
	}
	for _, tt := range tests {
		typ := m.Type(tt.typ)
		if typ == nil {
			t.Errorf("Type(%q) = nil", tt.typ)
			continue
		}
		p := typ.Prop(tt.prop)
		if p == nil {
			t.Errorf("%s.Prop(%q) = nil", tt.typ, tt.prop)
			continue
		}
		if p.Type.Name != tt.wantType || p.ReadOnly != tt.wantReadOnly {
			t.Errorf("%s.Prop(%q) = %s ReadOnly=%v, want %s ReadOnly=%v", tt.typ, tt.prop, p.Type.Name, p.ReadOnly, tt.wantType, tt.wantReadOnly)
		}
	}
}

// TestV1Facts checks counts that README.md and the report quote: 205
// Computed, 11 Immutable and 86 Permissions/Read annotations target 215
// members, 4 of which are navigation properties.
func TestV1Facts(t *testing.T) {
	t.Parallel()
	m := mustBuiltin(t, graph.V1)
	readOnly, props := 0, 0
	for _, typ := range m.Types() {
		for _, p := range typ.Properties {
			props++
			if p.ReadOnly {
				readOnly++
			}
		}
	}
	if readOnly != 211 || props != 10525 {
		t.Errorf("v1.0 has %d read-only properties of %d, want 211 of 10525", readOnly, props)
	}
	if missing := m.Missing(); len(missing) > 0 {
		t.Errorf("v1.0 Missing() = %q, want none", missing)
	}
	if m.Partial || !strings.Contains(m.Source, "v1.0") {
		t.Errorf("v1.0 Partial, Source = %v, %q; want false, the built-in v1.0", m.Partial, m.Source)
	}
	users := m.Type("microsoft.graph.user")
	if users == m.Type("microsoft.graph.security.user") || m.Type("graph.user") != users || m.Type("self.user") == nil {
		t.Errorf("the two types called user are not told apart by namespace and alias")
	}
}

func TestV1CompliancePolicies(t *testing.T) {
	t.Parallel()
	target, err := mustBuiltin(t, graph.V1).Resolve("/deviceManagement/deviceCompliancePolicies/{id}")
	if err != nil {
		t.Fatal(err)
	}
	policy := target.Type
	if !policy.Abstract || policy.Kind != graph.KindEntity {
		t.Errorf("deviceCompliancePolicy Abstract, Kind = %v, %v; want true, entity", policy.Abstract, policy.Kind)
	}
	derived := typeNames(policy.AllDerived())
	for _, want := range []string{"microsoft.graph.windows10CompliancePolicy", "microsoft.graph.iosCompliancePolicy", "microsoft.graph.androidCompliancePolicy"} {
		if !slices.Contains(derived, want) {
			t.Errorf("deviceCompliancePolicy.AllDerived() = %q, want it to include %s", derived, want)
		}
	}
	win10 := mustBuiltin(t, graph.V1).Type("graph.windows10CompliancePolicy")
	if !win10.IsA(policy) || win10.Prop("passwordRequired") == nil || win10.Prop("displayName") == nil {
		t.Errorf("windows10CompliancePolicy lacks its own or its base's properties")
	}
}

func TestBuiltinBeta(t *testing.T) {
	t.Parallel()
	m := mustBuiltin(t, graph.Beta)
	if !m.Partial {
		t.Errorf("beta's built-in model is not Partial")
	}
	var te *graph.TemplateError
	for _, template := range []string{"/users/{id}", "/deviceManagement/deviceCompliancePolicies/{id}"} {
		if _, err := m.Resolve(template); !errors.As(err, &te) {
			t.Errorf("beta Resolve(%q) = %v, want a *TemplateError: beta has only the seed entities", template, err)
		}
	}
	if _, err := graph.BuiltinModel("v2"); err == nil {
		t.Errorf("BuiltinModel(v2) = nil error, want one")
	}
}

// TestCompactUpToDate fails when metadata/v1.0.model.gz was not
// regenerated after the CSDL changed.
func TestCompactUpToDate(t *testing.T) {
	t.Parallel()
	m, err := graph.LoadModel("metadata/v1.0-Prod.csdl.gz")
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got := gunzipFile(t, "metadata/v1.0.model.gz"); !bytes.Equal(got, want) {
		t.Errorf("metadata/v1.0.model.gz does not match metadata/v1.0-Prod.csdl.gz: run go generate ./graph")
	}
}

func gunzipFile(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// describeModel writes out everything a model holds, to compare two models.
func describeModel(m *graph.Model) string {
	var b strings.Builder
	for _, t := range m.Types() {
		fmt.Fprintf(&b, "%s %+v\n", t.Name, factsOf(t))
		for _, p := range t.Properties {
			fmt.Fprintf(&b, "\t%+v\n", propsOf([]*graph.Prop{p})[0])
		}
		for _, n := range t.Navigation {
			fmt.Fprintf(&b, "\t-> %s %s %v %v\n", n.Name, n.Type.Name, n.Collection, n.ContainsTarget)
		}
	}
	for _, r := range m.Roots() {
		fmt.Fprintf(&b, "root %s %s %v\n", r.Name, r.Type.Name, r.Collection)
	}
	fmt.Fprintf(&b, "missing %q\n", m.Missing())
	return b.String()
}

func TestLoadModel(t *testing.T) {
	t.Parallel()
	m := parseTest(t)
	compact, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string][]byte{
		"plain.csdl":    []byte(testCSDL),
		"csdl.gz":       gzipBytes(t, []byte(testCSDL)),
		"compact":       compact,
		"compact.gz":    gzipBytes(t, compact),
		"utf8-bom.csdl": append([]byte("\ufeff"), testCSDL...),
		"utf16le.csdl":  utf16Text(strings.Replace(testCSDL, `encoding="utf-8"`, `encoding="utf-16"`, 1), false),
		"utf16be.csdl":  utf16Text(testCSDL, true),
		"truncated.gz":  gzipBytes(t, compact)[:100],
		"not-csdl.html": []byte("<html></html>"),
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := graph.LoadModel(path)
		if strings.HasPrefix(name, "truncated") || strings.HasPrefix(name, "not-") {
			if err == nil {
				t.Errorf("LoadModel(%s) = nil error, want one", name)
			}
			continue
		}
		if err != nil {
			t.Errorf("LoadModel(%s): %v", name, err)
			continue
		}
		if diff := cmp.Diff(describeModel(m), describeModel(got)); diff != "" {
			t.Errorf("LoadModel(%s) mismatch (-want +got):\n%s", name, diff)
		}
		if got.Source != path || got.Type("a.person") == nil {
			t.Errorf("LoadModel(%s): Source = %q, Type(a.person) = %v; want the path, and aliases kept", name, got.Source, got.Type("a.person"))
		}
	}
	if _, err := graph.LoadModel(filepath.Join(dir, "absent")); err == nil {
		t.Errorf("LoadModel(absent) = nil error, want one")
	}
}

// utf16Text encodes s as UTF-16 with a byte order mark.
func utf16Text(s string, bigEndian bool) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune("\ufeff" + s)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return b
}

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCompactRoundTrip checks that the built-in model survives the
// compact form whole, and that every truncation of a compact form is an
// error, not a panic.
func TestCompactRoundTrip(t *testing.T) {
	t.Parallel()
	v1 := mustBuiltin(t, graph.V1)
	data, err := v1.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v1.compact")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := graph.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if describeModel(v1) != describeModel(again) {
		t.Errorf("the v1.0 model changed on its way through MarshalBinary and LoadModel")
	}
	small, _ := parseTest(t).MarshalBinary()
	path = filepath.Join(t.TempDir(), "cut")
	for n := range len(small) {
		if err := os.WriteFile(path, small[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := graph.LoadModel(path); err == nil {
			t.Fatalf("LoadModel(the first %d of %d bytes of a compact model) = nil error, want one", n, len(small))
		}
	}
}
