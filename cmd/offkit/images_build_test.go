package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/internal/registrytest"
	"github.com/offkit/offkit/internal/testtool"
	"github.com/offkit/offkit/internal/version"
	"github.com/offkit/offkit/sign/signtest"
)

// TestImageScripts runs the scripts in testdata/script-images, which build
// kits with images. Scripts cannot make images, so each work directory
// starts with what they need, made here:
//
//	img/             an OCI image layout: example.org/team/app:v1, and
//	                 multi, a two-platform index (linux/amd64, linux/arm64/v8)
//	src/m/001.sql    a migration, for a regular component
//	$REGISTRY        host:port of a real registry (internal/registrytest)
//	                 holding team/app:v1, signed with cosign (image.key,
//	                 image.pub: in the work directory); "REGISTRY/" in the
//	                 script's kit.yaml files is replaced by "$REGISTRY/"
//	$APP_DIGEST      the digest of img's example.org/team/app:v1
//	$REGISTRY_DIGEST the digest of $REGISTRY/team/app:v1
//	$MULTI_DIGEST    the digest of img's multi
func TestImageScripts(t *testing.T) {
	t.Parallel()
	cosign := findCosign(t)
	reg := registrytest.Start(t)

	// A registry image, signed with the cosign CLI.
	keys := t.TempDir()
	regImg := bundletest.RandomImage(t, 100)
	ref, err := name.ParseReference(reg + "/team/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, regImg); err != nil {
		t.Fatal(err)
	}
	regDigest := bundletest.Digest(t, regImg).String()
	runCosign(t, cosign, keys, "generate-key-pair")
	runCosign(t, cosign, keys, "sign", "--key", "cosign.key", "--tlog-upload=false", "--allow-insecure-registry", "-y", reg+"/team/app@"+regDigest)

	app := bundletest.RandomImage(t, 1)
	multi, _ := bundletest.PlatformIndex(t, 10)
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script-images"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("COSIGN_PASSWORD", signtest.Password)
			env.Setenv("SOURCE_DATE_EPOCH", strconv.FormatInt(bundletest.Epoch.Unix(), 10))
			env.Setenv("OFFKIT_VERSION", version.String())
			env.Setenv("REGISTRY", reg)
			env.Setenv("REGISTRY_DIGEST", regDigest)
			env.Setenv("APP_DIGEST", bundletest.Digest(t, app).String())
			env.Setenv("MULTI_DIGEST", bundletest.Digest(t, multi).String())
			// The registry's credentials come from the Docker config: none.
			env.Setenv("DOCKER_CONFIG", filepath.Join(env.WorkDir, ".docker"))
			bundletest.WriteLayout(t, filepath.Join(env.WorkDir, "img"), map[string]any{"example.org/team/app:v1": app, "multi": multi})
			if err := os.MkdirAll(filepath.Join(env.WorkDir, "src", "m"), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(env.WorkDir, "src", "m", "001.sql"), []byte("CREATE TABLE t (id int);\n"), 0o644); err != nil {
				return err
			}
			yamls, _ := filepath.Glob(filepath.Join(env.WorkDir, "*.yaml"))
			for _, y := range yamls {
				b, err := os.ReadFile(y)
				if err != nil {
					return err
				}
				if err := os.WriteFile(y, []byte(strings.ReplaceAll(string(b), "REGISTRY/", reg+"/")), 0o644); err != nil {
					return err
				}
			}
			for _, f := range []string{"cosign.key", "cosign.pub"} {
				b, err := os.ReadFile(filepath.Join(keys, f))
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(env.WorkDir, "image."+strings.TrimPrefix(f, "cosign.")), b, 0o600); err != nil {
					return err
				}
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitcode,
			"replace":  cmdReplace,
			"sha256":   cmdSHA256,
		},
	})
}

// findCosign finds the cosign CLI on PATH. Without it the test is skipped,
// or fails when OFFKIT_REQUIRE_INTEROP=1 or CI is set.
func findCosign(t *testing.T) string {
	t.Helper()
	return testtool.Need(t, "cosign")
}

// runCosign runs cosign hermetically in dir: its own HOME and TUF_ROOT.
func runCosign(t *testing.T, cosign, dir string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cosign, args...)
	cmd.Dir = dir
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "HOME" || k == "TUF_ROOT" || k == "DOCKER_CONFIG" || strings.HasPrefix(k, "COSIGN_") || strings.HasPrefix(k, "SIGSTORE_") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "HOME="+t.TempDir(), "TUF_ROOT="+t.TempDir(), "COSIGN_PASSWORD="+signtest.Password, "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestImagesBuildRefusesBadNames: offkit build refuses (exit 3, no kit
// written) an image source whose repository path or tag is not an OCI
// distribution name, such as one with a ".." that push would climb out of
// its prefix with, and builds the same image under a valid name.
func TestImagesBuildRefusesBadNames(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	key := signtest.NewKey(t, work, "kit")
	img := bundletest.RandomImage(t, 7)
	bundletest.WriteLayout(t, filepath.Join(work, "img"), map[string]any{
		"team/../../prod/postgres:v1": img, "team/app:.v1": img, "team/app:v1": img,
	})
	for _, tc := range []struct {
		ref, want string // want "" means the build succeeds
	}{
		{"team/../../prod/postgres:v1", `element 2, ".."`},
		{"team/app:.v1", `tag ".v1"`},
		{"team/app:v1", ""},
	} {
		spec := filepath.Join(work, "kit.yaml")
		yaml := "name: names\nversion: 1.0.0\ncomponents:\n  - name: app\n    image: oci:img:" + tc.ref + "\n"
		if err := os.WriteFile(spec, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(work, "out.tar.zst")
		r := runOffkit(t, work, []string{"COSIGN_PASSWORD=" + signtest.Password,
			"SOURCE_DATE_EPOCH=" + strconv.FormatInt(bundletest.Epoch.Unix(), 10)}, "build", spec, "-o", out, "--key", key.Priv)
		_, statErr := os.Stat(out)
		if tc.want == "" {
			if r.code != 0 || statErr != nil {
				t.Errorf("build of %s: exit %d (%v), want a kit\n%s%s", tc.ref, r.code, statErr, r.stdout, r.stderr)
			}
			continue
		}
		if r.code != 3 || !strings.Contains(r.stderr, tc.want) || statErr == nil {
			t.Errorf("build of %s: exit %d, kit written: %v; want exit 3 naming %q and no kit\n%s%s", tc.ref, r.code, statErr == nil, tc.want, r.stdout, r.stderr)
		}
	}
}
