package csvio

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "backup.csv")
	header := []string{"id", "department", "notes"}
	tb, err := OpenTable(path, "backup file", header, New, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTable(path, "backup file", header, Resume, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("a second open while the first holds it = %v, want ErrLocked", err)
	}
	for _, rec := range [][]string{{"a", "Finance", ""}, {"b", "#null", "two\nlines, \"quoted\""}} {
		if err := tb.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := tb.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	// A torn last line, as a crash leaves it.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("c,torn")
	f.Close()

	var seen [][]string
	tb, err = OpenTable(path, "backup file", header, Resume, func(rec []string) { seen = append(seen, rec) })
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"a", "Finance", ""}, {"b", "#null", "two\nlines, \"quoted\""}}
	if !slices.EqualFunc(seen, want, slices.Equal) {
		t.Errorf("resume saw %q, want %q", seen, want)
	}
	if err := tb.Write([]string{"c", "IT", ""}); err != nil {
		t.Fatal(err)
	}
	tb.Close()
	data, _ := os.ReadFile(path)
	if got, want := string(data), "id,department,notes\na,Finance,\nb,#null,\"two\nlines, \"\"quoted\"\"\"\nc,IT,\n"; got != want {
		t.Errorf("file = %q, want %q", got, want)
	}
	if _, err := OpenTable(path, "backup file", []string{"id", "jobTitle"}, Resume, nil); err == nil {
		t.Error("resuming a table with another header: no error")
	}
	if _, err := OpenTable(path, "plan", header, New, nil); !errors.Is(err, ErrExists) {
		t.Errorf("New on a non-empty table = %v, want ErrExists", err)
	}
	tb, err = OpenTable(path, "plan", header, Overwrite, nil)
	if err != nil {
		t.Fatal(err)
	}
	tb.Close()
	if data, _ := os.ReadFile(path); string(data) != "id,department,notes\n" {
		t.Errorf("after Overwrite: %q", data)
	}
}
