//go:build unix

package csvio

import (
	"io/fs"
	"os"

	"github.com/gofrs/flock"
	"golang.org/x/sys/unix"
)

// noFollow makes opening a symbolic link fail.
const noFollow = unix.O_NOFOLLOW

// noWait makes opening a named pipe return at once, instead of waiting for
// a process to open its other end.
const noWait = unix.O_NONBLOCK

// lockPath returns the file whose lock guards the results file at path:
// the file itself, as a flock(2) lock is advisory and does not stand in
// the way of the descriptor that reads and writes it.
func lockPath(path string) string { return path }

// sameFile checks that the file locked is the file opened: that path was
// not replaced between the two opens.
func sameFile(lock *flock.Flock, opened fs.FileInfo) error {
	locked, err := lock.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(locked, opened) {
		return errReplaced
	}
	return nil
}

// truncate cuts f, opened for appending, to size.
func truncate(f *os.File, _ string, size int64) error { return f.Truncate(size) }
