package bundle

import (
	"errors"
	"time"

	"github.com/offkit/offkit/images"
	"github.com/offkit/offkit/manifest"
)

// Option configures Build and Sign.
type Option func(*config) error

type config struct {
	signers     []manifest.Signer
	compression Compression
	level       int
	created     time.Time
	progress    func(done, total int64)
	tool        manifest.Tool
	images      *Images
}

func newConfig(opts []Option) (*config, error) {
	c := &config{compression: Zstd, tool: manifest.Tool{Name: "offkit", Version: "dev"}}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.level == 0 {
		c.level = c.compression.DefaultLevel()
	}
	if err := c.compression.checkLevel(c.level); err != nil {
		return nil, err
	}
	return c, nil
}

// WithSigner signs the kit with s (a *sign.Signer, or any signer of cosign's
// kind). Repeat it for several signers.
func WithSigner(s manifest.Signer) Option {
	return func(c *config) error {
		if s == nil {
			return errors.New("nil signer")
		}
		c.signers = append(c.signers, s)
		return nil
	}
}

// WithCompression sets the compression and its level (0: the default).
func WithCompression(comp Compression, level int) Option {
	return func(c *config) error {
		if _, err := ParseCompression(string(comp)); err != nil {
			return err
		}
		c.compression, c.level = comp, level
		return nil
	}
}

// WithLevel sets the compression level only (0: the default), keeping the
// compression — for Sign, which follows the source kit's compression.
func WithLevel(level int) Option {
	return func(c *config) error { c.level = level; return nil }
}

// WithCreated sets the kit's creation time (SOURCE_DATE_EPOCH): the
// manifest's created field, the SBOM's and every entry's mtime. Build
// requires it: a kit's bytes depend on it.
func WithCreated(t time.Time) Option {
	return func(c *config) error {
		if t.Unix() < 0 {
			return errors.New("creation time before 1970")
		}
		c.created = time.Unix(t.Unix(), 0).UTC()
		return nil
	}
}

// WithProgress calls fn as payload bytes are processed.
func WithProgress(fn func(done, total int64)) Option {
	return func(c *config) error { c.progress = fn; return nil }
}

// WithTool records the building tool's name and version in the manifest.
func WithTool(name, version string) Option {
	return func(c *config) error { c.tool = manifest.Tool{Name: name, Version: version}; return nil }
}

// WithImages gives Build the spec's image components, resolved before the
// build (ResolveImages): plan is the one layout holding every image, refs
// each image component's record by component name. The layout's files
// become payload files under images/, streamed from plan as the payload is
// written, and the kit is format v2. Build refuses a spec with image
// components without it.
func WithImages(plan *images.Plan, refs map[string]manifest.ImageRef) Option {
	return func(c *config) error {
		if plan == nil {
			return errors.New("WithImages: nil plan")
		}
		c.images = &Images{Plan: plan, Refs: refs}
		return nil
	}
}
