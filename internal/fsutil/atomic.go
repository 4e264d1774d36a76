package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrExists is wrapped when an output that must be new exists already.
var ErrExists = errors.New("already exists")

// AtomicFile is an output file that appears at its path only when Commit
// succeeds; until then it is a hidden temporary file beside it, which Abort
// removes. A failed command therefore never leaves partial output.
type AtomicFile struct {
	*os.File
	path      string
	done      bool
	noReplace bool // Commit fails if path exists by then
}

// Path is where the file appears on Commit.
func (a *AtomicFile) Path() string { return a.path }

// CreateAtomic starts the output path, with mode perm. Commit replaces
// whatever is at path then.
func CreateAtomic(path string, perm os.FileMode) (*AtomicFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, outputError(path, dir, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &AtomicFile{File: f, path: path}, nil
}

// CreateNew is CreateAtomic for an output that must not exist: it is
// refused now if it does (ErrExists), and Commit fails, leaving it as it
// is, if it has appeared by then.
func CreateNew(path string, perm os.FileMode) (*AtomicFile, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("%s: %w", path, ErrExists)
	}
	f, err := CreateAtomic(path, perm)
	if err != nil {
		return nil, err
	}
	f.noReplace = true
	return f, nil
}

// outputError reports the failure err to create the temporary file for
// path in dir as a failure to write path, the name the caller gave, not the
// temporary file's.
func outputError(path, dir string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot write %s: directory %s does not exist", path, filepath.Clean(dir))
	}
	return fmt.Errorf("cannot write %s: %w", path, err)
}

// Commit syncs the file, moves it into place (create-only for CreateNew)
// and syncs the directory, so that the output survives a crash once Commit
// has returned.
func (a *AtomicFile) Commit() error {
	if err := a.File.Sync(); err != nil {
		a.Abort()
		return err
	}
	if err := a.File.Close(); err != nil {
		a.Abort()
		return err
	}
	if a.noReplace {
		// A hard link fails if path exists, where a rename would replace it.
		err := os.Link(a.File.Name(), a.path)
		switch {
		case err == nil:
			a.Abort() // removes the temporary name only
			a.done = true
			return a.syncDir()
		case errors.Is(err, fs.ErrExist):
			a.Abort()
			return fmt.Errorf("%s: %w", a.path, ErrExists)
		}
		// No hard links here (some file systems): check, then rename.
		if _, err := os.Lstat(a.path); err == nil {
			a.Abort()
			return fmt.Errorf("%s: %w", a.path, ErrExists)
		}
	}
	if err := os.Rename(a.File.Name(), a.path); err != nil {
		a.Abort()
		return err
	}
	a.done = true
	return a.syncDir()
}

func (a *AtomicFile) syncDir() error {
	dir := filepath.Dir(a.path)
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("%s: sync %s: %w", a.path, dir, err)
	}
	return nil
}

// Abort removes the temporary file; it is a no-op after Commit.
func (a *AtomicFile) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.File.Close()
	os.Remove(a.File.Name())
}
