package images

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// AnnotationRefName is the OCI annotation naming an image in a layout.
const AnnotationRefName = "org.opencontainers.image.ref.name"

// registryFetcher reads a registry with go-containerregistry's remote.
type registryFetcher struct {
	ref  name.Reference
	repo name.Repository
	opts []remote.Option
}

func newRegistryFetcher(ctx context.Context, src Source, c *config, img *Image) (*registryFetcher, error) {
	img.Reference = src.Ref.Name()
	img.Repository = src.Ref.Context().RepositoryStr()
	if t, ok := src.Ref.(name.Tag); ok {
		img.Tag = t.TagStr()
	}
	return &registryFetcher{ref: src.Ref, repo: src.Ref.Context(), opts: c.remoteOptions(ctx)}, nil
}

func (f *registryFetcher) root(ctx context.Context) (v1.Descriptor, []byte, error) {
	d, err := remote.Get(f.ref, f.withContext(ctx)...)
	if err != nil {
		return v1.Descriptor{}, nil, fmt.Errorf("image %s: %w", f.ref, err)
	}
	return v1.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: d.Digest}, d.Manifest, nil
}

func (f *registryFetcher) manifest(ctx context.Context, d v1.Descriptor) ([]byte, error) {
	got, err := remote.Get(f.repo.Digest(d.Digest.String()), f.withContext(ctx)...)
	if err != nil {
		return nil, err
	}
	return got.Manifest, nil
}

func (f *registryFetcher) open(ctx context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	l, err := remote.Layer(f.repo.Digest(d.Digest.String()), f.withContext(ctx)...)
	if err != nil {
		return nil, err
	}
	return l.Compressed()
}

func (f *registryFetcher) tag(ctx context.Context, tag string) (*v1.Descriptor, error) {
	got, err := remote.Get(f.repo.Tag(tag), f.withContext(ctx)...)
	if terr := (*transport.Error)(nil); errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &v1.Descriptor{MediaType: got.MediaType, Size: got.Size, Digest: got.Digest}, nil
}

func (f *registryFetcher) referrers(ctx context.Context, h v1.Hash) ([]v1.Descriptor, error) {
	idx, err := remote.Referrers(f.repo.Digest(h.String()), f.withContext(ctx)...)
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	return im.Manifests, nil
}

func (f *registryFetcher) withContext(ctx context.Context) []remote.Option {
	return append(f.opts[:len(f.opts):len(f.opts)], remote.WithContext(ctx))
}

// layoutFetcher reads an OCI image layout directory.
type layoutFetcher struct {
	src      string
	path     layout.Path
	index    v1.IndexManifest
	selected v1.Descriptor
}

func newLayoutFetcher(src Source, img *Image) (*layoutFetcher, error) {
	q := fmt.Sprintf("%q", src.String())
	if fi, err := os.Stat(src.Path); err != nil {
		return nil, fmt.Errorf("image %s: %w", q, err)
	} else if !fi.IsDir() {
		return nil, sourceErr(q, "%s is not a directory", src.Path)
	}
	b, err := readFileLimit(src.Path+"/index.json", MaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", q, err)
	}
	f := &layoutFetcher{src: q, path: layout.Path(src.Path)}
	if err := jsonUnmarshal(b, &f.index); err != nil {
		return nil, sourceErr(q, "index.json: %v", err)
	}
	var found []v1.Descriptor
	for _, d := range f.index.Manifests {
		switch {
		case src.Digest.Hex != "":
			if d.Digest == src.Digest {
				found = append(found, d)
			}
		case src.Selector != "":
			if d.Annotations[AnnotationRefName] == src.Selector {
				found = append(found, d)
			}
		case !isCosignTag(d.Annotations[AnnotationRefName]):
			found = append(found, d)
		}
	}
	switch {
	case len(found) == 0 && src.Selector != "":
		return nil, sourceErr(q, "index.json lists no image %q", src.Selector)
	case len(found) == 0:
		return nil, sourceErr(q, "index.json lists no image")
	case len(found) > 1 && src.Selector == "":
		return nil, sourceErr(q, "index.json lists %d images: name one (oci:DIR:REF)", len(found))
	}
	for _, d := range found[1:] {
		if d.Digest != found[0].Digest {
			return nil, sourceErr(q, "index.json names %d different images %q", len(found), src.Selector)
		}
	}
	f.selected = found[0]
	ref := src.Selector
	if ref == "" || src.Digest.Hex != "" {
		ref = found[0].Annotations[AnnotationRefName]
	}
	describeLocal(img, ref)
	return f, nil
}

// describeLocal sets the reference, repository and tag of an image from a
// local source from its REF: a full reference ("registry.example/app:1",
// "team/app:1") gives all three; a bare tag ("1.2") only the reference and
// tag.
func describeLocal(img *Image, ref string) {
	if ref == "" {
		return
	}
	if strings.ContainsAny(ref, "/:@") {
		if r, err := name.ParseReference(ref); err == nil {
			img.Reference, img.Repository = r.Name(), r.Context().RepositoryStr()
			if t, ok := r.(name.Tag); ok {
				img.Tag = t.TagStr()
			}
			return
		}
	}
	img.Reference = ref
	if _, err := name.NewTag("registry.invalid/xx:" + ref); err == nil {
		img.Tag = ref
	}
}

func isCosignTag(ref string) bool {
	if i := strings.LastIndexByte(ref, ':'); i >= 0 {
		ref = ref[i+1:]
	}
	return strings.HasPrefix(ref, "sha256-")
}

func (f *layoutFetcher) root(ctx context.Context) (v1.Descriptor, []byte, error) {
	b, err := f.manifest(ctx, f.selected)
	if err != nil {
		return v1.Descriptor{}, nil, fmt.Errorf("image %s: %w", f.src, err)
	}
	d := f.selected
	return v1.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: d.Digest}, b, nil
}

func (f *layoutFetcher) manifest(_ context.Context, d v1.Descriptor) ([]byte, error) {
	rc, err := f.path.Blob(d.Digest)
	if err != nil {
		return nil, err
	}
	return readManifest(rc, d)
}

func (f *layoutFetcher) open(_ context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	return f.path.Blob(d.Digest)
}

// tag finds a cosign tag in index.json, named "sha256-<hex>.sig" or
// "<name>:sha256-<hex>.sig" as tools write them.
func (f *layoutFetcher) tag(_ context.Context, tag string) (*v1.Descriptor, error) {
	for _, d := range f.index.Manifests {
		if r := d.Annotations[AnnotationRefName]; r == tag || strings.HasSuffix(r, ":"+tag) {
			return &v1.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: d.Digest}, nil
		}
	}
	return nil, nil
}

// referrers finds manifests listed in index.json whose subject is h.
func (f *layoutFetcher) referrers(ctx context.Context, h v1.Hash) ([]v1.Descriptor, error) {
	var out []v1.Descriptor
	for _, d := range f.index.Manifests {
		if !isManifest(d.MediaType) || d.Size > MaxManifestSize || d.Digest == h {
			continue
		}
		b, err := f.manifest(ctx, d)
		if err != nil {
			return nil, err
		}
		var m struct {
			Subject *v1.Descriptor `json:"subject"`
		}
		if jsonUnmarshal(b, &m) == nil && m.Subject != nil && m.Subject.Digest == h {
			out = append(out, v1.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: d.Digest, ArtifactType: d.ArtifactType})
		}
	}
	return out, nil
}

func readFileLimit(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: over the limit of %d bytes", path, limit)
	}
	return b, nil
}

// archiveFetcher reads a docker-archive tarball with go-containerregistry's
// tarball package. Layers stored uncompressed in the tarball are carried
// gzip-compressed, as tarball.Image presents them: the pinned digest is
// that of the manifest it computes, which is stable for a given tarball.
type archiveFetcher struct {
	src    string
	img    v1.Image
	config v1.Hash
}

func newArchiveFetcher(src Source, img *Image) (*archiveFetcher, error) {
	q := fmt.Sprintf("%q", src.String())
	opener := func() (io.ReadCloser, error) { return os.Open(src.Path) }
	var tag *name.Tag
	ref := src.Selector
	if ref != "" {
		t, err := name.NewTag(ref)
		if err != nil {
			return nil, sourceErr(q, "REF %q: %v", ref, err)
		}
		tag = &t
	} else {
		m, err := tarball.LoadManifest(opener)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", q, err)
		}
		if len(m) == 1 && len(m[0].RepoTags) == 1 {
			ref = m[0].RepoTags[0]
		}
	}
	ti, err := tarball.Image(opener, tag)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", q, err)
	}
	cfg, err := ti.ConfigName()
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", q, err)
	}
	if ref != "" {
		if t, err := name.NewTag(ref); err == nil {
			img.Reference, img.Repository, img.Tag = t.Name(), t.RepositoryStr(), t.TagStr()
		}
	}
	return &archiveFetcher{src: q, img: ti, config: cfg}, nil
}

func (f *archiveFetcher) root(context.Context) (v1.Descriptor, []byte, error) {
	raw, err := f.img.RawManifest()
	if err != nil {
		return v1.Descriptor{}, nil, fmt.Errorf("image %s: %w", f.src, err)
	}
	mt, err := f.img.MediaType()
	if err != nil {
		return v1.Descriptor{}, nil, fmt.Errorf("image %s: %w", f.src, err)
	}
	d, sz, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	return v1.Descriptor{MediaType: mt, Size: sz, Digest: d}, raw, nil
}

func (f *archiveFetcher) manifest(context.Context, v1.Descriptor) ([]byte, error) {
	return nil, errors.New("a docker archive holds no index")
}

func (f *archiveFetcher) open(_ context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	if d.Digest == f.config {
		b, err := f.img.RawConfigFile()
		if err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	l, err := f.img.LayerByDigest(d.Digest)
	if err != nil {
		return nil, err
	}
	return l.Compressed()
}

func (f *archiveFetcher) tag(context.Context, string) (*v1.Descriptor, error) { return nil, nil }

func (f *archiveFetcher) referrers(context.Context, v1.Hash) ([]v1.Descriptor, error) {
	return nil, nil
}
