// Package store keeps published kits: in a directory (file://), an S3
// bucket (s3://) or an OCI registry (oci://). Each medium is one file or
// package; the commands see only the Store interface.
//
// Publishing is create-only and invisible until committed: a Store's
// Upload takes the kit's bytes as they are verified, and only Commit,
// called after every check has held, makes the kit (and then its release
// record) visible. Abort, called on any failure, leaves nothing behind.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
)

// ErrExists is returned by Upload.Commit when the store already holds a kit
// for the name and version: published kits are immutable.
var ErrExists = errors.New("already published")

// ErrNoRecord is returned by Upload.Commit when the kit was published but
// its release record could not be: the kit is visible.
var ErrNoRecord = errors.New("the kit is published, but not its release record")

// ErrNotFound is returned when the store holds no such kit or record.
var ErrNotFound = errors.New("not found")

// Release is one published kit as a store lists it.
type Release struct {
	Name     string    `json:"name"`
	Version  string    `json:"version"`
	URL      string    `json:"url"`      // the kit's URL, as offkit pull/verify/inspect take it
	File     string    `json:"file"`     // the kit file's name: KitFile
	Size     int64     `json:"size"`     // the kit file's size in bytes
	Modified time.Time `json:"modified"` // when the store says it was written
	Record   bool      `json:"record"`   // a release record is beside it
}

// Store is where kits are published.
type Store interface {
	// Begin starts publishing the kit name/version, whose file name ends
	// in ext (".tar.zst", ".tar.gz" or ".tar": KitFile). The bytes written
	// to the Upload are the kit file; nothing is visible until Commit.
	Begin(ctx context.Context, name, version, ext string) (Upload, error)
	// Open opens the published kit name/version for reading.
	// It returns an error wrapping ErrNotFound if there is none.
	Open(ctx context.Context, name, version string) (Object, error)
	// Record returns the release record published beside name/version,
	// or an error wrapping ErrNotFound.
	Record(ctx context.Context, name, version string) ([]byte, error)
	// PutRecord publishes a release record for an already published kit,
	// create-only; it returns ErrExists if one is there.
	PutRecord(ctx context.Context, name, version string, record []byte) error
	// List returns every published kit, sorted by name then version.
	List(ctx context.Context) ([]Release, error)
	// URL returns the URL of name/version (or of the store when name is "").
	URL(name, version string) string
}

// Upload is a kit being published.
type Upload interface {
	// Write takes the next bytes of the kit file.
	io.Writer
	// Commit makes the kit visible at its name and version, create-only:
	// if a kit is already published there, it leaves that one untouched,
	// discards this one and returns an error wrapping ErrExists. After
	// the kit, it publishes record (the release record) beside it.
	Commit(ctx context.Context, record []byte) error
	// Abort discards everything written, including any server-side
	// upload state, with its own short-lived context so that it still
	// works when the publishing context has been cancelled. It is a no-op
	// after Commit.
	Abort() error
}

// Object is a published kit opened for reading.
type Object interface {
	// Size is the kit file's size in bytes.
	Size() int64
	// Range returns a reader of the bytes [off, off+n), or [off, Size())
	// when n < 0.
	Range(ctx context.Context, off, n int64) (io.ReadCloser, error)
	// URL is where it is.
	URL() string
}

// clampRange checks a Range request of an object of size bytes at url:
// off must lie within it; n < 0, or past the end, means up to the end.
func clampRange(url string, off, n, size int64) (int64, error) {
	if off < 0 || off > size {
		return 0, fmt.Errorf("%s: range at %d, outside the object's %d bytes", url, off, size)
	}
	if n < 0 || n > size-off {
		n = size - off
	}
	return n, nil
}

// KitFile is the published kit's file name: <name>-<version><ext>.
func KitFile(name, version, ext string) string { return name + "-" + version + ext }

// RecordFile is the release record's file name beside it:
// <name>-<version>.release.json.
func RecordFile(name, version string) string { return name + "-" + version + ".release.json" }

// Exts are the kit file extensions, one per compression.
var Exts = []string{".tar.zst", ".tar.gz", ".tar"}

func checkExt(ext string) error {
	for _, e := range Exts {
		if e == ext {
			return nil
		}
	}
	return fmt.Errorf("store: unknown kit file extension %q (want .tar.zst, .tar.gz or .tar)", ext)
}

// The kit name and version grammars of the manifest (schemas/manifest.schema.json):
// both are safe as path elements and object key parts.
var (
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,127}$`)
	versionRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-((0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?(\+([0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*))?$`)
)

// CheckRelease refuses a name or version a kit cannot have: they come
// from URLs and listings, and become paths and keys.
func CheckRelease(name, version string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%q is not a kit name (lowercase letters, digits, '.', '_' and '-', starting with a letter or digit)", name)
	}
	if !versionRE.MatchString(version) || len(version) > 128 {
		return fmt.Errorf("%q is not a kit version (semantic versioning 2.0.0)", version)
	}
	return nil
}

// MaxRecordSize bounds a release record read from a store.
const MaxRecordSize = 4 << 20

func readLimited(r io.Reader, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxRecordSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxRecordSize {
		return nil, fmt.Errorf("%s: release record larger than %d bytes", what, MaxRecordSize)
	}
	return b, nil
}

// existing is the Upload of a kit already published: it takes the bytes
// (so that the caller's verification runs to its end, and can compare the
// published kit with its own) and stores none of them.
type existing struct{ url string }

func (existing) Write(p []byte) (int, error) { return len(p), nil }
func (e existing) Commit(context.Context, []byte) error {
	return fmt.Errorf("%s: %w", e.url, ErrExists)
}
func (existing) Abort() error { return nil }

// notFound wraps ErrNotFound with what was looked for.
func notFound(what string) error { return fmt.Errorf("%s: %w", what, ErrNotFound) }
