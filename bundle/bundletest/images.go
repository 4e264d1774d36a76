package bundletest

import (
	"math/rand"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RandomImage returns a small OCI image (two 1 KiB layers) made from seed:
// the same seed gives the same image.
func RandomImage(t testing.TB, seed int64) v1.Image {
	t.Helper()
	img, err := random.Image(1024, 2, random.WithSource(rand.NewSource(seed)))
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	return mutate.ConfigMediaType(img, types.OCIConfigJSON)
}

// Extend returns base with one more random layer made from seed: the two
// images share base's layers.
func Extend(t testing.TB, base v1.Image, seed int64) v1.Image {
	t.Helper()
	l, err := random.Layer(512, types.OCILayer, random.WithSource(rand.NewSource(seed)))
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(base, l)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// PlatformIndex returns an OCI index of two images made from seed and
// seed+1, for linux/amd64 and linux/arm64/v8, and the images by platform.
func PlatformIndex(t testing.TB, seed int64) (v1.ImageIndex, map[string]v1.Image) {
	t.Helper()
	imgs := map[string]v1.Image{"linux/amd64": RandomImage(t, seed), "linux/arm64/v8": RandomImage(t, seed+1)}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range []string{"linux/amd64", "linux/arm64/v8"} {
		plat, err := v1.ParsePlatform(p)
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: imgs[p], Descriptor: v1.Descriptor{Platform: plat}})
	}
	return idx, imgs
}

// WriteLayout writes an OCI image layout into dir holding each image or
// index of refs (a v1.Image or v1.ImageIndex) under its
// org.opencontainers.image.ref.name, as "oci:dir:<ref>" selects it.
func WriteLayout(t testing.TB, dir string, refs map[string]any) {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for ref, x := range refs {
		ann := layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref})
		switch x := x.(type) {
		case v1.Image:
			err = p.AppendImage(x, ann)
		case v1.ImageIndex:
			err = p.AppendIndex(x, ann)
		default:
			t.Fatalf("WriteLayout: %T is not an image or index", x)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Digest returns the digest of an image or index.
func Digest(t testing.TB, x interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := x.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
