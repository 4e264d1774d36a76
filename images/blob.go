package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// MaxManifestSize bounds manifests and indexes, the only content held in
// memory. It is the limit distribution and containerd apply.
const MaxManifestSize = 4 << 20

// Blob is one piece of content an image is made of: a manifest, an index,
// a config or a layer, named by its digest.
type Blob struct {
	Digest    v1.Hash
	Size      int64
	MediaType types.MediaType

	data []byte                                       // manifests and indexes, already read and checked
	open func(context.Context) (io.ReadCloser, error) // everything else, streamed from the source
}

// Open returns the blob's content as a stream that fails, with an error
// wrapping ErrDigestMismatch, when the content read is not Size bytes with
// the digest Digest.
func (b Blob) Open(ctx context.Context) (io.ReadCloser, error) {
	if b.data != nil {
		return verifyReader(io.NopCloser(bytes.NewReader(b.data)), b.Digest, b.Size, b.Digest.String()), nil
	}
	if b.open == nil {
		return nil, fmt.Errorf("blob %s: no source to read it from", b.Digest)
	}
	rc, err := b.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", b.Digest, err)
	}
	return verifyReader(rc, b.Digest, b.Size, b.Digest.String()), nil
}

// verifyReader returns a reader of at most size bytes from rc that hashes
// what it reads and, in place of io.EOF, returns an error wrapping
// ErrDigestMismatch if the content is shorter or longer than size or its
// SHA-256 is not want. what names the content in errors.
func verifyReader(rc io.ReadCloser, want v1.Hash, size int64, what string) io.ReadCloser {
	return &verifyingReader{rc: rc, want: want, size: size, h: sha256.New(), what: what}
}

type verifyingReader struct {
	rc   io.ReadCloser
	want v1.Hash
	size int64
	n    int64
	h    hash.Hash
	what string
	err  error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	// Read one byte past size, to notice content that is too long.
	if max := v.size - v.n + 1; int64(len(p)) > max {
		p = p[:max]
	}
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	switch {
	case v.n > v.size:
		v.err = fmt.Errorf("%s: %w: more than the %d bytes its descriptor gives", v.what, ErrDigestMismatch, v.size)
		return n - int(v.n-v.size), v.err
	case errors.Is(err, io.EOF):
		if v.n != v.size {
			v.err = fmt.Errorf("%s: %w: %d bytes, its descriptor gives %d", v.what, ErrDigestMismatch, v.n, v.size)
		} else if got := hex.EncodeToString(v.h.Sum(nil)); v.want.Algorithm != "sha256" || got != v.want.Hex {
			v.err = fmt.Errorf("%s: %w: content has digest sha256:%s", v.what, ErrDigestMismatch, got)
		} else {
			v.err = io.EOF
		}
		return n, v.err
	case err != nil:
		v.err = err
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.rc.Close() }

// checkBytes checks that b is the content desc names.
func checkBytes(b []byte, desc v1.Descriptor) error {
	if int64(len(b)) != desc.Size {
		return fmt.Errorf("%w: %d bytes, its descriptor gives %d", ErrDigestMismatch, len(b), desc.Size)
	}
	sum := sha256.Sum256(b)
	if desc.Digest.Algorithm != "sha256" || hex.EncodeToString(sum[:]) != desc.Digest.Hex {
		return fmt.Errorf("%w: content has digest sha256:%x, its descriptor gives %s", ErrDigestMismatch, sum, desc.Digest)
	}
	return nil
}

// readManifest reads at most MaxManifestSize bytes of a manifest from rc and
// checks them against desc.
func readManifest(rc io.ReadCloser, desc v1.Descriptor) ([]byte, error) {
	defer rc.Close()
	if desc.Size > MaxManifestSize {
		return nil, fmt.Errorf("manifest %s: %d bytes, over the limit of %d", desc.Digest, desc.Size, MaxManifestSize)
	}
	b, err := io.ReadAll(io.LimitReader(rc, desc.Size+1))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	if err := checkBytes(b, desc); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	return b, nil
}

// Media types offkit follows. Anything else referenced from an index is
// refused; layers may have any media type.
func isIndex(mt types.MediaType) bool {
	return mt == types.OCIImageIndex || mt == types.DockerManifestList
}

func isManifest(mt types.MediaType) bool {
	return mt == types.OCIManifestSchema1 || mt == types.DockerManifestSchema2
}

// sniffMediaType returns the mediaType field of a manifest, "" if it has
// none or is not a JSON object.
func sniffMediaType(b []byte) types.MediaType {
	var m struct {
		MediaType types.MediaType `json:"mediaType"`
	}
	if jsonUnmarshal(b, &m) != nil {
		return ""
	}
	return m.MediaType
}
