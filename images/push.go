package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Destination returns the repository an image of a layout is pushed to:
// prefix ("registry.site/mirror") joined with the image's original
// repository path ("team/app"). InsecureRegistry lets it use plain HTTP.
func Destination(prefix string, e Entry, opts ...Option) (name.Repository, error) {
	c, err := newConfig(opts)
	if err != nil {
		return name.Repository{}, err
	}
	if e.Role != RoleImage {
		return name.Repository{}, fmt.Errorf("images: %s %s is not an image", e.Role, e.Digest())
	}
	if e.Repository == "" {
		return name.Repository{}, fmt.Errorf("images: image %s (%s) has no repository path to push it under", e.Digest(), e.Reference)
	}
	prefix = strings.TrimSuffix(prefix, "/")
	repo, err := name.NewRepository(prefix+"/"+e.Repository, append(c.nameOptions(), name.StrictValidation)...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("images: push destination %q: %w", prefix+"/"+e.Repository, err)
	}
	return repo, nil
}

// PushResult says what Push did.
type PushResult struct {
	Digest name.Digest // the image, by digest, in the destination
	Tags   []name.Tag  // the image's tag and its signatures' and attestations' tags
	// Referrers are the OCI 1.1 referrers pushed, by digest.
	Referrers []name.Digest
	// BlobsPushed counts the blobs (configs and layers) uploaded or
	// mounted; BlobsSkipped those the destination already had.
	BlobsPushed, BlobsSkipped int
}

// Push pushes image e of the layout to dst: every blob (skipping those
// dst already has), every manifest by digest, the index last; the image
// under its original tag; and the signatures and attestations of the image
// and of each of its manifests under their cosign tags (sha256-<hex>.sig,
// .att), and its referrers by digest (go-containerregistry also updates the
// referrers fallback tag on registries without the referrers API). So
// `cosign verify --key` and `cosign verify-attestation --key` work against
// dst as they did against the source. Pushing again sends no blob.
//
// A registry may refuse an index filtered by platform, whose children for
// other platforms are absent: distribution does, with MANIFEST_BLOB_UNKNOWN.
// Push then returns an error wrapping ErrIndexRefused, after pushing the
// manifests of the platforms carried (by digest) and before any tag.
func Push(ctx context.Context, l *Layout, e Entry, dst name.Repository, opts ...Option) (*PushResult, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if e.Role != RoleImage {
		return nil, fmt.Errorf("images: push: %s %s is not an image", e.Role, e.Digest())
	}
	counter := &blobCounter{next: c.transport, pushed: map[string]bool{}, skipped: map[string]bool{}}
	if counter.next == nil {
		counter.next = remote.DefaultTransport
	}
	pusher, err := remote.NewPusher(append(c.remoteOptions(ctx), remote.WithTransport(counter))...)
	if err != nil {
		return nil, err
	}
	p := &pushing{ctx: ctx, l: l, dst: dst, pusher: pusher, done: map[v1.Hash]bool{}}
	seen := map[v1.Hash]*node{}
	root, err := l.tree(e.Descriptor, 0, seen)
	if err != nil {
		return nil, err
	}
	if err := p.push(root); err != nil {
		return nil, fmt.Errorf("push %s to %s: %w", e.Digest(), dst, err)
	}
	res := &PushResult{Digest: dst.Digest(e.Digest().String())}
	defer func() { res.BlobsPushed, res.BlobsSkipped = counter.counts() }()
	if e.Tag != "" {
		t := dst.Tag(e.Tag)
		if err := p.tag(t, root); err != nil {
			return nil, err
		}
		res.Tags = append(res.Tags, t)
	}
	// The signatures, attestations and referrers of every manifest pushed.
	for _, a := range l.entries {
		if a.Role == RoleImage || seen[a.Subject] == nil {
			continue
		}
		an, err := l.tree(a.Descriptor, 0, map[v1.Hash]*node{})
		if err != nil {
			return nil, err
		}
		if err := p.push(an); err != nil {
			return nil, fmt.Errorf("push %s %s of %s to %s: %w", a.Role, a.Digest(), a.Subject, dst, err)
		}
		if a.Role == RoleReferrer {
			res.Referrers = append(res.Referrers, dst.Digest(a.Digest().String()))
			continue
		}
		t := dst.Tag(a.Reference) // checked by parseEntry to be the cosign tag of a.Subject
		if err := p.tag(t, an); err != nil {
			return nil, err
		}
		res.Tags = append(res.Tags, t)
	}
	return res, nil
}

type pushing struct {
	ctx    context.Context
	l      *Layout
	dst    name.Repository
	pusher *remote.Pusher
	done   map[v1.Hash]bool
}

// push uploads the blobs of n and its children, then their manifests by
// digest, children first.
func (p *pushing) push(n *node) error {
	return n.postorder(p.done, func(n *node) error {
		for _, b := range n.blobs {
			if err := p.pusher.Upload(p.ctx, p.dst, p.layer(b)); err != nil {
				return fmt.Errorf("blob %s: %w", b.Digest, err)
			}
		}
		if err := p.pusher.Push(p.ctx, p.dst.Digest(n.desc.Digest.String()), rawManifest{n.raw, n.desc.MediaType}); err != nil {
			if terr := (*transport.Error)(nil); isIndex(n.desc.MediaType) && errors.As(err, &terr) &&
				slices.ContainsFunc(terr.Errors, func(d transport.Diagnostic) bool { return d.Code == transport.ManifestBlobUnknownErrorCode }) {
				return fmt.Errorf("index %s: %w (the manifests of the platforms left out of the kit are absent): %w", n.desc.Digest, ErrIndexRefused, err)
			}
			return fmt.Errorf("manifest %s: %w", n.desc.Digest, err)
		}
		return nil
	})
}

func (p *pushing) tag(t name.Tag, n *node) error {
	if err := p.pusher.Push(p.ctx, t, rawManifest{n.raw, n.desc.MediaType}); err != nil {
		return fmt.Errorf("tag %s: %w", t, err)
	}
	return nil
}

// layer presents blob d of the layout to go-containerregistry, streamed
// and checked.
func (p *pushing) layer(d v1.Descriptor) v1.Layer {
	l, _ := partial.CompressedToLayer(&layoutBlob{l: p.l, d: d})
	return l
}

type layoutBlob struct {
	l *Layout
	d v1.Descriptor
}

func (b *layoutBlob) Digest() (v1.Hash, error)            { return b.d.Digest, nil }
func (b *layoutBlob) Size() (int64, error)                { return b.d.Size, nil }
func (b *layoutBlob) MediaType() (types.MediaType, error) { return b.d.MediaType, nil }
func (b *layoutBlob) Compressed() (io.ReadCloser, error)  { return b.l.Open(b.d) }

// rawManifest is a manifest pushed as it is, byte for byte.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// blobCounter watches the blob requests of a push: a HEAD of a blob that
// answers 200 is a blob the registry already has; a finished upload (PUT)
// or a mount (POST with mount=) that answers 201 is a blob pushed.
type blobCounter struct {
	next            http.RoundTripper
	mu              sync.Mutex
	pushed, skipped map[string]bool
}

func (b *blobCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	p, q := req.URL.Path, req.URL.Query()
	var digest string
	var into map[string]bool
	switch {
	case req.Method == http.MethodHead && resp.StatusCode == http.StatusOK && strings.Contains(p, "/blobs/sha256:"):
		digest, into = p[strings.LastIndex(p, "/")+1:], b.skipped
	case req.Method == http.MethodPut && resp.StatusCode == http.StatusCreated && strings.Contains(p, "/blobs/uploads/"):
		digest, into = q.Get("digest"), b.pushed
	case req.Method == http.MethodPost && resp.StatusCode == http.StatusCreated && q.Get("mount") != "":
		digest, into = q.Get("mount"), b.pushed
	}
	if digest != "" {
		b.mu.Lock()
		into[digest] = true
		b.mu.Unlock()
	}
	return resp, nil
}

func (b *blobCounter) counts() (pushed, skipped int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for d := range b.skipped {
		if !b.pushed[d] {
			skipped++
		}
	}
	return len(b.pushed), skipped
}
