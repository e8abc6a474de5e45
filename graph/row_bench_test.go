package graph

import "testing"

// BenchmarkNewPatch measures validating one row and building its PATCH,
// which a dry run does for every row: a users row with the ten typed
// columns of an HR export (batch's BenchmarkReadValidate/users has the
// same), and a device status with seven; then Check, which a dry run
// calls instead.
func BenchmarkNewPatch(b *testing.B) {
	tests := []struct {
		target string
		cells  map[string]string
	}{
		{"users", map[string]string{
			"id": "user42@contoso.com", "accountEnabled": "TRUE", "department": "Finance", "jobTitle": "Analyst 3",
			"usageLocation": "NL", "employeeId": "E000042", "employeeHireDate": "2024-03-01T00:00:00Z",
			"officeLocation": "Building 2", "city": "Amsterdam", "businessPhones": `["+31 20 555 0042"]`,
			"employeeOrgData": `{"division":"EMEA","costCenter":"CC-42"}`,
		}},
		{"device-statuses", map[string]string{
			"policyId": "6513270e-269e-4d37-b2a7-4de452e6b438", "id": "0000002a-36f6-45cc-81e7-4ef5e8e25d94",
			"deviceDisplayName": "CONTOSO-LT-0000042", "deviceModel": "Latitude 7440", "userPrincipalName": "user42@contoso.com",
			"status": "compliant", "lastReportedDateTime": "2026-11-01T08:00:00Z",
		}},
	}
	for _, tt := range tests {
		b.Run(tt.target, func(b *testing.B) {
			target := mustTarget(b, tt.target, V1)
			row, cells := target.NewRow(""), fields(b, target, tt.cells)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := row.NewPatch(cells); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run(tt.target+"/check", func(b *testing.B) { // as a dry run does
			target := mustTarget(b, tt.target, V1)
			row, cells := target.NewRow(""), fields(b, target, tt.cells)
			b.ReportAllocs()
			for b.Loop() {
				if err := row.Check(cells); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
