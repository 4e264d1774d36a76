package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/internal/registrytest"
	"github.com/offkit/offkit/internal/testtool"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign"
	"github.com/offkit/offkit/sign/signtest"
)

const imagesSPDX = `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"app",` +
	`"documentNamespace":"https://offkit.dev/test/app","creationInfo":{"created":"2024-01-01T00:00:00Z","creators":["Tool: offkit-test"]},"packages":[]}`

// TestImagesEndToEnd is the site's whole story with real things: images in
// a real registry A, signed and attested with the real cosign CLI; a kit
// built from a kit.yaml naming them (one by digest, one by tag); A stopped;
// the kit verified offline with the image key (and refused with a wrong
// one); pushed to a real registry B, where stock cosign verifies the
// signature and the attestation; pushed again, sending no blob; and signed
// kits whose image layout alone is wrong refused by verify and push with
// exit 3, pushing nothing.
func TestImagesEndToEnd(t *testing.T) {
	t.Parallel()
	cosign := cosignPath(t)
	regA := registrytest.New(t)
	a := regA.Host

	app := imagesRandom(t, 41)
	appDigest := imagesPush(t, a+"/team/app:v1", app)
	idx := imagesIndex(t, 50)
	idxRef, err := name.ParseReference(a + "/team/multi:v2")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(idxRef, idx); err != nil {
		t.Fatal(err)
	}
	idxHash, _ := idx.Digest()
	idxDigest := idxRef.Context().Digest(idxHash.String())

	work := t.TempDir()
	env := append(os.Environ(), "HOME="+t.TempDir(), "TUF_ROOT="+t.TempDir(), "COSIGN_PASSWORD="+signtest.Password, "LC_ALL=C")
	cos := func(wantOK bool, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, cosign, args...)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("cosign %s: %v (want success %v)\n%s", strings.Join(args, " "), err, wantOK, out)
		}
		return string(out)
	}
	cos(true, "generate-key-pair")
	cosKey, cosPub := filepath.Join(work, "cosign.key"), filepath.Join(work, "cosign.pub")
	wrong := signtest.NewKey(t, "", "wrong")
	kitKey := signtest.NewKey(t, work, "kit")
	predicate := filepath.Join(work, "sbom.spdx.json")
	if err := os.WriteFile(predicate, []byte(imagesSPDX), 0o644); err != nil {
		t.Fatal(err)
	}
	cos(true, "sign", "--key", cosKey, "--tlog-upload=false", "--allow-insecure-registry", "-y", appDigest.String())
	cos(true, "attest", "--key", cosKey, "--type", "spdxjson", "--predicate", predicate, "--tlog-upload=false", "--allow-insecure-registry", "-y", appDigest.String())
	cos(true, "sign", "--key", cosKey, "--tlog-upload=false", "--allow-insecure-registry", "-y", idxDigest.String())

	spec := fmt.Sprintf(`name: site-images
version: 1.0.0
components:
  - name: app
    image: %s/team/app:v1
    description: named by tag
  - name: multi
    type: image
    image: %s
`, a, idxDigest)
	specPath := filepath.Join(work, "kit.yaml")
	if err := os.WriteFile(specPath, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	kit := filepath.Join(work, "kit.tar.zst")
	if r := offkit(t, work, "build", specPath, "-o", kit, "--key", kitKey.Priv); r.code != 0 {
		t.Fatalf("offkit build: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := regA.Stop(); err != nil {
		t.Fatal(err)
	}

	// Offline: verify with the image key, then with a wrong one.
	r := offkit(t, work, "verify", kit, "--key", kitKey.Pub, "--image-key", cosPub, "--json")
	if r.code != 0 {
		t.Fatalf("verify --image-key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var rep struct {
		Images []struct {
			Component, Digest, Signatures string
			SignedBy                      []struct{ Key string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Images) != 2 || rep.Images[0].Digest != appDigest.DigestStr() || rep.Images[1].Digest != idxHash.String() {
		t.Fatalf("report images %+v, want app %s and multi %s", rep.Images, appDigest.DigestStr(), idxHash)
	}
	for _, im := range rep.Images {
		if im.Signatures != "verified" || len(im.SignedBy) != 1 || im.SignedBy[0].Key != cosPub {
			t.Errorf("image %s: signatures %q by %+v, want verified by %s", im.Component, im.Signatures, im.SignedBy, cosPub)
		}
	}
	if r := offkit(t, work, "verify", kit, "--key", kitKey.Pub, "--image-key", wrong.Pub); r.code != 4 || !strings.Contains(r.stdout, "FAIL images") {
		t.Errorf("verify with a wrong --image-key: exit %d, want 4\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := offkit(t, work, "verify", kit, "--key", kitKey.Pub); r.code != 0 || !strings.Contains(r.stdout, "signatures not checked") {
		t.Errorf("verify without --image-key: exit %d, want 0 saying signatures are not checked\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := offkit(t, work, "unpack", kit, "-C", t.TempDir(), "--key", kitKey.Pub, "--image-key", wrong.Pub); r.code != 4 {
		t.Errorf("unpack with a wrong --image-key: exit %d, want 4\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Push to the site registry B.
	regB := registrytest.New(t)
	b := regB.Host
	tmp := t.TempDir()
	push := func(kit string, extra ...string) runResult {
		t.Helper()
		args := append([]string{"images", "push", kit, "--to", b + "/site", "--key", kitKey.Pub, "--image-key", cosPub, "--json"}, extra...)
		return offkitEnv(t, work, []string{"TMPDIR=" + tmp}, args...)
	}
	r = push(kit)
	if r.code != 0 {
		t.Fatalf("images push: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	res := pushJSON(t, r.stdout)
	if len(res.Images) != 2 || !res.OK {
		t.Fatalf("push result %+v", res)
	}
	for _, im := range res.Images {
		if !im.Pushed || im.BlobsPushed == 0 || im.BlobsSkipped != 0 || len(im.Artifacts) == 0 {
			t.Errorf("first push of %s: %+v; want blobs pushed, none skipped, artifacts", im.Destination, im)
		}
	}
	if got := res.Images[0]; got.Destination != b+"/site/team/app@"+appDigest.DigestStr() || !slices.Equal(got.Tags, []string{"v1"}) {
		t.Errorf("app pushed as %s tags %q, want %s/site/team/app@%s tag v1", got.Destination, got.Tags, b, appDigest.DigestStr())
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("push left %d entries in TMPDIR", len(ents))
	}
	pushedApp := b + "/site/team/app@" + appDigest.DigestStr()
	pushedMulti := b + "/site/team/multi@" + idxHash.String()
	cos(true, "verify", "--key", cosPub, "--insecure-ignore-tlog", "--allow-insecure-registry", pushedApp)
	cos(true, "verify-attestation", "--key", cosPub, "--type", "spdxjson", "--insecure-ignore-tlog", "--allow-insecure-registry", pushedApp)
	cos(true, "verify", "--key", cosPub, "--insecure-ignore-tlog", "--allow-insecure-registry", pushedMulti)
	cos(true, "verify", "--key", cosPub, "--insecure-ignore-tlog", "--allow-insecure-registry", b+"/site/team/app:v1")
	cos(false, "verify", "--key", wrong.Pub, "--insecure-ignore-tlog", "--allow-insecure-registry", pushedApp)

	// Again: every blob is already there.
	r = push(kit)
	if r.code != 0 {
		t.Fatalf("second images push: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, im := range pushJSON(t, r.stdout).Images {
		if im.BlobsPushed != 0 || im.BlobsSkipped == 0 {
			t.Errorf("second push of %s: %d blobs pushed, %d skipped; want 0 pushed", im.Destination, im.BlobsPushed, im.BlobsSkipped)
		}
	}
	// Human output names what was pushed.
	r = offkitEnv(t, work, []string{"TMPDIR=" + tmp}, "images", "push", kit, "--to", b+"/site", "--key", kitKey.Pub, "-q")
	if r.code != 0 || !strings.Contains(r.stdout, "Pushed "+pushedApp) || !strings.Contains(r.stdout, "already there") {
		t.Errorf("images push -q: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Signed kits whose image layout alone is wrong: verify and push exit
	// 3, and a fresh registry C gets nothing.
	regC := registrytest.New(t)
	kitBytes, err := os.ReadFile(kit)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := app.Layers()
	if err != nil {
		t.Fatal(err)
	}
	layerDigest, _ := layers[0].Digest()
	layerPath := "images/blobs/sha256/" + layerDigest.Hex
	// setApp edits what the signed manifest records of component app.
	setApp := func(f func(*manifest.ImageRef)) func(*manifest.Manifest) {
		return func(m *manifest.Manifest) {
			for _, c := range m.Components {
				if c.Name == "app" {
					f(c.Image)
				}
			}
		}
	}
	replaceIndex := func(old, new string) func(map[string][]byte) {
		return func(f map[string][]byte) {
			idx := string(f["images/index.json"])
			if !strings.Contains(idx, old) {
				t.Fatalf("index.json has no %q:\n%s", old, idx)
			}
			f["images/index.json"] = []byte(strings.Replace(idx, old, new, 1))
		}
	}
	for _, tc := range []struct {
		name, want   string
		edit         func(files map[string][]byte)
		editManifest func(*manifest.Manifest)
	}{
		{"flipped-layer-byte", layerPath, func(f map[string][]byte) { f[layerPath][10] ^= 1 }, nil},
		{"missing-blob", layerPath, func(f map[string][]byte) { delete(f, layerPath) }, nil},
		{"extra-blob", "unreferenced", func(f map[string][]byte) {
			data := []byte("not referenced by anything\n")
			f["images/blobs/sha256/"+manifest.SHA256(data).Hex()] = data
		}, nil},
		// A whole image, complete and referenced from index.json, that no
		// image component pins.
		{"unpinned-extra-image", "is not pinned by any image component", func(f map[string][]byte) {
			extra := imagesRandom(t, 77)
			raw, err := extra.RawManifest()
			if err != nil {
				t.Fatal(err)
			}
			blobs := [][]byte{raw}
			if cfg, err := extra.RawConfigFile(); err == nil {
				blobs = append(blobs, cfg)
			}
			ls, _ := extra.Layers()
			for _, l := range ls {
				rc, err := l.Compressed()
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				b.ReadFrom(rc)
				rc.Close()
				blobs = append(blobs, b.Bytes())
			}
			for _, b := range blobs {
				f["images/blobs/sha256/"+manifest.SHA256(b).Hex()] = b
			}
			var idx map[string]any
			if err := json.Unmarshal(f["images/index.json"], &idx); err != nil {
				t.Fatal(err)
			}
			idx["manifests"] = append(idx["manifests"].([]any), map[string]any{
				"mediaType": string(types.OCIManifestSchema1), "size": len(raw), "digest": manifest.SHA256(raw).String(),
				"annotations": map[string]any{"dev.offkit.image.role": "image", "org.opencontainers.image.ref.name": "evil/extra:1"},
			})
			b, err := json.Marshal(idx)
			if err != nil {
				t.Fatal(err)
			}
			f["images/index.json"] = append(b, '\n')
		}, nil},
		// Names that would climb out of --to, carried by a validly signed
		// kit: in the layout's annotations, which push uses, and in the
		// manifest.
		{"dotdot-repository-annotation", `element 2, ".."`,
			replaceIndex(`"dev.offkit.image.repository":"team/app"`, `"dev.offkit.image.repository":"team/../../prod/postgres"`), nil},
		{"dot-repository-annotation", `element 1, "."`,
			replaceIndex(`"dev.offkit.image.repository":"team/app"`, `"dev.offkit.image.repository":"./team/app"`), nil},
		{"bad-tag-annotation", `tag ".v1"`,
			replaceIndex(`"dev.offkit.image.tag":"v1"`, `"dev.offkit.image.tag":".v1"`), nil},
		{"dotdot-manifest-repository", "image repository", func(map[string][]byte) {},
			setApp(func(r *manifest.ImageRef) { r.Repository = a + "/team/../../prod/postgres" })},
		{"upper-case-manifest-repository", "image repository", func(map[string][]byte) {},
			setApp(func(r *manifest.ImageRef) { r.Repository = a + "/Team/app" })},
		{"bad-manifest-artifact-tag", "image artifacts[0]", func(map[string][]byte) {},
			setApp(func(r *manifest.ImageRef) { r.Artifacts[0].Tag = "../x" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.tar.zst")
			if err := os.WriteFile(bad, reforgeImages(t, kitBytes, kitKey.Signer, tc.edit, tc.editManifest), 0o644); err != nil {
				t.Fatal(err)
			}
			r := offkit(t, work, "verify", bad, "--key", kitKey.Pub, "--image-key", cosPub)
			if r.code != 3 || !strings.Contains(r.stdout+r.stderr, tc.want) {
				t.Errorf("verify: exit %d, want 3 naming %q\n%s%s", r.code, tc.want, r.stdout, r.stderr)
			}
			site := t.TempDir()
			r = offkit(t, work, "unpack", bad, "-C", site, "--key", kitKey.Pub)
			if ents, _ := os.ReadDir(site); r.code != 3 || len(ents) != 0 {
				t.Errorf("unpack: exit %d with %d entries left in DIR, want 3 and none\n%s%s", r.code, len(ents), r.stdout, r.stderr)
			}
			r = offkitEnv(t, work, []string{"TMPDIR=" + tmp}, "images", "push", bad, "--to", regC.Host+"/site", "--key", kitKey.Pub)
			if r.code != 3 || !strings.Contains(r.stdout+r.stderr, "nothing was pushed") {
				t.Errorf("images push: exit %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
			}
			if repos := catalog(t, regC.Host); len(repos) != 0 {
				t.Errorf("registry C has %q after a refused push", repos)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("a refused push left %d entries in TMPDIR", len(ents))
			}
		})
	}
	// The control: the same forging with no edit is accepted.
	good := filepath.Join(t.TempDir(), "good.tar.zst")
	if err := os.WriteFile(good, reforgeImages(t, kitBytes, kitKey.Signer, func(map[string][]byte) {}, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := offkit(t, work, "verify", good, "--key", kitKey.Pub, "--image-key", cosPub); r.code != 0 {
		t.Errorf("verify of the re-signed, unedited kit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A --to that climbs out of its own prefix is bad usage, refused
	// before anything is read or pushed.
	r = offkitEnv(t, work, []string{"TMPDIR=" + tmp}, "images", "push", good, "--to", regC.Host+"/site/../prod", "--key", kitKey.Pub)
	if r.code != 2 || !strings.Contains(r.stderr, `".."`) {
		t.Errorf("images push --to REG/site/../prod: exit %d, want 2 naming the \"..\"\n%s%s", r.code, r.stdout, r.stderr)
	}
	if repos := catalog(t, regC.Host); len(repos) != 0 {
		t.Errorf("registry C has %q after a push refused for its --to", repos)
	}
	// And the re-signed kit, every name valid, still pushes: under --to.
	r = offkitEnv(t, work, []string{"TMPDIR=" + tmp}, "images", "push", good, "--to", regC.Host+"/site", "--key", kitKey.Pub, "--image-key", cosPub, "--json")
	if r.code != 0 {
		t.Fatalf("images push of the re-signed, unedited kit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if repos, want := catalog(t, regC.Host), []string{"site/team/app", "site/team/multi"}; !slices.Equal(repos, want) {
		t.Errorf("registry C has %q after the push, want %q", repos, want)
	}
}

type pushedJSON struct {
	OK     bool `json:"ok"`
	Images []struct {
		Destination  string   `json:"destination"`
		Tags         []string `json:"tags"`
		Artifacts    []string `json:"artifacts"`
		BlobsPushed  int      `json:"blobsPushed"`
		BlobsSkipped int      `json:"blobsSkipped"`
		Pushed       bool     `json:"pushed"`
	} `json:"images"`
}

func pushJSON(t *testing.T, out string) pushedJSON {
	t.Helper()
	var p pushedJSON
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("push --json: %v\n%s", err, out)
	}
	return p
}

// catalog lists the repositories of a registry.
func catalog(t *testing.T, host string) []string {
	t.Helper()
	resp, err := http.Get("http://" + host + "/v2/_catalog")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c struct{ Repositories []string }
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c.Repositories
}

func cosignPath(t *testing.T) string {
	t.Helper()
	return testtool.Need(t, "cosign")
}

func imagesRandom(t *testing.T, seed int64) v1.Image {
	t.Helper()
	img, err := random.Image(2048, 2, random.WithSource(rand.NewSource(seed)))
	if err != nil {
		t.Fatal(err)
	}
	return mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), types.OCIConfigJSON)
}

func imagesIndex(t *testing.T, seed int64) v1.ImageIndex {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for i, p := range []string{"linux/amd64", "linux/arm64/v8"} {
		plat, err := v1.ParsePlatform(p)
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: imagesRandom(t, seed+int64(i)), Descriptor: v1.Descriptor{Platform: plat}})
	}
	return idx
}

func imagesPush(t *testing.T, ref string, img v1.Image) name.Digest {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	h, _ := img.Digest()
	return r.Context().Digest(h.String())
}

// offkit runs the real offkit (the test binary, as TestMain sets it up).
func offkit(t *testing.T, dir string, args ...string) runResult {
	t.Helper()
	return offkitEnv(t, dir, nil, args...)
}

// offkitEnv is offkit with a test password and kit time, and env.
func offkitEnv(t *testing.T, dir string, env []string, args ...string) runResult {
	t.Helper()
	return runOffkit(t, dir, append([]string{"COSIGN_PASSWORD=" + signtest.Password,
		"SOURCE_DATE_EPOCH=" + strconv.FormatInt(bundletest.Epoch.Unix(), 10)}, env...), args...)
}

// reforgeImages decodes a zstd kit with images, lets edit change its
// image layout files (by kit-root-relative path) and editManifest, if not
// nil, the manifest, and re-signs a head
// that agrees with the edited files: the manifest's Images, sizes and
// counts, the kit SBOM, SHA256SUMS, the statement and both signatures. So
// only the layout (or the manifest as edited) is wrong.
func reforgeImages(t *testing.T, kit []byte, signer *sign.Signer, edit func(map[string][]byte), editManifest func(*manifest.Manifest)) []byte {
	t.Helper()
	ctx := context.Background()
	_, head := bundletest.Payload(t, kit)
	entries := bundletest.Entries(t, kit)
	root := strings.TrimSuffix(entries[0].Header.Name, "/") + "/"
	files := map[string][]byte{}
	var blobHeader *bundletest.Entry
	for _, e := range entries {
		if rel := strings.TrimPrefix(e.Header.Name, root); strings.HasPrefix(rel, "images/") && !strings.HasSuffix(rel, "/") {
			files[rel] = bytes.Clone(e.Data)
			if strings.HasPrefix(rel, "images/blobs/") {
				blobHeader = e
			}
		}
	}
	edit(files)

	b, err := json.Marshal(head.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	var m manifest.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if editManifest != nil {
		editManifest(&m)
	}
	m.Images.Files, m.Images.Size = nil, 0
	for p, d := range files {
		m.Images.Files = append(m.Images.Files, manifest.File{Path: p, Size: int64(len(d)), Mode: manifest.ModeFile, Digest: manifest.SHA256(d)})
		m.Images.Size += int64(len(d))
	}
	sort.Slice(m.Images.Files, func(i, j int) bool { return m.Images.Files[i].Path < m.Images.Files[j].Path })
	m.FileCount, m.TotalSize = len(m.Images.Files), m.Images.Size
	for _, c := range m.Components {
		m.FileCount += len(c.Files)
		m.TotalSize += c.Size
	}
	kitSBOM, err := manifest.MarshalSBOM(manifest.KitSBOM(&m))
	if err != nil {
		t.Fatal(err)
	}
	m.SBOM = manifest.FileRef{Path: manifest.KitSBOMName, Size: int64(len(kitSBOM)), Digest: manifest.SHA256(kitSBOM)}
	heads := map[string][]byte{manifest.KitSBOMName: kitSBOM}
	var sums manifest.Sums
	for _, c := range m.Components {
		for _, f := range c.Files {
			sums = append(sums, manifest.Sum{Name: f.Path, Digest: f.Digest})
		}
	}
	for _, f := range m.Images.Files {
		sums = append(sums, manifest.Sum{Name: f.Path, Digest: f.Digest})
	}
	for p, d := range head.SBOMs {
		if p != manifest.KitSBOMName {
			sums = append(sums, manifest.Sum{Name: p, Digest: manifest.SHA256(d)})
		}
	}
	sums = append(sums, manifest.Sum{Name: manifest.KitSBOMName, Digest: manifest.SHA256(kitSBOM)})
	sums.Sort()
	sumsRaw := sums.Marshal()
	stmt, err := manifest.NewStatement(&m, sums)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := stmt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	env := manifest.NewEnvelope(payload)
	if err := manifest.SignEnvelope(ctx, env, signer); err != nil {
		t.Fatal(err)
	}
	heads[manifest.EnvelopeName], err = manifest.MarshalEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	heads[manifest.SumsName] = sumsRaw
	sig, err := signer.Sign(ctx, sumsRaw)
	if err != nil {
		t.Fatal(err)
	}
	heads[manifest.SumsSigName] = sign.EncodeSignature(sig)

	var out []*bundletest.Entry
	for _, e := range entries {
		rel := strings.TrimPrefix(e.Header.Name, root)
		if d, ok := heads[rel]; ok {
			e.Data = d
		}
		if rel == "images/index.json" || rel == "images/oci-layout" {
			e.Data = files[rel]
			delete(files, rel)
		}
		if strings.HasPrefix(rel, "images/blobs/sha256/") && !strings.HasSuffix(rel, "/") {
			if d, ok := files[rel]; ok {
				e.Data = d
				delete(files, rel)
			} else {
				continue // removed
			}
		}
		out = append(out, e)
	}
	// Blobs added: among the others, which are contiguous, in bytewise order.
	isBlob := func(e *bundletest.Entry) bool {
		return path.Dir(strings.TrimPrefix(e.Header.Name, root)) == "images/blobs/sha256"
	}
	first := slices.IndexFunc(out, isBlob)
	last := first
	for last < len(out) && isBlob(out[last]) {
		last++
	}
	blobs := slices.Clone(out[first:last])
	for rel, d := range files {
		if strings.HasPrefix(rel, "images/blobs/") {
			h := *blobHeader.Header
			h.Name = root + rel
			blobs = append(blobs, &bundletest.Entry{Header: &h, Data: d})
		}
	}
	sort.Slice(blobs, func(i, j int) bool { return blobs[i].Header.Name < blobs[j].Header.Name })
	out = slices.Concat(out[:first], blobs, out[last:])
	return bundletest.Pack(t, out, false)
}
