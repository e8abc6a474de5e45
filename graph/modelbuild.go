package graph

import (
	"fmt"
	"strings"
)

// build resolves the names the parsed elements refer to and returns the
// finished model.
func (p *csdlParser) build() (*Model, error) {
	m := &Model{
		types:   make(map[string]*DataType, len(p.types)),
		missing: map[string]*DataType{},
		aliases: p.aliases,
	}
	for _, rt := range p.types {
		if m.types[rt.t.Name] != nil {
			return nil, fmt.Errorf("type %s is defined twice", rt.t.Name)
		}
		m.types[rt.t.Name] = rt.t
	}
	for _, rt := range p.types {
		if err := m.resolve(rt); err != nil {
			return nil, err
		}
	}
	for _, rr := range p.roots {
		t, coll := m.ref(rr.typ)
		if t == nil || coll {
			return nil, fmt.Errorf("%s has no entity type", rr.r.Name)
		}
		rr.r.Type = t
		m.roots = append(m.roots, rr.r)
	}
	p.annotate(m)
	return m, m.link()
}

// resolve links a parsed type to its base type and to the types of its
// properties.
func (m *Model) resolve(rt *rawType) error {
	t := rt.t
	if rt.base != "" {
		t.Base, _ = m.ref(rt.base)
	}
	for _, rp := range rt.props {
		rp.p.Type, rp.p.Collection = m.ref(rp.typ)
		if rp.p.Type == nil {
			return fmt.Errorf("property %s of %s has no type", rp.p.Name, t.Name)
		}
		t.Properties = append(t.Properties, rp.p)
	}
	for _, rn := range rt.navs {
		rn.n.Type, rn.n.Collection = m.ref(rn.typ)
		if rn.n.Type == nil {
			return fmt.Errorf("navigation property %s of %s has no type", rn.n.Name, t.Name)
		}
		t.Navigation = append(t.Navigation, rn.n)
	}
	return nil
}

// ref returns the type a Type attribute names, and whether it is a
// Collection(…) of it. A name the metadata does not define gets a
// KindUnknown placeholder; an empty name gets nil.
func (m *Model) ref(name string) (*DataType, bool) {
	inner, coll := strings.CutPrefix(name, "Collection(")
	if coll {
		inner = strings.TrimSuffix(inner, ")")
	}
	if inner == "" {
		return nil, coll
	}
	if t := m.Type(inner); t != nil {
		return t, coll
	}
	q := m.qualify(inner)
	t := m.missing[q]
	if t == nil {
		t = &DataType{Name: q}
		m.missing[q] = t
	}
	return t, coll
}

// annotate marks the properties that annotations make read-only.
func (p *csdlParser) annotate(m *Model) {
	for _, rt := range p.types {
		for _, rp := range rt.props {
			for _, a := range rp.anns {
				rp.p.ReadOnly = rp.p.ReadOnly || a.readOnly(m.qualify(a.term))
			}
		}
	}
	for _, b := range p.blocks {
		if prop := m.target(b.target); prop != nil {
			prop.ReadOnly = prop.ReadOnly || b.readOnly(m.qualify(b.term))
		}
	}
}

// target returns the property an <Annotations Target="type/property">
// names, if the type declares it; other targets give nil.
func (m *Model) target(path string) *Prop {
	typeName, propName, ok := strings.Cut(path, "/")
	if !ok || strings.Contains(propName, "/") {
		return nil
	}
	t := m.types[m.qualify(typeName)]
	if t == nil {
		return nil
	}
	for _, p := range t.Properties {
		if p.Name == propName {
			return p
		}
	}
	return nil
}

// link completes the model once every reference is resolved: it checks
// base types, makes key properties non-nullable, fills Derived, and
// copies inherited keys.
func (m *Model) link() error {
	ts := m.Types()
	for _, t := range ts {
		if err := checkBase(t, len(ts)); err != nil {
			return err
		}
	}
	for _, t := range ts { // t.Key holds only declared keys here
		for _, k := range t.Key {
			for _, p := range t.AllProperties() {
				if p.Name == k {
					p.Nullable = false
				}
			}
		}
	}
	for _, t := range ts { // in name order, so Derived is sorted
		if t.Base != nil {
			t.Base.Derived = append(t.Base.Derived, t)
		}
		for b := t; t.Key == nil && b != nil; b = b.Base {
			t.Key = b.Key
		}
	}
	return nil
}

// checkBase reports a base type of another kind, or a cycle of base types
// (found when the chain is longer than limit).
func checkBase(t *DataType, limit int) error {
	if b := t.Base; b != nil && b.Kind != KindUnknown && b.Kind != t.Kind {
		return fmt.Errorf("%s %s has base type %s, a %s", t.Kind, t.Name, b.Name, b.Kind)
	}
	n := 0
	for b := t.Base; b != nil; b = b.Base {
		if n++; n > limit {
			return fmt.Errorf("the base types of %s form a cycle", t.Name)
		}
	}
	return nil
}
