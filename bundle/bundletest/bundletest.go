// Package bundletest makes small kits and hostile variants of kits for tests:
// a spec tree on disk, a built kit, and a rewriter that edits a kit's tar
// entries and recompresses it. Keys come from sign/signtest; this package
// does not depend on cosign, so the bundle package's fuzz targets stay small.
package bundletest

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/manifest"
)

// Epoch is the SOURCE_DATE_EPOCH of kits made here.
var Epoch = time.Unix(1700000000, 0).UTC()

// SpecYAML is the kit.yaml WriteSpec writes.
const SpecYAML = `name: demo
version: 1.2.3
description: a test kit
labels:
  ticket: REL-1
components:
  - name: migrations
    type: migrations
    from: src/migrations
    path: migrations
    sbom: src/runner.spdx.json
  - name: rollback
    type: rollback
    from: src/rollback.js
    path: rollback/rollback.js
  - name: seeds
    type: seeds
    path: seeds
    pending: true
`

// SBOM is a minimal valid SPDX 2.3 document.
const SBOM = `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"runner",` +
	`"documentNamespace":"https://example.org/runner","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: test"]}}`

// Files are the source files WriteSpec writes, relative to the spec's dir.
var Files = map[string]string{
	"src/migrations/001_init.sql":    "CREATE TABLE t (id int);\n",
	"src/migrations/002_index.sql":   "CREATE INDEX i ON t (id);\n",
	"src/migrations/sub/README.md":   "# migrations\n",
	"src/migrations/sub/deep/x.json": "{}\n",
	"src/migrations/run.sh":          "#!/bin/sh\necho run\n",
	"src/rollback.js":                "// rollback\n",
	"src/runner.spdx.json":           SBOM,
}

// WriteSpec writes kit.yaml and its sources into dir and returns the spec's
// path. run.sh is executable.
func WriteSpec(t testing.TB, dir string) string {
	t.Helper()
	for name, content := range Files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		mode := os.FileMode(0o644)
		if filepath.Ext(p) == ".sh" {
			mode = 0o755
		}
		must(t, os.WriteFile(p, []byte(content), mode))
		must(t, os.Chmod(p, mode))
	}
	spec := filepath.Join(dir, "kit.yaml")
	must(t, os.WriteFile(spec, []byte(SpecYAML), 0o644))
	return spec
}

// Build builds the kit of the spec at specPath, signed by signers, and
// returns its bytes. Image components are resolved first (ResolveImages).
func Build(t testing.TB, specPath string, signers []manifest.Signer, opts ...bundle.Option) []byte {
	t.Helper()
	data, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := manifest.ParseSpec(data, specPath)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]bundle.Option{bundle.WithCreated(Epoch)}, opts...)
	imgs, err := bundle.ResolveImages(context.Background(), spec, filepath.Dir(specPath))
	if err != nil {
		t.Fatal(err)
	}
	if imgs != nil {
		opts = append(opts, bundle.WithImages(imgs.Plan, imgs.Refs))
	}
	for _, s := range signers {
		opts = append(opts, bundle.WithSigner(s))
	}
	var b bytes.Buffer
	if _, err := bundle.Build(context.Background(), &b, spec, filepath.Dir(specPath), opts...); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Kit writes a spec into a temp dir and builds its kit, signed by signers.
func Kit(t testing.TB, signers ...manifest.Signer) []byte {
	t.Helper()
	return Build(t, WriteSpec(t, t.TempDir()), signers)
}

// Payload reads a kit with bundle.Open and Reader.Next, checking it as it
// goes, and returns its payload files' contents by path (relative to the
// root) and its head.
func Payload(t testing.TB, kit []byte) (map[string][]byte, *bundle.Head) {
	t.Helper()
	rd, err := bundle.Open(bytes.NewReader(kit))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	files := map[string][]byte{}
	for {
		e, err := rd.Next()
		if err == io.EOF {
			return files, rd.Head
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(e)
		if err != nil {
			t.Fatal(err)
		}
		if !e.Dir {
			files[e.Name] = b
		}
	}
}

// Entry is one tar entry of a kit, held in memory.
type Entry struct {
	Header *tar.Header
	Data   []byte
}

// Entries decompresses a zstd kit and returns its entries.
func Entries(t testing.TB, kit []byte) []*Entry {
	t.Helper()
	d, err := zstd.NewReader(bytes.NewReader(kit))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tr := tar.NewReader(d)
	var out []*Entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &Entry{Header: h, Data: b})
	}
}

// Pack writes entries as a PAX tar stream with a trailer, zstd-compressed.
// Header sizes are set from the data unless keepSize is true.
func Pack(t testing.TB, entries []*Entry, keepSize bool) []byte {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, e := range entries {
		h := *e.Header
		if !keepSize {
			h.Size = int64(len(e.Data))
		}
		must(t, tw.WriteHeader(&h))
		if _, err := tw.Write(e.Data); err != nil {
			t.Fatal(err)
		}
	}
	must(t, tw.Close())
	return Compress(t, raw.Bytes())
}

// Raw decompresses a zstd kit to its tar stream.
func Raw(t testing.TB, kit []byte) []byte {
	t.Helper()
	d, err := zstd.NewReader(bytes.NewReader(kit))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	raw, err := io.ReadAll(d)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Block is a ustar header block in a raw tar stream.
type Block struct {
	Off  int    // offset of the header block
	Name string // the entry's name (prefix joined)
	Size int    // content size
}

// Blocks walks a raw tar stream of ustar headers (no pax entries) up to
// the end-of-archive marker, for tests that edit header bytes.
func Blocks(raw []byte) []Block {
	var out []Block
	for off := 0; off+512 <= len(raw); {
		h := raw[off : off+512]
		if bytes.Equal(h, make([]byte, 512)) {
			break
		}
		var size int
		fmt.Sscanf(string(bytes.Trim(h[124:136], " \x00")), "%o", &size)
		name := string(bytes.TrimRight(h[0:100], "\x00"))
		if p := string(bytes.TrimRight(h[345:500], "\x00")); p != "" {
			name = p + "/" + name
		}
		out = append(out, Block{off, name, size})
		off += 512 + (size+511)&^511
	}
	return out
}

// Checksum recomputes the checksum of the ustar header block h.
func Checksum(h []byte) {
	copy(h[148:156], "        ")
	sum := 0
	for _, c := range h[:512] {
		sum += int(c)
	}
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
}

// Compress zstd-compresses b as offkit does: one frame per ChunkSize bytes,
// each declaring its content size.
func Compress(t testing.TB, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(true), zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for len(b) > 0 || out == nil {
		n := min(len(b), bundle.ChunkSize)
		out = enc.EncodeAll(b[:n], out)
		b = b[n:]
	}
	return out
}

// Rewrite decodes kit, applies edit to its entries and re-encodes it.
func Rewrite(t testing.TB, kit []byte, edit func([]*Entry) []*Entry) []byte {
	t.Helper()
	return Pack(t, edit(Entries(t, kit)), false)
}

// Find returns the entry whose name, relative to the root, is name.
func Find(entries []*Entry, name string) *Entry {
	for _, e := range entries {
		if rel := afterRoot(e.Header.Name); rel == name {
			return e
		}
	}
	return nil
}

func afterRoot(n string) string {
	for i := 0; i < len(n); i++ {
		if n[i] == '/' {
			return n[i+1:]
		}
	}
	return ""
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
