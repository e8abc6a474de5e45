package graph_test

import (
	"fmt"

	"github.com/graphbatch/graphbatch/graph"
)

// One CSV row becomes one PATCH: keys are path-escaped, empty cells are left
// out, and the status is sent in Graph's spelling.
func ExampleSchema_NewPatch() {
	r, err := graph.LookupResource("device-statuses")
	if err != nil {
		panic(err)
	}
	s := graph.NewSchema(r, graph.V1)

	cells := map[string]string{
		"lastReportedDateTime": "2024-01-31T09:30:00Z",
		"status":               "NonCompliant",
	}
	values := make([]string, len(s.Properties))
	for i, p := range s.Properties {
		values[i] = cells[p.Name]
	}
	p, err := s.NewPatch("policy 1", "device/7", values)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.URL)
	fmt.Println(string(p.Body))

	cells["status"] = "green"
	for i, p := range s.Properties {
		values[i] = cells[p.Name]
	}
	_, err = s.NewPatch("policy 1", "device/7", values)
	fmt.Println(err)
	// Output:
	// /deviceManagement/deviceCompliancePolicies/policy%201/deviceStatuses/device%2F7
	// {"lastReportedDateTime":"2024-01-31T09:30:00Z","status":"nonCompliant"}
	// column status: "green" is not a complianceStatus (one of: unknown, notApplicable, compliant, remediated, nonCompliant, error, conflict, notAssigned)
}
