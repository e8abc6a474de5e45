package csvio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Journal is a results file on disk. Lines are appended whole and handed
// to the operating system at every Flush; a Flush also forces them to the
// disk (fsync) once the oldest of them is syncAfter old, and Close does.
// Flushed every quarter second, no line waits a second for the disk. A
// Journal is not safe for concurrent use: one goroutine owns it.
type Journal struct {
	f          *os.File
	w          *Writer
	path       string
	dirtySince time.Time // when the oldest line not yet on the disk was recorded; zero if none
}

// syncAfter is how long a line may wait for its fsync, so that a power
// loss takes at most the last moments of a run, without an fsync per write.
const syncAfter = 500 * time.Millisecond

// CreateJournal creates the results file at path for results named by the
// key columns keys, replacing any file, and writes its header.
func CreateJournal(path string, keys []string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("results file: %w", err)
	}
	j := newJournal(f, path, keys)
	if err := j.w.WriteHeader(); err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

// ResumeJournal opens the results file at path to continue it: it reads
// what earlier runs recorded, cuts off a torn last line (a crash in the
// middle of a write), and appends after the last whole line. A missing or
// empty file gives an empty History and a fresh journal.
func ResumeJournal(path string, keys []string) (*Journal, *History, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		j, err := CreateJournal(path, keys)
		return j, NewHistory(), err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("results file: %w", err)
	}
	h, end, err := ReadHistory(f, keys) // which buffers it
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("results file %s: %w", path, err)
	}
	if err := f.Truncate(end); err != nil { // drop a torn last line
		f.Close()
		return nil, nil, fmt.Errorf("results file: %w", err)
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("results file: %w", err)
	}
	j := newJournal(f, path, keys)
	if end == 0 {
		if err := j.w.WriteHeader(); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	return j, h, nil
}

func newJournal(f *os.File, path string, keys []string) *Journal {
	return &Journal{f: f, w: NewWriter(f, keys), path: path}
}

// Write records r.
func (j *Journal) Write(r *Result) error {
	if j.dirtySince.IsZero() {
		j.dirtySince = time.Now()
	}
	return j.wrap(j.w.Write(r))
}

// Flush hands every recorded line to the operating system, where a crash
// of the process cannot lose it, and forces them to the disk once the
// oldest is syncAfter old.
func (j *Journal) Flush() error {
	if err := j.w.Flush(); err != nil {
		return j.wrap(err)
	}
	if j.dirtySince.IsZero() || time.Since(j.dirtySince) < syncAfter {
		return nil
	}
	j.dirtySince = time.Time{}
	return j.wrap(j.f.Sync())
}

// Close flushes, forces everything to the disk and closes the file.
func (j *Journal) Close() error {
	err := j.w.Flush()
	if err == nil {
		err = j.f.Sync()
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return j.wrap(err)
}

func (j *Journal) wrap(err error) error {
	if err == nil {
		return nil
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("results file: %w", err) // the path is already in it
	}
	return fmt.Errorf("results file %s: %w", j.path, err)
}
