package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file turns CSV cells into JSON values of a property's EDM type
// (README, "Targets"), and checks JSON values against a type, for JSON cells
// and for the emulator's PATCH bodies alike.

// Settable reports whether a PATCH can set p from a CSV cell: its type is
// one graphbatch can write (not a stream, a spatial type or an unknown
// type) and the metadata does not mark it read-only.
func (p *Prop) Settable() bool {
	if p.ReadOnly || p.Type == nil {
		return false
	}
	switch p.Type.Kind {
	case KindEnum, KindComplex:
		return true
	case KindPrimitive:
		return p.Type == EdmUntyped || primitives[p.Type] != nil
	}
	return false
}

// JSONCell reports whether p's cells hold JSON: a collection, a complex
// value, or an untyped one.
func (p *Prop) JSONCell() bool {
	return p.Collection || p.Type.Kind == KindComplex || p.Type == EdmUntyped
}

// Encode returns the JSON value for a CSV cell of p, which is neither
// empty ("leave alone") nor the null token. The error says, in words a
// person can act on, why the cell is not a value of p's type.
func (p *Prop) Encode(cell string) (json.RawMessage, error) {
	v, err := p.parse(cell)
	if err != nil {
		return nil, err
	}
	return Marshal(v)
}

// parse returns the value of a cell of p, as Encode takes it, ready to be
// marshalled: for a JSON cell, with enum members in Graph's spelling.
func (p *Prop) parse(cell string) (any, error) {
	if !utf8.ValidString(cell) {
		return nil, errors.New("is not valid UTF-8 (save the file as CSV UTF-8)")
	}
	if !p.JSONCell() {
		return parseScalar(p.Type, cell)
	}
	v, err := decodeJSON([]byte(cell))
	if err != nil {
		return nil, fmt.Errorf("is not JSON (%v); write %s", err, jsonExample(p))
	}
	return checkValue(p.Type, p.Collection, p.Nullable, v)
}

// CheckJSON checks a JSON value against p: its type, member by member for
// complex and collection values, and its nullability. It returns the value
// with enum members in Graph's spelling, or why raw is not a value of p.
func (p *Prop) CheckJSON(raw json.RawMessage) (json.RawMessage, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	checked, err := checkValue(p.Type, p.Collection, p.Nullable, v)
	if err != nil {
		return nil, err
	}
	if sameScalar(v, checked) && utf8.Valid(raw) {
		return bytes.TrimSpace(raw), nil // nothing to respell: the value as sent
	}
	return Marshal(checked)
}

// sameScalar reports whether a and b are the same string, number, bool or null.
func sameScalar(a, b any) bool {
	switch a := a.(type) {
	case string, json.Number, bool, nil:
		return a == b
	}
	return false
}

// decodeJSON decodes one JSON value, keeping numbers as written.
func decodeJSON(data []byte) (any, error) {
	if v, ok := literal(bytes.TrimSpace(data)); ok {
		return v, nil
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("more than one value")
	}
	return v, nil
}

// literal decodes the JSON values that need no decoder, for speed: true,
// false, null, and strings that are plain (see plainString) between their
// quotes. ok is false for anything else.
func literal(b []byte) (v any, ok bool) {
	switch string(b) {
	case "true":
		return true, true
	case "false":
		return false, true
	case "null":
		return nil, true
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return nil, false
	}
	if s := string(b[1 : len(b)-1]); plainString(s) {
		return s, true
	}
	return nil, false
}

func jsonExample(p *Prop) string {
	switch {
	case p.Collection:
		return `a JSON array, like ["a","b"]`
	case p.Type.Kind == KindComplex:
		return `a JSON object, like {"member":"value"}`
	}
	return "a JSON value"
}

// checkValue checks v (from decodeJSON) against type t, a collection of t
// if coll, and returns it normalised.
func checkValue(t *DataType, coll, nullable bool, v any) (any, error) {
	if v == nil {
		if !nullable {
			return nil, errors.New("is null, and may not be")
		}
		return nil, nil
	}
	if coll {
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("is not a JSON array (a collection of %s)", t.ShortName())
		}
		for i, item := range items {
			var err error
			if items[i], err = checkValue(t, false, nullable, item); err != nil {
				return nil, fmt.Errorf("item %d %w", i+1, err)
			}
		}
		return items, nil
	}
	switch t.Kind {
	case KindComplex:
		return checkObject(t, v)
	case KindEnum:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("is not a %s (a JSON string)", t.ShortName())
		}
		return parseEnum(t, s)
	case KindPrimitive:
		return checkPrimitive(t, v)
	}
	return nil, fmt.Errorf("has type %s, which graphbatch cannot write", t.Name)
}

// checkObject checks a JSON object against complex type t, or the derived
// type its @odata.type names.
func checkObject(t *DataType, v any) (any, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("is not a JSON object (a %s)", t.ShortName())
	}
	if name, ok := obj["@odata.type"]; ok {
		s, _ := name.(string)
		derived := t.Cast(s)
		if derived == nil {
			return nil, fmt.Errorf("has @odata.type %q, which is not %s or a type derived from it", s, t.ShortName())
		}
		t, obj["@odata.type"] = derived, "#"+derived.Name
	}
	for name, member := range obj {
		if strings.HasPrefix(name, "@") {
			continue // an annotation
		}
		p := t.Prop(name)
		if p == nil {
			if t.Open {
				continue
			}
			return nil, fmt.Errorf("has member %q, which %s does not have (members: %s)", name, t.ShortName(), strings.Join(propNames(t), ", "))
		}
		delete(obj, name)
		checked, err := checkValue(p.Type, p.Collection, p.Nullable, member)
		if err != nil {
			return nil, fmt.Errorf("member %s %w", p.Name, err)
		}
		obj[p.Name] = checked // Graph's spelling of the name
	}
	return obj, nil
}

// Cast returns the type named by an @odata.type value ("#microsoft.graph.x",
// "microsoft.graph.x" or "x"), if it is t or derived from t, or nil.
func (t *DataType) Cast(name string) *DataType {
	name = strings.TrimPrefix(name, "#")
	for _, d := range append([]*DataType{t}, t.AllDerived()...) {
		if strings.EqualFold(d.Name, name) || strings.EqualFold(d.ShortName(), name) {
			return d
		}
	}
	return nil
}

func propNames(t *DataType) []string {
	var names []string
	for _, p := range t.AllProperties() {
		names = append(names, p.Name)
	}
	return names
}

// ShortName is the type's name without its namespace, as users see it.
func (t *DataType) ShortName() string {
	return t.Name[strings.LastIndexByte(t.Name, '.')+1:]
}

// checkPrimitive checks a JSON value of a primitive type: strings hold
// the types JSON has no literal for, as Graph writes them.
func checkPrimitive(t *DataType, v any) (any, error) {
	if t == EdmUntyped {
		return v, nil
	}
	prim := primitives[t]
	if prim == nil {
		return nil, fmt.Errorf("has type %s, which graphbatch cannot write", t.Name)
	}
	switch v := v.(type) {
	case string:
		if prim.json != jsonString {
			return nil, fmt.Errorf("is a string, not a %s", prim.what)
		}
		return prim.parse(v)
	case bool:
		if prim.json != jsonBool {
			return nil, fmt.Errorf("is true or false, not a %s", prim.what)
		}
		return v, nil
	case json.Number:
		if prim.json != jsonNumber {
			return nil, fmt.Errorf("is a number, not a %s", prim.what)
		}
		return prim.parse(v.String())
	}
	return nil, fmt.Errorf("is not a %s", prim.what)
}

// parseScalar parses a cell of a primitive or enum type into the value to
// send. Surrounding spaces, which spreadsheets leave, are ignored for
// every type but String, which is sent as given.
func parseScalar(t *DataType, cell string) (any, error) {
	if t == EdmString {
		return cell, nil
	}
	cell = strings.TrimSpace(cell)
	if t.Kind == KindEnum {
		return parseEnum(t, cell)
	}
	prim := primitives[t]
	if prim == nil {
		return nil, fmt.Errorf("has type %s, which graphbatch cannot write", t.Name)
	}
	return prim.parse(cell)
}

// parseEnum returns the members s names, in Graph's spelling: one member,
// or for a flags enum several, separated by commas.
func parseEnum(t *DataType, s string) (any, error) {
	names := []string{s}
	if t.Flags {
		names = strings.Split(s, ",")
	}
	for i, name := range names {
		member := ""
		for _, m := range t.Members {
			if strings.EqualFold(m, strings.TrimSpace(name)) {
				member = m
			}
		}
		if member == "" {
			what := "one of"
			if t.Flags {
				what = "members separated by commas, of"
			}
			return nil, fmt.Errorf("is not a %s (%s: %s)", t.ShortName(), what, strings.Join(t.Members, ", "))
		}
		names[i] = member
	}
	return strings.Join(names, ","), nil
}

// jsonKind is how a primitive type is written in JSON.
type jsonKind int

const (
	jsonString jsonKind = iota
	jsonNumber
	jsonBool
)

// primitive is how one EDM primitive type is read from a cell (or a JSON
// string or number) and written as JSON.
type primitive struct {
	what  string // for messages: "whole number", "date like 2024-01-31"
	json  jsonKind
	parse func(string) (any, error)
}

// primitives holds every EDM primitive type graphbatch can write.
var primitives = map[*DataType]*primitive{
	EdmString:         {what: "string", json: jsonString, parse: func(s string) (any, error) { return s, nil }},
	EdmBoolean:        {what: "true or false", json: jsonBool, parse: parseBool},
	EdmByte:           integer("Byte", 0, math.MaxUint8),
	EdmSByte:          integer("SByte", math.MinInt8, math.MaxInt8),
	EdmInt16:          integer("Int16", math.MinInt16, math.MaxInt16),
	EdmInt32:          integer("Int32", math.MinInt32, math.MaxInt32),
	EdmInt64:          integer("Int64", math.MinInt64, math.MaxInt64),
	EdmSingle:         decimal(math.MaxFloat32),
	EdmDouble:         decimal(math.MaxFloat64),
	EdmDecimal:        decimal(0),
	EdmGuid:           pattern("GUID like 5f8c1a2e-0b3c-4d5e-8f90-123456789abc", guidPattern),
	EdmDate:           {what: "date like 2024-01-31", json: jsonString, parse: parseDate},
	EdmTimeOfDay:      pattern("time of day like 09:30:00 or 09:30:00.1234567", timeOfDayPattern),
	EdmDuration:       pattern("duration like P1DT2H30M or PT45S (ISO 8601, days to seconds)", durationPattern),
	EdmDateTimeOffset: {what: "date and time", json: jsonString, parse: parseDateTimeOffset},
	EdmBinary:         {what: "base64 value", json: jsonString, parse: parseBinary},
}

func parseBool(s string) (any, error) {
	switch strings.ToLower(s) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return nil, errors.New("is not true or false")
}

func integer(name string, lo, hi int64) *primitive {
	return &primitive{what: "whole number", json: jsonNumber, parse: func(s string) (any, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, errors.New("is not a whole number")
		}
		if err != nil || n < lo || n > hi {
			return nil, fmt.Errorf("is out of range for %s (%d to %d)", name, lo, hi)
		}
		return json.Number(strconv.FormatInt(n, 10)), nil
	}}
}

// jsonNumberPattern is JSON's grammar for a number.
var jsonNumberPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// decimal reads a decimal number; limit bounds its magnitude (0: none,
// for Edm.Decimal, whose digits are sent as written).
func decimal(limit float64) *primitive {
	return &primitive{what: "number", json: jsonNumber, parse: func(s string) (any, error) {
		if !jsonNumberPattern.MatchString(s) {
			return nil, errors.New("is not a decimal number like 12.5 or -3")
		}
		if f, err := strconv.ParseFloat(s, 64); limit > 0 && (err != nil || math.Abs(f) > limit) {
			return nil, errors.New("is out of range")
		}
		return json.Number(s), nil
	}}
}

var (
	guidPattern      = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	timeOfDayPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,7})?)?$`)
	durationPattern  = regexp.MustCompile(`^-?P(?:[0-9]+D)?(?:T(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]+)?S)?)?$`)
)

func pattern(what string, re *regexp.Regexp) *primitive {
	return &primitive{what: what, json: jsonString, parse: func(s string) (any, error) {
		if !re.MatchString(s) || strings.HasSuffix(s, "P") || strings.HasSuffix(s, "T") {
			return nil, fmt.Errorf("is not a %s", what)
		}
		return s, nil
	}}
}

func parseDate(s string) (any, error) {
	if _, err := time.Parse(time.DateOnly, s); err != nil || len(s) != len(time.DateOnly) || s < "0001" {
		return nil, errors.New("is not a date like 2024-01-31")
	}
	return s, nil
}

func parseBinary(s string) (any, error) {
	if _, ok := bytesOf(s); !ok {
		return nil, errors.New("is not base64")
	}
	return s, nil
}

// MaxFractionDigits is how many fractional second digits a DateTimeOffset
// may have: .NET's tick precision, as Graph's own examples use.
const MaxFractionDigits = 7

// .NET's DateTimeOffset holds instants from year 1 to year 9999 in UTC.
var (
	minInstant = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxInstant = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

var errDateTime = errors.New("is not a date and time like 2024-01-31T09:30:00Z or 2024-01-31T09:30:00.1234567+01:00")

// parseDateTimeOffset checks an RFC 3339 date and time with a time zone,
// at most MaxFractionDigits fractional digits after a point, an offset of at most
// ±14:00, and an instant .NET can hold.
func parseDateTimeOffset(s string) (any, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || len(s) < len("2006-01-02T15:04:05Z") || s[10] != 'T' {
		if err == nil || !strings.ContainsAny(s[min(len(s), 19):], "Z+-") {
			return nil, errors.New("has no time zone: end it with Z (UTC) or an offset like +01:00")
		}
		return nil, errDateTime
	}
	if strings.IndexByte(s, ',') >= 0 { // time.Parse takes a decimal comma; RFC 3339 and Graph do not
		return nil, errDateTime
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		n := i + 1
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if digits := n - i - 1; digits > MaxFractionDigits {
			return nil, fmt.Errorf("has %d fractional second digits; Graph takes at most %d", digits, MaxFractionDigits)
		}
	}
	// time.Parse takes offset minutes up to 99; .NET takes them under 60.
	if _, offset := t.Zone(); offset > 14*3600 || offset < -14*3600 || !strings.HasSuffix(s, "Z") && s[len(s)-2] >= '6' {
		return nil, fmt.Errorf("has an impossible offset %s", s[len(s)-6:])
	}
	if u := t.UTC(); u.Before(minInstant) || !u.Before(maxInstant) {
		return nil, errors.New("is outside the dates Graph can store (years 0001 to 9999, in UTC)")
	}
	return s, nil
}
