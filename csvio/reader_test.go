package csvio_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"

	"github.com/graphbatch/graphbatch/csvio"
)

var update = flag.Bool("update", false, "rewrite testdata/utf16le.csv from testdata/tab.tsv")

// testHeader is the header of the device-statuses resource (v1.0).
var testHeader = csvio.Header{
	Columns: []string{
		"parentId", "id",
		"complianceGracePeriodExpirationDateTime", "deviceDisplayName", "deviceModel",
		"lastReportedDateTime", "status", "userName", "userPrincipalName",
	},
	Required: []string{"parentId", "id"},
}

// row builds the Row numbered num whose fields are given as column, value
// pairs (column names as in testHeader); the other fields are "".
func row(num, line int, kv ...string) csvio.Row {
	return rowOf(testHeader, num, line, kv...)
}

func rowOf(h csvio.Header, num, line int, kv ...string) csvio.Row {
	r := csvio.Row{Num: num, Line: line, Fields: make([]string, len(h.Columns))}
	for i := 0; i < len(kv); i += 2 {
		j := -1
		for k, c := range h.Columns {
			if c == kv[i] {
				j = k
			}
		}
		if j < 0 {
			panic("row: no column " + kv[i])
		}
		r.Fields[j] = kv[i+1]
	}
	return r
}

// readAll reads every row of r; it stops at the first error.
func readAll(r *csvio.Reader) ([]csvio.Row, error) {
	var rows []csvio.Row
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

// utf16LE encodes s as UTF-16LE with a byte order mark, as Excel's
// "Unicode text" does.
func utf16LE(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// utf16BE encodes s as UTF-16BE with a byte order mark.
func utf16BE(s string) []byte {
	b := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

// ignoreLine compares rows by Num and Fields only.
var ignoreLine = cmp.Transformer("NumFields", func(r csvio.Row) struct {
	Num    int
	Fields []string
} {
	return struct {
		Num    int
		Fields []string
	}{r.Num, r.Fields}
})

// fixtureRows are the rows every file in testdata holds; the files with
// CRLF line ends have CR LF in the quoted cell too (fixtureCRLF).
var fixtureRows = []csvio.Row{
	row(1, 2, "parentId", "pol-1", "id", "dev-1", "status", "compliant", "userName", "alice@contoso.com", "deviceDisplayName", "Alice's laptop"),
	row(2, 3, "parentId", "pol-1", "id", "dev-2", "status", "nonCompliant", "userName", "Smith, Bob", "deviceDisplayName", "Bob's PC\nsecond desk"),
	row(3, 5, "parentId", "pol-2", "id", "dev-3", "status", "error", "userName", `Jürgen "JJ" Ødegård`),
}

// fixtureCRLF returns fixtureRows as a file with CRLF line ends holds
// them: the line break inside the quoted cell is CR LF.
func fixtureCRLF() []csvio.Row {
	rows := slices.Clone(fixtureRows)
	rows[1].Fields = slices.Clone(rows[1].Fields)
	for i, f := range rows[1].Fields {
		rows[1].Fields[i] = strings.ReplaceAll(f, "\n", "\r\n")
	}
	return rows
}

// TestReadFixtures reads every dialect in testdata and expects the same
// rows (Num and Fields) from each.
func TestReadFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file  string
		comma rune
	}{
		{"plain.csv", ','},
		{"bom.csv", ','},
		{"semicolon.csv", ';'},
		{"tab.tsv", '\t'},
		{"crlf.csv", ','},
		{"sep-line.csv", ';'},
		{"utf16le.csv", '\t'},
		{"quoted-newline.csv", ','},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := csvio.NewReader(f, testHeader)
			if err != nil {
				t.Fatalf("NewReader(%s) error: %v", tt.file, err)
			}
			if r.Comma != tt.comma {
				t.Errorf("NewReader(%s).Comma = %q, want %q", tt.file, r.Comma, tt.comma)
			}
			got, err := readAll(r)
			if err != nil {
				t.Fatalf("Read(%s) error: %v", tt.file, err)
			}
			want := fixtureRows
			if b, _ := os.ReadFile(filepath.Join("testdata", tt.file)); bytes.Contains(b, []byte("\r\n")) || bytes.Contains(b, []byte("\r\x00\n")) {
				want = fixtureCRLF()
			}
			if diff := cmp.Diff(want, got, ignoreLine); diff != "" {
				t.Errorf("rows of %s mismatch (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

// TestFixtureUTF16 checks that testdata/utf16le.csv is tab.tsv as Excel's
// "Unicode text" would save it: UTF-16LE with a byte order mark and CRLF
// line ends. Regenerate it with
//
//	go test ./csvio/ -run TestFixtureUTF16 -update
func TestFixtureUTF16(t *testing.T) {
	t.Parallel()
	tab, err := os.ReadFile(filepath.Join("testdata", "tab.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	want := utf16LE(strings.ReplaceAll(string(tab), "\n", "\r\n"))
	path := filepath.Join("testdata", "utf16le.csv")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not the UTF-16LE of tab.tsv; run go test -run TestFixtureUTF16 -update", path)
	}
}

// TestRead reads the dialects spreadsheet programs write and expects the
// rows (Num and Fields) of the plain file.
func TestRead(t *testing.T) {
	t.Parallel()
	plain := []csvio.Row{
		row(1, 0, "parentId", "p1", "id", "d1", "status", "compliant"),
		row(2, 0, "parentId", "p1", "id", "d2", "status", "error"),
	}
	tests := []struct {
		name   string
		input  string
		header csvio.Header // testHeader if zero
		comma  rune
		want   []csvio.Row
	}{{
		name:  "Plain",
		input: "parentId,id,status\np1,d1,compliant\np1,d2,error\n",
		comma: ',',
		want:  plain,
	}, {
		name:  "NoFinalNewline",
		input: "parentId,id,status\np1,d1,compliant\np1,d2,error",
		comma: ',',
		want:  plain,
	}, {
		name:  "BOM",
		input: "\uFEFFparentId,id,status\np1,d1,compliant\np1,d2,error\n",
		comma: ',',
		want:  plain,
	}, {
		name:  "Semicolon",
		input: "parentId;id;status\np1;d1;compliant\np1;d2;error\n",
		comma: ';',
		want:  plain,
	}, {
		name:  "Tab",
		input: "parentId\tid\tstatus\np1\td1\tcompliant\np1\td2\terror\n",
		comma: '\t',
		want:  plain,
	}, {
		name:  "CRLF",
		input: "parentId,id,status\r\np1,d1,compliant\r\np1,d2,error\r\n",
		comma: ',',
		want:  plain,
	}, {
		name:  "BOMSemicolonCRLF",
		input: "\uFEFFparentId;id;status\r\np1;d1;compliant\r\np1;d2;error\r\n",
		comma: ';',
		want:  plain,
	}, {
		name:  "SepLine",
		input: "sep=;\nparentId;id;status\np1;d1;compliant\np1;d2;error\n",
		comma: ';',
		want:  plain,
	}, {
		name:  "SepLineCRLF",
		input: "sep=;\r\nparentId;id;status\r\np1;d1;compliant\r\np1;d2;error\r\n",
		comma: ';',
		want:  plain,
	}, {
		name:  "SepLineOverridesCount",
		input: "sep=,\nparentId,id,status\np1,d1,compliant\np1,d2,error\n",
		comma: ',',
		want:  plain,
	}, {
		name:  "SepLineBOM",
		input: "\uFEFFsep=;\nparentId;id;status\np1;d1;compliant\np1;d2;error\n",
		comma: ';',
		want:  plain,
	}, {
		name:  "QuotedNewline",
		input: "parentId,id,deviceDisplayName\np1,d1,\"two\nlines\"\np1,d2,x\n",
		comma: ',',
		want: []csvio.Row{
			row(1, 0, "parentId", "p1", "id", "d1", "deviceDisplayName", "two\nlines"),
			row(2, 0, "parentId", "p1", "id", "d2", "deviceDisplayName", "x"),
		},
	}, {
		name:  "QuotedCRLFNewline",
		input: "parentId,id,deviceDisplayName\r\np1,d1,\"two\r\nlines\"\r\np1,d2,x\r\n",
		comma: ',',
		want: []csvio.Row{
			row(1, 0, "parentId", "p1", "id", "d1", "deviceDisplayName", "two\r\nlines"), // a line break in quotes is the cell's (RFC 4180)
			row(2, 0, "parentId", "p1", "id", "d2", "deviceDisplayName", "x"),
		},
	}, {
		name:  "QuotedComma",
		input: "parentId,id,userName\np1,d1,\"Smith, Bob\"\np1,d2,\"a,b,c\"\n",
		comma: ',',
		want: []csvio.Row{
			row(1, 0, "parentId", "p1", "id", "d1", "userName", "Smith, Bob"),
			row(2, 0, "parentId", "p1", "id", "d2", "userName", "a,b,c"),
		},
	}, {
		name:  "QuotedSemicolon",
		input: "parentId;id;userName\np1;d1;\"Smith; Bob\"\np1;d2;a,b\n",
		comma: ';',
		want: []csvio.Row{
			row(1, 0, "parentId", "p1", "id", "d1", "userName", "Smith; Bob"),
			row(2, 0, "parentId", "p1", "id", "d2", "userName", "a,b"),
		},
	}, {
		name:  "QuotedDelimiterInHeader",
		input: "\"parentId\";\"id\";\"status\"\np1;d1;compliant\np1;d2;error\n",
		comma: ';',
		want:  plain,
	}, {
		name:  "QuotedQuotes",
		input: "parentId,id,userName\np1,d1,\"say \"\"hi\"\"\"\n",
		comma: ',',
		want:  []csvio.Row{row(1, 0, "parentId", "p1", "id", "d1", "userName", `say "hi"`)},
	}, {
		name:  "UTF16LE",
		input: string(utf16LE("parentId\tid\tstatus\r\np1\td1\tcompliant\r\np1\td2\terror\r\n")),
		comma: '\t',
		want:  plain,
	}, {
		name:  "UTF16LENonASCII",
		input: string(utf16LE("parentId,id,userName\np1,d1,Jürgen Ødegård 日本 🎉\n")),
		comma: ',',
		want:  []csvio.Row{row(1, 0, "parentId", "p1", "id", "d1", "userName", "Jürgen Ødegård 日本 🎉")},
	}, {
		name:  "UTF16BE",
		input: string(utf16BE("parentId\tid\tstatus\r\np1\td1\tcompliant\r\np1\td2\terror\r\n")),
		comma: '\t',
		want:  plain,
	}, {
		name:  "UTF16LESepLine",
		input: string(utf16LE("sep=;\r\nparentId;id;status\r\np1;d1;compliant\r\np1;d2;error\r\n")),
		comma: ';',
		want:  plain,
	}, {
		name:  "TrailingEmptyColumns",
		input: "parentId,id,status,,\np1,d1,compliant,,\np1,d2,error,,\n",
		comma: ',',
		want:  plain,
	}, {
		name:  "TrailingEmptyCells",
		input: "parentId,id,status\np1,d1,compliant,,,\np1,d2,error,\n",
		comma: ',',
		want:  plain,
	}, {
		name:  "TrailingEmptySemicolons",
		input: "parentId;id;status;;;\np1;d1;compliant;;;\np1;d2;error;;;;;\n",
		comma: ';',
		want:  plain,
	}, {
		name:  "TrailingBlankCells",
		input: "parentId,id,status\np1,d1,compliant, , \np1,d2,error,\t\n",
		comma: ',',
		want:  plain,
	}, {
		name:  "ShortRows",
		input: "parentId,id,status\np1,d1\np1\n",
		comma: ',',
		want: []csvio.Row{
			row(1, 0, "parentId", "p1", "id", "d1"),
			row(2, 0, "parentId", "p1"),
		},
	}, {
		name:  "SpacesAfterDelimiter",
		input: " parentId , id ,status \n p1,d1, compliant\np1,  d2,error\n",
		comma: ',',
		want:  plain,
	}, {
		name:  "SpacesAfterDelimiterSemicolon",
		input: "parentId ; id ; status\np1; d1; compliant\np1;d2;error\n",
		comma: ';',
		want:  plain,
	}, {
		name:  "CaseInsensitive",
		input: "PARENTID,Id,Status\np1,d1,compliant\np1,d2,error\n",
		comma: ',',
		want:  plain,
	}, {
		name:  "ColumnOrder",
		input: "status,ID,parentid\ncompliant,d1,p1\nerror,d2,p1\n",
		comma: ',',
		want:  plain,
	}, {
		name: "AllColumns",
		input: "userPrincipalName,userName,status,lastReportedDateTime,deviceModel,deviceDisplayName,complianceGracePeriodExpirationDateTime,id,parentId\n" +
			"u@x,u,compliant,2024-01-01T00:00:00Z,m,n,2025-01-01T00:00:00Z,d1,p1\n",
		comma: ',',
		want: []csvio.Row{{Num: 1, Fields: []string{
			"p1", "d1", "2025-01-01T00:00:00Z", "n", "m", "2024-01-01T00:00:00Z", "compliant", "u", "u@x",
		}}},
	}, {
		name:  "MissingColumns",
		input: "id,parentId\nd1,p1\nd2,p1\n",
		comma: ',',
		want: []csvio.Row{
			row(1, 0, "parentId", "p1", "id", "d1"),
			row(2, 0, "parentId", "p1", "id", "d2"),
		},
	}, {
		name:  "EmptyCells",
		input: "parentId,id,status,userName\np1,d1,,\n,,compliant,\n",
		comma: ',',
		want: []csvio.Row{
			row(1, 0, "parentId", "p1", "id", "d1"),
			row(2, 0, "status", "compliant"),
		},
	}, {
		name:  "BlankLinesSkipped",
		input: "parentId,id,status\n\np1,d1,compliant\n\n\np1,d2,error\n\n",
		comma: ',',
		want:  plain,
	}, {
		name:  "DecimalCommaInSemicolonFile",
		input: "parentId;id;deviceModel\np1;d1;1,5\n",
		comma: ';',
		want:  []csvio.Row{row(1, 0, "parentId", "p1", "id", "d1", "deviceModel", "1,5")},
	}, {
		name:  "MostFrequentDelimiter",
		input: "parentId;id;status;\"a,b\"\np1;d1;compliant\np1;d2;error\n",
		header: csvio.Header{
			Columns:  append(append([]string(nil), testHeader.Columns...), "a,b"),
			Required: testHeader.Required,
		},
		comma: ';',
		want: []csvio.Row{
			{Num: 1, Fields: []string{"p1", "d1", "", "", "", "", "compliant", "", "", ""}},
			{Num: 2, Fields: []string{"p1", "d2", "", "", "", "", "error", "", "", ""}},
		},
	}, {
		name:  "HeaderOnly",
		input: "parentId,id,status\n",
		comma: ',',
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header
			if h.Columns == nil {
				h = testHeader
			}
			r, err := csvio.NewReader(strings.NewReader(tt.input), h)
			if err != nil {
				t.Fatalf("NewReader(%q) error: %v", tt.input, err)
			}
			if r.Comma != tt.comma {
				t.Errorf("NewReader(%q).Comma = %q, want %q", tt.input, r.Comma, tt.comma)
			}
			got, err := readAll(r)
			if err != nil {
				t.Fatalf("Read(%q) error: %v", tt.input, err)
			}
			if diff := cmp.Diff(tt.want, got, ignoreLine); diff != "" {
				t.Errorf("Read(%q) rows mismatch (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}

// TestReadLine checks Row.Line and RowError.Line: the line of the file
// where the record starts, counting every line of the file.
func TestReadLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  []int // Line of each Read, rows and *RowError alike
	}{
		{"Plain", "parentId,id\np1,d1\np1,d2\n", []int{2, 3}},
		{"BOM", "\uFEFFparentId,id\np1,d1\np1,d2\n", []int{2, 3}},
		{"CRLF", "parentId,id\r\np1,d1\r\np1,d2\r\n", []int{2, 3}},
		{"QuotedNewline", "parentId,id,deviceDisplayName\np1,d1,\"a\nb\nc\"\np1,d2,x\n", []int{2, 5}},
		{"QuotedNewlineInHeader", "parentId,\"id\n\"\np1,d1\n", []int{3}},
		{"BlankLines", "parentId,id\n\np1,d1\n\n\np1,d2\n", []int{3, 6}},
		{"RowError", "parentId,id\np1,d1,extra\np1,d\"2\np1,d3\n", []int{2, 3, 4}},
		{"UTF16LE", string(utf16LE("parentId\tid\r\np1\td1\r\np1\td2\r\n")), []int{2, 3}},
		// The sep= line is line 1 of the file: the header is line 2.
		{"SepLine", "sep=;\nparentId;id\np1;d1\np1;d2\n", []int{3, 4}},
		{"SepLineRowError", "sep=;\nparentId;id\np1;d1;extra\np1;d\"2\n", []int{3, 4}},
		{"SepLineBOMCRLF", "\uFEFFsep=;\r\nparentId;id\r\np1;d1\r\n", []int{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := csvio.NewReader(strings.NewReader(tt.input), testHeader)
			if err != nil {
				t.Fatalf("NewReader(%q) error: %v", tt.input, err)
			}
			var got []int
			for {
				row, err := r.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				var rowErr *csvio.RowError
				switch {
				case errors.As(err, &rowErr):
					got = append(got, rowErr.Line)
				case err != nil:
					t.Fatalf("Read(%q) error: %v", tt.input, err)
				default:
					got = append(got, row.Line)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Read(%q) lines mismatch (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}

// TestNewReaderHeaderError checks the *HeaderError for headers that do not fit.
func TestNewReaderHeaderError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		input   string
		problem string
		column  string
		suggest string // for "unknown"; "*" means any valid column or none
	}{
		{"Unknown", "parentId,id,colour\n", "unknown", "colour", ""},
		{"UnknownTypo", "parentId,id,stauts\np1,d1,compliant\n", "unknown", "stauts", "status"},
		{"UnknownTypoCase", "parentId,id,UserNmae\n", "unknown", "UserNmae", "userName"},
		{"UnknownTypoSpaces", "parentId,id, stauts \n", "unknown", "stauts", "status"},
		{"UnknownTypoFirst", "parntId,id\n", "unknown", "parntId", "parentId"},
		{"UnknownTypoSemicolon", "parentId;id;deviceModl\n", "unknown", "deviceModl", "deviceModel"},
		{"UnknownTypoLong", "parentId,id,lastReportedDatetme\n", "unknown", "lastReportedDatetme", "lastReportedDateTime"},
		{"UnknownTruncated", "parentId,id,complianceGracePeriod\n", "unknown", "complianceGracePeriod", "*"},
		{"UnknownFarOff", "parentId,id,x\n", "unknown", "x", ""},
		{"UnknownUTF16", string(utf16LE("parentId\tid\tstauts\r\n")), "unknown", "stauts", "status"},
		{"Duplicate", "parentId,id,status,status\n", "duplicate", "status", ""},
		{"DuplicateCase", "parentId,id,status,STATUS\n", "duplicate", "STATUS", ""},
		{"DuplicateSpaces", "parentId, id,id \n", "duplicate", "id", ""},
		{"DuplicateKey", "parentId,PARENTID,id\n", "duplicate", "PARENTID", ""},
		{"MissingID", "parentId,status\np1,compliant\n", "missing", "id", ""},
		{"MissingParentID", "id,status\n", "missing", "parentId", ""},
		{"MissingAll", "status\n", "missing", "parentId", ""},
		{"MissingEmptyHeaderCells", ",,\n", "missing", "parentId", ""},
		{"MissingSemicolonReadAsComma", "parentId,id;status\n", "unknown", "id;status", "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := csvio.NewReader(strings.NewReader(tt.input), testHeader)
			var he *csvio.HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("NewReader(%q) = %v, %v; want *HeaderError", tt.input, r, err)
			}
			if he.Problem != tt.problem || he.Column != tt.column {
				t.Errorf("NewReader(%q) error = %q %q, want %q %q", tt.input, he.Problem, he.Column, tt.problem, tt.column)
			}
			if diff := cmp.Diff(testHeader.Columns, he.Valid); diff != "" {
				t.Errorf("NewReader(%q) error Valid mismatch (-want +got):\n%s", tt.input, diff)
			}
			switch {
			case tt.suggest == "*":
				if he.Suggest != "" && !slices.Contains(testHeader.Columns, he.Suggest) {
					t.Errorf("NewReader(%q) error Suggest = %q, want a valid column or none", tt.input, he.Suggest)
				}
			case he.Suggest != tt.suggest:
				t.Errorf("NewReader(%q) error Suggest = %q, want %q", tt.input, he.Suggest, tt.suggest)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.column) {
				t.Errorf("NewReader(%q) error %q does not name the column %q", tt.input, msg, tt.column)
			}
			if tt.suggest != "" && tt.suggest != "*" && !strings.Contains(err.Error(), tt.suggest) {
				t.Errorf("NewReader(%q) error %q does not suggest %q", tt.input, err, tt.suggest)
			}
		})
	}
}

// TestNewReaderFine checks headers that look odd but are valid.
func TestNewReaderFine(t *testing.T) {
	t.Parallel()
	for _, input := range []string{
		"parentId,id\n",
		"parentid ,ID\n",
		"  PARENTID  ,   id  \n",
		"parentId,,id,,\n",
		"parentId,id", // no newline
	} {
		if _, err := csvio.NewReader(strings.NewReader(input), testHeader); err != nil {
			t.Errorf("NewReader(%q) error: %v, want nil", input, err)
		}
	}
}

// TestNewReaderNoHeader checks that empty input gives ErrNoHeader.
func TestNewReaderNoHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
	}{
		{"Empty", ""},
		{"BOMOnly", "\uFEFF"},
		{"NewlinesOnly", "\n\r\n\n"},
		{"SepLineOnly", "sep=;\n"},
		{"SepLineNoNewline", "sep=;"},
		{"UTF16BOMOnly", string(utf16LE(""))},
		{"UTF16Newline", string(utf16LE("\r\n"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := csvio.NewReader(strings.NewReader(tt.input), testHeader)
			if !errors.Is(err, csvio.ErrNoHeader) {
				t.Errorf("NewReader(%q) = %v, %v; want ErrNoHeader", tt.input, r, err)
			}
		})
	}
}

// TestNewReaderCROnly checks that a file with bare-CR line endings is
// refused with ErrCROnly, and that CRs inside quotes or before LF are not
// mistaken for one.
func TestNewReaderCROnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  error
	}{
		{"CROnly", "parentId,id\rp1,e1\rp2,e2\r", csvio.ErrCROnly},
		{"CROnlyUTF16", string(utf16LE("parentId,id\rp1,e1\r")), csvio.ErrCROnly},
		{"CRLF", "parentId,id\r\np1,e1\r\n", nil},
		{"CRInQuotedHeader", "parentId,\"i\rd\"\np1,e1\n", nil},
		{"HeaderOnlyEndingInCR", "parentId,id\r", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := csvio.NewReader(strings.NewReader(tt.input), testHeader)
			if tt.want != nil && !errors.Is(err, tt.want) || tt.want == nil && errors.Is(err, csvio.ErrCROnly) {
				t.Errorf("NewReader(%q) error = %v; want %v", tt.input, err, tt.want)
			}
		})
	}
}

// readResult is what one Read returns: a row, or a *RowError for row
// errRow at line errLine wrapping errIs (if set), or io.EOF.
type readResult struct {
	row     csvio.Row
	errRow  int
	errLine int
	errIs   error
	eof     bool
}

func (rr readResult) String() string {
	switch {
	case rr.eof:
		return "EOF"
	case rr.errRow > 0:
		return fmt.Sprintf("RowError{Row: %d, Line: %d, Err: %v}", rr.errRow, rr.errLine, rr.errIs)
	}
	return fmt.Sprintf("%+v", rr.row)
}

// TestReadRowError checks that records which are not rows give a *RowError
// with their row number, and that reading goes on after them.
func TestReadRowError(t *testing.T) {
	t.Parallel()
	p := "parentId,id,status\n"
	tests := []struct {
		name  string
		input string
		want  []readResult
	}{{
		name:  "ExtraCell",
		input: p + "p1,d1,compliant\np1,d2,error,extra\np1,d3,conflict\n",
		want: []readResult{
			{row: row(1, 2, "parentId", "p1", "id", "d1", "status", "compliant")},
			{errRow: 2, errLine: 3},
			{row: row(3, 4, "parentId", "p1", "id", "d3", "status", "conflict")},
			{eof: true},
		},
	}, {
		name:  "ExtraCellAfterEmpties",
		input: p + "p1,d1,compliant,,,x\np1,d2,error\n",
		want: []readResult{
			{errRow: 1, errLine: 2},
			{row: row(2, 3, "parentId", "p1", "id", "d2", "status", "error")},
			{eof: true},
		},
	}, {
		name:  "ExtraCellUnderEmptyHeaderBeyondIt",
		input: "parentId,id,status,\np1,d1,compliant,,x\np1,d2,error\n",
		want: []readResult{
			{errRow: 1, errLine: 2},
			{row: row(2, 3, "parentId", "p1", "id", "d2", "status", "error")},
			{eof: true},
		},
	}, {
		name:  "ValueUnderUnnamedColumn",
		input: "parentId,id,,status\np1,d1,LOST,ok\np1,d2,,error\n",
		want: []readResult{
			{errRow: 1, errLine: 2},
			{row: row(2, 3, "parentId", "p1", "id", "d2", "status", "error")},
			{eof: true},
		},
	}, {
		name:  "ExtraCellFirstRow",
		input: p + "p1,d1,compliant,x\n",
		want: []readResult{
			{errRow: 1, errLine: 2},
			{eof: true},
		},
	}, {
		name:  "ExtraCellMultilineBefore",
		input: p + "p1,d1,\"a\nb\"\np1,d2,x,y\np1,d3,z\n",
		want: []readResult{
			{row: row(1, 2, "parentId", "p1", "id", "d1", "status", "a\nb")},
			{errRow: 2, errLine: 4},
			{row: row(3, 5, "parentId", "p1", "id", "d3", "status", "z")},
			{eof: true},
		},
	}, {
		name:  "BareQuote",
		input: p + "p1,d1,compliant\np1,d\"2,error\np1,d3,conflict\n",
		want: []readResult{
			{row: row(1, 2, "parentId", "p1", "id", "d1", "status", "compliant")},
			{errRow: 2, errLine: 3, errIs: csv.ErrBareQuote},
			{row: row(3, 4, "parentId", "p1", "id", "d3", "status", "conflict")},
			{eof: true},
		},
	}, {
		name:  "ExtraneousQuote",
		input: p + "p1,\"d1\"x,compliant\np1,d2,error\n",
		want: []readResult{
			{errRow: 1, errLine: 2, errIs: csv.ErrQuote},
			{row: row(2, 3, "parentId", "p1", "id", "d2", "status", "error")},
			{eof: true},
		},
	}, {
		name:  "UnterminatedQuote",
		input: p + "p1,d1,compliant\np1,\"d2,error\np1,d3,conflict\n",
		want: []readResult{
			{row: row(1, 2, "parentId", "p1", "id", "d1", "status", "compliant")},
			{errRow: 2, errLine: 3, errIs: csv.ErrQuote},
			{eof: true},
		},
	}, {
		name:  "SeveralErrors",
		input: p + "a,b,c,d\ne\"f\n\ng,h,i,j\np1,d5,ok\n",
		want: []readResult{
			{errRow: 1, errLine: 2},
			{errRow: 2, errLine: 3, errIs: csv.ErrBareQuote},
			{errRow: 3, errLine: 5},
			{row: row(4, 6, "parentId", "p1", "id", "d5", "status", "ok")},
			{eof: true},
		},
	}, {
		name:  "EOFRepeats",
		input: p + "p1,d1,x\n",
		want: []readResult{
			{row: row(1, 2, "parentId", "p1", "id", "d1", "status", "x")},
			{eof: true},
			{eof: true},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := csvio.NewReader(strings.NewReader(tt.input), testHeader)
			if err != nil {
				t.Fatalf("NewReader(%q) error: %v", tt.input, err)
			}
			for i, want := range tt.want {
				got, err := r.Read()
				var rowErr *csvio.RowError
				switch {
				case want.eof:
					if err != io.EOF {
						t.Errorf("Read(%q) #%d = %+v, %v; want EOF", tt.input, i+1, got, err)
					}
				case want.errRow > 0:
					if !errors.As(err, &rowErr) {
						t.Errorf("Read(%q) #%d = %+v, %v; want %v", tt.input, i+1, got, err, want)
						continue
					}
					if rowErr.Row != want.errRow || rowErr.Line != want.errLine {
						t.Errorf("Read(%q) #%d = %v, want %v", tt.input, i+1, err, want)
					}
					if want.errIs != nil && !errors.Is(err, want.errIs) {
						t.Errorf("Read(%q) #%d = %v, want an error wrapping %v", tt.input, i+1, err, want.errIs)
					}
				default:
					if err != nil {
						t.Errorf("Read(%q) #%d error: %v, want %v", tt.input, i+1, err, want)
						continue
					}
					if diff := cmp.Diff(want.row, got); diff != "" {
						t.Errorf("Read(%q) #%d mismatch (-want +got):\n%s", tt.input, i+1, diff)
					}
				}
			}
		})
	}
}

// TestReadFieldsNotShared checks that a Row's Fields survive later Reads:
// rows are handed to other goroutines.
func TestReadFieldsNotShared(t *testing.T) {
	t.Parallel()
	input := "parentId,id,status\np1,d1,compliant\np2,d2,error\n"
	r, err := csvio.NewReader(strings.NewReader(input), testHeader)
	if err != nil {
		t.Fatal(err)
	}
	first, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	want := row(1, 2, "parentId", "p1", "id", "d1", "status", "compliant")
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("first Read(%q) changed by the second (-want +got):\n%s", input, diff)
	}
}

// lazyCSV yields a header and n generated rows, producing them as it is
// read, and counts the bytes handed out.
type lazyCSV struct {
	header  string
	n       int
	next    int
	pending []byte
	read    int
	encode  func(string) []byte // nil for UTF-8
}

func (l *lazyCSV) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) { // fill p, as a file would
		if len(l.pending) == 0 {
			if l.next > l.n {
				break
			}
			line := l.header
			if l.next > 0 {
				line = fmt.Sprintf("pol-%d,dev-%07d,compliant,user%d@contoso.com\r\n", l.next%7, l.next, l.next)
			}
			l.next++
			if l.encode != nil {
				l.pending = l.encode(line)
			} else {
				l.pending = []byte(line)
			}
		}
		c := copy(p[n:], l.pending)
		l.pending = l.pending[c:]
		n += c
	}
	l.read += n
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// TestReadStreams checks that the Reader reads its input as it goes: reading
// 10 rows of a 200,000-row file reads a small part of it.
func TestReadStreams(t *testing.T) {
	t.Parallel()
	const rows = 200_000
	utf16NoBOM := func(s string) []byte { return utf16LE(s)[2:] }
	tests := []struct {
		name string
		src  *lazyCSV
	}{
		{"UTF8", &lazyCSV{header: "parentId,id,status,userName\r\n", n: rows}},
		{"UTF16LE", &lazyCSV{header: "\uFEFFparentId,id,status,userName\r\n", n: rows, encode: utf16NoBOM}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := csvio.NewReader(tt.src, testHeader)
			if err != nil {
				t.Fatalf("NewReader error: %v", err)
			}
			for i := 1; i <= 10; i++ {
				got, err := r.Read()
				if err != nil {
					t.Fatalf("Read #%d error: %v", i, err)
				}
				want := row(i, i+1, "parentId", fmt.Sprintf("pol-%d", i%7), "id", fmt.Sprintf("dev-%07d", i),
					"status", "compliant", "userName", fmt.Sprintf("user%d@contoso.com", i))
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("Read #%d mismatch (-want +got):\n%s", i, diff)
				}
			}
			size := len(tt.src.header) + rows*len("pol-1,dev-0000001,compliant,user1@contoso.com\r\n")
			if tt.src.encode != nil {
				size *= 2
			}
			t.Logf("reading 10 rows read %d bytes of about %d", tt.src.read, size)
			if limit := min(256<<10, size/20); tt.src.read > limit {
				t.Errorf("reading 10 rows read %d bytes of about %d; want at most %d", tt.src.read, size, limit)
			}
		})
	}
}

// TestReadLongHeader checks headers longer than the 512 bytes the
// delimiter sniffer looks at first.
func TestReadLongHeader(t *testing.T) {
	t.Parallel()
	many := csvio.Header{Required: []string{"parentId", "id"}}
	many.Columns = []string{"parentId", "id"}
	for i := range 200 {
		many.Columns = append(many.Columns, fmt.Sprintf("extendedAttribute%03d", i))
	}
	manyRow := make([]string, len(many.Columns))
	for i := range manyRow {
		manyRow[i] = fmt.Sprintf("v%d", i)
	}
	long := strings.Repeat("x", 5000)
	longHeader := csvio.Header{Columns: []string{"parentId", "id", long}, Required: []string{"parentId", "id"}}
	tests := []struct {
		name   string
		header csvio.Header
		input  string
		comma  rune
		want   []csvio.Row
	}{{
		name:   "ManyColumnsSemicolon",
		header: many,
		input:  strings.Join(many.Columns, ";") + "\n" + strings.Join(manyRow, ";") + "\n",
		comma:  ';',
		want:   []csvio.Row{{Num: 1, Line: 2, Fields: manyRow}},
	}, {
		name:   "ManyColumnsTab",
		header: many,
		input:  strings.Join(many.Columns, "\t") + "\r\n" + strings.Join(manyRow, "\t") + "\r\n",
		comma:  '\t',
		want:   []csvio.Row{{Num: 1, Line: 2, Fields: manyRow}},
	}, {
		name:   "PaddedFirstName",
		header: testHeader,
		input:  "parentId" + strings.Repeat(" ", 600) + ";id;status\np1;d1;compliant\n",
		comma:  ';',
		want:   []csvio.Row{row(1, 2, "parentId", "p1", "id", "d1", "status", "compliant")},
	}, {
		name:   "LongName",
		header: longHeader,
		input:  long + "\tparentId\tid\nv\tp1\td1\n",
		comma:  '\t',
		want:   []csvio.Row{{Num: 1, Line: 2, Fields: []string{"p1", "d1", "v"}}},
	}, {
		name:   "LongNameUTF16",
		header: longHeader,
		input:  string(utf16LE(long + ";parentId;id\r\nv;p1;d1\r\n")),
		comma:  ';',
		want:   []csvio.Row{{Num: 1, Line: 2, Fields: []string{"p1", "d1", "v"}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := csvio.NewReader(strings.NewReader(tt.input), tt.header)
			if err != nil {
				t.Fatalf("NewReader(%.40q...) error: %v", tt.input, err)
			}
			if r.Comma != tt.comma {
				t.Errorf("NewReader(%.40q...).Comma = %q, want %q", tt.input, r.Comma, tt.comma)
			}
			got, err := readAll(r)
			if err != nil {
				t.Fatalf("Read(%.40q...) error: %v", tt.input, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Read(%.40q...) mismatch (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}

// TestReadSingleColumn checks a file with one column: there is no
// delimiter to find, and values may hold any of the candidates.
func TestReadSingleColumn(t *testing.T) {
	t.Parallel()
	h := csvio.Header{Columns: []string{"id", "status"}, Required: []string{"id"}}
	tests := []struct {
		name  string
		input string
		want  []csvio.Row
	}{
		{"Plain", "id\nd1\nd2\n", []csvio.Row{rowOf(h, 1, 2, "id", "d1"), rowOf(h, 2, 3, "id", "d2")}},
		{"CRLFNoFinalNewline", "ID\r\nd1\r\nd2", []csvio.Row{rowOf(h, 1, 2, "id", "d1"), rowOf(h, 2, 3, "id", "d2")}},
		{"BOM", "\uFEFFid\nd1\n", []csvio.Row{rowOf(h, 1, 2, "id", "d1")}},
		{"SemicolonInValue", "id\na;b\n", []csvio.Row{rowOf(h, 1, 2, "id", "a;b")}},
		{"TabInValue", "id\na\tb\n", []csvio.Row{rowOf(h, 1, 2, "id", "a\tb")}},
		{"QuotedComma", "id\n\"a,b\"\n", []csvio.Row{rowOf(h, 1, 2, "id", "a,b")}},
		{"UTF16", string(utf16LE("id\r\nd1\r\n")), []csvio.Row{rowOf(h, 1, 2, "id", "d1")}},
		{"HeaderNoNewline", "id", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, readString(t, tt.input, h)); diff != "" {
				t.Errorf("Read(%q) mismatch (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}

// errReader fails after its data.
type errReader struct {
	data []byte
	err  error
}

func (e *errReader) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

// TestReadIOError checks that a failing source is reported, not taken for
// the end of the file.
func TestReadIOError(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk on fire")
	if _, err := csvio.NewReader(&errReader{err: boom}, testHeader); !errors.Is(err, boom) {
		t.Errorf("NewReader(failing reader) error = %v, want %v", err, boom)
	}
	r, err := csvio.NewReader(&errReader{data: []byte("parentId,id\np1,d1\n"), err: boom}, testHeader)
	if err != nil {
		t.Fatalf("NewReader error: %v", err)
	}
	if _, err := r.Read(); err != nil {
		t.Fatalf("Read #1 error: %v", err)
	}
	if _, err := r.Read(); !errors.Is(err, boom) {
		t.Errorf("Read #2 error = %v, want %v", err, boom)
	}
}

func TestReadReuseFields(t *testing.T) {
	t.Parallel()
	r, err := csvio.NewReader(strings.NewReader("parentId,id,status\np1,d1,ok\np2,d2,\n"), csvio.Header{Columns: []string{"parentId", "id", "status"}})
	if err != nil {
		t.Fatal(err)
	}
	r.ReuseFields = true
	first, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	keep := first.Fields[2]
	second, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if &first.Fields[0] != &second.Fields[0] {
		t.Error("ReuseFields: Read returned a new Fields slice")
	}
	if second.Fields[2] != "" || keep != "ok" {
		t.Errorf("reused Fields = %q, kept cell %q; want the second row's empty status, and the first cell intact", second.Fields, keep)
	}
}

// TestReadRowErrorKeepsKeys checks that a record with cells beyond the
// header, or under a column with no name, still gives its keys, so that
// the results can name the entity, while a quoting error gives none.
func TestReadRowErrorKeepsKeys(t *testing.T) {
	t.Parallel()
	input := "parentId,id,status,\np1,d1,compliant,,extra\np2,d2,compliant,unnamed\np3,\"d3\"x,compliant\n"
	r, err := csvio.NewReader(strings.NewReader(input), testHeader)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ parentID, id string }{{"p1", "d1"}, {"p2", "d2"}, {"", ""}} {
		row, err := r.Read()
		var re *csvio.RowError
		if !errors.As(err, &re) {
			t.Fatalf("Read = %+v, %v; want a *RowError", row, err)
		}
		var parentID, id string
		if len(row.Fields) >= 2 {
			parentID, id = row.Fields[0], row.Fields[1]
		}
		if parentID != want.parentID || id != want.id {
			t.Errorf("row %d (%v): keys %q/%q, want %q/%q", re.Row, re.Err, parentID, id, want.parentID, want.id)
		}
	}
}

// TestReadCellsAsGiven checks that cells come as the file has them: only
// spaces after a delimiter go (in a file that is not TAB-separated), and a
// quoted cell keeps all of its own.
func TestReadCellsAsGiven(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  []csvio.Row
	}{
		{"TrailingSpaces", "parentId,id,status\np1 ,d1  ,compliant \n",
			[]csvio.Row{row(1, 2, "parentId", "p1 ", "id", "d1  ", "status", "compliant ")}},
		{"SpaceAfterDelimiterBeforeQuote", "parentId,id,userName\np1, d1, \"Smith, Bob\"\n",
			[]csvio.Row{row(1, 2, "parentId", "p1", "id", "d1", "userName", "Smith, Bob")}},
		{"QuotedLeadingSpace", "parentId,id,userName\np1,\" d1\",\"  Bob \"\n",
			[]csvio.Row{row(1, 2, "parentId", "p1", "id", " d1", "userName", "  Bob ")}},
		{"Semicolon", "parentId;id;userName\np1; d1 ;\" Bob\"\n",
			[]csvio.Row{row(1, 2, "parentId", "p1", "id", "d1 ", "userName", " Bob")}},
		{"TabKeepsSpaces", "parentId\tid\tuserName\n p1\t d1 \t  \n",
			[]csvio.Row{row(1, 2, "parentId", " p1", "id", " d1 ", "userName", "  ")}},
		{"TabKeepsEmptyCells", "parentId\tid\tstatus\tuserName\np1\t\t\tBob\n",
			[]csvio.Row{row(1, 2, "parentId", "p1", "userName", "Bob")}},
		{"HeaderNamesTrimmed", " parentId ,\tid\t,\" status \"\np1,d1,x\n",
			[]csvio.Row{row(1, 2, "parentId", "p1", "id", "d1", "status", "x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, readString(t, tt.input, testHeader)); diff != "" {
				t.Errorf("Read(%q) mismatch (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}

// TestReadRoundTripsEncodingCSV checks that what encoding/csv writes, as an
// export does, reads back cell for cell: leading spaces included.
func TestReadRoundTripsEncodingCSV(t *testing.T) {
	t.Parallel()
	h := csvio.Header{Columns: []string{"id", "a", "b"}}
	want := [][]string{
		{" lead", "trail ", "  both  "},
		{"\tTAB", "a, b", `say "hi"`},
		{"two\nlines", " ", "#null"},
		{"CR LF\r\ninside", "a lone\rCR", "\r\n"}, // as Graph may hold text typed on Windows
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(h.Columns)
	_ = w.WriteAll(want)
	r, err := csvio.NewReader(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(r)
	if err != nil {
		t.Fatalf("Read error: %v", err)
	}
	var got [][]string
	for _, row := range rows {
		got = append(got, row.Fields)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cells written by encoding/csv read back mismatch (-want +got):\n%s", diff)
	}
}

// TestReadKeepsCRLFInQuotedCells: a line break inside a quoted cell is
// part of the value, CR LF included (RFC 4180), whatever ends the file's
// lines; encoding/csv alone would turn it into LF, and a value read back
// from an export would differ from Graph's.
func TestReadKeepsCRLFInQuotedCells(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  []csvio.Row
	}{
		{"LFLines", "parentId,id,status\np1,d1,\"a\r\nb\"\np2,d2,\"c\nd\"\n",
			[]csvio.Row{row(1, 2, "parentId", "p1", "id", "d1", "status", "a\r\nb"), row(2, 4, "parentId", "p2", "id", "d2", "status", "c\nd")}},
		{"CRLFLines", "parentId,id,status\r\np1,d1,\"a\r\nb\"\r\np2,\"d\"\"2\",x\r\n",
			[]csvio.Row{row(1, 2, "parentId", "p1", "id", "d1", "status", "a\r\nb"), row(2, 4, "parentId", "p2", "id", `d"2`, "status", "x")}},
		{"SemicolonSpaces", "parentId;id;status\np1; \"x;\r\n\"\"y\"\"\"; \"\r\n\"\n",
			[]csvio.Row{row(1, 2, "parentId", "p1", "id", "x;\r\n\"y\"", "status", "\r\n")}},
		{"NoFinalNewline", "parentId,id,status\np1,d1,\"a\r\nb\"",
			[]csvio.Row{row(1, 2, "parentId", "p1", "id", "d1", "status", "a\r\nb")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, readString(t, tt.input, testHeader)); diff != "" {
				t.Errorf("Read(%q) mismatch (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}

// TestReadSkipsEmptyRecords checks that a line of delimiters only, as
// spreadsheets leave at the end, is no row: it takes no row number.
func TestReadSkipsEmptyRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  []csvio.Row
	}{
		{"Commas", "parentId,id,status\n,,\np1,d1,x\n,,\n,,\n",
			[]csvio.Row{row(1, 3, "parentId", "p1", "id", "d1", "status", "x")}},
		{"MoreCommasThanColumns", "parentId,id\n,,,,\np1,d1\n", []csvio.Row{row(1, 3, "parentId", "p1", "id", "d1")}},
		{"Semicolons", "parentId;id\r\n;\r\np1;d1\r\n;\r\n", []csvio.Row{row(1, 3, "parentId", "p1", "id", "d1")}},
		{"SpacesAfterCommas", "parentId,id\n , \np1,d1\n", []csvio.Row{row(1, 3, "parentId", "p1", "id", "d1")}},
		{"Tabs", "parentId\tid\n\t\np1\td1\n", []csvio.Row{row(1, 3, "parentId", "p1", "id", "d1")}},
		{"QuotedEmpty", "parentId,id\n\"\",\"\"\np1,d1\n", []csvio.Row{row(1, 3, "parentId", "p1", "id", "d1")}},
		// A space is a value in a TAB-separated file: the row is reported.
		{"TabSpace", "parentId\tid\n \t\np1\td1\n", []csvio.Row{row(1, 2, "parentId", " "), row(2, 3, "parentId", "p1", "id", "d1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, readString(t, tt.input, testHeader)); diff != "" {
				t.Errorf("Read(%q) mismatch (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}

// readString reads every row of input with header h, failing t on an
// error other than a *RowError.
func readString(t *testing.T, input string, h csvio.Header) []csvio.Row {
	t.Helper()
	r, err := csvio.NewReader(strings.NewReader(input), h)
	if err != nil {
		t.Fatalf("NewReader(%q) error: %v", input, err)
	}
	got, err := readAll(r)
	if err != nil {
		t.Fatalf("Read(%q) error: %v", input, err)
	}
	return got
}

// readEvent is one Read's answer, for tests that follow a whole file.
type readEvent struct {
	Num, Line int
	Fields    []string // a row's
	Err       string   // a *RowError's message, "" for a row
}

// readEvents reads r to the end; any error but a *RowError fails t.
func readEvents(t *testing.T, r *csvio.Reader) []readEvent {
	t.Helper()
	var got []readEvent
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return got
		}
		var re *csvio.RowError
		switch {
		case errors.As(err, &re):
			got = append(got, readEvent{Num: re.Row, Line: re.Line, Err: re.Err.Error()})
		case err != nil:
			t.Fatalf("Read error: %v", err)
		default:
			got = append(got, readEvent{Num: row.Num, Line: row.Line, Fields: slices.Clone(row.Fields)})
		}
	}
}

// TestReadQuoteLeftOpen checks that a quote left open never makes rows
// vanish: the row it starts in is reported, naming where the quote opened
// and the lines it swallowed (issue #10: a display name typed as
// `"Laptop 3, 15 inch` made the rows after it disappear).
func TestReadQuoteLeftOpen(t *testing.T) {
	t.Parallel()
	h := csvio.Header{Columns: []string{"parentId", "id", "deviceDisplayName", "status"}}
	const head = "parentId,id,deviceDisplayName,status\np1,d1,Desk 1,compliant\n"
	tests := []struct {
		name  string
		input string
		want  []readEvent // Fields nil: any; Err: what the message contains
		is    error       // what the *RowError wraps, if anything
	}{{
		name:  "NeverClosed",
		input: head + "p1,d2,\"Laptop 3, 15 inch,compliant\np1,d3,Desk 3,compliant\np1,d4,Desk 4,compliant\np1,d5,Desk 5,compliant\n",
		want: []readEvent{
			{Num: 1, Line: 2, Fields: []string{"p1", "d1", "Desk 1", "compliant"}},
			{Num: 2, Line: 3, Err: "a quote in the record on line 3 is never closed as expected: it swallowed lines 4-6 (3 lines); close the quote or remove it"},
		},
		is: csv.ErrQuote,
	}, {
		name:  "ClosedByAStrayQuote",
		input: head + "p1,d2,\"Laptop 3, 15 inch,compliant\np1,d3,\"Desk 3\",compliant\np1,d4,Desk 4,compliant\n",
		want: []readEvent{
			{Num: 1, Line: 2, Fields: []string{"p1", "d1", "Desk 1", "compliant"}},
			{Num: 2, Line: 3, Err: "a quote in the record on line 3 is never closed as expected: it swallowed line 4 (1 line)"},
			{Num: 3, Line: 5, Fields: []string{"p1", "d4", "Desk 4", "compliant"}},
		},
		is: csv.ErrQuote,
	}, {
		name:  "ClosedAtALineEnd",
		input: head + "p1,d2,\"Laptop 3, 15 inch,compliant\np1,d3,Desk 3,compliant\np1,d4,Desk 4,\"\np1,d5,Desk 5,compliant\n",
		want: []readEvent{
			{Num: 1, Line: 2, Fields: []string{"p1", "d1", "Desk 1", "compliant"}},
			{Num: 2, Line: 3, Err: "a quote opened on line 3 is never closed as expected: it swallowed lines 4-5 (2 lines), which look like rows; close the quote or remove it"},
			{Num: 3, Line: 6, Fields: []string{"p1", "d5", "Desk 5", "compliant"}},
		},
	}, {
		name:  "AfterASepLine",
		input: "sep=;\nparentId;id;deviceDisplayName;status\np1;d2;\"Laptop 3; 15 inch;compliant\np1;d3;Desk 3;compliant\np1;d4;\"\n",
		want: []readEvent{
			{Num: 1, Line: 3, Err: "a quote opened on line 3 is never closed as expected: it swallowed lines 4-5 (2 lines)"},
		},
	}, {
		name:  "QuoteOpensOnTheSecondLineOfARecord",
		input: head + "p1,d2,\"two\nlines\",\"open\np1,d3,Desk 3,compliant\n\"\n",
		want: []readEvent{
			{Num: 1, Line: 2, Fields: []string{"p1", "d1", "Desk 1", "compliant"}},
			{Num: 2, Line: 3, Err: "a quote opened on line 4 is never closed as expected: it swallowed lines 5-6 (2 lines)"},
		},
	}, {
		name:  "CRLF",
		input: strings.ReplaceAll(head+"p1,d2,\"Laptop 3, 15 inch,compliant\np1,d3,Desk 3,compliant\np1,d4,\"\n", "\n", "\r\n"),
		want: []readEvent{
			{Num: 1, Line: 2, Fields: []string{"p1", "d1", "Desk 1", "compliant"}},
			{Num: 2, Line: 3, Err: "swallowed lines 4-5 (2 lines)"},
		},
	}, {
		// A value over lines whose lines have fewer delimiters than the
		// header is a value: an address, a note.
		name:  "MultiLineValue",
		input: head + "p1,d2,\"Floor 3, desk 12\nBuilding B\n\nnear the window, left\",compliant\np1,d3,Desk 3,compliant\n",
		want: []readEvent{
			{Num: 1, Line: 2, Fields: []string{"p1", "d1", "Desk 1", "compliant"}},
			{Num: 2, Line: 3, Fields: []string{"p1", "d2", "Floor 3, desk 12\nBuilding B\n\nnear the window, left", "compliant"}},
			{Num: 3, Line: 7, Fields: []string{"p1", "d3", "Desk 3", "compliant"}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := csvio.NewReader(strings.NewReader(tt.input), h)
			if err != nil {
				t.Fatalf("NewReader(%q) error: %v", tt.input, err)
			}
			got := readEvents(t, r)
			if len(got) != len(tt.want) {
				t.Fatalf("Read(%q) gave %d rows and errors, want %d:\n%+v", tt.input, len(got), len(tt.want), got)
			}
			for i, want := range tt.want {
				g := got[i]
				if g.Num != want.Num || g.Line != want.Line || !strings.Contains(g.Err, want.Err) || (want.Err == "") != (g.Err == "") ||
					want.Fields != nil && !slices.Equal(g.Fields, want.Fields) {
					t.Errorf("Read(%q) #%d = %+v, want %+v", tt.input, i+1, g, want)
				}
			}
		})
	}
	t.Run("Wraps", func(t *testing.T) {
		t.Parallel()
		r, err := csvio.NewReader(strings.NewReader(tests[0].input), h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = r.Read()
		if _, err := r.Read(); !errors.Is(err, csv.ErrQuote) {
			t.Errorf("Read of a quote never closed = %v, want an error wrapping csv.ErrQuote", err)
		}
	})
}

// TestReadMaxCell checks that a cell over the limit makes its row a
// *RowError, and that reading goes on.
func TestReadMaxCell(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		maxCell int
		cell    int    // bytes of the long cell
		want    string // in the message; "" for no error
	}{
		{"DefaultAtLimit", 0, 1 << 20, ""},
		{"DefaultOver", 0, 1<<20 + 1, `column "userName" has 1048577 bytes; the most a cell may have is 1 MiB`},
		{"SetAtLimit", 10, 10, ""},
		{"SetOver", 10, 11, `column "userName" has 11 bytes; the most a cell may have is 10 bytes`},
		{"KiB", 4 << 10, 5000, "the most a cell may have is 4 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := testHeader
			h.MaxCell = tt.maxCell
			input := "parentId,id,userName\np1,d1," + strings.Repeat("x", tt.cell) + "\np1,d2,Bob\n"
			r, err := csvio.NewReader(strings.NewReader(input), h)
			if err != nil {
				t.Fatal(err)
			}
			row, err := r.Read()
			var re *csvio.RowError
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Read of a cell of %d bytes (limit %d) error: %v", tt.cell, tt.maxCell, err)
			case tt.want != "" && (!errors.As(err, &re) || re.Row != 1 || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Read of a cell of %d bytes (limit %d) = %v; want a *RowError for row 1 saying %q", tt.cell, tt.maxCell, err, tt.want)
			case tt.want != "" && (row.Fields[0] != "p1" || row.Fields[1] != "d1"):
				t.Errorf("Read of a row with a long cell: keys %q, want p1, d1", row.Fields[:2])
			}
			if row, err := r.Read(); err != nil || row.Num != 2 || row.Fields[1] != "d2" {
				t.Errorf("Read after the long cell = %+v, %v; want row 2", row, err)
			}
		})
	}
}

// TestHeaderErrorNamesQuoted checks that input text in messages is quoted,
// so that no control character reaches a terminal, and cut short.
func TestHeaderErrorNamesQuoted(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("ü", 2_500_000) // 5 MB
	tests := []struct {
		name    string
		input   string
		want    []string // in the message
		notWant []string
	}{
		{"Huge", "parentId,id," + huge + "\n", []string{`unknown column "` + strings.Repeat("ü", 64) + `"…`}, []string{strings.Repeat("ü", 65)}},
		{"HugeDuplicate", "parentId,id," + huge + "," + huge + "\n", []string{`"…`}, []string{strings.Repeat("ü", 65)}},
		{"Escape", "parentId,id,\x1b[2Jcolour\n", []string{`unknown column "\x1b[2Jcolour"`}, []string{"\x1b"}},
		{"Newline", "parentId,id,\"col\nour\"\n", []string{`unknown column "col\nour"`}, []string{"\n"}},
		{"NotUTF8", "parentId,id,col\xffour\n", []string{`"col\xffour"`}, []string{"\xff"}},
		{"Exactly64", "parentId,id," + strings.Repeat("y", 64) + "\n", []string{`"` + strings.Repeat("y", 64) + `";`}, []string{"…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := csvio.NewReader(strings.NewReader(tt.input), testHeader)
			var he *csvio.HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("NewReader = %v, want a *HeaderError", err)
			}
			msg := err.Error()
			if len(msg) > 2000 {
				t.Errorf("HeaderError message has %d bytes", len(msg))
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("HeaderError %.300q does not contain %.300q", msg, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("HeaderError %.300q contains %.100q", msg, w)
				}
			}
		})
	}
}

// TestRowErrorValueQuoted checks that a value echoed in a *RowError is
// quoted and cut short.
func TestRowErrorValueQuoted(t *testing.T) {
	t.Parallel()
	input := "parentId,id,,status\np1,d1,\x1b]0;" + strings.Repeat("z", 10_000) + ",ok\n"
	r, err := csvio.NewReader(strings.NewReader(input), testHeader)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Read()
	var re *csvio.RowError
	if !errors.As(err, &re) {
		t.Fatalf("Read = %v, want a *RowError", err)
	}
	if msg := err.Error(); strings.Contains(msg, "\x1b") || len(msg) > 300 || !strings.Contains(msg, `"\x1b]0;zzz`) {
		t.Errorf("RowError %q: want the value quoted, escaped and cut short", msg)
	}
}

// TestHeaderHint checks that Header.Hint is asked about an unknown column,
// and its answer is in the error.
func TestHeaderHint(t *testing.T) {
	t.Parallel()
	var asked []string
	h := testHeader
	h.Hint = func(column string) string {
		asked = append(asked, column)
		if strings.EqualFold(column, "platform") {
			return "platform exists on beta only (--api-version beta)"
		}
		return ""
	}
	_, err := csvio.NewReader(strings.NewReader("parentId,id,status, Platform \n"), h)
	var he *csvio.HeaderError
	if !errors.As(err, &he) || he.Hint != "platform exists on beta only (--api-version beta)" {
		t.Fatalf("NewReader = %v, want a *HeaderError with the hint", err)
	}
	if want := `unknown column "Platform": platform exists on beta only (--api-version beta); valid columns: parentId,`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("HeaderError = %q, want it to start %q", err, want)
	}
	if diff := cmp.Diff([]string{"Platform"}, asked); diff != "" {
		t.Errorf("Hint asked about (-want +got):\n%s", diff)
	}
	_, err = csvio.NewReader(strings.NewReader("parentId,id,colour\n"), h)
	if err == nil || strings.Contains(err.Error(), ": ;") || strings.Contains(err.Error(), `"colour":`) {
		t.Errorf("NewReader with an empty hint = %v, want the plain message", err)
	}
}

// recordingReader hands out its data in small reads and counts them.
type recordingReader struct {
	data  []byte
	given int
	eofs  int
}

func (r *recordingReader) Read(p []byte) (int, error) {
	if r.given == len(r.data) {
		r.eofs++
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 1000)], r.data[r.given:])
	r.given += n
	return n, nil
}

// TestReadOffset checks that Offset counts the bytes of the input as given,
// and that the input is read once, to its end.
func TestReadOffset(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("parentId,id,status\n")
	for i := range 20_000 {
		fmt.Fprintf(&b, "p%d,d%d,compliant\n", i%7, i)
	}
	plain := b.String()
	tests := []struct {
		name string
		data []byte
	}{
		{"UTF8", []byte(plain)},
		{"BOM", []byte("\uFEFF" + plain)},
		{"UTF16LE", utf16LE(plain)},
		{"SepLine", []byte("sep=,\r\n" + plain)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := &recordingReader{data: tt.data}
			r, err := csvio.NewReader(src, testHeader)
			if err != nil {
				t.Fatal(err)
			}
			if off := r.Offset(); off != int64(src.given) || off == 0 || off >= int64(len(tt.data)) {
				t.Errorf("Offset() after NewReader = %d, want the %d bytes read so far, fewer than %d", off, src.given, len(tt.data))
			}
			rows, last := 0, int64(0)
			for {
				_, err := r.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				rows++
				off := r.Offset()
				if off < last || off != int64(src.given) {
					t.Fatalf("Offset() after row %d = %d (before: %d), want %d", rows, off, last, src.given)
				}
				last = off
			}
			if rows != 20_000 {
				t.Errorf("read %d rows, want 20000", rows)
			}
			if off := r.Offset(); off != int64(len(tt.data)) || src.given != len(tt.data) || src.eofs != 1 {
				t.Errorf("at the end Offset() = %d, input handed out %d bytes and EOF %d times; want %d, %d, once",
					off, src.given, src.eofs, len(tt.data), len(tt.data))
			}
		})
	}
}

// TestReadOffsetConcurrent calls Offset while another goroutine reads, as a
// progress display does; run with -race.
func TestReadOffsetConcurrent(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, "parentId,id\n")
		for i := range 5000 {
			_, _ = fmt.Fprintf(pw, "p,d%d\n", i)
		}
		pw.Close()
	}()
	r, err := csvio.NewReader(pr, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := r.Read(); err != nil {
				return
			}
		}
	}()
	for {
		select {
		case <-done:
			if off := r.Offset(); off != int64(len("parentId,id\n")+5000*len("p,d0\n")+(4990*1+4900*1+4000*1)) {
				t.Errorf("Offset() at the end = %d", off)
			}
			return
		default:
			_ = r.Offset()
		}
	}
}
