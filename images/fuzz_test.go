package images_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/offkit/offkit/images"
)

// FuzzCheckLayout feeds CheckLayout an untrusted index.json and manifest,
// next to the blobs of a real layout. It must never panic, and whatever it
// accepts must be a layout every one of whose entries can be opened.
func FuzzCheckLayout(f *testing.F) {
	app := randomImage(f, 1)
	idx, _ := platformIndex(f, 10)
	src := ociSource(f, app, idx)
	img := resolve(f, "oci:"+src+":team/app:v1")
	multi := resolve(f, "oci:"+src+":team/multi:v2", "linux/amd64")
	dir, _ := writeLayout(f, img, multi)
	base := fstest.MapFS{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		base[filepath.ToSlash(rel)] = &fstest.MapFile{Data: b, Mode: 0o644}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	index := base["index.json"].Data
	f.Add(index, base["blobs/sha256/"+img.Digest().Hex].Data)
	f.Add(index, base["blobs/sha256/"+multi.Digest().Hex].Data)
	f.Add([]byte(`{"schemaVersion":2,"manifests":[]}`), []byte(`{}`))
	for _, seed := range hostileSeeds(f, index, base, img, multi) {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, index, manifest []byte) {
		fsys := fstest.MapFS{}
		for k, v := range base {
			fsys[k] = v
		}
		fsys["index.json"] = &fstest.MapFile{Data: index, Mode: 0o644}
		sum := sha256.Sum256(manifest)
		fsys["blobs/sha256/"+hex.EncodeToString(sum[:])] = &fstest.MapFile{Data: manifest, Mode: 0o644}
		entries, err := images.CheckLayout(fsys)
		if err != nil {
			return
		}
		checkAccepted(t, fsys, entries)
		l, err := images.OpenLayout(fsys)
		if err != nil {
			t.Fatalf("CheckLayout accepts a layout OpenLayout refuses: %v", err)
		}
		if len(l.Entries()) != len(entries) {
			t.Fatalf("OpenLayout reads %d entries, CheckLayout %d", len(l.Entries()), len(entries))
		}
		for _, e := range entries {
			rc, err := l.Open(e.Descriptor)
			if err != nil {
				t.Fatalf("entry %s accepted but cannot be opened: %v", e.Digest(), err)
			}
			var b bytes.Buffer
			if _, err := b.ReadFrom(rc); err != nil {
				t.Fatalf("entry %s accepted but does not read back: %v", e.Digest(), err)
			}
			rc.Close()
		}
	})
}

// checkAccepted checks what CheckLayout must have made sure of in a
// layout it accepted: every entry names a blob with that size and its own
// mediaType, and every image's repository path and tag are OCI names.
func checkAccepted(t *testing.T, fsys fstest.MapFS, entries []images.Entry) {
	t.Helper()
	for _, e := range entries {
		f := fsys["blobs/sha256/"+e.Digest().Hex]
		if f == nil || int64(len(f.Data)) != e.Descriptor.Size {
			t.Fatalf("entry %s accepted without a blob of its size", e.Digest())
		}
		var own struct {
			MediaType types.MediaType `json:"mediaType"`
		}
		if err := json.Unmarshal(f.Data, &own); err != nil || own.MediaType != e.Descriptor.MediaType {
			t.Fatalf("entry %s accepted as a %s, but the blob's own mediaType is %q (%v)", e.Digest(), e.Descriptor.MediaType, own.MediaType, err)
		}
		if e.Role != images.RoleImage {
			continue
		}
		if _, ok := e.Descriptor.Annotations[images.AnnotationRepository]; ok {
			if err := images.CheckRepositoryPath(e.Repository); err != nil {
				t.Fatalf("entry %s accepted with repository %q: %v", e.Digest(), e.Repository, err)
			}
		}
		if _, ok := e.Descriptor.Annotations[images.AnnotationTag]; ok {
			if err := images.CheckTag(e.Tag); err != nil {
				t.Fatalf("entry %s accepted with tag %q: %v", e.Digest(), e.Tag, err)
			}
		}
	}
}

// hostileSeeds returns (index.json, manifest) pairs for FuzzCheckLayout
// from the classes in hostileCases, made against the real layout base:
// its multi index named many times with different platforms, a manifest
// without mediaType declared as an index, a manifest passed off as a
// layer, sizes that do not match, and repository paths and tags that are
// not names.
func hostileSeeds(t testing.TB, index []byte, base fstest.MapFS, img, multi *images.Image) [][2][]byte {
	var im v1.IndexManifest
	if err := json.Unmarshal(index, &im); err != nil {
		t.Fatal(err)
	}
	with := func(edit func(*v1.IndexManifest)) []byte {
		b, err := json.Marshal(im)
		if err != nil {
			t.Fatal(err)
		}
		var c v1.IndexManifest
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		edit(&c)
		if b, err = json.Marshal(c); err != nil {
			t.Fatal(err)
		}
		return b
	}
	entry := func(c *v1.IndexManifest, h v1.Hash) *v1.Descriptor {
		for i := range c.Manifests {
			if c.Manifests[i].Digest == h {
				return &c.Manifests[i]
			}
		}
		t.Fatalf("index.json has no entry %s", h)
		return nil
	}
	var appManifest v1.Manifest
	if err := json.Unmarshal(base["blobs/sha256/"+img.Digest().Hex].Data, &appManifest); err != nil {
		t.Fatal(err)
	}
	noMediaType := appManifest
	noMediaType.MediaType = ""
	noMediaType.Config.Digest = v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)} // absent
	noMT, err := json.Marshal(noMediaType)
	if err != nil {
		t.Fatal(err)
	}
	asLayer := appManifest
	asLayer.Layers = append(slices.Clone(asLayer.Layers), v1.Descriptor{MediaType: types.OCILayer, Size: img.Descriptor.Size, Digest: img.Digest()})
	layerB, err := json.Marshal(asLayer)
	if err != nil {
		t.Fatal(err)
	}
	extra := func(b []byte, mt types.MediaType) func(*v1.IndexManifest) {
		return func(c *v1.IndexManifest) {
			sum := sha256.Sum256(b)
			c.Manifests = append(c.Manifests, v1.Descriptor{MediaType: mt, Size: int64(len(b)), Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])},
				Annotations: map[string]string{images.AnnotationRole: string(images.RoleImage)}})
		}
	}
	empty := []byte(`{}`)
	return [][2][]byte{
		{with(func(c *v1.IndexManifest) {
			m := *entry(c, multi.Digest())
			for _, p := range []string{"linux/amd64", "linux/arm64/v8", "linux/amd64/v2", "linux/386", "linux/amd64,linux/arm64/v8"} {
				d := m
				d.Annotations = maps.Clone(m.Annotations)
				d.Annotations[images.AnnotationPlatforms] = p
				c.Manifests = append(c.Manifests, d)
			}
		}), empty},
		{with(extra(noMT, types.OCIImageIndex)), noMT},
		{with(extra(noMT, types.OCIManifestSchema1)), noMT},
		{with(extra(layerB, types.OCIManifestSchema1)), layerB},
		{with(func(c *v1.IndexManifest) { entry(c, img.Digest()).MediaType = types.OCIImageIndex }), empty},
		{with(func(c *v1.IndexManifest) { entry(c, img.Digest()).Size++ }), empty},
		{with(func(c *v1.IndexManifest) {
			entry(c, img.Digest()).Annotations[images.AnnotationRepository] = "team/../../prod/postgres"
		}), empty},
		{with(func(c *v1.IndexManifest) {
			entry(c, img.Digest()).Annotations[images.AnnotationRepository] = "Team/./app"
		}), empty},
		{with(func(c *v1.IndexManifest) { entry(c, img.Digest()).Annotations[images.AnnotationTag] = ".v1" }), empty},
	}
}

// blobSep separates the files of a FuzzCheckLayoutArchive input.
var blobSep = []byte("\n-- blob --\n")

// FuzzCheckLayoutArchive feeds CheckLayout whole layouts: index.json, then
// blobs, separated by blobSep, each blob stored under its digest (so
// mutating one does not merely break its name). It is seeded with
// hostileCases. CheckLayout must never panic, must allocate no more than
// linearly in the input, and what it accepts must be what checkAccepted
// expects.
func FuzzCheckLayoutArchive(f *testing.F) {
	for _, tc := range hostileCases() {
		l := newMemLayout(f)
		tc.build(l)
		parts := [][]byte{l.fs["index.json"].Data}
		for _, name := range slices.Sorted(maps.Keys(l.fs)) {
			if strings.HasPrefix(name, "blobs/") {
				parts = append(parts, l.fs[name].Data)
			}
		}
		f.Add(bytes.Join(parts, blobSep))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parts := bytes.Split(data, blobSep)
		fsys := fstest.MapFS{
			"oci-layout": {Data: []byte(`{"imageLayoutVersion":"1.0.0"}` + "\n")},
			"index.json": {Data: parts[0]},
		}
		for _, b := range parts[1:] {
			sum := sha256.Sum256(b)
			fsys["blobs/sha256/"+hex.EncodeToString(sum[:])] = &fstest.MapFile{Data: b}
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		entries, err := images.CheckLayout(fsys)
		runtime.ReadMemStats(&after)
		if alloc, limit := after.TotalAlloc-before.TotalAlloc, uint64(1000*len(data))+64<<20; alloc > limit {
			t.Fatalf("CheckLayout of %d bytes allocated %d bytes, over %d", len(data), alloc, limit)
		}
		if err != nil {
			return
		}
		checkAccepted(t, fsys, entries)
	})
}
