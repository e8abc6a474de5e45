package graph_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/graphbatch/graphbatch/graph"
)

// TestProfiles checks which service's limits each kind of target gets,
// through Target.Profile and ProfileOf alike.
func TestProfiles(t *testing.T) {
	t.Parallel()
	m := mustBuiltin(t, graph.V1)
	tests := []struct {
		template string
		want     graph.Profile
	}{
		{"/users/{id}", graph.Directory},
		{"/groups/{id}", graph.Directory},
		{"/deviceManagement/managedDevices/{id}", graph.IntuneDevices},
		{"/deviceManagement/deviceCompliancePolicies/{id}", graph.IntuneDeviceConfiguration},
		{"/deviceManagement/deviceCompliancePolicies/{policyId}/deviceStatuses/{id}", graph.IntuneDeviceConfiguration},
		{"/deviceManagement/deviceCategories/{id}", graph.Intune},
		{"/sites/{id}", graph.Conservative},
	}
	for _, tt := range tests {
		target, err := m.Resolve(tt.template)
		if err != nil {
			t.Fatalf("Resolve(%q): %v", tt.template, err)
		}
		if got := target.Profile(); got.Service != tt.want.Service {
			t.Errorf("Resolve(%q).Profile() = %q, want %q", tt.template, got.Service, tt.want.Service)
		}
		collection := target.CollectionPath(make([]string, len(target.Keys)-1))
		if got := graph.ProfileOf(target.Type, collection); got.Service != tt.want.Service {
			t.Errorf("ProfileOf(%s, %q) = %q, want %q", target.Type.Name, collection, got.Service, tt.want.Service)
		}
	}
	if got := graph.ProfileOf(nil, "/deviceAppManagement/mobileApps"); got.Service != graph.Intune.Service {
		t.Errorf("ProfileOf(nil, /deviceAppManagement/mobileApps) = %q, want %q", got.Service, graph.Intune.Service)
	}
}

// TestBuiltinCSDL checks that the built-in CSDL documents are the ones
// the built-in models come from.
func TestBuiltinCSDL(t *testing.T) {
	t.Parallel()
	for _, v := range graph.Versions {
		doc, err := graph.BuiltinCSDL(v)
		if err != nil {
			t.Fatalf("BuiltinCSDL(%s): %v", v, err)
		}
		m, err := graph.ParseCSDL(bytes.NewReader(doc))
		if err != nil {
			t.Fatalf("ParseCSDL(BuiltinCSDL(%s)): %v", v, err)
		}
		if got, want := len(m.Types()), len(mustBuiltin(t, v).Types()); got != want {
			t.Errorf("BuiltinCSDL(%s) has %d types, the built-in model %d", v, got, want)
		}
	}
	if _, err := graph.BuiltinCSDL("v2.0"); err == nil {
		t.Errorf("BuiltinCSDL(v2.0) = nil error, want one")
	}
}

func TestReadLimitBeside(t *testing.T) {
	p := graph.IntuneDeviceConfiguration // 100 writes and 1,000 requests per 20 s
	type Limit = graph.Limit
	tests := []struct {
		write Limit
		want  Limit
	}{
		{Limit{N: 100, Per: 20 * time.Second}, Limit{N: 900, Per: 20 * time.Second}},
		{Limit{N: 5, Per: time.Second}, Limit{N: 900, Per: 20 * time.Second}},       // the same rate in other units
		{Limit{N: 10, Per: 20 * time.Second}, Limit{N: 990, Per: 20 * time.Second}}, // a lower --rate leaves reads more
		{Limit{N: 5000, Per: 20 * time.Second}, Limit{N: 1, Per: 20 * time.Second}}, // never none
		{Limit{}, Limit{N: 1000, Per: 20 * time.Second}},                            // no write ceiling: reads get the limit
	}
	for _, tt := range tests {
		if got := p.ReadLimitBeside(tt.write); got != tt.want {
			t.Errorf("ReadLimitBeside(%v) = %v, want %v", tt.write, got, tt.want)
		}
	}
}
