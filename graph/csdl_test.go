package graph_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/graphbatch/graphbatch/graph"
)

// testCSDL covers what ParseCSDL must understand: two schemas with a type
// of the same name, aliases for schemas and for the Core vocabulary,
// inheritance with a key from the base, nullability defaults, collections,
// enums (flags or not), inline and block annotations, qualified
// annotations (ignored), derived types, and a type that is never defined.
const testCSDL = `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:Reference Uri="https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml">
    <edmx:Include Namespace="Org.OData.Core.V1" Alias="Core" />
  </edmx:Reference>
  <edmx:DataServices>
    <Schema Namespace="test.a" Alias="a" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EnumType Name="colour" IsFlags="true">
        <Member Name="red" Value="1" />
        <Member Name="green" Value="2" />
        <Member Name="blue" Value="4" />
      </EnumType>
      <EnumType Name="mood">
        <Member Name="happy" Value="0" />
        <Member Name="sad" Value="1" />
      </EnumType>
      <EntityType Name="entity" Abstract="true">
        <Key><PropertyRef Name="id" /></Key>
        <Property Name="id" Type="Edm.String" />
      </EntityType>
      <EntityType Name="person" BaseType="a.entity" OpenType="true">
        <Property Name="name" Type="Edm.String" />
        <Property Name="age" Type="Edm.Int32" Nullable="false" />
        <Property Name="tags" Type="Collection(Edm.String)" />
        <Property Name="favourites" Type="a.colour" />
        <Property Name="mood" Type="test.a.mood" Nullable="true" />
        <Property Name="home" Type="a.address" />
        <Property Name="created" Type="Edm.DateTimeOffset">
          <Annotation Term="Core.Computed" />
        </Property>
        <Property Name="modified" Type="Edm.DateTimeOffset">
          <Annotation Term="Org.OData.Core.V1.Computed" Bool="false" />
        </Property>
        <Property Name="born" Type="Edm.Date">
          <Annotation Term="Org.OData.Core.V1.Immutable"><Bool>true</Bool></Annotation>
        </Property>
        <Property Name="serial" Type="Edm.Int64" />
        <Property Name="secret" Type="Edm.String" />
        <Property Name="note" Type="Edm.String" />
        <Property Name="badge" Type="Edm.Guid" />
        <Property Name="shoe" Type="Edm.Int16" />
        <Property Name="ghost" Type="a.nowhere" />
        <NavigationProperty Name="friends" Type="Collection(a.person)" />
      </EntityType>
      <EntityType Name="employee" BaseType="a.person">
        <Property Name="name" Type="Edm.String" Nullable="false" />
        <Property Name="title" Type="Edm.String" />
        <NavigationProperty Name="manager" Type="a.employee" />
        <NavigationProperty Name="reports" Type="Collection(a.employee)" ContainsTarget="true" />
      </EntityType>
      <EntityType Name="manager" BaseType="a.employee" />
      <ComplexType Name="address">
        <Property Name="city" Type="Edm.String" />
      </ComplexType>
      <ComplexType Name="homeAddress" BaseType="a.address" OpenType="true">
        <Property Name="floor" Type="Edm.Byte" Nullable="false" />
      </ComplexType>
      <EntityContainer Name="Service">
        <EntitySet Name="people" EntityType="test.a.person" />
        <Singleton Name="boss" Type="a.employee" />
        <EntitySet Name="badges" EntityType="test.b.person" />
      </EntityContainer>
      <Annotations Target="a.person/serial">
        <Annotation Term="Core.Immutable" Bool="true" />
      </Annotations>
      <Annotations Target="test.a.person/secret">
        <Annotation Term="Org.OData.Core.V1.Permissions">
          <EnumMember>Org.OData.Core.V1.Permission/Read</EnumMember>
        </Annotation>
      </Annotations>
      <Annotations Target="a.person/note">
        <Annotation Term="Core.Permissions" EnumMember="Core.Permission/Read Core.Permission/Write" />
      </Annotations>
      <Annotations Target="a.person/badge">
        <Annotation Term="Core.Description" String="read-only in some other context" />
        <Annotation Term="Core.Computed" Qualifier="elsewhere" />
      </Annotations>
      <Annotations Target="a.person/shoe" Qualifier="elsewhere">
        <Annotation Term="Core.Computed" />
      </Annotations>
      <Annotations Target="a.person/friends">
        <Annotation Term="Core.Computed" />
      </Annotations>
    </Schema>
    <Schema Namespace="test.b" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EntityType Name="person" BaseType="a.entity">
        <Property Name="badge" Type="Edm.String" />
      </EntityType>
      <Annotations Target="test.b.person/badge">
        <Annotation Term="Core.Computed" Bool="true" />
      </Annotations>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>`

func parseTest(t *testing.T) *graph.Model {
	t.Helper()
	m, err := graph.ParseCSDL(strings.NewReader(testCSDL))
	if err != nil {
		t.Fatalf("ParseCSDL(testCSDL): %v", err)
	}
	return m
}

// typeFacts is what a DataType says about itself, with types by name.
type typeFacts struct {
	Kind     graph.Kind
	Base     string
	Abstract bool
	Open     bool
	Flags    bool
	Key      []string
	Members  []string
	Derived  []string
}

func factsOf(t *graph.DataType) typeFacts {
	f := typeFacts{Kind: t.Kind, Abstract: t.Abstract, Open: t.Open, Flags: t.Flags, Key: t.Key, Members: t.Members, Derived: typeNames(t.Derived)}
	if t.Base != nil {
		f.Base = t.Base.Name
	}
	return f
}

func typeNames(ts []*graph.DataType) []string {
	var ns []string
	for _, t := range ts {
		ns = append(ns, t.Name)
	}
	return ns
}

func TestParseCSDLTypes(t *testing.T) {
	t.Parallel()
	m := parseTest(t)
	tests := []struct {
		name string
		want typeFacts
	}{
		{"test.a.colour", typeFacts{Kind: graph.KindEnum, Flags: true, Members: []string{"red", "green", "blue"}}},
		{"a.mood", typeFacts{Kind: graph.KindEnum, Members: []string{"happy", "sad"}}},
		{"a.entity", typeFacts{Kind: graph.KindEntity, Abstract: true, Key: []string{"id"}, Derived: []string{"test.a.person", "test.b.person"}}},
		{"a.person", typeFacts{Kind: graph.KindEntity, Base: "test.a.entity", Open: true, Key: []string{"id"}, Derived: []string{"test.a.employee"}}},
		{"test.a.employee", typeFacts{Kind: graph.KindEntity, Base: "test.a.person", Key: []string{"id"}, Derived: []string{"test.a.manager"}}},
		{"test.a.manager", typeFacts{Kind: graph.KindEntity, Base: "test.a.employee", Key: []string{"id"}}},
		{"test.b.person", typeFacts{Kind: graph.KindEntity, Base: "test.a.entity", Key: []string{"id"}}},
		{"a.address", typeFacts{Kind: graph.KindComplex, Derived: []string{"test.a.homeAddress"}}},
		{"a.homeAddress", typeFacts{Kind: graph.KindComplex, Base: "test.a.address", Open: true}},
		{"Edm.String", typeFacts{Kind: graph.KindPrimitive}},
		{"Edm.GeographyPoint", typeFacts{Kind: graph.KindPrimitive}},
	}
	for _, tt := range tests {
		typ := m.Type(tt.name)
		if typ == nil {
			t.Errorf("Type(%q) = nil, want a type", tt.name)
			continue
		}
		if diff := cmp.Diff(tt.want, factsOf(typ)); diff != "" {
			t.Errorf("Type(%q) mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	for _, name := range []string{"test.a.nowhere", "a.nowhere", "person", "Edm.Text", "test.c.person"} {
		if got := m.Type(name); got != nil {
			t.Errorf("Type(%q) = %s, want nil", name, got.Name)
		}
	}
}

// propFacts is what a Prop says, with its type by name.
type propFacts struct {
	Name       string
	Type       string
	Collection bool
	Nullable   bool
	ReadOnly   bool
}

func propsOf(ps []*graph.Prop) []propFacts {
	var fs []propFacts
	for _, p := range ps {
		fs = append(fs, propFacts{p.Name, p.Type.Name, p.Collection, p.Nullable, p.ReadOnly})
	}
	return fs
}

func TestParseCSDLProperties(t *testing.T) {
	t.Parallel()
	m := parseTest(t)
	tests := []struct {
		typ, prop string
		want      propFacts
	}{
		{"a.person", "id", propFacts{"id", "Edm.String", false, false, false}}, // key: never null
		{"a.person", "NAME", propFacts{"name", "Edm.String", false, true, false}},
		{"a.person", "age", propFacts{"age", "Edm.Int32", false, false, false}},
		{"a.person", "tags", propFacts{"tags", "Edm.String", true, true, false}},
		{"a.person", "favourites", propFacts{"favourites", "test.a.colour", false, true, false}},
		{"a.person", "mood", propFacts{"mood", "test.a.mood", false, true, false}},
		{"a.person", "home", propFacts{"home", "test.a.address", false, true, false}},
		{"a.person", "created", propFacts{"created", "Edm.DateTimeOffset", false, true, true}},    // inline, alias, no Bool
		{"a.person", "modified", propFacts{"modified", "Edm.DateTimeOffset", false, true, false}}, // Bool="false"
		{"a.person", "born", propFacts{"born", "Edm.Date", false, true, true}},                    // <Bool> element
		{"a.person", "serial", propFacts{"serial", "Edm.Int64", false, true, true}},               // block, aliased target
		{"a.person", "secret", propFacts{"secret", "Edm.String", false, true, true}},              // Permissions Read
		{"a.person", "note", propFacts{"note", "Edm.String", false, true, false}},                 // Read and Write
		{"a.person", "badge", propFacts{"badge", "Edm.Guid", false, true, false}},                 // qualified: ignored
		{"a.person", "shoe", propFacts{"shoe", "Edm.Int16", false, true, false}},                  // qualified block: ignored
		{"a.person", "ghost", propFacts{"ghost", "test.a.nowhere", false, true, false}},
		{"test.a.employee", "name", propFacts{"name", "Edm.String", false, false, false}}, // redeclared
		{"test.a.manager", "Title", propFacts{"title", "Edm.String", false, true, false}},
		{"test.b.person", "badge", propFacts{"badge", "Edm.String", false, true, true}},
		{"a.homeAddress", "city", propFacts{"city", "Edm.String", false, true, false}},
		{"a.homeAddress", "floor", propFacts{"floor", "Edm.Byte", false, false, false}},
	}
	for _, tt := range tests {
		p := m.Type(tt.typ).Prop(tt.prop)
		if p == nil {
			t.Errorf("%s.Prop(%q) = nil, want %s", tt.typ, tt.prop, tt.want.Name)
			continue
		}
		if diff := cmp.Diff(tt.want, propsOf([]*graph.Prop{p})[0]); diff != "" {
			t.Errorf("%s.Prop(%q) mismatch (-want +got):\n%s", tt.typ, tt.prop, diff)
		}
	}
	if p := m.Type("a.person").Prop("title"); p != nil {
		t.Errorf("person.Prop(title) = %s, want nil: only the derived employee has it", p.Name)
	}
	if got := m.Type("a.person").Prop("ghost").Type.Kind; got != graph.KindUnknown {
		t.Errorf("the kind of an undefined type = %v, want %v", got, graph.KindUnknown)
	}
	if diff := cmp.Diff([]string{"test.a.nowhere"}, m.Missing()); diff != "" {
		t.Errorf("Missing() mismatch (-want +got):\n%s", diff)
	}
}

func TestAllProperties(t *testing.T) {
	t.Parallel()
	m := parseTest(t)
	var got []string
	for _, p := range m.Type("a.employee").AllProperties() {
		got = append(got, p.Name)
	}
	want := []string{"id", "name", "age", "tags", "favourites", "mood", "home", "created", "modified",
		"born", "serial", "secret", "note", "badge", "shoe", "ghost", "title"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("employee.AllProperties() mismatch (-want +got):\n%s", diff)
	}
	if name := m.Type("a.employee").AllProperties()[1]; name.Nullable {
		t.Errorf("employee's name is nullable; want the employee's own (Nullable=false) declaration in the base's place")
	}
}

func TestNavigation(t *testing.T) {
	t.Parallel()
	m := parseTest(t)
	mgr := m.Type("a.manager")
	var got []string
	for _, n := range mgr.AllNavigation() {
		got = append(got, n.Name)
	}
	if diff := cmp.Diff([]string{"friends", "manager", "reports"}, got); diff != "" {
		t.Errorf("manager.AllNavigation() mismatch (-want +got):\n%s", diff)
	}
	tests := []struct {
		name                  string
		wantType              string
		wantColl, wantContain bool
	}{
		{"Reports", "test.a.employee", true, true},
		{"manager", "test.a.employee", false, false},
		{"friends", "test.a.person", true, false},
	}
	for _, tt := range tests {
		n := mgr.NavProp(tt.name)
		if n == nil {
			t.Errorf("manager.NavProp(%q) = nil", tt.name)
			continue
		}
		if n.Type.Name != tt.wantType || n.Collection != tt.wantColl || n.ContainsTarget != tt.wantContain {
			t.Errorf("manager.NavProp(%q) = %s %v %v, want %s %v %v", tt.name, n.Type.Name, n.Collection, n.ContainsTarget, tt.wantType, tt.wantColl, tt.wantContain)
		}
	}
	if n := m.Type("a.person").NavProp("reports"); n != nil {
		t.Errorf("person.NavProp(reports) = %s, want nil: only derived types have it", n.Name)
	}
}

func TestDerived(t *testing.T) {
	t.Parallel()
	m := parseTest(t)
	entity, person, employee := m.Type("a.entity"), m.Type("a.person"), m.Type("a.employee")
	want := []string{"test.a.person", "test.a.employee", "test.a.manager", "test.b.person"}
	if diff := cmp.Diff(want, typeNames(entity.AllDerived())); diff != "" {
		t.Errorf("entity.AllDerived() mismatch (-want +got):\n%s", diff)
	}
	tests := []struct {
		t, base *graph.DataType
		want    bool
	}{
		{employee, person, true},
		{employee, entity, true},
		{employee, employee, true},
		{person, employee, false},
		{m.Type("test.b.person"), person, false},
	}
	for _, tt := range tests {
		if got := tt.t.IsA(tt.base); got != tt.want {
			t.Errorf("%s.IsA(%s) = %v, want %v", tt.t.Name, tt.base.Name, got, tt.want)
		}
	}
}

func TestRoots(t *testing.T) {
	t.Parallel()
	m := parseTest(t)
	var got []string
	for _, r := range m.Roots() {
		got = append(got, r.Name+" "+r.Type.Name)
	}
	want := []string{"people test.a.person", "boss test.a.employee", "badges test.b.person"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Roots() mismatch (-want +got):\n%s", diff)
	}
	if r := m.EntitySet("People"); r == nil || r.Name != "people" || !r.Collection {
		t.Errorf("EntitySet(People) = %+v, want the entity set people", r)
	}
	if r := m.Singleton("boss"); r == nil || r.Collection {
		t.Errorf("Singleton(boss) = %+v, want the singleton boss", r)
	}
	if r := m.EntitySet("boss"); r != nil {
		t.Errorf("EntitySet(boss) = %+v, want nil: boss is a singleton", r)
	}
}

func TestParseCSDLErrors(t *testing.T) {
	t.Parallel()
	const schema = `<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>` +
		`<Schema Namespace="n" xmlns="http://docs.oasis-open.org/odata/ns/edm">%s</Schema></edmx:DataServices></edmx:Edmx>`
	tests := []struct {
		name, doc string
	}{
		{"empty", ""},
		{"html", "<html><body>Sign in</body></html>"},
		{"no schema", `<edmx:Edmx xmlns:edmx="x"></edmx:Edmx>`},
		{"truncated", strings.Replace(schema, "</Schema>", "", 1)},
		{"defined twice", strings.Replace(schema, "%s", `<ComplexType Name="a"/><EnumType Name="a"/>`, 1)},
		{"base cycle", strings.Replace(schema, "%s", `<EntityType Name="a" BaseType="n.b"/><EntityType Name="b" BaseType="n.a"/>`, 1)},
		{"base of another kind", strings.Replace(schema, "%s", `<EntityType Name="a" BaseType="n.b"/><ComplexType Name="b"/>`, 1)},
		{"property without type", strings.Replace(schema, "%s", `<ComplexType Name="a"><Property Name="p"/></ComplexType>`, 1)},
	}
	for _, tt := range tests {
		if _, err := graph.ParseCSDL(strings.NewReader(tt.doc)); err == nil {
			t.Errorf("ParseCSDL(%s) = nil error, want one", tt.name)
		}
	}
}

func TestKindString(t *testing.T) {
	t.Parallel()
	for k, want := range map[graph.Kind]string{graph.KindEntity: "entity", graph.KindUnknown: "unknown", 9: "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
