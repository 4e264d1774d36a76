package fsutil

import (
	"errors"
	"os"
	"runtime"
	"syscall"
)

// SyncDir flushes the directory dir itself to stable storage, so that
// entries created or renamed in it survive a crash. See SyncOpenDir.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return SyncOpenDir(d)
}

// SyncOpenDir flushes the open directory d. A file system that cannot
// flush a directory (EINVAL, as some network file systems answer) is not
// an error: the entries are made all the same. On Windows, where a
// directory cannot be flushed this way, it does nothing.
func SyncOpenDir(d *os.File) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	err := d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return err
}
