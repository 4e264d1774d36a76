package images

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Layout is an OCI image layout opened for reading: a kit's images/
// directory. OpenLayout reads only oci-layout and index.json; CheckLayout
// checks the rest. Every blob read through a Layout is checked against its
// digest as it streams, so a Layout is safe to read even unchecked.
type Layout struct {
	fsys    fs.FS
	entries []Entry
	// Indexes of entries, made once so that no lookup walks them.
	byDigest  map[v1.Hash]int   // the first entry of each digest
	byTag     map[string]int    // signatures and attestations, by tag
	bySubject map[v1.Hash][]int // signatures, attestations and referrers, by subject
}

// OpenLayout opens the layout at the root of fsys.
func OpenLayout(fsys fs.FS) (*Layout, error) {
	c := NewChecker()
	for _, name := range []string{LayoutFile, IndexFile} {
		f, err := fsys.Open(name)
		if err != nil {
			return nil, &LayoutError{Path: name, Err: err}
		}
		err = c.Add(name, f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	entries, err := parseIndex(c.index)
	if err != nil {
		return nil, err
	}
	l := &Layout{fsys: fsys, entries: entries, byDigest: map[v1.Hash]int{}, byTag: map[string]int{}, bySubject: map[v1.Hash][]int{}}
	for i, e := range entries {
		if _, ok := l.byDigest[e.Digest()]; !ok {
			l.byDigest[e.Digest()] = i
		}
		switch e.Role {
		case RoleImage:
			continue
		case RoleSignature, RoleAttestation:
			if _, ok := l.byTag[e.Reference]; !ok {
				l.byTag[e.Reference] = i
			}
		}
		l.bySubject[e.Subject] = append(l.bySubject[e.Subject], i)
	}
	return l, nil
}

// Entries returns the entries of index.json, in its order.
func (l *Layout) Entries() []Entry { return slices.Clone(l.entries) }

// Images returns the entries that are images.
func (l *Layout) Images() []Entry {
	var out []Entry
	for _, e := range l.entries {
		if e.Role == RoleImage {
			out = append(out, e)
		}
	}
	return out
}

// Artifacts returns the signatures, attestations and referrers of the
// manifest subject, in the order of index.json.
func (l *Layout) Artifacts(subject v1.Hash) []Entry {
	var out []Entry
	for _, i := range l.bySubject[subject] {
		out = append(out, l.entries[i])
	}
	return out
}

// Open streams the blob d names, checked against d's size and digest.
func (l *Layout) Open(d v1.Descriptor) (io.ReadCloser, error) {
	if err := checkLayoutDescriptor(d); err != nil {
		return nil, layoutErr(IndexFile, "%v", err)
	}
	path := blobPath(d.Digest)
	f, err := l.fsys.Open(path)
	if err != nil {
		return nil, &LayoutError{Path: path, Err: err}
	}
	return &layoutReader{verifyReader(f, d.Digest, d.Size, path), path}, nil
}

// layoutReader turns a digest mismatch into a *LayoutError.
type layoutReader struct {
	io.ReadCloser
	path string
}

func (r *layoutReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if errors.Is(err, ErrDigestMismatch) {
		err = &LayoutError{Path: r.path, Err: fmt.Errorf("%w: %w", ErrLayout, err)}
	}
	return n, err
}

// has reports whether the blob h is present.
func (l *Layout) has(h v1.Hash) bool {
	_, err := fs.Stat(l.fsys, blobPath(h))
	return err == nil
}

// manifest reads and checks the manifest or index d.
func (l *Layout) manifest(d v1.Descriptor) ([]byte, error) {
	if d.Size > MaxManifestSize {
		return nil, layoutErr(blobPath(d.Digest), "manifest of %d bytes, over the limit of %d", d.Size, MaxManifestSize)
	}
	rc, err := l.Open(d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// node is a manifest or index of a layout with what it references.
type node struct {
	desc     v1.Descriptor
	raw      []byte
	children []*node         // indexes: the children present
	blobs    []v1.Descriptor // manifests: config and layers
}

// tree reads the manifest or index d and, recursively, what it references,
// each manifest once: seen holds those read, and may be shared by the trees
// of several images. Children of an index that are absent are left out:
// CheckLayout has made sure they were filtered out by platform.
func (l *Layout) tree(d v1.Descriptor, depth int, seen map[v1.Hash]*node) (*node, error) {
	if n, ok := seen[d.Digest]; ok {
		if n.desc.MediaType != d.MediaType {
			return nil, layoutErr(blobPath(d.Digest), "has media type %q, but a descriptor says %q", n.desc.MediaType, d.MediaType)
		}
		return n, nil
	}
	if depth > maxIndexDepth {
		return nil, layoutErr(blobPath(d.Digest), "indexes nested deeper than %d", maxIndexDepth)
	}
	raw, err := l.manifest(d)
	if err != nil {
		return nil, err
	}
	n := &node{desc: v1.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: d.Digest}, raw: raw}
	path := blobPath(d.Digest)
	if own := sniffMediaType(raw); own != d.MediaType {
		return nil, layoutErr(path, "has media type %q, but a descriptor says %q", own, d.MediaType)
	}
	seen[d.Digest] = n
	switch {
	case isIndex(d.MediaType):
		var im v1.IndexManifest
		if err := jsonUnmarshal(raw, &im); err != nil {
			return nil, layoutErr(path, "index does not parse: %v", err)
		}
		for _, c := range im.Manifests {
			if !isIndex(c.MediaType) && !isManifest(c.MediaType) {
				return nil, layoutErr(path, "child %s: media type %q is not a manifest or index", c.Digest, c.MediaType)
			}
			if err := checkLayoutDescriptor(c); err != nil {
				return nil, layoutErr(path, "%v", err)
			}
			if !l.has(c.Digest) {
				continue
			}
			cn, err := l.tree(c, depth+1, seen)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, cn)
		}
	case isManifest(d.MediaType):
		var m v1.Manifest
		if err := jsonUnmarshal(raw, &m); err != nil {
			return nil, layoutErr(path, "manifest does not parse: %v", err)
		}
		for _, b := range append([]v1.Descriptor{m.Config}, m.Layers...) {
			if err := checkLayoutDescriptor(b); err != nil {
				return nil, layoutErr(path, "%v", err)
			}
			n.blobs = append(n.blobs, v1.Descriptor{MediaType: b.MediaType, Size: b.Size, Digest: b.Digest})
		}
	default:
		return nil, layoutErr(path, "media type %q is not a manifest or index", d.MediaType)
	}
	return n, nil
}

// count returns the number of manifests and indexes in the tree of n, or
// limit+1 if there are more than limit.
func (n *node) count(limit int) int {
	done := map[v1.Hash]bool{}
	var walk func(*node)
	walk = func(n *node) {
		if done[n.desc.Digest] || len(done) > limit {
			return
		}
		done[n.desc.Digest] = true
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(n)
	return len(done)
}

// postorder calls f on n's children before n, each node once.
func (n *node) postorder(done map[v1.Hash]bool, f func(*node) error) error {
	if done[n.desc.Digest] {
		return nil
	}
	done[n.desc.Digest] = true
	for _, c := range n.children {
		if err := c.postorder(done, f); err != nil {
			return err
		}
	}
	return f(n)
}
