package store

// Second-pass attacks on the directory medium's fixes (os.Root, the claim
// file .offkit-kit). A test that fails is an attack that works.

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within runs f and fails the test if it takes over d (a hang).
func within(t *testing.T, d time.Duration, what string, f func()) bool {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		t.Errorf("BUG: %s hangs (over %v)", what, d)
		return false
	}
}

// TestDirAttack2PlantedClaim: the store's owner plants .offkit-kit in an
// empty version directory before a publish: naming another compression's
// file, naming this very file, 10 MB long, a symbolic link to a file
// naming this one, a FIFO. A publish must neither hang nor report the kit
// published when it is not (a claim naming this file lets it through:
// the link decides). Defended (a stale claim for another file blocks the
// version: ErrExists although nothing is there; see the report).
func TestDirAttack2PlantedClaim(t *testing.T) {
	file := KitFile("demo", "1.2.3", ".tar.zst")
	for _, c := range []struct {
		name  string
		plant func(t *testing.T, vd string)
		ok    bool // the publish may succeed
	}{
		{"other-file", func(t *testing.T, vd string) {
			os.WriteFile(filepath.Join(vd, claimFile), []byte(KitFile("demo", "1.2.3", ".tar.gz")+"\n"), 0o644)
		}, false},
		{"this-file", func(t *testing.T, vd string) {
			os.WriteFile(filepath.Join(vd, claimFile), []byte(file+"\n"), 0o644)
		}, true},
		{"huge", func(t *testing.T, vd string) {
			os.WriteFile(filepath.Join(vd, claimFile), []byte(file+"\n"+strings.Repeat("x", 10<<20)), 0o644)
		}, false},
		{"symlink", func(t *testing.T, vd string) {
			os.WriteFile(filepath.Join(vd, "..", "target"), []byte(file+"\n"), 0o644)
			os.Symlink("../target", filepath.Join(vd, claimFile))
		}, true},
		{"fifo", func(t *testing.T, vd string) {
			if err := syscall.Mkfifo(filepath.Join(vd, claimFile), 0o644); err != nil {
				t.Skip(err)
			}
		}, false},
		{"dangling", func(t *testing.T, vd string) {
			os.Symlink("/nonexistent/x", filepath.Join(vd, claimFile))
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			vd := filepath.Join(root, "demo", "1.2.3")
			os.MkdirAll(vd, 0o755)
			c.plant(t, vd)
			st, err := NewDir(root)
			if err != nil {
				t.Fatal(err)
			}
			var perr error
			if !within(t, 5*time.Second, "publishing over a planted claim", func() { perr = publishDir(t, st, "demo", "1.2.3", []byte("kit bytes")) }) {
				return
			}
			_, statErr := os.Lstat(filepath.Join(vd, file))
			if perr == nil && statErr != nil {
				t.Errorf("BUG: publish reported success but %s is not there", file)
			}
			if perr == nil && !c.ok {
				t.Errorf("BUG: publish succeeded over a claim for another file")
			}
			if perr != nil && !errors.Is(perr, ErrExists) {
				t.Logf("publish: %v", perr)
			}
			// Whatever happened, the store must read back without hanging.
			within(t, 5*time.Second, "Open/List over a planted claim", func() {
				st.Open(context.Background(), "demo", "1.2.3")
				st.List(context.Background())
			})
		})
	}
}

// TestDirAttack2RecordSymlinkFollowed: readSmall says "a FIFO, device or
// symbolic link is refused without opening it" and opens with O_NOFOLLOW,
// but os.Root resolves a symbolic link in the last element itself (it
// adds O_NOFOLLOW to every openat and follows any link that stays in the
// root), so the flag is a no-op: DIR/demo/1.2.3/<record> -> another
// version's record (or any file of the store) is read as this version's.
func TestDirAttack2RecordSymlinkFollowed(t *testing.T) {
	root := t.TempDir()
	vd := filepath.Join(root, "demo", "1.2.3")
	os.MkdirAll(vd, 0o755)
	os.WriteFile(filepath.Join(root, "elsewhere.json"), []byte(`{"someone":"else's"}`), 0o644)
	os.Symlink("../../elsewhere.json", filepath.Join(vd, RecordFile("demo", "1.2.3")))
	st, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Record(context.Background(), "demo", "1.2.3")
	if err == nil {
		t.Errorf("BUG (low): Record read %q through the symbolic link %s -> ../../elsewhere.json: store/dir.go readSmall's "+
			"O_NOFOLLOW is ignored by os.Root.OpenFile (it follows in-root links); Lstat the name first (d.r.Lstat, refuse "+
			"ModeSymlink) or compare f.Stat with r.Lstat (os.SameFile) after opening", b, RecordFile("demo", "1.2.3"))
	}
}

// TestDirAttack2RangeFIFOSwap: the store's owner swaps the kit file for a
// FIFO between Open (which saw a regular file) and Range (publish's Same,
// verify/pull's stream). dirObject.Range opens it without O_NONBLOCK and
// without checking it is a regular file: the read blocks forever.
func TestDirAttack2RangeFIFOSwap(t *testing.T) {
	root := t.TempDir()
	st, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := publishDir(t, st, "demo", "1.2.3", []byte("kit bytes")); err != nil {
		t.Fatal(err)
	}
	obj, err := st.Open(context.Background(), "demo", "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	kit := filepath.Join(root, "demo", "1.2.3", KitFile("demo", "1.2.3", ".tar.zst"))
	os.Remove(kit)
	if err := syscall.Mkfifo(kit, 0o644); err != nil {
		t.Skip(err)
	}
	var rc io.ReadCloser
	ok := within(t, 2*time.Second, "dirObject.Range on a kit swapped for a FIFO (low: a race the store's owner can win "+
		"by swapping in a loop; store/dir.go dirObject.Range opens O_RDONLY|O_NOFOLLOW, blocking: add O_NONBLOCK and "+
		"refuse a non-regular file as readSmall does, then clear O_NONBLOCK)", func() {
		rc, err = obj.Range(context.Background(), 0, -1)
	})
	if !ok {
		// Unblock the open so the goroutine ends.
		if w, err := os.OpenFile(kit, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		return
	}
	if err == nil {
		rc.Close()
	}
}

// TestDirAttack2RootSwapped: the store root is a symbolic link, swapped
// to another directory after the store is opened. Everything keeps going
// to the directory opened (os.Root holds it), nothing to the new target.
// Defended.
func TestDirAttack2RootSwapped(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	os.MkdirAll(a, 0o755)
	os.MkdirAll(b, 0o755)
	link := filepath.Join(base, "store")
	os.Symlink(a, link)
	st, err := NewDir(link)
	if err != nil {
		t.Fatal(err)
	}
	up, err := st.Begin(context.Background(), "demo", "1.2.3", ".tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	up.Write([]byte("kit bytes"))
	os.Remove(link)
	os.Symlink(b, link)
	if err := up.Commit(context.Background(), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if got := listAll(t, b); len(got) != 0 {
		t.Errorf("BUG: swapping the root's symlink mid-publish redirected writes to %s: %q", b, got)
	}
	if _, err := os.Stat(filepath.Join(a, "demo", "1.2.3", KitFile("demo", "1.2.3", ".tar.zst"))); err != nil {
		t.Errorf("the kit is not in the directory opened: %v", err)
	}
}
