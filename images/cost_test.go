package images_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"testing/fstest"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/offkit/offkit/images"
)

// costIndexes is the number of nested indexes in dupDigestLayout.
const costIndexes = 10

// dupDigestLayout returns a layout with about n descriptors that name the
// same digests over and over with different platforms: index.json lists
// each of costIndexes indexes n/100 times, each time filtered by another
// platform, and each index lists one image manifest 9n/100 times, each
// time for another platform. It is the shape of the layout that once cost
// a verifier minutes of CPU per kilobyte.
func dupDigestLayout(t testing.TB, n int) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{"oci-layout": {Data: []byte(`{"imageLayoutVersion":"1.0.0"}` + "\n")}}
	add := func(b []byte) v1.Hash {
		sum := sha256.Sum256(b)
		h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
		fsys["blobs/sha256/"+h.Hex] = &fstest.MapFile{Data: b}
		return h
	}
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	layer := []byte("layer")
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	m := mustJSON(v1.Manifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(config)), Digest: add(config)},
		Layers: []v1.Descriptor{{MediaType: types.OCILayer, Size: int64(len(layer)), Digest: add(layer)}},
	})
	mDigest := add(m)
	perIndex, perTop := n*9/100, n/100
	var top []v1.Descriptor
	for j := range costIndexes {
		im := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Annotations: map[string]string{"n": fmt.Sprint(j)}}
		for i := range perIndex {
			im.Manifests = append(im.Manifests, v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: int64(len(m)), Digest: mDigest,
				Platform: &v1.Platform{OS: "linux", Architecture: "amd64", Variant: fmt.Sprintf("v%d", i)}})
		}
		b := mustJSON(im)
		d := add(b)
		for i := range perTop {
			top = append(top, v1.Descriptor{MediaType: types.OCIImageIndex, Size: int64(len(b)), Digest: d, Annotations: map[string]string{
				images.AnnotationRole:      string(images.RoleImage),
				images.AnnotationPlatforms: fmt.Sprintf("linux/amd64/v%d", i),
			}})
		}
	}
	fsys["index.json"] = &fstest.MapFile{Data: mustJSON(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: top})}
	return fsys
}

// TestCheckLayoutCostLinear: checking a layout that names the same digests
// over and over costs allocations linear in its size: the allocations and
// bytes allocated per descriptor at 100k descriptors are within twice those
// at 1k. (Counts, not time: the test is as stable on a loaded machine.)
func TestCheckLayoutCostLinear(t *testing.T) {
	type cost struct{ mallocs, bytes float64 }
	measure := func(n int) cost {
		fsys := dupDigestLayout(t, n)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := images.CheckLayout(fsys); err != nil {
			t.Fatalf("n=%d: CheckLayout: %v", n, err)
		}
		runtime.ReadMemStats(&after)
		c := cost{float64(after.Mallocs-before.Mallocs) / float64(n), float64(after.TotalAlloc-before.TotalAlloc) / float64(n)}
		t.Logf("n=%6d: %8.1f allocations and %8.0f bytes per descriptor (%d allocations, %d bytes)",
			n, c.mallocs, c.bytes, after.Mallocs-before.Mallocs, after.TotalAlloc-before.TotalAlloc)
		return c
	}
	base := measure(1000)
	for _, n := range []int{10_000, 100_000} {
		c := measure(n)
		if c.mallocs > 2*base.mallocs || c.bytes > 2*base.bytes {
			t.Errorf("n=%d: %.1f allocations and %.0f bytes per descriptor, over twice the %.1f and %.0f at n=1000: the check is not linear",
				n, c.mallocs, c.bytes, base.mallocs, base.bytes)
		}
	}
}
