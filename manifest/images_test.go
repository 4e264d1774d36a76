package manifest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spdx/tools-golang/spdx/v2/common"
)

const imageSpec = `name: concelier-lnm
version: 21.101.0
components:
  - name: migrations-21-101
    type: migrations
    from: src/m
    path: migrations/21-101
  - name: runner
    image: registry.example.org/concelier/runner@sha256:0000000000000000000000000000000000000000000000000000000000000001
    platforms: [linux/amd64, linux/arm64/v8]
    description: the migration runner
    sbom: src/sbom/runner.spdx.json
  - name: tools
    type: image
    image: oci:images/tools:v1
`

func TestParseSpecImages(t *testing.T) {
	s, err := ParseSpec([]byte(imageSpec), "kit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !s.HasImages() {
		t.Fatal("HasImages() = false")
	}
	r := s.Components[1]
	if !r.IsImage() || r.Type != TypeImage || r.Path != "" || len(r.Platforms) != 2 || r.SBOM != "src/sbom/runner.spdx.json" {
		t.Errorf("runner = %+v", r)
	}
	if s.Components[2].Type != TypeImage || s.Components[0].IsImage() {
		t.Errorf("components = %+v", s.Components)
	}
	// FieldError points at a field of the parsed spec.
	fe := new(FieldError)
	if err := s.FieldError("components[2].image", ErrMalformed); !errors.As(err, &fe) || fe.Line != 15 || fe.File != "kit.yaml" {
		t.Errorf("FieldError = %#v, want kit.yaml line 15", err)
	}
	if noImages, _ := ParseSpec([]byte(strings.Split(imageSpec, "  - name: runner")[0]), "kit.yaml"); noImages == nil || noImages.HasImages() {
		t.Errorf("a spec without image components: HasImages() = true")
	}

	cases := []struct {
		name, yaml, field string
		line              int
	}{
		{"image with from", strings.Replace(imageSpec, "    platforms:", "    from: src/x\n    platforms:", 1), "components[1].from", 10},
		{"image with path", strings.Replace(imageSpec, "    platforms:", "    path: images/x\n    platforms:", 1), "components[1].path", 10},
		{"image with include", strings.Replace(imageSpec, "    platforms:", "    include: ['*']\n    platforms:", 1), "components[1].include", 10},
		{"image with exclude", strings.Replace(imageSpec, "    platforms:", "    exclude: ['*']\n    platforms:", 1), "components[1].exclude", 10},
		{"image pending", strings.Replace(imageSpec, "    platforms:", "    pending: true\n    platforms:", 1), "components[1].pending", 10},
		{"image of another type", strings.Replace(imageSpec, "type: image", "type: tooling", 1), "components[2].type", 14},
		{"type image without image", strings.Replace(imageSpec, "type: migrations", "type: image", 1), "components[0].type", 5},
		{"platforms without image", strings.Replace(imageSpec, "    path: migrations/21-101", "    path: migrations/21-101\n    platforms: [linux/amd64]", 1), "components[0].platforms", 8},
		{"bad platform", strings.Replace(imageSpec, "linux/arm64/v8", "linux", 1), "components[1].platforms[1]", 0},
		{"empty platforms", strings.Replace(imageSpec, "[linux/amd64, linux/arm64/v8]", "[]", 1), "components[1].platforms", 10},
		{"duplicate platforms", strings.Replace(imageSpec, "linux/arm64/v8", "linux/amd64", 1), "components[1].platforms", 10},
		{"empty image", strings.Replace(imageSpec, "oci:images/tools:v1", `""`, 1), "components[2].image", 15},
		{"image not a string", strings.Replace(imageSpec, "oci:images/tools:v1", `[a]`, 1), "components[2].image", 15},
		{"image name kit", strings.Replace(imageSpec, "name: tools", "name: kit", 1), "components[2].name", 13},
		{"duplicate name", strings.Replace(imageSpec, "name: tools", "name: runner", 1), "components[2].name", 13},
		{"path under images", strings.Replace(imageSpec, "path: migrations/21-101", "path: Images/21-101", 1), "components[0].path", 7},
		{"path images", strings.Replace(imageSpec, "path: migrations/21-101", "path: images", 1), "components[0].path", 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSpec([]byte(c.yaml), "kit.yaml")
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want a *FieldError wrapping ErrMalformed", err)
			}
			if fe.Field != c.field {
				t.Errorf("field = %q, want %q (%v)", fe.Field, c.field, err)
			}
			if c.line != 0 && fe.Line != c.line {
				t.Errorf("line = %d, want %d (%v)", fe.Line, c.line, err)
			}
			if !strings.HasPrefix(err.Error(), "kit.yaml:") {
				t.Errorf("error %q does not name the file and line", err)
			}
		})
	}
}

func TestIsReservedPathImages(t *testing.T) {
	for _, p := range []string{"images", "images/x", "IMAGES/blobs", "Images"} {
		if !IsReservedPath(p) {
			t.Errorf("IsReservedPath(%q) = false", p)
		}
	}
	for _, p := range []string{"images2", "my/images", "image"} {
		if IsReservedPath(p) {
			t.Errorf("IsReservedPath(%q) = true", p)
		}
	}
}

// testManifestV2 returns a v2 manifest with a regular component, an image
// component and a three-file layout, and its SHA256SUMS.
func testManifestV2() (*Manifest, Sums) {
	m, _ := testManifest()
	m.FormatVersion = FormatVersion2
	blob := File{Path: "images/blobs/sha256/" + SHA256([]byte("blob")).Hex(), Size: 4, Mode: ModeFile, Digest: SHA256([]byte("blob"))}
	index := File{Path: "images/index.json", Size: 2, Mode: ModeFile, Digest: SHA256([]byte("{}"))}
	layout := File{Path: "images/oci-layout", Size: 3, Mode: ModeFile, Digest: SHA256([]byte("lay"))}
	m.Images = &Images{Path: ImagesPath, Size: 9, Files: []File{blob, index, layout}}
	m.Components = append(m.Components, Component{
		Name: "runner", Type: TypeImage, Path: ImagesPath, Files: []File{},
		Image: &ImageRef{
			Reference: "registry.example.org:5000/concelier/runner:v1", Repository: "registry.example.org:5000/concelier/runner", Tag: "v1",
			Digest: blob.Digest, MediaType: "application/vnd.oci.image.manifest.v1+json",
			Artifacts: []ImageArtifact{{Role: RoleSignature, Subject: blob.Digest, Digest: SHA256([]byte("sig")), Tag: "sha256-x.sig"}},
		},
	})
	m.FileCount += 3
	m.TotalSize += 9
	sbom, _ := MarshalSBOM(KitSBOM(m))
	m.SBOM = FileRef{Path: KitSBOMName, Size: int64(len(sbom)), Digest: SHA256(sbom)}
	sums := Sums{{Name: "m/a.sql", Digest: SHA256([]byte("abc"))}, {Name: KitSBOMName, Digest: m.SBOM.Digest}}
	for _, f := range m.Images.Files {
		sums = append(sums, Sum{Name: f.Path, Digest: f.Digest})
	}
	sums.Sort()
	return m, sums
}

func TestStatementV2RoundTrip(t *testing.T) {
	m, sums := testManifestV2()
	st, err := NewStatement(m, sums)
	if err != nil {
		t.Fatal(err)
	}
	if st.PredicateType != PredicateTypeV2 {
		t.Errorf("predicateType = %q, want %q", st.PredicateType, PredicateTypeV2)
	}
	payload, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	_, m2, err := ParseStatement(payload)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := m2.Marshal(); !bytes.Equal(again, st.Predicate) {
		t.Fatal("v2 manifest does not round-trip byte for byte")
	}
	if got := len(m2.AllFiles()); got != 4 {
		t.Errorf("AllFiles() has %d files, want 4", got)
	}
	// A v1 manifest still has no images field and the v1 predicate type.
	v1, v1sums := testManifest()
	st1, _ := NewStatement(v1, v1sums)
	if st1.PredicateType != PredicateType || bytes.Contains(st1.Predicate, []byte(`"images"`)) || bytes.Contains(st1.Predicate, []byte(`"image"`)) {
		t.Errorf("v1 statement changed: %s %s", st1.PredicateType, st1.Predicate)
	}
}

func TestParseStatementV2Rejects(t *testing.T) {
	m, sums := testManifestV2()
	st, _ := NewStatement(m, sums)
	good, _ := st.Marshal()
	v1m, v1sums := testManifest()
	st1, _ := NewStatement(v1m, v1sums)
	good1, _ := st1.Marshal()
	blobPath := m.Images.Files[0].Path
	cases := []struct {
		name string
		in   string
		want string // in the error
	}{
		{"v2 predicate with v1 type", strings.Replace(string(good), PredicateTypeV2, PredicateType, 1), `is not "https://offkit.dev/kit-manifest/v2"`},
		{"v1 predicate with v2 type", strings.Replace(string(good1), PredicateType, PredicateTypeV2, 1), `predicateType "https://offkit.dev/kit-manifest/v2" is not`},
		{"v3 type", strings.Replace(string(good), PredicateTypeV2, "https://offkit.dev/kit-manifest/v3", 1), "is not"},
		{"v2 without images", noImages(m, sums), "images"},
		{"v1 with images", strings.Replace(strings.Replace(string(good), `"formatVersion":2`, `"formatVersion":1`, 1), PredicateTypeV2, PredicateType, 1), "images"},
		{"images path", strings.Replace(string(good), `"images":{"path":"images"`, `"images":{"path":"img"`, 1), "images"},
		{"image component path", strings.Replace(string(good), `"type":"image","path":"images"`, `"type":"image","path":"img"`, 1), "path must be"},
		{"image component type", strings.Replace(string(good), `"type":"image"`, `"type":"tooling"`, 1), "type"},
		{"file outside images", strings.Replace(string(good), `"path":"images/index.json"`, `"path":"x/index.json"`, 1), "outside"},
		{"unsorted images", strings.Replace(string(good), `"path":"images/index.json"`, `"path":"images/a.json"`, 1), "sorted"},
		{"exec mode in images", strings.Replace(string(good), `"path":"images/oci-layout","size":3,"mode":"0644"`, `"path":"images/oci-layout","size":3,"mode":"0755"`, 1), "mode"},
		{"images size", strings.Replace(string(good), `"images":{"path":"images","size":9`, `"images":{"path":"images","size":8`, 1), "size"},
		{"totals without images", strings.Replace(string(good), `"fileCount":4`, `"fileCount":1`, 1), "fileCount"},
		{"dot dot in images", strings.Replace(string(good), `"path":"`+blobPath+`"`, `"path":"images/../x"`, 1), "unsafe"},
		{"bad role", strings.Replace(string(good), `"role":"signature"`, `"role":"evil"`, 1), "role"},
		{"image files", strings.Replace(string(good), `"path":"images","size":0,"files":[]`, `"path":"images","size":0,"files":[{"path":"images/oci-layout","size":0,"mode":"0644","digest":"`+SHA256(nil).String()+`"}]`, 1), "no files"},
		{"unknown image field", strings.Replace(string(good), `"mediaType":`, `"evil":1,"mediaType":`, 1), "unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.in == string(good) || c.in == string(good1) {
				t.Fatal("mutation did not apply")
			}
			_, _, err := ParseStatement([]byte(c.in))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

// noImages returns the statement of m without its images, still v2.
func noImages(m *Manifest, sums Sums) string {
	c := *m
	c.Images = nil
	st, err := NewStatement(&c, sums)
	if err != nil {
		panic(err)
	}
	b, _ := st.Marshal()
	return string(b)
}

func TestKitSBOMImages(t *testing.T) {
	m, sums := testManifestV2()
	raw, err := MarshalSBOM(KitSBOM(m))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ParseSBOM(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckKitSBOM(doc, m, sums); err != nil {
		t.Fatalf("CheckKitSBOM: %v", err)
	}
	var found bool
	for _, p := range doc.Packages {
		if p.PackageName != "runner" {
			continue
		}
		found = true
		img := m.Components[1].Image
		if p.PackageVersion != img.Digest.String() || len(p.PackageChecksums) != 1 || p.PackageChecksums[0].Value != img.Digest.Hex() || p.PackageChecksums[0].Algorithm != common.SHA256 {
			t.Errorf("image package version/checksums = %q %+v", p.PackageVersion, p.PackageChecksums)
		}
		want := "pkg:oci/runner@sha256%3A" + img.Digest.Hex() + "?repository_url=registry.example.org%3A5000/concelier/runner&tag=v1"
		if len(p.PackageExternalReferences) != 1 || p.PackageExternalReferences[0].Locator != want ||
			p.PackageExternalReferences[0].Category != "PACKAGE-MANAGER" || p.PackageExternalReferences[0].RefType != "purl" {
			t.Errorf("image package external refs = %+v, want purl %s", p.PackageExternalReferences[0], want)
		}
	}
	if !found {
		t.Fatal("no package for the image component")
	}
	// A package whose checksum is not the image's digest is refused.
	for _, p := range doc.Packages {
		if p.PackageName == "runner" {
			p.PackageChecksums[0].Value = SHA256(nil).Hex()
		}
	}
	if err := CheckKitSBOM(doc, m, sums); !errors.Is(err, ErrMalformed) {
		t.Errorf("CheckKitSBOM with a wrong image digest: %v, want ErrMalformed", err)
	}
}

func TestImagePURL(t *testing.T) {
	d := SHA256([]byte("x"))
	for _, c := range []struct {
		img  ImageRef
		want string
	}{
		{ImageRef{Repository: "index.docker.io/library/Debian", Digest: d}, "pkg:oci/debian@sha256%3A" + d.Hex() + "?repository_url=index.docker.io/library/Debian"},
		{ImageRef{Digest: d}, "pkg:oci/comp@sha256%3A" + d.Hex()},
		{ImageRef{Digest: d, Tag: "1.0+b"}, "pkg:oci/comp@sha256%3A" + d.Hex() + "?tag=1.0%2Bb"},
	} {
		if got := ImagePURL("comp", &c.img); got != c.want {
			t.Errorf("ImagePURL(%+v) = %s, want %s", c.img, got, c.want)
		}
	}
}
