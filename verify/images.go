package verify

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/images"
	"github.com/offkit/offkit/images/imagesig"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign"
)

// ImageReport is one image component of the kit and what was verified of
// its carried cosign signatures.
type ImageReport struct {
	Component string `json:"component"`
	Reference string `json:"reference"`
	Digest    string `json:"digest"`
	// Signatures is "verified" when a carried signature verified with an
	// image key, "failed" when none did, "not checked" without image keys
	// (or when an earlier check failed).
	Signatures string        `json:"signatures"`
	SignedBy   []ImageSigner `json:"signedBy"` // the image keys that verified a carried signature
	Problem    string        `json:"problem,omitempty"`
}

// ImageSigner is an image key that verified an image's signature.
type ImageSigner struct {
	KeyID string `json:"keyid"`
	Key   string `json:"key,omitempty"` // the key file, when known
}

// imageKey is a public key images are verified with.
type imageKey struct {
	pub    crypto.PublicKey
	id     string
	source string
}

// WithImageKeys requires every image the kit carries to have a cosign
// signature, carried in the kit, that verifies offline with at least one
// of keys: the same *sign.Verifier that WithKeys takes (image keys are
// separate from kit keys, not a different kind). It is checked after the
// payload and, with an Extractor, before Commit; failure wraps
// ErrUntrusted. Without it, image signatures are not checked (the image
// layout always is).
func WithImageKeys(keys ...*sign.Verifier) Option {
	return func(c *config) error {
		for i, v := range keys {
			if v == nil || v.Public() == nil {
				return fmt.Errorf("image key %d: nil", i+1)
			}
			ik := imageKey{pub: v.Public(), source: v.Source}
			id, err := sign.KeyID(ik.pub)
			if err != nil {
				return fmt.Errorf("image key %d: %w", i+1, err)
			}
			ik.id = id
			c.imageKeys = append(c.imageKeys, ik)
		}
		return nil
	}
}

// imageCheck checks a kit's OCI image layout as the payload streams by
// (every file under images/ is teed into an images.Checker) and, after
// it, the layout as a whole and the images' signatures. Only small JSON
// blobs are kept, never a layer.
type imageCheck struct {
	m       *manifest.Manifest
	checker *images.Checker
	prefix  string // "images/"
	entries []images.Entry
}

// newImageCheck returns nil for a kit without images.
func newImageCheck(m *manifest.Manifest) *imageCheck {
	if m.Images == nil {
		return nil
	}
	var pinned []v1.Hash
	for _, c := range m.Components {
		if c.Image != nil {
			pinned = append(pinned, imageHash(c.Image.Digest))
		}
	}
	return &imageCheck{m: m, checker: images.NewChecker(pinned...), prefix: m.Images.Path + "/"}
}

func imageHash(d manifest.Digest) v1.Hash {
	return v1.Hash{Algorithm: manifest.Algorithm, Hex: d.Hex()}
}

// tee makes the checker see e's content as it is read; the returned
// function, called once e has been read, reports what the checker found.
// It returns nil for an entry outside the layout.
func (ic *imageCheck) tee(e *bundle.Entry) func() error {
	if ic == nil || e.Dir {
		return nil
	}
	rel, ok := strings.CutPrefix(e.Name, ic.prefix)
	if !ok {
		return nil
	}
	// The entry's digest is checked against SHA256SUMS as it is read, and
	// layoutDone runs only after that: the checker need not hash it again.
	f := ic.checker.CreateDigested(rel, e.Digest().Hex())
	e.Tee(f)
	return func() error { return ic.layoutError(f.Close()) }
}

// layoutError names the kit files a layout error is about: the file, and
// the one holding the descriptor that names it, if any.
func (ic *imageCheck) layoutError(err error) error {
	if le := (*images.LayoutError)(nil); errors.As(err, &le) {
		if le.Parent != "" {
			return fmt.Errorf("%w: %s%s: %w (the descriptor at %s%s)", ErrNotIntact, ic.prefix, le.Path, le.Err, ic.prefix, le.Parent)
		}
		return fmt.Errorf("%w: %s%s: %w", ErrNotIntact, ic.prefix, le.Path, le.Err)
	}
	return notIntact(err)
}

// artifactKey is an artifact as the manifest lists it and the layout
// carries it.
type artifactKey struct {
	role            string
	subject, digest v1.Hash
}

// finish checks the names the manifest records for the images, the layout
// as a whole, and that the layout holds what the signed manifest says it
// does: every artifact the manifest lists, and none it does not.
func (ic *imageCheck) finish() error {
	if err := ic.checkNames(); err != nil {
		return err
	}
	entries, err := ic.checker.Finish()
	if err != nil {
		return ic.layoutError(err)
	}
	ic.entries = entries
	carried := map[artifactKey]bool{}
	for _, e := range entries {
		if e.Role != images.RoleImage {
			carried[artifactKey{string(e.Role), e.Subject, e.Digest()}] = true
		}
	}
	listed := map[artifactKey]bool{}
	for _, c := range ic.m.Components {
		if c.Image == nil {
			continue
		}
		for _, a := range c.Image.Artifacts {
			k := artifactKey{a.Role, imageHash(a.Subject), imageHash(a.Digest)}
			if !carried[k] {
				return fmt.Errorf("%w: %s%s: component %q: the manifest lists %s %s of %s, which the layout does not carry",
					ErrNotIntact, ic.prefix, images.IndexFile, c.Name, a.Role, a.Digest, a.Subject)
			}
			listed[k] = true
		}
	}
	for _, e := range entries {
		if e.Role != images.RoleImage && !listed[artifactKey{string(e.Role), e.Subject, e.Digest()}] {
			return fmt.Errorf("%w: %s%s: the layout carries %s %s of %s, which no image component of the manifest lists",
				ErrNotIntact, ic.prefix, images.IndexFile, e.Role, e.Digest(), e.Subject)
		}
	}
	return nil
}

// checkNames checks the repository, tag and artifact tags the manifest
// records for each image: names as the OCI distribution specification
// allows them (images.CheckRepository, images.CheckTag), and each
// signature's and attestation's tag the cosign tag of its subject.
func (ic *imageCheck) checkNames() error {
	for _, c := range ic.m.Components {
		if c.Image == nil {
			continue
		}
		bad := func(field string, err error) error {
			return fmt.Errorf("%w: component %q: image %s: %w", ErrNotIntact, c.Name, field, err)
		}
		if r := c.Image.Repository; r != "" {
			if err := images.CheckRepository(r); err != nil {
				return bad("repository", err)
			}
		}
		if t := c.Image.Tag; t != "" {
			if err := images.CheckTag(t); err != nil {
				return bad("tag", err)
			}
		}
		for i, a := range c.Image.Artifacts {
			want := ""
			switch a.Role {
			case manifest.RoleSignature:
				want = "sha256-" + a.Subject.Hex() + ".sig"
			case manifest.RoleAttestation:
				want = "sha256-" + a.Subject.Hex() + ".att"
			}
			if a.Tag != want {
				return bad(fmt.Sprintf("artifacts[%d]", i), fmt.Errorf("%w: %s of %s has tag %q, want %q", images.ErrName, a.Role, a.Subject, a.Tag, want))
			}
		}
	}
	return nil
}

// reports lists the image components, before any signature is checked.
func (ic *imageCheck) reports() []ImageReport {
	var out []ImageReport
	for _, c := range ic.m.Components {
		if c.Image != nil {
			out = append(out, ImageReport{Component: c.Name, Reference: c.Image.Reference, Digest: c.Image.Digest.String(),
				Signatures: "not checked", SignedBy: []ImageSigner{}})
		}
	}
	return out
}

// verifySignatures verifies each image's carried cosign signatures with
// the image keys, offline, from the small blobs the checker kept. It
// fills in rep.Images and returns an error wrapping ErrUntrusted if an
// image has no signature that verifies.
func (ic *imageCheck) verifySignatures(ctx context.Context, keys []imageKey, rep *Report) (int, error) {
	l, err := images.OpenLayout(ic.checker.FS())
	if err != nil {
		return 0, ic.layoutError(err)
	}
	pubs := make([]crypto.PublicKey, len(keys))
	for i, k := range keys {
		pubs[i] = k.pub
	}
	var errs []error
	n := 0
	for i := range rep.Images {
		r := &rep.Images[i]
		h, err := v1.NewHash(r.Digest)
		if err == nil {
			var idx []int
			idx, err = imagesig.VerifySignatures(ctx, l, h, pubs)
			for _, j := range idx {
				r.SignedBy = append(r.SignedBy, ImageSigner{KeyID: keys[j].id, Key: keys[j].source})
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			r.Signatures, r.Problem = "failed", err.Error()
			errs = append(errs, fmt.Errorf("image %s (%s): %w", r.Component, r.Reference, err))
			continue
		}
		r.Signatures = "verified"
		n++
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("%w: %w", ErrUntrusted, errors.Join(errs...))
	}
	return n, nil
}
