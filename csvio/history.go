package csvio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"strings"
)

// History is what earlier runs recorded in a results file: which rows
// ended updated, and a one-byte fingerprint of each recorded row's keys,
// so that a resumed run can tell whether the file belongs to its input.
// It costs about 1.1 bytes per row, whatever the keys, in pages of
// pageRows rows, so that it grows without copying.
type History struct {
	pages []*historyPage // by row / pageRows; nil where no row was recorded
	rows  int            // distinct rows recorded
}

const pageRows = 1 << 16

type historyPage struct {
	prints  [pageRows]byte        // 0 if never recorded, else a fingerprint of policyId and id
	updated [pageRows / 64]uint64 // bit per row: its last outcome is updated
}

// NewHistory returns an empty History: nothing recorded yet.
func NewHistory() *History { return &History{} }

// maxRow bounds the row numbers a results file may name, so that a
// corrupted number cannot make History allocate without limit.
const maxRow = 1 << 31

// ErrNotResults is wrapped by ReadHistory's errors for a file that is not a
// graphbatch results file.
var ErrNotResults = errors.New("not a graphbatch results file")

// ReadHistory reads a results file and returns what it recorded, and the
// offset just past its last whole line. A torn last line, left by a crash
// in the middle of a write, is not counted: the caller truncates the file
// there and the row is sent again.
func ReadHistory(r io.Reader) (*History, int64, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	h := NewHistory()
	header, err := br.ReadSlice('\n')
	switch {
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull):
		return nil, 0, err
	case errors.Is(err, io.EOF) && strings.HasPrefix(ResultHeader, string(header)):
		return h, 0, nil // empty, or a header torn by a crash in the first write
	case err != nil || string(bytes.TrimRight(header, "\r\n")) != ResultHeader:
		return nil, 0, fmt.Errorf("%w: the first line is not %s", ErrNotResults, ResultHeader)
	}
	end, line := int64(len(header)), 2
	rd := recordReader{br: br}
	for {
		rec, n, lines, err := rd.next()
		if errors.Is(err, io.EOF) { // the end, or a torn record without its newline
			return h, end, nil
		}
		if err != nil {
			var fe formatError // declared here: taking its address makes it escape
			if errors.As(err, &fe) {
				return nil, 0, fmt.Errorf("%w: line %d: %v", ErrNotResults, line, err)
			}
			return nil, 0, err
		}
		if err := h.add(rec); err != nil {
			return nil, 0, fmt.Errorf("%w: line %d: %v", ErrNotResults, line, err)
		}
		end += int64(n)
		line += lines
	}
}

// formatError says a record is not a results line.
type formatError string

func (e formatError) Error() string { return string(e) }

// maxTorn is the longest torn tail ReadHistory cuts off: more than one
// write of the Writer can leave. An open quote running further is damage
// in the middle of the file, which must not cost the lines after it.
const maxTorn = 4 << 20

// recordReader reads the records of a results file, one at a time.
type recordReader struct {
	br  *bufio.Reader
	buf []byte // a record that spans buffer reads or lines
}

// next returns the first four fields of the next record (valid until the
// next call), its length in bytes with its newline, and how many lines it
// spans. A record without its final newline gives io.EOF.
func (rr *recordReader) next() (rec [4][]byte, n, lines int, err error) {
	line, err := rr.br.ReadSlice('\n')
	quotes := bytes.Count(line, []byte{'"'})
	if err == nil && quotes == 0 {
		rec, err = split(line, false)
		return rec, len(line), 1, err
	}
	// A record with quotes, or longer than the buffer: gather its lines
	// until its quotes balance.
	rr.buf = append(rr.buf[:0], line...)
	for errors.Is(err, bufio.ErrBufferFull) || (err == nil && quotes%2 == 1) {
		if len(rr.buf) > maxTorn && quotes%2 == 1 {
			return rec, 0, 0, formatError("a quote opens and never closes")
		}
		line, err = rr.br.ReadSlice('\n')
		quotes += bytes.Count(line, []byte{'"'})
		rr.buf = append(rr.buf, line...)
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(rr.buf) > maxTorn && quotes%2 == 1 {
			return rec, 0, 0, formatError("a quote opens and never closes")
		}
		return rec, 0, 0, err // io.EOF: a torn record
	}
	rec, err = split(rr.buf, quotes > 0)
	return rec, len(rr.buf), bytes.Count(rr.buf, []byte{'\n'}), err
}

// split returns the first four fields of the record b (with its newline),
// checking it has 11. The keys are split by hand unless quoted.
func split(b []byte, quoted bool) ([4][]byte, error) {
	var rec [4][]byte
	rest := b
	for i := range rec {
		j := bytes.IndexByte(rest, ',')
		if j < 0 || (quoted && bytes.IndexByte(rest[:j], '"') >= 0) {
			return parseQuoted(b)
		}
		rec[i], rest = rest[:j], rest[j+1:]
	}
	commas := bytes.Count(rest, []byte{','})
	if quoted {
		commas = commasOutsideQuotes(rest)
	}
	if fields := 4 + commas + 1; fields != 11 {
		return rec, formatError(fmt.Sprintf("has %d fields, want 11", fields))
	}
	return rec, nil
}

func commasOutsideQuotes(b []byte) int {
	n, quoted := 0, false
	for _, c := range b {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			n++
		}
	}
	return n
}

// parseQuoted parses a record whose keys are quoted, with encoding/csv.
func parseQuoted(b []byte) ([4][]byte, error) {
	var rec [4][]byte
	c := csv.NewReader(bytes.NewReader(b))
	c.FieldsPerRecord = 11
	fields, err := c.Read()
	if err != nil {
		return rec, formatError(err.Error())
	}
	for i := range rec {
		rec[i] = []byte(fields[i])
	}
	return rec, nil
}

// add records one results line: row, policyId, id, outcome.
func (h *History) add(rec [4][]byte) error {
	row, err := strconv.Atoi(string(rec[0])) // does not allocate
	if err != nil || row < 1 || row > maxRow {
		return fmt.Errorf("row %q is not a row number", rec[0])
	}
	// An invalid row's keys prove nothing: they may be what the person
	// fixed before resuming, or missing for a record that was not a row.
	fp, updated := byte(anyKeys), false
	switch string(rec[3]) {
	case string(Updated):
		fp, updated = fingerprint(rec[1], rec[2]), true
	case string(Failed), string(Valid):
		fp = fingerprint(rec[1], rec[2])
	case string(Invalid):
	default:
		return fmt.Errorf("outcome %q is not one graphbatch writes", rec[3])
	}
	pg, i := h.page(row, true), row%pageRows
	switch old := pg.prints[i]; {
	case old == 0:
		h.rows++
		pg.prints[i] = fp
	case old == anyKeys:
		pg.prints[i] = fp
	case fp != anyKeys && fp != old:
		return fmt.Errorf("row %d is recorded with two different policyId/id pairs: the file mixes results of different inputs", row)
	}
	word, bit := i/64, uint64(1)<<(i%64)
	if updated {
		pg.updated[word] |= bit
	} else {
		pg.updated[word] &^= bit // a later line is the row's outcome
	}
	return nil
}

// page returns the page holding row, creating it if create is set; else
// nil for a page with no recorded row.
func (h *History) page(row int, create bool) *historyPage {
	n := row / pageRows
	if n >= len(h.pages) {
		if !create {
			return nil
		}
		h.pages = append(h.pages, make([]*historyPage, n+1-len(h.pages))...)
	}
	if h.pages[n] == nil && create {
		h.pages[n] = new(historyPage)
	}
	return h.pages[n]
}

// anyKeys marks a row recorded only as invalid: any keys match it.
const anyKeys = 255

// fingerprint hashes a row's keys into 1..254; 0 means "not recorded" and
// anyKeys "recorded, keys unknown".
// It is FNV-1a over policyId, a zero byte and id.
func fingerprint[T string | []byte](policyID, id T) byte {
	const offset, prime = 2166136261, 16777619
	h := uint32(offset)
	for i := 0; i < len(policyID); i++ {
		h = (h ^ uint32(policyID[i])) * prime
	}
	h *= prime // the zero byte between the keys
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * prime
	}
	return byte(h%254) + 1
}

// Updated reports whether row's last recorded outcome is updated.
func (h *History) Updated(row int) bool {
	if row < 1 {
		return false
	}
	pg := h.page(row, false)
	i := row % pageRows
	return pg != nil && pg.updated[i/64]&(1<<(i%64)) != 0
}

// Match reports whether row, with these keys, can be the row the results
// file recorded under its number: true if the file never recorded the row.
// A false answer means the file belongs to another input, or the input
// changed. One byte per row lets a wrong row through 1 time in 254; a
// changed input has many wrong rows, and the first one caught stops it.
func (h *History) Match(row int, policyID, id string) bool {
	if row < 1 {
		return true
	}
	pg := h.page(row, false)
	if pg == nil {
		return true
	}
	switch fp := pg.prints[row%pageRows]; fp {
	case 0, anyKeys:
		return true
	default:
		return fp == fingerprint(policyID, id)
	}
}

// Rows returns how many distinct rows are recorded.
func (h *History) Rows() int { return h.rows }

// UpdatedRows returns how many rows' last outcome is updated.
func (h *History) UpdatedRows() int {
	n := 0
	for _, pg := range h.pages {
		if pg == nil {
			continue
		}
		for _, w := range pg.updated {
			n += bits.OnesCount64(w)
		}
	}
	return n
}
