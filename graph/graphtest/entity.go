package graphtest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/graphbatch/graphbatch/graph"
)

// Entity is a snapshot of one stored entity.
type Entity struct {
	Resource   string         `json:"resource"` // the graph.Resource name, e.g. "device-statuses"
	PolicyID   string         `json:"policyId"`
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties"` // JSON values; numbers are json.Number
	Patches    int            `json:"patches"`    // PATCHes applied to it
}

type entityKey struct{ resource, policyID, id string }

// entity is one stored entity. Its properties are kept as one JSON object
// in bytes, not as a map of values, so that a store of a million entities
// holds few pointers for the garbage collector to scan.
type entity struct {
	props   []byte // a JSON object, members in name order; nil before the first PATCH
	patches int
}

// Entity returns the stored entity of resource (a graph.Resource name) with
// the given keys, exactly as sent.
func (s *Server) Entity(resource, policyID, id string) (Entity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.store[entityKey{resource, policyID, id}]
	if !ok {
		return Entity{}, false
	}
	return snapshot(entityKey{resource, policyID, id}, e), true
}

// Entities returns every stored entity, ordered by resource and keys.
func (s *Server) Entities() []Entity {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entity, 0, len(s.store))
	for k, e := range s.store {
		out = append(out, snapshot(k, e))
	}
	slices.SortFunc(out, func(a, b Entity) int {
		return cmp.Or(cmp.Compare(a.Resource, b.Resource), cmp.Compare(a.PolicyID, b.PolicyID), cmp.Compare(a.ID, b.ID))
	})
	return out
}

func snapshot(k entityKey, e *entity) Entity {
	props := make(map[string]any)
	if len(e.props) > 0 {
		dec := json.NewDecoder(bytes.NewReader(e.props))
		dec.UseNumber()
		_ = dec.Decode(&props)
	}
	return Entity{Resource: k.resource, PolicyID: k.policyID, ID: k.id, Properties: props, Patches: e.patches}
}

// answer is the emulator's reply to one request, in a $batch or on its own.
type answer struct {
	status  int
	headers map[string]string
	body    json.RawMessage
}

// target is what a request URL names.
type target struct {
	resource *graph.Resource
	key      entityKey
}

// apply serves one PATCH or GET on an entity for app. rawURL is relative
// to the version, as in a $batch item. A PATCH may meet an injected fault
// or the write limits before it is looked at.
func (s *Server) apply(v graph.Version, app, method, rawURL string, body json.RawMessage, ids requestIDs) answer {
	t, a, ok := route(rawURL, ids)
	if !ok {
		return a
	}
	if method == http.MethodPatch {
		if a, ok := s.itemFault(ids); ok {
			return a
		}
		if a, ok := s.admit(app, t.key, ids); !ok {
			return a
		}
	}
	if strings.HasPrefix(t.key.policyID, "missing-") || strings.HasPrefix(t.key.id, "missing-") {
		return notFound(t, ids)
	}
	switch method {
	case http.MethodPatch:
		props, msg := s.checkBody(t.resource, v, body)
		if msg != "" {
			return errorAnswer(http.StatusBadRequest, ids, "BadRequest", msg)
		}
		return s.patch(t, props)
	case http.MethodGet:
		return s.get(t, ids)
	}
	return errorAnswer(http.StatusMethodNotAllowed, ids, "BadRequest", "Specified HTTP method is not allowed for the request target.")
}

// admit applies the write limits to one PATCH of app on key.
func (s *Server) admit(app string, key entityKey, ids requestIDs) (answer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	retryAfter, ok, early := s.throttle.admit(app, key, time.Now())
	if early {
		s.counters.EarlyRetries++
	}
	if ok {
		return answer{}, true
	}
	s.counters.Throttled++
	return throttledAnswer(retryAfter, ids), false
}

func (s *Server) patch(t target, props []member) answer {
	if s.opts.Discard {
		s.mu.Lock()
		s.counters.Patches++
		s.mu.Unlock()
		return answer{status: http.StatusOK, headers: jsonContent, body: entityJSON(t, &entity{props: merge(nil, props)})}
	}
	s.mu.Lock()
	e := s.store[t.key]
	if e == nil {
		e = new(entity)
		s.store[t.key] = e
	}
	e.props = merge(e.props, props)
	e.patches++
	s.counters.Patches++
	out := entityJSON(t, e)
	s.mu.Unlock()
	return answer{status: http.StatusOK, headers: jsonContent, body: out}
}

// jsonContent are the headers of an item answer with a JSON body. Shared:
// never modified.
var jsonContent = map[string]string{"Content-Type": "application/json"}

// member is one property of a PATCH body, its value raw JSON.
type member struct {
	name  string
	value []byte
}

// members returns the members of a stored JSON object.
func members(object []byte) []member {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(object, &m) // the store holds only objects it wrote
	return sortedMembers(m)
}

// sortedMembers returns the members of m in name order.
func sortedMembers(m map[string]json.RawMessage) []member {
	out := make([]member, 0, len(m))
	for name, value := range m {
		out = append(out, member{name, value})
	}
	slices.SortFunc(out, func(a, b member) int { return cmp.Compare(a.name, b.name) })
	return out
}

// merge returns the JSON object stored with props set over it.
func merge(stored []byte, props []member) []byte {
	all := props
	if len(stored) > 0 {
		all = nil
		all = append(members(stored), props...)
	}
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
		out = graph.AppendJSONString(out, m.name)
		out = append(out, ':')
		out = append(out, m.value...)
	}
	return append(out, '}')
}

func (s *Server) get(t target, ids requestIDs) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.store[t.key]
	if e == nil {
		return notFound(t, ids)
	}
	return answer{status: http.StatusOK, headers: jsonContent, body: entityJSON(t, e)}
}

// entityJSON is the entity as Graph returns it: its type, id and properties.
func entityJSON(t target, e *entity) json.RawMessage {
	out := make([]byte, 0, 64+len(t.resource.Entity)+len(t.key.id)+len(e.props))
	out = append(out, `{"@odata.type":"#microsoft.graph.`...)
	out = append(out, t.resource.Entity...)
	out = append(out, `","id":`...)
	out = graph.AppendJSONString(out, t.key.id)
	if len(e.props) > 2 {
		out = append(out, ',')
		out = append(out, e.props[1:len(e.props)-1]...)
	}
	return append(out, '}')
}

// parents holds the path segments of each resource's parent collection, in
// the order of graph.Resources, split once rather than for every item.
var parents = func() [][]string {
	out := make([][]string, len(graph.Resources))
	for i, r := range graph.Resources {
		out[i] = strings.Split(strings.TrimPrefix(r.Parent, "/"), "/")
	}
	return out
}()

// route finds the entity rawURL names. Keys are single path segments,
// percent-decoded one by one, so an escaped "/" stays inside its key.
func route(rawURL string, ids requestIDs) (target, answer, bool) {
	u, err := url.Parse(rawURL)
	if err != nil || u.IsAbs() || u.Host != "" {
		return target{}, errorAnswer(http.StatusBadRequest, ids, "BadRequest", "Invalid request URL."), false
	}
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	for i, seg := range segs {
		if segs[i], err = url.PathUnescape(seg); err != nil {
			return target{}, errorAnswer(http.StatusBadRequest, ids, "BadRequest", "Invalid request URL."), false
		}
	}
	if len(segs) > 0 && (segs[0] == string(graph.V1) || segs[0] == string(graph.Beta)) {
		return target{}, errorAnswer(http.StatusBadRequest, ids, "BadRequest", segmentNotFound(segs[0])), false
	}
	for i, r := range graph.Resources {
		parent := parents[i]
		if len(segs) != len(parent)+3 || !slices.Equal(segs[:len(parent)], parent) || segs[len(parent)+1] != r.Collection {
			continue
		}
		policyID, id := segs[len(parent)], segs[len(parent)+2]
		if policyID == "" || id == "" || policyID == "." || policyID == ".." || id == "." || id == ".." {
			break
		}
		return target{resource: r, key: entityKey{r.Name, policyID, id}}, answer{}, true
	}
	return target{}, errorAnswer(http.StatusNotFound, ids, "BadRequest", segmentNotFound(lastSegment(segs))), false
}

func lastSegment(segs []string) string {
	if len(segs) == 0 {
		return ""
	}
	return segs[len(segs)-1]
}

// notFound answers as Intune does, with its JSON nested inside the message.
func notFound(t target, ids requestIDs) answer {
	inner, _ := json.Marshal(map[string]any{
		"_version": 3,
		"Message": fmt.Sprintf("An error has occurred - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: %s - Url: https://fef.msua06.manage.microsoft.com/DeviceConfiguration/StatelessDeviceConfigurationFEService/deviceManagement/deviceCompliancePolicies('%s')/%s('%s')?api-version=2024-01-01 - %s with id %s was not found",
			ids.request, t.key.policyID, t.resource.Collection, t.key.id, t.resource.Entity, t.key.id),
		"CustomApiErrorPhrase": "",
		"RetryAfter":           nil,
		"ErrorSourceService":   "",
		"HttpHeaders":          "{}",
	})
	return errorAnswer(http.StatusNotFound, ids, "ResourceNotFound", string(inner))
}

// dateTimeOffset is the pattern Graph's metadata gives for Edm.DateTimeOffset.
var dateTimeOffset = regexp.MustCompile(`^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,12})?(Z|[+-][0-9][0-9]:[0-9][0-9])$`)

// checkBody validates a PATCH body against r's schema in version v, as
// Graph's OData layer does, and returns the properties it sets or Graph's
// message for the first problem.
func (s *Server) checkBody(r *graph.Resource, v graph.Version, body json.RawMessage) ([]member, string) {
	props := s.properties[schemaKey{r.Name, v}]
	var (
		set     []member
		problem string
	)
	var object map[string]json.RawMessage
	err := json.Unmarshal(body, &object)
	for _, m := range sortedMembers(object) {
		name, raw := m.name, m.value
		if problem != "" {
			break
		}
		switch p, ok := props[name]; {
		case name == "@odata.type":
			if string(raw) != `"#microsoft.graph.`+r.Entity+`"` {
				problem = fmt.Sprintf("A type named '%s' could not be resolved by the model.", raw)
			}
		case !ok:
			problem = fmt.Sprintf("The property '%s' does not exist on type 'microsoft.graph.%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", name, r.Entity)
		default:
			problem = checkValue(p, raw)
			set = append(set, member{name, raw})
		}
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); err != nil || len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, "Invalid request body: the body must be a JSON object."
	}
	if problem != "" {
		return nil, problem
	}
	return set, ""
}

// schemaKey names a resource in one API version.
type schemaKey struct {
	resource string
	version  graph.Version
}

// propertyTables indexes every resource's properties by name, per version.
func propertyTables() map[schemaKey]map[string]graph.Property {
	t := make(map[schemaKey]map[string]graph.Property)
	for _, r := range graph.Resources {
		for _, v := range graph.Versions {
			props := make(map[string]graph.Property)
			for _, p := range r.PropertiesOf(v) {
				props[p.Name] = p
			}
			t[schemaKey{r.Name, v}] = props
		}
	}
	return t
}

// checkValue returns Graph's message if raw is not a JSON value of p's type.
func checkValue(p graph.Property, raw json.RawMessage) string {
	t := p.Type
	if string(raw) == "null" {
		if t == graph.String {
			return ""
		}
		return fmt.Sprintf("A null value was found for the property named '%s', which has the expected type '%s[Nullable=False]'. The expected type '%s[Nullable=False]' does not allow null values.", p.Name, t.Name, t.Name)
	}
	if t == graph.Int32 {
		if _, err := strconv.ParseInt(string(raw), 10, 32); err != nil {
			return fmt.Sprintf("Cannot convert the literal '%s' to the expected type 'Edm.Int32'.", raw)
		}
		return ""
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return fmt.Sprintf("Cannot convert a primitive value to the expected type '%s'.", t.Name)
	}
	switch {
	case t == graph.DateTimeOffset:
		if !dateTimeOffset.MatchString(s) || !representable(s) {
			return fmt.Sprintf("Cannot convert the literal '%s' to the expected type 'Edm.DateTimeOffset'.", s)
		}
	case t.Members != nil:
		if !slices.Contains(t.Members, s) {
			return fmt.Sprintf("Requested value '%s' was not found.", s)
		}
	}
	return ""
}

// representable reports whether a DateTimeOffset that matches the
// metadata pattern is one .NET can hold: a real calendar day from year
// 0001 (the pattern allows 2023-02-30 and 0000), and an offset within
// ±14:00 with minutes under 60 (the pattern allows +15:00 and +01:60).
func representable(s string) bool {
	day, err := time.Parse("2006-01-02", s[:strings.IndexByte(s, 'T')])
	if err != nil || day.Year() < 1 {
		return false
	}
	if strings.HasSuffix(s, "Z") {
		return true
	}
	zone := s[len(s)-6:]
	h, _ := strconv.Atoi(zone[1:3])
	m, _ := strconv.Atoi(zone[4:6])
	return m < 60 && (h < 14 || h == 14 && m == 0)
}
