package manifest

import (
	"errors"
	"strings"
	"testing"
)

// TestManifestCheckPaths: Manifest.Check refuses files that collide, by
// fold key or as file and directory, and files whose tar name would be too
// long, in the components and in the image layout.
func TestManifestCheckPaths(t *testing.T) {
	file := func(p string) File { return File{Path: p, Size: 1, Mode: ModeFile, Digest: SHA256(nil)} }
	withFiles := func(paths ...string) *Manifest {
		m, _ := testManifest()
		c := &m.Components[0]
		c.Files, c.Size = nil, 0
		for _, p := range paths {
			c.Files = append(c.Files, file(p))
			c.Size++
		}
		m.FileCount, m.TotalSize = len(paths), c.Size
		return m
	}
	long := "m/" + strings.Repeat(strings.Repeat("x", 200)+"/", 20)
	fits := long + strings.Repeat("y", MaxPathLen-len("demo-1.0.0/")-len(long))
	cases := []struct {
		name string
		m    *Manifest
		want string
	}{
		{"apart", withFiles("m/a", "m/b/c", "m/b/d", "m/é"), ""},
		{"case", withFiles("m/RUN.sh", "m/run.sh"), `unsafe path: manifest: "m/run.sh" collides with "m/RUN.sh"`},
		{"case of a directory", withFiles("m/SUB/a", "m/sub/b"), `unsafe path: manifest: directory "m/sub" collides with "m/SUB"`},
		{"file and directory", withFiles("m/a", "m/a/b"), `unsafe path: manifest: directory "m/a" collides with "m/a"`},
		{"directory and file", withFiles("m/a/b", "m/a"), `unsafe path: manifest: "m/a" collides with "m/a"`},
		{"sharp s", withFiles("m/straße", "m/STRASSE"), `collides with "m/straße"`},
		{"trailing dot", withFiles("m/a.", "m/a"), `"m/a" collides with "m/a."`},
		{"stdin", withFiles("-"), "standard input"},
		{"longest tar name", withFiles(fits), ""},
		{"tar name too long", withFiles(fits + "z"), "longer than 4095 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.m.Check()
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check() = %v, want ErrUnsafePath with %q", err, c.want)
			}
		})
	}

	m, _ := testManifestV2()
	f := m.Images.Files[0]
	upper := f
	dir := "images/blobs/sha256/"
	upper.Path = dir + strings.ToUpper(strings.TrimPrefix(f.Path, dir))
	m.Images.Files = append([]File{upper}, m.Images.Files...) // sorted: upper case first
	m.Images.Size += upper.Size
	m.FileCount++
	m.TotalSize += upper.Size
	if err := m.Check(); !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), "collides with") {
		t.Fatalf("Check() of a layout with %q and %q = %v, want ErrUnsafePath", upper.Path, f.Path, err)
	}
}
