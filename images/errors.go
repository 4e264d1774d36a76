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
// or a layout does not have the size and digest that named it.
var ErrDigestMismatch = errors.New("content does not match its digest")

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

// LayoutError reports a problem with one file of an OCI image layout.
type LayoutError struct {
	Path string // the file, relative to the layout's root, e.g. "blobs/sha256/<hex>"
	Err  error  // wraps ErrLayout
}

func (e *LayoutError) Error() string { return fmt.Sprintf("image layout: %s: %v", e.Path, e.Err) }
func (e *LayoutError) Unwrap() error { return e.Err }

// layoutErr returns a *LayoutError for path wrapping ErrLayout, and the
// errors format wraps with %w.
func layoutErr(path, format string, args ...any) error {
	return &LayoutError{Path: path, Err: fmt.Errorf("%w: "+format, append([]any{ErrLayout}, args...)...)}
}

func sourceErr(src, format string, args ...any) error {
	return fmt.Errorf("image %s: %w: "+format, append([]any{src, ErrSource}, args...)...)
}
