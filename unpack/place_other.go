//go:build unix && !linux

package unpack

import "syscall"

func place(from, to string, force bool) error { return placePortable(from, to, force) }

// syncFS flushes everything with sync(2), where syncfs(2) is not available.
func syncFS(string) error {
	syscall.Sync()
	return nil
}
