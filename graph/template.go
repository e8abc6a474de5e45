package graph

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// Target is a path template resolved against a Model: where rows go and
// what they may set.
type Target struct {
	Alias    string    // the alias it was opened by, or ""
	Version  Version   // the API version of Model
	Template string    // normalised: the metadata's spelling, e.g. "/users/{id}"
	Model    *Model    // the model it was resolved against
	Keys     []string  // placeholder names in template order: the key columns
	Type     *DataType // the entity type the template ends at

	segs []segment
}

// segment is one segment of a resolved template: a name of the metadata,
// or a key placeholder.
type segment struct {
	name string // the metadata's spelling; the placeholder's name for a key
	key  bool
}

// TemplateError says why a path template does not resolve.
type TemplateError struct {
	Template string   // as given
	Position int      // the bad segment's 1-based position; 0 for the template as a whole
	Segment  string   // the bad segment as given
	Reason   string   // what is wrong with it
	Nearest  []string // up to five valid names at that position, best first
}

// Error returns a one-line message naming the segment, the reason and the
// nearest valid names.
func (e *TemplateError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "path template %q: ", e.Template)
	if e.Position > 0 {
		fmt.Fprintf(&b, "segment %d %q ", e.Position, e.Segment)
	}
	b.WriteString(e.Reason)
	if len(e.Nearest) > 0 {
		b.WriteString("; nearest: " + strings.Join(e.Nearest, ", "))
	}
	return b.String()
}

// Resolve resolves a path template such as
// "/deviceManagement/deviceCompliancePolicies/{policyId}/deviceStatuses/{id}".
// The first segment is an entity set or singleton of the container; each
// further name is a navigation property of the type reached so far (or of
// its base types); a {name} placeholder follows a collection and selects
// one entity of it; the template ends with a placeholder. Names match
// case-insensitively. Errors are *TemplateError.
func (m *Model) Resolve(template string) (*Target, error) {
	r := &resolver{t: &Target{Model: m}, template: template}
	if err := r.check(); err != nil {
		return nil, err
	}
	for i, part := range strings.Split(template[1:], "/") {
		if err := r.segment(i+1, part); err != nil {
			return nil, err
		}
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	return r.t, nil
}

// resolver walks a template one segment at a time.
type resolver struct {
	t        *Target
	template string
	cur      *DataType // the type reached so far; nil before the first segment
	coll     bool      // the last segment is a collection that no key has indexed yet
	kind     string    // what the last name segment is: "entity set", "singleton", …
	what     string    // the last segment for messages: `the singleton "me"`
}

func (r *resolver) fail(pos int, seg, reason string, nearest ...string) *TemplateError {
	return &TemplateError{Template: r.template, Position: pos, Segment: seg, Reason: reason, Nearest: nearest}
}

// check rejects what the grammar never allows, before any lookup.
func (r *resolver) check() error {
	switch {
	case !strings.HasPrefix(r.template, "/"):
		return r.fail(0, "", `does not start with "/"; write it like /users/{id}`)
	case strings.ContainsAny(r.template, "?#"):
		return r.fail(0, "", "has a query or a fragment; a template is a path only")
	}
	for i, part := range strings.Split(r.template[1:], "/") {
		if strings.ContainsAny(part, "()") {
			return r.fail(i+1, part, "uses parentheses: keys in parentheses, like users('…'), are not supported; "+
				"write each key as a segment of its own, like /users/{id}")
		}
	}
	return nil
}

func (r *resolver) segment(pos int, part string) error {
	switch {
	case part == "":
		return r.fail(pos, part, "is empty (two slashes in a row, or a slash at the end)")
	case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
		return r.key(pos, part)
	case strings.ContainsAny(part, "{}"):
		return r.fail(pos, part, "is not a valid placeholder: a placeholder is a whole segment, like {id}")
	case pos == 1:
		return r.root(part)
	case r.coll:
		return r.fail(pos, part, fmt.Sprintf("follows %s without a key; put one after it, like %s/{id}", r.what, r.normalised()))
	}
	return r.nav(pos, part)
}

func (r *resolver) root(part string) error {
	root := lookupFold(r.t.Model.roots, part, func(x *Root) string { return x.Name })
	if root == nil {
		names := make([]string, len(r.t.Model.roots))
		for i, x := range r.t.Model.roots {
			names[i] = x.Name
		}
		return r.fail(1, part, "is not an entity set or singleton", nearest(part, names)...)
	}
	kind := "singleton"
	if root.Collection {
		kind = "entity set"
	}
	return r.step(1, part, root.Name, root.Type, root.Collection, kind)
}

func (r *resolver) nav(pos int, part string) error {
	n := r.cur.NavProp(part)
	if n == nil {
		var names []string
		for _, n := range r.cur.AllNavigation() {
			names = append(names, n.Name)
		}
		reason := "is not a navigation property of " + r.cur.Name + derivedHint(r.cur, part)
		if strings.Contains(part, ".") {
			reason += " (type casts are not supported: set @odata.type in a column instead)"
		}
		return r.fail(pos, part, reason, nearest(part, names)...)
	}
	kind := "single-valued navigation property"
	if n.Collection {
		kind = "collection-valued navigation property"
	}
	return r.step(pos, part, n.Name, n.Type, n.Collection, kind)
}

// step moves to the type a name segment reaches.
func (r *resolver) step(pos int, part, name string, t *DataType, coll bool, kind string) error {
	if t.Kind != KindEntity {
		return r.fail(pos, part, fmt.Sprintf("is a %s of type %s, which the metadata does not define as an entity type", kind, t.Name))
	}
	r.t.segs = append(r.t.segs, segment{name: name})
	r.cur, r.coll, r.kind = t, coll, kind
	r.what = fmt.Sprintf("the %s %q", kind, name)
	return nil
}

func (r *resolver) key(pos int, part string) error {
	name := part[1 : len(part)-1]
	if !isIdentifier(name) {
		return r.fail(pos, part, "is not a valid placeholder: its name must be letters, digits and _, not starting with a digit")
	}
	for _, k := range r.t.Keys {
		if strings.EqualFold(k, name) {
			return r.fail(pos, part, fmt.Sprintf("repeats the placeholder {%s}; each key needs a name of its own", k))
		}
	}
	switch {
	case pos == 1:
		return r.fail(pos, part, "comes first; a template starts with an entity set or singleton, like /users/{id}")
	case !r.coll:
		return r.fail(pos, part, fmt.Sprintf("follows %s, which is not a collection; a key selects one entity of a collection", r.what))
	}
	r.t.segs = append(r.t.segs, segment{name: name, key: true})
	r.t.Keys = append(r.t.Keys, name)
	r.coll, r.what = false, "the key {"+name+"}"
	return nil
}

// finish checks that the template ends in a key and fills in the target.
func (r *resolver) finish() error {
	last := len(r.t.segs)
	if !r.t.segs[last-1].key {
		seg := r.t.segs[last-1].name
		if r.coll {
			return r.fail(last, seg, fmt.Sprintf("is a collection; the template must end in a key, like %s/{id}", r.normalised()))
		}
		return r.fail(last, seg, fmt.Sprintf("is a %s, not a collection; the template must end in a key that selects one entity of a collection", r.kind))
	}
	r.t.Type, r.t.Template = r.cur, r.normalised()
	if r.t.Model.Partial && len(r.cur.Properties) == 0 {
		return r.fail(0, "", fmt.Sprintf("reaches %s, which is only a stub in the partial %s", r.cur.Name, r.t.Model.Source))
	}
	return nil
}

// normalised returns the template resolved so far, in the metadata's spelling.
func (r *resolver) normalised() string {
	var b strings.Builder
	for _, s := range r.t.segs {
		b.WriteByte('/')
		if s.key {
			b.WriteString("{" + s.name + "}")
		} else {
			b.WriteString(s.name)
		}
	}
	return b.String()
}

// derivedHint says which derived type of t declares the navigation
// property name, if one does.
func derivedHint(t *DataType, name string) string {
	for _, d := range t.AllDerived() {
		for _, n := range d.Navigation {
			if strings.EqualFold(n.Name, name) {
				return fmt.Sprintf(" (only its derived type %s has %s, and a template cannot cast to a derived type)", d.Name, n.Name)
			}
		}
	}
	return ""
}

func isIdentifier(s string) bool {
	for i, c := range s {
		if !(c == '_' || unicode.IsLetter(c) || (i > 0 && unicode.IsDigit(c))) {
			return false
		}
	}
	return s != ""
}

// Path returns the URL path, relative to {root}/{version}, of the entity
// that keys select, in the order of t.Keys. Each key is escaped as a
// single path segment, so no key can add a segment, a query or a
// fragment; callers must first reject keys that CheckKey refuses. Path
// panics if len(keys) != len(t.Keys).
func (t *Target) Path(keys []string) string {
	if len(keys) != len(t.Keys) {
		panic(fmt.Sprintf("graph: %s takes %d keys, got %d", t.Template, len(t.Keys), len(keys)))
	}
	return t.path(t.segs, keys)
}

// CollectionPath returns the path of the collection the last key indexes,
// with the outer keys filled in, e.g.
// /deviceManagement/deviceCompliancePolicies/{policyId}/deviceStatuses for
// the device statuses of one policy. It panics if len(outer) !=
// len(t.Keys)-1.
func (t *Target) CollectionPath(outer []string) string {
	if len(outer) != len(t.Keys)-1 {
		panic(fmt.Sprintf("graph: the collection of %s takes %d keys, got %d", t.Template, len(t.Keys)-1, len(outer)))
	}
	return t.path(t.segs[:len(t.segs)-1], outer)
}

func (t *Target) path(segs []segment, keys []string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		if s.key {
			b.WriteString(url.PathEscape(keys[0]))
			keys = keys[1:]
		} else {
			b.WriteString(s.name)
		}
	}
	return b.String()
}
