package images_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/offkit/offkit/images"
)

const refName = "org.opencontainers.image.ref.name"

// ociSource writes an OCI layout source holding app (as "team/app:v1"), a
// stand-in signature manifest for it tagged as cosign tags signatures, and
// a two-platform index (as "team/multi:v2"). It returns the directory.
func ociSource(t testing.TB, app v1.Image, idx v1.ImageIndex) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(app, layout.WithAnnotations(map[string]string{refName: "team/app:v1"})); err != nil {
		t.Fatal(err)
	}
	sigTag := "sha256-" + digestOf(t, app).Hex + ".sig"
	if err := p.AppendImage(randomImage(t, 77), layout.WithAnnotations(map[string]string{refName: sigTag})); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{refName: "team/multi:v2"})); err != nil {
		t.Fatal(err)
	}
	return dir
}

func resolve(t testing.TB, src string, platforms ...string) *images.Image {
	t.Helper()
	s, err := images.ParseSource(src)
	if err != nil {
		t.Fatalf("ParseSource(%q): %v", src, err)
	}
	img, err := images.Resolve(context.Background(), s, platforms)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", src, err)
	}
	return img
}

// writeLayout plans imgs and writes the layout into a new directory.
func writeLayout(t testing.TB, imgs ...*images.Image) (string, *images.Plan) {
	t.Helper()
	plan, err := images.NewPlan(imgs...)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "images")
	if err := images.WriteDir(context.Background(), plan, dir); err != nil {
		t.Fatal(err)
	}
	return dir, plan
}

func TestOCILayoutSource(t *testing.T) {
	app := randomImage(t, 1)
	idx, _ := platformIndex(t, 10)
	dir := ociSource(t, app, idx)

	img := resolve(t, "oci:"+dir+":team/app:v1")
	if img.Digest() != digestOf(t, app) {
		t.Errorf("digest %s, want %s", img.Digest(), digestOf(t, app))
	}
	if img.Repository != "team/app" || img.Tag != "v1" || img.Reference != "index.docker.io/team/app:v1" {
		t.Errorf("Repository, Tag, Reference = %q, %q, %q", img.Repository, img.Tag, img.Reference)
	}
	if len(img.Blobs) != 4 {
		t.Errorf("%d blobs, want 4 (manifest, config, 2 layers)", len(img.Blobs))
	}
	if len(img.Artifacts) != 1 || img.Artifacts[0].Role != images.RoleSignature || img.Artifacts[0].Subject != img.Digest() {
		t.Errorf("artifacts %+v, want the signature tagged in the source", img.Artifacts)
	}
	if len(img.Warnings) != 0 {
		t.Errorf("warnings %q for a local source", img.Warnings)
	}
	byDigest := resolve(t, "oci:"+dir+":"+digestOf(t, idx).String(), "linux/arm64")
	if byDigest.Digest() != digestOf(t, idx) || !slices.Equal(byDigest.Platforms, []string{"linux/arm64"}) {
		t.Errorf("index by digest: %s %q", byDigest.Digest(), byDigest.Platforms)
	}
	if byDigest.Repository != "team/multi" || byDigest.Tag != "v2" {
		t.Errorf("index by digest: Repository, Tag = %q, %q, want them from its ref.name", byDigest.Repository, byDigest.Tag)
	}

	out, _ := writeLayout(t, img, byDigest)
	entries, err := images.CheckLayout(os.DirFS(out), img.Digest(), byDigest.Digest())
	if err != nil {
		t.Fatalf("CheckLayout: %v", err)
	}
	if len(entries) != 3 {
		t.Errorf("%d entries, want 3", len(entries))
	}

	for _, tc := range []struct{ src, want string }{
		{"oci:" + dir, "lists 2 images"},
		{"oci:" + dir + ":nope", `no image "nope"`},
		{"oci:" + dir + ":team/multi:v2", ""},
		{"oci:" + filepath.Join(dir, "missing"), "no such file"},
	} {
		s, err := images.ParseSource(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = images.Resolve(context.Background(), s, []string{"windows/amd64"})
		if tc.want == "" {
			tc.want = "no manifest for the platforms"
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Resolve(%q): %v, want an error containing %q", tc.src, err, tc.want)
		}
	}
}

func TestDockerArchiveSource(t *testing.T) {
	app := randomImage(t, 3)
	file := filepath.Join(t.TempDir(), "app.tar")
	tag, err := name.NewTag("team/app:v3")
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(file, tag, app); err != nil {
		t.Fatal(err)
	}
	a := resolve(t, "docker-archive:"+file)
	b := resolve(t, "docker-archive:"+file+":team/app:v3")
	if a.Digest() != b.Digest() {
		t.Errorf("digests %s and %s for one image", a.Digest(), b.Digest())
	}
	if a.Repository != "team/app" || a.Tag != "v3" {
		t.Errorf("Repository, Tag = %q, %q, want them from RepoTags", a.Repository, a.Tag)
	}
	out, _ := writeLayout(t, a)
	if _, err := images.CheckLayout(os.DirFS(out), a.Digest()); err != nil {
		t.Fatalf("CheckLayout: %v", err)
	}
	s, err := images.ParseSource("docker-archive:" + file + ":team/other:v3")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := images.Resolve(context.Background(), s, nil); err == nil {
		t.Errorf("Resolve of a tag the archive does not hold succeeded")
	}
}

// TestPlanDeterministic: the same images give the same layout, byte for
// byte, whatever the order they are given in; a blob shared by two images
// is stored once.
func TestPlanDeterministic(t *testing.T) {
	base := randomImage(t, 5)
	l, err := base.Layers()
	if err != nil {
		t.Fatal(err)
	}
	other, err := mutate.AppendLayers(randomImage(t, 6), l[0])
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "src")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range []v1.Image{base, other} {
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{refName: []string{"a", "b"}[i]})); err != nil {
			t.Fatal(err)
		}
	}
	read := func(dir string) map[string][]byte {
		files := map[string][]byte{}
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			rel, _ := filepath.Rel(dir, path)
			files[filepath.ToSlash(rel)] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return files
	}
	d1, p1 := writeLayout(t, resolve(t, "oci:"+dir+":a"), resolve(t, "oci:"+dir+":b"))
	d2, p2 := writeLayout(t, resolve(t, "oci:"+dir+":b"), resolve(t, "oci:"+dir+":a"))
	f1, f2 := read(d1), read(d2)
	if len(f1) != len(f2) {
		t.Fatalf("%d and %d files", len(f1), len(f2))
	}
	for k, v := range f1 {
		if !bytes.Equal(v, f2[k]) {
			t.Errorf("%s differs between two plans of the same images", k)
		}
	}
	if !slices.Equal(p1.Files(), p2.Files()) {
		t.Errorf("Files differ")
	}
	// 2 manifests, 2 configs, 2+3 layers of which one is shared, index.json, oci-layout.
	if got := len(p1.Files()); got != 2+2+4+2 {
		t.Errorf("%d files, want 10 (the shared layer once)", got)
	}
	for _, f := range p1.Files() {
		if int64(len(f1[f.Path])) != f.Size {
			t.Errorf("%s: %d bytes written, Files says %d", f.Path, len(f1[f.Path]), f.Size)
		}
	}
	wantIndex := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":`
	if !strings.HasPrefix(string(f1["index.json"]), wantIndex) || !strings.Contains(string(f1["index.json"]), `"annotations":{"dev.offkit.image.role":"image","dev.offkit.image.tag":"a","org.opencontainers.image.ref.name":"a"}`) {
		t.Errorf("index.json:\n%s", f1["index.json"])
	}
}

// TestPlanOpenChecksDigest: a source that changes after Resolve is caught
// while its blob streams.
func TestPlanOpenChecksDigest(t *testing.T) {
	app := randomImage(t, 8)
	idx, _ := platformIndex(t, 20)
	dir := ociSource(t, app, idx)
	img := resolve(t, "oci:"+dir+":team/app:v1")
	plan, err := images.NewPlan(img)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := app.Layers()
	if err != nil {
		t.Fatal(err)
	}
	h := digestOf(t, layers[0])
	path := filepath.Join(dir, "blobs", "sha256", h.Hex)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rc, err := plan.Open(context.Background(), "blobs/sha256/"+h.Hex)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); !errors.Is(err, images.ErrDigestMismatch) {
		t.Errorf("reading a changed blob: %v, want ErrDigestMismatch", err)
	}
	if err := images.WriteDir(context.Background(), plan, filepath.Join(t.TempDir(), "out")); !errors.Is(err, images.ErrDigestMismatch) {
		t.Errorf("WriteDir with a changed blob: %v, want ErrDigestMismatch", err)
	}
}
