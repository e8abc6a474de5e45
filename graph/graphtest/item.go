package graphtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/graphbatch/graphbatch/graph"
)

// call is one request to serve: an item of a $batch, or a request sent
// on its own.
type call struct {
	v      graph.Version
	root   string // scheme://host the request came to, for the links of answers
	app    string // the app the bearer token names (see appOf)
	method string // upper case
	url    string // relative to the version root, with its query
	body   []byte
	ids    requestIDs
}

// versionURL is the absolute URL of the version root.
func (c *call) versionURL() string { return c.root + "/" + string(c.v) }

// metadataURL is the absolute URL of the version's $metadata.
func (c *call) metadataURL() string { return c.versionURL() + "/$metadata" }

// answer is the emulator's reply to one request, in a $batch or on its own.
type answer struct {
	status  int
	headers map[string]string
	body    json.RawMessage
}

// jsonContent are the headers of an answer with a JSON body. Shared:
// never modified.
var jsonContent = map[string]string{"Content-Type": "application/json"}

// serve answers one request. The path is resolved first, then the method
// checked; then, in order, an injected fault, the throttling limits, a
// refused route and a missing entity may answer instead.
func (s *Server) serve(c *call) answer {
	rt, e := s.route(c.v, c.url)
	if e != nil {
		return errorAnswer(e.status, c.ids, "BadRequest", e.msg)
	}
	if !allows(&rt, c.method) {
		return errorAnswer(http.StatusMethodNotAllowed, c.ids, "BadRequest", "Specified HTTP method is not allowed for the request target.")
	}
	if a, ok := s.itemFault(c.ids); ok {
		return a
	}
	if a, ok := s.admit(c, &rt); !ok {
		return a
	}
	if a, ok := s.refused(c, &rt); ok {
		return a
	}
	if key, ok := rt.missing(); ok {
		return notFound(&rt, key, c.ids)
	}
	switch {
	case c.method == http.MethodPatch:
		return s.patch(c, &rt)
	case rt.coll:
		return s.list(c, &rt)
	}
	return s.get(c, &rt)
}

// allows reports whether method is served on rt: PATCH and GET on an
// entity, GET on a collection. The emulator creates and deletes nothing.
func allows(rt *route, method string) bool {
	switch method {
	case http.MethodGet:
		return true
	case http.MethodPatch:
		return !rt.coll
	}
	return false
}

// patch applies a PATCH to the entity at rt, stored or virtual. Intune
// answers 200 with the entity; other services 204 without a body.
func (s *Server) patch(c *call, rt *route) answer {
	set, typ, msg := checkPatch(s.models[c.v], rt.typ, s.storedType(rt), c.body, false)
	if msg != "" {
		return errorAnswer(http.StatusBadRequest, c.ids, "BadRequest", msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counters.Patches++
	e := &entity{typ: rt.typ, key: rt.lastKeyName()}
	if !s.opts.Discard {
		e = s.store.entity(rt, true)
		e.patches++
	}
	e.write(typ, set)
	if !isIntune(rt) {
		return answer{status: http.StatusNoContent}
	}
	vw := view{typ: e.typ, key: e.key, hasKey: rt.endsInKey(), props: e.properties()}
	return answer{status: http.StatusOK, headers: jsonContent, body: vw.appendJSON(nil, "", nil)}
}

// storedType is the type of the entity at rt: the type a PATCH or Put
// gave it, or else the path's.
func (s *Server) storedType(rt *route) *graph.DataType {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.store.entity(rt, false); e != nil {
		return e.typ
	}
	return rt.typ
}

// lastKeyName is the last segment's key, or "" if the path does not end in one.
func (rt *route) lastKeyName() string {
	if rt.endsInKey() {
		return rt.segs[len(rt.segs)-1].name
	}
	return ""
}

// isIntune reports whether rt is served by Intune, which answers in its
// own way (200 to a PATCH, JSON nested in error messages).
func isIntune(rt *route) bool {
	return rt.segs[0].name == "deviceManagement" || rt.segs[0].name == "deviceAppManagement"
}

// notFound answers a request for an entity that does not exist, as the
// service of the path does: Intune with its JSON nested in the message,
// the directory with Request_ResourceNotFound.
func notFound(rt *route, missing string, ids requestIDs) answer {
	if !isIntune(rt) {
		return errorAnswer(http.StatusNotFound, ids, "Request_ResourceNotFound",
			fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", missing))
	}
	last := rt.lastKey()
	inner, _ := json.Marshal(map[string]any{
		"_version": 3,
		"Message": fmt.Sprintf("An error has occurred - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: %s - Url: https://fef.msua06.manage.microsoft.com/DeviceConfiguration/StatelessDeviceConfigurationFEService/%s?api-version=2024-01-01 - %s with id %s was not found",
			ids.request, rt.odataPath(false), last.typ.ShortName(), last.name),
		"CustomApiErrorPhrase": "",
		"RetryAfter":           nil,
		"ErrorSourceService":   "",
		"HttpHeaders":          "{}",
	})
	return errorAnswer(http.StatusNotFound, ids, "ResourceNotFound", string(inner))
}

// Refusal makes the emulator refuse the routes of the two seed resources
// (a device's or a user's status for one compliance policy:
// /deviceManagement/deviceCompliancePolicies/{policyId}/deviceStatuses/{id}
// and …/userStatuses/{id}) as real Intune does (issues #10 and #13): 400
// with the code "No method match route template". Lists of the statuses
// are still served.
type Refusal struct {
	StatusPatch bool // refuse PATCH on a status
	StatusGet   bool // refuse GET of a status
}

// refused answers a request on a route Options.Refuse refuses.
func (s *Server) refused(c *call, rt *route) (answer, bool) {
	r := s.opts.Refuse
	if !(c.method == http.MethodPatch && r.StatusPatch || c.method == http.MethodGet && r.StatusGet) || !isStatusRoute(rt) {
		return answer{}, false
	}
	keys := rt.keys()
	msg := fmt.Sprintf("No OData route exists that match template ~/singleton/navigation/key/navigation/key with http verb %s for request /StatelessDeviceConfigurationFEService/deviceManagement/deviceCompliancePolicies('%s')/%s('%s').",
		c.method, keys[0], rt.segs[3].name, keys[1])
	return errorAnswer(http.StatusBadRequest, c.ids, "No method match route template", msg), true
}

// isStatusRoute reports whether rt is a device's or a user's status for
// one compliance policy.
func isStatusRoute(rt *route) bool {
	t := rt.template()
	return t == "/deviceManagement/deviceCompliancePolicies/{}/deviceStatuses/{}" ||
		t == "/deviceManagement/deviceCompliancePolicies/{}/userStatuses/{}"
}

// segmentNotFound is Graph's message for a path it has nothing at.
func segmentNotFound(segment string) string {
	return "Resource not found for the segment '" + segment + "'."
}

// hasContentType reports whether an item's headers carry a Content-Type.
func hasContentType(h map[string]string) bool {
	for k, v := range h {
		if strings.EqualFold(k, "Content-Type") && v != "" {
			return true
		}
	}
	return false
}
