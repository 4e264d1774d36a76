package unpack

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// place renames the staged root from into place at to. Without force it
// refuses atomically (RENAME_NOREPLACE) if to exists; with force it swaps
// the two atomically (RENAME_EXCHANGE), so to is never missing, and the old
// root, now at from, is removed with the staging directory.
func place(from, to string, force bool) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST) && !force:
		return fmt.Errorf("%s: %w", to, ErrExists)
	case errors.Is(err, unix.EEXIST):
		if err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_EXCHANGE); err == nil {
			return nil
		} else if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) {
			return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
		}
		return replace(from, to)
	case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS):
		// The file system does not support renameat2 flags.
		return placePortable(from, to, force)
	}
	return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
}

// syncFS flushes the file system holding dir to stable storage: one
// syncfs(2) instead of an fsync per file.
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}
