package images

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Limits of the checker, which reads untrusted layouts.
const (
	// MaxLayoutBlobs bounds the number of blobs in a layout.
	MaxLayoutBlobs = 1 << 17
	// maxRetained bounds the bytes of small JSON blobs the Checker keeps
	// until index.json says which of them are manifests.
	maxRetained = 256 << 20
	// maxLayoutFileSize bounds oci-layout.
	maxLayoutFileSize = 4 << 10
)

// Entry is one entry of a layout's index.json, read with its offkit
// annotations.
type Entry struct {
	Role       Role
	Reference  string   // org.opencontainers.image.ref.name
	Repository string   // images: the repository path Push uses
	Tag        string   // images: the original tag
	Platforms  []string // images: the platforms carried of a filtered index
	Subject    v1.Hash  // signatures, attestations, referrers: what they belong to
	Descriptor v1.Descriptor

	specs []v1.Platform // Platforms, parsed
}

// Digest returns the entry's digest.
func (e Entry) Digest() v1.Hash { return e.Descriptor.Digest }

// parseIndex parses index.json and its entries. It does not look at blobs.
func parseIndex(b []byte) ([]Entry, error) {
	var im v1.IndexManifest
	if err := jsonUnmarshal(b, &im); err != nil {
		return nil, layoutErr(IndexFile, "%v", err)
	}
	if im.SchemaVersion != 2 {
		return nil, layoutErr(IndexFile, "schemaVersion %d, want 2", im.SchemaVersion)
	}
	if im.MediaType != "" && im.MediaType != types.OCIImageIndex {
		return nil, layoutErr(IndexFile, "mediaType %q, want %q", im.MediaType, types.OCIImageIndex)
	}
	if len(im.Manifests) > MaxLayoutBlobs {
		return nil, layoutErr(IndexFile, "more than %d entries", MaxLayoutBlobs)
	}
	entries := make([]Entry, 0, len(im.Manifests))
	for i, d := range im.Manifests {
		e, err := parseEntry(d)
		if err != nil {
			return nil, layoutErr(IndexFile, "manifests[%d] (%s): %w", i, d.Digest, err)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func parseEntry(d v1.Descriptor) (Entry, error) {
	if err := checkLayoutDescriptor(d); err != nil {
		return Entry{}, err
	}
	if !isIndex(d.MediaType) && !isManifest(d.MediaType) {
		return Entry{}, fmt.Errorf("media type %q is not a manifest or index", d.MediaType)
	}
	a := d.Annotations
	e := Entry{Role: Role(a[AnnotationRole]), Reference: a[AnnotationRefName], Descriptor: d}
	switch e.Role {
	case RoleImage:
		e.Repository, e.Tag = a[AnnotationRepository], a[AnnotationTag]
		// Push places the image under its repository path and tag: they
		// must be names a registry takes as they are, with no ".." to
		// climb out of the prefix pushed to.
		if _, ok := a[AnnotationRepository]; ok {
			if err := CheckRepositoryPath(e.Repository); err != nil {
				return Entry{}, fmt.Errorf("annotation %s: %w", AnnotationRepository, err)
			}
		}
		if _, ok := a[AnnotationTag]; ok {
			if err := CheckTag(e.Tag); err != nil {
				return Entry{}, fmt.Errorf("annotation %s: %w", AnnotationTag, err)
			}
		}
		if err := checkPrintable(e.Reference); err != nil {
			return Entry{}, fmt.Errorf("annotation %s: %w", AnnotationRefName, err)
		}
		if p, ok := a[AnnotationPlatforms]; ok {
			specs, norm, err := parsePlatforms("", strings.Split(p, ","))
			if err != nil || len(specs) == 0 || strings.Join(norm, ",") != p {
				return Entry{}, fmt.Errorf("annotation %s: %q is not a sorted list of platforms", AnnotationPlatforms, p)
			}
			if !isIndex(d.MediaType) {
				return Entry{}, fmt.Errorf("annotation %s on a manifest that is not an index", AnnotationPlatforms)
			}
			e.Platforms, e.specs = norm, specs
		}
		if _, ok := a[AnnotationSubject]; ok {
			return Entry{}, fmt.Errorf("annotation %s on an image", AnnotationSubject)
		}
	case RoleSignature, RoleAttestation, RoleReferrer:
		h, err := v1.NewHash(a[AnnotationSubject])
		if err != nil || h.Algorithm != "sha256" {
			return Entry{}, fmt.Errorf("annotation %s: %q is not a sha256 digest", AnnotationSubject, a[AnnotationSubject])
		}
		e.Subject = h
		if e.Role != RoleReferrer {
			if want, _ := cosignTag(e.Role, h); e.Reference != want {
				return Entry{}, fmt.Errorf("%s of %s: annotation %s is %q, want %q", e.Role, h, AnnotationRefName, e.Reference, want)
			}
		}
		for _, k := range []string{AnnotationRepository, AnnotationTag, AnnotationPlatforms} {
			if _, ok := a[k]; ok {
				return Entry{}, fmt.Errorf("annotation %s on a %s", k, e.Role)
			}
		}
	default:
		return Entry{}, fmt.Errorf("annotation %s: %q is not one of image, signature, attestation, referrer", AnnotationRole, e.Role)
	}
	return e, nil
}

func checkLayoutDescriptor(d v1.Descriptor) error {
	if d.Digest.Algorithm != "sha256" || len(d.Digest.Hex) != 64 || strings.Trim(d.Digest.Hex, "0123456789abcdef") != "" {
		return fmt.Errorf("digest %q: only sha256 digests in lower-case hex are supported", d.Digest)
	}
	if d.Size < 0 {
		return fmt.Errorf("descriptor %s: negative size %d", d.Digest, d.Size)
	}
	return nil
}

// Checker checks an OCI image layout whose files arrive one by one, in any
// order, as they do from a tar stream: Add hashes each blob as it streams
// by, keeping only small JSON blobs that may be manifests, and Finish
// checks the whole.
type Checker struct {
	pinned   []v1.Hash
	blobs    map[string]*seenBlob // by hex digest
	index    []byte
	layout   []byte
	retained int64
	err      error
}

type seenBlob struct {
	size    int64
	data    []byte // kept when it may be a manifest
	used    bool
	sniffed bool            // mt is known
	mt      types.MediaType // the blob's own mediaType field, "" if none
}

// mediaType returns the blob's own mediaType field, "" if it has none or
// is not a JSON object kept; the blob is parsed for it once.
func (b *seenBlob) mediaType() types.MediaType {
	if !b.sniffed {
		b.sniffed = true
		if b.data != nil {
			b.mt = sniffMediaType(b.data)
		}
	}
	return b.mt
}

// NewChecker returns a Checker that also requires each of pinned to be an
// image of the layout.
func NewChecker(pinned ...v1.Hash) *Checker {
	return &Checker{pinned: pinned, blobs: map[string]*seenBlob{}}
}

// Add reads one file of the layout; path is relative to the layout's root.
// A blob whose content is not its name is refused here, as is any file a
// layout does not have. Directories are not passed to Add.
func (c *Checker) Add(path string, r io.Reader) error {
	w := c.Create(path)
	if _, err := io.Copy(w, r); err != nil {
		w.abort(err)
	}
	return w.Close()
}

// Create is Add for content that is written rather than read: it returns
// a writer for the file at path, to which the content is written as it
// streams by (from an io.TeeReader, say), and whose Close checks it and
// returns what Add would. Files are checked one at a time: Close one
// before creating the next.
func (c *Checker) Create(path string) *CheckerFile {
	f := &CheckerFile{c: c, path: path}
	if c.err != nil {
		f.err = c.err
		return f
	}
	switch path {
	case IndexFile, LayoutFile:
		if (path == IndexFile && c.index != nil) || (path == LayoutFile && c.layout != nil) {
			f.err = layoutErr(path, "appears twice")
			return f
		}
		f.small = true
		f.limit = MaxManifestSize
		if path == LayoutFile {
			f.limit = maxLayoutFileSize
		}
		return f
	}
	hexName, ok := strings.CutPrefix(path, BlobsDir+"/")
	if !ok || len(hexName) != 64 || strings.Trim(hexName, "0123456789abcdef") != "" {
		f.err = layoutErr(path, "unexpected file: a layout holds only oci-layout, index.json and blobs/sha256/<64 lower-case hex digits>")
		return f
	}
	if _, dup := c.blobs[hexName]; dup {
		f.err = layoutErr(path, "appears twice")
		return f
	}
	if len(c.blobs) >= MaxLayoutBlobs {
		f.err = layoutErr(path, "more than %d blobs", MaxLayoutBlobs)
		return f
	}
	f.hex = hexName
	f.h = sha256.New()
	// Keep what could be a manifest: JSON of at most MaxManifestSize bytes.
	f.keep = &limitedBuffer{buf: &f.buf, limit: MaxManifestSize}
	return f
}

// CreateDigested is Create for a file whose SHA-256 the caller vouches
// for: one it has checked, or checks before it calls Close, such as a
// kit's payload file, whose digest is signed in SHA256SUMS and checked as
// it is read. A blob is then not hashed a second time; its name must still
// be that digest.
func (c *Checker) CreateDigested(path, sha256Hex string) *CheckerFile {
	f := c.Create(path)
	if f.err == nil && f.h != nil {
		f.h, f.known = nil, sha256Hex
	}
	return f
}

// CheckerFile is one file of a layout being written to a Checker.
type CheckerFile struct {
	c     *Checker
	path  string
	err   error
	n     int64
	small bool // oci-layout or index.json, kept whole up to limit
	limit int64
	hex   string
	h     hash.Hash // nil when the digest is known (CreateDigested)
	known string
	buf   bytes.Buffer
	keep  *limitedBuffer
}

// Write hashes p, keeping it if the file may be a manifest. It fails only
// once the file is known to be bad.
func (f *CheckerFile) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	f.n += int64(len(p))
	if f.small {
		if f.n > f.limit {
			f.err = layoutErr(f.path, "over the limit of %d bytes", f.limit)
			return 0, f.err
		}
		f.buf.Write(p)
		return len(p), nil
	}
	if f.h != nil {
		f.h.Write(p)
	}
	f.keep.Write(p)
	return len(p), nil
}

func (f *CheckerFile) abort(err error) {
	if f.err == nil {
		f.err = &LayoutError{Path: f.path, Err: err}
	}
}

// Close checks the file written and records it in the Checker.
func (f *CheckerFile) Close() error {
	c := f.c
	if c.err != nil {
		return c.err
	}
	if f.err == nil {
		f.err = f.finish()
	}
	c.err = f.err
	return f.err
}

func (f *CheckerFile) finish() error {
	c := f.c
	if f.small {
		b := bytes.Clone(f.buf.Bytes())
		if f.path == IndexFile {
			c.index = b
		} else {
			c.layout = b
		}
		return nil
	}
	if _, dup := c.blobs[f.hex]; dup {
		return layoutErr(f.path, "appears twice")
	}
	got := f.known
	if f.h != nil {
		got = hex.EncodeToString(f.h.Sum(nil))
	}
	if got != f.hex {
		return &LayoutError{Path: f.path, Err: fmt.Errorf("%w: %w: content has digest sha256:%s", ErrLayout, ErrDigestMismatch, got)}
	}
	sb := &seenBlob{size: f.n}
	if !f.keep.over && looksLikeJSONObject(f.buf.Bytes()) {
		if c.retained+f.n > maxRetained {
			return layoutErr(f.path, "more than %d bytes of small JSON blobs", maxRetained)
		}
		c.retained += f.n
		sb.data = f.buf.Bytes()
	}
	c.blobs[f.hex] = sb
	return nil
}

// limitedBuffer keeps what is written to it while it is at most limit
// bytes and starts, after white space, with '{'.
type limitedBuffer struct {
	buf     *bytes.Buffer
	limit   int
	over    bool
	started bool // a byte other than white space was seen
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if !l.started && !l.over {
		if t := bytes.TrimLeft(p, " \t\r\n"); len(t) > 0 {
			l.started = true
			l.over = t[0] != '{'
		}
	}
	if !l.over {
		if l.buf.Len()+len(p) > l.limit {
			l.over = true
			l.buf.Reset()
		} else {
			l.buf.Write(p)
		}
	}
	return len(p), nil
}

func looksLikeJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// CheckLayout checks the OCI image layout at the root of fsys, as Checker
// does, reading every blob once, and returns its index.json entries.
// Symbolic links and special files are refused.
func CheckLayout(fsys fs.FS, pinned ...v1.Hash) ([]Entry, error) {
	c := NewChecker(pinned...)
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return &LayoutError{Path: path, Err: err}
		}
		switch {
		case d.IsDir():
			if path == "." || path == "blobs" || path == BlobsDir {
				return nil
			}
			return layoutErr(path, "unexpected directory")
		case !d.Type().IsRegular():
			return layoutErr(path, "not a regular file (%v)", d.Type())
		}
		f, err := fsys.Open(path)
		if err != nil {
			return &LayoutError{Path: path, Err: err}
		}
		defer f.Close()
		return c.Add(path, f)
	})
	if err != nil {
		if le := (*LayoutError)(nil); !errors.As(err, &le) {
			err = &LayoutError{Path: ".", Err: err}
		}
		return nil, err
	}
	return c.Finish()
}
