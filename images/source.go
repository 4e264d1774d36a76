package images

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Kind says where an image comes from.
type Kind int

const (
	// Registry: a registry reference, "registry.example/team/app:1.2" or
	// "...@sha256:<hex>".
	Registry Kind = iota + 1
	// OCILayout: "oci:DIR" or "oci:DIR:REF", an OCI image layout directory,
	// as skopeo names it. REF selects the image in index.json by its
	// org.opencontainers.image.ref.name annotation, or is a digest
	// ("oci:DIR:sha256:<hex>"). Without REF, index.json must list exactly
	// one image.
	OCILayout
	// DockerArchive: "docker-archive:FILE" or "docker-archive:FILE:REF", a
	// tarball written by `docker save` (or go-containerregistry's tarball
	// package). REF ("team/app:1.2") selects an image by its RepoTags;
	// without it the tarball must hold exactly one image.
	DockerArchive
)

func (k Kind) String() string {
	switch k {
	case Registry:
		return "registry"
	case OCILayout:
		return "oci"
	case DockerArchive:
		return "docker-archive"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Source is a parsed image source string.
type Source struct {
	Kind Kind
	// Ref is the registry reference, for Registry sources.
	Ref name.Reference
	// Path is the directory (OCILayout) or file (DockerArchive).
	Path string
	// Selector is the REF part of an OCILayout or DockerArchive source, ""
	// when there is none.
	Selector string
	// Digest is the digest a source pins: a registry reference by digest,
	// or an OCILayout source selected by digest. Zero otherwise.
	Digest v1.Hash

	raw string
}

// String returns the source as it was written.
func (s Source) String() string { return s.raw }

// maxSourceLen bounds source strings; references are far shorter.
const maxSourceLen = 4096

// ParseSource parses an image source string: a registry reference, or
// "oci:DIR[:REF]", or "docker-archive:FILE[:REF]" as skopeo writes them.
// As in skopeo, the path ends at the first ':' after the prefix, so a path
// cannot contain ':'. Of the options only InsecureRegistry applies: it
// lets a registry reference use plain HTTP.
func ParseSource(s string, opts ...Option) (Source, error) {
	c, err := newConfig(opts)
	if err != nil {
		return Source{}, err
	}
	q := fmt.Sprintf("%q", s)
	switch {
	case len(s) == 0:
		return Source{}, sourceErr(`""`, "empty source")
	case len(s) > maxSourceLen:
		return Source{}, sourceErr(q[:64]+"...", "longer than %d bytes", maxSourceLen)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return Source{}, sourceErr(q, "control character")
	}
	src := Source{raw: s}
	var rest string
	var ok bool
	switch {
	case hasPrefixCut(s, "oci:", &rest):
		src.Kind = OCILayout
		src.Path, src.Selector, ok = strings.Cut(rest, ":")
		if ok && src.Selector == "" {
			return Source{}, sourceErr(q, "empty REF after the directory")
		}
		if strings.HasPrefix(src.Selector, "sha256:") {
			h, err := v1.NewHash(src.Selector)
			if err != nil {
				return Source{}, sourceErr(q, "bad digest %q: %v", src.Selector, err)
			}
			src.Digest = h
		}
	case hasPrefixCut(s, "docker-archive:", &rest):
		src.Kind = DockerArchive
		src.Path, src.Selector, ok = strings.Cut(rest, ":")
		if ok {
			if _, err := name.NewTag(src.Selector); err != nil {
				return Source{}, sourceErr(q, "REF %q is not an image name with an optional tag: %v", src.Selector, err)
			}
		}
	default:
		if i := strings.Index(s, "://"); i >= 0 {
			return Source{}, sourceErr(q, "a registry reference has no scheme (drop %q)", s[:i+3])
		}
		if p, _, ok := strings.Cut(s, ":"); ok && !strings.ContainsAny(p, "./") && isTransport(p) {
			return Source{}, sourceErr(q, "unsupported transport %q (want a registry reference, oci: or docker-archive:)", p)
		}
		ref, err := name.ParseReference(s, c.nameOptions()...)
		if err != nil {
			return Source{}, sourceErr(q, "not a registry reference: %v", err)
		}
		src.Kind, src.Ref = Registry, ref
		if d, ok := ref.(name.Digest); ok {
			h, err := v1.NewHash(d.DigestStr())
			if err != nil {
				return Source{}, sourceErr(q, "bad digest: %v", err)
			}
			src.Digest = h
		}
		return src, nil
	}
	if src.Path == "" {
		return Source{}, sourceErr(q, "no path after %q", src.Kind.String()+":")
	}
	return src, nil
}

func hasPrefixCut(s, prefix string, rest *string) bool {
	r, ok := strings.CutPrefix(s, prefix)
	*rest = r
	return ok
}

// isTransport reports whether p is a skopeo transport name that offkit does
// not read, so that "dir:x" gets a clear error ("docker://x" is refused for its scheme).
func isTransport(p string) bool {
	switch p {
	case "dir", "docker-daemon", "containers-storage", "oci-archive", "ostree", "sif":
		return true
	}
	return false
}
