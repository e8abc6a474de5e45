// Package csvio streams the input CSV row by row, and writes the results
// journal and the other CSV files of a run (Table: backups, plans, exports),
// each locked against other runs while open. It knows nothing of Graph: the
// columns it accepts, and the key columns that name a row, are given to it.
package csvio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Header says which columns a file may and must have.
type Header struct {
	Columns  []string // accepted names, in the order Row.Fields holds them; matched case-insensitively
	Required []string // names that must be present

	// MaxCell is the most bytes a cell may have: a row with a longer one
	// is a *RowError. 0 means DefaultMaxCell.
	MaxCell int

	// Hint, if set, is asked about a column of the file that is not in
	// Columns; a non-empty answer is added to the HeaderError, to say
	// for example where the column does exist.
	Hint func(column string) string
}

// DefaultMaxCell is the most bytes a cell may have unless Header.MaxCell
// says otherwise.
const DefaultMaxCell = 1 << 20

// Row is one data record of the input.
type Row struct {
	Num    int      // 1-based data row number: the header is not a row, a quoted multi-line record is one row
	Line   int      // line of the file where the record starts
	Fields []string // one per Header.Columns, "" where the file has no such column or the cell is empty
}

// Reader reads rows from a CSV file. It holds only one record at a time.
// A Reader is not safe for concurrent use.
type Reader struct {
	Comma rune // the delimiter found in the header line
	// ReuseFields makes Read return the same Fields slice each time, saving
	// an allocation a row, for callers that keep the cells (strings) but
	// not the slice past the next Read.
	ReuseFields bool

	csv     *csv.Reader
	in      *bufio.Reader // what csv reads from
	src     *bufio.Reader // what in reads from: the input as UTF-8
	tee     *recordTee    // between the two: the current record as written
	next    int64         // where the next record starts, as csv counts
	raw     *countReader  // the input as given
	names   []string      // the file's column names, trimmed
	index   []int         // for each file column, its place in Row.Fields, or -1 for an unnamed column
	width   int           // len(Header.Columns)
	maxCell int           // Header.MaxCell or DefaultMaxCell
	num     int           // rows so far
	skipped int           // lines before the header that encoding/csv did not see (Excel's sep= line)
	reused  []string      // Fields, with ReuseFields
}

// HeaderError is returned by NewReader when the header does not fit.
type HeaderError struct {
	Column  string   // the offending column as written in the file
	Problem string   // "unknown", "duplicate" or "missing"
	Valid   []string // the accepted column names
	Suggest string   // for an unknown column, the closest valid name, if one is close
	Hint    string   // for an unknown column, what Header.Hint said about it
}

// Error names the column quoted, and cut short if it is long.
func (e *HeaderError) Error() string {
	switch e.Problem {
	case "missing":
		return fmt.Sprintf("the header has no %s column (columns: %s)", e.Column, strings.Join(e.Valid, ", "))
	case "duplicate":
		return fmt.Sprintf("column %s appears twice in the header", quoteText(e.Column))
	}
	msg := "unknown column " + quoteText(e.Column)
	if e.Suggest != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", e.Suggest)
	}
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg + "; valid columns: " + strings.Join(e.Valid, ", ")
}

// quoteLimit is how many characters of input text a message quotes.
const quoteLimit = 64

// quoteText returns s for a message: Go-quoted, so that no control
// character reaches a terminal, and cut to quoteLimit characters.
func quoteText(s string) string {
	if utf8.RuneCountInString(s) <= quoteLimit {
		return strconv.Quote(s)
	}
	i, n := 0, 0
	for i = range s {
		if n == quoteLimit {
			break
		}
		n++
	}
	return strconv.Quote(s[:i]) + "…"
}

// ErrNoHeader is returned by NewReader for an empty input.
var ErrNoHeader = errors.New("the file is empty: the first line must be a header naming the columns")

// ErrCROnly is returned by NewReader for a file whose lines end in a bare
// carriage return, as Excel's "CSV (Macintosh)" writes them: encoding/csv
// would read the whole file as one header line.
var ErrCROnly = errors.New(`lines end in a carriage return alone ("CSV (Macintosh)"); save the file as "CSV UTF-8"`)

// NewReader reads and checks the header of r and returns a Reader positioned
// at the first data row. It understands what spreadsheet programs write:
// a UTF-8 or UTF-16 byte order mark, an Excel "sep=;" first line, and ",",
// ";" or TAB as delimiter, whichever the header line uses most. It reads r
// once, as it goes: r may be a pipe.
func NewReader(r io.Reader, h Header) (*Reader, error) {
	raw := &countReader{r: r}
	br, err := decodeBOM(raw)
	if err != nil {
		return nil, err
	}
	comma, skipped, err := sniffDelimiter(br)
	if err != nil {
		return nil, err
	}
	tee := &recordTee{r: br}
	in := bufio.NewReaderSize(tee, 64<<10)
	c := csv.NewReader(in) // reads from in itself: a *bufio.Reader, so Buffered tells what csv has at hand
	c.Comma = comma
	c.FieldsPerRecord = -1 // rows of a different width become invalid rows, not a stop
	c.ReuseRecord = true   // Read copies the fields it keeps
	// Spaces after a delimiter are dropped, so that `a, "b, c"` reads as
	// two cells, not as a stray quote. A value that begins with a space
	// keeps it when quoted, as encoding/csv writes it: an exported file
	// reads back as it was. A TAB-separated file keeps them all: there,
	// dropping "white space" would eat the empty cells.
	c.TrimLeadingSpace = comma != '\t'
	rd := &Reader{Comma: comma, csv: c, in: in, src: br, tee: tee, raw: raw, width: len(h.Columns), maxCell: h.MaxCell, skipped: skipped}
	if rd.maxCell <= 0 {
		rd.maxCell = DefaultMaxCell
	}
	header, err := c.Read()
	if errors.Is(err, io.EOF) {
		return nil, ErrNoHeader
	}
	if err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	rd.next = c.InputOffset()
	tee.forget(rd.next)
	rd.names = make([]string, len(header))
	for i, name := range header {
		rd.names[i] = strings.TrimSpace(name)
	}
	if rd.index, err = mapHeader(rd.names, h); err != nil {
		return nil, err
	}
	return rd, nil
}

func mapHeader(names []string, h Header) ([]int, error) {
	index := make([]int, len(names))
	seen := make(map[int]bool)
	for i, name := range names {
		if name == "" { // Excel leaves empty header cells for trailing columns
			index[i] = -1
			continue
		}
		j := indexFold(h.Columns, name)
		if j < 0 {
			e := &HeaderError{Column: name, Problem: "unknown", Valid: h.Columns, Suggest: closest(name, h.Columns)}
			if h.Hint != nil {
				e.Hint = h.Hint(name)
			}
			return nil, e
		}
		if seen[j] {
			return nil, &HeaderError{Column: name, Problem: "duplicate", Valid: h.Columns}
		}
		seen[j] = true
		index[i] = j
	}
	for _, req := range h.Required {
		if !seen[indexFold(h.Columns, req)] {
			return nil, &HeaderError{Column: req, Problem: "missing", Valid: h.Columns}
		}
	}
	return index, nil
}

func indexFold(names []string, name string) int {
	for i, n := range names {
		if strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}

// RowError is returned by Read for a record that cannot be a row; reading
// can go on past it.
type RowError struct {
	Row  int // the row number the record takes
	Line int // the line of the file where it starts
	Err  error
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d (line %d): %v", e.Row, e.Line, e.Err) }
func (e *RowError) Unwrap() error { return e.Err }

// Read returns the next row, or io.EOF after the last one. Cells are as
// the file has them, quotes undone; only spaces after a delimiter are
// dropped (see NewReader). Blank lines, and lines whose every cell is
// empty (",,,", as spreadsheets leave them), are not rows.
//
// A record that is not a row gives a *RowError carrying its row number,
// with the row's cells when they could be read (so that its keys can be
// reported); the next Read continues after it. Such records are: a quoting
// error; a quote left open that swallowed lines which look like rows
// (they hold as many delimiters as the header); cells beyond the header,
// or under a column with no name; a cell longer than Header.MaxCell.
func (r *Reader) Read() (Row, error) {
	for {
		start := r.next
		rec, err := r.csv.Read()
		r.next = r.csv.InputOffset()
		if err != nil {
			r.tee.forget(r.next)
			return Row{}, r.readError(err)
		}
		if !allEmpty(rec) {
			r.num++
			keepCRLF(rec, r.tee.record(start, r.next), r.Comma, r.csv.TrimLeadingSpace)
			r.tee.forget(r.next)
			return r.row(rec)
		}
		r.tee.forget(r.next)
	}
}

// keepCRLF puts back the CR LF line breaks that encoding/csv turned into
// LF in the quoted cells of rec: a line break inside a quoted cell is part
// of the value (RFC 4180), and Graph's text may hold CR LF, which an
// export must read back as it was. raw is the record as written. rec
// changes only when raw, split again, gives the same cells but for those
// line breaks: anything else keeps encoding/csv's reading.
func keepCRLF(rec []string, raw []byte, comma rune, trim bool) {
	if !bytes.Contains(raw, []byte("\r\n")) || !slices.ContainsFunc(rec, func(c string) bool { return strings.Contains(c, "\n") }) {
		return
	}
	cells, ok := splitRecord(raw, comma, trim)
	if !ok || len(cells) != len(rec) {
		return
	}
	for i, c := range cells {
		if strings.ReplaceAll(c, "\r\n", "\n") != rec[i] {
			return
		}
	}
	copy(rec, cells)
}

// splitRecord splits raw, one CSV record as written, after any blank
// lines, into its cells, keeping the line breaks of quoted cells as they
// are. It reports false for what it cannot split.
func splitRecord(raw []byte, comma rune, trim bool) ([]string, bool) {
	for {
		if rest, ok := bytes.CutPrefix(raw, []byte("\n")); ok {
			raw = rest
		} else if rest, ok := bytes.CutPrefix(raw, []byte("\r\n")); ok {
			raw = rest
		} else {
			break
		}
	}
	delim := string(comma)
	var cells []string
	for i := 0; ; {
		if trim {
			i += len(raw[i:]) - len(bytes.TrimLeftFunc(raw[i:], unicode.IsSpace))
		}
		if i < len(raw) && raw[i] == '"' {
			var b []byte
			for i++; ; {
				j := bytes.IndexByte(raw[i:], '"')
				if j < 0 {
					return nil, false
				}
				b = append(b, raw[i:i+j]...)
				i += j + 1
				if i >= len(raw) || raw[i] != '"' {
					break
				}
				b = append(b, '"')
				i++
			}
			cells = append(cells, string(b))
		} else {
			j := i
			for j < len(raw) && raw[j] != '\n' && !bytes.HasPrefix(raw[j:], []byte(delim)) {
				j++
			}
			cells = append(cells, string(bytes.TrimSuffix(raw[i:j], []byte("\r"))))
			i = j
		}
		switch rest := raw[i:]; {
		case bytes.HasPrefix(rest, []byte(delim)):
			i += len(delim)
		case len(rest) == 0, string(rest) == "\n", string(rest) == "\r\n", string(rest) == "\r":
			return cells, true
		default:
			return nil, false
		}
	}
}

// row turns a record read into the Row numbered r.num.
func (r *Reader) row(rec []string) (Row, error) {
	line, _ := r.csv.FieldPos(0)
	row := Row{Num: r.num, Line: line + r.skipped, Fields: r.fields()}
	var problem error
	for i, cell := range rec {
		if problem == nil {
			problem = r.checkCell(i, cell)
		}
		switch {
		case i < len(r.index) && r.index[i] >= 0:
			row.Fields[r.index[i]] = cell
		case strings.TrimSpace(cell) == "": // nothing lost
		case problem != nil:
		case i >= len(r.index):
			problem = fmt.Errorf("has %d cells but the header has %d columns", len(rec), len(r.index))
		default:
			problem = fmt.Errorf("has %s in column %d, which has no name in the header", quoteText(cell), i+1)
		}
	}
	if problem != nil {
		return row, &RowError{Row: row.Num, Line: row.Line, Err: problem}
	}
	return row, nil
}

// checkCell checks cell i of the record just read: its length, and
// whether it is a quote left open that swallowed lines looking like rows.
func (r *Reader) checkCell(i int, cell string) error {
	if len(cell) > r.maxCell {
		return fmt.Errorf("%s has %d bytes; the most a cell may have is %s", r.columnName(i), len(cell), byteSize(r.maxCell))
	}
	lines := strings.Count(cell, "\n")
	if lines == 0 || !r.swallowedRows(cell) {
		return nil
	}
	open, _ := r.csv.FieldPos(i)
	open += r.skipped
	look := "which look like rows"
	if lines == 1 {
		look = "which looks like a row"
	}
	return fmt.Errorf("a quote opened on line %d is never closed as expected: it swallowed %s, %s; close the quote or remove it",
		open, lineSpan(open+1, open+lines), look)
}

// swallowedRows reports whether a line of cell after its first holds as
// many delimiters as the header: a row that a quote left open took in.
func (r *Reader) swallowedRows(cell string) bool {
	need := len(r.index) - 1
	_, rest, _ := strings.Cut(cell, "\n")
	for rest != "" {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		if n := strings.Count(line, string(r.Comma)); n >= need && (need > 0 || line != "") {
			return true
		}
	}
	return false
}

// readError returns what Read returns for err from encoding/csv: io.EOF,
// an error reading the input, or the *RowError for a record it could not
// parse. One that ran over several lines names them: a quote left open
// swallowed them.
func (r *Reader) readError(err error) error {
	var pe *csv.ParseError // only here: taking its address moves it to the heap
	if errors.Is(err, io.EOF) || !errors.As(err, &pe) {
		return err
	}
	r.num++
	start, end := pe.StartLine+r.skipped, pe.Line+r.skipped
	err = pe.Err
	if end > start {
		err = fmt.Errorf("a quote in the record on line %d is never closed as expected: it swallowed %s; close the quote or remove it (%w)",
			start, lineSpan(start+1, end), pe.Err)
	}
	return &RowError{Row: r.num, Line: start, Err: err}
}

// lineSpan says which lines first..last are, and how many.
func lineSpan(first, last int) string {
	if first == last {
		return fmt.Sprintf("line %d (1 line)", first)
	}
	return fmt.Sprintf("lines %d-%d (%d lines)", first, last, last-first+1)
}

// columnName names the file's column i in a message.
func (r *Reader) columnName(i int) string {
	if i < len(r.names) && r.names[i] != "" {
		return "column " + quoteText(r.names[i])
	}
	return fmt.Sprintf("column %d", i+1)
}

// byteSize writes n bytes the way people say it.
func byteSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func allEmpty(rec []string) bool {
	for _, cell := range rec {
		if cell != "" {
			return false
		}
	}
	return true
}

// Buffered returns how many bytes of input are at hand: when 0, the next
// Read may wait for more.
func (r *Reader) Buffered() int { return r.in.Buffered() + r.src.Buffered() }

// Offset returns how many bytes of the input the Reader has read so far,
// counted as given (before any UTF-16 decoding), read-ahead included: with
// the size of a regular file, it tells how far reading has come. It is safe
// to call while another goroutine calls Read.
func (r *Reader) Offset() int64 { return r.raw.n.Load() }

// fields returns the slice for a row's cells, empty.
func (r *Reader) fields() []string {
	if !r.ReuseFields {
		return make([]string, r.width)
	}
	if r.reused == nil {
		r.reused = make([]string, r.width)
	}
	clear(r.reused)
	return r.reused
}

// recordTee passes r on, keeping what it passed from the start of the
// record being read, so that the record can be split again as written.
type recordTee struct {
	r    io.Reader
	buf  []byte // what was passed on from offset base
	base int64
}

func (t *recordTee) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// record returns what was passed on from offset from to offset to.
func (t *recordTee) record(from, to int64) []byte { return t.buf[from-t.base : to-t.base] }

// forget lets go of what comes before offset to, once that is enough to be
// worth moving the rest.
func (t *recordTee) forget(to int64) {
	if k := int(to - t.base); k == len(t.buf) || k >= 64<<10 {
		t.buf = t.buf[:copy(t.buf, t.buf[k:])]
		t.base = to
	}
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// decodeBOM returns a buffered reader of r's text as UTF-8: a UTF-8 byte
// order mark is dropped and UTF-16 (Excel's "Unicode text") is decoded.
func decodeBOM(r io.Reader) (*bufio.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	bom, err := br.Peek(3)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(bom, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
	case isUTF16(bom):
		dec := xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder()
		br = bufio.NewReaderSize(transform.NewReader(br, dec), 64<<10)
	}
	return br, nil
}

// isUTF16 reports whether a file starting with start is UTF-16: it starts
// with a UTF-16 byte order mark, either way round.
func isUTF16(start []byte) bool {
	return bytes.HasPrefix(start, []byte{0xFF, 0xFE}) || bytes.HasPrefix(start, []byte{0xFE, 0xFF})
}

// sepLine reports whether line is Excel's "sep=X" line naming the
// delimiter, and returns X.
func sepLine(line []byte) (byte, bool) {
	s := bytes.TrimRight(line, "\r\n")
	if len(s) == 5 && bytes.EqualFold(s[:4], []byte("sep=")) {
		return s[4], true
	}
	return 0, false
}

// sniffDelimiter consumes an Excel "sep=X" line if there is one, and says
// so, or else counts the candidate delimiters outside quotes in the header
// line.
func sniffDelimiter(br *bufio.Reader) (comma rune, skipped int, err error) {
	line, err := peekLine(br)
	if err != nil {
		return 0, 0, err
	}
	if sep, ok := sepLine(line); ok {
		_, _ = br.Discard(len(line))
		return rune(sep), 1, nil
	}
	counts := map[byte]int{}
	quoted := false
	for i, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && c == '\r' && i+1 < len(line) && line[i+1] != '\n':
			return 0, 0, ErrCROnly
		case !quoted && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best), 0, nil
}

// peekLine returns the first line of br without consuming it.
func peekLine(br *bufio.Reader) ([]byte, error) {
	for n := 512; ; n *= 2 {
		buf, err := br.Peek(n)
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			return buf[:i+1], nil
		}
		if err != nil { // EOF, or the header is longer than the buffer
			if errors.Is(err, io.EOF) || errors.Is(err, bufio.ErrBufferFull) {
				return buf, nil
			}
			return nil, err
		}
	}
}

// Present returns which of the Header's columns the file has, as a mark
// per column of Row.Fields.
func (r *Reader) Present() []bool {
	present := make([]bool, r.width)
	for _, j := range r.index {
		if j >= 0 {
			present[j] = true
		}
	}
	return present
}
