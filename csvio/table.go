package csvio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/gofrs/flock"
)

// Table is a CSV file graphbatch writes besides the results: a backup, a
// plan or an export. Like a Journal it is locked while open, opened for
// appending and never through a symbolic link, and gets whole lines only.
// A Table is not safe for concurrent use.
type Table struct {
	f    *os.File
	lock *flock.Flock
	buf  bytes.Buffer
	csv  *csv.Writer
	path string
	what string
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
	f, lock, err := openLocked(path, what)
	if err != nil {
		return nil, err
	}
	t := &Table{f: f, lock: lock, path: path, what: what}
	t.csv = csv.NewWriter(&t.buf)
	if err := t.start(header, mode, seen); err != nil {
		f.Close()
		_ = lock.Unlock()
		return nil, err
	}
	return t, nil
}

func (t *Table) start(header []string, mode JournalMode, seen func([]string)) error {
	fi, err := t.f.Stat()
	if err != nil {
		return t.wrap(err)
	}
	switch {
	case fi.Size() == 0:
	case mode == New:
		return &fileError{fmt.Sprintf("%s %s already exists", t.what, t.path), ErrExists}
	case mode == Overwrite:
		if err := truncate(t.f, t.path, 0); err != nil {
			return t.wrap(err)
		}
	default:
		end, err := readTable(t.f, header, seen)
		if err != nil {
			return fmt.Errorf("%s %s: %w", t.what, t.path, err)
		}
		if end < fi.Size() {
			if err := truncate(t.f, t.path, end); err != nil {
				return t.wrap(err)
			}
		}
		if end > 0 {
			return nil
		}
	}
	return t.Write(header)
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
		return t.flush()
	}
	return nil
}

func (t *Table) flush() error {
	if t.buf.Len() == 0 {
		return nil
	}
	_, err := t.f.Write(t.buf.Bytes())
	t.buf.Reset()
	return t.wrap(err)
}

// Sync writes every buffered record out and forces them to the disk.
func (t *Table) Sync() error {
	if err := t.flush(); err != nil {
		return err
	}
	return t.wrap(t.f.Sync())
}

// Close syncs, closes the file and releases its lock.
func (t *Table) Close() error {
	err := t.Sync()
	if cerr := t.f.Close(); err == nil {
		err = t.wrap(cerr)
	}
	if uerr := t.lock.Unlock(); err == nil {
		err = uerr
	}
	return err
}

func (t *Table) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s: %w", t.what, t.path, err)
}
