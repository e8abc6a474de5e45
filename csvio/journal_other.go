//go:build !unix

package csvio

import (
	"io/fs"
	"os"

	"github.com/gofrs/flock"
)

// noFollow would make opening a symbolic link fail; OpenJournal checks
// with os.Lstat instead.
const noFollow = 0

// noWait would make opening a named pipe return at once; there are none
// to open here.
const noWait = 0

// lockPath returns the file whose lock guards the results file at path:
// a file beside it, as a Windows lock is mandatory and would keep the
// journal's own descriptor from reading the header. It is left in place:
// removing it would let two runs lock two different files.
func lockPath(path string) string { return path + ".lock" }

// sameFile has nothing to check: the lock is on another file.
func sameFile(*flock.Flock, fs.FileInfo) error { return nil }

// truncate cuts the file at path to size: on Windows a file opened for
// appending cannot be truncated through that handle.
func truncate(_ *os.File, path string, size int64) error { return os.Truncate(path, size) }
