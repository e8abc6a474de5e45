package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// TypeColumn is the column that selects a derived type for a row; its
// value is sent as the body's @odata.type (README, "Targets").
const TypeColumn = "@odata.type"

// DefaultNullToken is the cell that sends JSON null (--null-token).
const DefaultNullToken = "#null"

// MaxKeyBytes is the longest key Graph accepts in a URL segment.
const MaxKeyBytes = 1024

// Patch is one validated row: where its PATCH goes and what it sets.
type Patch struct {
	URL  string // path relative to {root}/{version}, keys escaped
	Body []byte // a JSON object with one member per non-empty cell
	Type string // the @odata.type the row names, "#microsoft.graph.…", or ""
	Sets []Set  // what the body sets, in column order
}

// Set is one property a row sets, and the JSON value it sets it to.
type Set struct {
	Prop  *Prop
	Value json.RawMessage
}

// ValueError says which column of a row holds a value Graph would refuse.
type ValueError struct {
	Column string
	Value  string
	Err    error
}

func (e *ValueError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("column %s %v", e.Column, e.Err)
	}
	return fmt.Sprintf("column %s: %s %v", e.Column, Quote(e.Value), e.Err)
}

func (e *ValueError) Unwrap() error { return e.Err }

// Quote returns s quoted for a message, with escapes for anything not
// printable, and cut to a length a person reads: a cell can hold a
// megabyte.
func Quote(s string) string {
	i := 0
	for n := 0; n < 64 && i < len(s); n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	if i < len(s) {
		return strconv.Quote(s[:i]) + "…"
	}
	return strconv.Quote(s)
}

// ErrNoProperty is returned for a row whose property cells are all empty:
// an empty cell means "leave alone", so such a row would change nothing.
var ErrNoProperty = errors.New("no property to set: every property column is empty")

// errDotKey is why "." and ".." are refused. Like CheckKey's other errors
// it does not repeat the key: ValueError shows it before the reason.
var errDotKey = errors.New("is not a valid key: a path segment of dots would change which URL is called")

// CheckKey reports why s cannot be used as a key segment, or nil.
// Escaping already keeps "/", "?" and "#" inside the segment; "." and ".."
// are refused because servers and proxies resolve them as relative segments.
func CheckKey(s string) error {
	switch {
	case s == "":
		return errors.New("is empty")
	case s == "." || s == "..":
		return errDotKey
	case len(s) > MaxKeyBytes:
		return fmt.Errorf("has %d bytes; Graph takes keys of at most %d", len(s), MaxKeyBytes)
	case !utf8.ValidString(s):
		return errors.New("is not valid UTF-8 (save the file as CSV UTF-8)")
	}
	for i := 0; i < len(s); i++ { // control characters are ASCII: bytes suffice
		if c := s[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("contains a control character (%U at byte %d)", c, i)
		}
	}
	return nil
}

// Columns returns every column a CSV for t may have: the key columns,
// then @odata.type if the target's type has derived types, then every
// property a PATCH can set on the type or on one derived from it, in the
// metadata's order.
func (t *Target) Columns() []string {
	cols := slices.Clone(t.Keys)
	if len(t.Type.AllDerived()) > 0 {
		cols = append(cols, TypeColumn)
	}
	for _, p := range t.Settable() {
		cols = append(cols, p.Name)
	}
	return cols
}

// Settable returns the properties a PATCH can set on t's type or a type
// derived from it, each name once, in the metadata's order: the type's
// own (inherited first), then those the derived types add.
func (t *Target) Settable() []*Prop {
	var props []*Prop
	seen := make(map[string]bool)
	keys := make(map[string]bool)
	for _, k := range t.Type.Key {
		keys[strings.ToLower(k)] = true
	}
	for _, typ := range append([]*DataType{t.Type}, t.Type.AllDerived()...) {
		for _, p := range typ.AllProperties() {
			name := strings.ToLower(p.Name)
			if !seen[name] && !keys[name] && p.Settable() && !isPlaceholder(t, p.Name) {
				seen[name] = true
				props = append(props, p)
			}
		}
	}
	return props
}

func isPlaceholder(t *Target, name string) bool {
	return slices.ContainsFunc(t.Keys, func(k string) bool { return strings.EqualFold(k, name) })
}

// Row turns CSV rows for t into PATCHes. Its column layout is fixed by
// NewRow; it is not safe for concurrent use.
type Row struct {
	t      *Target
	null   string
	names  []string // the property columns, after the keys (and the type column)
	typed  bool     // the columns include TypeColumn: the target's type has derived types
	lookup map[*DataType]map[string]*Prop
	cols   map[*DataType][]column // per row type, one per name
}

// column is what a property column sets on rows of one type.
type column struct {
	prop   *Prop  // nil if the type has no settable property of the column's name
	member []byte // the start of the body's member for it: "name":
}

// NewRow returns a Row for rows whose fields follow t.Columns(). null is
// the cell that sends JSON null ("" for DefaultNullToken).
func (t *Target) NewRow(null string) *Row {
	if null == "" {
		null = DefaultNullToken
	}
	cols := t.Columns()[len(t.Keys):]
	typed := len(cols) > 0 && cols[0] == TypeColumn
	if typed {
		cols = cols[1:]
	}
	return &Row{t: t, null: null, names: cols, typed: typed, lookup: make(map[*DataType]map[string]*Prop), cols: make(map[*DataType][]column)}
}

// NewPatch validates one row and turns it into a Patch. fields holds one
// cell per column of t.Columns(), "" for "leave alone". The error is a
// *ValueError naming the first bad column, or ErrNoProperty.
func (r *Row) NewPatch(fields []string) (Patch, error) {
	return r.patch(fields, true)
}

// Check validates one row as NewPatch does, with the same errors, but
// builds nothing: what a dry run needs.
func (r *Row) Check(fields []string) error {
	_, err := r.patch(fields, false)
	return err
}

// patch validates a row and, if build is set, turns it into a Patch.
func (r *Row) patch(fields []string, build bool) (Patch, error) {
	t := r.t
	keys := fields[:len(t.Keys)]
	var trimmed []string
	if build {
		trimmed = make([]string, len(keys))
	}
	for i, k := range keys {
		key := strings.TrimSpace(k) // spreadsheets pad cells; ids never start or end with a space
		if err := CheckKey(key); err != nil {
			return Patch{}, &ValueError{Column: t.Keys[i], Value: k, Err: err}
		}
		if build {
			trimmed[i] = key
		}
	}
	p, err := r.body(fields[len(t.Keys):], build)
	if err != nil || !build {
		return Patch{}, err
	}
	p.URL = t.Path(trimmed)
	return p, nil
}

// Body returns the JSON PATCH body for the cells after the keys.
func (r *Row) Body(cells []string) ([]byte, error) {
	p, err := r.body(cells, true)
	return p.Body, err
}

// body validates the cells after the keys and, if build is set, returns
// the Patch they make, without its URL.
func (r *Row) body(cells []string, build bool) (Patch, error) {
	typ, typeName := r.t.Type, ""
	if r.typed {
		if cell := strings.TrimSpace(cells[0]); cell != "" {
			if typ = r.t.Type.Cast(cell); typ == nil {
				return Patch{}, &ValueError{Column: TypeColumn, Value: cell, Err: fmt.Errorf("is not %s or a type derived from it (%s)", r.t.Type.ShortName(), typeNames(r.t.Type))}
			}
			typeName = "#" + typ.Name
		}
		cells = cells[1:]
	}
	cols := r.columns(typ)
	n, size := 0, len(`{"@odata.type":""}`)+len(typeName)
	for i, cell := range cells {
		if cell != "" {
			n++
			size += len(cols[i].member) + len(cell) + 3 // a comma, and quotes
		}
	}
	if n == 0 {
		return Patch{}, ErrNoProperty
	}
	var b *bytes.Buffer
	var sets []Set
	if build {
		b = bytes.NewBuffer(make([]byte, 0, size))
		b.WriteByte('{')
		if typeName != "" {
			b.WriteString(`"@odata.type":`)
			b.Write(mustMarshal(typeName))
		}
		sets = make([]Set, 0, n)
	}
	for i, cell := range cells {
		if cell == "" {
			continue
		}
		c := cols[i]
		if c.prop == nil {
			return Patch{}, &ValueError{Column: r.names[i], Err: r.missing(typ, r.names[i])}
		}
		if !build { // checked as for sending, nothing built
			if err := r.check(c.prop, cell); err != nil {
				return Patch{}, &ValueError{Column: c.prop.Name, Value: cell, Err: err}
			}
			continue
		}
		value, err := r.value(c.prop, cell)
		if err != nil {
			return Patch{}, &ValueError{Column: c.prop.Name, Value: cell, Err: err}
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.Write(c.member)
		b.Write(value)
		sets = append(sets, Set{Prop: c.prop, Value: value})
	}
	if !build {
		return Patch{}, nil
	}
	b.WriteByte('}')
	return Patch{Body: b.Bytes(), Type: typeName, Sets: sets}, nil
}

// columns returns what each property column sets on rows of type typ,
// worked out on the first row of that type.
func (r *Row) columns(typ *DataType) []column {
	cols := r.cols[typ]
	if cols == nil {
		cols = make([]column, len(r.names))
		for i, name := range r.names {
			if p := r.prop(typ, name); p != nil {
				cols[i] = column{prop: p, member: append(mustMarshal(p.Name), ':')}
			}
		}
		r.cols[typ] = cols
	}
	return cols
}

// value returns the JSON value of a non-empty cell for p.
func (r *Row) value(p *Prop, cell string) (json.RawMessage, error) {
	switch v, err := r.token(p, cell); {
	case err != nil || v != nil:
		return v, err
	}
	return p.Encode(cell)
}

// check is value without the value: it says only why a cell is wrong.
func (r *Row) check(p *Prop, cell string) error {
	switch v, err := r.token(p, cell); {
	case err != nil || v != nil:
		return err
	}
	_, err := p.parse(cell)
	return err
}

// token returns the value of a cell that holds the null token, or
// EmptyToken for a string; nil for any other cell.
func (r *Row) token(p *Prop, cell string) (json.RawMessage, error) {
	switch {
	case cell == r.null && !p.Nullable:
		return nil, fmt.Errorf("is %s, but %s cannot be null", r.null, p.Name)
	case cell == r.null:
		return json.RawMessage("null"), nil
	case cell == EmptyToken && p.emptyable():
		return json.RawMessage(`""`), nil
	}
	return nil, nil
}

// emptyable reports whether the empty JSON string is a value of p, which
// only EmptyToken can set: a String, or a Binary of no bytes.
func (p *Prop) emptyable() bool {
	return !p.Collection && (p.Type == EdmString || p.Type == EdmBinary)
}

// prop returns typ's settable property name, or nil.
func (r *Row) prop(typ *DataType, name string) *Prop {
	props := r.lookup[typ]
	if props == nil {
		props = make(map[string]*Prop)
		for _, p := range typ.AllProperties() {
			if p.Settable() {
				props[strings.ToLower(p.Name)] = p
			}
		}
		r.lookup[typ] = props
	}
	return props[strings.ToLower(name)]
}

// missing says why typ has no settable property name.
func (r *Row) missing(typ *DataType, name string) error {
	var has []string
	for _, d := range r.t.Type.AllDerived() {
		if r.prop(d, name) != nil {
			has = append(has, d.ShortName())
		}
	}
	if len(has) == 0 {
		return fmt.Errorf("cannot be set on %s", typ.ShortName())
	}
	return fmt.Errorf("is not a property of %s; it belongs to %s: name the row's type in the %s column", typ.ShortName(), strings.Join(has, ", "), TypeColumn)
}

func typeNames(t *DataType) string {
	var names []string
	for _, d := range append([]*DataType{t}, t.AllDerived()...) {
		if !d.Abstract {
			names = append(names, "#"+d.Name)
		}
	}
	if len(names) > 8 {
		names = append(names[:8], "…")
	}
	return strings.Join(names, ", ")
}

func mustMarshal(s string) []byte {
	b, _ := Marshal(s) // a string always encodes
	return b
}

// WhyNotColumn says why name, a column a CSV for t may not have, is not
// one, when the metadata knows it: a read-only or navigation property, or
// one of a type graphbatch cannot write. It returns "" for a name the
// metadata does not know.
func (t *Target) WhyNotColumn(name string) string {
	for _, typ := range append([]*DataType{t.Type}, t.Type.AllDerived()...) {
		if p := typ.Prop(name); p != nil {
			switch {
			case slices.ContainsFunc(t.Type.Key, func(k string) bool { return strings.EqualFold(k, name) }):
				return fmt.Sprintf("%s is the key of %s: name it in the template, like {%s}", p.Name, t.Type.ShortName(), p.Name)
			case p.ReadOnly:
				return fmt.Sprintf("%s is read-only in Graph's metadata", p.Name)
			case !p.Settable():
				return fmt.Sprintf("%s has type %s, which cannot be set from a CSV cell", p.Name, p.Type.Name)
			}
		}
		if n := typ.NavProp(name); n != nil {
			return fmt.Sprintf("%s is a navigation property (a link to %s), not a property a PATCH sets", n.Name, n.Type.ShortName())
		}
	}
	return ""
}
