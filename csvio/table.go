package csvio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Table is a CSV file graphbatch writes besides the results: a backup, a
// plan or an export. Like a Journal it is locked while open, opened for
// appending and never through a symbolic link, and gets whole lines only.
// A Table is not safe for concurrent use.
type Table struct {
	*lockedFile
	buf bytes.Buffer
	csv *csv.Writer
}

// ErrNotTable is wrapped by OpenTable's errors for a file to resume
// whose header is not the one asked for, or which was changed since it
// was written.
var ErrNotTable = errors.New("not the file this run writes")

// tableFlushSize is how much a Table buffers before writing it out.
const tableFlushSize = 64 << 10

// OpenTable opens the CSV file at path, with header, as mode says: New
// refuses a file that is not empty (ErrExists), Overwrite empties it, and
// Resume keeps what it holds and appends, after passing each of its
// records to seen (which may be nil) and cutting off a torn last line; a
// file with another header is an error. what names the file in errors
// ("backup file").
func OpenTable(path, what string, header []string, mode JournalMode, seen func(record []string)) (*Table, error) {
	lf, err := openLocked(path, what)
	if err != nil {
		return nil, err
	}
	t := &Table{lockedFile: lf}
	t.csv = csv.NewWriter(&t.buf)
	empty, err := lf.start(mode, func(r io.Reader) (int64, error) { return readTable(r, header, seen) })
	if err == nil && empty {
		err = t.Write(header)
	}
	if err != nil {
		lf.f.Close()
		_ = lf.lock.Unlock()
		return nil, err
	}
	return t, nil
}

// readTable reads the whole lines of a table, checks its header, passes
// each record to seen, and returns where the whole lines end. What
// follows them is a torn last record, left by a crash in the middle of a
// write, which the caller cuts off; a record that is damaged otherwise
// (a stray quote) is an error naming its line: cutting the file there
// would lose every line after it. A quote still open past maxRecord is
// such damage, found without reading on to the end of the file.
func readTable(r io.Reader, header []string, seen func([]string)) (int64, error) {
	br := bufio.NewReader(r)
	var end int64
	var lines bytes.Buffer // the record being gathered: a quoted cell may span lines
	quotes := 0            // in lines
	line := 1              // where it starts
	first := true
	for {
		text, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			lines.Write(text)
			return end, torn(lines.Bytes(), line)
		}
		if err != nil {
			return 0, err
		}
		lines.Write(text)
		if quotes += bytes.Count(text, []byte{'"'}); quotes%2 == 1 { // inside a quoted cell
			if lines.Len() > maxRecord {
				return 0, fmt.Errorf("%w: line %d: %w", ErrNotTable, line, errRecordTooLong)
			}
			continue
		}
		rec, err := csv.NewReader(bytes.NewReader(lines.Bytes())).Read()
		if err != nil {
			return 0, damaged(err, line)
		}
		end += int64(lines.Len())
		line += bytes.Count(lines.Bytes(), []byte{'\n'})
		lines.Reset()
		quotes = 0
		if first {
			first = false
			rec[0] = strings.TrimPrefix(rec[0], "\uFEFF")
			if !slices.Equal(rec, header) {
				return 0, fmt.Errorf("%w: its header is %q, not %q: it belongs to another run", ErrNotTable, rec, header)
			}
			continue
		}
		if seen != nil {
			seen(rec)
		}
	}
}

// torn returns nil if tail, what follows a table's last whole line
// (starting on line), can be a record torn by a crash: a last line
// without its newline, or a quoted cell still open at the end, within
// maxTorn bytes. Otherwise it is damage, and the error says where.
func torn(tail []byte, line int) error {
	if len(tail) == 0 {
		return nil
	}
	c := csv.NewReader(bytes.NewReader(tail))
	c.FieldsPerRecord = -1
	for {
		_, err := c.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var pe *csv.ParseError
		if err == nil || !errors.As(err, &pe) {
			continue
		}
		body := bytes.TrimSuffix(tail, []byte{'\n'})
		last := body[bytes.LastIndexByte(body, '\n')+1:]
		atEnd := pe.Line == bytes.Count(body, []byte{'\n'})+1 && pe.Column > len(last)
		if errors.Is(pe.Err, csv.ErrQuote) && atEnd && len(tail) <= maxTorn {
			return nil
		}
		return damaged(err, line)
	}
}

// damaged is the error for a record starting on line that encoding/csv
// could not read.
func damaged(err error, line int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%w: line %d, column %d: %v (a stray quote? the file was changed since graphbatch wrote it)", ErrNotTable, line+pe.Line-1, pe.Column, pe.Err)
	}
	return fmt.Errorf("%w: line %d: %v", ErrNotTable, line, err)
}

// Write buffers one record, passing whole lines on when the buffer is full.
func (t *Table) Write(record []string) error {
	if err := t.csv.Write(record); err != nil {
		return err
	}
	t.csv.Flush()
	if t.buf.Len() >= tableFlushSize {
		return t.wrap(t.flush())
	}
	return nil
}

// flush writes every buffered record out.
func (t *Table) flush() error {
	if t.buf.Len() == 0 {
		return nil
	}
	_, err := t.f.Write(t.buf.Bytes())
	t.buf.Reset()
	return err
}

// Sync writes every buffered record out and forces them to the disk.
func (t *Table) Sync() error {
	err := t.flush()
	if err == nil {
		err = t.f.Sync()
	}
	return t.wrap(err)
}

// Close syncs, closes the file and releases its lock.
func (t *Table) Close() error { return t.close(t.flush) }
