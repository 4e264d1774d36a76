package images_test

import (
	"context"
	"crypto"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/offkit/offkit/images"
	"github.com/offkit/offkit/images/imagesig"
	"github.com/offkit/offkit/internal/registrytest"
)

const spdxPredicate = `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"app",` +
	`"documentNamespace":"https://offkit.dev/test/app","creationInfo":{"created":"2024-01-01T00:00:00Z","creators":["Tool: offkit-test"]},"packages":[]}`

func loadPub(t testing.TB, path string) crypto.PublicKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// TestRegistryRoundTrip is the whole story against real registries and the
// real cosign CLI: images are signed and attested with cosign in a source
// registry, resolved and written to a layout, the source registry is
// stopped, the layout is checked and its signatures verified offline, the
// images are pushed to a second registry, and stock cosign verifies them
// there.
func TestRegistryRoundTrip(t *testing.T) {
	ctx := context.Background()
	cosign := needCosign(t)
	srcReg := registrytest.New(t)
	dst := registrytest.Start(t)
	src := srcReg.Host

	// An image named by tag: signed, attested, and with an OCI 1.1 referrer.
	app := randomImage(t, 1)
	appDigest := pushImage(t, src+"/team/app:v1", app)
	appSize, err := app.Size()
	if err != nil {
		t.Fatal(err)
	}
	ref := mutate.Subject(randomImage(t, 2), v1.Descriptor{
		MediaType: types.OCIManifestSchema1, Digest: digestOf(t, app), Size: appSize,
	}).(v1.Image)
	refDigest := pushImage(t, src+"/team/app@"+digestOf(t, ref).String(), ref)

	// A two-platform index named by digest, signed.
	idx, _ := platformIndex(t, 10)
	idxDigest := pushIndex(t, src+"/team/multi:v2", idx)

	priv, pub := cosign.keyPair(t)
	_, wrongPub := cosign.keyPair(t)
	work := t.TempDir()
	predicate := filepath.Join(work, "sbom.spdx.json")
	if err := os.WriteFile(predicate, []byte(spdxPredicate), 0o644); err != nil {
		t.Fatal(err)
	}
	cosign.must(t, work, "sign", "--key", priv, "--tlog-upload=false", "--allow-insecure-registry", "-y", appDigest.String())
	cosign.must(t, work, "attest", "--key", priv, "--type", "spdxjson", "--predicate", predicate,
		"--tlog-upload=false", "--allow-insecure-registry", "-y", appDigest.String())
	cosign.must(t, work, "sign", "--key", priv, "--tlog-upload=false", "--allow-insecure-registry", "-y", idxDigest.String())

	// Resolve both and write one layout.
	appSrc, err := images.ParseSource(src + "/team/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	appImg, err := images.Resolve(ctx, appSrc, nil)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", appSrc, err)
	}
	if appImg.Digest().String() != appDigest.DigestStr() {
		t.Errorf("app digest %s, want %s", appImg.Digest(), appDigest.DigestStr())
	}
	if len(appImg.Warnings) != 1 || !strings.Contains(appImg.Warnings[0], "named by tag") {
		t.Errorf("app warnings %q, want one about the tag", appImg.Warnings)
	}
	if appImg.Repository != "team/app" || appImg.Tag != "v1" || appImg.Reference != src+"/team/app:v1" {
		t.Errorf("app Repository, Tag, Reference = %q, %q, %q", appImg.Repository, appImg.Tag, appImg.Reference)
	}
	var roles []string
	for _, a := range appImg.Artifacts {
		roles = append(roles, string(a.Role)+" "+a.Descriptor.Digest.String())
	}
	slices.Sort(roles)
	if len(roles) != 3 || !strings.HasPrefix(roles[0], "attestation ") || roles[1] != "referrer "+refDigest.DigestStr() || !strings.HasPrefix(roles[2], "signature ") {
		t.Errorf("app artifacts %q, want an attestation, the referrer %s and a signature", roles, refDigest.DigestStr())
	}

	multiSrc, err := images.ParseSource(idxDigest.String())
	if err != nil {
		t.Fatal(err)
	}
	multiAll, err := images.Resolve(ctx, multiSrc, nil)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", multiSrc, err)
	}
	multiAmd, err := images.Resolve(ctx, multiSrc, []string{"linux/amd64"})
	if err != nil {
		t.Fatalf("Resolve(%s, linux/amd64): %v", multiSrc, err)
	}
	if multiAmd.Digest() != multiAll.Digest() || multiAmd.Digest().String() != idxDigest.DigestStr() {
		t.Errorf("filtered index digest %s, whole %s, want both %s", multiAmd.Digest(), multiAll.Digest(), idxDigest.DigestStr())
	}
	if got, want := len(multiAmd.Blobs), len(multiAll.Blobs)-4; got != want {
		t.Errorf("filtered index carries %d blobs, want %d (the whole %d less one manifest, config and 2 layers)", got, want, len(multiAll.Blobs))
	}
	if !slices.Equal(multiAmd.Platforms, []string{"linux/amd64"}) || multiAll.Platforms != nil {
		t.Errorf("Platforms %q and %q, want [linux/amd64] and nil", multiAmd.Platforms, multiAll.Platforms)
	}
	if len(multiAmd.Warnings) != 0 {
		t.Errorf("warnings for an image named by digest: %q", multiAmd.Warnings)
	}

	plan, err := images.NewPlan(appImg, multiAmd)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "images")
	if err := images.WriteDir(ctx, plan, dir); err != nil {
		t.Fatal(err)
	}

	// From here on the source registry is gone: everything is offline.
	if err := srcReg.Stop(); err != nil {
		t.Fatal(err)
	}
	fsys := os.DirFS(dir)
	entries, err := images.CheckLayout(fsys, appImg.Digest(), multiAmd.Digest())
	if err != nil {
		t.Fatalf("CheckLayout: %v", err)
	}
	if len(entries) != 6 {
		t.Errorf("index.json has %d entries, want 6 (2 images, 2 signatures, 1 attestation, 1 referrer): %+v", len(entries), entries)
	}
	l, err := images.OpenLayout(fsys)
	if err != nil {
		t.Fatal(err)
	}
	right, wrong := loadPub(t, pub), loadPub(t, wrongPub)
	for _, d := range []v1.Hash{appImg.Digest(), multiAmd.Digest()} {
		if got, err := imagesig.VerifySignatures(ctx, l, d, []crypto.PublicKey{wrong, right}); err != nil || !slices.Equal(got, []int{1}) {
			t.Errorf("VerifySignatures(%s, [wrong, right]) = %v, %v; want [1], nil", d, got, err)
		}
		if _, err := imagesig.VerifySignatures(ctx, l, d, []crypto.PublicKey{wrong}); !errors.Is(err, images.ErrUntrusted) {
			t.Errorf("VerifySignatures(%s, wrong key): %v, want ErrUntrusted", d, err)
		}
	}
	if _, err := imagesig.VerifyAttestations(ctx, l, appImg.Digest(), []crypto.PublicKey{right}); err != nil {
		t.Errorf("VerifyAttestations(app, right key): %v", err)
	}
	if _, err := imagesig.VerifyAttestations(ctx, l, appImg.Digest(), []crypto.PublicKey{wrong}); !errors.Is(err, images.ErrUntrusted) {
		t.Errorf("VerifyAttestations(app, wrong key): %v, want ErrUntrusted", err)
	}
	if _, err := imagesig.VerifyAttestations(ctx, l, multiAmd.Digest(), []crypto.PublicKey{right}); !errors.Is(err, images.ErrUntrusted) {
		t.Errorf("VerifyAttestations(multi, none carried): %v, want ErrUntrusted", err)
	}

	// Push the app to the site registry, twice: the second push sends no blob.
	targets, err := images.PlanPush(l, dst+"/mirror")
	if err != nil {
		t.Fatal(err)
	}
	var appTarget, multiTarget *images.PushTarget
	for _, tg := range targets {
		switch tg.Image.Digest() {
		case appImg.Digest():
			appTarget = tg
		case multiAmd.Digest():
			multiTarget = tg
		}
	}
	if appTarget == nil || multiTarget == nil {
		t.Fatalf("PlanPush: %d targets, want app and multi", len(targets))
	}
	if got, want := appTarget.Repository.String(), dst+"/mirror/team/app"; got != want {
		t.Errorf("app target repository %s, want %s", got, want)
	}
	ct := &countingTransport{base: http.DefaultTransport}
	res, err := images.Push(ctx, l, appTarget, images.WithTransport(ct))
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if ct.uploads.Load() == 0 {
		t.Errorf("first push sent no blob")
	}
	if appTarget.Tag == nil || appTarget.Tag.TagStr() != "v1" || len(appTarget.Artifacts) != 3 {
		t.Errorf("app target: tag %v, artifacts %v; want v1, and .sig, .att and 1 referrer", appTarget.Tag, appTarget.Artifacts)
	}
	if res.BlobsPushed == 0 || res.BlobsSkipped != 0 {
		t.Errorf("first push: %d blobs pushed, %d skipped; want some pushed, none skipped", res.BlobsPushed, res.BlobsSkipped)
	}
	ct2 := &countingTransport{base: http.DefaultTransport}
	res2, err := images.Push(ctx, l, appTarget, images.WithTransport(ct2))
	if err != nil {
		t.Fatalf("second Push: %v", err)
	}
	if res2.BlobsPushed != 0 || res2.BlobsSkipped != res.BlobsPushed {
		t.Errorf("second push: %d blobs pushed, %d skipped; want 0 pushed, %d skipped", res2.BlobsPushed, res2.BlobsSkipped, res.BlobsPushed)
	}
	if n := ct2.uploads.Load(); n != 0 {
		t.Errorf("second push sent %d blob upload requests, want 0", n)
	}

	pushed := dst + "/mirror/team/app"
	for _, r := range []string{pushed + ":v1", pushed + "@" + appImg.Digest().String()} {
		cosign.must(t, work, "verify", "--key", pub, "--insecure-ignore-tlog", "--allow-insecure-registry", r)
		cosign.must(t, work, "verify-attestation", "--key", pub, "--type", "spdxjson", "--insecure-ignore-tlog", "--allow-insecure-registry", r)
		if out, err := cosign.run(t, work, "verify", "--key", wrongPub, "--insecure-ignore-tlog", "--allow-insecure-registry", r); err == nil {
			t.Errorf("cosign verify %s with the wrong key succeeded:\n%s", r, out)
		}
	}
	refs, err := remote.Referrers(mustRef(t, pushed).Context().Digest(appImg.Digest().String()))
	if err != nil {
		t.Fatal(err)
	}
	if im, err := refs.IndexManifest(); err != nil || len(im.Manifests) != 1 || im.Manifests[0].Digest.String() != refDigest.DigestStr() {
		t.Errorf("referrers of the pushed image: %+v, %v; want %s", im, err, refDigest.DigestStr())
	}

	// The filtered index: distribution refuses an index whose children are
	// absent, and Push says why.
	multiTo := multiTarget.Repository
	if _, err = images.Push(ctx, l, multiTarget); !errors.Is(err, images.ErrIndexRefused) {
		t.Errorf("Push of the filtered index: %v, want ErrIndexRefused", err)
	}
	// The manifest of the platform carried was pushed, by digest.
	amd := multiAmd.Blobs[1].Digest
	if _, err := remote.Head(mustRef(t, multiTo.String()+"@"+amd.String())); err != nil {
		t.Errorf("manifest %s of the filtered index in the site registry: %v", amd, err)
	}
}
