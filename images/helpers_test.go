package images_test

import (
	"context"
	"errors"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/offkit/offkit/internal/testtool"
)

// toolTimeout bounds every cosign run.
const toolTimeout = 2 * time.Minute

// cosignPassword protects the test keys.
const cosignPassword = "offkit-images-test"

// randomImage returns a small OCI image made from seed.
func randomImage(t testing.TB, seed int64) v1.Image {
	t.Helper()
	img, err := random.Image(2048, 2, random.WithSource(rand.NewSource(seed)))
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	return img
}

// platformIndex returns an OCI index of two images, for linux/amd64 and
// linux/arm64/v8.
func platformIndex(t testing.TB, seed int64) (v1.ImageIndex, map[string]v1.Image) {
	t.Helper()
	imgs := map[string]v1.Image{
		"linux/amd64":    randomImage(t, seed),
		"linux/arm64/v8": randomImage(t, seed+1),
	}
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

func digestOf(t testing.TB, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustRef(t testing.TB, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// countingTransport counts the blob uploads (POST and PUT of
// /blobs/uploads/) sent through it.
type countingTransport struct {
	base    http.RoundTripper
	uploads atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if (req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch) &&
		strings.Contains(req.URL.Path, "/blobs/uploads/") {
		c.uploads.Add(1)
	}
	return c.base.RoundTrip(req)
}

// cosignCLI runs the real cosign CLI hermetically: its own HOME and
// TUF_ROOT, the test keys' password in COSIGN_PASSWORD.
type cosignCLI struct {
	path string
	env  []string
}

// needCosign finds cosign on PATH. Without it the test is skipped, or fails
// when OFFKIT_REQUIRE_INTEROP=1 or CI is set.
func needCosign(t testing.TB) *cosignCLI {
	t.Helper()
	p := testtool.Need(t, "cosign")
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "HOME" || k == "TUF_ROOT" || k == "DOCKER_CONFIG" || strings.HasPrefix(k, "COSIGN_") || strings.HasPrefix(k, "SIGSTORE_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+t.TempDir(), "TUF_ROOT="+t.TempDir(), "COSIGN_PASSWORD="+cosignPassword, "LC_ALL=C")
	return &cosignCLI{path: p, env: env}
}

// run runs cosign in dir and returns its combined output and error.
func (c *cosignCLI) run(t testing.TB, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, args...)
	cmd.Dir, cmd.Env = dir, c.env
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("cosign %q: timed out after %v:\n%s", args, toolTimeout, out)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("cosign %q: %v", args, err)
	}
	return string(out), err
}

// must runs cosign and fails the test unless it succeeds.
func (c *cosignCLI) must(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := c.run(t, dir, args...)
	if err != nil {
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// keyPair generates a cosign key pair in a new directory and returns the
// paths of the private and public keys.
func (c *cosignCLI) keyPair(t testing.TB) (priv, pub string) {
	t.Helper()
	dir := t.TempDir()
	c.must(t, dir, "generate-key-pair")
	return filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
}

func pushImage(t testing.TB, ref string, img v1.Image) name.Digest {
	t.Helper()
	r := mustRef(t, ref)
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return r.Context().Digest(digestOf(t, img).String())
}

func pushIndex(t testing.TB, ref string, idx v1.ImageIndex) name.Digest {
	t.Helper()
	r := mustRef(t, ref)
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return r.Context().Digest(digestOf(t, idx).String())
}
