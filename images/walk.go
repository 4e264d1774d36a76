package images

import (
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Finish checks the layout as a whole and returns its index.json entries:
// oci-layout and index.json are present and valid; every descriptor,
// from index.json down through indexes and manifests, names a blob that is
// present with that size and, where the blob has a mediaType field, that
// media type (except the children left out of an index filtered by
// platform); every index and manifest parses and has a mediaType; every
// blob is referenced; every signature, attestation and referrer belongs to
// a manifest of the layout; and, when pinned digests are given, the images
// of the layout are exactly those, each listed at most as many times as it
// is pinned.
//
// Each blob is read once however many descriptors name it, and each
// further descriptor costs O(1): the work is linear in the layout's bytes
// and descriptors.
func (c *Checker) Finish() ([]Entry, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.layout == nil {
		return nil, layoutErr(LayoutFile, "missing")
	}
	var ol struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := jsonUnmarshal(c.layout, &ol); err != nil {
		return nil, layoutErr(LayoutFile, "%v", err)
	}
	if ol.Version != "1.0.0" {
		return nil, layoutErr(LayoutFile, "imageLayoutVersion %q, want \"1.0.0\"", ol.Version)
	}
	if c.index == nil {
		return nil, layoutErr(IndexFile, "missing")
	}
	entries, err := parseIndex(c.index)
	if err != nil {
		return nil, err
	}
	w := &walker{c: c, nodes: map[string]*mnode{}}
	for i, e := range entries {
		n, _, err := w.visit(e.Descriptor, 0, site{IndexFile, "manifests", i}, false)
		if err != nil {
			return nil, err
		}
		if n != nil && n.index {
			n.filter = n.filter.add(e)
		}
	}
	if err := w.filter(); err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Role != RoleImage && w.nodes[e.Subject.Hex] == nil {
			return nil, layoutErr(IndexFile, "%s %s belongs to %s, which is not a manifest of the layout", e.Role, e.Digest(), e.Subject)
		}
	}
	var unused []string
	for h, b := range c.blobs {
		if !b.used {
			unused = append(unused, BlobsDir+"/"+h)
		}
	}
	if len(unused) > 0 {
		slices.Sort(unused)
		return nil, layoutErr(unused[0], "unreferenced blob: nothing in index.json leads to it")
	}
	if err := checkPinned(entries, c.pinned); err != nil {
		return nil, err
	}
	return entries, nil
}

// checkPinned checks, when pinned is not empty, that the images of
// entries are exactly the pinned ones: an extra image, however complete,
// is something the kit's manifest does not account for. An image is
// listed at most as many times as it is pinned (two components may pin
// one image).
func checkPinned(entries []Entry, pinned []v1.Hash) error {
	if len(pinned) == 0 {
		return nil
	}
	want := make(map[v1.Hash]int, len(pinned))
	for _, p := range pinned {
		want[p]++
	}
	listed := map[v1.Hash]int{}
	for _, e := range entries {
		if e.Role == RoleImage {
			listed[e.Digest()]++
		}
	}
	for _, p := range pinned {
		if listed[p] == 0 {
			return layoutErr(IndexFile, "lists no image %s", p)
		}
	}
	for _, e := range entries {
		if e.Role != RoleImage {
			continue
		}
		switch n := want[e.Digest()]; {
		case n == 0:
			return layoutErr(IndexFile, "image %s is not pinned by any image component: an unpinned extra", e.Digest())
		case listed[e.Digest()] > n:
			return layoutErr(IndexFile, "lists image %s %d times, but image components pin it %d time(s)", e.Digest(), listed[e.Digest()], n)
		}
	}
	return nil
}

// walker reads the manifests and indexes of a layout, each once.
type walker struct {
	c     *Checker
	nodes map[string]*mnode // by hex digest: every manifest and index read
	order []*mnode          // the indexes, each after every index below it
}

// mnode is a manifest or index of the layout.
type mnode struct {
	digest v1.Hash
	mt     types.MediaType // its own mediaType field
	index  bool
	done   bool // read, with everything below it
	height int  // the longest chain of indexes below it: 0 for a manifest

	// Indexes only.
	children []v1.Descriptor // its manifests
	kids     []*mnode        // the indexes among its children present
	absent   []int           // the children absent, by position
	filter   *platformFilter // the platforms it is asked for
}

// site is where a descriptor is: in which file, which field, at which
// position (-1 for config).
type site struct {
	file  string
	field string
	i     int
}

func (s site) String() string { return s.file + " " + s.place() }

// place is the field and position, without the file.
func (s site) place() string {
	if s.i < 0 {
		return s.field
	}
	return fmt.Sprintf("%s[%d]", s.field, s.i)
}

// descErr reports a problem with the blob at path that the descriptor at
// at names.
func descErr(path string, at site, format string, args ...any) error {
	return &LayoutError{Path: path, Parent: at.String(), Err: fmt.Errorf("%w: "+format, append([]any{ErrLayout}, args...)...)}
}

// visit checks descriptor d, found at at, and, the first time a manifest
// or index is named, reads it and what it references; later descriptors
// of it cost O(1). It returns the manifest or index (nil for a config or
// layer) or, when mayBeAbsent and the blob is absent, absent = true.
// depth counts the manifests and indexes above d.
func (w *walker) visit(d v1.Descriptor, depth int, at site, mayBeAbsent bool) (n *mnode, absent bool, err error) {
	if err := checkLayoutDescriptor(d); err != nil {
		return nil, false, layoutErr(at.file, "%s: %v", at.place(), err)
	}
	b, ok := w.c.blobs[d.Digest.Hex]
	if !ok {
		if mayBeAbsent {
			return nil, true, nil
		}
		return nil, false, descErr(blobPath(d.Digest), at, "missing")
	}
	if b.size != d.Size {
		return nil, false, descErr(blobPath(d.Digest), at, "%d bytes, but the descriptor gives size %d", b.size, d.Size)
	}
	b.used = true
	if !isIndex(d.MediaType) && !isManifest(d.MediaType) {
		// A config or layer: if it has a media type of its own, it is that
		// of the descriptor, so that no manifest passes as a layer.
		if own := b.mediaType(); own != "" && own != d.MediaType {
			return nil, false, descErr(blobPath(d.Digest), at, "has media type %q, but the descriptor says %q", own, d.MediaType)
		}
		return nil, false, nil
	}
	if n := w.nodes[d.Digest.Hex]; n != nil {
		switch {
		case !n.done:
			return nil, false, descErr(blobPath(d.Digest), at, "is below itself")
		case n.mt != d.MediaType:
			return nil, false, descErr(blobPath(d.Digest), at, "has media type %q, but the descriptor says %q", n.mt, d.MediaType)
		case depth+n.height > maxIndexDepth:
			return nil, false, descErr(blobPath(d.Digest), at, "indexes nested deeper than %d", maxIndexDepth)
		}
		return n, false, nil
	}
	path := blobPath(d.Digest)
	if depth > maxIndexDepth {
		return nil, false, descErr(path, at, "indexes nested deeper than %d", maxIndexDepth)
	}
	if b.data == nil {
		return nil, false, descErr(path, at, "the descriptor says it is a %s, but it is not a JSON object of at most %d bytes", d.MediaType, MaxManifestSize)
	}
	n = &mnode{digest: d.Digest, index: isIndex(d.MediaType)}
	w.nodes[d.Digest.Hex] = n
	if n.index {
		err = w.readIndex(n, path, b.data, d, depth, at)
	} else {
		err = w.readManifest(n, path, b.data, d, depth, at)
	}
	if err != nil {
		return nil, false, err
	}
	n.done = true
	return n, false, nil
}

// checkOwnType checks the mediaType field mt of the manifest or index at
// path against its descriptor's: an image manifest or index must have one
// (else an index could pass for a manifest with nothing to require, or a
// manifest for an empty index), and it must be the descriptor's.
func checkOwnType(path string, at site, mt types.MediaType, d v1.Descriptor) error {
	switch {
	case mt == "":
		return descErr(path, at, "has no mediaType field, but the descriptor says it is a %s: an image manifest or index must name its media type", d.MediaType)
	case mt != d.MediaType:
		return descErr(path, at, "has media type %q, but the descriptor says %q", mt, d.MediaType)
	}
	return nil
}

func (w *walker) readIndex(n *mnode, path string, data []byte, d v1.Descriptor, depth int, at site) error {
	var im v1.IndexManifest
	if err := jsonUnmarshal(data, &im); err != nil {
		return descErr(path, at, "index does not parse: %v", err)
	}
	if im.SchemaVersion != 2 {
		return descErr(path, at, "index schemaVersion %d, want 2", im.SchemaVersion)
	}
	if err := checkOwnType(path, at, im.MediaType, d); err != nil {
		return err
	}
	n.mt, n.children = im.MediaType, im.Manifests
	for i, child := range im.Manifests {
		if !isIndex(child.MediaType) && !isManifest(child.MediaType) {
			return layoutErr(path, "manifests[%d] (%s): media type %q is not a manifest or index", i, child.Digest, child.MediaType)
		}
		// A child may be absent if the platforms the index is asked for
		// leave it out: w.filter decides, once every path to it is known.
		k, absent, err := w.visit(child, depth+1, site{path, "manifests", i}, true)
		if err != nil {
			return err
		}
		if absent {
			n.absent = append(n.absent, i)
			continue
		}
		if k.index {
			n.kids = append(n.kids, k)
		}
		n.height = max(n.height, k.height+1)
	}
	w.order = append(w.order, n)
	return nil
}

func (w *walker) readManifest(n *mnode, path string, data []byte, d v1.Descriptor, depth int, at site) error {
	var m v1.Manifest
	if err := jsonUnmarshal(data, &m); err != nil {
		return descErr(path, at, "manifest does not parse: %v", err)
	}
	if m.SchemaVersion != 2 {
		return descErr(path, at, "manifest schemaVersion %d, want 2", m.SchemaVersion)
	}
	if err := checkOwnType(path, at, m.MediaType, d); err != nil {
		return err
	}
	n.mt = m.MediaType
	if isIndex(m.Config.MediaType) || isManifest(m.Config.MediaType) {
		return layoutErr(path, "config has a manifest media type %q", m.Config.MediaType)
	}
	if _, _, err := w.visit(m.Config, depth+1, site{path, "config", -1}, false); err != nil {
		return err
	}
	for i, l := range m.Layers {
		if isIndex(l.MediaType) || isManifest(l.MediaType) {
			return layoutErr(path, "layers[%d] has a manifest media type %q", i, l.MediaType)
		}
		if _, _, err := w.visit(l, depth+1, site{path, "layers", i}, false); err != nil {
			return err
		}
	}
	return nil
}

// filter decides which absent children of indexes are absent on purpose.
// An index is asked for the union of the platforms of every path to it:
// an entry of index.json with AnnotationPlatforms asks for those, any other
// for every child, and an index passes what it is asked for to the indexes
// below it. A child is required, as Resolve carries it, unless the index
// is asked only for platforms it satisfies none of (selectChildren). The
// indexes are taken parents first, so each passes its platforms on once
// per child index, and an index below another is asked for at most
// maxPlatformSpecs platforms: the work is linear.
func (w *walker) filter() error {
	for i := len(w.order) - 1; i >= 0; i-- {
		n := w.order[i]
		for _, k := range n.kids {
			f, err := k.filter.merge(n.filter)
			if err != nil {
				return layoutErr(blobPath(k.digest), "%v", err)
			}
			k.filter = f
		}
	}
	for _, n := range w.order {
		if len(n.absent) == 0 {
			continue
		}
		required := n.filter.required(n.children)
		for _, i := range n.absent {
			if required(i) {
				c := n.children[i]
				return descErr(blobPath(c.Digest), site{blobPath(n.digest), "manifests", i}, "missing")
			}
		}
	}
	return nil
}

// platformFilter is what an index is asked for: every child, or the
// children for some platforms. A nil *platformFilter is one not yet asked
// for anything; every index read is asked for something before its
// children are judged (and nil would then require them all).
type platformFilter struct {
	all   bool
	specs map[platformKey]struct{}
}

// platformKey is a platform asked for: OS and architecture, with variant
// and OS version "" for any (the fields v1.ParsePlatform sets).
type platformKey struct{ os, arch, variant, osVersion string }

func keyOf(p v1.Platform) platformKey {
	return platformKey{p.OS, p.Architecture, p.Variant, p.OSVersion}
}

// add returns f asking also for what entry e of index.json asks for.
func (f *platformFilter) add(e Entry) *platformFilter {
	if f == nil {
		f = &platformFilter{}
	}
	switch {
	case f.all:
	case e.Role != RoleImage || e.specs == nil:
		f.all, f.specs = true, nil
	default:
		if f.specs == nil {
			f.specs = make(map[platformKey]struct{}, len(e.specs))
		}
		for _, s := range e.specs {
			f.specs[keyOf(s)] = struct{}{}
		}
	}
	return f
}

// merge returns f asking also for what parent asks for.
func (f *platformFilter) merge(parent *platformFilter) (*platformFilter, error) {
	if f == nil {
		f = &platformFilter{}
	}
	switch {
	case f.all:
		return f, nil
	case parent == nil || parent.all:
		f.all, f.specs = true, nil
		return f, nil
	case len(parent.specs) > maxPlatformSpecs:
		return nil, fmt.Errorf("an index below another is asked for more than %d platforms", maxPlatformSpecs)
	}
	if f.specs == nil {
		f.specs = make(map[platformKey]struct{}, len(parent.specs))
	}
	for k := range parent.specs {
		f.specs[k] = struct{}{}
	}
	if len(f.specs) > maxPlatformSpecs {
		return nil, fmt.Errorf("an index below another is asked for more than %d platforms in all", maxPlatformSpecs)
	}
	return f, nil
}

// satisfies reports whether p satisfies a platform f asks for, as
// v1.Platform.Satisfies does: a spec's empty variant or OS version
// matches any.
func (f *platformFilter) satisfies(p *v1.Platform) bool {
	if p == nil {
		return false
	}
	for _, v := range []string{p.Variant, ""} {
		for _, o := range []string{p.OSVersion, ""} {
			if _, ok := f.specs[platformKey{p.OS, p.Architecture, v, o}]; ok {
				return true
			}
		}
	}
	return false
}

// required returns whether the child at a position of children is one
// that an index asked for f carries, as selectChildren picks them: every
// child, or those for the platforms and the buildx attestation manifests
// of those.
func (f *platformFilter) required(children []v1.Descriptor) func(int) bool {
	if f == nil || f.all {
		return func(int) bool { return true }
	}
	picked := map[string]bool{}
	for _, c := range children {
		if f.satisfies(c.Platform) {
			picked[c.Digest.String()] = true
		}
	}
	return func(i int) bool {
		c := children[i]
		return picked[c.Digest.String()] ||
			(c.Annotations["vnd.docker.reference.type"] == "attestation-manifest" && picked[c.Annotations["vnd.docker.reference.digest"]])
	}
}
