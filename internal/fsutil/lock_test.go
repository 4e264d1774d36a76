package fsutil_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/offkit/offkit/internal/fsutil"
)

// Two open file descriptions of one file: the second cannot take the lock
// while the first holds it, and can once it is closed.
func TestTryLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	a, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := fsutil.TryLock(a); err != nil {
		t.Fatalf("first lock: %v", err)
	}
	b, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := fsutil.TryLock(b); !errors.Is(err, fsutil.ErrBusy) {
		t.Fatalf("second lock while held = %v, want ErrBusy", err)
	}
	a.Close()
	if err := fsutil.TryLock(b); err != nil {
		t.Fatalf("second lock after release = %v", err)
	}
	if err := fsutil.Lock(b); err != nil { // re-locking one's own lock
		t.Fatalf("Lock on a held lock of the same file = %v", err)
	}
}

func TestRemoved(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fsutil.Removed(f) {
		t.Fatal("Removed = true for a file still in its directory")
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if !fsutil.Removed(f) {
		t.Fatal("Removed = false after the file was removed")
	}
}
