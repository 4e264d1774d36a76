package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/offkit/offkit/internal/registrytest"
	"github.com/offkit/offkit/internal/s3test"
	"github.com/offkit/offkit/sign/signtest"
)

// publishKits builds, in dir, the example kit signed by a (a.tar.zst) and
// by b (b.tar.zst), a copy of a's with a payload byte flipped
// (bad.tar.zst), and a kit of 48 MiB of random data signed by a
// (big.tar.zst), and returns a's and b's keys.
func publishKits(t *testing.T, dir string) (a, b *signtest.Key) {
	t.Helper()
	a, b = signtest.NewKey(t, dir, "a"), signtest.NewKey(t, dir, "b")
	example, err := filepath.Abs(filepath.Join("..", "..", "testdata", "example", "kit.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		out string
		key *signtest.Key
	}{{"a.tar.zst", a}, {"b.tar.zst", b}} {
		if r := offkit(t, dir, "build", example, "-o", k.out, "--key", k.key.Priv); r.code != 0 {
			t.Fatalf("build %s: exit %d\n%s", k.out, r.code, r.stderr)
		}
	}
	kit, err := os.ReadFile(filepath.Join(dir, "a.tar.zst"))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(kit)
	bad[len(bad)-100] ^= 1
	writeFile(t, filepath.Join(dir, "bad.tar.zst"), bad)

	big := filepath.Join(dir, "big")
	data := make([]byte, 48<<20)
	r := rand.New(rand.NewPCG(9, 9))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	writeFile(t, filepath.Join(big, "data", "random.bin"), data)
	writeFile(t, filepath.Join(big, "kit.yaml"), []byte("name: big\nversion: 1.0.0\ncomponents:\n  - name: data\n    type: data\n    from: data\n    path: data\n"))
	if r := offkit(t, dir, "build", filepath.Join(big, "kit.yaml"), "-o", "big.tar.zst", "--key", a.Priv); r.code != 0 {
		t.Fatalf("build big: exit %d\n%s", r.code, r.stderr)
	}
	return a, b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPublishS3EndToEnd is the release pipeline's last step against a real
// S3 server (VersityGW), with the real binary: refused kits leave nothing
// (no object, no multipart upload); a verified one is published with its
// signed release record; the site pulls it, verifies and inspects it in
// place, and refuses it once its bytes change in the bucket; a network
// that dies, and Ctrl-C, mid-upload leave nothing visible; the secret key
// never appears in any output.
func TestPublishS3EndToEnd(t *testing.T) {
	t.Parallel()
	srv := s3test.New(t)
	srv.CreateBucket(t, "releases")
	proxy := s3test.NewProxy(t, srv.Endpoint)
	env := s3test.Env(proxy.Endpoint)
	work := t.TempDir()
	a, b := publishKits(t, work)
	kit, _ := os.ReadFile(filepath.Join(work, "a.tar.zst"))
	const to = "s3://releases/concelier"
	const url = to + "/concelier-lnm/21.101.0"
	const key = "concelier/concelier-lnm/21.101.0/concelier-lnm-21.101.0.tar.zst"
	var outputs []string
	run := func(want int, args ...string) runResult {
		t.Helper()
		r := offkitEnv(t, work, env, args...)
		outputs = append(outputs, r.stdout, r.stderr)
		if r.code != want {
			t.Fatalf("offkit %s: exit %d, want %d\n%s%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
		}
		return r
	}
	nothing := func(what string) {
		t.Helper()
		if k := srv.Keys(t, "releases"); len(k) != 0 {
			t.Fatalf("%s: the bucket holds %q", what, k)
		}
		if u := srv.Uploads(t, "releases"); len(u) != 0 {
			t.Fatalf("%s: multipart uploads left: %q", what, u)
		}
	}

	r := run(4, "publish", "b.tar.zst", "--to", to, "--key", a.Pub)
	if !strings.Contains(r.stdout, "FAILED: nothing was published") {
		t.Errorf("untrusted publish:\n%s", r.stdout)
	}
	nothing("untrusted kit")
	run(3, "publish", "bad.tar.zst", "--to", to, "--key", a.Pub)
	nothing("corrupt kit")

	r = run(0, "publish", "a.tar.zst", "--to", to, "--key", a.Pub, "--record-key", a.Priv, "--json")
	var res struct {
		SchemaVersion string `json:"schemaVersion"`
		Published     bool   `json:"published"`
		URL           string `json:"url"`
		SHA256        string `json:"sha256"`
		Record        bool   `json:"record"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("publish --json: %v\n%s", err, r.stdout)
	}
	if res.SchemaVersion != "offkit.dev/publish/v1" || !res.Published || res.URL != url || !res.Record || res.SHA256 != sha256Hex(kit) {
		t.Errorf("publish result %+v", res)
	}
	if got, err := os.ReadFile(filepath.Join(srv.Dir, "releases", key)); err != nil || !bytes.Equal(got, kit) {
		t.Fatalf("the object is not the kit (%v)", err)
	}
	keys := srv.Keys(t, "releases")
	if want := []string{"concelier/concelier-lnm/21.101.0/.offkit-kit", "concelier/concelier-lnm/21.101.0/concelier-lnm-21.101.0.release.json", key}; !slices.Equal(keys, want) {
		t.Errorf("keys %q, want %q", keys, want)
	}
	r = run(0, "publish", "a.tar.zst", "--to", to, "--key", a.Pub)
	if !strings.Contains(r.stdout, "Already published: "+url) {
		t.Errorf("second publish:\n%s", r.stdout)
	}
	r = run(0, "list", to)
	if !regexpMatch(`(?m)^concelier-lnm +21\.101\.0 +5\.[0-9] KiB +20[0-9-]+T[0-9:]+Z +yes +`+url+`$`, r.stdout) {
		t.Errorf("list:\n%s", r.stdout)
	}

	// The site: pull, verify and inspect in place.
	run(0, "pull", url, "-o", "pulled.tar.zst", "--key", a.Pub)
	if got, _ := os.ReadFile(filepath.Join(work, "pulled.tar.zst")); !bytes.Equal(got, kit) {
		t.Fatal("pulled kit differs from the published one")
	}
	run(0, "verify", url, "--key", a.Pub)
	run(4, "verify", url, "--key", b.Pub)
	r = run(0, "inspect", url, "--json")
	if !strings.Contains(r.stdout, `"name": "concelier-lnm"`) {
		t.Errorf("inspect URL:\n%s", r.stdout)
	}

	// Inspecting a published 48 MiB kit in place reads its head, not the kit.
	run(0, "publish", "big.tar.zst", "--to", to, "--key", a.Pub)
	bigSize := fileSize(t, filepath.Join(work, "big.tar.zst"))
	proxy.Reset()
	r = run(0, "inspect", to+"/big/1.0.0")
	if !strings.Contains(r.stdout, "random.bin") && !strings.Contains(r.stdout, "data") {
		t.Errorf("inspect big:\n%s", r.stdout)
	}
	if down := proxy.Down(); down > bigSize/4 {
		t.Errorf("inspect in place fetched %d bytes of a %d-byte kit", down, bigSize)
	} else {
		t.Logf("inspect in place fetched %d bytes of a %d-byte kit", down, bigSize)
	}

	// The object changes in the bucket: pull refuses it, writing nothing.
	obj := filepath.Join(srv.Dir, "releases", key)
	tampered := bytes.Clone(kit)
	tampered[len(tampered)-100] ^= 1
	if err := os.WriteFile(obj, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	run(3, "pull", url, "-o", "tampered.tar.zst", "--key", a.Pub)
	if _, err := os.Stat(filepath.Join(work, "tampered.tar.zst")); err == nil {
		t.Error("a refused pull left its output")
	}
	run(3, "verify", url, "--key", a.Pub)

	// The network dies mid-upload: exit 1, nothing visible.
	proxy.CutAfter(12 << 20)
	r = run(1, "publish", "big.tar.zst", "--to", to+"/cut", "--key", a.Pub)
	if !strings.Contains(r.stdout+r.stderr, "s3://releases/concelier/cut/big/1.0.0") {
		t.Errorf("the failure does not say where:\n%s%s", r.stdout, r.stderr)
	}
	proxy.CutAfter(1 << 62)
	for _, k := range srv.Keys(t, "releases") {
		if strings.HasPrefix(k, "concelier/cut/") {
			t.Errorf("visible after the network died: %s", k)
		}
	}

	// Ctrl-C mid-upload: the upload is aborted, nothing is left.
	bin, _ := exec.LookPath("offkit")
	cmd := exec.Command(bin, "publish", "big.tar.zst", "--to", to+"/sigint", "--key", a.Pub)
	cmd.Dir, cmd.Env = work, append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	proxy.Reset()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for proxy.Up() < 20<<20 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	outputs = append(outputs, stdout.String(), stderr.String())
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("publish after Ctrl-C: %v, want exit 1\n%s%s", err, &stdout, &stderr)
	}
	if !strings.Contains(stdout.String(), "FAILED: nothing was published") || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("publish after Ctrl-C:\n%s%s", &stdout, &stderr)
	}
	for _, k := range srv.Keys(t, "releases") {
		if strings.HasPrefix(k, "concelier/sigint/") {
			t.Errorf("visible after Ctrl-C: %s", k)
		}
	}
	for _, u := range srv.Uploads(t, "releases") {
		if strings.HasPrefix(u, "concelier/sigint/") {
			t.Errorf("multipart upload left after Ctrl-C: %s", u)
		}
	}

	for _, o := range outputs {
		if strings.Contains(o, s3test.SecretKey) {
			t.Fatalf("the secret key is in offkit's output:\n%s", o)
		}
	}
}

// TestPublishOCIEndToEnd: the same with an OCI registry (distribution):
// refused kits push nothing; a verified one becomes a tag; pull, verify
// and list read it back.
func TestPublishOCIEndToEnd(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	work := t.TempDir()
	a, b := publishKits(t, work)
	kit, _ := os.ReadFile(filepath.Join(work, "a.tar.zst"))
	to := "oci://" + reg.Host + "/releases/concelier-lnm"
	run := func(want int, args ...string) runResult {
		t.Helper()
		r := offkit(t, work, args...)
		if r.code != want {
			t.Fatalf("offkit %s: exit %d, want %d\n%s%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
		}
		return r
	}
	tags := func() []string {
		t.Helper()
		repo, err := name.NewRepository(reg.Host + "/releases/concelier-lnm")
		if err != nil {
			t.Fatal(err)
		}
		tags, err := remote.List(repo, remote.WithContext(context.Background()))
		if err != nil && !strings.Contains(err.Error(), "NAME_UNKNOWN") {
			t.Fatal(err)
		}
		return tags
	}
	run(4, "publish", "b.tar.zst", "--to", to, "--key", a.Pub)
	run(3, "publish", "bad.tar.zst", "--to", to, "--key", a.Pub)
	if got := tags(); len(got) != 0 {
		t.Fatalf("after refused publishes the repository has tags %q", got)
	}
	r := run(0, "publish", "a.tar.zst", "--to", to, "--key", a.Pub, "--record-key", a.Priv)
	if !strings.Contains(r.stdout, "Published "+to+":21.101.0") {
		t.Errorf("publish:\n%s", r.stdout)
	}
	if got := tags(); !slices.Contains(got, "21.101.0") {
		t.Errorf("tags %q, want 21.101.0", got)
	}
	run(0, "publish", "a.tar.zst", "--to", to, "--key", a.Pub)
	run(0, "pull", to+":21.101.0", "-o", "pulled.tar.zst", "--key", a.Pub)
	if got, _ := os.ReadFile(filepath.Join(work, "pulled.tar.zst")); !bytes.Equal(got, kit) {
		t.Fatal("pulled kit differs from the published one")
	}
	run(0, "verify", to+":21.101.0", "--key", a.Pub)
	run(4, "verify", to+":21.101.0", "--key", b.Pub)
	r = run(0, "list", to)
	if !regexpMatch(`(?m)^concelier-lnm +21\.101\.0 .* yes +`+regexpQuote(to+":21.101.0")+`$`, r.stdout) {
		t.Errorf("list:\n%s", r.stdout)
	}
	run(1, "pull", to+":9.9.9", "-o", "none.tar.zst", "--key", a.Pub)
	if _, err := os.Stat(filepath.Join(work, "none.tar.zst")); err == nil {
		t.Error("a failed pull left its output")
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

func regexpQuote(s string) string { return regexp.QuoteMeta(s) }
