package graph

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"time"
)

// This file compares the values a row wants with those Graph holds, by
// type (README, "Safe runs"), and writes Graph's values back as CSV cells.

// EmptyToken is the cell that sets a String (or Binary) property to the
// empty string: an empty cell leaves a property alone, so a backup or an
// export of an empty string needs a cell of its own.
const EmptyToken = "#empty"

// Equal reports whether two JSON values of p mean the same: enum members
// in any letter case, instants whatever their offset and fractional digits,
// numbers whatever their notation, GUIDs in any case, and complex values
// member by member, a member one of them lacks counting as null. A nil
// value is null.
func (p *Prop) Equal(a, b json.RawMessage) bool {
	va, errA := decodeRaw(a)
	vb, errB := decodeRaw(b)
	if errA != nil || errB != nil {
		return bytes.Equal(a, b)
	}
	return equalValue(p.Type, p.Collection, va, vb)
}

func decodeRaw(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	return decodeJSON(raw)
}

func equalValue(t *DataType, coll bool, a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if coll {
		as, okA := a.([]any)
		bs, okB := b.([]any)
		if !okA || !okB || len(as) != len(bs) {
			return false
		}
		for i := range as {
			if !equalValue(t, false, as[i], bs[i]) {
				return false
			}
		}
		return true
	}
	switch t.Kind {
	case KindComplex:
		return equalObject(t, a, b)
	case KindEnum:
		return equalEnum(t, a, b)
	case KindPrimitive:
		return equalPrimitive(t, a, b)
	}
	return reflect.DeepEqual(a, b)
}

// equalObject compares two complex values member by member, as values of
// the derived type either names.
func equalObject(t *DataType, a, b any) bool {
	oa, okA := a.(map[string]any)
	ob, okB := b.(map[string]any)
	if !okA || !okB {
		return false
	}
	ta, tb := objectType(t, oa), objectType(t, ob)
	if ta != tb {
		return false
	}
	names := map[string]bool{}
	for name := range oa {
		names[name] = true
	}
	for name := range ob {
		names[name] = true
	}
	for name := range names {
		if strings.HasPrefix(name, "@") {
			continue
		}
		p := ta.Prop(name)
		va, vb := member(oa, name), member(ob, name)
		if p == nil {
			if !reflect.DeepEqual(va, vb) {
				return false
			}
			continue
		}
		if !equalValue(p.Type, p.Collection, va, vb) {
			return false
		}
	}
	return true
}

// objectType is the type an object's @odata.type names, or t.
func objectType(t *DataType, o map[string]any) *DataType {
	if s, ok := o["@odata.type"].(string); ok {
		if d := t.Cast(s); d != nil {
			return d
		}
	}
	return t
}

// member returns o's member name, matched without regard to case, or
// the zero value.
func member[V any](o map[string]V, name string) V {
	if v, ok := o[name]; ok {
		return v
	}
	for k, v := range o {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	var zero V
	return zero
}

func equalEnum(t *DataType, a, b any) bool {
	sa, okA := a.(string)
	sb, okB := b.(string)
	if !okA || !okB {
		return false
	}
	members := func(s string) []string {
		var out []string
		for _, m := range strings.Split(s, ",") {
			out = append(out, strings.ToLower(strings.TrimSpace(m)))
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(members(sa), members(sb))
}

func equalPrimitive(t *DataType, a, b any) bool {
	switch t {
	case EdmGuid:
		sa, _ := a.(string)
		sb, _ := b.(string)
		return strings.EqualFold(sa, sb)
	case EdmDateTimeOffset:
		return equalTime(a, b, time.RFC3339Nano)
	case EdmTimeOfDay:
		return equalTime(a, b, "15:04:05.999999999")
	case EdmDuration:
		da, okA := durationOf(a)
		db, okB := durationOf(b)
		return okA && okB && da.Cmp(db) == 0
	case EdmBinary:
		ba, okA := bytesOf(a)
		bb, okB := bytesOf(b)
		return okA && okB && bytes.Equal(ba, bb)
	}
	if na, ok := a.(json.Number); ok {
		nb, ok := b.(json.Number)
		ra, okA := new(big.Rat).SetString(na.String())
		rb, okB := new(big.Rat).SetString(nb.String())
		return ok && okA && okB && ra.Cmp(rb) == 0
	}
	return reflect.DeepEqual(a, b)
}

func equalTime(a, b any, layout string) bool {
	sa, okA := a.(string)
	sb, okB := b.(string)
	if !okA || !okB {
		return false
	}
	if len(sa) == 5 { // a time of day without seconds, 09:30
		sa += ":00"
	}
	if len(sb) == 5 {
		sb += ":00"
	}
	ta, errA := time.Parse(layout, sa)
	tb, errB := time.Parse(layout, sb)
	if errA != nil || errB != nil {
		return sa == sb
	}
	return ta.Equal(tb)
}

// durationOf returns an ISO 8601 duration (days to seconds) in seconds.
func durationOf(v any) (*big.Rat, bool) {
	s, ok := v.(string)
	if !ok || !durationPattern.MatchString(s) {
		return nil, false
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "P")
	total := new(big.Rat)
	unit := map[byte]int64{'D': 86400, 'H': 3600, 'M': 60, 'S': 1}
	num := ""
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 'T':
		case c >= '0' && c <= '9' || c == '.':
			num += string(c)
		default:
			r, ok := new(big.Rat).SetString(num)
			if !ok {
				return nil, false
			}
			total.Add(total, r.Mul(r, new(big.Rat).SetInt64(unit[c])))
			num = ""
		}
	}
	if neg {
		total.Neg(total)
	}
	return total, true
}

// bytesOf decodes a Binary value: base64, standard or URL-safe, padded or
// not.
func bytesOf(v any) ([]byte, bool) {
	s, ok := v.(string)
	if !ok {
		return nil, false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// Cell writes a JSON value of p as a CSV cell in update's input format:
// null as the null token, an empty string as EmptyToken, strings as they
// are, numbers and booleans as JSON writes them, complex and collection
// values as JSON. Reading the cell back gives a value Equal to raw. No
// value at all (nil: Graph left the property out) is the empty cell,
// which leaves the property alone.
func (p *Prop) Cell(raw json.RawMessage, null string) string {
	if len(raw) == 0 {
		return ""
	}
	v, err := decodeRaw(raw)
	switch {
	case err != nil:
		return string(raw)
	case v == nil:
		return null
	case p.JSONCell():
		b, err := Marshal(v)
		if err != nil {
			return string(raw)
		}
		return string(b)
	}
	switch v := v.(type) {
	case string:
		if v == "" {
			return EmptyToken
		}
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return string(raw)
}

// CellOf is Cell for a cell that must read back as the value itself (a
// backup, an export). It fails for a value whose cell is the null token
// or EmptyToken without being null or the empty string: a string that is
// one of them, or a value that a null token such as "0" or "true" spells.
// Its cell would read back as null or as the empty string.
func (p *Prop) CellOf(raw json.RawMessage, null string) (string, error) {
	cell := p.Cell(raw, null)
	if cell != null && cell != EmptyToken {
		return cell, nil
	}
	v, err := decodeRaw(raw)
	switch {
	case err != nil: // Cell wrote raw as it is
		return cell, nil
	case cell == null && v == nil, cell != null && v == "" && p.emptyable():
		return cell, nil
	}
	what := "null (choose another --null-token)"
	if cell != null {
		what = "an empty string"
	}
	if s, ok := v.(string); ok {
		return "", fmt.Errorf("%s holds the text %q, which no cell can hold: it reads back as %s", p.Name, s, what)
	}
	return "", fmt.Errorf("%s holds %s, whose cell %q reads back as %s", p.Name, Quote(string(raw)), cell, what)
}

// ReadURL returns the URL, relative to the version root, that reads what
// patch p sets on the entity at path: with $select of the properties it
// sets, also when p names the entity's type (Graph answers the entity's
// type without being asked, and some services, the directory's, answer
// only a default set of properties without $select), unless one of them
// is only on a derived type (which $select would have to name with a
// cast); then the whole entity, as Intune, whose types derive, answers it.
func (t *Target) ReadURL(path string, p Patch) string {
	names := make([]string, 0, len(p.Sets))
	for _, s := range p.Sets {
		if t.Type.Prop(s.Prop.Name) == nil {
			return path
		}
		names = append(names, s.Prop.Name)
	}
	return path + "?$select=" + strings.Join(names, ",")
}

// Change is one property a row would change.
type Change struct {
	Column  string          // the property, or TypeColumn
	Prop    *Prop           // nil for TypeColumn
	Current json.RawMessage // what Graph holds; nil when its answer left the property out
	Desired json.RawMessage
}

// Diff returns what p would change on an entity of t that Graph says
// holds current (its JSON object as read): the properties whose values
// differ by type (see Equal), or that the answer leaves out (their values
// are unknown: Current is nil), and its type, when p names another. An
// entity whose answer names no type is of t's type, as Graph leaves the
// declared type out. An answer that is not a JSON object (null, empty) is
// an error: it says nothing of what the entity holds.
func (t *Target) Diff(p Patch, current []byte) ([]Change, error) {
	holds, err := object(current)
	if err != nil {
		return nil, err
	}
	var changes []Change
	if p.Type != "" {
		now := member(holds, "@odata.type")
		var name string
		if json.Unmarshal(now, &name) != nil || name == "" {
			name, now = "#"+t.Type.Name, mustMarshal("#"+t.Type.Name)
		}
		if !strings.EqualFold(strings.TrimPrefix(name, "#"), strings.TrimPrefix(p.Type, "#")) {
			changes = append(changes, Change{Column: TypeColumn, Current: now, Desired: mustMarshal(p.Type)})
		}
	}
	for _, s := range p.Sets {
		now := member(holds, s.Prop.Name)
		if now == nil || !s.Prop.Equal(now, s.Value) {
			changes = append(changes, Change{Column: s.Prop.Name, Prop: s.Prop, Current: now, Desired: s.Value})
		}
	}
	return changes, nil
}

// Unread returns the first property p sets that holds, an entity's
// Values as read, leaves out, or nil. Its value is unknown: Graph answers
// every property a read selects, null or not, so one left out is not
// there to be read (a property of another type than the entity's).
func (p Patch) Unread(holds map[string]json.RawMessage) *Prop {
	for _, s := range p.Sets {
		if _, ok := holds[strings.ToLower(s.Prop.Name)]; !ok {
			return s.Prop
		}
	}
	return nil
}

// Cell writes c's current or desired value as a cell of update's input
// format (see Prop.Cell).
func (c Change) Cell(raw json.RawMessage, null string) string {
	if c.Prop != nil {
		return c.Prop.Cell(raw, null)
	}
	var s string
	if json.Unmarshal(raw, &s) != nil || s == "" {
		return null
	}
	return s
}

// RouteRefused reports whether Graph's error for a read says the route
// itself cannot be read, rather than something of the one entity read:
// Intune answers 400 "No method match route template" (or 405) for GETs on
// some of its per-device status routes (README, "Safe runs"). Another 400
// is about the entity (a key Graph cannot parse: "Invalid object
// identifier"), as a 404 with a not-found code is: it fails that row, and
// says nothing of the others.
func RouteRefused(e *Error) bool {
	switch {
	case strings.EqualFold(e.Code, "No method match route template"),
		strings.Contains(strings.ToLower(e.Message), "no odata route"),
		e.Status == 405, e.Status == 501:
		return true
	case e.Status == 404:
		return !strings.Contains(strings.ToLower(e.Code), "notfound") // "Resource not found for the segment" is BadRequest
	}
	return false
}

// object decodes an entity Graph returned, which must be a JSON object.
func object(entity []byte) (map[string]json.RawMessage, error) {
	var holds map[string]json.RawMessage
	if err := json.Unmarshal(entity, &holds); err != nil {
		return nil, err
	}
	if holds == nil {
		return nil, errors.New("null, not an object")
	}
	return holds, nil
}

// Values returns the members of an entity Graph returned, by name in
// lower case.
func Values(entity []byte) (map[string]json.RawMessage, error) {
	holds, err := object(entity)
	if err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(holds))
	for k, v := range holds {
		out[strings.ToLower(k)] = v
	}
	return out, nil
}

// TypeOf returns the @odata.type of an entity's Values, or "".
func TypeOf(values map[string]json.RawMessage) string {
	var s string
	_ = json.Unmarshal(values["@odata.type"], &s)
	return s
}
