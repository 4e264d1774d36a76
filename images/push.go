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

// prefix is a parsed push prefix: a registry and a repository path under
// it, "" for the registry's root.
type prefix struct {
	raw  string
	reg  name.Registry
	path string
	opts []name.Option // strict validation, and name.Insecure if asked for
}

// parsePrefix parses a push prefix, "registry.site:5000/mirror" or
// "registry.site:5000": a registry host, as go-containerregistry reads it
// with strict validation, and an optional repository path that must pass
// CheckRepositoryPath.
func parsePrefix(s string, c *config) (prefix, error) {
	p := prefix{raw: s, opts: append(c.nameOptions(), name.StrictValidation)}
	host, path, _ := strings.Cut(strings.TrimSuffix(s, "/"), "/")
	if !strings.ContainsAny(host, ".:") {
		// go-containerregistry would read the name as a Docker Hub
		// repository.
		return prefix{}, fmt.Errorf("images: push prefix %q: %q is not a registry host (one with a '.' or a ':port')", s, host)
	}
	reg, err := name.NewRegistry(host, p.opts...)
	if err != nil {
		return prefix{}, fmt.Errorf("images: push prefix %q: registry %q: %v", s, host, err)
	}
	if path != "" {
		if err := CheckRepositoryPath(path); err != nil {
			return prefix{}, fmt.Errorf("images: push prefix %q: %v", s, err)
		}
	}
	p.reg, p.path = reg, path
	return p, nil
}

// CheckPrefix checks a push prefix ("registry.site:5000/mirror", or a
// registry alone) as PlanPush takes it. InsecureRegistry lets it name a
// registry over plain HTTP.
func CheckPrefix(s string, opts ...Option) error {
	c, err := newConfig(opts)
	if err != nil {
		return err
	}
	_, err = parsePrefix(s, c)
	return err
}

// under checks that r, the repository of ref, a reference Push would
// write, lies under p: in the same registry, with a repository path that
// is p's or under it by whole path elements, and itself a valid one.
func (p prefix) under(ref string, r name.Repository) error {
	path := r.RepositoryStr()
	if r.RegistryStr() != p.reg.RegistryStr() || r.Scheme() != p.reg.Scheme() || CheckRepositoryPath(path) != nil ||
		(p.path != "" && path != p.path && !strings.HasPrefix(path, p.path+"/")) {
		return fmt.Errorf("images: push to %q: %w: repository %q is not %s or under it", ref, ErrDestination, r.Name(), p.raw)
	}
	return nil
}

// tag parses, with strict validation, the reference repo:tag and checks it
// lies under p.
func (p prefix) tag(repo name.Repository, tag string) (name.Tag, error) {
	ref := repo.Name() + ":" + tag
	t, err := name.NewTag(ref, p.opts...)
	if err != nil {
		return name.Tag{}, fmt.Errorf("images: push to %q: %w: %v", ref, ErrDestination, err)
	}
	return t, p.under(ref, t.Context())
}

// digest parses, with strict validation, the reference repo@h and checks
// it lies under p.
func (p prefix) digest(repo name.Repository, h v1.Hash) (name.Digest, error) {
	ref := repo.Name() + "@" + h.String()
	d, err := name.NewDigest(ref, p.opts...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("images: push to %q: %w: %v", ref, ErrDestination, err)
	}
	return d, p.under(ref, d.Context())
}

// destination returns the repository under p for image e: p joined with
// e's repository path.
func (p prefix) destination(e Entry) (name.Repository, error) {
	if e.Role != RoleImage {
		return name.Repository{}, fmt.Errorf("images: %s %s is not an image", e.Role, e.Digest())
	}
	if e.Repository == "" {
		return name.Repository{}, fmt.Errorf("images: image %s (%s) has no repository path to push it under", e.Digest(), e.Reference)
	}
	if err := CheckRepositoryPath(e.Repository); err != nil {
		return name.Repository{}, fmt.Errorf("images: image %s (%s): %w", e.Digest(), e.Reference, err)
	}
	path := e.Repository
	if p.path != "" {
		path = p.path + "/" + path
	}
	ref := p.reg.RegistryStr() + "/" + path
	r, err := name.NewRepository(ref, p.opts...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("images: push to %q: %w: %v", ref, ErrDestination, err)
	}
	return r, p.under(ref, r)
}

// Destination returns the repository an image of a layout is pushed to:
// prefix ("registry.site/mirror") joined with the image's original
// repository path ("team/app"), which must lie under prefix (an error
// wrapping ErrDestination otherwise). InsecureRegistry lets it use plain
// HTTP.
func Destination(prefix string, e Entry, opts ...Option) (name.Repository, error) {
	c, err := newConfig(opts)
	if err != nil {
		return name.Repository{}, err
	}
	p, err := parsePrefix(prefix, c)
	if err != nil {
		return name.Repository{}, err
	}
	return p.destination(e)
}

// PushTarget is an image of a layout and every reference Push writes for
// it, worked out by PlanPush before anything is pushed.
type PushTarget struct {
	Image      Entry
	Repository name.Repository // prefix joined with the image's repository path
	Digest     name.Digest     // the image, by digest, in Repository
	Tag        *name.Tag       // the image's tag there, nil if it has none
	// Artifacts are the signatures and attestations (by their cosign tags)
	// and referrers (by digest) of the image and of each of its manifests.
	Artifacts []name.Reference

	root      *node
	artifacts []pushArtifact
}

type pushArtifact struct {
	e   Entry
	n   *node
	ref name.Reference // a name.Tag for signatures and attestations, a name.Digest for referrers
}

// PlanPush works out, before anything is pushed, every reference Push
// writes for each image of l under prefix ("registry.site:5000/mirror"):
// the image by digest and by its tag in prefix joined with its repository
// path, and its signatures, attestations and referrers there. Each is
// parsed with strict validation and must lie under prefix (the same
// registry, and a repository path that is prefix's or under it by whole
// elements); if any does not, it returns an error wrapping ErrDestination
// and no targets. Images listed twice with the same repository and tag
// are one target. Each manifest is read once.
func PlanPush(l *Layout, prefix string, opts ...Option) ([]*PushTarget, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	p, err := parsePrefix(prefix, c)
	if err != nil {
		return nil, err
	}
	seen := map[v1.Hash]*node{} // every manifest read, shared by the images
	planned := map[string]bool{}
	var out []*PushTarget
	for _, e := range l.Images() {
		dst, err := p.destination(e)
		if err != nil {
			return nil, err
		}
		key := dst.Name() + "@" + e.Digest().String() + ":" + e.Tag
		if planned[key] {
			continue
		}
		planned[key] = true
		d, err := p.digest(dst, e.Digest())
		if err != nil {
			return nil, err
		}
		t := &PushTarget{Image: e, Repository: dst, Digest: d}
		if e.Tag != "" {
			if err := CheckTag(e.Tag); err != nil {
				return nil, fmt.Errorf("images: image %s (%s): %w", e.Digest(), e.Reference, err)
			}
			tag, err := p.tag(dst, e.Tag)
			if err != nil {
				return nil, err
			}
			t.Tag = &tag
		}
		if t.root, err = l.tree(e.Descriptor, 0, seen); err != nil {
			return nil, err
		}
		if n := t.root.count(maxManifests); n > maxManifests {
			return nil, layoutErr(blobPath(e.Digest()), "more than %d manifests in one image", maxManifests)
		}
		if err := t.planArtifacts(l, p, seen); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// planArtifacts lists the signatures, attestations and referrers of every
// manifest of t, each once, with the reference each is pushed to.
func (t *PushTarget) planArtifacts(l *Layout, p prefix, seen map[v1.Hash]*node) error {
	done := map[string]bool{}
	return t.root.postorder(map[v1.Hash]bool{}, func(m *node) error {
		for _, a := range l.Artifacts(m.desc.Digest) {
			var ref name.Reference
			var err error
			switch a.Role {
			case RoleSignature, RoleAttestation:
				// parseEntry made sure it is the cosign tag of a.Subject.
				if err := CheckTag(a.Reference); err != nil {
					return fmt.Errorf("images: %s %s of %s: %w", a.Role, a.Digest(), a.Subject, err)
				}
				ref, err = p.tag(t.Repository, a.Reference)
			default:
				ref, err = p.digest(t.Repository, a.Digest())
			}
			if err != nil {
				return err
			}
			if done[ref.String()] {
				continue
			}
			done[ref.String()] = true
			n, err := l.tree(a.Descriptor, 0, seen)
			if err != nil {
				return err
			}
			t.artifacts = append(t.artifacts, pushArtifact{e: a, n: n, ref: ref})
			t.Artifacts = append(t.Artifacts, ref)
		}
		return nil
	})
}

// PushResult says what Push did.
type PushResult struct {
	// BlobsPushed counts the blobs (configs and layers) uploaded or
	// mounted; BlobsSkipped those the destination already had.
	BlobsPushed, BlobsSkipped int
}

// Push pushes the image of t, planned by PlanPush, from the layout: every
// blob (skipping those the destination already has), every manifest by
// digest, the index last; the image under its original tag; and the
// signatures and attestations of the image and of each of its manifests
// under their cosign tags (sha256-<hex>.sig, .att), and its referrers by
// digest (go-containerregistry also updates the referrers fallback tag on
// registries without the referrers API). So `cosign verify --key` and
// `cosign verify-attestation --key` work against the destination as they
// did against the source. Pushing again sends no blob.
//
// A registry may refuse an index filtered by platform, whose children for
// other platforms are absent: distribution does, with MANIFEST_BLOB_UNKNOWN.
// Push then returns an error wrapping ErrIndexRefused, after pushing the
// manifests of the platforms carried (by digest) and before any tag.
func Push(ctx context.Context, l *Layout, t *PushTarget, opts ...Option) (*PushResult, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if t == nil || t.root == nil {
		return nil, errors.New("images: push: a target not made by PlanPush")
	}
	counter := &blobCounter{next: c.transport, pushed: map[string]bool{}, skipped: map[string]bool{}}
	if counter.next == nil {
		counter.next = remote.DefaultTransport
	}
	pusher, err := remote.NewPusher(append(c.remoteOptions(ctx), remote.WithTransport(counter))...)
	if err != nil {
		return nil, err
	}
	dst := t.Repository
	p := &pushing{ctx: ctx, l: l, dst: dst, pusher: pusher, done: map[v1.Hash]bool{}}
	if err := p.push(t.root); err != nil {
		return nil, fmt.Errorf("push %s to %s: %w", t.Image.Digest(), dst, err)
	}
	res := &PushResult{}
	defer func() { res.BlobsPushed, res.BlobsSkipped = counter.counts() }()
	if t.Tag != nil {
		if err := p.tag(*t.Tag, t.root); err != nil {
			return nil, err
		}
	}
	for _, a := range t.artifacts {
		if err := p.push(a.n); err != nil {
			return nil, fmt.Errorf("push %s %s of %s to %s: %w", a.e.Role, a.e.Digest(), a.e.Subject, dst, err)
		}
		if tag, ok := a.ref.(name.Tag); ok {
			if err := p.tag(tag, a.n); err != nil {
				return nil, err
			}
		}
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
