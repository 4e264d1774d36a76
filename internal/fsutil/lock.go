package fsutil

import (
	"errors"
	"os"
)

// ErrBusy is returned by TryLock when another open file holds the lock.
var ErrBusy = errors.New("locked by another process")

// Lock takes an exclusive lock on f, waiting for it. Closing f releases it.
func Lock(f *os.File) error { return lock(f, true) }

// TryLock takes an exclusive lock on f if it is free, and returns ErrBusy
// otherwise. Closing f releases it.
func TryLock(f *os.File) error { return lock(f, false) }

// Removed reports whether the file f is open on has been removed from its
// directory since (its link count is 0). Where that cannot be told, it
// reports false.
func Removed(f *os.File) bool { return removed(f) }
