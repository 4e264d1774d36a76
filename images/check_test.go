package images_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/offkit/offkit/images"
)

// copyDir copies the regular files of a layout directory.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "images")
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func blobFile(dir string, h v1.Hash) string { return filepath.Join(dir, "blobs", "sha256", h.Hex) }

// TestCheckLayoutTampered: every way of breaking a layout is refused with
// an error wrapping ErrLayout that names the file.
func TestCheckLayoutTampered(t *testing.T) {
	app := randomImage(t, 1)
	idx, _ := platformIndex(t, 10)
	src := ociSource(t, app, idx)
	img := resolve(t, "oci:"+src+":team/app:v1")
	multi := resolve(t, "oci:"+src+":team/multi:v2", "linux/amd64")
	good, _ := writeLayout(t, img, multi)
	if _, err := images.CheckLayout(os.DirFS(good), img.Digest(), multi.Digest()); err != nil {
		t.Fatalf("CheckLayout of the untouched layout: %v", err)
	}
	layers, err := app.Layers()
	if err != nil {
		t.Fatal(err)
	}
	layer := digestOf(t, layers[1])
	layerPath := "blobs/sha256/" + layer.Hex
	sig := img.Artifacts[0].Descriptor.Digest
	other := randomImage(t, 99)
	otherDigest := digestOf(t, other)
	otherRaw, err := other.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	write := func(path string, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	editIndex := func(dir, old, new string) {
		b, err := os.ReadFile(filepath.Join(dir, "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("index.json has no %q", old)
		}
		write(filepath.Join(dir, "index.json"), []byte(strings.Replace(string(b), old, new, 1)))
	}

	for _, tc := range []struct {
		name     string
		tamper   func(dir string)
		pinned   []v1.Hash
		wantPath string
		wantMsg  string
	}{
		{"flipped byte", func(dir string) {
			b, _ := os.ReadFile(blobFile(dir, layer))
			b[len(b)/2] ^= 0x80
			write(blobFile(dir, layer), b)
		}, nil, layerPath, "content has digest"},
		{"missing blob", func(dir string) { os.Remove(blobFile(dir, layer)) }, nil, layerPath, "missing"},
		{"unreferenced blob", func(dir string) { write(blobFile(dir, otherDigest), otherRaw) }, nil,
			"blobs/sha256/" + otherDigest.Hex, "unreferenced"},
		{"blob named wrongly", func(dir string) {
			os.Rename(blobFile(dir, layer), filepath.Join(dir, "blobs", "sha256", strings.Repeat("ab", 32)))
		}, nil, "blobs/sha256/" + strings.Repeat("ab", 32), "content has digest"},
		{"upper-case blob name", func(dir string) {
			os.Rename(blobFile(dir, layer), filepath.Join(dir, "blobs", "sha256", strings.ToUpper(layer.Hex)))
		}, nil, "blobs/sha256/" + strings.ToUpper(layer.Hex), "unexpected file"},
		{"unexpected file", func(dir string) { write(filepath.Join(dir, "README"), []byte("hi")) }, nil, "README", "unexpected file"},
		{"unexpected directory", func(dir string) { os.Mkdir(filepath.Join(dir, "blobs", "sha512"), 0o755) }, nil, "blobs/sha512", "unexpected directory"},
		{"symlink", func(dir string) {
			os.Rename(blobFile(dir, layer), filepath.Join(dir, "elsewhere"))
			os.Symlink(filepath.Join(dir, "elsewhere"), blobFile(dir, layer))
		}, nil, layerPath, "not a regular file"},
		{"pinned digest absent", func(string) {}, []v1.Hash{otherDigest}, "index.json", "lists no image " + otherDigest.String()},
		{"pinned digest is a signature", func(string) {}, []v1.Hash{sig}, "index.json", "lists no image"},
		{"an unpinned extra image", func(string) {}, []v1.Hash{img.Digest()}, "index.json", "image " + multi.Digest().String() + " is not pinned"},
		{"missing index.json", func(dir string) { os.Remove(filepath.Join(dir, "index.json")) }, nil, "index.json", "missing"},
		{"missing oci-layout", func(dir string) { os.Remove(filepath.Join(dir, "oci-layout")) }, nil, "oci-layout", "missing"},
		{"bad oci-layout", func(dir string) { write(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"2.0.0"}`)) }, nil, "oci-layout", "imageLayoutVersion"},
		{"duplicate key in index.json", func(dir string) { editIndex(dir, `{"schemaVersion":2,`, `{"schemaVersion":2,"schemaVersion":2,`) }, nil, "index.json", "duplicate key"},
		{"wrong size in index.json", func(dir string) {
			editIndex(dir, `"size":`+sizeOf(t, img), `"size":1`+sizeOf(t, img))
		}, nil, "blobs/sha256/" + img.Digest().Hex, "gives size"},
		{"unknown role", func(dir string) { editIndex(dir, `"dev.offkit.image.role":"image"`, `"dev.offkit.image.role":"evil"`) }, nil, "index.json", "not one of"},
		{"signature moved to another subject", func(dir string) {
			editIndex(dir, `"dev.offkit.image.subject":"`+img.Digest().String(), `"dev.offkit.image.subject":"`+otherDigest.String())
		}, nil, "index.json", "want \"sha256-" + otherDigest.Hex + ".sig\""},
		{"filtered index claims fewer platforms", func(dir string) {
			editIndex(dir, `"dev.offkit.image.platforms":"linux/amd64"`, `"dev.offkit.image.platforms":"linux/arm64/v8"`)
		}, nil, "", "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, good)
			tc.tamper(dir)
			_, err := images.CheckLayout(os.DirFS(dir), tc.pinned...)
			if !errors.Is(err, images.ErrLayout) {
				t.Fatalf("CheckLayout: %v, want an error wrapping ErrLayout", err)
			}
			var le *images.LayoutError
			if !errors.As(err, &le) {
				t.Fatalf("CheckLayout: %T %v, want a *LayoutError", err, err)
			}
			if tc.wantPath != "" && le.Path != tc.wantPath {
				t.Errorf("error names %q, want %q: %v", le.Path, tc.wantPath, err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not say %q", err, tc.wantMsg)
			}
		})
	}
}

func sizeOf(t testing.TB, img *images.Image) string {
	t.Helper()
	return strconv.FormatInt(img.Descriptor.Size, 10)
}

func TestParseSource(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		in                    string
		kind                  images.Kind
		path, selector, descr string
		wantErr               string
	}{
		{in: "registry.example/team/app:1.2", kind: images.Registry, descr: "registry.example/team/app:1.2"},
		{in: "alpine", kind: images.Registry, descr: "index.docker.io/library/alpine:latest"},
		{in: "docker:24", kind: images.Registry, descr: "index.docker.io/library/docker:24"},
		{in: "127.0.0.1:5000/app@" + digest, kind: images.Registry, descr: "127.0.0.1:5000/app@" + digest},
		{in: "oci:/tmp/layout", kind: images.OCILayout, path: "/tmp/layout"},
		{in: "oci:rel/dir:team/app:v1", kind: images.OCILayout, path: "rel/dir", selector: "team/app:v1"},
		{in: "oci:dir:" + digest, kind: images.OCILayout, path: "dir", selector: digest},
		{in: "docker-archive:app.tar", kind: images.DockerArchive, path: "app.tar"},
		{in: "docker-archive:app.tar:team/app:v1", kind: images.DockerArchive, path: "app.tar", selector: "team/app:v1"},
		{in: "", wantErr: "empty source"},
		{in: "docker://alpine", wantErr: "no scheme"},
		{in: "dir:/tmp/x", wantErr: "unsupported transport"},
		{in: "oci:", wantErr: "no path"},
		{in: "oci:dir:", wantErr: "empty REF"},
		{in: "oci:dir:sha256:zz", wantErr: "bad digest"},
		{in: "docker-archive:f.tar:Bad Name", wantErr: "not an image name"},
		{in: "app\n:1", wantErr: "control character"},
		{in: "UPPER/case", wantErr: "not a registry reference"},
		{in: strings.Repeat("a", 5000), wantErr: "longer than"},
	} {
		s, err := images.ParseSource(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, images.ErrSource) {
				t.Errorf("ParseSource(%q): %v, want an ErrSource error containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSource(%q): %v", tc.in, err)
			continue
		}
		if s.Kind != tc.kind || s.Path != tc.path || s.Selector != tc.selector || s.String() != tc.in {
			t.Errorf("ParseSource(%q) = %v %q %q, want %v %q %q", tc.in, s.Kind, s.Path, s.Selector, tc.kind, tc.path, tc.selector)
		}
		if tc.descr != "" && s.Ref.Name() != tc.descr {
			t.Errorf("ParseSource(%q).Ref = %s, want %s", tc.in, s.Ref.Name(), tc.descr)
		}
	}
}

func TestDestination(t *testing.T) {
	e := images.Entry{Role: images.RoleImage, Repository: "team/app"}
	for _, tc := range []struct {
		prefix string
		opts   []images.Option
		want   string
		ok     bool
	}{
		{"registry.site/mirror", nil, "registry.site/mirror/team/app", true},
		{"registry.site/mirror/", nil, "registry.site/mirror/team/app", true},
		{"127.0.0.1:5000", nil, "127.0.0.1:5000/team/app", true},
		{"registry.site:5000/x", []images.Option{images.InsecureRegistry()}, "registry.site:5000/x/team/app", true},
		{"Bad Prefix", nil, "", false},
	} {
		got, err := images.Destination(tc.prefix, e, tc.opts...)
		if (err == nil) != tc.ok || (tc.ok && got.String() != tc.want) {
			t.Errorf("Destination(%q) = %v, %v; want %q", tc.prefix, got, err, tc.want)
		}
		if tc.ok && len(tc.opts) > 0 && got.Scheme() != "http" {
			t.Errorf("Destination(%q, InsecureRegistry) scheme %q, want http", tc.prefix, got.Scheme())
		}
	}
	if _, err := images.Destination("registry.site", images.Entry{Role: images.RoleImage}); err == nil {
		t.Errorf("Destination of an image without a repository path succeeded")
	}
}

// CreateDigested trusts the caller's digest instead of hashing: a blob
// whose vouched digest is its name passes, one whose vouched digest is
// another is refused, as a hashed one would be.
func TestCheckerCreateDigested(t *testing.T) {
	data := []byte("layer bytes")
	sum := sha256.Sum256(data)
	name := hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		vouched string
		ok      bool
	}{{name, true}, {strings.Repeat("0", 64), false}} {
		c := images.NewChecker()
		f := c.CreateDigested("blobs/sha256/"+name, tc.vouched)
		f.Write(data)
		err := f.Close()
		if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, images.ErrDigestMismatch)) {
			t.Errorf("vouched %s…: Close = %v, want ok=%v", tc.vouched[:8], err, tc.ok)
		}
	}
}
