package images

import (
	"errors"
	"fmt"

	"github.com/offkit/offkit/manifest"
)

// ErrLayout is wrapped by every error that reports an OCI image layout
// which is not well-formed: a blob whose digest is not its name, a manifest
// that does not parse, a missing or unreferenced blob, an unexpected file.
// It wraps manifest.ErrMalformed, so a kit with a bad layout is corrupt.
var ErrLayout = fmt.Errorf("%w: bad OCI image layout", manifest.ErrMalformed)

// ErrDigestMismatch is wrapped when content read from a source, a registry
// or a layout does not have the size and digest that named it. It is
// manifest.ErrDigestMismatch, so one errors.Is finds every mismatch.
var ErrDigestMismatch = manifest.ErrDigestMismatch

// ErrSource is wrapped by errors about an image source that cannot be
// carried: a malformed source string, an unsupported manifest, a platform
// filter that selects nothing, a source over a limit.
var ErrSource = errors.New("bad image source")

// ErrUntrusted is returned by imagesig.VerifySignatures and VerifyAttestations when
// no carried signature of the image verifies with any of the given keys.
var ErrUntrusted = errors.New("image is not signed by a trusted key")

// ErrIndexRefused is wrapped by Push when the destination registry refuses
// an index filtered by platform because the children left out are absent.
var ErrIndexRefused = errors.New("the registry refuses an index whose manifests for the platforms left out are absent")

// ErrName is wrapped by errors about a repository name or tag that the
// OCI distribution specification does not allow (CheckRepositoryPath,
// CheckTag), such as a path with a ".." element. It wraps
// manifest.ErrMalformed: a kit that carries one is refused.
var ErrName = fmt.Errorf("%w: not an OCI distribution repository name or tag", manifest.ErrMalformed)

// ErrDestination is wrapped by PlanPush when a reference it would push to
// does not lie under the prefix it was given. It wraps
// manifest.ErrMalformed: the kit names a repository outside the prefix.
var ErrDestination = fmt.Errorf("%w: push destination not under the prefix given", manifest.ErrMalformed)

// LayoutError reports a problem with one file of an OCI image layout.
type LayoutError struct {
	Path string // the file, relative to the layout's root, e.g. "blobs/sha256/<hex>"
	// Parent is, when the problem is with what a descriptor names, the
	// descriptor's place: the file holding it and where in it
	// ("index.json manifests[0]", "blobs/sha256/<hex> layers[2]").
	Parent string
	Err    error // wraps ErrLayout
}

func (e *LayoutError) Error() string {
	if e.Parent != "" {
		return fmt.Sprintf("image layout: %s: %v (the descriptor at %s)", e.Path, e.Err, e.Parent)
	}
	return fmt.Sprintf("image layout: %s: %v", e.Path, e.Err)
}

func (e *LayoutError) Unwrap() error { return e.Err }

// layoutErr returns a *LayoutError for path wrapping ErrLayout, and the
// errors format wraps with %w.
func layoutErr(path, format string, args ...any) error {
	return &LayoutError{Path: path, Err: fmt.Errorf("%w: "+format, append([]any{ErrLayout}, args...)...)}
}

func sourceErr(src, format string, args ...any) error {
	return fmt.Errorf("image %s: %w: "+format, append([]any{src, ErrSource}, args...)...)
}
