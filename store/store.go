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
	"time"
)

// ErrExists is returned by Upload.Commit when the store already holds a kit
// for the name and version: published kits are immutable.
var ErrExists = errors.New("already published")

// ErrNotFound is returned when the store holds no such kit or record.
var ErrNotFound = errors.New("not found")

// Release is one published kit as a store lists it.
type Release struct {
	Name     string    `json:"name"`
	Version  string    `json:"version"`
	URL      string    `json:"url"`      // the kit's URL, as offkit pull/verify/inspect take it
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

// KitFile is the published kit's file name: <name>-<version><ext>.
func KitFile(name, version, ext string) string { return name + "-" + version + ext }

// RecordFile is the release record's file name beside it:
// <name>-<version>.release.json.
func RecordFile(name, version string) string { return name + "-" + version + ".release.json" }

// notFound wraps ErrNotFound with what was looked for.
func notFound(what string) error { return fmt.Errorf("%s: %w", what, ErrNotFound) }
