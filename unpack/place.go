package unpack

import (
	"fmt"
	"os"
	"path/filepath"
)

// placePortable renames from to to where atomic no-replace and exchange
// renames are not available: the existence check and the rename are two
// steps, and replacing moves the old root aside first.
func placePortable(from, to string, force bool) error {
	if _, err := os.Lstat(to); err == nil {
		if !force {
			return fmt.Errorf("%s: %w", to, ErrExists)
		}
		return replace(from, to)
	}
	return os.Rename(from, to)
}

// replace moves the existing to aside (into from's directory, the staging
// directory, which is removed afterwards) and from into its place.
func replace(from, to string) error {
	old := filepath.Join(filepath.Dir(from), "replaced")
	if err := os.Rename(to, old); err != nil {
		return err
	}
	if err := os.Rename(from, to); err != nil {
		os.Rename(old, to) // put it back
		return err
	}
	return nil
}
