package signin

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
)

// fileCache keeps MSAL's token cache in one file readable only by its
// owner, so that a device code sign-in lasts across runs. MSAL's partition
// hints are ignored: a CLI signs one person in. A file that does not hold
// a cache counts as none: the person signs in again, and it is rewritten.
type fileCache struct{ path string }

var _ cache.ExportReplace = fileCache{}

// Replace loads the cache from the file, if there is one that holds a cache.
func (c fileCache) Replace(_ context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	b, err := os.ReadFile(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	_ = u.Unmarshal(b) // on an error MSAL keeps the cache it had: none, at the start of a run
	return nil
}

// Export writes the cache to the file atomically, mode 0600 in a 0700
// directory.
func (c fileCache) Export(_ context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".msal-cache-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.path)
}

// DefaultTokenCachePath is where device code sign-ins are kept: under the
// user's cache directory ($XDG_CACHE_HOME or ~/.cache on Linux).
func DefaultTokenCachePath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "graphbatch", "msal-token-cache.json"), nil
}
