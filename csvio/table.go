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
// each record to seen, and returns where the whole lines end.
func readTable(r io.Reader, header []string, seen func([]string)) (int64, error) {
	br := bufio.NewReader(r)
	var end int64
	var lines bytes.Buffer // the record being gathered: a quoted cell may span lines
	first := true
	for {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return end, nil // a torn last line, if any, is not counted
		}
		if err != nil {
			return 0, err
		}
		lines.Write(line)
		if bytes.Count(lines.Bytes(), []byte{'"'})%2 == 1 {
			continue // inside a quoted cell
		}
		rec, err := csv.NewReader(bytes.NewReader(lines.Bytes())).Read()
		if err != nil {
			return 0, fmt.Errorf("line %d: %v", end, err)
		}
		end += int64(lines.Len())
		lines.Reset()
		if first {
			first = false
			rec[0] = strings.TrimPrefix(rec[0], "\uFEFF")
			if !slices.Equal(rec, header) {
				return 0, fmt.Errorf("its header is %q, not %q: it belongs to another run", rec, header)
			}
			continue
		}
		if seen != nil {
			seen(rec)
		}
	}
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
