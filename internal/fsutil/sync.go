package fsutil

import (
	"os"
	"runtime"
)

// SyncDir flushes the directory dir itself to stable storage, so that
// entries created or renamed in it survive a crash. On Windows, where a
// directory cannot be flushed this way, it does nothing.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
