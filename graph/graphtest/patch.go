package graphtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/graphbatch/graphbatch/graph"
)

// This file checks PATCH bodies as Graph's OData layer does, with its
// messages: a JSON object whose members are properties of the entity's
// type, each a value of the property's type.

const errNotObject = "Invalid request body: the body must be a JSON object."

// checkPatch validates a PATCH body for an entity whose path declares the
// type declared and whose stored type is stored. It returns the members
// to store, normalised, and the entity's type after the PATCH, or Graph's
// message. Without an @odata.type member the body is read as the declared
// type, as Intune does: a property only a derived type has is unknown.
// put allows read-only properties (Server.Put). Of the dynamic properties
// an open type such as user allows, only directory extensions
// (extension_…) are accepted: Graph refuses other unknown names there too.
func checkPatch(m *model, declared, stored *graph.DataType, body []byte, put bool) ([]member, *graph.DataType, string) {
	members, msg := objectMembers(body)
	if msg != "" {
		return nil, nil, msg
	}
	typ, result, msg := bodyType(m, declared, stored, members)
	if msg != "" {
		return nil, nil, msg
	}
	var set []member
	for _, mb := range members {
		if strings.Contains(mb.name, "@") {
			continue // @odata.type, or an annotation
		}
		value, msg := checkMember(typ, mb, put)
		if msg != "" {
			return nil, nil, msg
		}
		set = append(set, member{mb.name, value})
	}
	return set, result, ""
}

// objectMembers returns the members of a JSON object, in order, or
// Graph's message for a body that is not one, or names a member twice.
func objectMembers(body []byte) ([]member, string) {
	if i := skipSpace(body, 0); !json.Valid(body) || body[i] != '{' {
		return nil, errNotObject
	}
	members := scanMembers(body)
	seen := make(map[string]bool, len(members))
	for _, mb := range members {
		if seen[mb.name] {
			return nil, fmt.Sprintf("Multiple properties with the name '%s' were detected in a resource or a complex value. In OData, duplicate property names are not allowed.", mb.name)
		}
		seen[mb.name] = true
	}
	return members, ""
}

// bodyType returns the type a body is read as (its @odata.type, or the
// declared type) and the type the entity has after it.
func bodyType(m *model, declared, stored *graph.DataType, members []member) (read, result *graph.DataType, msg string) {
	i := slices.IndexFunc(members, func(mb member) bool { return mb.name == "@odata.type" })
	if i < 0 {
		return declared, stored, ""
	}
	var name string
	if err := json.Unmarshal(members[i].value, &name); err != nil {
		return nil, nil, fmt.Sprintf("A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", members[i].value)
	}
	t := m.Type(strings.TrimPrefix(name, "#"))
	if t == nil || t.Kind != graph.KindEntity {
		return nil, nil, fmt.Sprintf("A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", strings.TrimPrefix(name, "#"))
	}
	for _, expected := range []*graph.DataType{declared, stored} {
		if !t.IsA(expected) && !expected.IsA(t) || expected == declared && !t.IsA(declared) {
			return nil, nil, fmt.Sprintf("An entry with type '%s' was found, but it is not assignable to the expected type '%s'. The type specified in the entry must be equal to either the expected type or a derived type.", t.Name, expected.Name)
		}
	}
	if stored.IsA(t) {
		return t, stored, ""
	}
	return t, t, ""
}

// checkMember checks one property of a body read as type typ and returns
// its value normalised, or Graph's message.
func checkMember(typ *graph.DataType, mb member, put bool) ([]byte, string) {
	p := typ.Prop(mb.name)
	switch {
	case p == nil && typ.Open && strings.HasPrefix(mb.name, "extension_"):
		value, _ := graph.Marshal(decode(mb.value)) // a directory extension: a dynamic property of an open type
		return value, ""
	case p == nil || p.Name != mb.name:
		return nil, unknownProperty(mb.name, typ)
	case slices.Contains(typ.Key, p.Name), p.ReadOnly && !put:
		return nil, fmt.Sprintf("The property '%s' is read-only and cannot be set.", p.Name)
	}
	return checkValue(p, mb.value)
}

func unknownProperty(name string, t *graph.DataType) string {
	return fmt.Sprintf("The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", name, t.Name)
}

// checkValue checks a JSON value for p with graph.Prop.CheckJSON, and
// that enum members and member names are spelled exactly as Graph spells
// them (CheckJSON forgives case; Graph does not).
func checkValue(p *graph.Prop, raw json.RawMessage) ([]byte, string) {
	if string(raw) == "null" {
		if p.Collection || !p.Nullable {
			return nil, nullMessage(p)
		}
		return raw, ""
	}
	norm, err := p.CheckJSON(raw)
	if err != nil {
		return nil, valueMessage(p, raw, err)
	}
	if bytes.Equal(raw, norm) {
		return norm, "" // nothing was respelled
	}
	if msg := spelling(p.Type, p.Collection, decode(raw), decode(norm)); msg != "" {
		return nil, msg
	}
	return norm, ""
}

func nullMessage(p *graph.Prop) string {
	t := typeName(p) + "[Nullable=False]"
	return fmt.Sprintf("A null value was found for the property named '%s', which has the expected type '%s'. The expected type '%s' does not allow null values.", p.Name, t, t)
}

// typeName is p's type as OData writes it: Edm.Int32, Collection(Edm.String).
func typeName(p *graph.Prop) string {
	if p.Collection {
		return "Collection(" + p.Type.Name + ")"
	}
	return p.Type.Name
}

// valueMessage is Graph's message for raw, which is not a value of p.
func valueMessage(p *graph.Prop, raw json.RawMessage, err error) string {
	if p.Collection || p.Type.Kind == graph.KindComplex {
		reason := err.Error()
		if strings.HasPrefix(reason, "is ") || strings.HasPrefix(reason, "has ") {
			reason = "the value " + reason
		} else {
			reason = "the value's " + reason
		}
		return fmt.Sprintf("Cannot convert the value of the property '%s' to the expected type '%s': %s.", p.Name, typeName(p), reason)
	}
	v := decode(raw)
	s, isString := v.(string)
	n, isNumber := v.(json.Number)
	switch {
	case p.Type.Kind == graph.KindEnum && isString:
		return fmt.Sprintf("Requested value '%s' was not found.", s)
	case isString && jsonKind(p.Type) == kindString:
		return fmt.Sprintf("Cannot convert the literal '%s' to the expected type '%s'.", s, p.Type.Name)
	case isNumber && jsonKind(p.Type) == kindNumber:
		return fmt.Sprintf("Cannot convert the literal '%s' to the expected type '%s'.", n, p.Type.Name)
	}
	return fmt.Sprintf("Cannot convert a primitive value to the expected type '%s'. See the inner exception for more details.", p.Type.Name)
}

// The JSON kinds of primitive values.
const (
	kindString = iota
	kindNumber
	kindBool
)

// jsonKind says how JSON writes values of a primitive or enum type.
func jsonKind(t *graph.DataType) int {
	switch t {
	case graph.EdmByte, graph.EdmSByte, graph.EdmInt16, graph.EdmInt32, graph.EdmInt64,
		graph.EdmSingle, graph.EdmDouble, graph.EdmDecimal:
		return kindNumber
	case graph.EdmBoolean:
		return kindBool
	}
	return kindString
}

// decode decodes a JSON value that is known to be valid, numbers as
// json.Number.
func decode(raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	return v
}

// spelling compares a value as sent (raw) with CheckJSON's normalised
// form of it (norm), a value of type t (a collection of t if coll), and
// returns Graph's message for an enum member or a member name that is
// not spelled as Graph spells it.
func spelling(t *graph.DataType, coll bool, raw, norm any) string {
	switch r := raw.(type) {
	case []any:
		n, _ := norm.([]any)
		for i := range min(len(r), len(n)) {
			if msg := spelling(t, false, r[i], n[i]); msg != "" {
				return msg
			}
		}
	case map[string]any:
		return objectSpelling(t, r, norm)
	case string:
		if t.Kind == graph.KindEnum && strings.ReplaceAll(r, " ", "") != norm {
			return fmt.Sprintf("Requested value '%s' was not found.", r)
		}
	}
	return ""
}

func objectSpelling(t *graph.DataType, raw map[string]any, norm any) string {
	n, _ := norm.(map[string]any)
	if name, ok := n["@odata.type"].(string); ok {
		for _, d := range t.AllDerived() {
			if "#"+d.Name == name {
				t = d
			}
		}
	}
	for name, v := range raw {
		if strings.HasPrefix(name, "@") {
			continue
		}
		nv, ok := n[name]
		p := t.Prop(name)
		switch {
		case !ok:
			return unknownProperty(name, t) // CheckJSON renamed it to Graph's spelling
		case p == nil:
			continue // a dynamic member of an open type
		}
		if msg := spelling(p.Type, p.Collection, v, nv); msg != "" {
			return msg
		}
	}
	return ""
}
