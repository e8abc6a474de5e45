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
	if len(header) == 0 && errors.Is(err, io.EOF) {
		return h, 0, nil
	}
	if err != nil || string(bytes.TrimRight(header, "\r\n")) != ResultHeader {
		if errors.Is(err, io.EOF) && len(header) < len(ResultHeader) && ResultHeader[:len(header)] == string(header) {
			return h, 0, nil // a header torn by a crash in the first write
		}
		return nil, 0, fmt.Errorf("%w: the first line is not %s", ErrNotResults, ResultHeader)
	}
	end := int64(len(header))
	for line := 2; ; line++ {
		rec, n, err := readRecord(br)
		if errors.Is(err, io.EOF) { // the end, or a torn record without its newline
			return h, end, nil
		}
		if err != nil {
			return nil, 0, err
		}
		if err := h.add(rec); err != nil {
			return nil, 0, fmt.Errorf("%w: line %d: %v", ErrNotResults, line, err)
		}
		end += int64(n)
	}
}

// readRecord returns the first four fields of the next record, and its
// length in bytes with its newline. Most records have no quotes and are
// split by hand without copying: the fields are valid until the next read.
// Quoted ones, which may span lines, go through encoding/csv. A record
// without a final newline gives io.EOF.
func readRecord(br *bufio.Reader) ([4][]byte, int, error) {
	var rec [4][]byte
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) || (err == nil && bytes.IndexByte(line, '"') >= 0) {
		return readQuoted(br, line, err)
	}
	if err != nil {
		return rec, 0, err // io.EOF, whether or not a torn line was read
	}
	n := len(line)
	for i := range rec {
		j := bytes.IndexByte(line, ',')
		if j < 0 {
			return rec, 0, fmt.Errorf("has %d fields, want 11", i+1)
		}
		rec[i], line = line[:j], line[j+1:]
	}
	return rec, n, nil
}

// readQuoted finishes a record whose first line, first, holds quotes or is
// very long: it reads lines until the quotes balance, then parses them.
func readQuoted(br *bufio.Reader, first []byte, err error) ([4][]byte, int, error) {
	var rec [4][]byte
	buf := append([]byte(nil), first...)
	for err != nil || bytes.Count(buf, []byte{'"'})%2 == 1 || buf[len(buf)-1] != '\n' {
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return rec, 0, err // io.EOF inside an open quote: a torn record
		}
		var more []byte
		more, err = br.ReadSlice('\n')
		buf = append(buf, more...)
	}
	c := csv.NewReader(bytes.NewReader(buf))
	c.FieldsPerRecord = 11
	fields, perr := c.Read()
	if perr != nil {
		return rec, 0, perr
	}
	for i := range rec {
		rec[i] = []byte(fields[i])
	}
	return rec, len(buf), nil
}

// add records one results line: row, policyId, id, outcome.
func (h *History) add(rec [4][]byte) error {
	row, err := strconv.Atoi(string(rec[0])) // does not allocate
	if err != nil || row < 1 || row > maxRow {
		return fmt.Errorf("row %q is not a row number", rec[0])
	}
	updated := string(rec[3]) == string(Updated)
	switch string(rec[3]) {
	case string(Updated), string(Failed), string(Invalid), string(Valid):
	default:
		return fmt.Errorf("outcome %q is not one graphbatch writes", rec[3])
	}
	pg, i := h.page(row, true), row%pageRows
	fp := fingerprint(rec[1], rec[2])
	switch pg.prints[i] {
	case 0:
		pg.prints[i] = fp
		h.rows++
	case fp:
	default:
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

// fingerprint hashes a row's keys into 1..255; 0 means "not recorded".
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
	return byte(h%255) + 1
}

// Updated reports whether row's last recorded outcome is updated.
func (h *History) Updated(row int) bool {
	pg := h.page(row, false)
	i := row % pageRows
	return pg != nil && pg.updated[i/64]&(1<<(i%64)) != 0
}

// Match reports whether row, with these keys, can be the row the results
// file recorded under its number: true if the file never recorded the row.
// A false answer means the file belongs to another input, or the input
// changed. One byte per row lets a wrong row through 1 time in 255; a
// changed input has many wrong rows, and the first one caught stops it.
func (h *History) Match(row int, policyID, id string) bool {
	pg := h.page(row, false)
	if pg == nil || pg.prints[row%pageRows] == 0 {
		return true
	}
	return pg.prints[row%pageRows] == fingerprint(policyID, id)
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
