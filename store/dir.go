package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/offkit/offkit/manifest"
)

// Dir is a store in a local directory (file://): a mounted share, a
// removable disk. Kits are published as DIR/<name>/<version>/<file> by
// writing a hidden temporary file beside it and hard-linking it into place,
// which fails if the name exists: create-only even between two publishers
// on one file system.
type Dir struct {
	root string
}

// NewDir returns the store in dir, which must exist.
func NewDir(dir string) (*Dir, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("store %s: not a directory", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return &Dir{root: abs}, nil
}

func (d *Dir) versionDir(name, version string) string {
	return filepath.Join(d.root, name, version)
}

// URL implements Store.
func (d *Dir) URL(name, version string) string {
	u := "file://" + filepath.ToSlash(d.root)
	if name == "" {
		return u
	}
	return u + "/" + name + "/" + version
}

// kitFile returns the kit file among a version directory's files (names
// with their times of writing), "" if there is none. Two publishes of one
// version under different compressions can both complete (their names
// differ): the file written first is the kit (ties go to the first
// extension in Exts), and the other publish, listing the version again
// after completing, sees that and removes its own file.
func kitFile(files map[string]time.Time, name, version string) (string, error) {
	best := ""
	for _, ext := range Exts {
		f := KitFile(name, version, ext)
		t, ok := files[f]
		if ok && (best == "" || t.Before(files[best])) {
			best = f
		}
	}
	return best, nil
}

func (d *Dir) find(name, version string) (string, error) {
	if err := CheckRelease(name, version); err != nil {
		return "", err
	}
	ents, err := os.ReadDir(d.versionDir(name, version))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	files := map[string]time.Time{}
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), name+"-"+version+".tar") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed since listed
		}
		files[e.Name()] = fi.ModTime()
	}
	return kitFile(files, name, version)
}

// Begin implements Store.
func (d *Dir) Begin(ctx context.Context, name, version, ext string) (Upload, error) {
	if err := checkExt(ext); err != nil {
		return nil, err
	}
	have, err := d.find(name, version)
	if err != nil {
		return nil, err
	}
	if have != "" {
		return existing{url: d.URL(name, version)}, nil
	}
	vdir := d.versionDir(name, version)
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return nil, err
	}
	file := KitFile(name, version, ext)
	f, err := os.CreateTemp(vdir, "."+file+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &dirUpload{d: d, f: f, name: name, version: version, path: filepath.Join(vdir, file)}, nil
}

type dirUpload struct {
	d             *Dir
	f             *os.File
	name, version string
	path          string
	done          bool
}

func (u *dirUpload) Write(p []byte) (int, error) { return u.f.Write(p) }

func (u *dirUpload) Commit(ctx context.Context, record []byte) error {
	if err := u.f.Sync(); err != nil {
		u.Abort()
		return err
	}
	if err := u.f.Close(); err != nil {
		u.Abort()
		return err
	}
	// Another publisher may have won since Begin: link, unlike rename,
	// refuses to replace it.
	if err := u.link(u.f.Name(), u.path); err != nil {
		u.Abort()
		return err
	}
	u.done = true
	os.Remove(u.f.Name())
	if record != nil {
		if err := writeCreate(filepath.Join(filepath.Dir(u.path), RecordFile(u.name, u.version)), record); err != nil {
			return fmt.Errorf("%w: %w", ErrNoRecord, err)
		}
	}
	return syncDir(filepath.Dir(u.path))
}

func (u *dirUpload) link(tmp, path string) error {
	err := os.Link(tmp, path)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: %w", u.d.URL(u.name, u.version), ErrExists)
	}
	if err == nil {
		// A kit under another extension may have appeared meanwhile.
		if have, ferr := u.d.find(u.name, u.version); ferr != nil || have != filepath.Base(path) {
			os.Remove(path)
			if ferr != nil {
				return ferr
			}
			return fmt.Errorf("%s: %w", u.d.URL(u.name, u.version), ErrExists)
		}
	}
	return err
}

func (u *dirUpload) Abort() error {
	if u.done {
		return nil
	}
	u.done = true
	u.f.Close()
	err := os.Remove(u.f.Name())
	// Leave no empty directories behind (a no-op if another kit is there).
	vdir := filepath.Dir(u.path)
	if os.Remove(vdir) == nil {
		os.Remove(filepath.Dir(vdir))
	}
	return err
}

// writeCreate writes b to path through a temporary file, create-only.
func writeCreate(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	err = os.Link(f.Name(), path)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: %w", path, ErrExists)
	}
	return err
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		// Some systems cannot sync a directory; the rename is still atomic.
		return nil
	}
	return nil
}

// Open implements Store.
func (d *Dir) Open(ctx context.Context, name, version string) (Object, error) {
	file, err := d.find(name, version)
	if err != nil {
		return nil, err
	}
	if file == "" {
		return nil, notFound(d.URL(name, version))
	}
	path := filepath.Join(d.versionDir(name, version), file)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return &dirObject{path: path, size: fi.Size(), url: d.URL(name, version)}, nil
}

type dirObject struct {
	path string
	size int64
	url  string
}

func (o *dirObject) Size() int64 { return o.size }
func (o *dirObject) URL() string { return o.url }

func (o *dirObject) Range(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	f, err := os.Open(o.path)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	if n < 0 {
		return f, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, n), f}, nil
}

// Record implements Store.
func (d *Dir) Record(ctx context.Context, name, version string) ([]byte, error) {
	if err := CheckRelease(name, version); err != nil {
		return nil, err
	}
	path := filepath.Join(d.versionDir(name, version), RecordFile(name, version))
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFound(d.URL(name, version) + "/" + RecordFile(name, version))
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, path)
}

// PutRecord implements Store.
func (d *Dir) PutRecord(ctx context.Context, name, version string, record []byte) error {
	if err := CheckRelease(name, version); err != nil {
		return err
	}
	return writeCreate(filepath.Join(d.versionDir(name, version), RecordFile(name, version)), record)
}

// List implements Store.
func (d *Dir) List(ctx context.Context) ([]Release, error) {
	names, err := os.ReadDir(d.root)
	if err != nil {
		return nil, err
	}
	var out []Release
	for _, n := range names {
		if !n.IsDir() {
			continue
		}
		versions, err := os.ReadDir(filepath.Join(d.root, n.Name()))
		if err != nil {
			return nil, err
		}
		for _, v := range versions {
			if !v.IsDir() || CheckRelease(n.Name(), v.Name()) != nil {
				continue
			}
			file, err := d.find(n.Name(), v.Name())
			if err != nil || file == "" {
				continue
			}
			fi, err := os.Stat(filepath.Join(d.versionDir(n.Name(), v.Name()), file))
			if err != nil {
				return nil, err
			}
			_, rerr := os.Stat(filepath.Join(d.versionDir(n.Name(), v.Name()), RecordFile(n.Name(), v.Name())))
			out = append(out, Release{Name: n.Name(), Version: v.Name(), URL: d.URL(n.Name(), v.Name()),
				File: file, Size: fi.Size(), Modified: fi.ModTime().UTC(), Record: rerr == nil})
		}
	}
	sortReleases(out)
	return out, nil
}

func sortReleases(rs []Release) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Name != rs[j].Name {
			return rs[i].Name < rs[j].Name
		}
		return manifest.CompareVersions(rs[i].Version, rs[j].Version) < 0
	})
}
