package images

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Role says what an entry of a layout's index.json is.
type Role string

const (
	// RoleImage: an image (or index) named in kit.yaml.
	RoleImage Role = "image"
	// RoleSignature: a cosign signature manifest (tag sha256-<hex>.sig) of
	// the manifest named by the entry's subject.
	RoleSignature Role = "signature"
	// RoleAttestation: a cosign attestation manifest (tag sha256-<hex>.att).
	RoleAttestation Role = "attestation"
	// RoleReferrer: an OCI 1.1 referrer of the subject (a manifest whose
	// subject field names it), found with the referrers API or its
	// fallback tag sha256-<hex>.
	RoleReferrer Role = "referrer"
)

// Limits on what one image may bring along; a source over them is refused.
const (
	maxIndexDepth    = 4     // nesting of indexes
	maxManifests     = 1024  // manifests of one image, its index included
	maxBlobs         = 16384 // blobs of one image or artifact
	maxArtifacts     = 256   // signatures, attestations and referrers of one image
	maxPlatformSpecs = 64
)

// Image is a resolved image: its pinned digest and everything a kit carries
// for it.
type Image struct {
	Source Source
	// Reference is the original reference, recorded in the layout as
	// org.opencontainers.image.ref.name: the registry reference in
	// canonical form ("registry.example/team/app:1.2"), or the REF of an
	// oci: or docker-archive: source. "" when there is none.
	Reference string
	// Repository is the repository path ("team/app") under which Push
	// places the image; "" when the source names none.
	Repository string
	// Tag is the tag the image was named by, "" when named by digest.
	Tag string
	// Descriptor is the pinned manifest or index: Descriptor.Digest is the
	// digest the kit records.
	Descriptor v1.Descriptor
	// Platforms are the platforms asked for, normalised ("linux/arm64/v8"),
	// when they filtered an index; nil when the image is carried whole.
	Platforms []string
	// Blobs are the manifests, configs and layers carried: the pinned
	// manifest first, then in the order they were found.
	Blobs []Blob
	// Artifacts are the signatures, attestations and referrers carried.
	Artifacts []Artifact
	// Warnings are things the caller should tell the user: a tag resolved
	// to a digest, platforms ignored for a single image.
	Warnings []string
}

// Digest returns the pinned digest.
func (img *Image) Digest() v1.Hash { return img.Descriptor.Digest }

// Artifact is a signature, attestation or referrer carried with an image.
type Artifact struct {
	Role Role
	// Subject is the digest of the manifest it belongs to: the image's, or
	// a child manifest's of an index.
	Subject v1.Hash
	// Tag is the tag it was found under in the source ("sha256-<hex>.sig"),
	// "" for referrers.
	Tag        string
	Descriptor v1.Descriptor
	Blobs      []Blob
}

// Resolve resolves src to a pinned digest and lists everything to carry:
// the manifests, configs and layers, and the cosign signatures
// (sha256-<hex>.sig), attestations (sha256-<hex>.att) and OCI 1.1
// referrers of the image and of every manifest carried with it. Manifests
// are fetched and checked; configs and layers are not read, only listed
// from their descriptors, and Blob.Open streams them later.
//
// platforms ("linux/amd64", "linux/arm64/v8") filter an index: only the
// child manifests whose platform satisfies one of them are carried, with
// the buildx attestation manifests that refer to them. The index itself is
// carried unchanged, so its digest, the one the user named and the one
// signatures cover, stays the pinned digest and stays verifiable; CheckLayout
// and Push know that the children left out are absent on purpose. For a
// single image platforms are ignored, with a warning.
//
// A reference by tag is resolved once, with a warning: the kit records the
// digest it resolved to. Registry credentials come from
// authn.DefaultKeychain unless WithKeychain says otherwise.
func Resolve(ctx context.Context, src Source, platforms []string, opts ...Option) (*Image, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	specs, norm, err := parsePlatforms(src.String(), platforms)
	if err != nil {
		return nil, err
	}
	img := &Image{Source: src}
	var f fetcher
	switch src.Kind {
	case Registry:
		f, err = newRegistryFetcher(ctx, src, c, img)
	case OCILayout:
		f, err = newLayoutFetcher(src, img)
	case DockerArchive:
		f, err = newArchiveFetcher(src, img)
	default:
		return nil, sourceErr(fmt.Sprintf("%q", src.String()), "unknown kind of source; use ParseSource")
	}
	if err != nil {
		return nil, err
	}
	if c.repository != "" {
		img.Repository = c.repository
	}
	r := &resolver{src: src.String(), f: f}
	if err := checkNames(img); err != nil {
		return nil, fmt.Errorf("image %s: %w: %w", r.src, ErrSource, err)
	}
	root, raw, err := f.root(ctx)
	if err != nil {
		return nil, err
	}
	if src.Digest.Hex != "" && root.Digest != src.Digest {
		return nil, sourceErr(r.src, "resolved to %s, not the digest named", root.Digest)
	}
	set := &blobSet{src: r.src}
	var manifests []v1.Descriptor
	if err := r.walk(ctx, root, raw, specs, 0, set, &manifests); err != nil {
		return nil, err
	}
	img.Descriptor, img.Blobs = manifests[0], set.blobs
	if isIndex(img.Descriptor.MediaType) && len(specs) > 0 {
		img.Platforms = norm
	} else if len(specs) > 0 {
		img.Warnings = append(img.Warnings, fmt.Sprintf("image %s is a single image, not an index: platforms %s ignored", r.src, strings.Join(norm, ", ")))
	}
	if img.Tag != "" && src.Kind == Registry {
		img.Warnings = append(img.Warnings, fmt.Sprintf("image %s is named by tag: resolved to %s; name it by digest (%s@%s) so that every build carries the same image",
			r.src, img.Descriptor.Digest, src.Ref.Context().Name(), img.Descriptor.Digest))
	}
	for _, m := range manifests {
		arts, warns, err := r.artifacts(ctx, m.Digest)
		if err != nil {
			return nil, err
		}
		img.Artifacts = append(img.Artifacts, arts...)
		img.Warnings = append(img.Warnings, warns...)
		if len(img.Artifacts) > maxArtifacts {
			return nil, sourceErr(r.src, "more than %d signatures, attestations and referrers", maxArtifacts)
		}
	}
	return img, nil
}

// checkNames checks the names a kit records for img and Push uses: its
// repository path and tag, as the OCI distribution specification allows
// them, and its reference, which is only shown.
func checkNames(img *Image) error {
	if img.Repository != "" {
		if err := CheckRepositoryPath(img.Repository); err != nil {
			return err
		}
	}
	if img.Tag != "" {
		if err := CheckTag(img.Tag); err != nil {
			return err
		}
	}
	return checkPrintable(img.Reference)
}

// parsePlatforms parses platform strings and returns them with their
// normalised forms, sorted and without duplicates.
func parsePlatforms(src string, platforms []string) ([]v1.Platform, []string, error) {
	if len(platforms) > maxPlatformSpecs {
		return nil, nil, sourceErr(src, "more than %d platforms", maxPlatformSpecs)
	}
	var specs []v1.Platform
	var norm []string
	for _, s := range platforms {
		p, err := v1.ParsePlatform(s)
		if err != nil || p.OS == "" || p.Architecture == "" || strings.ContainsAny(s, ", \t") {
			return nil, nil, sourceErr(src, "bad platform %q: want os/arch[/variant], e.g. linux/amd64", s)
		}
		if !slices.Contains(norm, p.String()) {
			specs, norm = append(specs, *p), append(norm, p.String())
		}
	}
	slices.Sort(norm)
	return specs, norm, nil
}

// selectChildren returns the children of an index to carry for specs: all
// of them when specs is empty; otherwise those whose platform satisfies a
// spec, and buildx attestation manifests of those.
func selectChildren(children []v1.Descriptor, specs []v1.Platform) []v1.Descriptor {
	if len(specs) == 0 {
		return children
	}
	picked := map[string]bool{}
	var out []v1.Descriptor
	for _, c := range children {
		if c.Platform == nil {
			continue
		}
		for _, s := range specs {
			if c.Platform.Satisfies(s) {
				picked[c.Digest.String()] = true
				out = append(out, c)
				break
			}
		}
	}
	for _, c := range children {
		if c.Annotations["vnd.docker.reference.type"] == "attestation-manifest" &&
			picked[c.Annotations["vnd.docker.reference.digest"]] && !picked[c.Digest.String()] {
			picked[c.Digest.String()] = true
			out = append(out, c)
		}
	}
	return out
}

// fetcher reads one source.
type fetcher interface {
	// root returns the descriptor and content of the image's manifest.
	root(ctx context.Context) (v1.Descriptor, []byte, error)
	// manifest returns the content of a manifest or index (unchecked).
	manifest(ctx context.Context, d v1.Descriptor) ([]byte, error)
	// open streams a blob (unchecked).
	open(ctx context.Context, d v1.Descriptor) (io.ReadCloser, error)
	// tag returns the descriptor of the manifest tagged tag, nil if none.
	tag(ctx context.Context, tag string) (*v1.Descriptor, error)
	// referrers returns the descriptors of the referrers of h.
	referrers(ctx context.Context, h v1.Hash) ([]v1.Descriptor, error)
}

type resolver struct {
	src string // for messages
	f   fetcher
}

// blobSet collects blobs once each, in the order found.
type blobSet struct {
	src   string
	blobs []Blob
	index map[v1.Hash]int
}

func (s *blobSet) add(b Blob) error {
	if s.index == nil {
		s.index = map[v1.Hash]int{}
	}
	if i, ok := s.index[b.Digest]; ok {
		if s.blobs[i].Size != b.Size {
			return sourceErr(s.src, "blob %s has sizes %d and %d in different descriptors", b.Digest, s.blobs[i].Size, b.Size)
		}
		if s.blobs[i].data == nil && b.data != nil {
			s.blobs[i] = b
		}
		return nil
	}
	if len(s.blobs) >= maxBlobs {
		return sourceErr(s.src, "more than %d blobs", maxBlobs)
	}
	s.index[b.Digest] = len(s.blobs)
	s.blobs = append(s.blobs, b)
	return nil
}

// checkDescriptor refuses descriptors offkit cannot carry.
func checkDescriptor(src string, d v1.Descriptor) error {
	if d.Digest.Algorithm != "sha256" || len(d.Digest.Hex) != 64 {
		return sourceErr(src, "descriptor digest %q: only sha256 digests are supported", d.Digest)
	}
	if d.Size < 0 {
		return sourceErr(src, "descriptor %s: negative size %d", d.Digest, d.Size)
	}
	return nil
}

// walk adds the manifest or index d (content raw, or fetched when nil) and
// everything it references to set, and the descriptors of the manifests
// and indexes to manifests. specs filter the children of indexes.
func (r *resolver) walk(ctx context.Context, d v1.Descriptor, raw []byte, specs []v1.Platform, depth int, set *blobSet, manifests *[]v1.Descriptor) error {
	if err := checkDescriptor(r.src, d); err != nil {
		return err
	}
	if depth > maxIndexDepth {
		return sourceErr(r.src, "indexes nested deeper than %d", maxIndexDepth)
	}
	if _, seen := set.index[d.Digest]; seen {
		return nil
	}
	if len(*manifests) >= maxManifests {
		return sourceErr(r.src, "more than %d manifests", maxManifests)
	}
	if d.Size > MaxManifestSize {
		return sourceErr(r.src, "manifest %s: %d bytes, over the limit of %d", d.Digest, d.Size, MaxManifestSize)
	}
	if raw == nil {
		var err error
		if raw, err = r.f.manifest(ctx, d); err != nil {
			return fmt.Errorf("image %s: manifest %s: %w", r.src, d.Digest, err)
		}
	}
	if err := checkBytes(raw, d); err != nil {
		return fmt.Errorf("image %s: manifest %s: %w", r.src, d.Digest, err)
	}
	mt, err := manifestMediaType(d, raw)
	if err != nil {
		return sourceErr(r.src, "manifest %s: %v", d.Digest, err)
	}
	d.MediaType = mt
	*manifests = append(*manifests, v1.Descriptor{MediaType: mt, Size: d.Size, Digest: d.Digest})
	if err := set.add(Blob{Digest: d.Digest, Size: d.Size, MediaType: mt, data: raw}); err != nil {
		return err
	}
	if isIndex(mt) {
		var im v1.IndexManifest
		if err := jsonUnmarshal(raw, &im); err != nil {
			return sourceErr(r.src, "index %s: %v", d.Digest, err)
		}
		children := selectChildren(im.Manifests, specs)
		if len(children) == 0 {
			if len(specs) > 0 {
				return sourceErr(r.src, "index %s has no manifest for the platforms asked for", d.Digest)
			}
			return sourceErr(r.src, "index %s lists no manifests", d.Digest)
		}
		for _, c := range children {
			if !isIndex(c.MediaType) && !isManifest(c.MediaType) {
				return sourceErr(r.src, "index %s: child %s has media type %q, not a manifest or index", d.Digest, c.Digest, c.MediaType)
			}
			if err := r.walk(ctx, c, nil, specs, depth+1, set, manifests); err != nil {
				return err
			}
		}
		return nil
	}
	var m v1.Manifest
	if err := jsonUnmarshal(raw, &m); err != nil {
		return sourceErr(r.src, "manifest %s: %v", d.Digest, err)
	}
	for _, b := range append([]v1.Descriptor{m.Config}, m.Layers...) {
		if err := checkDescriptor(r.src, b); err != nil {
			return err
		}
		if len(b.URLs) > 0 {
			return sourceErr(r.src, "manifest %s: layer %s is a foreign layer (it has URLs): not supported", d.Digest, b.Digest)
		}
		b := b
		if err := set.add(Blob{Digest: b.Digest, Size: b.Size, MediaType: b.MediaType,
			open: func(ctx context.Context) (io.ReadCloser, error) { return r.f.open(ctx, b) }}); err != nil {
			return err
		}
	}
	return nil
}

// manifestMediaType returns the media type of a manifest: its own
// mediaType field, which it must have, and which must be its descriptor's
// if that has one.
func manifestMediaType(d v1.Descriptor, raw []byte) (types.MediaType, error) {
	own := sniffMediaType(raw)
	mt := d.MediaType
	switch {
	case own == "" && (isIndex(mt) || isManifest(mt)):
		// A layout must tell manifests from indexes by their own field
		// (CheckLayout refuses one without).
		return "", fmt.Errorf("no mediaType field: offkit carries only manifests and indexes that name their media type")
	case mt == "":
		mt = own
	case own != "" && own != mt:
		return "", fmt.Errorf("descriptor says media type %q, the manifest says %q", mt, own)
	}
	switch {
	case isIndex(mt), isManifest(mt):
		return mt, nil
	case mt == types.DockerManifestSchema1 || mt == types.DockerManifestSchema1Signed:
		return "", fmt.Errorf("docker schema 1 manifest: not supported (convert the image to schema 2 or OCI)")
	case mt == "":
		return "", fmt.Errorf("no media type")
	}
	return "", fmt.Errorf("media type %q is not a manifest or index", mt)
}

// artifacts finds the signatures, attestations and referrers of h.
func (r *resolver) artifacts(ctx context.Context, h v1.Hash) ([]Artifact, []string, error) {
	var out []Artifact
	var warnings []string
	for _, role := range []Role{RoleSignature, RoleAttestation} {
		tag, err := cosignTag(role, h)
		if err != nil {
			return nil, nil, err
		}
		d, err := r.f.tag(ctx, tag)
		if err != nil {
			return nil, nil, fmt.Errorf("image %s: looking for %s %s: %w", r.src, role, tag, err)
		}
		if d == nil {
			continue
		}
		a, err := r.artifact(ctx, role, h, tag, *d)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, a)
	}
	refs, err := r.f.referrers(ctx, h)
	if err != nil {
		return nil, nil, fmt.Errorf("image %s: listing referrers of %s: %w", r.src, h, err)
	}
	for _, d := range refs {
		if len(out) > maxArtifacts {
			break
		}
		a, err := r.artifact(ctx, RoleReferrer, h, "", d)
		if err != nil {
			return nil, nil, err
		}
		var m struct {
			Subject *v1.Descriptor `json:"subject"`
		}
		if err := jsonUnmarshal(a.Blobs[0].data, &m); err != nil || m.Subject == nil || m.Subject.Digest != h {
			warnings = append(warnings, fmt.Sprintf("image %s: referrer %s of %s does not name it as its subject: left out", r.src, d.Digest, h))
			continue
		}
		out = append(out, a)
	}
	return out, warnings, nil
}

func (r *resolver) artifact(ctx context.Context, role Role, subject v1.Hash, tag string, d v1.Descriptor) (Artifact, error) {
	set := &blobSet{src: r.src}
	var manifests []v1.Descriptor
	if err := r.walk(ctx, v1.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: d.Digest}, nil, nil, 0, set, &manifests); err != nil {
		return Artifact{}, fmt.Errorf("%s of %s: %w", role, subject, err)
	}
	desc := manifests[0]
	desc.ArtifactType = d.ArtifactType
	return Artifact{Role: role, Subject: subject, Tag: tag, Descriptor: desc, Blobs: set.blobs}, nil
}

// cosignTag returns the tag under which cosign stores the signatures or
// attestations of h: "sha256-<hex>.sig" or "sha256-<hex>.att", as
// cosign's ociremote.SignatureTag and AttestationTag name them (the
// registry tests find what the cosign CLI signed under them); written out
// here so that images does not link cosign. COSIGN_REPOSITORY does not move it.
func cosignTag(role Role, h v1.Hash) (string, error) {
	var suffix string
	switch role {
	case RoleSignature:
		suffix = ".sig"
	case RoleAttestation:
		suffix = ".att"
	default:
		return "", fmt.Errorf("no cosign tag for %s", role)
	}
	if h.Algorithm == "" || h.Hex == "" {
		return "", fmt.Errorf("no cosign tag for digest %q", h)
	}
	return h.Algorithm + "-" + h.Hex + suffix, nil
}
