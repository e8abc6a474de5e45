package graph

import (
	"slices"
	"testing"
)

// mustTarget opens the target name on the built-in metadata of v.
func mustTarget(t testing.TB, name string, v Version) *Target {
	t.Helper()
	m, err := BuiltinModel(v)
	if err != nil {
		t.Fatal(err)
	}
	target, err := OpenTarget(name, m, v)
	if err != nil {
		t.Fatal(err)
	}
	return target
}

// fields returns a row for target with the given cells by column name.
func fields(t testing.TB, target *Target, cells map[string]string) []string {
	t.Helper()
	cols := target.Columns()
	out := make([]string, len(cols))
	for name, cell := range cells {
		i := slices.Index(cols, name)
		if i < 0 {
			t.Fatalf("%s has no column %s (columns: %v)", target.Name(), name, cols)
		}
		out[i] = cell
	}
	return out
}
