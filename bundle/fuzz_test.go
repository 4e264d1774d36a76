package bundle_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/manifest"
)

// FuzzReader feeds arbitrary archives to the kit reader, seeded with real
// kits in every compression. It must never panic, and whatever it fully
// accepts must be self-consistent: every file it yields is listed in
// SHA256SUMS with the digest of the bytes it yielded.
func FuzzReader(f *testing.F) {
	spec := bundletest.WriteSpec(f, f.TempDir())
	for _, c := range []bundle.Compression{bundle.None, bundle.Zstd, bundle.Gzip} {
		f.Add(bundletest.Build(f, spec, nil, bundle.WithCompression(c, 0)))
	}
	f.Fuzz(func(t *testing.T, kit []byte) {
		rd, err := bundle.Open(bytes.NewReader(kit))
		if err != nil {
			if !errors.Is(err, manifest.ErrMalformed) && !errors.Is(err, bundle.ErrUnknownFormat) {
				t.Fatalf("Open error not classified as malformed: %v", err)
			}
			return
		}
		defer rd.Close()
		sums := rd.Head.Sums.Map()
		got := map[string]manifest.Digest{}
		for {
			e, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if !errors.Is(err, manifest.ErrMalformed) {
					t.Fatalf("Next error not classified as malformed: %v", err)
				}
				return
			}
			b, err := io.ReadAll(e)
			if err != nil {
				return
			}
			if !e.Dir {
				got[e.Name] = manifest.SHA256(b)
			}
		}
		for name, d := range got {
			if sums[name] != d {
				t.Fatalf("accepted %s with a digest SHA256SUMS does not list", name)
			}
		}
	})
}
