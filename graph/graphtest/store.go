package graphtest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/graphbatch/graphbatch/graph"
)

// Entity is a snapshot of one stored entity.
type Entity struct {
	Version graph.Version `json:"version"`
	// Path is relative to the version root: the metadata's names and the
	// keys as first written, escaped as in a URL, e.g.
	// /deviceManagement/deviceCompliancePolicies/p1/deviceStatuses/a%2Fb.
	Path       string         `json:"path"`
	Type       string         `json:"type"`       // e.g. "microsoft.graph.windows10CompliancePolicy"
	Keys       []string       `json:"keys"`       // the path's keys as first written, outermost first
	Properties map[string]any `json:"properties"` // what PATCH and Put set: JSON values, numbers as json.Number
	Patches    int            `json:"patches"`    // PATCHes applied to it (Put does not count)
}

// store holds the entities written so far. Entities that were never
// written exist too ("virtual"), with default values: they are not here.
type store struct {
	entities    map[string]*entity     // by route.canon
	collections map[string]*collection // by the canon of the collection path
}

// entity is one stored entity. Its properties are kept as one JSON object
// in bytes, not as a map of values, so that a store of a million entities
// holds few pointers for the garbage collector to scan.
type entity struct {
	v       graph.Version
	path    string          // route.path when first written
	key     string          // the last key as first written; "" if the path does not end in one
	typ     *graph.DataType // the declared type, or the derived type an @odata.type set
	props   []byte          // a JSON object, members in name order; nil before the first write
	patches int
}

// collection indexes the entities of one collection path by key, for lists.
type collection struct {
	members map[string]*entity // by lower-case key
	sorted  []string           // the keys of members in order; nil after a change
}

func newStore() *store {
	return &store{entities: make(map[string]*entity), collections: make(map[string]*collection)}
}

// entity returns the stored entity at rt, creating it if create is set.
func (st *store) entity(rt *route, create bool) *entity {
	canon := rt.canon()
	e := st.entities[canon]
	if e != nil || !create {
		return e
	}
	e = &entity{v: rt.v, path: rt.path(), typ: rt.typ}
	st.entities[canon] = e
	if rt.endsInKey() {
		e.key = rt.segs[len(rt.segs)-1].name
		cc := rt.collectionCanon()
		c := st.collections[cc]
		if c == nil {
			c = &collection{members: make(map[string]*entity)}
			st.collections[cc] = c
		}
		c.members[strings.ToLower(e.key)] = e
		c.sorted = nil
	}
	return e
}

// keys returns the collection's keys (lower-case) in order.
func (c *collection) keys() []string {
	if c.sorted == nil {
		c.sorted = slices.Sorted(maps.Keys(c.members))
	}
	return c.sorted
}

// write sets props over e's properties, and e's type.
func (e *entity) write(typ *graph.DataType, props []member) {
	e.typ = typ
	e.props = merge(e.props, props)
}

// properties returns e's stored properties by name (nil for none).
func (e *entity) properties() map[string]json.RawMessage {
	if e == nil || len(e.props) == 0 {
		return nil
	}
	m := make(map[string]json.RawMessage)
	for _, mb := range scanMembers(e.props) { // the store holds only objects it wrote
		m[mb.name] = mb.value
	}
	return m
}

// member is one property of a PATCH body, its value raw JSON.
type member struct {
	name  string
	value []byte
}

// merge returns the JSON object stored with props set over it, members
// in name order.
func merge(stored []byte, props []member) []byte {
	var all []member
	if len(stored) > 0 {
		all = scanMembers(stored) // in name order: merge wrote it
	}
	all = append(all, props...)
	// Sort by name, the later of two members of one name winning.
	slices.SortStableFunc(all, func(a, b member) int { return cmp.Compare(a.name, b.name) })
	out := make([]byte, 1, 2+len(stored)+32*len(all))
	out[0] = '{'
	for i, m := range all {
		if i+1 < len(all) && all[i+1].name == m.name {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = appendString(out, m.name)
		out = append(out, ':')
		out = append(out, m.value...)
	}
	return append(out, '}')
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			b, _ := graph.Marshal(s) // a string always encodes
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// snapshot returns e as an Entity; keys are the keys of its path.
func (e *entity) snapshot(keys []string) Entity {
	props := make(map[string]any)
	if len(e.props) > 0 {
		dec := json.NewDecoder(bytes.NewReader(e.props))
		dec.UseNumber()
		_ = dec.Decode(&props)
	}
	return Entity{Version: e.v, Path: e.path, Type: e.typ.Name, Keys: keys, Properties: props, Patches: e.patches}
}

// Entity returns the stored entity at path, relative to the root of API
// version v: a path as a request URL has it, each key escaped as one
// segment (graph.Target.Path and DeviceStatusPath give such paths). Names
// and keys match case-insensitively, as Graph's do. An entity never
// written (by PATCH or Put) is not found, though Graph's GET would answer
// it with default values.
func (s *Server) Entity(v graph.Version, path string) (Entity, bool) {
	rt, e := s.route(v, path)
	if e != nil || strings.ContainsAny(path, "?#") {
		return Entity{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	stored := s.store.entity(&rt, false)
	if stored == nil {
		return Entity{}, false
	}
	return stored.snapshot(s.keysOf(stored)), true
}

// keysOf returns the keys of a stored entity's path.
func (s *Server) keysOf(e *entity) []string {
	rt, err := s.models[e.v].resolve(e.path)
	if err != nil {
		return nil // cannot happen: the path resolved when it was stored
	}
	return rt.keys()
}

// Entities returns every stored entity, ordered by version, then path
// segment by segment (keys case-insensitively).
func (s *Server) Entities() []Entity {
	s.mu.Lock()
	out := make([]Entity, 0, len(s.store.entities))
	for _, e := range s.store.entities {
		out = append(out, e.snapshot(s.keysOf(e)))
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Entity) int {
		return cmp.Or(cmp.Compare(a.Version, b.Version), slices.Compare(sortKey(a.Path), sortKey(b.Path)), cmp.Compare(a.Path, b.Path))
	})
	return out
}

// sortKey splits an escaped path into its segments, decoded and lower-cased.
func sortKey(path string) []string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if dec, err := url.PathUnescape(seg); err == nil {
			seg = dec
		}
		segs[i] = strings.ToLower(seg)
	}
	return segs
}

// Put stores props on the entity at path (as for Entity), as if Graph
// already held them: for tests that read before they write. It validates
// props as a PATCH body, except that read-only properties may be set, and
// an "@odata.type" member sets a derived type. It merges over what is
// stored and is not counted as a PATCH. It fails for a path that names no
// entity, a key beginning with "missing-", and with Options.Discard.
func (s *Server) Put(v graph.Version, path string, props map[string]any) error {
	if s.opts.Discard {
		return errors.New("graphtest: Put with Options.Discard: the emulator keeps no entities")
	}
	rt, rerr := s.route(v, path)
	switch {
	case rerr != nil:
		return fmt.Errorf("graphtest: Put %s: %s", path, rerr.msg)
	case strings.ContainsAny(path, "?#"):
		return fmt.Errorf("graphtest: Put %s: a path has no query or fragment", path)
	case rt.coll:
		return fmt.Errorf("graphtest: Put %s: the path names a collection, not an entity", path)
	}
	if key, ok := rt.missing(); ok {
		return fmt.Errorf("graphtest: Put %s: key %q begins with missing-: such entities do not exist", path, key)
	}
	body, err := json.Marshal(props)
	if err != nil {
		return fmt.Errorf("graphtest: Put %s: %w", path, err)
	}
	set, typ, msg := checkPatch(s.models[v], rt.typ, s.storedType(&rt), body, true)
	if msg != "" {
		return fmt.Errorf("graphtest: Put %s: %s", path, msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store.entity(&rt, true).write(typ, set)
	return nil
}

// DeviceStatusPath returns the path of a device's status for a compliance
// policy (the device-statuses seed resource), relative to the version
// root, each key escaped: the path Entity and Put take.
func DeviceStatusPath(policyID, id string) string {
	return "/deviceManagement/deviceCompliancePolicies/" + url.PathEscape(policyID) + "/deviceStatuses/" + url.PathEscape(id)
}

// UserStatusPath is DeviceStatusPath for a user's status (user-statuses).
func UserStatusPath(policyID, id string) string {
	return "/deviceManagement/deviceCompliancePolicies/" + url.PathEscape(policyID) + "/userStatuses/" + url.PathEscape(id)
}
