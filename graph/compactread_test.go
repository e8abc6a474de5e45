package graph

import (
	"strings"
	"testing"
)

// TestCompactRefusesTypelessMembers checks that a compact model in which a
// property, a navigation property or an entity set names no type is
// refused as corrupt, as the CSDL it would stand for is, instead of
// loading into a model that panics when a target or a row reaches it.
func TestCompactRefusesTypelessMembers(t *testing.T) {
	t.Parallel()
	const csdl = `<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="t" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EntityType Name="thing">
        <Key><PropertyRef Name="id" /></Key>
        <Property Name="id" Type="Edm.String" Nullable="false" />
        <Property Name="name" Type="Edm.String" />
        <NavigationProperty Name="parts" Type="Collection(t.thing)" ContainsTarget="true" />
      </EntityType>
      <EntityContainer Name="c">
        <EntitySet Name="things" EntityType="t.thing" />
      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>`
	// stray is in no model's type table: MarshalBinary writes a reference
	// to it as "no type".
	stray := &DataType{Name: "t.stray", Kind: KindEntity}
	for _, tt := range []struct {
		member string
		unset  func(m *Model)
	}{
		{"a property", func(m *Model) { m.Type("t.thing").Properties[1].Type = stray }},
		{"a navigation property", func(m *Model) { m.Type("t.thing").Navigation[0].Type = stray }},
		{"an entity set", func(m *Model) { m.roots[0].Type = stray }},
	} {
		m, err := ParseCSDL(strings.NewReader(csdl))
		if err != nil {
			t.Fatal(err)
		}
		tt.unset(m)
		data, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeModel(data); err == nil {
			t.Errorf("decodeModel(a compact model with %s of no type) = nil error, want one", tt.member)
		}
	}
}
