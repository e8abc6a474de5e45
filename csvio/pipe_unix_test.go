//go:build unix

package csvio_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/graphbatch/graphbatch/csvio"
)

// TestOpenNamedPipe: a results file, or a backup, plan or export, that is
// a named pipe is refused at once, whatever the mode, and left as it is.
// Opening it to take its lock waited for a writer that never came: the run
// hung before sending anything, and no signal but SIGKILL could stop it.
func TestOpenNamedPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.csv")
	if err := unix.Mkfifo(path, 0o644); err != nil {
		t.Skipf("no FIFO: %v", err)
	}
	opens := []struct {
		name string
		open func(csvio.JournalMode) error
	}{
		{"OpenJournal", func(mode csvio.JournalMode) error {
			j, _, err := csvio.OpenJournal(path, []string{"id"}, mode)
			if err == nil {
				j.Close()
			}
			return err
		}},
		{"OpenTable", func(mode csvio.JournalMode) error {
			tb, err := csvio.OpenTable(path, "backup file", []string{"id"}, mode, nil)
			if err == nil {
				tb.Close()
			}
			return err
		}},
	}
	for _, o := range opens {
		for _, mode := range []csvio.JournalMode{csvio.New, csvio.Overwrite, csvio.Resume} {
			done := make(chan error, 1)
			go func() { done <- o.open(mode) }()
			select {
			case err := <-done:
				if !errors.Is(err, csvio.ErrPipe) {
					t.Errorf("%s(a named pipe, mode %d) = %v, want an error wrapping ErrPipe", o.name, mode, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s(a named pipe, mode %d) still waits after 10 s", o.name, mode)
			}
		}
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("the named pipe became %v, %v", fi, err)
	}
}
