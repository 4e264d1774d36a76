package images

import (
	"bytes"
	"io/fs"
	"path"
	"strings"
	"time"
)

// FS returns what the Checker kept of the layout as a read-only file
// system rooted at the layout: oci-layout, index.json and the small JSON
// blobs (manifests, indexes, configs, and the cosign signature payloads and
// attestation envelopes), never a layer. After a successful Finish it is
// enough for OpenLayout and for verifying the carried signatures
// (package imagesig) without the layout's other blobs; reading a blob it
// did not keep fails with fs.ErrNotExist.
func (c *Checker) FS() fs.FS { return checkerFS{c} }

type checkerFS struct{ c *Checker }

func (f checkerFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	var data []byte
	switch name {
	case LayoutFile:
		data = f.c.layout
	case IndexFile:
		data = f.c.index
	case ".", "blobs", BlobsDir:
		return &memFile{name: name, dir: true}, nil
	default:
		if hexName, ok := strings.CutPrefix(name, BlobsDir+"/"); ok {
			if b := f.c.blobs[hexName]; b != nil {
				data = b.data
			}
		}
	}
	if data == nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{name: name, r: bytes.NewReader(data), size: int64(len(data))}, nil
}

// memFile is a file of checkerFS. Directories cannot be listed.
type memFile struct {
	name string
	dir  bool
	r    *bytes.Reader
	size int64
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m, nil }
func (m *memFile) Close() error               { return nil }
func (m *memFile) Read(p []byte) (int, error) {
	if m.dir {
		return 0, &fs.PathError{Op: "read", Path: m.name, Err: fs.ErrInvalid}
	}
	return m.r.Read(p)
}

func (m *memFile) Name() string       { return path.Base(m.name) }
func (m *memFile) Size() int64        { return m.size }
func (m *memFile) ModTime() time.Time { return time.Time{} }
func (m *memFile) IsDir() bool        { return m.dir }
func (m *memFile) Sys() any           { return nil }
func (m *memFile) Mode() fs.FileMode {
	if m.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
