package graph_test

import (
	"fmt"
	"slices"

	"github.com/graphbatch/graphbatch/graph"
)

// One CSV row becomes one PATCH: keys are path-escaped, empty cells are left
// out, and the status is sent in Graph's spelling.
func ExampleRow_NewPatch() {
	m, err := graph.BuiltinModel(graph.V1)
	if err != nil {
		panic(err)
	}
	t, err := graph.OpenTarget("device-statuses", m, graph.V1)
	if err != nil {
		panic(err)
	}
	fmt.Println(t.Template)
	row := t.NewRow(graph.DefaultNullToken)
	cols := t.Columns()
	fields := make([]string, len(cols))
	set := func(col, cell string) { fields[slices.Index(cols, col)] = cell }
	set("policyId", "policy 1")
	set("id", "device/7")
	set("lastReportedDateTime", "2024-01-31T09:30:00Z")
	set("status", "NonCompliant")
	set("deviceModel", "#null")
	p, err := row.NewPatch(fields)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.URL)
	fmt.Println(string(p.Body))

	set("status", "green")
	_, err = row.NewPatch(fields)
	fmt.Println(err)
	// Output:
	// /deviceManagement/deviceCompliancePolicies/{policyId}/deviceStatuses/{id}
	// /deviceManagement/deviceCompliancePolicies/policy%201/deviceStatuses/device%2F7
	// {"deviceModel":null,"lastReportedDateTime":"2024-01-31T09:30:00Z","status":"nonCompliant"}
	// column status: "green" is not a complianceStatus (one of: unknown, notApplicable, compliant, remediated, nonCompliant, error, conflict, notAssigned)
}
