package images_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/offkit/offkit/images"
)

// FuzzCheckLayout feeds CheckLayout an untrusted index.json and manifest,
// next to the blobs of a real layout. It must never panic, and whatever it
// accepts must be a layout every one of whose entries can be opened.
func FuzzCheckLayout(f *testing.F) {
	app := randomImage(f, 1)
	idx, _ := platformIndex(f, 10)
	src := ociSource(f, app, idx)
	img := resolve(f, "oci:"+src+":team/app:v1")
	multi := resolve(f, "oci:"+src+":team/multi:v2", "linux/amd64")
	dir, _ := writeLayout(f, img, multi)
	base := fstest.MapFS{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		base[filepath.ToSlash(rel)] = &fstest.MapFile{Data: b, Mode: 0o644}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	index := base["index.json"].Data
	f.Add(index, base["blobs/sha256/"+img.Digest().Hex].Data)
	f.Add(index, base["blobs/sha256/"+multi.Digest().Hex].Data)
	f.Add([]byte(`{"schemaVersion":2,"manifests":[]}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, index, manifest []byte) {
		fsys := fstest.MapFS{}
		for k, v := range base {
			fsys[k] = v
		}
		fsys["index.json"] = &fstest.MapFile{Data: index, Mode: 0o644}
		sum := sha256.Sum256(manifest)
		fsys["blobs/sha256/"+hex.EncodeToString(sum[:])] = &fstest.MapFile{Data: manifest, Mode: 0o644}
		entries, err := images.CheckLayout(fsys)
		if err != nil {
			return
		}
		l, err := images.OpenLayout(fsys)
		if err != nil {
			t.Fatalf("CheckLayout accepts a layout OpenLayout refuses: %v", err)
		}
		if len(l.Entries()) != len(entries) {
			t.Fatalf("OpenLayout reads %d entries, CheckLayout %d", len(l.Entries()), len(entries))
		}
		for _, e := range entries {
			rc, err := l.Open(e.Descriptor)
			if err != nil {
				t.Fatalf("entry %s accepted but cannot be opened: %v", e.Digest(), err)
			}
			var b bytes.Buffer
			if _, err := b.ReadFrom(rc); err != nil {
				t.Fatalf("entry %s accepted but does not read back: %v", e.Digest(), err)
			}
			rc.Close()
		}
	})
}
