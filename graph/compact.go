package graph

import (
	"bytes"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
)

// compactMagic starts the compact form of a Model; its last byte is the
// format's version.
const compactMagic = "graphbatch model\x01"

// The compact form, after the magic, is a sequence of unsigned varints:
//
//	header:   #strings #types #props #navs
//	strings:  the length of each, then their bytes back to back
//	aliases:  #aliases, then (alias, namespace) string indexes
//	types:    (name, kind) for each type: defined ones by name, then the
//	          primitives and the missing types that they use
//	bodies:   for each enum, complex and entity type, in the same order:
//	          flags base #key key… #members member… #props (name type
//	          flags)… #navs (name type flags)…
//	roots:    #roots, then (name type collection) for each
//
// A type reference is 1 + its index in the type list, 0 for none.

// Bits of the flags in the compact form.
const (
	bitAbstract = 1 << iota
	bitOpen
	bitFlags
)

const (
	bitCollection = 1 << iota
	bitNullable
	bitReadOnly
	bitContainsTarget
)

// MarshalBinary returns m in a compact binary form that loads ten times
// faster than its CSDL. LoadModel reads it back (plain or gzipped);
// Source and Partial are not part of it. The form is the same for equal
// models, so generated files change only when the metadata does.
func (m *Model) MarshalBinary() ([]byte, error) {
	e := &compactWriter{index: map[string]int{}, refs: map[*DataType]int{}}
	e.types(m)
	e.roots(m)
	return e.bytes(), nil
}

type compactWriter struct {
	strs         []string
	index        map[string]int
	refs         map[*DataType]int
	nprop, nnavs int
	body         []byte
}

func (e *compactWriter) uint(dst []byte, v int) []byte {
	return binary.AppendUvarint(dst, uint64(v))
}

// str appends the index of s in the string table to the body.
func (e *compactWriter) str(s string) {
	i, ok := e.index[s]
	if !ok {
		i = len(e.strs)
		e.index[s] = i
		e.strs = append(e.strs, s)
	}
	e.body = e.uint(e.body, i)
}

func (e *compactWriter) types(m *Model) {
	defined := m.Types()
	table := append(defined, usedPrimitives(defined)...)
	for _, name := range m.Missing() {
		table = append(table, m.missing[name])
	}
	for i, t := range table {
		e.refs[t] = i + 1
	}
	e.writeAliases(m.aliases)
	for _, t := range table {
		e.str(t.Name)
		e.body = append(e.body, byte(t.Kind))
	}
	for _, t := range defined {
		e.typeBody(t)
	}
}

func (e *compactWriter) writeAliases(aliases map[string]string) {
	e.body = e.uint(e.body, len(aliases))
	for _, a := range slices.Sorted(maps.Keys(aliases)) {
		e.str(a)
		e.str(aliases[a])
	}
}

func (e *compactWriter) typeBody(t *DataType) {
	e.body = append(e.body, flagBits(bitAbstract, t.Abstract)|flagBits(bitOpen, t.Open)|flagBits(bitFlags, t.Flags))
	e.body = e.uint(e.body, e.refs[t.Base])
	var key []string
	if t.Base == nil || t.Base.Key == nil { // an inherited key is not written
		key = t.Key
	}
	e.strings(key)
	e.strings(t.Members)
	e.body = e.uint(e.body, len(t.Properties))
	for _, p := range t.Properties {
		e.str(p.Name)
		e.body = e.uint(e.body, e.refs[p.Type])
		e.body = append(e.body, flagBits(bitCollection, p.Collection)|flagBits(bitNullable, p.Nullable)|flagBits(bitReadOnly, p.ReadOnly))
	}
	e.body = e.uint(e.body, len(t.Navigation))
	for _, n := range t.Navigation {
		e.str(n.Name)
		e.body = e.uint(e.body, e.refs[n.Type])
		e.body = append(e.body, flagBits(bitCollection, n.Collection)|flagBits(bitContainsTarget, n.ContainsTarget))
	}
	e.nprop += len(t.Properties)
	e.nnavs += len(t.Navigation)
}

func (e *compactWriter) strings(ss []string) {
	e.body = e.uint(e.body, len(ss))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *compactWriter) roots(m *Model) {
	e.body = e.uint(e.body, len(m.roots))
	for _, r := range m.roots {
		e.str(r.Name)
		e.body = e.uint(e.body, e.refs[r.Type])
		e.body = append(e.body, flagBits(bitCollection, r.Collection))
	}
}

// bytes assembles the magic, the header, the string table and the body.
func (e *compactWriter) bytes() []byte {
	out := []byte(compactMagic)
	out = e.uint(out, len(e.strs))
	out = e.uint(out, len(e.refs))
	out = e.uint(out, e.nprop)
	out = e.uint(out, e.nnavs)
	for _, s := range e.strs {
		out = e.uint(out, len(s))
	}
	for _, s := range e.strs {
		out = append(out, s...)
	}
	return append(out, e.body...)
}

// usedPrimitives returns the Edm types that properties of ts have, by name.
func usedPrimitives(ts []*DataType) []*DataType {
	seen := map[*DataType]bool{}
	for _, t := range ts {
		for _, p := range t.Properties {
			if p.Type.Kind == KindPrimitive {
				seen[p.Type] = true
			}
		}
	}
	return slices.SortedFunc(maps.Keys(seen), byName)
}

func flagBits(bit byte, on bool) byte {
	if on {
		return bit
	}
	return 0
}

var errCompact = errors.New("compact model: corrupt or truncated")

// isCompact reports whether data starts like MarshalBinary's output.
func isCompact(data []byte) bool { return bytes.HasPrefix(data, []byte(compactMagic)) }
