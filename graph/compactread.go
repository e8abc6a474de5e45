package graph

import (
	"encoding/binary"
	"fmt"
)

// decodeModel reads the compact form that MarshalBinary writes.
func decodeModel(data []byte) (*Model, error) {
	if !isCompact(data) {
		return nil, errCompact
	}
	r := &compactReader{data: data[len(compactMagic):]}
	nstr, ntypes, nprops, nnavs := r.count(), r.count(), r.count(), r.count()
	r.readStrings(nstr)
	m := &Model{types: make(map[string]*DataType, ntypes), missing: map[string]*DataType{}}
	m.aliases = r.readAliases()
	r.readTable(m, ntypes)
	r.props = make([]Prop, nprops)
	r.navs = make([]NavProp, nnavs)
	for _, t := range r.table {
		if t != nil && t.Kind >= KindEnum {
			r.readBody(t)
		}
	}
	m.roots = r.readRoots()
	if r.err != nil || len(r.data) != 0 {
		return nil, errCompact
	}
	if err := m.link(); err != nil {
		return nil, fmt.Errorf("compact model: %w", err)
	}
	return m, nil
}

// compactReader reads the compact form; after the first problem it
// records an error and returns zero values.
type compactReader struct {
	data  []byte
	err   error
	strs  []string
	table []*DataType
	props []Prop    // the props not yet handed out
	navs  []NavProp // the navigation properties not yet handed out
}

func (r *compactReader) fail() {
	r.err = errCompact
	r.data = nil
}

func (r *compactReader) uint() int {
	v, n := binary.Uvarint(r.data)
	if n <= 0 || v > 1<<31 {
		r.fail()
		return 0
	}
	r.data = r.data[n:]
	return int(v)
}

// count reads a number of items that follow, each of which takes a byte
// at least, so a corrupt count cannot ask for a huge allocation.
func (r *compactReader) count() int {
	n := r.uint()
	if n > len(r.data) {
		r.fail()
		return 0
	}
	return n
}

func (r *compactReader) byte() byte {
	if len(r.data) == 0 {
		r.fail()
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

func (r *compactReader) str() string {
	i := r.uint()
	if i >= len(r.strs) {
		r.fail()
		return ""
	}
	return r.strs[i]
}

func (r *compactReader) ref() *DataType {
	i := r.uint()
	if i > len(r.table) {
		r.fail()
		return nil
	}
	if i == 0 {
		return nil
	}
	return r.table[i-1]
}

// typeRef reads a reference that must name a type, as the Type of a
// property, a navigation property or a root must (ParseCSDL refuses them
// without one).
func (r *compactReader) typeRef() *DataType {
	t := r.ref()
	if t == nil {
		r.fail()
	}
	return t
}

// readStrings reads the string table with one allocation for all the bytes.
func (r *compactReader) readStrings(n int) {
	lens := make([]int, n)
	total := 0
	for i := range lens {
		lens[i] = r.uint()
		total += lens[i]
	}
	if total > len(r.data) {
		r.fail()
		return
	}
	blob := string(r.data[:total])
	r.data = r.data[total:]
	r.strs = make([]string, n)
	for i, l := range lens {
		r.strs[i], blob = blob[:l], blob[l:]
	}
}

func (r *compactReader) readAliases() map[string]string {
	n := r.count()
	aliases := make(map[string]string, n)
	for range n {
		alias := r.str()
		aliases[alias] = r.str()
	}
	return aliases
}

// readTable reads every type's name and kind, creating the types.
func (r *compactReader) readTable(m *Model, n int) {
	types := make([]DataType, n)
	r.table = make([]*DataType, n)
	for i := range n {
		name, kind := r.str(), Kind(r.byte())
		t := &types[i]
		t.Name, t.Kind = name, kind
		switch kind {
		case KindPrimitive:
			if t = edmTypes[name]; t == nil {
				r.fail()
				return
			}
		case KindUnknown:
			m.missing[name] = t
		case KindEnum, KindComplex, KindEntity:
			m.types[name] = t
		default:
			r.fail()
			return
		}
		r.table[i] = t
	}
}

func (r *compactReader) readBody(t *DataType) {
	flags := r.byte()
	t.Abstract, t.Open, t.Flags = flags&bitAbstract != 0, flags&bitOpen != 0, flags&bitFlags != 0
	t.Base = r.ref()
	t.Key = r.strings()
	t.Members = r.strings()
	n := r.count()
	if n > len(r.props) {
		r.fail()
		return
	}
	if n > 0 {
		t.Properties = make([]*Prop, n)
	}
	for i := range n {
		p := &r.props[i]
		p.Name, p.Type = r.str(), r.typeRef()
		flags := r.byte()
		p.Collection, p.Nullable, p.ReadOnly = flags&bitCollection != 0, flags&bitNullable != 0, flags&bitReadOnly != 0
		t.Properties[i] = p
	}
	r.props = r.props[n:]
	t.Navigation = r.readNavs()
}

func (r *compactReader) readNavs() []*NavProp {
	n := r.count()
	if n > len(r.navs) {
		r.fail()
		return nil
	}
	var navs []*NavProp
	if n > 0 {
		navs = make([]*NavProp, n)
	}
	for i := range n {
		nav := &r.navs[i]
		nav.Name, nav.Type = r.str(), r.typeRef()
		flags := r.byte()
		nav.Collection, nav.ContainsTarget = flags&bitCollection != 0, flags&bitContainsTarget != 0
		navs[i] = nav
	}
	r.navs = r.navs[n:]
	return navs
}

func (r *compactReader) strings() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = r.str()
	}
	return ss
}

func (r *compactReader) readRoots() []*Root {
	n := r.count()
	roots := make([]*Root, n)
	for i := range roots {
		roots[i] = &Root{Name: r.str(), Type: r.typeRef(), Collection: r.byte()&bitCollection != 0}
	}
	return roots
}
