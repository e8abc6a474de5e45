package graphtest_test

import (
	"net/http"
	"testing"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

// TestRefuse checks that Options.Refuse makes the two status routes answer
// exactly as real Intune does when it refuses them, and nothing else.
func TestRefuse(t *testing.T) {
	t.Parallel()
	const (
		code        = "No method match route template"
		patchDevice = "No OData route exists that match template ~/singleton/navigation/key/navigation/key with http verb PATCH for request /StatelessDeviceConfigurationFEService/deviceManagement/deviceCompliancePolicies('pol-1')/deviceStatuses('dev/1')."
		getUser     = "No OData route exists that match template ~/singleton/navigation/key/navigation/key with http verb GET for request /StatelessDeviceConfigurationFEService/deviceManagement/deviceCompliancePolicies('pol-1')/userStatuses('u1')."
	)
	patch := func(path string) graph.Request { return patchItem("1", path, `{"status":"compliant"}`) }
	tests := []struct {
		name   string
		refuse graphtest.Refusal
		req    graph.Request
		status int
		msg    string // the whole error.message of a refusal
	}{
		{"PATCH device status", graphtest.Refusal{StatusPatch: true}, patch(deviceStatus("pol-1", "dev/1")), 400, patchDevice},
		{"PATCH user status", graphtest.Refusal{StatusPatch: true}, patch(userStatus("pol-1", "u1")), 400, ""},
		{"GET when only PATCH is refused", graphtest.Refusal{StatusPatch: true}, getItem("1", deviceStatus("pol-1", "d")), 200, ""},
		{"GET user status", graphtest.Refusal{StatusGet: true}, getItem("1", userStatus("pol-1", "u1")), 400, getUser},
		{"GET device status with $select", graphtest.Refusal{StatusGet: true}, getItem("1", deviceStatus("p", "d")+"?$select=status"), 400, ""},
		{"PATCH when only GET is refused", graphtest.Refusal{StatusGet: true}, patch(deviceStatus("p", "d")), 200, ""},
		{"list of statuses", graphtest.Refusal{StatusPatch: true, StatusGet: true}, getItem("1", "/deviceManagement/deviceCompliancePolicies/p/deviceStatuses"), 200, ""},
		{"the policy", graphtest.Refusal{StatusPatch: true, StatusGet: true}, patchItem("1", "/deviceManagement/deviceCompliancePolicies/p", `{"description":"d"}`), 200, ""},
		{"a missing status", graphtest.Refusal{StatusPatch: true}, patch(deviceStatus("p", "missing-d")), 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := graphtest.New(graphtest.Options{Refuse: tt.refuse})
			r := postOne(t, emu.Handler(), graph.V1, tt.req)
			if r.Status != tt.status {
				t.Fatalf("%s %s = %d, want %d; body %s", tt.req.Method, tt.req.URL, r.Status, tt.status, r.Body)
			}
			if tt.status == http.StatusOK {
				return
			}
			e := checkError(t, tt.req.Method+" "+tt.req.URL, r.Body, code, "No OData route exists that match template ~/singleton/navigation/key/navigation/key with http verb "+tt.req.Method, "")
			if tt.msg != "" && e.Error.Message != tt.msg {
				t.Errorf("error.message = %q, want %q", e.Error.Message, tt.msg)
			}
			if got := emu.Entities(); len(got) != 0 {
				t.Errorf("a refused request stored %v", got)
			}
			w := send(t, emu.Handler(), tt.req.Method, "/beta"+tt.req.URL, map[string]string{"Content-Type": jsonType}, string(tt.req.Body))
			if w.Code != http.StatusBadRequest {
				t.Errorf("%s /beta%s = %d, want 400; body %s", tt.req.Method, tt.req.URL, w.Code, w.Body)
			} else {
				checkError(t, "direct "+tt.req.URL, w.Body.Bytes(), code, "", "")
			}
		})
	}
}
