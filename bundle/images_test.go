package bundle_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/images"
	"github.com/offkit/offkit/internal/registrytest"
	"github.com/offkit/offkit/manifest"
)

// imageSpec is a kit with a regular component and three images from an
// OCI layout: app, tools (which shares app's layers) and a two-platform
// index filtered to linux/amd64.
const imageSpec = `name: imgkit
version: 1.0.0
components:
  - name: migrations
    type: migrations
    from: src/m
    path: migrations
  - name: app
    image: oci:img:example.org/team/app:v1
    description: the application
    sbom: src/app.spdx.json
  - name: tools
    image: oci:img:example.org/team/tools:v2
  - name: multi
    image: oci:img:multi
    platforms: [linux/amd64]
`

// imageTree is what writeImageSpec wrote: the images by name.
type imageTree struct {
	spec  string
	app   v1.Image
	tools v1.Image
	multi v1.ImageIndex
	plats map[string]v1.Image
}

// writeImageSpec writes imageSpec, its sources and its OCI layout into dir.
func writeImageSpec(t testing.TB, dir string) *imageTree {
	t.Helper()
	tr := &imageTree{app: bundletest.RandomImage(t, 1)}
	tr.tools = bundletest.Extend(t, tr.app, 2)
	tr.multi, tr.plats = bundletest.PlatformIndex(t, 10)
	bundletest.WriteLayout(t, filepath.Join(dir, "img"), map[string]any{
		"example.org/team/app:v1": tr.app, "example.org/team/tools:v2": tr.tools, "multi": tr.multi,
	})
	for name, content := range map[string]string{"src/m/001.sql": "CREATE TABLE t (id int);\n", "src/app.spdx.json": bundletest.SBOM} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tr.spec = filepath.Join(dir, "kit.yaml")
	if err := os.WriteFile(tr.spec, []byte(imageSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	return tr
}

// blobsOf returns the digests of an image's manifest, config and layers.
func blobsOf(t testing.TB, img v1.Image) []v1.Hash {
	t.Helper()
	out := []v1.Hash{bundletest.Digest(t, img)}
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, cfg)
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		out = append(out, bundletest.Digest(t, l))
	}
	return out
}

func TestBuildImages(t *testing.T) {
	tr := writeImageSpec(t, t.TempDir())
	kit := bundletest.Build(t, tr.spec, nil)
	files, head := bundletest.Payload(t, kit) // the reader accepts it, checking every digest
	m := head.Manifest

	if m.FormatVersion != manifest.FormatVersion2 || head.Statement.PredicateType != manifest.PredicateTypeV2 || m.Images == nil {
		t.Fatalf("formatVersion %d, predicateType %s, images %v: want a v2 kit", m.FormatVersion, head.Statement.PredicateType, m.Images)
	}

	// The layout holds each blob once: app's layers are shared with tools,
	// and only the amd64 image of the index is carried.
	want := map[string]bool{"images/oci-layout": true, "images/index.json": true}
	add := func(hs ...v1.Hash) {
		for _, h := range hs {
			want["images/blobs/sha256/"+h.Hex] = true
		}
	}
	add(blobsOf(t, tr.app)...)
	add(blobsOf(t, tr.tools)...)
	add(bundletest.Digest(t, tr.multi))
	add(blobsOf(t, tr.plats["linux/amd64"])...)
	if len(m.Images.Files) != len(want) {
		t.Errorf("images has %d files, want %d (each blob once)", len(m.Images.Files), len(want))
	}
	arm := "images/blobs/sha256/" + bundletest.Digest(t, tr.plats["linux/arm64/v8"]).Hex
	sums := head.Sums.Map()
	subjects, _ := head.Statement.Subjects()
	var size int64
	for i, f := range m.Images.Files {
		if !want[f.Path] {
			t.Errorf("unexpected layout file %s", f.Path)
		}
		if f.Path == arm {
			t.Errorf("the arm64 image, filtered out, is carried")
		}
		if i > 0 && m.Images.Files[i-1].Path >= f.Path {
			t.Errorf("layout files not sorted: %s after %s", f.Path, m.Images.Files[i-1].Path)
		}
		if f.Mode != manifest.ModeFile {
			t.Errorf("%s: mode %s", f.Path, f.Mode)
		}
		sum := sha256.Sum256(files[f.Path])
		if f.Digest != manifest.Digest(sum) || sums[f.Path] != f.Digest || subjects[f.Path] != f.Digest {
			t.Errorf("%s: digest not in agreement between content, manifest, SHA256SUMS and statement", f.Path)
		}
		if hx, ok := strings.CutPrefix(f.Path, "images/blobs/sha256/"); ok && hx != hex.EncodeToString(sum[:]) {
			t.Errorf("blob %s has digest %x", f.Path, sum)
		}
		size += f.Size
	}
	if m.Images.Size != size || m.FileCount != 1+len(m.Images.Files) || m.TotalSize != int64(len("CREATE TABLE t (id int);\n"))+size {
		t.Errorf("images size %d (files %d), fileCount %d, totalSize %d", m.Images.Size, size, m.FileCount, m.TotalSize)
	}

	// Image components, pinned in index.json.
	var idx v1.IndexManifest
	if err := json.Unmarshal(files["images/index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	pinned := map[string]string{}
	for _, d := range idx.Manifests {
		if d.Annotations[images.AnnotationRole] == string(images.RoleImage) {
			pinned[d.Digest.String()] = d.Annotations[images.AnnotationPlatforms]
		}
	}
	wantRefs := map[string]manifest.ImageRef{
		"app": {Reference: "oci:img:example.org/team/app:v1", Repository: "example.org/team/app", Tag: "v1",
			Digest: digestOf(bundletest.Digest(t, tr.app)), MediaType: "application/vnd.oci.image.manifest.v1+json"},
		"tools": {Reference: "oci:img:example.org/team/tools:v2", Repository: "example.org/team/tools", Tag: "v2",
			Digest: digestOf(bundletest.Digest(t, tr.tools)), MediaType: "application/vnd.oci.image.manifest.v1+json"},
		"multi": {Reference: "oci:img:multi", Tag: "multi", Digest: digestOf(bundletest.Digest(t, tr.multi)),
			MediaType: "application/vnd.oci.image.index.v1+json", Platforms: []string{"linux/amd64"}},
	}
	for _, c := range m.Components {
		w, ok := wantRefs[c.Name]
		if !ok {
			if c.Image != nil || c.Type == manifest.TypeImage {
				t.Errorf("component %s: %+v", c.Name, c)
			}
			continue
		}
		if c.Image == nil || c.Type != manifest.TypeImage || c.Path != manifest.ImagesPath || c.Size != 0 || len(c.Files) != 0 {
			t.Fatalf("component %s: %+v", c.Name, c)
		}
		got, _ := json.Marshal(c.Image)
		wantJSON, _ := json.Marshal(w)
		if !bytes.Equal(got, wantJSON) {
			t.Errorf("component %s image:\n got %s\nwant %s", c.Name, got, wantJSON)
		}
		if _, ok := pinned[c.Image.Digest.String()]; !ok {
			t.Errorf("component %s: %s is not an image of index.json", c.Name, c.Image.Digest)
		}
	}
	if pinned[wantRefs["multi"].Digest.String()] != "linux/amd64" {
		t.Errorf("index.json platforms annotation of multi = %q", pinned[wantRefs["multi"].Digest.String()])
	}
	if m.Components[1].SBOM == nil || head.SBOMs["sbom/app.spdx.json"] == nil {
		t.Errorf("app's SBOM is not carried")
	}

	// Inspect lists the images.
	in := head.Inspect()
	if len(in.Images) != 3 || in.Images[2].Component != "multi" || len(in.Images[2].Platforms) != 1 || in.Images[0].Digest != wantRefs["app"].Digest {
		t.Errorf("Inspect().Images = %+v", in.Images)
	}

	// Deterministic: built again from another checkout, byte for byte.
	tr2 := writeImageSpec(t, filepath.Join(t.TempDir(), "elsewhere"))
	if again := bundletest.Build(t, tr2.spec, nil); !bytes.Equal(kit, again) {
		t.Errorf("two builds differ: %d and %d bytes", len(kit), len(again))
	}
}

func digestOf(h v1.Hash) manifest.Digest {
	d, err := manifest.ParseHex(h.Hex)
	if err != nil {
		panic(err)
	}
	return d
}

// testSigner signs with a fresh ECDSA P-256 key.
type testSigner struct{ k *ecdsa.PrivateKey }

func newTestSigner(t testing.TB) *testSigner {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testSigner{k}
}

func (s *testSigner) KeyID() string { return "test" }
func (s *testSigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	h := sha256.Sum256(msg)
	return ecdsa.SignASN1(rand.Reader, s.k, h[:])
}

// TestSignImages: signing re-emits a v2 kit's payload, layout included,
// with the payload bytes unchanged.
func TestSignImages(t *testing.T) {
	tr := writeImageSpec(t, t.TempDir())
	kit := bundletest.Build(t, tr.spec, nil)
	var signed bytes.Buffer
	h, err := bundle.Sign(context.Background(), &signed, bytes.NewReader(kit), newTestSigner(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Envelope.Signatures) != 1 || h.Manifest.FormatVersion != manifest.FormatVersion2 {
		t.Fatalf("signed head: %d signatures, format %d", len(h.Envelope.Signatures), h.Manifest.FormatVersion)
	}
	before, _ := bundletest.Payload(t, kit)
	after, _ := bundletest.Payload(t, signed.Bytes())
	if len(before) != len(after) {
		t.Fatalf("payload has %d files after signing, %d before", len(after), len(before))
	}
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Errorf("%s changed in signing", name)
		}
	}
	if !bytes.HasSuffix(signed.Bytes(), kit[len(kit)-4096:]) {
		t.Errorf("the compressed payload changed in signing")
	}
}

// TestBuildImagesRefused: the mistakes Build and ResolveImages refuse.
func TestBuildImagesRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tr := writeImageSpec(t, dir)
	spec := parseSpec(t, tr.spec)

	// An image spec without WithImages, and WithImages without images.
	if _, err := bundle.Build(ctx, new(bytes.Buffer), spec, dir, bundle.WithCreated(bundletest.Epoch)); err == nil || !strings.Contains(err.Error(), "WithImages") {
		t.Errorf("Build of an image spec without WithImages: %v", err)
	}
	imgs, err := bundle.ResolveImages(ctx, spec, dir)
	if err != nil {
		t.Fatal(err)
	}
	plain := parseSpec(t, bundletest.WriteSpec(t, t.TempDir()))
	if _, err := bundle.Build(ctx, new(bytes.Buffer), plain, dir, bundle.WithCreated(bundletest.Epoch), bundle.WithImages(imgs.Plan, imgs.Refs)); err == nil {
		t.Errorf("Build of a spec without images, WithImages: no error")
	}
	// A ref whose digest the plan does not hold.
	refs := map[string]manifest.ImageRef{}
	for k, v := range imgs.Refs {
		refs[k] = v
	}
	bad := refs["app"]
	bad.Digest = manifest.SHA256([]byte("other"))
	refs["app"] = bad
	if _, err := bundle.Build(ctx, new(bytes.Buffer), spec, dir, bundle.WithCreated(bundletest.Epoch), bundle.WithImages(imgs.Plan, refs)); err == nil || !strings.Contains(err.Error(), "not an image of the planned layout") {
		t.Errorf("Build with a ref not in the plan: %v", err)
	}

	// Sources that do not resolve are reported at their kit.yaml line.
	for _, c := range []struct {
		name, from, to string
		malformed      bool
	}{
		{"missing ref", "oci:img:multi", "oci:img:nope", true},
		{"bad platform filter", "linux/amd64]", "windows/amd64]", true},
		{"bad source", "oci:img:multi", "dir:img", true},
		{"missing layout", "oci:img:multi", "oci:nowhere:multi", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			y := strings.Replace(imageSpec, c.from, c.to, 1)
			p := filepath.Join(dir, "bad.yaml")
			if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := bundle.ResolveImages(ctx, parseSpec(t, p), dir)
			var fe *manifest.FieldError
			if !errors.As(err, &fe) || fe.Field != "components[3].image" || fe.Line != 15 {
				t.Fatalf("err = %v, want a FieldError at components[3].image, line 15", err)
			}
			if got := errors.Is(err, manifest.ErrMalformed); got != c.malformed {
				t.Errorf("errors.Is(%v, ErrMalformed) = %v, want %v", err, got, c.malformed)
			}
		})
	}
}

// TestBuildImagesSourceChanged: a layer whose content no longer matches
// its digest when the payload is written fails the build, like a source
// file that changed.
func TestBuildImagesSourceChanged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tr := writeImageSpec(t, dir)
	spec := parseSpec(t, tr.spec)
	imgs, err := bundle.ResolveImages(ctx, spec, dir)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := tr.app.Layers()
	blob := filepath.Join(dir, "img", "blobs", "sha256", bundletest.Digest(t, layers[0]).Hex)
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = bundle.Build(ctx, new(bytes.Buffer), spec, dir, bundle.WithCreated(bundletest.Epoch), bundle.WithImages(imgs.Plan, imgs.Refs))
	if !errors.Is(err, bundle.ErrSourceChanged) || !errors.Is(err, images.ErrDigestMismatch) {
		t.Fatalf("err = %v, want ErrSourceChanged wrapping images.ErrDigestMismatch", err)
	}
}

func parseSpec(t testing.TB, path string) *manifest.Spec {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := manifest.ParseSpec(data, path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rewritePredicate returns kit with its (unsigned) statement's predicate
// and predicate type edited.
func rewritePredicate(t *testing.T, kit []byte, edit func(st map[string]any, pred map[string]any)) []byte {
	t.Helper()
	return bundletest.Rewrite(t, kit, func(es []*bundletest.Entry) []*bundletest.Entry {
		e := bundletest.Find(es, manifest.EnvelopeName)
		_, payload, err := manifest.ParseEnvelope(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		var st map[string]any
		if err := json.Unmarshal(payload, &st); err != nil {
			t.Fatal(err)
		}
		pred := st["predicate"].(map[string]any)
		edit(st, pred)
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if e.Data, err = manifest.MarshalEnvelope(manifest.NewEnvelope(b)); err != nil {
			t.Fatal(err)
		}
		return es
	})
}

// TestReaderImagesVersion: a v1 manifest with images, or a v2 manifest
// without, is malformed (exit 3), and so is a v2 manifest under the v1
// predicate type.
func TestReaderImagesVersion(t *testing.T) {
	tr := writeImageSpec(t, t.TempDir())
	v2 := bundletest.Build(t, tr.spec, nil)
	v1 := bundletest.Kit(t)
	if _, err := bundle.Open(bytes.NewReader(bundletest.Rewrite(t, v2, func(es []*bundletest.Entry) []*bundletest.Entry { return es }))); err != nil {
		t.Fatalf("a v2 kit rewritten unchanged: %v", err)
	}
	for _, c := range []struct {
		name string
		kit  []byte
		want string
	}{
		{"v1 with images", rewritePredicate(t, v2, func(st, p map[string]any) {
			st["predicateType"], p["formatVersion"] = manifest.PredicateType, 1
		}), "images"},
		{"v2 without images", rewritePredicate(t, v2, func(st, p map[string]any) { delete(p, "images") }), "images"},
		{"v2 predicate, v1 type", rewritePredicate(t, v2, func(st, p map[string]any) { st["predicateType"] = manifest.PredicateType }), "predicateType"},
		{"v1 kit with empty images", rewritePredicate(t, v1, func(st, p map[string]any) {
			p["images"] = map[string]any{"path": "images", "size": 0, "files": []any{}}
		}), "images"},
		{"v1 kit with v2 type", rewritePredicate(t, v1, func(st, p map[string]any) { st["predicateType"] = manifest.PredicateTypeV2 }), "predicateType"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := bundle.Open(bytes.NewReader(c.kit))
			if !errors.Is(err, manifest.ErrMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open: %v, want ErrMalformed about %s", err, c.want)
			}
		})
	}
}

// TestBuildImagesRegistry: an image from a real registry, named by tag,
// resolves with a warning to the digest the kit records, and two builds are
// byte-identical.
func TestBuildImagesRegistry(t *testing.T) {
	reg := registrytest.Start(t)
	img := bundletest.RandomImage(t, 42)
	ref, err := name.ParseReference(reg + "/team/runner:1.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials
	dir := t.TempDir()
	spec := filepath.Join(dir, "kit.yaml")
	y := "name: regkit\nversion: 1.0.0\ncomponents:\n  - name: runner\n    image: " + reg + "/team/runner:1.0\n"
	if err := os.WriteFile(spec, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	imgs, err := bundle.ResolveImages(context.Background(), parseSpec(t, spec), dir)
	if err != nil {
		t.Fatal(err)
	}
	digest := bundletest.Digest(t, img).String()
	if len(imgs.Warnings) != 1 || !strings.Contains(imgs.Warnings[0], `component "runner": image `+reg+"/team/runner:1.0 is named by tag: resolved to "+digest) {
		t.Errorf("warnings %q, want one about the tag", imgs.Warnings)
	}
	r := imgs.Refs["runner"]
	if r.Repository != reg+"/team/runner" || r.Tag != "1.0" || r.Digest.String() != digest || r.Reference != reg+"/team/runner:1.0" {
		t.Errorf("ref = %+v", r)
	}
	a := bundletest.Build(t, spec, nil)
	b := bundletest.Build(t, spec, nil)
	if !bytes.Equal(a, b) {
		t.Fatalf("two builds from the registry differ")
	}
	files, head := bundletest.Payload(t, a)
	if head.Manifest.FormatVersion != manifest.FormatVersion2 || len(files) != len(head.Manifest.Images.Files) || head.Manifest.Components[0].Image.Digest.String() != digest {
		t.Errorf("kit: format %d, %d files for %d layout files", head.Manifest.FormatVersion, len(files), len(head.Manifest.Images.Files))
	}
}
