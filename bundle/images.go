package bundle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/offkit/offkit/images"
	"github.com/offkit/offkit/manifest"
)

// Images are the resolved images of a spec's image components: the one
// layout that holds them all, and each component's ImageRef by name. Build
// takes them through WithImages.
type Images struct {
	Plan *images.Plan
	Refs map[string]manifest.ImageRef // by component name
	// Warnings are what the caller should tell the user, such as an image
	// named by tag (resolved once, to the digest the kit records).
	Warnings []string
}

// ResolveImages resolves the image components of spec — a registry
// reference, or an oci: or docker-archive: path, relative to specDir — to
// pinned digests with their signatures, attestations and referrers, and
// plans one layout for them. Registry sources are read over the network;
// layers are listed, not downloaded: Build streams them. It returns nil
// when spec has no image component. A source that is malformed, or that
// offkit cannot carry, is reported at its kit.yaml line and wraps ErrSource
// (exit 3); a source that cannot be reached is an operational error.
func ResolveImages(ctx context.Context, spec *manifest.Spec, specDir string, opts ...images.Option) (*Images, error) {
	if !spec.HasImages() {
		return nil, nil
	}
	out := &Images{Refs: map[string]manifest.ImageRef{}}
	var imgs []*images.Image
	for i, c := range spec.Components {
		if !c.IsImage() {
			continue
		}
		field := fmt.Sprintf("components[%d].image", i)
		src, err := images.ParseSource(c.Image, opts...)
		if err != nil {
			return nil, spec.FieldError(field, fmt.Errorf("%w: %w", ErrSource, err))
		}
		if src.Kind != images.Registry && !filepath.IsAbs(src.Path) {
			src.Path = filepath.Join(specDir, filepath.FromSlash(src.Path))
		}
		img, err := images.Resolve(ctx, src, c.Platforms, opts...)
		if err != nil {
			if errors.Is(err, images.ErrSource) || errors.Is(err, images.ErrDigestMismatch) {
				err = fmt.Errorf("%w: %w", ErrSource, err)
			}
			return nil, spec.FieldError(field, err)
		}
		for _, w := range img.Warnings {
			out.Warnings = append(out.Warnings, fmt.Sprintf("component %q: %s", c.Name, w))
		}
		imgs = append(imgs, img)
		out.Refs[c.Name] = ImageRef(c.Image, img)
	}
	p, err := images.NewPlan(imgs...)
	if err != nil {
		return nil, err
	}
	out.Plan = p
	return out, nil
}

// ImageRef returns the manifest's record of a resolved image: source is
// the image source as kit.yaml wrote it.
func ImageRef(source string, img *images.Image) manifest.ImageRef {
	ref := manifest.ImageRef{
		Reference: source,
		Tag:       img.Tag,
		Digest:    hashBytes(img.Digest()),
		MediaType: string(img.Descriptor.MediaType),
		Platforms: img.Platforms,
	}
	// The repository with its registry host: the registry's for a registry
	// reference, the one the REF of a local source names, if any.
	switch {
	case img.Source.Kind == images.Registry:
		ref.Repository = img.Source.Ref.Context().Name()
	case img.Repository != "":
		if r, err := name.ParseReference(img.Reference); err == nil && strings.HasSuffix(r.Context().Name(), img.Repository) {
			ref.Repository = r.Context().Name()
		} else {
			ref.Repository = img.Repository
		}
	}
	for _, a := range img.Artifacts {
		ref.Artifacts = append(ref.Artifacts, manifest.ImageArtifact{
			Role: string(a.Role), Subject: hashBytes(a.Subject), Digest: hashBytes(a.Descriptor.Digest), Tag: a.Tag,
		})
	}
	return ref
}

// hashBytes converts a SHA-256 v1.Hash (as images makes them) to a Digest.
func hashBytes(h v1.Hash) manifest.Digest {
	d, _ := manifest.ParseHex(h.Hex)
	return d
}

// imageComponents checks that the images given to Build are those of
// spec: a ref for each image component and for nothing else, each pinned
// digest an image of the layout's index.json. It returns the layout's files.
func imageComponents(ctx context.Context, spec *manifest.Spec, im *Images) ([]images.File, error) {
	if im == nil {
		if spec.HasImages() {
			return nil, errors.New("build: the spec has image components: resolve them (ResolveImages) and pass them with WithImages")
		}
		return nil, nil
	}
	if !spec.HasImages() {
		return nil, errors.New("build: WithImages, but the spec has no image component")
	}
	pinned, err := layoutImages(ctx, im.Plan)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, c := range spec.Components {
		if !c.IsImage() {
			continue
		}
		n++
		ref, ok := im.Refs[c.Name]
		if !ok {
			return nil, fmt.Errorf("build: image component %q was not resolved", c.Name)
		}
		if ref.Digest.IsZero() || !pinned[ref.Digest] {
			return nil, fmt.Errorf("build: image component %q: %s is not an image of the planned layout", c.Name, ref.Digest)
		}
	}
	if n != len(im.Refs) {
		return nil, errors.New("build: WithImages names components that are not image components of the spec")
	}
	files := im.Plan.Files()
	if blobs := len(files) - 2; blobs > images.MaxLayoutBlobs { // oci-layout and index.json are not blobs
		return nil, fmt.Errorf("%w: the image layout would hold %d blobs, over the limit of %d; split the kit", ErrTooLarge, blobs, images.MaxLayoutBlobs)
	}
	return files, nil
}

// layoutImages returns the digests index.json lists as images.
func layoutImages(ctx context.Context, p *images.Plan) (map[manifest.Digest]bool, error) {
	rc, err := p.Open(ctx, images.IndexFile)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, images.MaxManifestSize+1))
	if err != nil {
		return nil, err
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("build: planned index.json: %w", err)
	}
	out := map[manifest.Digest]bool{}
	for _, d := range idx.Manifests {
		if d.Annotations[images.AnnotationRole] == string(images.RoleImage) && d.Digest.Algorithm == manifest.Algorithm {
			out[hashBytes(d.Digest)] = true
		}
	}
	return out, nil
}
