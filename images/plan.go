package images

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// KitDir is the directory of a kit that holds its OCI image layout.
const KitDir = "images"

// Annotations offkit sets on the entries of index.json, besides
// org.opencontainers.image.ref.name (AnnotationRefName), which holds an
// image's original reference, or a signature's or attestation's tag.
const (
	// AnnotationRole is the entry's Role: "image", "signature",
	// "attestation" or "referrer".
	AnnotationRole = "dev.offkit.image.role"
	// AnnotationSubject is, on a signature, attestation or referrer, the
	// digest of the manifest it belongs to.
	AnnotationSubject = "dev.offkit.image.subject"
	// AnnotationRepository is, on an image, the repository path ("team/app")
	// Push places it under.
	AnnotationRepository = "dev.offkit.image.repository"
	// AnnotationTag is, on an image, the tag it was named by.
	AnnotationTag = "dev.offkit.image.tag"
	// AnnotationPlatforms is, on an index filtered by platform, the
	// platforms carried, comma-separated ("linux/amd64,linux/arm64/v8"):
	// its children for other platforms are absent on purpose.
	AnnotationPlatforms = "dev.offkit.image.platforms"
)

// Layout file names, relative to the layout's root.
const (
	LayoutFile = "oci-layout"
	IndexFile  = "index.json"
	BlobsDir   = "blobs/sha256"
)

// layoutJSON is the content of oci-layout.
var layoutJSON = []byte(`{"imageLayoutVersion":"1.0.0"}` + "\n")

// File is one file of a planned layout.
type File struct {
	// Path is relative to the layout's root ("blobs/sha256/<hex>",
	// "index.json", "oci-layout"); a kit stores it under KitDir.
	Path   string
	Size   int64
	Digest v1.Hash // the SHA-256 of the content
}

// Plan is an OCI image layout holding a set of images, planned but not
// written: the files are listed from descriptors, without reading layers,
// and each is streamed by Open when it is written. Planning the same
// images gives the same files, byte for byte.
type Plan struct {
	files []File
	blobs map[string]Blob // by path
	index []byte
}

// NewPlan plans one layout holding imgs. A blob shared by several images
// is stored once. index.json lists, sorted, one entry per image (with its
// reference, repository, tag and, for a filtered index, platforms) and one
// per signature, attestation and referrer (with its role and subject).
func NewPlan(imgs ...*Image) (*Plan, error) {
	p := &Plan{blobs: map[string]Blob{}}
	var entries []v1.Descriptor
	add := func(b Blob) error {
		path := blobPath(b.Digest)
		if old, ok := p.blobs[path]; ok {
			if old.Size != b.Size {
				return fmt.Errorf("images: blob %s has sizes %d and %d in different images", b.Digest, old.Size, b.Size)
			}
			if old.data == nil && b.data != nil {
				p.blobs[path] = b
			}
			return nil
		}
		p.blobs[path] = b
		return nil
	}
	for _, img := range imgs {
		if len(img.Blobs) == 0 || img.Blobs[0].Digest != img.Descriptor.Digest {
			return nil, fmt.Errorf("images: image %s was not made by Resolve", img.Source)
		}
		ann := map[string]string{AnnotationRole: string(RoleImage)}
		setNonEmpty(ann, AnnotationRefName, img.Reference)
		setNonEmpty(ann, AnnotationRepository, img.Repository)
		setNonEmpty(ann, AnnotationTag, img.Tag)
		setNonEmpty(ann, AnnotationPlatforms, strings.Join(img.Platforms, ","))
		entries = append(entries, entry(img.Descriptor, ann))
		for _, b := range img.Blobs {
			if err := add(b); err != nil {
				return nil, err
			}
		}
		for _, a := range img.Artifacts {
			ann := map[string]string{AnnotationRole: string(a.Role), AnnotationSubject: a.Subject.String()}
			setNonEmpty(ann, AnnotationRefName, a.Tag)
			e := entry(a.Descriptor, ann)
			e.ArtifactType = a.Descriptor.ArtifactType
			entries = append(entries, e)
			for _, b := range a.Blobs {
				if err := add(b); err != nil {
					return nil, err
				}
			}
		}
	}
	index, err := marshalIndex(entries)
	if err != nil {
		return nil, err
	}
	p.index = index
	for path, b := range p.blobs {
		p.files = append(p.files, File{Path: path, Size: b.Size, Digest: b.Digest})
	}
	p.files = append(p.files,
		File{Path: IndexFile, Size: int64(len(index)), Digest: sha256Hash(index)},
		File{Path: LayoutFile, Size: int64(len(layoutJSON)), Digest: sha256Hash(layoutJSON)})
	slices.SortFunc(p.files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return p, nil
}

func entry(d v1.Descriptor, ann map[string]string) v1.Descriptor {
	return v1.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: d.Digest, Annotations: ann}
}

func setNonEmpty(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// marshalIndex returns index.json for entries: sorted by role (images
// first), reference, subject and digest, without duplicates, compact,
// with a final newline. encoding/json writes annotations with sorted keys.
func marshalIndex(entries []v1.Descriptor) ([]byte, error) {
	rank := func(r string) int {
		return slices.Index([]Role{RoleImage, RoleSignature, RoleAttestation, RoleReferrer}, Role(r))
	}
	slices.SortFunc(entries, func(a, b v1.Descriptor) int {
		return cmp.Or(
			cmp.Compare(rank(a.Annotations[AnnotationRole]), rank(b.Annotations[AnnotationRole])),
			strings.Compare(a.Annotations[AnnotationRefName], b.Annotations[AnnotationRefName]),
			strings.Compare(a.Annotations[AnnotationSubject], b.Annotations[AnnotationSubject]),
			strings.Compare(a.Digest.String(), b.Digest.String()),
			compareJSON(a, b))
	})
	entries = slices.CompactFunc(entries, func(a, b v1.Descriptor) bool { return compareJSON(a, b) == 0 })
	im := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: entries}
	if im.Manifests == nil {
		im.Manifests = []v1.Descriptor{}
	}
	b, err := json.Marshal(im)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func compareJSON(a, b v1.Descriptor) int {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Compare(ja, jb)
}

func blobPath(h v1.Hash) string { return BlobsDir + "/" + h.Hex }

func sha256Hash(b []byte) v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h
}

// Files returns the layout's files in bytewise order of their paths.
func (p *Plan) Files() []File { return slices.Clone(p.files) }

// Open returns the content of the file at path as a stream that fails,
// with an error wrapping ErrDigestMismatch, unless it has the size and
// digest Files gives. Blobs are read from their sources as they stream.
func (p *Plan) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	switch path {
	case IndexFile:
		return io.NopCloser(bytes.NewReader(p.index)), nil
	case LayoutFile:
		return io.NopCloser(bytes.NewReader(layoutJSON)), nil
	}
	b, ok := p.blobs[path]
	if !ok {
		return nil, fmt.Errorf("images: %s is not a file of the layout", path)
	}
	return b.Open(ctx)
}

// WriteDir writes the layout into dir, which must not exist yet or be
// empty. Each file is streamed from its source and checked.
func WriteDir(ctx context.Context, p *Plan, dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(BlobsDir)), 0o755); err != nil {
		return err
	}
	for _, f := range p.files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeFile(ctx, p, f, filepath.Join(dir, filepath.FromSlash(f.Path))); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(ctx context.Context, p *Plan, f File, dst string) (err error) {
	rc, err := p.Open(ctx, f.Path)
	if err != nil {
		return err
	}
	defer rc.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	if _, err := io.Copy(out, rc); err != nil {
		return fmt.Errorf("write %s: %w", f.Path, err)
	}
	return nil
}
