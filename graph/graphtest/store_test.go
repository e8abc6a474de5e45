package graphtest_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// deviceStatusJSON is what GET answers (without @odata.context) for a
// device status with id in version v: props over the default values.
func deviceStatusJSON(v graph.Version, id string, props map[string]any) map[string]any {
	m := map[string]any{
		"@odata.type": "#microsoft.graph.deviceComplianceDeviceStatus", "id": id,
		"complianceGracePeriodExpirationDateTime": "0001-01-01T00:00:00Z", "lastReportedDateTime": "0001-01-01T00:00:00Z",
		"status": "unknown", "deviceDisplayName": nil, "deviceModel": nil, "userName": nil, "userPrincipalName": nil,
	}
	if v == graph.Beta {
		m["platform"] = json.Number("0")
	}
	maps.Copy(m, props)
	return m
}

// userStatusJSON is deviceStatusJSON for a user status.
func userStatusJSON(id string, props map[string]any) map[string]any {
	m := map[string]any{
		"@odata.type": "#microsoft.graph.deviceComplianceUserStatus", "id": id,
		"devicesCount": json.Number("0"), "lastReportedDateTime": "0001-01-01T00:00:00Z", "status": "unknown",
		"userDisplayName": nil, "userPrincipalName": nil,
	}
	maps.Copy(m, props)
	return m
}

// withoutContext returns m without its @odata.context, which it must have.
func withoutContext(t *testing.T, what string, m map[string]any) map[string]any {
	t.Helper()
	if ctx, _ := m["@odata.context"].(string); !strings.Contains(ctx, "/$metadata#") {
		t.Errorf("%s: @odata.context = %q, want a URL of $metadata", what, ctx)
	}
	delete(m, "@odata.context")
	return m
}

// TestStore checks that PATCHes merge, that the store counts them per
// entity, and that GET answers the entity, in a $batch and directly.
func TestStore(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	h := emu.Handler()
	path := deviceStatus("pol 1", "dev/1")

	steps := []struct {
		body string
		want map[string]any // the entity's stored properties after the PATCH
	}{
		{`{"status":"compliant","deviceDisplayName":"Laptop"}`,
			map[string]any{"status": "compliant", "deviceDisplayName": "Laptop"}},
		{`{"deviceModel":"X1","status":"nonCompliant"}`,
			map[string]any{"status": "nonCompliant", "deviceDisplayName": "Laptop", "deviceModel": "X1"}},
		{`{"deviceDisplayName":null,"platform":7}`,
			map[string]any{"status": "nonCompliant", "deviceDisplayName": nil, "deviceModel": "X1", "platform": json.Number("7")}},
	}
	for i, st := range steps {
		r := postOne(t, h, graph.Beta, patchItem("1", path, st.body))
		if r.Status != http.StatusOK {
			t.Fatalf("PATCH %s %s = %d, want %d; body %s", path, st.body, r.Status, http.StatusOK, r.Body)
		}
		want := deviceStatusJSON(graph.Beta, "dev/1", st.want)
		if got := decodeObject(t, "PATCH answer", r.Body); !reflect.DeepEqual(got, want) {
			t.Errorf("PATCH %s %s answered %v, want %v", path, st.body, got, want)
		}
		e, ok := emu.Entity(graph.Beta, path)
		if !ok {
			t.Fatalf("Entity(beta, %q) found nothing after PATCH", path)
		}
		wantEntity := graphtest.Entity{Version: graph.Beta, Path: path, Type: "microsoft.graph.deviceComplianceDeviceStatus",
			Keys: []string{"pol 1", "dev/1"}, Properties: st.want, Patches: i + 1}
		if !reflect.DeepEqual(e, wantEntity) {
			t.Errorf("after PATCH %d, Entity = %+v, want %+v", i+1, e, wantEntity)
		}
	}
	wantJSON := deviceStatusJSON(graph.Beta, "dev/1", steps[len(steps)-1].want)

	r := postOne(t, h, graph.Beta, getItem("g", path))
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s in $batch = %d, want %d; body %s", path, r.Status, http.StatusOK, r.Body)
	}
	if got := withoutContext(t, "GET", decodeObject(t, "GET answer", r.Body)); !reflect.DeepEqual(got, wantJSON) {
		t.Errorf("GET %s in $batch answered %v, want %v", path, got, wantJSON)
	}

	w := send(t, h, http.MethodGet, "/beta"+path, nil, "")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /beta%s = %d, want %d; body %s", path, w.Code, http.StatusOK, w.Body)
	}
	if got := w.Header().Get("Content-Type"); got != jsonType {
		t.Errorf("GET /beta%s: Content-Type = %q, want %q", path, got, jsonType)
	}
	if got := withoutContext(t, "GET", decodeObject(t, "GET answer", w.Body.Bytes())); !reflect.DeepEqual(got, wantJSON) {
		t.Errorf("GET /beta%s answered %v, want %v", path, got, wantJSON)
	}
	if e, _ := emu.Entity(graph.Beta, path); e.Patches != len(steps) {
		t.Errorf("after GETs, Patches = %d, want %d", e.Patches, len(steps))
	}
	if _, ok := emu.Entity(graph.V1, path); ok {
		t.Errorf("Entity(v1.0, %q) found an entity written on beta", path)
	}
}

// TestEntityLookup checks how Entity matches paths: names and keys
// case-insensitively, keys escaped, and the keys as first written kept.
func TestEntityLookup(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	postOne(t, emu.Handler(), graph.V1, patchItem("1", "/Users/Ann%2FB", `{"city":"Oslo"}`))
	for _, path := range []string{"/users/Ann%2FB", "/USERS/ann%2fb", "/users/ANN%2FB/"} {
		e, ok := emu.Entity(graph.V1, path)
		if !ok {
			t.Errorf("Entity(v1.0, %q) found nothing", path)
			continue
		}
		if e.Path != "/users/Ann%2FB" || !slices.Equal(e.Keys, []string{"Ann/B"}) || e.Type != "microsoft.graph.user" {
			t.Errorf("Entity(v1.0, %q) = path %q, keys %q, type %q; want /users/Ann%%2FB, [Ann/B], microsoft.graph.user", path, e.Path, e.Keys, e.Type)
		}
	}
	for _, path := range []string{"/users/Ann/B", "/users/other", "/users", "/nothing/x", "users/Ann%2FB?x"} {
		if e, ok := emu.Entity(graph.V1, path); ok {
			t.Errorf("Entity(v1.0, %q) = %+v, want nothing", path, e)
		}
	}
}

// TestVirtualEntities checks that an entity never written answers GET
// with its key and default values, and that a PATCH stores over those.
func TestVirtualEntities(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	h := emu.Handler()
	tests := []struct {
		v    graph.Version
		path string
		want map[string]any // some members of the answer
	}{
		{graph.V1, deviceStatus("p", "never"), deviceStatusJSON(graph.V1, "never", nil)},
		{graph.Beta, deviceStatus("p", "never"), deviceStatusJSON(graph.Beta, "never", nil)},
		{graph.V1, userStatus("p", "never"), userStatusJSON("never", nil)},
		{graph.V1, "/users/u1", map[string]any{
			"@odata.type": "#microsoft.graph.user", "id": "u1", "displayName": nil, "accountEnabled": nil,
			"businessPhones": []any{}, "identities": []any{}, "deviceEnrollmentLimit": json.Number("0"),
			"birthday": "0001-01-01T00:00:00Z", "passwordProfile": nil,
		}},
		{graph.V1, "/deviceManagement/managedDevices/m1", map[string]any{
			"@odata.type": "#microsoft.graph.managedDevice", "id": "m1", "managedDeviceOwnerType": "unknown",
			"isEncrypted": false, "freeStorageSpaceInBytes": json.Number("0"), "deviceName": nil,
		}},
		{graph.V1, "/deviceManagement", map[string]any{
			"@odata.type": "#microsoft.graph.deviceManagement", "id": "", "intuneAccountId": "00000000-0000-0000-0000-000000000000",
		}},
	}
	for _, tt := range tests {
		r := postOne(t, h, tt.v, getItem("1", tt.path))
		if r.Status != http.StatusOK {
			t.Errorf("GET %s on %s = %d, want 200; body %s", tt.path, tt.v, r.Status, r.Body)
			continue
		}
		got := decodeObject(t, "GET "+tt.path, r.Body)
		for k, want := range tt.want {
			if !reflect.DeepEqual(got[k], want) {
				t.Errorf("GET %s on %s: %s = %#v, want %#v", tt.path, tt.v, k, got[k], want)
			}
		}
		if strings.HasPrefix(tt.path, "/deviceManagement/deviceCompliancePolicies") {
			if got := withoutContext(t, "GET", got); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("GET %s on %s = %v, want %v", tt.path, tt.v, got, tt.want)
			}
		}
	}
	if got := emu.Entities(); len(got) != 0 {
		t.Errorf("GETs stored %v, want nothing", got)
	}

	// A PATCH of a virtual entity stores what it sets over the defaults.
	postOne(t, h, graph.V1, patchItem("1", "/users/u1", `{"displayName":"Ann","businessPhones":["+47 1"]}`))
	got := decodeObject(t, "GET", postOne(t, h, graph.V1, getItem("1", "/users/u1")).Body)
	if got["displayName"] != "Ann" || !reflect.DeepEqual(got["businessPhones"], []any{"+47 1"}) || got["city"] != nil {
		t.Errorf("GET /users/u1 after PATCH = %v, want displayName Ann, businessPhones [+47 1], city null", got)
	}
}

// TestPut checks that Put preloads entities without counting PATCHes,
// validates them, and may set read-only properties and derived types.
func TestPut(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	const policy = "/deviceManagement/deviceCompliancePolicies/pol1"
	puts := []struct {
		v     graph.Version
		path  string
		props map[string]any
		ok    bool
	}{
		{graph.V1, deviceStatus("p", "d"), map[string]any{"status": "compliant", "userName": "ann"}, true},
		{graph.V1, "/deviceManagement/managedDevices/m1", map[string]any{"deviceName": "read-only, but Graph has it"}, true},
		{graph.V1, policy, map[string]any{"@odata.type": "#microsoft.graph.windows10CompliancePolicy", "passwordRequired": true}, true},
		{graph.V1, deviceStatus("p", "d"), map[string]any{"status": "Compliant"}, false},
		{graph.V1, deviceStatus("p", "d"), map[string]any{"colour": "red"}, false},
		{graph.V1, deviceStatus("p", "missing-d"), map[string]any{"status": "compliant"}, false},
		{graph.V1, "/users", map[string]any{"city": "Oslo"}, false},
		{graph.V1, "/nothing/x", map[string]any{"city": "Oslo"}, false},
		{"v2.0", "/users/u", map[string]any{"city": "Oslo"}, false},
	}
	for _, p := range puts {
		if err := emu.Put(p.v, p.path, p.props); (err == nil) != p.ok {
			t.Errorf("Put(%s, %s, %v) = %v, want ok %v", p.v, p.path, p.props, err, p.ok)
		}
	}
	e, ok := emu.Entity(graph.V1, deviceStatus("p", "d"))
	if want := map[string]any{"status": "compliant", "userName": "ann"}; !ok || e.Patches != 0 || !reflect.DeepEqual(e.Properties, want) {
		t.Errorf("after Put, Entity = %+v, %v; want properties %v and 0 patches", e, ok, want)
	}
	if e, _ := emu.Entity(graph.V1, policy); e.Type != "microsoft.graph.windows10CompliancePolicy" {
		t.Errorf("after Put with @odata.type, Type = %q, want microsoft.graph.windows10CompliancePolicy", e.Type)
	}
	if c := emu.Counters(); c.Patches != 0 || c.Items != 0 {
		t.Errorf("Put counted %+v, want nothing", c)
	}
	got := decodeObject(t, "GET", postOne(t, emu.Handler(), graph.V1, getItem("1", policy+"?$select=passwordRequired")).Body)
	if got["@odata.type"] != "#microsoft.graph.windows10CompliancePolicy" || got["passwordRequired"] != true {
		t.Errorf("GET %s?$select=passwordRequired = %v, want the derived type and passwordRequired true", policy, got)
	}
	if err := graphtest.New(graphtest.Options{Discard: true}).Put(graph.V1, "/users/u", map[string]any{"city": "x"}); err == nil {
		t.Errorf("Put with Options.Discard = nil, want an error")
	}
}

// TestMissingKeys checks that a key beginning with "missing-" anywhere in
// the path answers 404 as the path's service does: Intune with its JSON
// inside error.message (which graph.ParseError unwraps to readable text),
// the directory with Request_ResourceNotFound.
func TestMissingKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		path   string
		code   string
		want   string // the end of the readable message
	}{
		{"missing policy PATCH", http.MethodPatch, deviceStatus("missing-policy", "d"), "ResourceNotFound", "deviceComplianceDeviceStatus with id d was not found"},
		{"missing device PATCH", http.MethodPatch, deviceStatus("p", "missing-device"), "ResourceNotFound", "deviceComplianceDeviceStatus with id missing-device was not found"},
		{"missing user PATCH", http.MethodPatch, userStatus("p", "missing-user"), "ResourceNotFound", "deviceComplianceUserStatus with id missing-user was not found"},
		{"missing both GET", http.MethodGet, userStatus("missing-p", "missing-u"), "ResourceNotFound", "deviceComplianceUserStatus with id missing-u was not found"},
		{"missing device GET", http.MethodGet, deviceStatus("p", "missing-d"), "ResourceNotFound", "deviceComplianceDeviceStatus with id missing-d was not found"},
		{"list under a missing policy", http.MethodGet, "/deviceManagement/deviceCompliancePolicies/missing-p/deviceStatuses", "ResourceNotFound", "deviceCompliancePolicy with id missing-p was not found"},
		{"missing managed device", http.MethodGet, "/deviceManagement/managedDevices/MISSING-1", "ResourceNotFound", "managedDevice with id MISSING-1 was not found"},
		{"missing user", http.MethodPatch, "/users/missing-ann", "Request_ResourceNotFound", "Resource 'missing-ann' does not exist or one of its queried reference-property objects are not present."},
		{"missing group of a user", http.MethodGet, "/users/u/memberOf/missing-g", "Request_ResourceNotFound", "Resource 'missing-g' does not exist"},
		{"missing not at the start", http.MethodPatch, deviceStatus("not-missing-p", "d-missing-"), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := graphtest.New(graphtest.Options{})
			req := getItem("1", tt.path)
			if tt.method == http.MethodPatch {
				req = patchItem("1", tt.path, `{"status":"compliant"}`)
				if strings.HasPrefix(tt.path, "/users") {
					req.Body = json.RawMessage(`{"city":"Oslo"}`)
				}
			}
			r := postOne(t, emu.Handler(), graph.Beta, req)
			if tt.code == "" {
				if r.Status != http.StatusOK {
					t.Errorf("%s %s in $batch = %d, want 200; body %s", req.Method, req.URL, r.Status, r.Body)
				}
				return
			}
			r = postOne(t, emu.Handler(), graph.V1, req)
			if r.Status != http.StatusNotFound {
				t.Fatalf("%s %s in $batch = %d, want %d; body %s", req.Method, req.URL, r.Status, http.StatusNotFound, r.Body)
			}
			if got := emu.Entities(); len(got) != 0 {
				t.Errorf("%s %s = 404 but stored %v", req.Method, req.URL, got)
			}
			e := checkError(t, req.Method+" "+req.URL, r.Body, tt.code, "", "")
			pe := r.Err()
			if pe == nil || pe.Status != http.StatusNotFound || pe.Code != tt.code || !strings.Contains(pe.Message, tt.want) || strings.ContainsAny(pe.Message, "{}") {
				t.Errorf("Response.Err() = %+v, want 404 %s with a readable message containing %q", pe, tt.code, tt.want)
			}
			if tt.code == "ResourceNotFound" {
				var intune struct{ Message string }
				if err := json.Unmarshal([]byte(e.Error.Message), &intune); err != nil || !strings.HasPrefix(intune.Message, "An error has occurred") {
					t.Errorf("error.message = %q, want Intune's JSON with a Message member", e.Error.Message)
				}
			}
		})
	}
}

// TestEscapedKeys checks that keys escaped as single segments reach the
// store exactly as decoded, however hostile.
func TestEscapedKeys(t *testing.T) {
	t.Parallel()
	keys := []string{"a/b", "../x", "%2e%2e", "?x=1", "#frag", "a b", "a+b", "%", "..%2F", "x/../../y", "é/ü", `a\b`, "a;b", "a:b", "@", "'quoted'"}
	emu := graphtest.New(graphtest.Options{})
	h := emu.Handler()
	var want []graphtest.Entity
	for _, key := range keys {
		// The key as policy id, then as entity id, each with its own value.
		for _, k := range [][2]string{{key, "plain"}, {"plain", key}} {
			name := "name of " + k[0] + " " + k[1]
			body, _ := json.Marshal(map[string]string{"deviceDisplayName": name})
			path := deviceStatus(k[0], k[1])
			r := postOne(t, h, graph.V1, patchItem("1", path, string(body)))
			if r.Status != http.StatusOK {
				t.Errorf("PATCH %s (key %q) = %d, want %d; body %s", path, key, r.Status, http.StatusOK, r.Body)
				continue
			}
			got, ok := emu.Entity(graph.V1, path)
			if !ok {
				t.Errorf("PATCH %s = 200, but Entity(v1.0, %q) found nothing; stored %v", path, path, emu.Entities())
				continue
			}
			if got.Properties["deviceDisplayName"] != name || !slices.Equal(got.Keys, k[:]) {
				t.Errorf("Entity(v1.0, %q) = %+v, want deviceDisplayName %q and keys %q", path, got, name, k)
			}
			want = append(want, graphtest.Entity{Version: graph.V1, Path: path, Type: "microsoft.graph.deviceComplianceDeviceStatus",
				Keys: []string{k[0], k[1]}, Properties: map[string]any{"deviceDisplayName": name}, Patches: 1})

			// GET answers the exact key as id.
			g := postOne(t, h, graph.V1, getItem("g", path))
			if g.Status != http.StatusOK {
				t.Errorf("GET %s = %d, want %d; body %s", path, g.Status, http.StatusOK, g.Body)
				continue
			}
			if id := decodeObject(t, "GET "+path, g.Body)["id"]; id != k[1] {
				t.Errorf("GET %s: id = %q, want %q", path, id, k[1])
			}
		}
	}
	got := emu.Entities()
	if len(got) != len(want) {
		t.Fatalf("len(Entities()) = %d, want %d", len(got), len(want))
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(e graphtest.Entity) bool { return reflect.DeepEqual(e, w) }) {
			t.Errorf("Entities() lacks %+v", w)
		}
	}
}

// TestEntitiesSorted checks that Entities orders by version, then path
// segment by segment, keys case-insensitively.
func TestEntitiesSorted(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	sent := []struct {
		v    graph.Version
		path string
	}{
		{graph.V1, userStatus("b", "2")},
		{graph.V1, deviceStatus("b", "1")},
		{graph.Beta, deviceStatus("a", "1")},
		{graph.V1, userStatus("a", "9")},
		{graph.V1, deviceStatus("a", "2")},
		{graph.V1, deviceStatus("B-", "0")},
		{graph.V1, deviceStatus("a", "10")},
		{graph.V1, deviceStatus("a", "Z")},
		{graph.V1, userStatus("a", "1")},
	}
	for i, s := range sent {
		r := postOne(t, emu.Handler(), s.v, patchItem(string(rune('a'+i)), s.path, `{"status":"compliant"}`))
		if r.Status != http.StatusOK {
			t.Fatalf("PATCH %s = %d, want 200; body %s", s.path, r.Status, r.Body)
		}
	}
	want := []string{
		"beta" + deviceStatus("a", "1"),
		"v1.0" + deviceStatus("a", "10"),
		"v1.0" + deviceStatus("a", "2"),
		"v1.0" + deviceStatus("a", "Z"),
		"v1.0" + userStatus("a", "1"),
		"v1.0" + userStatus("a", "9"),
		"v1.0" + deviceStatus("b", "1"),
		"v1.0" + userStatus("b", "2"),
		"v1.0" + deviceStatus("B-", "0"),
	}
	var got []string
	for _, e := range emu.Entities() {
		got = append(got, string(e.Version)+e.Path)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Entities() paths =\n%q\nwant\n%q", got, want)
	}
}
