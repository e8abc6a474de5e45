package graph

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Model is Graph's metadata for one API version: its types and its entity
// container, as read from a CSDL document (ParseCSDL, LoadModel) or built
// into the binary (BuiltinModel). A Model is never changed after it is
// returned, so it is safe for concurrent use; callers must not change it,
// nor the types, properties and slices it hands out.
type Model struct {
	// Source says where the metadata came from, for messages: a file
	// path, or a description of the built-in copy.
	Source string
	// Partial is true when the model holds only some of the API's types,
	// as the built-in beta model does (the two seed entities). In a
	// partial model, Resolve refuses a type that has no structural
	// property of its own: such types are stubs that only carry the
	// navigation to the seed entities.
	Partial bool

	types   map[string]*DataType // defined types by namespace-qualified name
	missing map[string]*DataType // referenced but never defined (KindUnknown)
	aliases map[string]string    // alias → namespace, for schemas and vocabularies
	roots   []*Root              // entity sets and singletons, in document order
}

// Kind says what kind of type a DataType is.
type Kind int

// The kinds of type. KindUnknown is a type that the metadata names but
// never defines (a partial or broken CSDL); it has only a Name.
const (
	KindUnknown   Kind = iota
	KindPrimitive      // an Edm type such as Edm.String
	KindEnum
	KindComplex
	KindEntity
)

var kindNames = [...]string{"unknown", "primitive", "enum", "complex", "entity"}

// String returns the kind's name, e.g. "entity".
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "Kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// DataType is one type of the metadata: an Edm primitive, an enum, a
// complex type or an entity type.
type DataType struct {
	Name     string    // qualified, e.g. "Edm.String", "microsoft.graph.user"
	Kind     Kind      // what the type is
	Members  []string  // enum members in declaration order, Graph's spelling
	Flags    bool      // an enum whose values combine members ("a,b")
	Base     *DataType // the complex or entity type this one derives from; nil if none
	Abstract bool      // no instance has exactly this type: it has one of Derived
	Open     bool      // accepts dynamic properties beyond those declared
	Key      []string  // entity key property names, inherited from Base if not declared

	Properties []*Prop     // structural properties declared on this type (not inherited)
	Navigation []*NavProp  // navigation properties declared on this type
	Derived    []*DataType // direct derived types, sorted by Name
}

// Prop is a structural property of a complex or entity type.
type Prop struct {
	Name       string    // Graph's spelling
	Type       *DataType // the type, or the item type of a collection
	Collection bool      // declared as Collection(Type)
	// Nullable says whether null is allowed (for a collection: as an
	// item). Absent in the CSDL means true, except for key properties.
	Nullable bool
	// ReadOnly is true when the service does not accept writes: the
	// property is annotated Core.Computed, Core.Immutable, or
	// Core.Permissions without Write. Key properties are not marked; they
	// are listed in DataType.Key.
	ReadOnly bool
}

// NavProp is a navigation property: a link from an entity to one or many
// entities.
type NavProp struct {
	Name           string    // Graph's spelling
	Type           *DataType // the target entity type, or the item type of a collection
	Collection     bool      // declared as Collection(Type): a key may follow it in a path
	ContainsTarget bool      // the targets are contained in (addressed under) the source entity
}

// Root is a child of the entity container, where every path starts: an
// entity set (Collection) or a singleton.
type Root struct {
	Name       string    // Graph's spelling, the first segment of a path
	Type       *DataType // the entity type of the set's members, or of the singleton
	Collection bool      // an entity set; false for a singleton
}

// Type returns the type called name, qualified by namespace or by alias
// ("microsoft.graph.user" or "graph.user"), or an Edm primitive
// ("Edm.String"). It returns nil if the metadata does not define it.
func (m *Model) Type(name string) *DataType {
	if t := edmTypes[name]; t != nil {
		return t
	}
	return m.types[m.qualify(name)]
}

// Types returns every type the metadata defines (not the primitives),
// sorted by name.
func (m *Model) Types() []*DataType {
	return slices.SortedFunc(maps.Values(m.types), byName)
}

// Missing returns the names of the types that the metadata refers to but
// does not define, sorted. They appear in the model as KindUnknown types.
func (m *Model) Missing() []string {
	return slices.Sorted(maps.Keys(m.missing))
}

// Roots returns the entity sets and singletons of the entity container, in
// the metadata's order.
func (m *Model) Roots() []*Root { return slices.Clone(m.roots) }

// EntitySet returns the entity set called name (case-insensitively, an
// exact match first), or nil.
func (m *Model) EntitySet(name string) *Root { return m.root(name, true) }

// Singleton returns the singleton called name (case-insensitively, an
// exact match first), or nil.
func (m *Model) Singleton(name string) *Root { return m.root(name, false) }

func (m *Model) root(name string, collection bool) *Root {
	var roots []*Root
	for _, r := range m.roots {
		if r.Collection == collection {
			roots = append(roots, r)
		}
	}
	return lookupFold(roots, name, func(r *Root) string { return r.Name })
}

// qualify turns an aliased name ("graph.user") into its namespace-
// qualified form ("microsoft.graph.user"); other names are returned as they are.
func (m *Model) qualify(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return name
	}
	if ns, ok := m.aliases[name[:i]]; ok {
		return ns + name[i:]
	}
	return name
}

// AllProperties returns the structural properties of t and its base types,
// base first. A property that a derived type declares again replaces the
// base's in place.
func (t *DataType) AllProperties() []*Prop {
	var props []*Prop
	for _, b := range t.chain() {
		for _, p := range b.Properties {
			i := slices.IndexFunc(props, func(q *Prop) bool { return q.Name == p.Name })
			if i >= 0 {
				props[i] = p
			} else {
				props = append(props, p)
			}
		}
	}
	return props
}

// Prop returns t's structural property called name, declared on t or a
// base type, matched case-insensitively (an exact match first); nil if
// there is none.
func (t *DataType) Prop(name string) *Prop {
	return lookupChain(t, name, func(b *DataType) []*Prop { return b.Properties }, func(p *Prop) string { return p.Name })
}

// AllNavigation returns the navigation properties of t and its base types,
// base first.
func (t *DataType) AllNavigation() []*NavProp {
	var navs []*NavProp
	for _, b := range t.chain() {
		navs = append(navs, b.Navigation...)
	}
	return navs
}

// NavProp returns t's navigation property called name, declared on t or a
// base type, matched case-insensitively (an exact match first); nil if
// there is none.
func (t *DataType) NavProp(name string) *NavProp {
	return lookupChain(t, name, func(b *DataType) []*NavProp { return b.Navigation }, func(n *NavProp) string { return n.Name })
}

// AllDerived returns every type derived from t, directly or not: each
// direct derived type (by name) followed by its own derived types.
func (t *DataType) AllDerived() []*DataType {
	var all []*DataType
	for _, d := range t.Derived {
		all = append(all, d)
		all = append(all, d.AllDerived()...)
	}
	return all
}

// IsA reports whether t is base or derives from it.
func (t *DataType) IsA(base *DataType) bool {
	for b := t; b != nil; b = b.Base {
		if b == base {
			return true
		}
	}
	return false
}

// chain returns t's base types and t, the root base first.
func (t *DataType) chain() []*DataType {
	var c []*DataType
	for b := t; b != nil; b = b.Base {
		c = append(c, b)
	}
	slices.Reverse(c)
	return c
}

// lookupFold returns the item whose name equals name, or else the first
// whose name equals it case-insensitively, or else the zero value.
func lookupFold[T any](items []T, name string, nameOf func(T) string) T {
	var fold T
	found := false
	for _, it := range items {
		n := nameOf(it)
		if n == name {
			return it
		}
		if !found && strings.EqualFold(n, name) {
			fold, found = it, true
		}
	}
	return fold
}

// lookupChain is lookupFold over the members of t and its base types, t's
// first, so that a redeclared member hides the base's.
func lookupChain[T any](t *DataType, name string, members func(*DataType) []T, nameOf func(T) string) T {
	var all []T
	for b := t; b != nil; b = b.Base {
		all = append(all, members(b)...)
	}
	return lookupFold(all, name, nameOf)
}

func byName(a, b *DataType) int { return strings.Compare(a.Name, b.Name) }
