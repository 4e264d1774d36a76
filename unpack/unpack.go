package unpack

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/internal/fsutil"
	"github.com/offkit/offkit/manifest"
)

// StagingPrefix starts the name of every staging directory in DIR.
const StagingPrefix = ".offkit-staging-"

// lockName is the lock file inside a staging directory, held while the
// run that made it is alive.
const lockName = ".lock"

// orphanAge is how old a staging directory without a lock file must be
// before it is taken as abandoned (a run dies between making it and
// locking it only in that instant).
const orphanAge = time.Minute

// ErrExists reports that the kit's root already exists in DIR.
var ErrExists = errors.New("already exists")

// Options configures an Unpacker.
type Options struct {
	// Force replaces an existing DIR/<name>-<version>, atomically where the
	// system allows (Linux renameat2 RENAME_EXCHANGE).
	Force bool
	// NoSync skips flushing the extracted files to stable storage before
	// the rename. Faster; a power loss may then leave a root whose files
	// are incomplete.
	NoSync bool
}

// Unpacker extracts one kit into a directory. Make one with New, pass it
// to verify.WithExtractor, and read Cleaned for stale staging it removed.
type Unpacker struct {
	dir  string
	opts Options

	// Cleaned lists the stale staging directories New removed; Busy those
	// it left because another run holds them; Problems the stale ones it
	// could not remove (the unpack goes on: they are reported, not fatal).
	Cleaned, Busy []string
	Problems      []error

	staging string   // DIR/.offkit-staging-*
	lock    *os.File // flocked while we run
	root    *os.Root // staging/<root>
	// The directories on the path to the last entry, each opened as a
	// root of its own: entries come sorted, so the next one's parent is
	// on this path or one element below it, and each entry costs one
	// openat instead of one per path element.
	stack   []openDir
	kitRoot string // <name>-<version>
	mtime   time.Time
	dirs    []string // directories made, relative to the root, for their mtimes
	buf     []byte
	target  string // DIR/<name>-<version> once committed
}

// New prepares to unpack into dir, which must exist. It removes staging
// directories left in dir by runs that died, and makes its own.
func New(dir string, opts Options) (*Unpacker, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	u := &Unpacker{dir: dir, opts: opts, buf: make([]byte, 1<<20)}
	if err := u.cleanStale(); err != nil {
		return nil, err
	}
	staging, err := os.MkdirTemp(dir, StagingPrefix)
	if err != nil {
		return nil, err
	}
	// The lock file is locked before it has its name: a run that finds
	// .lock unlocked knows its run is gone, never just starting.
	lock, err := os.OpenFile(filepath.Join(staging, lockName+".new"), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err == nil {
		err = fsutil.TryLock(lock)
	}
	if err == nil {
		err = os.Rename(filepath.Join(staging, lockName+".new"), filepath.Join(staging, lockName))
	}
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		os.RemoveAll(staging)
		return nil, fmt.Errorf("staging directory: %w", err)
	}
	u.staging, u.lock = staging, lock
	return u, nil
}

// cleanStale removes staging directories in u.dir whose run has died: their
// lock file is not locked (or, briefly after creation, absent).
func (u *Unpacker) cleanStale() error {
	ents, err := os.ReadDir(u.dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), StagingPrefix) {
			continue
		}
		p := filepath.Join(u.dir, e.Name())
		lock, st := inspect(p)
		switch st {
		case gone:
			continue
		case live:
			u.Busy = append(u.Busy, p)
			continue
		}
		// Holding the dead run's lock while removing keeps another run
		// from removing the same directory at the same time.
		err := removeAll(p)
		if lock != nil {
			lock.Close()
		}
		if err != nil {
			u.Problems = append(u.Problems, fmt.Errorf("removing stale staging directory: %w", err))
			continue
		}
		u.Cleaned = append(u.Cleaned, p)
	}
	return nil
}

type stagingState int

const (
	live stagingState = iota // its run holds the lock, or is making it
	dead                     // its run died: remove it
	gone                     // its run removed it as it ended
)

// inspect tells whether the run that made a staging directory is alive.
// A dead one's lock is returned held (nil for an orphan without one).
func inspect(staging string) (*os.File, stagingState) {
	f, err := os.OpenFile(filepath.Join(staging, lockName), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		fi, err := os.Lstat(staging)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, gone
		case err == nil && time.Since(fi.ModTime()) > orphanAge:
			return nil, dead
		}
		return nil, live
	}
	if err != nil {
		return nil, live
	}
	if fsutil.TryLock(f) != nil {
		f.Close()
		return nil, live
	}
	// A run that ends removes its staging, lock file included, before it
	// releases the lock: if ours was opened just before that, it is
	// unlinked now, and there is nothing to clean (or to report).
	if fsutil.Removed(f) {
		f.Close()
		return nil, gone
	}
	return f, dead
}

// Start checks that the kit's root is free (or --force), then writes the
// head's files into the staging root.
func (u *Unpacker) Start(h *bundle.Head) error {
	u.kitRoot = h.Root
	u.mtime, _ = h.Manifest.CreatedTime()
	if _, err := os.Lstat(filepath.Join(u.dir, u.kitRoot)); err == nil && !u.opts.Force {
		return fmt.Errorf("%s: %w", filepath.Join(u.dir, u.kitRoot), ErrExists)
	}
	if err := os.Mkdir(filepath.Join(u.staging, u.kitRoot), 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(filepath.Join(u.staging, u.kitRoot))
	if err != nil {
		return err
	}
	u.root = root
	if err := root.Chmod(".", 0o755); err != nil { // whatever the umask
		return err
	}
	u.dirs = append(u.dirs, ".")
	head := []string{manifest.EnvelopeName, manifest.SumsName}
	for i := range h.SumsSigs {
		head = append(head, manifest.SumsSigNameFor(i))
	}
	for _, name := range head {
		if err := u.writeFile(name, manifest.ModeFile, h.File(name)); err != nil {
			return err
		}
	}
	if err := u.mkdir(manifest.SBOMDir); err != nil {
		return err
	}
	sboms := make([]string, 0, len(h.SBOMs))
	for name := range h.SBOMs {
		sboms = append(sboms, name)
	}
	slices.Sort(sboms)
	for _, name := range sboms {
		if err := u.writeFile(name, manifest.ModeFile, h.SBOMs[name]); err != nil {
			return err
		}
	}
	return nil
}

func (u *Unpacker) writeFile(name, mode string, data []byte) error {
	return u.create(name, mode, func(f *os.File) error { _, err := f.Write(data); return err })
}

// openDir is one directory of Unpacker.stack.
type openDir struct {
	name string // relative to the kit root, "a/b"
	r    *os.Root
}

// parent returns the root to create name in (its parent directory, opened
// within u.root, so never outside it) and name's last element.
func (u *Unpacker) parent(name string) (*os.Root, string, error) {
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		return u.root, base, nil
	}
	// Keep the stack's directories that are dir or its ancestors.
	keep := 0
	for keep < len(u.stack) && (dir == u.stack[keep].name || strings.HasPrefix(dir, u.stack[keep].name+"/")) {
		keep++
	}
	u.closeStack(keep)
	r, done := u.root, ""
	if keep > 0 {
		r, done = u.stack[keep-1].r, u.stack[keep-1].name
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(dir, done), "/")
	for rest != "" {
		elem, more, _ := strings.Cut(rest, "/")
		next, err := r.OpenRoot(elem)
		if err != nil {
			return nil, "", err
		}
		done = path.Join(done, elem)
		u.stack = append(u.stack, openDir{done, next})
		r, rest = next, more
	}
	return r, base, nil
}

// closeStack closes the stack's directories from n on.
func (u *Unpacker) closeStack(n int) {
	for _, d := range u.stack[n:] {
		d.r.Close()
	}
	u.stack = u.stack[:n]
}

func (u *Unpacker) mkdir(name string) error {
	r, base, err := u.parent(name)
	if err != nil {
		return err
	}
	if err := r.Mkdir(base, 0o755); err != nil {
		return err
	}
	if err := r.Chmod(base, 0o755); err != nil { // whatever the umask
		return err
	}
	u.dirs = append(u.dirs, name)
	return nil
}

// create makes a new file (never following or replacing anything), fills
// it, then gives it its mode and the kit's mtime.
func (u *Unpacker) create(name, mode string, fill func(*os.File) error) error {
	perm := fs.FileMode(0o644)
	if mode == manifest.ModeExec {
		perm = 0o755
	}
	r, base, err := u.parent(name)
	if err != nil {
		return err
	}
	f, err := r.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	// The time is set on the open file where the system allows (one
	// futimens), else by name once it is closed.
	timed, err := setFileTimes(f, u.mtime)
	if err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if timed {
		return nil
	}
	return r.Chtimes(base, u.mtime, u.mtime)
}

// Entry writes one payload entry, hashing it as it is written.
func (u *Unpacker) Entry(e *bundle.Entry) error {
	name := strings.TrimSuffix(e.Name, "/")
	if e.Dir {
		return u.mkdir(name)
	}
	return u.create(name, e.Mode, func(f *os.File) error {
		_, err := io.CopyBuffer(onlyWriter{f}, e, u.buf)
		return err
	})
}

// onlyWriter hides *os.File's ReadFrom, so io.CopyBuffer uses our buffer
// and the entry's reads (which check the digest at the end) as they are.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// Commit gives directories the kit's mtime, flushes the files to stable
// storage, and renames the root into place: atomically, and never over an
// existing root unless Force.
func (u *Unpacker) Commit() error {
	// Children before parents: setting a child's time does not change its
	// parent's, but creating entries did, so every directory is set last.
	slices.SortFunc(u.dirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, d := range u.dirs {
		if err := u.root.Chtimes(d, u.mtime, u.mtime); err != nil {
			return err
		}
	}
	if !u.opts.NoSync {
		if err := syncFS(u.staging); err != nil {
			return fmt.Errorf("flushing %s: %w", u.staging, err)
		}
	}
	from, to := filepath.Join(u.staging, u.kitRoot), filepath.Join(u.dir, u.kitRoot)
	if err := place(from, to, u.opts.Force); err != nil {
		return err
	}
	u.target = to
	if err := fsutil.SyncDir(u.dir); err != nil && !u.opts.NoSync {
		return err
	}
	u.cleanup()
	return nil
}

// Target returns DIR/<name>-<version> once the kit has been committed.
func (u *Unpacker) Target() string { return u.target }

// Abort removes the staging directory and everything in it.
func (u *Unpacker) Abort() { u.cleanup() }

// Close releases the staging directory if neither Commit nor Abort ran
// (a failure before the kit's head was trusted).
func (u *Unpacker) Close() { u.cleanup() }

func (u *Unpacker) cleanup() {
	u.closeStack(0)
	if u.root != nil {
		u.root.Close()
		u.root = nil
	}
	if u.staging != "" {
		removeAll(u.staging)
		u.staging = ""
	}
	if u.lock != nil {
		u.lock.Close()
		u.lock = nil
	}
}

// removeAll removes the tree at p. A tree it cannot remove for want of
// permission (a root replaced by --force whose owner had made a directory
// read-only) is made writable, by its owner, and removed again.
func removeAll(p string) error {
	err := os.RemoveAll(p)
	if err == nil || !errors.Is(err, fs.ErrPermission) {
		return err
	}
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(q, 0o700)
		}
		return nil
	})
	return os.RemoveAll(p)
}
