package bundle

import (
	"io"

	"github.com/offkit/offkit/manifest"
)

// Tee makes every later Read of e also write what it read to w, before
// the final read checks the content's digest: a second consumer of a
// payload file (verify's image layout check) sees the bytes an Extractor
// reads without reading them twice. An error from w fails the Read.
func (e *Entry) Tee(w io.Writer) {
	if !e.Dir {
		e.r = io.TeeReader(e.r, w)
	}
}

// Digest returns the digest e's content must have: the one SHA256SUMS
// lists, which the final Read checks.
func (e *Entry) Digest() manifest.Digest { return e.want }
