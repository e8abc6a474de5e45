package csvio

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// TestTableDamageNamesItsLine: a damaged record in a table being resumed
// (a stray quote, as an editor leaves it) is an error naming its line, and
// the file is left as it is: cutting it there as if it were a torn last
// record would lose every line after it.
func TestTableDamageNamesItsLine(t *testing.T) {
	for _, content := range []string{
		"id,notes\na,\"two\nlines\"\nb,bare\"quote\nc,x\n", // an odd quote: open to the end
		"id,notes\na,\"two\nlines\"\nb,\"x\"y\"\"\nc,x\n",  // an even one: a record that does not parse
	} {
		path := filepath.Join(t.TempDir(), "backup.csv")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := OpenTable(path, "backup file", []string{"id", "notes"}, Resume, nil)
		if err == nil || !strings.Contains(err.Error(), "line 4,") {
			t.Errorf("%q: OpenTable = %v, want an error naming line 4", content, err)
		}
		if b, _ := os.ReadFile(path); string(b) != content {
			t.Errorf("%q: the file became %q", content, b)
		}
	}
}

// TestTableCutsATornQuotedRecord: a crash in the middle of a record with a
// quoted cell of several lines leaves its quote open at the end of the
// file; resuming cuts that record off and keeps the rest.
func TestTableCutsATornQuotedRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "backup.csv")
	if err := os.WriteFile(path, []byte("id,notes\na,x\nb,\"two\nlin"), 0o644); err != nil {
		t.Fatal(err)
	}
	var seen [][]string
	tb, err := OpenTable(path, "backup file", []string{"id", "notes"}, Resume, func(rec []string) { seen = append(seen, rec) })
	if err != nil {
		t.Fatal(err)
	}
	tb.Close()
	if b, _ := os.ReadFile(path); string(b) != "id,notes\na,x\n" || len(seen) != 1 {
		t.Errorf("the file became %q, %d records seen; want the torn record cut, 1 seen", b, len(seen))
	}
}

// TestTableQuoteLeftOpenIsBounded: a quote opened in a table being resumed
// and never closed is an error naming the line where it opened once the
// record runs past maxRecord, without reading the rest of the file. It
// was gathered to the end of the file, its quotes counted again at every
// line: 6 MB of short lines took 6 s, and 60 MB would take ten minutes.
func TestTableQuoteLeftOpenIsBounded(t *testing.T) {
	line := "b," + strings.Repeat("x", 64<<10) + "\n"
	in := &countReader{r: strings.NewReader("id,notes\na,\"open\n" + strings.Repeat(line, (maxRecord>>16)+128))}
	_, err := readTable(in, []string{"id", "notes"}, nil)
	if !errors.Is(err, ErrNotTable) || !strings.Contains(err.Error(), "line 2:") {
		t.Errorf("readTable = %v, want an error wrapping ErrNotTable naming line 2", err)
	}
	if n := in.n.Load(); n > maxRecord+1<<20 {
		t.Errorf("readTable read %d bytes, want no more than the record's bound, %d, and a buffer", n, maxRecord)
	}
}
