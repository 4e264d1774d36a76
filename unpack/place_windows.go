//go:build windows

package unpack

func place(from, to string, force bool) error { return placePortable(from, to, force) }

// syncFS does nothing on Windows, which has no call to flush a file
// system; the files are flushed as Windows writes them back.
func syncFS(string) error { return nil }
