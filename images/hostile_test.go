package images_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/offkit/offkit/images"
)

// memLayout builds an OCI image layout in memory, blob by blob, as a
// hostile kit would carry it.
type memLayout struct {
	t  testing.TB
	fs fstest.MapFS
}

func newMemLayout(t testing.TB) *memLayout {
	return &memLayout{t: t, fs: fstest.MapFS{"oci-layout": {Data: []byte(`{"imageLayoutVersion":"1.0.0"}` + "\n")}}}
}

func sha(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// blob stores b and returns a descriptor of it with media type mt.
func (l *memLayout) blob(mt types.MediaType, b []byte) v1.Descriptor {
	d := v1.Descriptor{MediaType: mt, Size: int64(len(b)), Digest: sha(b)}
	l.fs["blobs/sha256/"+d.Digest.Hex] = &fstest.MapFile{Data: b}
	return d
}

// json stores v as JSON and returns a descriptor of it with media type mt.
func (l *memLayout) json(mt types.MediaType, v any) v1.Descriptor {
	b, err := json.Marshal(v)
	if err != nil {
		l.t.Fatal(err)
	}
	return l.blob(mt, b)
}

// manifest stores an image manifest of a config and a layer made from
// seed, with mediaType field own ("" for none), and returns a descriptor
// of it with media type mt.
func (l *memLayout) manifest(seed string, own, mt types.MediaType) v1.Descriptor {
	cfg := l.blob(types.OCIConfigJSON, []byte(`{"architecture":"amd64","os":"linux","seed":"`+seed+`"}`))
	layer := l.blob(types.OCILayer, []byte("layer "+seed))
	return l.json(mt, v1.Manifest{SchemaVersion: 2, MediaType: own, Config: cfg, Layers: []v1.Descriptor{layer}})
}

// index stores an index of children, with mediaType field own.
func (l *memLayout) index(own, mt types.MediaType, children ...v1.Descriptor) v1.Descriptor {
	return l.json(mt, v1.IndexManifest{SchemaVersion: 2, MediaType: own, Manifests: children})
}

// setIndex writes index.json listing entries.
func (l *memLayout) setIndex(entries ...v1.Descriptor) {
	b, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: entries})
	if err != nil {
		l.t.Fatal(err)
	}
	l.fs["index.json"] = &fstest.MapFile{Data: b}
}

// remove deletes the blob d names.
func (l *memLayout) remove(d v1.Descriptor) { delete(l.fs, "blobs/sha256/"+d.Digest.Hex) }

// removeImage deletes the image manifest d names, with its config and
// layers.
func (l *memLayout) removeImage(d v1.Descriptor) {
	var m v1.Manifest
	if err := json.Unmarshal(l.fs[blobName(d)].Data, &m); err != nil {
		l.t.Fatal(err)
	}
	for _, b := range append(m.Layers, m.Config, d) {
		l.remove(b)
	}
}

// imageEntry is d as an index.json entry of an image, with annotations
// given as key, value pairs.
func imageEntry(d v1.Descriptor, kv ...string) v1.Descriptor {
	d.Annotations = map[string]string{images.AnnotationRole: string(images.RoleImage)}
	for i := 0; i+1 < len(kv); i += 2 {
		d.Annotations[kv[i]] = kv[i+1]
	}
	return d
}

// onPlatform is d as an index's child for platform p ("linux/arm64/v8").
func onPlatform(d v1.Descriptor, p string) v1.Descriptor {
	plat, err := v1.ParsePlatform(p)
	if err != nil {
		panic(err)
	}
	d.Platform = plat
	return d
}

func blobName(d v1.Descriptor) string { return "blobs/sha256/" + d.Digest.Hex }

// hostileCase is a layout built to break a rule, or to stay just within
// one: err "" means CheckLayout must accept it.
type hostileCase struct {
	name    string
	build   func(l *memLayout) (wantPath, wantParent string)
	wantErr string
	wantIs  error // besides ErrLayout
}

// hostileCases are the classes of layout a security review found checked
// wrongly or at too great a cost: the same digest named many times with
// different platforms, media types that do not match the blob, sizes that
// do not, and names that would climb out of the prefix pushed to.
func hostileCases() []hostileCase {
	const platforms = images.AnnotationPlatforms
	// twoPlatforms stores an index for linux/amd64 and linux/arm64/v8.
	twoPlatforms := func(l *memLayout) (idx, amd, arm v1.Descriptor) {
		amd = l.manifest("amd", types.OCIManifestSchema1, types.OCIManifestSchema1)
		arm = l.manifest("arm", types.OCIManifestSchema1, types.OCIManifestSchema1)
		idx = l.index(types.OCIImageIndex, types.OCIImageIndex, onPlatform(amd, "linux/amd64"), onPlatform(arm, "linux/arm64/v8"))
		return idx, amd, arm
	}
	cases := []hostileCase{
		// Class 1: the same digest, many times, with different platforms.
		{name: "duplicate digest with differing platforms", build: func(l *memLayout) (string, string) {
			old, amd, arm := twoPlatforms(l)
			l.remove(old)
			// The index lists its children again, for other platforms.
			idx := l.index(types.OCIImageIndex, types.OCIImageIndex, onPlatform(amd, "linux/amd64"), onPlatform(arm, "linux/arm64/v8"),
				onPlatform(amd, "linux/amd64/v2"), onPlatform(amd, "linux/amd64/v3"), onPlatform(arm, "linux/arm64"))
			var entries []v1.Descriptor
			for _, p := range []string{"linux/amd64", "linux/arm64/v8", "linux/amd64/v2", "linux/386", "linux/amd64,linux/arm64/v8"} {
				entries = append(entries, imageEntry(idx, platforms, p))
			}
			l.setIndex(append(entries, imageEntry(idx))...)
			return "", ""
		}},
		{name: "duplicate digest, a platform no entry asks for is absent", build: func(l *memLayout) (string, string) {
			idx, _, arm := twoPlatforms(l)
			l.removeImage(arm)
			l.setIndex(imageEntry(idx, platforms, "linux/amd64"), imageEntry(idx, platforms, "linux/386"), imageEntry(idx, platforms, "linux/amd64/v3"))
			return "", ""
		}},
		{name: "duplicate digest, one entry asks for the absent platform", wantErr: "missing", build: func(l *memLayout) (string, string) {
			idx, _, arm := twoPlatforms(l)
			l.removeImage(arm)
			l.setIndex(imageEntry(idx, platforms, "linux/amd64"), imageEntry(idx, platforms, "linux/arm64"))
			return blobName(arm), blobName(idx) + " manifests[1]"
		}},
		{name: "duplicate digest, one entry unfiltered, a child absent", wantErr: "missing", build: func(l *memLayout) (string, string) {
			idx, _, arm := twoPlatforms(l)
			l.removeImage(arm)
			l.setIndex(imageEntry(idx, platforms, "linux/amd64"), imageEntry(idx))
			return blobName(arm), blobName(idx) + " manifests[1]"
		}},
		{name: "a nested index is asked for what the index above it is", build: func(l *memLayout) (string, string) {
			idx, _, arm := twoPlatforms(l)
			l.removeImage(arm)
			top := l.index(types.OCIImageIndex, types.OCIImageIndex, onPlatform(idx, "linux/amd64"))
			l.setIndex(imageEntry(top, platforms, "linux/amd64"))
			return "", ""
		}},
		{name: "a nested index also listed unfiltered must be whole", wantErr: "missing", build: func(l *memLayout) (string, string) {
			idx, _, arm := twoPlatforms(l)
			l.removeImage(arm)
			top := l.index(types.OCIImageIndex, types.OCIImageIndex, onPlatform(idx, "linux/amd64"))
			l.setIndex(imageEntry(top, platforms, "linux/amd64"), imageEntry(idx))
			return blobName(arm), blobName(idx) + " manifests[1]"
		}},
		{name: "a nested index asked for more than 64 platforms", wantErr: "more than 64 platforms", build: func(l *memLayout) (string, string) {
			idx, _, _ := twoPlatforms(l)
			top := l.index(types.OCIImageIndex, types.OCIImageIndex, onPlatform(idx, "linux/amd64"))
			var entries []v1.Descriptor
			for i := range 65 {
				entries = append(entries, imageEntry(top, platforms, fmt.Sprintf("linux/amd64/v%d", i)))
			}
			l.setIndex(entries...)
			return blobName(idx), ""
		}},
		{name: "an index lists one child a thousand times", build: func(l *memLayout) (string, string) {
			m := l.manifest("m", types.OCIManifestSchema1, types.OCIManifestSchema1)
			var children []v1.Descriptor
			for i := range 1000 {
				children = append(children, onPlatform(m, fmt.Sprintf("linux/amd64/v%d", i)))
			}
			l.setIndex(imageEntry(l.index(types.OCIImageIndex, types.OCIImageIndex, children...), platforms, "linux/amd64/v7"))
			return "", ""
		}},

		// Class 2: media types and sizes that do not match the blob.
		{name: "a manifest without mediaType declared as an index", wantErr: "has no mediaType field", build: func(l *memLayout) (string, string) {
			m := l.manifest("m", "", types.OCIImageIndex)
			// Its config and layer are absent: read as an empty index,
			// nothing would require them.
			var man v1.Manifest
			if err := json.Unmarshal(l.fs[blobName(m)].Data, &man); err != nil {
				l.t.Fatal(err)
			}
			l.remove(man.Config)
			l.remove(man.Layers[0])
			l.setIndex(imageEntry(m))
			return blobName(m), "index.json manifests[0]"
		}},
		{name: "a manifest without mediaType declared as a manifest", wantErr: "has no mediaType field", build: func(l *memLayout) (string, string) {
			m := l.manifest("m", "", types.OCIManifestSchema1)
			l.setIndex(imageEntry(m))
			return blobName(m), "index.json manifests[0]"
		}},
		{name: "an index without mediaType", wantErr: "has no mediaType field", build: func(l *memLayout) (string, string) {
			m := l.manifest("m", types.OCIManifestSchema1, types.OCIManifestSchema1)
			idx := l.index("", types.OCIImageIndex, onPlatform(m, "linux/amd64"))
			l.setIndex(imageEntry(idx))
			return blobName(idx), "index.json manifests[0]"
		}},
		{name: "a manifest declared as an index", wantErr: `has media type "application/vnd.oci.image.manifest.v1+json", but the descriptor says "application/vnd.oci.image.index.v1+json"`,
			build: func(l *memLayout) (string, string) {
				m := l.manifest("m", types.OCIManifestSchema1, types.OCIImageIndex)
				l.setIndex(imageEntry(m))
				return blobName(m), "index.json manifests[0]"
			}},
		{name: "an index declared as a manifest", wantErr: "but the descriptor says", build: func(l *memLayout) (string, string) {
			idx, _, _ := twoPlatforms(l)
			idx.MediaType = types.OCIManifestSchema1
			l.setIndex(imageEntry(idx))
			return blobName(idx), "index.json manifests[0]"
		}},
		{name: "a child declared Docker, the blob OCI", wantErr: "but the descriptor says", build: func(l *memLayout) (string, string) {
			m := l.manifest("m", types.OCIManifestSchema1, types.OCIManifestSchema1)
			m.MediaType = types.DockerManifestSchema2
			idx := l.index(types.OCIImageIndex, types.OCIImageIndex, onPlatform(m, "linux/amd64"))
			l.setIndex(imageEntry(idx))
			return blobName(m), blobName(idx) + " manifests[0]"
		}},
		{name: "the same manifest named with two media types", wantErr: "but the descriptor says", build: func(l *memLayout) (string, string) {
			m := l.manifest("m", types.OCIManifestSchema1, types.OCIManifestSchema1)
			docker := m
			docker.MediaType = types.DockerManifestSchema2
			idx := l.index(types.OCIImageIndex, types.OCIImageIndex, onPlatform(m, "linux/amd64"), onPlatform(docker, "linux/arm64"))
			l.setIndex(imageEntry(idx))
			return blobName(m), blobName(idx) + " manifests[1]"
		}},
		{name: "a manifest passed off as a layer", wantErr: "but the descriptor says", build: func(l *memLayout) (string, string) {
			inner := l.manifest("inner", types.OCIManifestSchema1, types.OCILayer)
			cfg := l.blob(types.OCIConfigJSON, []byte(`{}`))
			m := l.json(types.OCIManifestSchema1, v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: cfg, Layers: []v1.Descriptor{inner}})
			l.setIndex(imageEntry(m))
			return blobName(inner), blobName(m) + " layers[0]"
		}},
		{name: "a size mismatch in index.json", wantErr: "but the descriptor gives size", build: func(l *memLayout) (string, string) {
			m := l.manifest("m", types.OCIManifestSchema1, types.OCIManifestSchema1)
			name := blobName(m)
			m.Size++
			l.setIndex(imageEntry(m))
			return name, "index.json manifests[0]"
		}},
		{name: "a size mismatch in an index", wantErr: "but the descriptor gives size", build: func(l *memLayout) (string, string) {
			m := l.manifest("m", types.OCIManifestSchema1, types.OCIManifestSchema1)
			name := blobName(m)
			m.Size--
			idx := l.index(types.OCIImageIndex, types.OCIImageIndex, onPlatform(m, "linux/amd64"))
			l.setIndex(imageEntry(idx))
			return name, blobName(idx) + " manifests[0]"
		}},
		{name: "a size mismatch for a layer", wantErr: "but the descriptor gives size", build: func(l *memLayout) (string, string) {
			cfg := l.blob(types.OCIConfigJSON, []byte(`{}`))
			layer := l.blob(types.OCILayer, []byte("layer"))
			name := blobName(layer)
			layer.Size = 1
			m := l.json(types.OCIManifestSchema1, v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: cfg, Layers: []v1.Descriptor{layer}})
			l.setIndex(imageEntry(m))
			return name, blobName(m) + " layers[0]"
		}},
	}
	// Class 3: names Push would use, climbing out of its prefix or not
	// names at all.
	for _, repo := range []string{"team/../../prod/postgres", "..", "./app", "team/./app", "team//app", "/team/app", "team/app/", "", "Team/app", "team/APP",
		"team/app..x", "team/a___b", "team/-app", "team/app-", "team/a b", "team/app:v1", "team/app@sha256", strings.Repeat("a/", 128) + "a"} {
		cases = append(cases, hostileCase{name: fmt.Sprintf("repository %q", repo), wantErr: images.AnnotationRepository, wantIs: images.ErrName,
			build: func(l *memLayout) (string, string) {
				l.setIndex(imageEntry(l.manifest("m", types.OCIManifestSchema1, types.OCIManifestSchema1), images.AnnotationRepository, repo))
				return "index.json", ""
			}})
	}
	for _, tag := range []string{"", ".v1", "-v1", "v 1", "v1:x", "v1/x", "v1@x", "ü", strings.Repeat("a", 129)} {
		cases = append(cases, hostileCase{name: fmt.Sprintf("tag %.20q", tag), wantErr: images.AnnotationTag, wantIs: images.ErrName,
			build: func(l *memLayout) (string, string) {
				l.setIndex(imageEntry(l.manifest("m", types.OCIManifestSchema1, types.OCIManifestSchema1), images.AnnotationTag, tag))
				return "index.json", ""
			}})
	}
	for _, ok := range []struct{ repo, tag string }{{"team/app", "v1"}, {"a", "_"}, {"a__b/c.d/e---f", "V1.2-rc_3"}, {"0/1", strings.Repeat("a", 128)}} {
		cases = append(cases, hostileCase{name: fmt.Sprintf("valid names %q %.20q", ok.repo, ok.tag),
			build: func(l *memLayout) (string, string) {
				l.setIndex(imageEntry(l.manifest("m", types.OCIManifestSchema1, types.OCIManifestSchema1),
					images.AnnotationRepository, ok.repo, images.AnnotationTag, ok.tag))
				return "", ""
			}})
	}
	return cases
}

// TestCheckLayoutHostile: CheckLayout refuses each hostile layout with an
// error wrapping ErrLayout that names the blob and the descriptor's
// parent, and accepts those that stay within the rules.
func TestCheckLayoutHostile(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			l := newMemLayout(t)
			wantPath, wantParent := tc.build(l)
			_, err := images.CheckLayout(l.fs)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckLayout: %v, want it accepted", err)
				}
				return
			}
			var le *images.LayoutError
			switch {
			case err == nil:
				t.Fatalf("CheckLayout accepted it, want an error saying %q", tc.wantErr)
			case !errors.Is(err, images.ErrLayout) || !errors.As(err, &le):
				t.Fatalf("CheckLayout: %T %v, want a *LayoutError wrapping ErrLayout", err, err)
			case tc.wantIs != nil && !errors.Is(err, tc.wantIs):
				t.Errorf("CheckLayout: %v, want it to wrap %v", err, tc.wantIs)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("CheckLayout: %v, want it to say %q", err, tc.wantErr)
			}
			if wantPath != "" && le.Path != wantPath {
				t.Errorf("error names %q, want %q: %v", le.Path, wantPath, err)
			}
			if le.Parent != wantParent {
				t.Errorf("error names the descriptor at %q, want %q: %v", le.Parent, wantParent, err)
			}
		})
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		check func(string) error
		in    string
		ok    bool
	}{
		{images.CheckRepositoryPath, "team/app", true},
		{images.CheckRepositoryPath, "a", true},
		{images.CheckRepositoryPath, "a.b_c__d-e---f/0", true},
		{images.CheckRepositoryPath, strings.Repeat("a", 255), true},
		{images.CheckRepositoryPath, strings.Repeat("a", 256), false},
		{images.CheckRepositoryPath, "", false},
		{images.CheckRepositoryPath, "..", false},
		{images.CheckRepositoryPath, ".", false},
		{images.CheckRepositoryPath, "team/../prod", false},
		{images.CheckRepositoryPath, "team//app", false},
		{images.CheckRepositoryPath, "/team", false},
		{images.CheckRepositoryPath, "team/", false},
		{images.CheckRepositoryPath, "Team", false},
		{images.CheckRepositoryPath, "a..b", false},
		{images.CheckRepositoryPath, "a___b", false},
		{images.CheckRepositoryPath, "a.-b", false},
		{images.CheckRepositoryPath, "registry.example/app", true}, // a path element may have dots
		{images.CheckRepository, "registry.example:5000/team/app", true},
		{images.CheckRepository, "index.docker.io/library/alpine", true},
		{images.CheckRepository, "team/app", true},
		{images.CheckRepository, "registry.example/team/../../prod", false},
		{images.CheckRepository, "registry.example/Team/app", false},
		{images.CheckRepository, "registry.example/", false},
		{images.CheckRepository, "bad host:x/app", false},
		{images.CheckTag, "v1", true},
		{images.CheckTag, "_", true},
		{images.CheckTag, "V1.2-rc_3", true},
		{images.CheckTag, strings.Repeat("a", 128), true},
		{images.CheckTag, strings.Repeat("a", 129), false},
		{images.CheckTag, "", false},
		{images.CheckTag, ".v1", false},
		{images.CheckTag, "-v1", false},
		{images.CheckTag, "v1/x", false},
		{images.CheckTag, "v1:x", false},
		{images.CheckTag, "..", false},
	} {
		err := tc.check(tc.in)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, images.ErrName)) {
			t.Errorf("check(%q) = %v, want ok=%v (or an error wrapping ErrName)", tc.in, err, tc.ok)
		}
	}
}

// TestPlanPushUnderPrefix: every reference PlanPush works out lies under
// the prefix; prefixes that are not a registry host and a repository path
// are refused, as are entries whose names would climb out of it.
func TestPlanPushUnderPrefix(t *testing.T) {
	app := randomImage(t, 1)
	idx, _ := platformIndex(t, 10)
	img := resolve(t, "oci:"+ociSource(t, app, idx)+":team/app:v1")
	dir, _ := writeLayout(t, img)
	l, err := images.OpenLayout(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	targets, err := images.PlanPush(l, "registry.site:5000/mirror")
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 1 {
		t.Fatalf("PlanPush: %d targets, want 1", len(targets))
	}
	tg := targets[0]
	refs := append([]string{tg.Digest.String(), tg.Tag.String()}, refStrings(tg)...)
	for _, r := range refs {
		if !strings.HasPrefix(r, "registry.site:5000/mirror/team/app") {
			t.Errorf("PlanPush would push to %s, not under registry.site:5000/mirror/team/app", r)
		}
	}
	if len(tg.Artifacts) != 1 || tg.Artifacts[0].Identifier() != "sha256-"+img.Digest().Hex+".sig" {
		t.Errorf("PlanPush artifacts %v, want the signature's tag", tg.Artifacts)
	}
	for _, bad := range []string{"registry.site/../x", "registry.site/mirror/..", "registry.site/Mirror", "mirror/x", "mirror", "bad host/x", "registry.site//x"} {
		if _, err := images.PlanPush(l, bad); err == nil {
			t.Errorf("PlanPush(%q) succeeded, want the prefix refused", bad)
		}
		if err := images.CheckPrefix(bad); err == nil {
			t.Errorf("CheckPrefix(%q) succeeded", bad)
		}
	}
	for _, repo := range []string{"../../prod/postgres", "team/..", "Team/app", ""} {
		_, err := images.Destination("registry.site/mirror", images.Entry{Role: images.RoleImage, Repository: repo})
		if err == nil || (repo != "" && !errors.Is(err, images.ErrName)) {
			t.Errorf("Destination of repository %q: %v, want an error (wrapping ErrName)", repo, err)
		}
	}
}

func refStrings(t *images.PushTarget) []string {
	var out []string
	for _, r := range t.Artifacts {
		out = append(out, r.String())
	}
	return out
}

// TestResolveRefusesBadNames: an image source whose names are not OCI
// distribution names, or whose manifest has no mediaType, is refused at
// build, before a kit records it.
func TestResolveRefusesBadNames(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "src")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(randomImage(t, 5), layout.WithAnnotations(map[string]string{refName: "team/../../prod/app:v1"})); err != nil {
		t.Fatal(err)
	}
	s, err := images.ParseSource("oci:" + dir + ":team/../../prod/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := images.Resolve(context.Background(), s, nil); !errors.Is(err, images.ErrName) || !errors.Is(err, images.ErrSource) {
		t.Errorf("Resolve of an image named team/../../prod/app: %v, want ErrSource and ErrName", err)
	}
	if _, err := images.Resolve(context.Background(), s, nil, images.WithRepository("team/app")); err != nil {
		t.Errorf("Resolve with WithRepository(team/app): %v", err)
	}
	if err := images.WithRepository("team/../x")(nil); !errors.Is(err, images.ErrName) {
		t.Errorf("WithRepository(team/../x): %v, want ErrName", err)
	}

	// A manifest without mediaType, in an OCI layout source.
	l := newMemLayout(t)
	m := l.manifest("m", "", types.OCIManifestSchema1)
	l.setIndex(imageEntry(m, refName, "team/app:v1"))
	dir = filepath.Join(t.TempDir(), "nomt")
	for name, f := range l.fs {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err = images.ParseSource("oci:" + dir + ":team/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := images.Resolve(context.Background(), s, nil); !errors.Is(err, images.ErrSource) || !strings.Contains(fmt.Sprint(err), "no mediaType") {
		t.Errorf("Resolve of a manifest without mediaType: %v, want ErrSource saying so", err)
	}
}
