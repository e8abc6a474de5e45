package graphtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/graphbatch/graphbatch/graph"
)

// This file answers GET of one entity, and writes entities as Graph
// answers them. An entity that was never written exists all the same
// ("virtual"): its properties have their default values.

// view is one entity as an answer shows it.
type view struct {
	typ    *graph.DataType
	key    string // the last key of its path, as first written
	hasKey bool   // the path ends in a key; else the key property is an ordinary one
	props  map[string]json.RawMessage
}

// viewOf returns the view of the entity at rt: stored, or virtual.
// The caller holds the server's lock.
func (s *Server) viewOf(rt *route) view {
	vw := view{typ: rt.typ}
	if rt.endsInKey() {
		vw.key, vw.hasKey = rt.segs[len(rt.segs)-1].name, true
	}
	if e := s.store.entity(rt, false); e != nil {
		vw.typ, vw.props = e.typ, e.properties()
		if vw.hasKey {
			vw.key = e.key
		}
	}
	return vw
}

// get answers GET of the entity at rt, with $select.
func (s *Server) get(c *call, rt *route) answer {
	s.mu.Lock()
	vw := s.viewOf(rt)
	s.mu.Unlock()
	sel, msg := parseSelect(rt.query.Get("$select"), vw.typ, rt.typ)
	if msg != "" {
		return errorAnswer(http.StatusBadRequest, c.ids, "BadRequest", msg)
	}
	context := c.metadataURL() + "#" + rt.odataPath(true) + selectSuffix(sel)
	if rt.endsInKey() {
		context += "/$entity"
	}
	s.count(func(n *Counters) { n.Reads++ })
	return answer{status: http.StatusOK, headers: jsonContent, body: vw.appendJSON(nil, context, sel)}
}

// parseSelect returns the properties $select names, or nil for all of
// them. Names match case-insensitively and may carry a type cast
// (microsoft.graph.x/name). A property of a type derived from the
// declared one is accepted without a cast too; an entity of another type
// then leaves it out.
func parseSelect(q string, typ, declared *graph.DataType) ([]*graph.Prop, string) {
	if q = strings.TrimSpace(q); q == "" || q == "*" {
		return nil, ""
	}
	var sel []*graph.Prop
	for name := range strings.SplitSeq(q, ",") {
		name = strings.TrimSpace(name)
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			name = name[i+1:]
		}
		p := findProp(name, typ, declared)
		switch {
		case p == nil && typ.NavProp(name) != nil:
			continue // a navigation property: nothing to show without $expand
		case p == nil:
			return nil, fmt.Sprintf("Could not find a property named '%s' on type '%s'.", name, typ.Name)
		case !slices.Contains(sel, p):
			sel = append(sel, p)
		}
	}
	return sel, ""
}

// findProp returns the property name of typ, or else of a type derived
// from declared or typ.
func findProp(name string, typ, declared *graph.DataType) *graph.Prop {
	if name == "" {
		return nil
	}
	if p := typ.Prop(name); p != nil {
		return p
	}
	for _, d := range append(declared.AllDerived(), typ.AllDerived()...) {
		if p := d.Prop(name); p != nil {
			return p
		}
	}
	return nil
}

// selectSuffix is the select list of a context URL: "(a,b)", or "".
func selectSuffix(sel []*graph.Prop) string {
	if sel == nil {
		return ""
	}
	names := make([]string, len(sel))
	for i, p := range sel {
		names[i] = p.Name
	}
	return "(" + strings.Join(names, ",") + ")"
}

// appendJSON appends the entity as Graph answers it: its context (if
// any), its type, its key, then the properties sel names (all if nil),
// each stored or with its default value.
func (vw view) appendJSON(dst []byte, context string, sel []*graph.Prop) []byte {
	dst = append(dst, '{')
	if context != "" {
		dst = appendString(append(dst, `"@odata.context":`...), context)
		dst = append(dst, ',')
	}
	dst = appendString(append(dst, `"@odata.type":`...), "#"+vw.typ.Name)
	keyProp := ""
	if vw.hasKey && len(vw.typ.Key) == 1 {
		keyProp = vw.typ.Key[0]
		dst = appendString(append(appendString(append(dst, ','), keyProp), ':'), vw.key)
	}
	props := sel
	if sel == nil {
		props = vw.typ.AllProperties()
	}
	for _, p := range props {
		if p.Name == keyProp || vw.typ.Prop(p.Name) != p {
			continue
		}
		dst = vw.appendProp(dst, p.Name, zeroJSON(p))
	}
	if sel == nil {
		dst = vw.appendDynamic(dst)
	}
	return append(dst, '}')
}

// appendProp appends the member name: its stored value, or zero.
func (vw view) appendProp(dst []byte, name string, zero []byte) []byte {
	value, ok := vw.props[name]
	if !ok {
		value = zero
	}
	dst = appendString(append(dst, ','), name)
	return append(append(dst, ':'), value...)
}

// appendDynamic appends the stored properties the type does not declare
// (directory extensions), in name order.
func (vw view) appendDynamic(dst []byte) []byte {
	var names []string
	for name := range vw.props {
		if vw.typ.Prop(name) == nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		dst = vw.appendProp(dst, name, nil)
	}
	return dst
}

// zeroJSON is the value a property of an entity never written has: null,
// or for a property that cannot be null, its type's zero value; an empty
// array for a collection. Callers must not change it.
func zeroJSON(p *graph.Prop) []byte {
	switch {
	case p.Collection:
		return emptyArray
	case p.Nullable:
		return null
	}
	if z, ok := zeros.Load(p.Type); ok {
		return z.([]byte)
	}
	z := zeroOf(p.Type, 0)
	zeros.Store(p.Type, z)
	return z
}

var (
	null       = []byte("null")
	emptyArray = []byte("[]")
	zeros      sync.Map // *graph.DataType → its zero value as JSON, computed once
)

// zeroValues are the zero values of the primitive types, as JSON.
var zeroValues = map[*graph.DataType]string{
	graph.EdmBoolean: "false", graph.EdmString: `""`, graph.EdmBinary: `""`,
	graph.EdmByte: "0", graph.EdmSByte: "0", graph.EdmInt16: "0", graph.EdmInt32: "0", graph.EdmInt64: "0",
	graph.EdmSingle: "0", graph.EdmDouble: "0", graph.EdmDecimal: "0",
	graph.EdmDateTimeOffset: `"0001-01-01T00:00:00Z"`, graph.EdmDate: `"0001-01-01"`,
	graph.EdmTimeOfDay: `"00:00:00"`, graph.EdmDuration: `"PT0S"`,
	graph.EdmGuid: `"00000000-0000-0000-0000-000000000000"`,
}

// zeroOf is the zero value of type t: the first member of an enum, a
// complex value of zero members (to a few levels), null for the rest.
func zeroOf(t *graph.DataType, depth int) []byte {
	switch {
	case t.Kind == graph.KindEnum && len(t.Members) > 0:
		return appendString(nil, t.Members[0])
	case t.Kind == graph.KindComplex && depth < 4:
		out := []byte{'{'}
		for _, p := range t.AllProperties() {
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(appendString(out, p.Name), ':')
			if p.Collection || p.Nullable {
				out = append(out, zeroJSON(p)...)
			} else {
				out = append(out, zeroOf(p.Type, depth+1)...)
			}
		}
		return append(out, '}')
	}
	if z, ok := zeroValues[t]; ok {
		return []byte(z)
	}
	return null
}
