package graph_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
)

func TestResolveTemplates(t *testing.T) {
	t.Parallel()
	m := parseTest(t)
	tests := []struct {
		template string
		wantNorm string
		wantType string
		wantKeys []string
	}{
		{"/people/{id}", "/people/{id}", "test.a.person", []string{"id"}},
		{"/PEOPLE/{Id}", "/people/{Id}", "test.a.person", []string{"Id"}},
		{"/boss/reports/{id}", "/boss/reports/{id}", "test.a.employee", []string{"id"}},                                         // singleton, containment
		{"/boss/manager/reports/{r}/friends/{f}", "/boss/manager/reports/{r}/friends/{f}", "test.a.person", []string{"r", "f"}}, // nested
		{"/people/{p}/friends/{f_2}", "/people/{p}/friends/{f_2}", "test.a.person", []string{"p", "f_2"}},
		{"/badges/{id}", "/badges/{id}", "test.b.person", []string{"id"}},
		{"/boss/Friends/{id}", "/boss/friends/{id}", "test.a.person", []string{"id"}}, // declared on a base type
	}
	for _, tt := range tests {
		target, err := m.Resolve(tt.template)
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.template, err)
			continue
		}
		if target.Template != tt.wantNorm || target.Type.Name != tt.wantType || !slices.Equal(target.Keys, tt.wantKeys) || target.Model != m {
			t.Errorf("Resolve(%q) = %s %s %q, want %s %s %q", tt.template, target.Template, target.Type.Name, target.Keys, tt.wantNorm, tt.wantType, tt.wantKeys)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	v1 := mustBuiltin(t, graph.V1)
	small := parseTest(t)
	tests := []struct {
		m           *graph.Model
		template    string
		wantPos     int
		wantSegment string
		wantReason  string // a part of the reason
		wantNearest string // the first suggestion, if any
	}{
		{v1, "/user/{id}", 1, "user", "not an entity set or singleton", "users"},
		{v1, "/deviceManagment/managedDevices/{id}", 1, "deviceManagment", "not an entity set or singleton", "deviceManagement"},
		{v1, "/deviceManagement/managedDevice/{id}", 2, "managedDevice", "not a navigation property of microsoft.graph.deviceManagement", "managedDevices"},
		{v1, "/deviceManagement/compliancePolicies/{id}", 2, "compliancePolicies", "not a navigation property", "deviceCompliancePolicies"},
		{v1, "/deviceManagement/deviceCompliancePolicies/{p}/deviceStatus/{id}", 4, "deviceStatus", "not a navigation property", "deviceStatuses"},
		{v1, "/deviceAppManagement/mobileApps/{id}/contentVersions/{v}", 4, "contentVersions", "only its derived type microsoft.graph.managedMobileLobApp", ""},
		{v1, "/deviceManagement/deviceCompliancePolicies/{id}/microsoft.graph.windows10CompliancePolicy", 4, "microsoft.graph.windows10CompliancePolicy", "type casts are not supported", ""},
		{v1, "/deviceManagement/{id}", 2, "{id}", `follows the singleton "deviceManagement", which is not a collection`, ""},
		{v1, "/users/{id}/manager/{m}", 4, "{m}", `follows the single-valued navigation property "manager"`, ""},
		{v1, "/users/{id}/{x}", 3, "{x}", "follows the key {id}", ""},
		{v1, "/{id}", 1, "{id}", "comes first", ""},
		{v1, "/users/{id}/messages/{ID}", 4, "{ID}", "repeats the placeholder {id}", ""},
		{v1, "/users", 1, "users", "must end in a key, like /users/{id}", ""},
		{v1, "/me", 1, "me", "is a singleton, not a collection; the template must end in a key", ""},
		{v1, "/users/{id}/manager", 3, "manager", "must end in a key", ""},
		{v1, "/users/manager/{id}", 2, "manager", `follows the entity set "users" without a key`, ""},
		{v1, "users/{id}", 0, "", `does not start with "/"`, ""},
		{v1, "", 0, "", `does not start with "/"`, ""},
		{v1, "/users('abc')", 1, "users('abc')", "parentheses", ""},
		{v1, "/users/{id}?$select=mail", 0, "", "query or a fragment", ""},
		{v1, "/", 1, "", "is empty", ""},
		{v1, "/users//{id}", 2, "", "is empty", ""},
		{v1, "/users/{id}/", 3, "", "is empty", ""},
		{v1, "/users/{}", 2, "{}", "not a valid placeholder", ""},
		{v1, "/users/{1d}", 2, "{1d}", "not a valid placeholder", ""},
		{v1, "/users/{a-b}", 2, "{a-b}", "not a valid placeholder", ""},
		{v1, "/users/x{id}", 2, "x{id}", "a placeholder is a whole segment", ""},
		{small, "/people/{id}/ghost/{g}", 3, "ghost", "not a navigation property", "friends"},
		{small, "/people/{id}/reports/{r}", 3, "reports", "only its derived type test.a.employee", ""},
	}
	for _, tt := range tests {
		_, err := tt.m.Resolve(tt.template)
		var te *graph.TemplateError
		if !errors.As(err, &te) {
			t.Errorf("Resolve(%q) = %v, want a *TemplateError", tt.template, err)
			continue
		}
		if te.Position != tt.wantPos || te.Segment != tt.wantSegment || !strings.Contains(te.Reason, tt.wantReason) || te.Template != tt.template {
			t.Errorf("Resolve(%q) = segment %d %q: %s; want segment %d %q: …%s…", tt.template, te.Position, te.Segment, te.Reason, tt.wantPos, tt.wantSegment, tt.wantReason)
		}
		if tt.wantNearest != "" && (len(te.Nearest) == 0 || te.Nearest[0] != tt.wantNearest) {
			t.Errorf("Resolve(%q) nearest = %q, want %q first", tt.template, te.Nearest, tt.wantNearest)
		}
		if len(te.Nearest) > 5 {
			t.Errorf("Resolve(%q) nearest = %q, want at most 5", tt.template, te.Nearest)
		}
		if msg := err.Error(); !strings.Contains(msg, tt.wantReason) || (len(te.Nearest) > 0 && !strings.Contains(msg, te.Nearest[0])) {
			t.Errorf("Resolve(%q) error %q does not give the reason and the nearest names", tt.template, msg)
		}
	}
}

// TestResolveUndefinedType: a partial CSDL loads, and Resolve reports the
// undefined type when a path reaches it.
func TestResolveUndefinedType(t *testing.T) {
	t.Parallel()
	const doc = `<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
<Schema Namespace="n" Alias="n" xmlns="http://docs.oasis-open.org/odata/ns/edm">
<EntityType Name="root"><NavigationProperty Name="items" Type="Collection(n.item)" ContainsTarget="true"/></EntityType>
<EntityContainer Name="c"><Singleton Name="top" Type="n.root"/><EntitySet Name="things" EntityType="n.thing"/></EntityContainer>
</Schema></edmx:DataServices></edmx:Edmx>`
	m, err := graph.ParseCSDL(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("ParseCSDL: %v", err)
	}
	for _, tt := range []struct {
		template string
		wantPos  int
	}{{"/top/items/{id}", 2}, {"/things/{id}", 1}} {
		_, err := m.Resolve(tt.template)
		var te *graph.TemplateError
		if !errors.As(err, &te) || te.Position != tt.wantPos || !strings.Contains(te.Reason, "does not define") {
			t.Errorf("Resolve(%q) = %v, want segment %d's type reported as undefined", tt.template, err, tt.wantPos)
		}
	}
}

func TestTargetPath(t *testing.T) {
	t.Parallel()
	target, err := mustBuiltin(t, graph.V1).Resolve("/deviceManagement/deviceCompliancePolicies/{policyId}/deviceStatuses/{id}")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		keys           []string
		want, wantColl string
	}{
		{[]string{"p1", "d1"}, "/deviceManagement/deviceCompliancePolicies/p1/deviceStatuses/d1",
			"/deviceManagement/deviceCompliancePolicies/p1/deviceStatuses"},
		{[]string{"a/b", "x?y#z"}, "/deviceManagement/deviceCompliancePolicies/a%2Fb/deviceStatuses/x%3Fy%23z",
			"/deviceManagement/deviceCompliancePolicies/a%2Fb/deviceStatuses"},
		{[]string{"100%", "é ü"}, "/deviceManagement/deviceCompliancePolicies/100%25/deviceStatuses/%C3%A9%20%C3%BC",
			"/deviceManagement/deviceCompliancePolicies/100%25/deviceStatuses"},
	}
	for _, tt := range tests {
		if got := target.Path(tt.keys); got != tt.want {
			t.Errorf("Path(%q) = %s, want %s", tt.keys, got, tt.want)
		}
		if got := target.CollectionPath(tt.keys[:1]); got != tt.wantColl {
			t.Errorf("CollectionPath(%q) = %s, want %s", tt.keys[:1], got, tt.wantColl)
		}
	}
	users, err := mustBuiltin(t, graph.V1).Resolve("/users/{id}")
	if err != nil {
		t.Fatal(err)
	}
	if got := users.CollectionPath(nil); got != "/users" {
		t.Errorf("CollectionPath(nil) = %s, want /users", got)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Path with one key of two did not panic")
		}
	}()
	target.Path([]string{"only one"})
}

// BenchmarkResolve measures resolving the longest seed template.
func BenchmarkResolve(b *testing.B) {
	m := mustBuiltin(b, graph.V1)
	for b.Loop() {
		if _, err := m.Resolve(deviceStatuses); err != nil {
			b.Fatal(err)
		}
	}
}
