package csvio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/gofrs/flock"
)

// Journal is a results file on disk, locked against other runs while open.
// Lines are appended whole and handed to the operating system at every
// Flush; a Flush also forces them to the disk (fsync) once the oldest of
// them is syncAfter old, and Close does. Flushed every quarter second, no
// line waits a second for the disk. A Journal is not safe for concurrent
// use: one goroutine owns it.
type Journal struct {
	*lockedFile
	w          *Writer
	dirtySince time.Time // when the oldest line not yet on the disk was recorded; zero if none
}

// syncAfter is how long a line may wait for its fsync, so that a power
// loss takes at most the last moments of a run, without an fsync per write.
const syncAfter = 500 * time.Millisecond

// JournalMode says what OpenJournal does with the file it finds.
type JournalMode int

const (
	// New starts a results file: a file that exists and is not empty is
	// an error wrapping ErrExists, and is left as it is.
	New JournalMode = iota
	// Overwrite starts the results file over, emptying any.
	Overwrite
	// Resume continues the results file: it reads what earlier runs
	// recorded and appends.
	Resume
)

// Errors of OpenJournal, for errors.Is.
var (
	ErrExists  = errors.New("results file exists")
	ErrLocked  = errors.New("results file in use")
	ErrSymlink = errors.New("results file is a symbolic link")
	ErrPipe    = errors.New("results file is a named pipe")
)

// errReplaced says the file at a path changed between its lock and its
// opening.
var errReplaced = errors.New("the file was replaced while it was being opened")

// fileError is an error about the results file whose message says it all
// and which wraps one of the sentinels above.
type fileError struct {
	msg string
	err error
}

func (e *fileError) Error() string { return e.msg }
func (e *fileError) Unwrap() error { return e.err }

// OpenJournal opens the results file at path, for results named by the key
// columns keys, as mode says, and takes its lock. It returns what earlier
// runs recorded: an empty History unless mode is Resume.
//
// Nothing in the file is read or changed before the lock is taken (a
// missing file is created to be locked): while another run
// holds it, OpenJournal fails at once with an error wrapping ErrLocked,
// whatever the mode. The file is opened for appending, never truncated
// on opening, never through a symbolic link (ErrSymlink), and never to a
// named pipe (ErrPipe), which could not be read back. With Resume,
// a torn last line (a crash in the middle of a write) is cut off; a file
// that is not a results file for keys is an error wrapping ErrNotResults.
// A missing or empty file gets the header, whatever the mode.
func OpenJournal(path string, keys []string, mode JournalMode) (*Journal, *History, error) {
	if mode < New || mode > Resume {
		return nil, nil, fmt.Errorf("csvio: OpenJournal: no JournalMode %d", mode)
	}
	lf, err := openLocked(path, "results file")
	if err != nil {
		return nil, nil, err
	}
	j := &Journal{lockedFile: lf, w: NewWriter(lf.f, keys)}
	h := NewHistory()
	empty, err := lf.start(mode, func(r io.Reader) (end int64, err error) {
		h, end, err = ReadHistory(r, keys)
		return end, err
	})
	if err == nil && empty {
		err = j.w.WriteHeader()
	}
	if err != nil {
		lf.f.Close()
		_ = lf.lock.Unlock()
		return nil, nil, err
	}
	return j, h, nil
}

// lockedFile is a file openLocked opened: a Journal's or a Table's.
type lockedFile struct {
	f    *os.File
	lock *flock.Flock
	path string
	what string // names the file in errors ("results file")
}

// openLocked takes the lock of the file at path, then opens it for
// appending (creating it), never through a symbolic link nor to a named
// pipe, which it refuses without waiting for the pipe's other end. what
// names the file in errors ("results file").
func openLocked(path, what string) (*lockedFile, error) {
	if err := refuseSymlink(path, what); err != nil {
		return nil, err
	}
	lock := flock.New(lockPath(path), flock.SetFlag(os.O_CREATE|os.O_RDONLY|noFollow|noWait), flock.SetPermissions(0o644))
	ok, err := lock.TryLock()
	if err != nil {
		return nil, openError(path, what, err)
	}
	if !ok {
		return nil, &fileError{fmt.Sprintf("%s %s is in use by another graphbatch run", what, path), ErrLocked}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_RDWR|noFollow, 0o644)
	if err == nil {
		var fi fs.FileInfo
		if fi, err = f.Stat(); err == nil {
			err = sameFile(lock, fi)
		}
		if err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
			err = ErrPipe
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		_ = lock.Unlock()
		return nil, openError(path, what, err)
	}
	return &lockedFile{f: f, lock: lock, path: path, what: what}, nil
}

// start readies the file for mode: New refuses a file that is not empty
// (ErrExists), Overwrite empties it, and Resume passes it to read, which
// returns where its whole records end, and cuts off what follows (a torn
// last record). It reports whether the file is empty now: it needs its
// header.
func (l *lockedFile) start(mode JournalMode, read func(io.Reader) (int64, error)) (empty bool, err error) {
	fi, err := l.f.Stat()
	if err != nil {
		return false, l.wrap(err)
	}
	end := fi.Size()
	switch {
	case end == 0:
	case mode == New:
		return false, &fileError{fmt.Sprintf("%s %s already exists", l.what, l.path), ErrExists}
	case mode == Overwrite:
		end = 0
	default:
		if end, err = read(l.f); err != nil { // from the start: appends go to the end whatever was read
			return false, fmt.Errorf("%s %s: %w", l.what, l.path, err)
		}
	}
	if end < fi.Size() {
		if err := truncate(l.f, l.path, end); err != nil {
			return false, l.wrap(err)
		}
	}
	return end == 0, nil
}

// close forces the file to the disk once flush has passed on what is
// buffered, closes it and releases its lock.
func (l *lockedFile) close(flush func() error) error {
	err := flush()
	if err == nil {
		err = l.f.Sync()
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if uerr := l.lock.Unlock(); err == nil {
		err = uerr
	}
	return l.wrap(err)
}

func (l *lockedFile) wrap(err error) error { return wrapFile(l.what, l.path, err) }

// wrapFile names the file at path in err.
func wrapFile(what, path string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", what, err) // the path is already in it
	}
	return fmt.Errorf("%s %s: %w", what, path, err)
}

// refuseSymlink returns an error wrapping ErrSymlink if path names a
// symbolic link.
func refuseSymlink(path, what string) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return nil // a missing file is created; other errors come when it is opened
	}
	return &fileError{fmt.Sprintf("%s %s is a symbolic link: give the path of the file itself", what, path), ErrSymlink}
}

// openError is the error of opening path, which may have become a
// symbolic link since refuseSymlink looked.
func openError(path, what string, err error) error {
	if serr := refuseSymlink(path, what); serr != nil {
		return serr
	}
	switch {
	case errors.Is(err, errReplaced):
		return &fileError{fmt.Sprintf("%s %s: %v", what, path, err), err}
	case errors.Is(err, ErrPipe):
		return &fileError{fmt.Sprintf("%s %s is a named pipe: give a regular file", what, path), err}
	}
	return wrapFile(what, path, err)
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

// Close flushes, forces everything to the disk, closes the file and
// releases the lock.
func (j *Journal) Close() error { return j.close(j.w.Flush) }
