package store

// Attacks on the directory medium (file://) by whoever controls the
// directory's contents, symlinks included. A test that fails is an attack
// that works.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// publishDir publishes data as name/version to st.
func publishDir(t *testing.T, st Store, name, version string, data []byte) error {
	t.Helper()
	ctx := context.Background()
	up, err := st.Begin(ctx, name, version, ".tar.zst")
	if err != nil {
		return err
	}
	if _, err := up.Write(data); err != nil {
		up.Abort()
		return err
	}
	if err := up.Commit(ctx, []byte(`{"record":1}`)); err != nil {
		up.Abort()
		return err
	}
	return nil
}

// listAll returns every path under root, relative to it.
func listAll(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != root {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// TestDirAttackSymlinkedNameDirEscapes: the store's owner replaces
// DIR/<name> by a symlink to a directory outside the store. Publishing
// must not create directories or files outside DIR (promise 6: names from
// stores cannot escape paths).
func TestDirAttackSymlinkedNameDirEscapes(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "demo")); err != nil {
		t.Fatal(err)
	}
	st, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	perr := publishDir(t, st, "demo", "1.2.3", []byte("kit bytes"))
	if got := listAll(t, outside); len(got) != 0 {
		t.Errorf("BUG: publishing to %s through the planted symlink DIR/demo -> %s wrote outside the store: %q (publish err: %v); "+
			"Dir.Begin MkdirAll/CreateTemp and Commit's link and writeCreate follow symlinks in DIR/<name> and DIR/<name>/<version>",
			root, outside, got, perr)
	}
}

// TestDirAttackSymlinkedVersionDirEscapes: the same with DIR/<name>/<version>
// a symlink.
func TestDirAttackSymlinkedVersionDirEscapes(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "demo", "1.2.3")); err != nil {
		t.Fatal(err)
	}
	st, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	perr := publishDir(t, st, "demo", "1.2.3", []byte("kit bytes"))
	if got := listAll(t, outside); len(got) != 0 {
		t.Errorf("BUG: publishing through the planted symlink DIR/demo/1.2.3 -> %s wrote outside the store: %q (publish err: %v)", outside, got, perr)
	}
}

// TestDirAttackSymlinkedKitFileIgnored: a kit file that is a symlink (to
// anything: /dev/zero, a FIFO, a file of the user's) is not a kit: Open,
// List and Begin see none. Defended (find keeps regular files only).
func TestDirAttackSymlinkedKitFileIgnored(t *testing.T) {
	root := t.TempDir()
	vdir := filepath.Join(root, "demo", "1.2.3")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("the user's secret"), 0o600)
	if err := os.Symlink(secret, filepath.Join(vdir, "demo-1.2.3.tar.zst")); err != nil {
		t.Fatal(err)
	}
	st, _ := NewDir(root)
	if _, err := st.Open(context.Background(), "demo", "1.2.3"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open of a symlinked kit file: %v, want ErrNotFound", err)
	}
	rs, err := st.List(context.Background())
	if err != nil || len(rs) != 0 {
		t.Errorf("List: %v %v, want nothing", rs, err)
	}
	// Publishing does not replace (or write through) the symlink.
	perr := publishDir(t, st, "demo", "1.2.3", []byte("kit"))
	if b, _ := os.ReadFile(secret); string(b) != "the user's secret" {
		t.Errorf("publish wrote through the symlink: %q (err %v)", b, perr)
	}
}

// TestDirAttackHostileNamesNotListed: directory names that are not kit
// names or versions (terminal escapes, newlines, "..") are never listed.
// Defended (CheckRelease).
func TestDirAttackHostileNamesNotListed(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{
		"evil\x1b]0;owned\x07/1.0.0/evil\x1b]0;owned\x07-1.0.0.tar.zst",
		"demo/1.0.0\x1b[2J/demo-1.0.0\x1b[2J.tar.zst",
		"demo/1.0.0\n/demo-1.0.0\n.tar.zst",
		"Demo/1.0.0/Demo-1.0.0.tar.zst",
		"demo/v1.0.0/demo-v1.0.0.tar.zst",
	} {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := NewDir(root)
	rs, err := st.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 0 {
		t.Errorf("List shows hostile entries: %+v", rs)
	}
}

// TestCreateOnlyAttackSupersedes: a publish under one compression that
// wrote its bytes before another publish (under another compression) of the
// same version completed, and commits after it, must not take the version
// over: the other kit was already published (its publisher was told so,
// and its release record is beside it). kitFile picks the file "written
// first" by its time of writing, which for a directory is the temporary
// file's mtime (its last Write, not its link into place), and for S3 is
// the listing's LastModified (second resolution; ties go to .tar.zst).
// Promise 3: publish never overwrites a published kit.
func TestCreateOnlyAttackSupersedes(t *testing.T) {
	dir, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stores := map[string]Store{"dir": dir}
	if _, err := exec.LookPath("versitygw"); err == nil || os.Getenv("OFFKIT_REQUIRE_INTEROP") != "" {
		stores["s3"] = newS3Fixture(t, nil, "").st
	}
	for medium, st := range stores {
		t.Run(medium, func(t *testing.T) {
			ctx := context.Background()
			if medium == "s3" {
				// Start just after a second boundary, so that both completes
				// fall in one second of S3's LastModified.
				time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
			}
			late, err := st.Begin(ctx, "app", "1.0.0", ".tar.zst")
			if err != nil {
				t.Fatal(err)
			}
			// The late publish has streamed (and verified) its whole kit...
			if _, err := late.Write(kitBytes(31, 1000)); err != nil {
				t.Fatal(err)
			}
			if medium == "dir" {
				time.Sleep(20 * time.Millisecond)
			}
			// ...when another publisher's kit of the version completes.
			first := kitBytes(30, 1000)
			if err := publishOCI(t, st, "app", "1.0.0", ".tar.gz", first, []byte(`{"record":"first"}`)); err != nil {
				t.Fatal(err)
			}
			lerr := late.Commit(ctx, []byte(`{"record":"late"}`))
			late.Abort()
			obj, err := st.Open(ctx, "app", "1.0.0")
			if err != nil {
				t.Fatal(err)
			}
			rec, _ := st.Record(ctx, "app", "1.0.0")
			if got := readRange(t, obj, 0, -1); !bytes.Equal(got, first) {
				t.Errorf("BUG (%s): app 1.0.0 was published as app-1.0.0.tar.gz (its publisher was told so, record %s), "+
					"then a concurrent .tar.zst publish committed (Commit: %v) and the version is now that other kit; "+
					"kitFile picks by time of writing (dir: the temp file's mtime, set by its last Write, not by the link; "+
					"S3: LastModified, to the second, ties to .tar.zst), not by which file was made visible first", medium, rec, lerr)
			} else if !errors.Is(lerr, ErrExists) {
				t.Errorf("the later publish: %v, want ErrExists", lerr)
			}
		})
	}
}

// TestDirAttackRecordFIFOHangs: the store's owner makes the release record
// a FIFO. Store.Record must honour its context (promise 4: no hang without
// a context); os.Open of a FIFO blocks until a writer comes.
func TestDirAttackRecordFIFOHangs(t *testing.T) {
	root := t.TempDir()
	vdir := filepath.Join(root, "demo", "1.2.3")
	os.MkdirAll(vdir, 0o755)
	os.WriteFile(filepath.Join(vdir, "demo-1.2.3.tar.zst"), []byte("a"), 0o644)
	fifo := filepath.Join(vdir, RecordFile("demo", "1.2.3"))
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	st, _ := NewDir(root)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := st.Record(ctx, "demo", "1.2.3"); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("Record of a FIFO returned no error")
		}
	case <-time.After(3 * time.Second):
		// Unblock the reader so that the goroutine ends.
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		<-done
		t.Errorf("BUG: Dir.Record on a FIFO planted as %s blocked past its context's 500ms deadline: "+
			"store/dir.go Record os.Opens the record with no O_NONBLOCK/regular-file check and ignores ctx", RecordFile("demo", "1.2.3"))
	}
}
