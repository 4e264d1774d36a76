package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/offkit/offkit/internal/fsutil"
	"github.com/offkit/offkit/manifest"
)

// Dir is a store in a local directory (file://): a mounted share, a
// removable disk. Kits are published as DIR/<name>/<version>/<file> by
// writing a hidden temporary file beside it and hard-linking it into place,
// which fails if the name exists: create-only even between two publishers
// on one file system.
//
// Every file operation goes through an os.Root on DIR, so a symbolic link
// planted in the store (DIR/<name> pointing elsewhere) cannot make offkit
// read or write outside it.
type Dir struct {
	root string
	r    *os.Root
}

// claimFile names, in a version directory, the one kit file of the
// version: written create-only before the kit is linked into place, it
// decides between two publishes of one version under different
// compressions (whose file names differ).
const claimFile = ".offkit-kit"

// NewDir returns the store in dir, which must exist.
func NewDir(dir string) (*Dir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	return &Dir{root: abs, r: r}, nil
}

// versionDir is the version directory's path.
func (d *Dir) versionDir(name, version string) string {
	return filepath.Join(d.root, filepath.FromSlash(vdir(name, version)))
}

// vdir is the version directory, relative to the root.
func vdir(name, version string) string { return path.Join(name, version) }

// URL implements Store.
func (d *Dir) URL(name, version string) string {
	u := "file://" + filepath.ToSlash(d.root)
	if name == "" {
		return u
	}
	return u + "/" + name + "/" + version
}

// pickKit returns the kit file among a version directory's names, "" if
// there is none: the one claim names if it is there, else the first by
// extension in Exts order.
func pickKit(names []string, claim, name, version string) string {
	if claim != "" && slices.Contains(names, claim) {
		return claim
	}
	for _, ext := range Exts {
		if f := KitFile(name, version, ext); slices.Contains(names, f) {
			return f
		}
	}
	return ""
}

// openRegular opens the regular file rel: a symbolic link (which os.Root
// follows while it stays inside the store), a FIFO or a device is refused,
// and so is a file swapped for another between the look and the open. It
// never blocks on opening.
func (d *Dir) openRegular(rel string) (*os.File, error) {
	lfi, err := d.r.Lstat(rel)
	if err != nil {
		return nil, err
	}
	if !lfi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", d.URL("", "")+"/"+rel)
	}
	f, err := d.r.OpenFile(rel, os.O_RDONLY|oNonblockNofollow, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || !os.SameFile(fi, lfi) {
		f.Close()
		return nil, fmt.Errorf("%s: not the regular file it was a moment ago", d.URL("", "")+"/"+rel)
	}
	return f, nil
}

// kitFiles counts the kit files among a version directory's names: the
// claim is read only when there is more than one.
func kitFiles(names []string, name, version string) int {
	n := 0
	for _, ext := range Exts {
		if slices.Contains(names, KitFile(name, version, ext)) {
			n++
		}
	}
	return n
}

// readSmall reads the regular file rel, at most n bytes.
func (d *Dir) readSmall(rel string, n int64) ([]byte, error) {
	f, err := d.openRegular(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, n+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > n {
		return nil, fmt.Errorf("%s: larger than %d bytes", d.URL("", "")+"/"+rel, n)
	}
	return b, nil
}

// claim returns the version's claimed kit file, "" if none.
func (d *Dir) claim(name, version string) string {
	b, err := d.readSmall(path.Join(vdir(name, version), claimFile), 256)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

func (d *Dir) find(name, version string) (string, error) {
	if err := CheckRelease(name, version); err != nil {
		return "", err
	}
	dir, err := d.r.Open(vdir(name, version))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer dir.Close()
	ents, err := dir.ReadDir(-1)
	if err != nil {
		return "", err
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	claim := ""
	if kitFiles(names, name, version) > 1 {
		claim = d.claim(name, version)
	}
	return pickKit(names, claim, name, version), nil
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
	vd := vdir(name, version)
	if err := d.r.MkdirAll(vd, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", d.URL(name, version), err)
	}
	file := KitFile(name, version, ext)
	tmp := path.Join(vd, "."+file+".tmp-"+randomSuffix())
	f, err := d.r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.URL(name, version), err)
	}
	return &dirUpload{d: d, f: f, tmp: tmp, name: name, version: version, file: file}, nil
}

func randomSuffix() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

type dirUpload struct {
	d             *Dir
	f             *os.File
	tmp           string // relative to the root
	name, version string
	file          string // the kit file's name
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
	url := u.d.URL(u.name, u.version)
	vd := vdir(u.name, u.version)
	// Claim the version for this file, create-only; a claim already there
	// for another file means another compression of it won.
	err := u.d.writeCreate(path.Join(vd, claimFile), []byte(u.file+"\n"))
	if errors.Is(err, ErrExists) && u.d.claim(u.name, u.version) == u.file {
		err = nil // an earlier try of this very file (the link decides)
	}
	if err != nil {
		u.Abort()
		if errors.Is(err, ErrExists) {
			return fmt.Errorf("%s: %w", url, ErrExists)
		}
		return err
	}
	// Another publisher of this file may have won since Begin: link,
	// unlike rename, refuses to replace it.
	if err := u.d.r.Link(u.tmp, path.Join(vd, u.file)); err != nil {
		u.Abort()
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", url, ErrExists)
		}
		return err
	}
	u.done = true
	u.d.r.Remove(u.tmp)
	if record != nil {
		if err := u.d.writeCreate(path.Join(vd, RecordFile(u.name, u.version)), record); err != nil {
			return fmt.Errorf("%w: %w", ErrNoRecord, err)
		}
	}
	return u.d.syncDir(vd)
}

func (u *dirUpload) Abort() error {
	if u.done {
		return nil
	}
	u.done = true
	u.f.Close()
	err := u.d.r.Remove(u.tmp)
	// Leave no empty directories behind (a no-op if another kit is there).
	vd := vdir(u.name, u.version)
	if u.d.r.Remove(vd) == nil {
		u.d.r.Remove(u.name)
	}
	return err
}

// writeCreate writes b to rel through a temporary file, create-only.
func (d *Dir) writeCreate(rel string, b []byte) error {
	tmp := path.Join(path.Dir(rel), "."+path.Base(rel)+".tmp-"+randomSuffix())
	f, err := d.r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer d.r.Remove(tmp)
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
	err = d.r.Link(tmp, rel)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: %w", d.URL("", "")+"/"+rel, ErrExists)
	}
	return err
}

// syncDir makes the links in rel durable (fsutil.SyncOpenDir).
func (d *Dir) syncDir(rel string) error {
	f, err := d.r.Open(rel)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := fsutil.SyncOpenDir(f); err != nil {
		return fmt.Errorf("%s: sync: %w", d.URL("", "")+"/"+rel, err)
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
	rel := path.Join(vdir(name, version), file)
	fi, err := d.r.Lstat(rel)
	if err != nil {
		return nil, err
	}
	return &dirObject{d: d, rel: rel, size: fi.Size(), url: d.URL(name, version)}, nil
}

type dirObject struct {
	d    *Dir
	rel  string
	size int64
	url  string
}

func (o *dirObject) Size() int64 { return o.size }
func (o *dirObject) URL() string { return o.url }

func (o *dirObject) Range(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	f, err := o.d.openRegular(o.rel)
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
	rel := path.Join(vdir(name, version), RecordFile(name, version))
	b, err := d.readSmall(rel, MaxRecordSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFound(d.URL(name, version) + "/" + RecordFile(name, version))
	}
	return b, err
}

// PutRecord implements Store.
func (d *Dir) PutRecord(ctx context.Context, name, version string, record []byte) error {
	if err := CheckRelease(name, version); err != nil {
		return err
	}
	return d.writeCreate(path.Join(vdir(name, version), RecordFile(name, version)), record)
}

// List implements Store.
func (d *Dir) List(ctx context.Context) ([]Release, error) {
	top, err := d.r.Open(".")
	if err != nil {
		return nil, err
	}
	names, err := top.ReadDir(-1)
	top.Close()
	if err != nil {
		return nil, err
	}
	var out []Release
	for _, n := range names {
		if !n.IsDir() {
			continue
		}
		nd, err := d.r.Open(n.Name())
		if err != nil {
			return nil, err
		}
		versions, err := nd.ReadDir(-1)
		nd.Close()
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
			vd := vdir(n.Name(), v.Name())
			fi, err := d.r.Lstat(path.Join(vd, file))
			if err != nil {
				return nil, err
			}
			rfi, rerr := d.r.Lstat(path.Join(vd, RecordFile(n.Name(), v.Name())))
			out = append(out, Release{Name: n.Name(), Version: v.Name(), URL: d.URL(n.Name(), v.Name()),
				File: file, Size: fi.Size(), Modified: fi.ModTime().UTC(), Record: rerr == nil && rfi.Mode().IsRegular()})
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
