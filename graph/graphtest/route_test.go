package graphtest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// TestRouting checks how request paths resolve against the metadata:
// entity sets, singletons, navigation (contained or not), keys, and the
// answers for what does not resolve, in a $batch and directly.
func TestRouting(t *testing.T) {
	t.Parallel()
	const (
		noUser = "Resource not found for the segment 'user'."
		notAll = "Specified HTTP method is not allowed for the request target."
	)
	tests := []struct {
		name, method, path string
		status             int
		msg                string // for an error, a part of error.message
		typ                string // for a GET answered 200 by key: the @odata.type
	}{
		{"entity set", "GET", "/users/u1", 200, "", "#microsoft.graph.user"},
		{"entity set, other case", "GET", "/USERS/u1", 200, "", "#microsoft.graph.user"},
		{"entity set PATCH", "PATCH", "/users/u1", 204, "", ""},
		{"entity set list", "GET", "/users", 200, "", ""},
		{"entity set list, trailing slash", "GET", "/users/", 200, "", ""},
		{"singleton", "GET", "/deviceManagement", 200, "", "#microsoft.graph.deviceManagement"},
		{"singleton PATCH", "PATCH", "/deviceManagement", 200, "", ""},
		{"singleton me", "GET", "/me", 200, "", "#microsoft.graph.user"},
		{"contained entity", "GET", "/deviceManagement/managedDevices/m1", 200, "", "#microsoft.graph.managedDevice"},
		{"contained list", "GET", "/deviceManagement/managedDevices", 200, "", ""},
		{"nested seed path", "GET", deviceStatus("p", "d"), 200, "", "#microsoft.graph.deviceComplianceDeviceStatus"},
		{"nested seed path, other case", "GET", "/devicemanagement/DEVICECOMPLIANCEPOLICIES/p/devicestatuses/d", 200, "", "#microsoft.graph.deviceComplianceDeviceStatus"},
		{"nested seed list", "GET", "/deviceManagement/deviceCompliancePolicies/p/userStatuses", 200, "", ""},
		{"navigation not contained", "GET", "/users/u1/memberOf/g1", 200, "", "#microsoft.graph.directoryObject"},
		{"single-valued navigation", "GET", "/users/u1/manager", 200, "", "#microsoft.graph.directoryObject"},
		{"navigation of a base type", "GET", "/deviceManagement/deviceCompliancePolicies/p/assignments/a", 200, "", "#microsoft.graph.deviceCompliancePolicyAssignment"},
		{"escaped slash in a key", "GET", "/users/a%2Fb", 200, "", "#microsoft.graph.user"},
		{"escaped question mark in a key", "GET", "/users/a%3Fb=1", 200, "", "#microsoft.graph.user"},

		{"unknown entity set", "GET", "/user/u1", 404, noUser, ""},
		{"unknown navigation", "GET", "/users/u1/colleagues", 404, "Resource not found for the segment 'colleagues'.", ""},
		{"property as a segment", "GET", "/users/u1/displayName", 404, "Resource not found for the segment 'displayName'.", ""},
		{"type cast", "GET", "/deviceManagement/deviceCompliancePolicies/p/microsoft.graph.windows10CompliancePolicy", 404,
			"Resource not found for the segment 'microsoft.graph.windows10CompliancePolicy'.", ""},
		{"navigation after a collection", "GET", "/users/memberOf", 200, "", "#microsoft.graph.user"}, // memberOf is a key here
		{"unescaped slash splits a key", "GET", "/users/a/b", 404, "Resource not found for the segment 'b'.", ""},
		{"empty", "GET", "/", 404, "Resource not found for the segment ''.", ""},
		{"version again", "GET", "/v1.0/users/u1", 400, "Resource not found for the segment 'v1.0'.", ""},
		{"empty key", "GET", "/users//x", 400, "Invalid request URL.", ""},
		{"dot key", "GET", "/users/.", 400, "Invalid request URL.", ""},
		{"dot-dot key", "GET", "/users/%2E%2E", 400, "Invalid request URL.", ""},
		{"bad escape", "GET", "/users/a%zz", 400, "Invalid request URL.", ""},

		{"PATCH a collection", "PATCH", "/users", 405, notAll, ""},
		{"POST an entity", "POST", "/users/u1", 405, notAll, ""},
		{"DELETE an entity", "DELETE", "/users/u1", 405, notAll, ""},
	}
	emu := graphtest.New(graphtest.Options{Limits: &graphtest.NoLimits})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := graph.Request{ID: "1", Method: tt.method, URL: tt.path}
			if tt.method == http.MethodPatch || tt.method == http.MethodPost {
				req.Headers, req.Body = map[string]string{"Content-Type": jsonType}, json.RawMessage(`{}`)
			}
			r := postOne(t, emu.Handler(), graph.V1, req)
			if r.Status != tt.status {
				t.Fatalf("%s %s in $batch = %d, want %d; body %s", tt.method, tt.path, r.Status, tt.status, r.Body)
			}
			switch {
			case tt.status >= 400:
				checkError(t, tt.method+" "+tt.path, r.Body, "BadRequest", tt.msg, "")
			case tt.typ != "":
				if got := decodeObject(t, "GET "+tt.path, r.Body)["@odata.type"]; got != tt.typ {
					t.Errorf("%s %s: @odata.type = %v, want %s", tt.method, tt.path, got, tt.typ)
				}
			}
			if tt.path == "/" || tt.name == "bad escape" {
				return // not a request a client can send
			}
			w := send(t, emu.Handler(), tt.method, "/v1.0"+tt.path, map[string]string{"Content-Type": jsonType}, string(req.Body))
			// net/http redirects paths with empty or dot segments to their clean form.
			if w.Code != tt.status && !(tt.status == http.StatusBadRequest && w.Code/100 == 3) {
				t.Errorf("%s /v1.0%s = %d, want %d; body %s", tt.method, tt.path, w.Code, tt.status, w.Body)
			}
		})
	}
	if got := emu.Entities(); len(got) != 2 {
		t.Errorf("the PATCHes stored %d entities, want 2 (/users/u1 and /deviceManagement): %v", len(got), got)
	}
}

// TestRoutingBeta checks that beta serves only the seed entities of its
// built-in (partial) metadata, with beta's properties.
func TestRoutingBeta(t *testing.T) {
	t.Parallel()
	emu := graphtest.New(graphtest.Options{})
	if r := postOne(t, emu.Handler(), graph.Beta, getItem("1", "/users/u1")); r.Status != http.StatusNotFound {
		t.Errorf("GET /users/u1 on beta = %d, want 404 (not in the seed metadata); body %s", r.Status, r.Body)
	}
	r := postOne(t, emu.Handler(), graph.Beta, getItem("1", deviceStatus("p", "d")+"?$select=platform"))
	if got := decodeObject(t, "GET", r.Body); r.Status != http.StatusOK || got["platform"] != json.Number("0") {
		t.Errorf("GET a device status on beta with $select=platform = %d %v, want 200 and platform 0", r.Status, got)
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
