package graphtest

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/graphbatch/graphbatch/graph"
)

// This file reads the $filter expressions the emulator understands:
// comparisons of a property with a literal, `name eq literal`, joined by
// `and`. A literal is a string in single quotes ('' for a quote), a
// number, true, false or null; enum members are strings; dates, times and
// GUIDs may be quoted or not.

// filter is a parsed $filter: every clause must hold.
type filter []clause

// clause is one comparison `prop eq lit`.
type clause struct {
	prop  *graph.Prop
	isKey bool   // prop is the key: compared with the path's key
	kind  int    // the literal's JSON kind (kindString, …), or kindNull
	lit   string // the literal: a string's text, a number or a bool as written
}

const kindNull = -1

func invalidFilter(format string, args ...any) string {
	return "Invalid filter clause: " + fmt.Sprintf(format, args...)
}

// parseFilter parses q for entities of type typ, or returns Graph's message.
func parseFilter(q string, typ *graph.DataType) (filter, string) {
	toks, msg := tokens(q)
	if msg != "" {
		return nil, msg
	}
	var f filter
	for len(toks) > 0 {
		if len(toks) < 3 || !strings.EqualFold(toks[1].text, "eq") || toks[0].quoted || toks[1].quoted {
			return nil, invalidFilter("only comparisons like name eq 'value', joined by and, are supported")
		}
		c, msg := newClause(toks[0].text, toks[2], typ)
		if msg != "" {
			return nil, msg
		}
		f = append(f, c)
		toks = toks[3:]
		if len(toks) > 0 {
			if len(toks) == 1 || toks[0].quoted || !strings.EqualFold(toks[0].text, "and") {
				return nil, invalidFilter("expected and after a comparison")
			}
			toks = toks[1:]
		}
	}
	return f, ""
}

// token is a word of a $filter, or a quoted string.
type token struct {
	text   string
	quoted bool
}

// tokens splits q at spaces outside quotes.
func tokens(q string) ([]token, string) {
	var toks []token
	for i := 0; i < len(q); {
		switch {
		case q[i] == ' ':
			i++
		case q[i] == '\'':
			var b strings.Builder
			for i++; ; i++ {
				if i >= len(q) {
					return nil, invalidFilter("a string literal is not closed")
				}
				if q[i] == '\'' {
					if i+1 < len(q) && q[i+1] == '\'' {
						i++
					} else {
						break
					}
				}
				b.WriteByte(q[i])
			}
			i++
			toks = append(toks, token{b.String(), true})
		default:
			j := i
			for j < len(q) && q[j] != ' ' && q[j] != '\'' {
				j++
			}
			if strings.ContainsAny(q[i:j], "()") {
				return nil, invalidFilter("parentheses and functions are not supported")
			}
			toks = append(toks, token{text: q[i:j]})
			i = j
		}
	}
	return toks, ""
}

// newClause checks the comparison of the property name with lit.
func newClause(name string, lit token, typ *graph.DataType) (clause, string) {
	p := typ.Prop(name)
	if p == nil {
		return clause{}, fmt.Sprintf("Could not find a property named '%s' on type '%s'.", name, typ.Name)
	}
	c := clause{prop: p, isKey: len(typ.Key) == 1 && typ.Key[0] == p.Name, lit: lit.text}
	switch {
	case p.Collection || p.Type.Kind == graph.KindComplex:
		return clause{}, invalidFilter("%s is a %s; only primitive and enum properties can be compared", p.Name, typeName(p))
	case !lit.quoted && lit.text == "null":
		c.kind = kindNull
		return c, ""
	case lit.quoted:
		c.kind = kindString
	case lit.text == "true" || lit.text == "false":
		c.kind = kindBool
	case isNumber(lit.text):
		c.kind = kindNumber
	case jsonKind(p.Type) == kindString && p.Type != graph.EdmString && p.Type.Kind != graph.KindEnum:
		c.kind = kindString // an unquoted date, time or GUID
	default:
		return clause{}, invalidFilter("%q is not a literal", lit.text)
	}
	if c.kind != jsonKind(p.Type) {
		return clause{}, fmt.Sprintf("A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind 'Equal'.", p.Type.Name, literalType(c.kind))
	}
	if p.Type.Kind == graph.KindEnum && !slices.Contains(p.Type.Members, c.lit) {
		return clause{}, fmt.Sprintf("Requested value '%s' was not found.", c.lit)
	}
	return c, ""
}

func isNumber(s string) bool {
	_, ok := new(big.Rat).SetString(s)
	return ok && s != "" && strings.Trim(s, "0123456789.-+eE") == ""
}

func literalType(kind int) string {
	switch kind {
	case kindNumber:
		return "Edm.Int32"
	case kindBool:
		return "Edm.Boolean"
	}
	return "Edm.String"
}

// match reports whether vw satisfies every clause.
func (f filter) match(vw view) bool {
	for _, c := range f {
		if !c.match(vw) {
			return false
		}
	}
	return true
}

func (c clause) match(vw view) bool {
	if c.isKey && vw.hasKey {
		return c.kind == kindString && strings.EqualFold(vw.key, c.lit)
	}
	raw, ok := vw.props[c.prop.Name]
	if !ok {
		raw = zeroJSON(c.prop)
	}
	v := decode(raw)
	switch c.kind {
	case kindNull:
		return v == nil
	case kindBool:
		b, ok := v.(bool)
		return ok && (b == (c.lit == "true"))
	case kindNumber:
		n, ok := v.(json.Number)
		return ok && sameNumber(n.String(), c.lit)
	}
	s, ok := v.(string)
	return ok && sameString(c.prop.Type, s, c.lit)
}

func sameNumber(a, b string) bool {
	x, okx := new(big.Rat).SetString(a)
	y, oky := new(big.Rat).SetString(b)
	return okx && oky && x.Cmp(y) == 0
}

// sameString compares strings as Graph does: instants as instants, enum
// members exactly, other strings case-insensitively.
func sameString(t *graph.DataType, a, b string) bool {
	switch {
	case t.Kind == graph.KindEnum:
		return a == b
	case t == graph.EdmDateTimeOffset:
		x, errx := time.Parse(time.RFC3339Nano, a)
		y, erry := time.Parse(time.RFC3339Nano, b)
		if errx == nil && erry == nil {
			return x.Equal(y)
		}
	}
	return strings.EqualFold(a, b)
}
