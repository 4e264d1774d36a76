package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range ents {
		n = append(n, e.Name())
	}
	return n
}

// TestAtomicFile: the output appears only on Commit, with its mode and
// bytes; Abort leaves nothing; CreateNew refuses an existing output, now
// or at Commit, and leaves it untouched; a missing directory is named.
func TestAtomicFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "kit.tar.zst")
	f, err := CreateAtomic(out, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("kit")
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the output is visible before Commit")
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(out)
	if b, _ := os.ReadFile(out); err != nil || string(b) != "kit" || fi.Mode().Perm() != 0o640 {
		t.Fatalf("after Commit: %q, %v, %v", b, fi.Mode(), err)
	}
	f.Abort() // a no-op after Commit
	if got := names(t, dir); len(got) != 1 {
		t.Fatalf("left %v", got)
	}

	f, err = CreateAtomic(filepath.Join(dir, "other"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Abort()
	if got := names(t, dir); len(got) != 1 {
		t.Fatalf("after Abort: %v", got)
	}

	if _, err := CreateNew(out, 0o644); !errors.Is(err, ErrExists) {
		t.Fatalf("CreateNew over an existing output: %v", err)
	}
	late := filepath.Join(dir, "late")
	f, err = CreateNew(late, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(late, []byte("first"), 0o644)
	if err := f.Commit(); !errors.Is(err, ErrExists) {
		t.Fatalf("Commit over an output that appeared: %v", err)
	}
	if b, _ := os.ReadFile(late); string(b) != "first" {
		t.Fatalf("the output that appeared was replaced: %q", b)
	}
	if got := names(t, dir); len(got) != 2 {
		t.Fatalf("left %v", got)
	}

	if _, err := CreateAtomic(filepath.Join(dir, "nodir", "x"), 0o644); err == nil || err.Error() != "cannot write "+filepath.Join(dir, "nodir", "x")+": directory "+filepath.Join(dir, "nodir")+" does not exist" {
		t.Fatalf("missing directory: %v", err)
	}
}
