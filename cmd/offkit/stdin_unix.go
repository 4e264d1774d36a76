//go:build unix

package main

import (
	"os"
	"syscall"
)

// stdinKit returns standard input for reading a kit. A pipe or socket is
// duplicated and switched to non-blocking mode, so that the runtime's
// poller serves it and closing it on Ctrl-C ends a read that is waiting
// for data. A terminal or file is returned as it is.
func stdinKit() *os.File {
	fi, err := os.Stdin.Stat()
	if err != nil || fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return os.Stdin
	}
	fd, err := syscall.Dup(int(os.Stdin.Fd()))
	if err != nil {
		return os.Stdin
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return os.Stdin
	}
	return os.NewFile(uintptr(fd), "/dev/stdin")
}
