package graphtest_test

import (
	"cmp"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// TestPatchSchema checks PATCH bodies against each resource's schema in
// each API version, with Graph's messages.
func TestPatchSchema(t *testing.T) {
	t.Parallel()
	const (
		noPlatformDevice = "The property 'platform' does not exist on type 'microsoft.graph.deviceComplianceDeviceStatus'."
		noPlatformUser   = "The property 'platform' does not exist on type 'microsoft.graph.deviceComplianceUserStatus'."
	)
	notDate := func(s string) string {
		return "Cannot convert the literal '" + s + "' to the expected type 'Edm.DateTimeOffset'."
	}
	notInt := func(s string) string {
		return "Cannot convert the literal '" + s + "' to the expected type 'Edm.Int32'."
	}
	nullFor := func(name string) string {
		return "A null value was found for the property named '" + name + "'"
	}
	tests := []struct {
		name     string
		version  graph.Version
		resource *graph.Resource
		body     string
		msg      string // "" if the PATCH is accepted; else a part of error.message
	}{
		{"platform on beta device", graph.Beta, deviceStatuses, `{"platform":3}`, ""},
		{"platform on v1.0 device", graph.V1, deviceStatuses, `{"platform":3}`, noPlatformDevice},
		{"platform on beta user", graph.Beta, userStatuses, `{"platform":3}`, noPlatformUser},
		{"platform on v1.0 user", graph.V1, userStatuses, `{"platform":3}`, noPlatformUser},

		{"enum compliant", graph.V1, deviceStatuses, `{"status":"compliant"}`, ""},
		{"enum nonCompliant", graph.Beta, userStatuses, `{"status":"nonCompliant"}`, ""},
		{"enum notAssigned", graph.V1, userStatuses, `{"status":"notAssigned"}`, ""},
		{"enum Compliant", graph.V1, deviceStatuses, `{"status":"Compliant"}`, "Requested value 'Compliant' was not found."},
		{"enum NONCOMPLIANT", graph.Beta, userStatuses, `{"status":"NONCOMPLIANT"}`, "Requested value 'NONCOMPLIANT' was not found."},
		{"enum not a member", graph.V1, deviceStatuses, `{"status":"green"}`, "Requested value 'green' was not found."},
		{"enum as number", graph.V1, deviceStatuses, `{"status":2}`, "Cannot convert"},

		{"date Z", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-01-31T09:30:00Z"}`, ""},
		{"date offset", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-01-31T09:30:00+01:00"}`, ""},
		{"date negative offset", graph.Beta, userStatuses, `{"lastReportedDateTime":"2024-01-31T09:30:00-05:30"}`, ""},
		{"date offset +14:00", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-01-31T09:30:00+14:00"}`, ""},
		{"date offset -14:00", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-01-31T09:30:00-14:00"}`, ""},
		// .NET's DateTimeOffset, which Graph parses into, takes offsets of
		// at most 14 hours, minutes below 60 and years from 0001.
		{"date offset +15:00", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-01-31T09:30:00+15:00"}`, notDate("2024-01-31T09:30:00+15:00")},
		{"date offset minutes 60", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-01-31T09:30:00+01:60"}`, notDate("2024-01-31T09:30:00+01:60")},
		{"date year 0000", graph.V1, deviceStatuses, `{"lastReportedDateTime":"0000-01-01T00:00:00Z"}`, notDate("0000-01-01T00:00:00Z")},
		{"date 7 fraction digits", graph.V1, deviceStatuses, `{"complianceGracePeriodExpirationDateTime":"2024-01-31T09:30:00.1234567Z"}`, ""},
		{"date 12 fraction digits", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-01-31T09:30:00.123456789012Z"}`, ""},
		{"date 13 fraction digits", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-01-31T09:30:00.1234567890123Z"}`, notDate("2024-01-31T09:30:00.1234567890123Z")},
		{"date 29 February in leap year", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-02-29T00:00:00Z"}`, ""},
		{"date without zone", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-01-31T09:30:00"}`, notDate("2024-01-31T09:30:00")},
		{"date only", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-01-31"}`, notDate("2024-01-31")},
		{"date with space", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-01-31 09:30:00Z"}`, notDate("2024-01-31 09:30:00Z")},
		{"date 30 February", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2023-02-30T09:30:00Z"}`, notDate("2023-02-30T09:30:00Z")},
		{"date 29 February in common year", graph.V1, userStatuses, `{"lastReportedDateTime":"2023-02-29T09:30:00Z"}`, notDate("2023-02-29T09:30:00Z")},
		{"date 31 April", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-04-31T09:30:00Z"}`, notDate("2024-04-31T09:30:00Z")},
		{"date month 13", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-13-01T09:30:00Z"}`, notDate("2024-13-01T09:30:00Z")},
		{"date hour 24", graph.V1, deviceStatuses, `{"lastReportedDateTime":"2024-01-31T24:00:00Z"}`, notDate("2024-01-31T24:00:00Z")},
		{"date as number", graph.V1, deviceStatuses, `{"lastReportedDateTime":1706693400}`, "Cannot convert"},

		{"int32 max", graph.Beta, userStatuses, `{"devicesCount":2147483647}`, ""},
		{"int32 min", graph.Beta, deviceStatuses, `{"platform":-2147483648}`, ""},
		{"int32 zero", graph.V1, userStatuses, `{"devicesCount":0}`, ""},
		{"int32 max+1", graph.V1, userStatuses, `{"devicesCount":2147483648}`, notInt("2147483648")},
		{"int32 min-1", graph.Beta, deviceStatuses, `{"platform":-2147483649}`, notInt("-2147483649")},
		{"int32 fraction", graph.V1, userStatuses, `{"devicesCount":1.5}`, notInt("1.5")},
		{"int32 as string", graph.V1, userStatuses, `{"devicesCount":"5"}`, "Edm.Int32"},
		{"int32 as bool", graph.V1, userStatuses, `{"devicesCount":true}`, "Edm.Int32"},

		{"null string", graph.V1, deviceStatuses, `{"deviceDisplayName":null}`, ""},
		{"null user string", graph.Beta, userStatuses, `{"userPrincipalName":null}`, ""},
		{"null enum", graph.V1, deviceStatuses, `{"status":null}`, nullFor("status")},
		{"null date", graph.V1, deviceStatuses, `{"lastReportedDateTime":null}`, nullFor("lastReportedDateTime")},
		{"null int32", graph.V1, userStatuses, `{"devicesCount":null}`, nullFor("devicesCount")},
		{"null beta int32", graph.Beta, deviceStatuses, `{"platform":null}`, nullFor("platform")},
		{"string as number", graph.V1, deviceStatuses, `{"deviceDisplayName":5}`, "Edm.String"},
		{"string as object", graph.V1, deviceStatuses, `{"deviceDisplayName":{"a":1}}`, "Edm.String"},

		{"unknown property", graph.V1, deviceStatuses, `{"colour":"red"}`,
			"The property 'colour' does not exist on type 'microsoft.graph.deviceComplianceDeviceStatus'."},
		{"unknown property after a good one", graph.V1, userStatuses, `{"status":"compliant","colour":"red"}`,
			"The property 'colour' does not exist on type 'microsoft.graph.deviceComplianceUserStatus'."},
		{"property of the other resource", graph.V1, deviceStatuses, `{"devicesCount":1}`,
			"The property 'devicesCount' does not exist on type 'microsoft.graph.deviceComplianceDeviceStatus'."},
		{"odata.type of the entity", graph.V1, deviceStatuses, `{"@odata.type":"#microsoft.graph.deviceComplianceDeviceStatus","status":"compliant"}`, ""},
		{"odata.type of user status", graph.Beta, userStatuses, `{"@odata.type":"#microsoft.graph.deviceComplianceUserStatus","devicesCount":2}`, ""},
		{"odata.type of another entity", graph.V1, deviceStatuses, `{"@odata.type":"#microsoft.graph.deviceComplianceUserStatus","status":"compliant"}`,
			"#microsoft.graph.deviceComplianceUserStatus"},
		{"body is an array", graph.V1, deviceStatuses, `[{"status":"compliant"}]`, "JSON object"},
		{"body is a string", graph.V1, deviceStatuses, `"status"`, "JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := graphtest.New(graphtest.Options{})
			req := patchItem("1", tt.resource, "p", "e", tt.body)
			r := postOne(t, emu.Handler(), tt.version, req)
			e, stored := emu.Entity(tt.resource.Name, "p", "e")
			if tt.msg == "" {
				if r.Status != http.StatusOK {
					t.Fatalf("PATCH %s %s on %s = %d, want %d; body %s", tt.resource.Name, tt.body, tt.version, r.Status, http.StatusOK, r.Body)
				}
				if !stored {
					t.Fatalf("PATCH %s %s on %s = 200 but stored nothing", tt.resource.Name, tt.body, tt.version)
				}
				want := decodeObject(t, "request body", []byte(tt.body))
				delete(want, "@odata.type")
				if !reflect.DeepEqual(e.Properties, want) {
					t.Errorf("stored properties = %#v, want %#v", e.Properties, want)
				}
				return
			}
			if r.Status != http.StatusBadRequest {
				t.Fatalf("PATCH %s %s on %s = %d, want %d; body %s", tt.resource.Name, tt.body, tt.version, r.Status, http.StatusBadRequest, r.Body)
			}
			checkError(t, "PATCH "+tt.body, r.Body, "BadRequest", tt.msg, "")
			if stored {
				t.Errorf("PATCH %s %s on %s was refused but stored %v", tt.resource.Name, tt.body, tt.version, e)
			}
		})
	}
}

// TestMissingKeys checks that keys beginning with "missing-" answer 404
// ResourceNotFound with Intune's JSON inside error.message, which
// graph.ParseError unwraps to readable text.
func TestMissingKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		resource     *graph.Resource
		method       string
		policyID, id string
		status       int
	}{
		{"missing policy PATCH", deviceStatuses, http.MethodPatch, "missing-policy", "d", http.StatusNotFound},
		{"missing device PATCH", deviceStatuses, http.MethodPatch, "p", "missing-device", http.StatusNotFound},
		{"missing user PATCH", userStatuses, http.MethodPatch, "p", "missing-user", http.StatusNotFound},
		{"missing both GET", userStatuses, http.MethodGet, "missing-p", "missing-u", http.StatusNotFound},
		{"missing device GET", deviceStatuses, http.MethodGet, "p", "missing-d", http.StatusNotFound},
		{"missing not at the start", deviceStatuses, http.MethodPatch, "not-missing-p", "d-missing-", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := graphtest.New(graphtest.Options{})
			req := patchItem("1", tt.resource, tt.policyID, tt.id, `{"status":"compliant"}`)
			if tt.method == http.MethodGet {
				req = getItem("1", tt.resource.Path(tt.policyID, tt.id))
			}
			r := postOne(t, emu.Handler(), graph.Beta, req)
			if r.Status != tt.status {
				t.Fatalf("%s %s in $batch = %d, want %d; body %s", req.Method, req.URL, r.Status, tt.status, r.Body)
			}
			if tt.status == http.StatusOK {
				return
			}
			if _, ok := emu.Entity(tt.resource.Name, tt.policyID, tt.id); ok {
				t.Errorf("%s %s = 404 but stored the entity", req.Method, req.URL)
			}
			e := checkError(t, req.Method+" "+req.URL, r.Body, "ResourceNotFound", "", "")
			var intune struct{ Message string }
			if err := json.Unmarshal([]byte(e.Error.Message), &intune); err != nil || intune.Message == "" {
				t.Errorf("error.message = %q, want Intune's JSON with a Message member", e.Error.Message)
			}
			ge := r.Err()
			if ge == nil {
				t.Fatalf("Response.Err() = nil for status %d", r.Status)
			}
			if ge.Status != http.StatusNotFound || ge.Code != "ResourceNotFound" {
				t.Errorf("Response.Err() = %d %q, want %d %q", ge.Status, ge.Code, http.StatusNotFound, "ResourceNotFound")
			}
			pe := graph.ParseError(r.Status, r.Body)
			want := tt.resource.Entity + " with id " + tt.id + " was not found"
			if !strings.HasPrefix(pe.Message, "An error has occurred") || !strings.HasSuffix(pe.Message, want) || strings.ContainsAny(pe.Message, "{}") {
				t.Errorf("graph.ParseError(...).Message = %q, want readable text starting %q and ending %q", pe.Message, "An error has occurred", want)
			}
		})
	}
}

// TestEscapedKeys checks that keys escaped with graph.Resource.Path reach
// the store exactly as decoded, however hostile.
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
			req := patchItem("1", deviceStatuses, k[0], k[1], string(body))
			r := postOne(t, h, graph.V1, req)
			if r.Status != http.StatusOK {
				t.Errorf("PATCH %s (key %q) = %d, want %d; body %s", req.URL, key, r.Status, http.StatusOK, r.Body)
				continue
			}
			got, ok := emu.Entity(deviceStatuses.Name, k[0], k[1])
			if !ok {
				t.Errorf("PATCH %s = 200, but Entity(%q, %q, %q) found nothing; stored %v", req.URL, deviceStatuses.Name, k[0], k[1], emu.Entities())
				continue
			}
			if got.Properties["deviceDisplayName"] != name {
				t.Errorf("Entity(%q, %q).Properties = %v, want deviceDisplayName %q", k[0], k[1], got.Properties, name)
			}
			want = append(want, graphtest.Entity{Resource: deviceStatuses.Name, PolicyID: k[0], ID: k[1],
				Properties: map[string]any{"deviceDisplayName": name}, Patches: 1})

			// GET answers the exact key as id.
			g := postOne(t, h, graph.V1, getItem("g", req.URL))
			if g.Status != http.StatusOK {
				t.Errorf("GET %s = %d, want %d; body %s", req.URL, g.Status, http.StatusOK, g.Body)
				continue
			}
			if id := decodeObject(t, "GET "+req.URL, g.Body)["id"]; id != k[1] {
				t.Errorf("GET %s: id = %q, want %q", req.URL, id, k[1])
			}
		}
	}
	slices.SortFunc(want, func(a, b graphtest.Entity) int {
		return cmp.Or(strings.Compare(a.PolicyID, b.PolicyID), strings.Compare(a.ID, b.ID))
	})
	if got := emu.Entities(); !reflect.DeepEqual(got, want) {
		t.Errorf("Entities() =\n%v\nwant\n%v", got, want)
	}
}

// TestDotSegmentsRefused checks that URLs whose key segment is "." or ".."
// (raw or escaped once) change nothing.
func TestDotSegmentsRefused(t *testing.T) {
	t.Parallel()
	const body = `{"status":"compliant"}`
	urls := []string{
		"/deviceManagement/deviceCompliancePolicies/../deviceStatuses/d",
		"/deviceManagement/deviceCompliancePolicies/p/deviceStatuses/..",
		"/deviceManagement/deviceCompliancePolicies/./deviceStatuses/d",
		"/deviceManagement/deviceCompliancePolicies/p/deviceStatuses/.",
		"/deviceManagement/deviceCompliancePolicies/%2e%2e/deviceStatuses/d",
		"/deviceManagement/deviceCompliancePolicies/p/deviceStatuses/%2E%2E",
		"/deviceManagement/deviceCompliancePolicies/p/deviceStatuses/d/..",
		"/deviceManagement/deviceCompliancePolicies/p/deviceStatuses/d/../e",
		"/deviceManagement/x/../deviceCompliancePolicies/p/deviceStatuses/d",
	}
	for _, u := range urls {
		t.Run(u, func(t *testing.T) {
			t.Parallel()
			emu := graphtest.New(graphtest.Options{})
			req := graph.Request{ID: "1", Method: http.MethodPatch, URL: u, Headers: map[string]string{"Content-Type": jsonType}, Body: json.RawMessage(body)}
			r := postOne(t, emu.Handler(), graph.V1, req)
			if r.Status < 400 || r.Status >= 500 {
				t.Errorf("PATCH %s in $batch = %d, want a 4xx; body %s", u, r.Status, r.Body)
			} else {
				var e graphError
				if err := json.Unmarshal(r.Body, &e); err != nil || e.Error.Code == "" {
					t.Errorf("PATCH %s in $batch: body %s is not Graph's error shape", u, r.Body)
				}
			}
			w := send(t, emu.Handler(), http.MethodPatch, "/v1.0"+u, map[string]string{"Content-Type": jsonType}, body)
			if w.Code < 300 {
				t.Errorf("PATCH /v1.0%s = %d, want a refusal or redirect", u, w.Code)
			}
			if got := emu.Entities(); len(got) != 0 {
				t.Errorf("PATCH %s stored %v, want nothing", u, got)
			}
		})
	}
}

// TestStore checks that PATCHes merge, that the store counts them per
// entity, and that GET answers the entity, in a $batch and directly.
func TestStore(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	h := emu.Handler()
	path := deviceStatuses.Path("pol 1", "dev/1")

	steps := []struct {
		body string
		want map[string]any // the entity's properties after the PATCH
	}{
		{`{"status":"compliant","deviceDisplayName":"Laptop"}`,
			map[string]any{"status": "compliant", "deviceDisplayName": "Laptop"}},
		{`{"deviceModel":"X1","status":"nonCompliant"}`,
			map[string]any{"status": "nonCompliant", "deviceDisplayName": "Laptop", "deviceModel": "X1"}},
		{`{"deviceDisplayName":null,"platform":7}`,
			map[string]any{"status": "nonCompliant", "deviceDisplayName": nil, "deviceModel": "X1", "platform": json.Number("7")}},
	}
	for i, st := range steps {
		req := patchItem("1", deviceStatuses, "pol 1", "dev/1", st.body)
		r := postOne(t, h, graph.Beta, req)
		if r.Status != http.StatusOK {
			t.Fatalf("PATCH %s %s = %d, want %d; body %s", path, st.body, r.Status, http.StatusOK, r.Body)
		}
		want := entityJSON(deviceStatuses, "dev/1", st.want)
		if got := decodeObject(t, "PATCH answer", r.Body); !reflect.DeepEqual(got, want) {
			t.Errorf("PATCH %s %s answered %v, want %v", path, st.body, got, want)
		}
		e, ok := emu.Entity(deviceStatuses.Name, "pol 1", "dev/1")
		if !ok {
			t.Fatalf("Entity(%q, %q, %q) found nothing after PATCH", deviceStatuses.Name, "pol 1", "dev/1")
		}
		wantEntity := graphtest.Entity{Resource: deviceStatuses.Name, PolicyID: "pol 1", ID: "dev/1", Properties: st.want, Patches: i + 1}
		if !reflect.DeepEqual(e, wantEntity) {
			t.Errorf("after PATCH %d, Entity = %+v, want %+v", i+1, e, wantEntity)
		}
	}
	wantJSON := entityJSON(deviceStatuses, "dev/1", steps[len(steps)-1].want)

	r := postOne(t, h, graph.Beta, getItem("g", path))
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s in $batch = %d, want %d; body %s", path, r.Status, http.StatusOK, r.Body)
	}
	if got := decodeObject(t, "GET answer", r.Body); !reflect.DeepEqual(got, wantJSON) {
		t.Errorf("GET %s in $batch answered %v, want %v", path, got, wantJSON)
	}

	w := send(t, h, http.MethodGet, "/beta"+path, nil, "")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /beta%s = %d, want %d; body %s", path, w.Code, http.StatusOK, w.Body)
	}
	if got := w.Header().Get("Content-Type"); got != jsonType {
		t.Errorf("GET /beta%s: Content-Type = %q, want %q", path, got, jsonType)
	}
	if got := decodeObject(t, "GET answer", w.Body.Bytes()); !reflect.DeepEqual(got, wantJSON) {
		t.Errorf("GET /beta%s answered %v, want %v", path, got, wantJSON)
	}

	if e, _ := emu.Entity(deviceStatuses.Name, "pol 1", "dev/1"); e.Patches != len(steps) {
		t.Errorf("after GETs, Patches = %d, want %d", e.Patches, len(steps))
	}
}

// TestGetUnknown checks that GET of an entity never PATCHed answers 404.
func TestGetUnknown(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	h := emu.Handler()
	postOne(t, h, graph.V1, patchItem("1", userStatuses, "p", "known", `{"status":"compliant"}`))
	for _, path := range []string{
		userStatuses.Path("p", "unknown"),
		userStatuses.Path("other", "known"),
		deviceStatuses.Path("p", "known"), // same keys, other resource
	} {
		r := postOne(t, h, graph.V1, getItem("1", path))
		if r.Status != http.StatusNotFound {
			t.Errorf("GET %s in $batch = %d, want %d; body %s", path, r.Status, http.StatusNotFound, r.Body)
		} else {
			checkError(t, "GET "+path, r.Body, "ResourceNotFound", "was not found", "")
		}
		w := send(t, h, http.MethodGet, "/v1.0"+path, nil, "")
		if w.Code != http.StatusNotFound {
			t.Errorf("GET /v1.0%s = %d, want %d; body %s", path, w.Code, http.StatusNotFound, w.Body)
		} else {
			checkError(t, "GET /v1.0"+path, w.Body.Bytes(), "ResourceNotFound", "was not found", "")
		}
	}
}

// TestDirectPatch checks PATCH sent straight to an entity path.
func TestDirectPatch(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	h := emu.Handler()
	path := "/v1.0" + userStatuses.Path("p/1", "u?1")
	header := map[string]string{"Content-Type": jsonType}

	w := send(t, h, http.MethodPatch, path, header, `{"devicesCount":2,"status":"error"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("PATCH %s = %d, want %d; body %s", path, w.Code, http.StatusOK, w.Body)
	}
	w = send(t, h, http.MethodPatch, path, header, `{"userDisplayName":"Ann"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("PATCH %s = %d, want %d; body %s", path, w.Code, http.StatusOK, w.Body)
	}
	want := map[string]any{"devicesCount": json.Number("2"), "status": "error", "userDisplayName": "Ann"}
	if got := decodeObject(t, "PATCH answer", w.Body.Bytes()); !reflect.DeepEqual(got, entityJSON(userStatuses, "u?1", want)) {
		t.Errorf("PATCH %s answered %v, want %v", path, got, entityJSON(userStatuses, "u?1", want))
	}
	e, ok := emu.Entity(userStatuses.Name, "p/1", "u?1")
	if !ok || e.Patches != 2 || !reflect.DeepEqual(e.Properties, want) {
		t.Errorf("Entity(%q, %q, %q) = %+v, %v; want properties %v, 2 patches", userStatuses.Name, "p/1", "u?1", e, ok, want)
	}

	w = send(t, h, http.MethodPatch, path, header, `{"status":"Error"}`)
	if w.Code != http.StatusBadRequest {
		t.Fatalf("PATCH %s {status:Error} = %d, want %d; body %s", path, w.Code, http.StatusBadRequest, w.Body)
	}
	checkError(t, "PATCH "+path, w.Body.Bytes(), "BadRequest", "Requested value 'Error' was not found.", "")
}

// TestDirectPatchRefused checks that a PATCH sent straight to an entity
// path with a body Graph refuses answers 400 and changes nothing.
func TestDirectPatchRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
	}{
		{"beta-only property", `{"platform":1}`},
		{"no body", ``},
		{"cut short", `{"status":"compliant"`},
		{"array", `[]`},
		{"two JSON values", `{"status":"compliant"}}`},
		{"text after the object", `{"status":"compliant"} x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := graphtest.New(graphtest.Options{})
			path := "/v1.0" + deviceStatuses.Path("p", "d")
			w := send(t, emu.Handler(), http.MethodPatch, path, map[string]string{"Content-Type": jsonType}, tt.body)
			if w.Code != http.StatusBadRequest {
				t.Errorf("PATCH %s %s = %d, want %d; body %s", path, tt.body, w.Code, http.StatusBadRequest, w.Body)
			} else {
				checkError(t, "PATCH "+path+" "+tt.body, w.Body.Bytes(), "BadRequest", "", "")
			}
			if e, ok := emu.Entity(deviceStatuses.Name, "p", "d"); ok {
				t.Errorf("PATCH %s %s stored %+v", path, tt.body, e)
			}
		})
	}
}

// TestEntitiesSorted checks that Entities orders by resource, then policy
// id, then id, whatever the order of the PATCHes.
func TestEntitiesSorted(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	type key struct{ resource, policyID, id string }
	sent := []key{
		{"user-statuses", "b", "2"},
		{"device-statuses", "b", "1"},
		{"user-statuses", "a", "9"},
		{"device-statuses", "a", "2"},
		{"device-statuses", "b", "0"},
		{"device-statuses", "a", "10"},
		{"user-statuses", "a", "1"},
	}
	var reqs []graph.Request
	for i, k := range sent {
		r := mustResource(k.resource)
		reqs = append(reqs, patchItem(string(rune('a'+i)), r, k.policyID, k.id, `{"status":"compliant"}`))
	}
	for _, r := range postBatch(t, emu.Handler(), graph.V1, reqs...) {
		if r.Status != http.StatusOK {
			t.Fatalf("item %s = %d, want %d; body %s", r.ID, r.Status, http.StatusOK, r.Body)
		}
	}
	want := []key{
		{"device-statuses", "a", "10"},
		{"device-statuses", "a", "2"},
		{"device-statuses", "b", "0"},
		{"device-statuses", "b", "1"},
		{"user-statuses", "a", "1"},
		{"user-statuses", "a", "9"},
		{"user-statuses", "b", "2"},
	}
	var got []key
	for _, e := range emu.Entities() {
		got = append(got, key{e.Resource, e.PolicyID, e.ID})
	}
	if !slices.Equal(got, want) {
		t.Errorf("Entities() keys = %v, want %v", got, want)
	}
}

// entityJSON is the JSON object, decoded with numbers as json.Number, that
// GET answers for an entity of r with id and props.
func entityJSON(r *graph.Resource, id string, props map[string]any) map[string]any {
	m := map[string]any{"@odata.type": "#microsoft.graph." + r.Entity, "id": id}
	for k, v := range props {
		m[k] = v
	}
	return m
}
