package csvio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/bits"
	"strconv"
)

// History is what earlier runs recorded in a results file: which rows
// ended updated, and a one-byte fingerprint of each recorded row's keys,
// so that a resumed run can tell whether the file belongs to its input.
// It costs about 1.1 bytes per row, whatever the keys.
type History struct {
	prints  []byte   // by row number: 0 if never recorded, else a fingerprint of policyId and id
	updated []uint64 // bit per row: its last outcome is updated
	rows    int      // distinct rows recorded
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
// split by hand; quoted ones, which may span lines, go through
// encoding/csv. A record without a final newline gives io.EOF.
func readRecord(br *bufio.Reader) ([4]string, int, error) {
	var rec [4]string
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
		rec[i], line = string(line[:j]), line[j+1:]
	}
	return rec, n, nil
}

// readQuoted finishes a record whose first line, first, holds quotes or is
// very long: it reads lines until the quotes balance, then parses them.
func readQuoted(br *bufio.Reader, first []byte, err error) ([4]string, int, error) {
	var rec [4]string
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
	copy(rec[:], fields)
	return rec, len(buf), nil
}

// add records one results line: row, policyId, id, outcome.
func (h *History) add(rec [4]string) error {
	row, err := strconv.Atoi(rec[0])
	if err != nil || row < 1 || row > maxRow {
		return fmt.Errorf("row %q is not a row number", rec[0])
	}
	switch Outcome(rec[3]) {
	case Updated, Failed, Invalid, Valid:
	default:
		return fmt.Errorf("outcome %q is not one graphbatch writes", rec[3])
	}
	h.grow(row)
	fp := fingerprint(rec[1], rec[2])
	switch h.prints[row] {
	case 0:
		h.prints[row] = fp
		h.rows++
	case fp:
	default:
		return fmt.Errorf("row %d is recorded with two different policyId/id pairs: the file mixes results of different inputs", row)
	}
	word, bit := row/64, uint64(1)<<(row%64)
	if Outcome(rec[3]) == Updated {
		h.updated[word] |= bit
	} else {
		h.updated[word] &^= bit // a later line is the row's outcome
	}
	return nil
}

func (h *History) grow(row int) {
	if row < len(h.prints) {
		return
	}
	n := max(2*len(h.prints), row+1, 1024)
	h.prints = append(h.prints, make([]byte, n-len(h.prints))...)
	if words := n/64 + 1; words > len(h.updated) {
		h.updated = append(h.updated, make([]uint64, words-len(h.updated))...)
	}
}

// fingerprint hashes a row's keys into 1..255; 0 means "not recorded".
func fingerprint(policyID, id string) byte {
	f := fnv.New32a()
	_, _ = io.WriteString(f, policyID)
	_, _ = f.Write([]byte{0})
	_, _ = io.WriteString(f, id)
	return byte(f.Sum32()%255) + 1
}

// Updated reports whether row's last recorded outcome is updated.
func (h *History) Updated(row int) bool {
	return row < len(h.prints) && h.updated[row/64]&(1<<(row%64)) != 0
}

// Match reports whether row, with these keys, can be the row the results
// file recorded under its number: true if the file never recorded the row.
// A false answer means the file belongs to another input, or the input
// changed. One byte per row lets a wrong row through 1 time in 255; a
// changed input has many wrong rows, and the first one caught stops it.
func (h *History) Match(row int, policyID, id string) bool {
	if row >= len(h.prints) || h.prints[row] == 0 {
		return true
	}
	return h.prints[row] == fingerprint(policyID, id)
}

// Rows returns how many distinct rows are recorded.
func (h *History) Rows() int { return h.rows }

// UpdatedRows returns how many rows' last outcome is updated.
func (h *History) UpdatedRows() int {
	n := 0
	for _, w := range h.updated {
		n += bits.OnesCount64(w)
	}
	return n
}
