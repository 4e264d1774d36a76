package images_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/offkit/offkit/images"
)

// TestCheckerCreateAndFS: a layout written file by file, in small pieces,
// through Create checks as CheckLayout does; FS then serves oci-layout,
// index.json and the manifests, enough to open the layout, but no layer.
func TestCheckerCreateAndFS(t *testing.T) {
	app := randomImage(t, 3)
	idx, _ := platformIndex(t, 30)
	src := ociSource(t, app, idx)
	img := resolve(t, "oci:"+src+":team/app:v1")
	dir, _ := writeLayout(t, img)

	c := images.NewChecker(img.Digest())
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		w := c.Create(filepath.ToSlash(rel))
		if _, err := io.Copy(w, iotest.OneByteReader(f)); err != nil {
			return err
		}
		return w.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := c.Finish()
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	l, err := images.OpenLayout(c.FS())
	if err != nil {
		t.Fatalf("OpenLayout(FS): %v", err)
	}
	if got := len(l.Entries()); got != len(entries) {
		t.Errorf("OpenLayout(FS) has %d entries, Finish %d", got, len(entries))
	}
	layers, err := app.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, layer := range layers {
		if _, err := fs.Stat(c.FS(), "blobs/sha256/"+digestOf(t, layer).Hex); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("FS has layer %s (err %v): the checker must not keep layers", digestOf(t, layer), err)
		}
	}
	rc, err := l.Open(img.Descriptor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		t.Errorf("reading the image manifest from FS: %v", err)
	}
	rc.Close()
}

// TestCheckerCreateTampered: Create refuses a blob whose content is not
// its name at Close, and an unexpected file at its first Write.
func TestCheckerCreateTampered(t *testing.T) {
	c := images.NewChecker()
	w := c.Create("blobs/sha256/" + "0000000000000000000000000000000000000000000000000000000000000000")
	w.Write([]byte("not that"))
	if err := w.Close(); !errors.Is(err, images.ErrLayout) || !errors.Is(err, images.ErrDigestMismatch) {
		t.Errorf("Close of a mismatched blob: %v, want ErrLayout and ErrDigestMismatch", err)
	}
	c = images.NewChecker()
	w = c.Create("blobs/sha512/x")
	if _, err := w.Write([]byte("x")); !errors.Is(err, images.ErrLayout) {
		t.Errorf("Write to an unexpected file: %v, want ErrLayout", err)
	}
	if err := w.Close(); !errors.Is(err, images.ErrLayout) {
		t.Errorf("Close of an unexpected file: %v, want ErrLayout", err)
	}
}
