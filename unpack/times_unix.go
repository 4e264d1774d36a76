//go:build unix

package unpack

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// setFileTimes sets f's access and modification times to t through its
// descriptor (futimes): no path is resolved again.
func setFileTimes(f *os.File, t time.Time) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	tv := []unix.Timeval{unix.NsecToTimeval(t.UnixNano()), unix.NsecToTimeval(t.UnixNano())}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Futimes(int(fd), tv) }); err != nil {
		return false, err
	}
	if serr != nil {
		return false, &os.PathError{Op: "futimes", Path: f.Name(), Err: serr}
	}
	return true, nil
}
