package bundle

import (
	"archive/tar"
	"time"
)

// header returns the normalised tar header of a kit entry: PAX format, owner
// 0/0 with no names, the kit's timestamp, and mode 0644, 0755 or (for
// directories, whose names end in "/") 0755.
func header(name string, size int64, mode string, mtime time.Time) *tar.Header {
	h := &tar.Header{
		Name:    name,
		Size:    size,
		Mode:    0o644,
		ModTime: mtime,
		Format:  tar.FormatPAX,
		Uid:     0, Gid: 0, Uname: "", Gname: "",
		Typeflag: tar.TypeReg,
	}
	switch {
	case len(name) > 0 && name[len(name)-1] == '/':
		h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
	case mode == "0755":
		h.Mode = 0o755
	}
	return h
}
