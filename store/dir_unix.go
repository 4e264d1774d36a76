//go:build unix

package store

import "syscall"

// Open flags of a directory store's reads: never block on a FIFO, never
// follow a symbolic link in the last element.
const (
	oNonblockNofollow = syscall.O_NONBLOCK | syscall.O_NOFOLLOW
)
