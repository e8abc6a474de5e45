package graph_test

import (
	"testing"

	"github.com/graphbatch/graphbatch/graph"
)

// TestDateTimeOffsetOffsets checks the offsets a DateTimeOffset may have:
// at most 14 hours, minutes under 60, as .NET (and so Graph) takes them.
func TestDateTimeOffsetOffsets(t *testing.T) {
	t.Parallel()
	p := &graph.Prop{Name: "when", Type: graph.EdmDateTimeOffset}
	tests := []struct {
		cell string
		ok   bool
	}{
		{"2024-01-31T09:30:00Z", true},
		{"2024-01-31T09:30:00+14:00", true},
		{"2024-01-31T09:30:00-14:00", true},
		{"2024-01-31T09:30:00+05:59", true},
		{"2024-01-31T09:30:00+15:00", false},
		{"2024-01-31T09:30:00+01:60", false},
		{"2024-01-31T09:30:00-01:99", false},
	}
	for _, tt := range tests {
		if _, err := p.Encode(tt.cell); (err == nil) != tt.ok {
			t.Errorf("Encode(%q) = %v, want ok %v", tt.cell, err, tt.ok)
		}
		if _, err := p.CheckJSON([]byte(`"` + tt.cell + `"`)); (err == nil) != tt.ok {
			t.Errorf("CheckJSON(%q) = %v, want ok %v", tt.cell, err, tt.ok)
		}
	}
}

// TestDateTimeOffsetCommaFraction checks that a decimal comma before the
// fractional seconds, which time.Parse takes but RFC 3339 (and Graph) do
// not, makes the cell invalid, whatever its digits: such a row would pass
// a dry run and then fail when sent.
func TestDateTimeOffsetCommaFraction(t *testing.T) {
	t.Parallel()
	p := &graph.Prop{Name: "when", Type: graph.EdmDateTimeOffset}
	for _, cell := range []string{
		"2024-01-31T09:30:00,5Z",
		"2024-01-31T09:30:00,1234567+01:00",
		"2024-01-31T09:30:00,123456789012Z", // past the 7 digits a point allows
	} {
		if _, err := p.Encode(cell); err == nil {
			t.Errorf("Encode(%q) = nil error, want one: RFC 3339 separates fractional seconds with a point", cell)
		}
		if _, err := p.CheckJSON([]byte(`"` + cell + `"`)); err == nil {
			t.Errorf("CheckJSON(%q) = nil error, want one", cell)
		}
	}
}
