package graphtest

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/graphbatch/graphbatch/graph"
)

// model is one API version's metadata, with its entity sets and singletons
// indexed for routing. Read-only after New.
type model struct {
	*graph.Model
	v     graph.Version
	roots map[string]*graph.Root // by lower-case name
}

func newModel(v graph.Version, m *graph.Model) *model {
	roots := make(map[string]*graph.Root)
	for _, r := range m.Roots() {
		if _, dup := roots[strings.ToLower(r.Name)]; !dup || r.Name == strings.ToLower(r.Name) {
			roots[strings.ToLower(r.Name)] = r
		}
	}
	return &model{Model: m, v: v, roots: roots}
}

// route is what a request path names, resolved segment by segment
// against a version's metadata.
type route struct {
	v     graph.Version
	segs  []segment
	typ   *graph.DataType // the declared entity type where the path ends
	coll  bool            // the path ends at a collection: no key follows its last name
	query url.Values      // the request's query, decoded
}

// segment is one resolved path segment.
type segment struct {
	name string          // the metadata's spelling; for a key, the key as written (decoded)
	key  bool            // a key selecting one entity of the collection before it
	typ  *graph.DataType // the entity type reached: of the entity, or of a collection's items
}

// routeError is why a path does not resolve, as Graph answers it.
type routeError struct {
	status int
	msg    string
}

func errNoSegment(seg string) *routeError {
	return &routeError{http.StatusNotFound, segmentNotFound(seg)}
}

var errBadURL = &routeError{http.StatusBadRequest, "Invalid request URL."}

// resolve resolves escapedPath, relative to the version root. Keys are
// single segments, percent-decoded one by one, so that an escaped "/"
// stays inside its key; names match case-insensitively, as Graph's do.
func (m *model) resolve(escapedPath string) (route, *routeError) {
	rt := route{v: m.v}
	p := strings.TrimPrefix(escapedPath, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return rt, errNoSegment("")
	}
	for i, raw := range strings.Split(p, "/") {
		seg, err := url.PathUnescape(raw)
		if err != nil {
			return rt, errBadURL
		}
		if e := rt.step(m, i, seg); e != nil {
			return rt, e
		}
	}
	return rt, nil
}

// step resolves the segment seg, the i-th of the path.
func (rt *route) step(m *model, i int, seg string) *routeError {
	switch {
	case i == 0 && isVersion(seg):
		return &routeError{http.StatusBadRequest, segmentNotFound(seg)}
	case i == 0:
		root := m.roots[strings.ToLower(seg)]
		if root == nil {
			return errNoSegment(seg)
		}
		rt.push(segment{name: root.Name, typ: root.Type}, root.Collection)
	case rt.coll:
		if seg == "" || seg == "." || seg == ".." {
			return errBadURL
		}
		rt.push(segment{name: seg, key: true, typ: rt.typ}, false)
	default:
		n := rt.typ.NavProp(seg)
		if n == nil {
			return errNoSegment(seg)
		}
		rt.push(segment{name: n.Name, typ: n.Type}, n.Collection)
	}
	return nil
}

func (rt *route) push(s segment, coll bool) {
	rt.segs = append(rt.segs, s)
	rt.typ, rt.coll = s.typ, coll
}

func isVersion(seg string) bool {
	_, err := graph.ParseVersion(seg)
	return err == nil
}

// endsInKey reports whether the path's last segment is a key.
func (rt *route) endsInKey() bool {
	return len(rt.segs) > 0 && rt.segs[len(rt.segs)-1].key
}

// lastKey returns the last key segment of the path, or nil.
func (rt *route) lastKey() *segment {
	for i := len(rt.segs) - 1; i >= 0; i-- {
		if rt.segs[i].key {
			return &rt.segs[i]
		}
	}
	return nil
}

// keys returns the path's keys as written, outermost first.
func (rt *route) keys() []string {
	var keys []string
	for _, s := range rt.segs {
		if s.key {
			keys = append(keys, s.name)
		}
	}
	return keys
}

// missing returns the first key that begins with "missing-": such
// entities do not exist.
func (rt *route) missing() (string, bool) {
	for _, s := range rt.segs {
		if s.key && strings.HasPrefix(strings.ToLower(s.name), "missing-") {
			return s.name, true
		}
	}
	return "", false
}

// canon is the store's key for the path: the version, the metadata's
// names, and the keys lower-cased, as Graph compares ids.
func (rt *route) canon() string { return rt.canonOf(rt.segs) }

// collectionCanon is the canon of the collection a key-ended path's
// entity belongs to.
func (rt *route) collectionCanon() string { return rt.canonOf(rt.segs[:len(rt.segs)-1]) }

func (rt *route) canonOf(segs []segment) string {
	return string(rt.v) + join(segs, func(key string) string { return url.PathEscape(strings.ToLower(key)) })
}

// path is the path relative to the version root in the metadata's
// spelling, with the keys as written, escaped.
func (rt *route) path() string { return join(rt.segs, url.PathEscape) }

// template is the path with every key replaced by {}, e.g.
// /users/{}, to compare routes and to look up service profiles.
func (rt *route) template() string {
	return join(rt.segs, func(string) string { return "{}" })
}

// join writes segs as a path, each name as it is and each key as key
// writes it.
func join(segs []segment, key func(string) string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		if s.key {
			b.WriteString(key(s.name))
		} else {
			b.WriteString(s.name)
		}
	}
	return b.String()
}

// odataPath is the path as OData writes it in messages and context URLs,
// keys in parentheses: deviceCompliancePolicies('p')/deviceStatuses('d').
// With dropLast, a final key is left out, as in a context URL.
func (rt *route) odataPath(dropLast bool) string {
	var b strings.Builder
	for i, s := range rt.segs {
		switch {
		case !s.key:
			if i > 0 {
				b.WriteByte('/')
			}
			b.WriteString(s.name)
		case dropLast && i == len(rt.segs)-1:
		default:
			b.WriteString("('" + strings.ReplaceAll(s.name, "'", "''") + "')")
		}
	}
	return b.String()
}

// parseItemURL splits a request URL relative to the version root into
// its escaped path and its decoded query.
func parseItemURL(raw string) (string, url.Values, *routeError) {
	u, err := url.Parse(raw)
	if err != nil || u.IsAbs() || u.Host != "" || u.Opaque != "" || u.User != nil {
		return "", nil, errBadURL
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", nil, errBadURL
	}
	return u.EscapedPath(), q, nil
}

// route resolves a request URL relative to the root of version v.
func (s *Server) route(v graph.Version, rawURL string) (route, *routeError) {
	m := s.models[v]
	if m == nil {
		return route{}, errNoSegment(string(v))
	}
	path, q, e := parseItemURL(rawURL)
	if e != nil {
		return route{}, e
	}
	rt, e := m.resolve(path)
	rt.query = q
	return rt, e
}
