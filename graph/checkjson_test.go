package graph_test

import (
	"testing"

	"github.com/graphbatch/graphbatch/graph"
)

// TestCheckJSONScalars checks that CheckJSON returns scalars it need not
// respell as they were sent, and respells or refuses the others.
func TestCheckJSONScalars(t *testing.T) {
	t.Parallel()
	status := &graph.DataType{Name: "microsoft.graph.complianceStatus", Kind: graph.KindEnum, Members: []string{"unknown", "compliant"}}
	str := &graph.Prop{Name: "s", Type: graph.EdmString, Nullable: true}
	tests := []struct {
		p    *graph.Prop
		raw  string
		want string // "" for an error
	}{
		{str, `"plain"`, `"plain"`},
		{str, ` "padded" `, `"padded"`},
		{str, `"esc\u0061ped\n"`, `"esc\u0061ped\n"`},
		{str, "\"bad \xff\"", "\"bad \uFFFD\""},
		{str, "\"tab\tinside\"", ""},
		{str, `null`, `null`},
		{str, `true`, ""},
		{&graph.Prop{Name: "b", Type: graph.EdmBoolean}, `false`, `false`},
		{&graph.Prop{Name: "n", Type: graph.EdmInt32}, `-0`, `0`},
		{&graph.Prop{Name: "n", Type: graph.EdmInt32}, `12`, `12`},
		{&graph.Prop{Name: "e", Type: status}, `"compliant"`, `"compliant"`},
		{&graph.Prop{Name: "e", Type: status}, `"Compliant"`, `"compliant"`},
		{&graph.Prop{Name: "e", Type: status}, `"green"`, ""},
		{&graph.Prop{Name: "c", Type: graph.EdmString, Collection: true}, `["a"]`, `["a"]`},
	}
	for _, tt := range tests {
		got, err := tt.p.CheckJSON([]byte(tt.raw))
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("CheckJSON(%s) of %s = %s, want an error", tt.raw, tt.p.Type.Name, got)
		case tt.want != "" && (err != nil || string(got) != tt.want):
			t.Errorf("CheckJSON(%s) of %s = %s, %v; want %s", tt.raw, tt.p.Type.Name, got, err, tt.want)
		}
	}
}
