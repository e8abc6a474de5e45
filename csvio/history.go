package csvio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// History is what earlier runs recorded in a results file: which rows are
// done (their last outcome is updated or unchanged), with a one-byte
// fingerprint of each done row's keys, so that a resumed run can tell
// whether the file belongs to its input. It costs one byte per row up to
// the largest row recorded (a quarter more while it grows).
type History struct {
	rows  []byte // by row number: notRecorded, recorded, or a done row's fingerprint
	count int    // distinct rows recorded
	done  int    // rows done
}

// The values of History.rows below the fingerprints.
const (
	notRecorded = 0
	recorded    = 1 // and not done: its keys may change
	firstPrint  = 2 // fingerprints are firstPrint..255
)

// NewHistory returns an empty History: nothing recorded yet.
func NewHistory() *History { return &History{} }

// maxRow bounds the row numbers a results file may name, so that a
// corrupted number cannot make History allocate without limit.
const maxRow = 1 << 31

// maxRecord is the longest record ReadHistory (and readTable) reads: far
// more than any line a Writer writes (a row's keys are cells of at most a
// mebibyte). A quote that opens and never closes runs into it, instead of
// taking every line after it into one record.
const maxRecord = 16 << 20

// maxTorn is the longest torn record ReadHistory cuts off: more than one
// line of a Writer. A quote open for longer, up to the end of the file, is
// damage in the middle of the file, which must not cost the lines after
// it.
const maxTorn = 4 << 20

// ErrNotResults is wrapped by ReadHistory's errors for a file that is not a
// graphbatch results file for the key columns given.
var ErrNotResults = errors.New("not a graphbatch results file")

// ReadHistory reads a results file whose rows are named by the key columns
// keys, and returns what it recorded and the offset just past its last
// whole record. A torn last record, left by a crash in the middle of a
// write (no final newline, or a quote still open at the end), is not
// counted: the caller truncates the file there and the row is sent again.
// It accepts a file a spreadsheet saved again: a UTF-8 byte order mark and
// CRLF line ends.
func ReadHistory(r io.Reader, keys []string) (*History, int64, error) {
	tail := &tailReader{r: r}
	br := bufio.NewReaderSize(tail, 1<<20) // encoding/csv reads from it too
	bom := 0
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\uFEFF")) {
		bom, _ = br.Discard(3)
	}
	want := headerLine(keys)
	header, err := br.ReadSlice('\n')
	text := strings.TrimSuffix(strings.TrimSuffix(string(header), "\n"), "\r")
	switch {
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull):
		return nil, 0, err
	case errors.Is(err, io.EOF) && strings.HasPrefix(want, text):
		return NewHistory(), 0, nil // empty, or a header torn by a crash in the first write
	case err != nil || text != want:
		return nil, 0, fmt.Errorf("%w: the first line is not %s", ErrNotResults, want)
	}
	start := int64(bom + len(header)) // where encoding/csv starts
	c := csv.NewReader(br)
	c.FieldsPerRecord = len(keys) + resultColumns
	c.ReuseRecord = true
	h := NewHistory()
	last := pending{offset: start} // the record before: applied once it is not the torn last one
	for {
		off := start + c.InputOffset()
		tail.limit = off + maxRecord + int64(br.Size())
		rec, err := c.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err := last.apply(h); err != nil {
			return nil, 0, err
		}
		if err != nil {
			if last, err = failed(err, off, tail.lastLine); err != nil {
				return nil, 0, err
			}
			continue
		}
		line, _ := c.FieldPos(0)
		last = pending{offset: off, line: line + 1}
		last.row, last.print, last.err = parseResult(rec, len(keys))
	}
	end := start + c.InputOffset()
	if tail.last != '\n' || last.open && end-last.offset <= maxTorn { // the last record lacks its end
		return h, last.offset, nil
	}
	if err := last.apply(h); err != nil {
		return nil, 0, err
	}
	return h, end, nil
}

// headerLine returns the header line of a results file, as a Writer
// writes it, without its newline.
func headerLine(keys []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(ResultHeader(keys)) // a strings.Builder does not fail
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

// failed returns the pending record for a record at offset off that
// encoding/csv could not read, or the error that ends the reading.
// lastLine is the length of the last line read so far.
func failed(err error, off int64, lastLine int) (pending, error) {
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		p := pending{offset: off, line: pe.StartLine + 1, err: fmt.Errorf("column %d: %w", pe.Column, pe.Err)}
		// A quote still open at the end of the file: encoding/csv puts
		// the error just past the last line.
		p.open = errors.Is(pe.Err, csv.ErrQuote) && pe.Column >= lastLine
		return p, nil
	case errors.Is(err, errRecordTooLong):
		return pending{}, fmt.Errorf("%w: the record at byte %d: %w", ErrNotResults, off, err)
	}
	return pending{}, err
}

// pending is a record read, to be applied to a History once it is known
// not to be a torn last one.
type pending struct {
	offset int64 // where it starts in the file
	line   int   // and on which line
	row    int   // 0 for none
	print  byte  // notRecorded for an outcome that is not done, or the keys' fingerprint
	err    error // why it is not a results line
	open   bool  // err is a quote left open to the end of the input read so far
}

func (p *pending) apply(h *History) error {
	switch {
	case p.err != nil:
		return fmt.Errorf("%w: line %d: %w", ErrNotResults, p.line, p.err)
	case p.row == 0:
		return nil
	case !h.add(p.row, p.print):
		return fmt.Errorf("%w: line %d: row %d is recorded done with other keys before: the file mixes results of different inputs", ErrNotResults, p.line, p.row)
	}
	return nil
}

// parseResult returns the row number of a results record and, if its
// outcome is done, its keys' fingerprint.
func parseResult(rec []string, keys int) (int, byte, error) {
	row, err := strconv.Atoi(rec[0])
	if err != nil || row < 1 || row > maxRow {
		return 0, 0, fmt.Errorf("row %q is not a row number", rec[0])
	}
	switch o := Outcome(rec[1+keys]); {
	case o.Done():
		return row, fingerprint(rec[1 : 1+keys]), nil
	case o == Failed || o == Invalid || o == Valid:
		return row, notRecorded, nil
	default:
		return 0, 0, fmt.Errorf("outcome %q is not one graphbatch writes", o)
	}
}

// add records that row ended done with keys of fingerprint print, or not
// done (print notRecorded). It reports false if row was recorded done with
// other keys before.
func (h *History) add(row int, print byte) bool {
	if row >= len(h.rows) {
		h.rows = append(h.rows, make([]byte, row+1-len(h.rows))...)
	}
	old := h.rows[row]
	if old >= firstPrint && print >= firstPrint && old != print {
		return false
	}
	if old == notRecorded {
		h.count++
	}
	switch {
	case old < firstPrint && print >= firstPrint:
		h.done++
	case old >= firstPrint && print < firstPrint: // a later line is the row's outcome
		h.done--
	}
	h.rows[row] = max(print, recorded)
	return true
}

// Done reports whether row's last recorded outcome is updated or
// unchanged: a resumed run skips it.
func (h *History) Done(row int) bool {
	return row > 0 && row < len(h.rows) && h.rows[row] >= firstPrint
}

// Match reports whether row, with these keys, can be the row the results
// file recorded under its number: true unless the row is done with other
// keys (compared without regard to case, as Graph compares ids). A row
// that ended failed or invalid may have been corrected since, keys
// included. One byte per row lets other keys through 1 time in 254; an
// input that changed has many such rows, and the first one caught stops it.
func (h *History) Match(row int, keys []string) bool {
	if !h.Done(row) {
		return true
	}
	return h.rows[row] == fingerprint(keys)
}

// Rows returns how many distinct rows are recorded.
func (h *History) Rows() int { return h.count }

// DoneRows returns how many rows are done.
func (h *History) DoneRows() int { return h.done }

// fingerprint hashes keys, without regard to case, into
// firstPrint..255. It is FNV-1a over the keys' runes folded by foldRune
// (ASCII letters to upper case), a zero byte after each key.
func fingerprint(keys []string) byte {
	const offset, prime = 2166136261, 16777619
	h := uint32(offset)
	for _, k := range keys {
		for i := 0; i < len(k); i++ {
			c := k[i]
			if c >= utf8.RuneSelf { // rare: fold the rest of the key rune by rune
				var buf [utf8.UTFMax]byte
				for _, r := range k[i:] {
					for _, b := range utf8.AppendRune(buf[:0], foldRune(r)) {
						h = (h ^ uint32(b)) * prime
					}
				}
				break
			}
			if 'a' <= c && c <= 'z' { // as foldRune: 'A' is the least of 'a', 'A'
				c -= 'a' - 'A'
			}
			h = (h ^ uint32(c)) * prime
		}
		h *= prime // the zero byte after the key
	}
	// FNV's low bits mix the last bytes poorly: mix them all in first
	// (the finalizer of MurmurHash3).
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return byte(h%(256-firstPrint)) + firstPrint
}

// foldRune returns the smallest rune that r folds to: the same rune for
// every r that strings.EqualFold takes for equal.
func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// errRecordTooLong is the error for a record over maxRecord.
var errRecordTooLong = fmt.Errorf("a record runs past %d MiB: a quote opens there and never closes", maxRecord>>20)

// tailReader passes r on, and keeps its last byte and the length of its
// last whole line. Past limit it fails with errRecordTooLong.
type tailReader struct {
	r        io.Reader
	n        int64 // bytes read
	limit    int64 // 0 for none
	last     byte
	lastLine int // bytes of the last whole line read, newline included
	partial  int // bytes read since the last newline
}

func (t *tailReader) Read(p []byte) (int, error) {
	if t.limit > 0 && t.n >= t.limit {
		return 0, errRecordTooLong
	}
	if t.limit > 0 {
		p = p[:min(int64(len(p)), t.limit-t.n)]
	}
	n, err := t.r.Read(p)
	if n == 0 {
		return n, err
	}
	t.n += int64(n)
	t.last = p[n-1]
	b := p[:n]
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		t.partial += n
		return n, err
	}
	if j := bytes.LastIndexByte(b[:i], '\n'); j >= 0 {
		t.lastLine = i - j
	} else {
		t.lastLine = t.partial + i + 1
	}
	t.partial = n - i - 1
	return n, err
}
