package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/internal/testtool"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign"
	"github.com/offkit/offkit/sign/signtest"
	"github.com/offkit/offkit/verify"
)

// The example kit of the repository, and the root directory of its kits.
var exampleSpec = filepath.Join("..", "..", "testdata", "example", "kit.yaml")

const exampleRoot = "concelier-lnm-21.101.0"

// toolTimeout bounds every external command: cosign tries the network for
// its TUF root and gives up quickly when there is none.
const toolTimeout = 2 * time.Minute

var fixtureDir string // removed by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "offkit-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// need returns the path of tool on PATH. Without it the test is skipped,
// or fails when OFFKIT_REQUIRE_INTEROP=1 or CI is set.
func need(t testing.TB, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	missing(t, fmt.Sprintf("%s is not on PATH (%v)", tool, err))
	return ""
}

func missing(t testing.TB, why string) {
	t.Helper()
	testtool.Missing(t, why)
}

// gnuTar returns GNU tar, checking that zstd, which it runs for .zst
// archives, is there too.
func gnuTar(t testing.TB) string {
	t.Helper()
	tar := need(t, "tar")
	need(t, "zstd")
	if r := run(t, "", baseEnv(), tar, "--version"); r.code != 0 || !strings.Contains(r.out, "GNU tar") {
		missing(t, fmt.Sprintf("%s is not GNU tar: %q", tar, firstLine(r.out)))
	}
	return tar
}

// baseEnv is the environment for external tools: ours, without anything
// that could change their behaviour or reach a real home directory, in the
// C locale and UTC, plus extra.
func baseEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME", k == "TUF_ROOT", k == "TZ", k == "LANG", strings.HasPrefix(k, "LC_"),
			strings.HasPrefix(k, "COSIGN_"), strings.HasPrefix(k, "SIGSTORE_"), k == "TAR_OPTIONS":
			continue
		}
		env = append(env, kv)
	}
	return append(env, append([]string{"LC_ALL=C", "TZ=UTC"}, extra...)...)
}

type result struct {
	out  string // stdout and stderr
	code int
}

// run runs name in dir and returns its output and exit status.
func run(t testing.TB, dir string, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %q: timed out after %v:\n%s", name, args, toolTimeout, out)
	case errors.As(err, &ee):
		return result{string(out), ee.ExitCode()}
	case err != nil:
		t.Fatalf("%s %q: %v", name, args, err)
	}
	return result{string(out), 0}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// cosign runs the cosign CLI hermetically: its own HOME and TUF_ROOT, and
// the test keys' password in COSIGN_PASSWORD.
type cosign struct {
	path string
	env  []string
}

func newCosign(t testing.TB) *cosign {
	t.Helper()
	return &cosign{
		path: need(t, "cosign"),
		env:  baseEnv("HOME="+t.TempDir(), "TUF_ROOT="+t.TempDir(), "COSIGN_PASSWORD="+signtest.Password),
	}
}

func (c *cosign) run(t testing.TB, dir string, args ...string) result {
	t.Helper()
	return run(t, dir, c.env, c.path, args...)
}

// verifyBlob runs cosign verify-blob on blob with a key and signature file.
func (c *cosign) verifyBlob(t testing.TB, pub, sig, blob string) result {
	t.Helper()
	return c.run(t, "", "verify-blob", "--key", pub, "--signature", sig, "--insecure-ignore-tlog", blob)
}

// verifyAttestation runs cosign verify-blob-attestation on file against a
// kit's manifest.dsse.json.
func (c *cosign) verifyAttestation(t testing.TB, pub, envelope, file string) result {
	t.Helper()
	return c.run(t, "", "verify-blob-attestation", "--key", pub, "--signature", envelope,
		"--type", manifest.PredicateType, "--insecure-ignore-tlog", file)
}

// wantOK and wantFail check a cosign result.
func wantOK(t testing.TB, r result, what string) {
	t.Helper()
	if r.code != 0 || !strings.Contains(r.out, "Verified OK") {
		t.Errorf("%s: exit status %d, want 0 and Verified OK; output:\n%s", what, r.code, r.out)
	}
}

func wantFail(t testing.TB, r result, what, msg string) {
	t.Helper()
	if r.code == 0 || strings.Contains(r.out, "Verified OK") || !strings.Contains(r.out, msg) {
		t.Errorf("%s: exit status %d, want a failure saying %q; output:\n%s", what, r.code, msg, r.out)
	}
}

// fixture holds keys and kits shared by the tests: they are slow to make
// (scrypt-encrypted keys) and never modified.
type fixture struct {
	a, b   *signtest.Key
	signed []byte // the example kit, signed by a
	cosign []byte // the same, co-signed by b with bundle.Sign
}

var (
	fixOnce sync.Once
	fix     *fixture
)

func getFixture(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		f := &fixture{
			a: signtest.NewKey(t, fixtureDir, "a"),
			b: signtest.NewKey(t, fixtureDir, "b"),
		}
		f.signed = bundletest.Build(t, exampleSpec, []manifest.Signer{f.a.Signer})
		var buf bytes.Buffer
		if _, err := bundle.Sign(context.Background(), &buf, bytes.NewReader(f.signed), f.b.Signer); err != nil {
			t.Fatal(err)
		}
		f.cosign = buf.Bytes()
		fix = f
	})
	if fix == nil {
		t.Fatal("the shared keys and kits could not be made (see the first test to fail)")
	}
	return fix
}

// writeFile writes b to a new file in a temp dir and returns its path.
func writeFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// extract unpacks kit with GNU tar and returns the kit's root directory.
func extract(t testing.TB, kit []byte, name string, tarArgs ...string) string {
	t.Helper()
	tar := gnuTar(t)
	file := writeFile(t, name, kit)
	dir := t.TempDir()
	if len(tarArgs) == 0 {
		tarArgs = []string{"-xf"}
	}
	if r := run(t, "", baseEnv(), tar, append(tarArgs, file, "-C", dir)...); r.code != 0 {
		t.Fatalf("tar %q %s: exit status %d:\n%s", tarArgs, name, r.code, r.out)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != exampleRoot || !ents[0].IsDir() {
		t.Fatalf("tar %s: extracted %v, want the single directory %s", name, ents, exampleRoot)
	}
	return filepath.Join(dir, exampleRoot)
}

// readSums parses root/SHA256SUMS ("<hex>  <name>" lines) on its own, not
// with offkit's parser.
func readSums(t testing.TB, root string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, manifest.SumsName))
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		hex, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(hex) != 64 || name == "" {
			t.Fatalf("SHA256SUMS: bad line %q", sc.Text())
		}
		if _, dup := sums[name]; dup {
			t.Fatalf("SHA256SUMS lists %s twice", name)
		}
		sums[name] = hex
	}
	if len(sums) == 0 {
		t.Fatal("SHA256SUMS is empty")
	}
	return sums
}

// tree returns every entry under root, by slash path relative to root
// (directories with a trailing slash), with its mode.
func tree(t testing.TB, root string) map[string]fs.FileMode {
	t.Helper()
	out := map[string]fs.FileMode{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			rel += "/"
		}
		out[rel] = fi.Mode()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// isSignatureFile reports whether name is a signature file, which
// SHA256SUMS does not list: manifest.dsse.json, SHA256SUMS.sig and
// SHA256SUMS.<n>.sig.
func isSignatureFile(name string) bool {
	if name == "manifest.dsse.json" {
		return true
	}
	ok, _ := path.Match("SHA256SUMS*.sig", name)
	return ok
}

// examplePayload returns the payload the example spec asks for: kit path to
// source file, derived from kit.yaml on its own (the example's globs are
// all element globs).
func examplePayload(t testing.TB) map[string]string {
	t.Helper()
	data, err := os.ReadFile(exampleSpec)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := manifest.ParseSpec(data, exampleSpec)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Dir(exampleSpec)
	out := map[string]string{}
	for _, c := range spec.Components {
		if c.SBOM != "" {
			out[manifest.ComponentSBOMPath(c.Name)] = filepath.Join(base, c.SBOM)
		}
		if c.Pending {
			continue
		}
		from := filepath.Join(base, c.From)
		fi, err := os.Stat(from)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().IsRegular() {
			out[c.Path] = from
			continue
		}
		err = filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			for _, g := range c.Exclude {
				if ok, _ := path.Match(g, d.Name()); ok {
					return nil
				}
			}
			rel, _ := filepath.Rel(from, p)
			out[c.Path+"/"+filepath.ToSlash(rel)] = p
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestGNUTarExtracts: GNU tar unpacks kits of every compression, detecting
// it or told it, into one root directory holding exactly the sources, the
// metadata and the signatures, with normalised modes and times.
func TestGNUTarExtracts(t *testing.T) {
	t.Parallel()
	gnuTar(t)
	f := getFixture(t)
	unsigned := func(c bundle.Compression) []byte {
		return bundletest.Build(t, exampleSpec, nil, bundle.WithCompression(c, 0))
	}
	gz, none := unsigned(bundle.Gzip), unsigned(bundle.None)
	payload := examplePayload(t)
	if _, ok := payload["migrations/21-101/apply.sh"]; !ok || len(payload) < 5 {
		t.Fatalf("example payload %v: too small, or without the executable apply.sh, to test anything", payload)
	}
	for _, tc := range []struct {
		name    string
		kit     []byte
		tarArgs []string
		sigs    []string
	}{
		{"zstd detected", f.signed, []string{"-xf"}, []string{"SHA256SUMS.sig"}},
		{"zstd --zstd", f.signed, []string{"--zstd", "-xf"}, []string{"SHA256SUMS.sig"}},
		{"zstd co-signed", f.cosign, []string{"-xf"}, []string{"SHA256SUMS.sig", "SHA256SUMS.2.sig"}},
		{"gzip detected", gz, []string{"-xf"}, nil},
		{"gzip -z", gz, []string{"-xzf"}, nil},
		{"uncompressed", none, []string{"-xf"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := extract(t, tc.kit, "kit", tc.tarArgs...)
			want := map[string]bool{"manifest.dsse.json": true, "SHA256SUMS": true, manifest.KitSBOMName: true}
			for p := range payload {
				want[p] = true
			}
			for _, s := range tc.sigs {
				want[s] = true
			}
			got := map[string]bool{}
			for p, mode := range tree(t, root) {
				if strings.HasSuffix(p, "/") {
					if mode != fs.ModeDir|0o755 {
						t.Errorf("%s: mode %v, want drwxr-xr-x", p, mode)
					}
					continue
				}
				got[p] = true
				wantMode := fs.FileMode(0o644)
				if src, ok := payload[p]; ok {
					if fi, err := os.Stat(src); err != nil {
						t.Fatal(err)
					} else if fi.Mode().Perm()&0o111 != 0 {
						wantMode = 0o755
					}
					srcData, err := os.ReadFile(src)
					if err != nil {
						t.Fatal(err)
					}
					if gotData, err := os.ReadFile(filepath.Join(root, p)); err != nil || !bytes.Equal(gotData, srcData) {
						t.Errorf("%s: extracted content differs from its source %s (%v)", p, src, err)
					}
				}
				if mode != wantMode {
					t.Errorf("%s: mode %v, want %v", p, mode, wantMode)
				}
				fi, err := os.Stat(filepath.Join(root, p))
				if err != nil {
					t.Fatal(err)
				}
				if !fi.ModTime().Equal(bundletest.Epoch) {
					t.Errorf("%s: mtime %v, want %v (SOURCE_DATE_EPOCH)", p, fi.ModTime().UTC(), bundletest.Epoch)
				}
			}
			if !maps.Equal(got, want) {
				t.Errorf("extracted files:\n%v\nwant:\n%v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
			}
		})
	}
}

// TestGNUTarListing: tar -tv shows root ownership, normalised modes, the
// kit's time, and the metadata first, in the order the format fixes.
func TestGNUTarListing(t *testing.T) {
	t.Parallel()
	tar := gnuTar(t)
	f := getFixture(t)
	execs := map[string]bool{}
	for p, src := range examplePayload(t) {
		fi, err := os.Stat(src)
		if err != nil {
			t.Fatal(err)
		}
		execs[p] = fi.Mode().Perm()&0o111 != 0
	}
	if !execs["migrations/21-101/apply.sh"] {
		t.Fatal("the example has no executable apply.sh to test modes with")
	}
	for _, tc := range []struct {
		name  string
		kit   []byte
		first []string
	}{
		{"signed", f.signed, []string{"", "manifest.dsse.json", "SHA256SUMS", "SHA256SUMS.sig", "sbom/"}},
		{"co-signed", f.cosign, []string{"", "manifest.dsse.json", "SHA256SUMS", "SHA256SUMS.sig", "SHA256SUMS.2.sig", "sbom/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, "", baseEnv(), tar, "-tvf", writeFile(t, "kit.tar.zst", tc.kit))
			if r.code != 0 {
				t.Fatalf("tar -tvf: exit status %d:\n%s", r.code, r.out)
			}
			var names []string
			for _, line := range strings.Split(strings.TrimSuffix(r.out, "\n"), "\n") {
				// -rw-r--r-- 0/0  878 2023-11-14 22:13 concelier-lnm-21.101.0/SHA256SUMS
				fields := strings.Fields(line)
				if len(fields) != 6 {
					t.Fatalf("unexpected tar -tv line %q", line)
				}
				perm, owner, when, name := fields[0], fields[1], fields[3]+" "+fields[4], fields[5]
				rel, ok := strings.CutPrefix(name, exampleRoot+"/")
				if !ok {
					t.Errorf("%s is outside the root %s/", name, exampleRoot)
				}
				names = append(names, rel)
				if owner != "0/0" && owner != "root/root" {
					t.Errorf("%s: owner %s, want 0/0 or root/root", name, owner)
				}
				wantPerm := "-rw-r--r--"
				switch {
				case strings.HasSuffix(name, "/"):
					wantPerm = "drwxr-xr-x"
				case execs[rel]:
					wantPerm = "-rwxr-xr-x"
				}
				if perm != wantPerm {
					t.Errorf("%s: %s, want %s", name, perm, wantPerm)
				}
				if when != "2023-11-14 22:13" {
					t.Errorf("%s: time %s, want 2023-11-14 22:13 (SOURCE_DATE_EPOCH, UTC)", name, when)
				}
			}
			if len(names) < len(tc.first) || !slices.Equal(names[:len(tc.first)], tc.first) {
				t.Errorf("entries start %q, want %q", names[:min(len(names), len(tc.first))], tc.first)
			}
			for p := range execs {
				if !slices.Contains(names, p) {
					t.Errorf("%s is not in the listing %q", p, names)
				}
			}
		})
	}
}

// TestSHA256SUMS: sha256sum --check --strict accepts SHA256SUMS in an
// extracted kit, and SHA256SUMS lists every file except the signatures.
func TestSHA256SUMS(t *testing.T) {
	t.Parallel()
	sha256sum := need(t, "sha256sum")
	gnuTar(t)
	f := getFixture(t)
	for _, tc := range []struct {
		name   string
		kit    []byte
		tamper string // a payload file to change before checking
	}{
		{"signed", f.signed, ""},
		{"co-signed", f.cosign, ""},
		{"tampered", f.signed, "rollback/21-102/rollback-lnm-backfill.js"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := extract(t, tc.kit, "kit.tar.zst")
			sums := readSums(t, root)
			var files []string
			for p, mode := range tree(t, root) {
				if mode.IsRegular() && p != manifest.SumsName && !isSignatureFile(p) {
					files = append(files, p)
				}
			}
			if got, want := slices.Sorted(maps.Keys(sums)), slices.Sorted(slices.Values(files)); !slices.Equal(got, want) {
				t.Errorf("SHA256SUMS lists\n%q\nwant every file but the signatures and itself:\n%q", got, want)
			}
			if tc.tamper != "" {
				p := filepath.Join(root, filepath.FromSlash(tc.tamper))
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := run(t, root, baseEnv(), sha256sum, "--check", "--strict", manifest.SumsName)
			var ok, failed []string
			for _, line := range strings.Split(strings.TrimSpace(r.out), "\n") {
				switch name, status, _ := strings.Cut(line, ": "); status {
				case "OK":
					ok = append(ok, name)
				case "FAILED":
					failed = append(failed, name)
				}
			}
			if tc.tamper == "" {
				if r.code != 0 || len(ok) != len(sums) || len(failed) != 0 {
					t.Errorf("sha256sum --check: exit status %d, %d OK of %d; output:\n%s", r.code, len(ok), len(sums), r.out)
				}
				return
			}
			if r.code != 1 || !slices.Equal(failed, []string{tc.tamper}) || len(ok) != len(sums)-1 {
				t.Errorf("sha256sum --check after changing %s: exit status %d, FAILED %q; want 1 and only it; output:\n%s", tc.tamper, r.code, failed, r.out)
			}
		})
	}
}

// TestCosignVerifyBlob: stock cosign verify-blob checks SHA256SUMS against
// its signature files, of a signed and of a co-signed kit.
func TestCosignVerifyBlob(t *testing.T) {
	t.Parallel()
	c := newCosign(t)
	f := getFixture(t)
	signed := extract(t, f.signed, "signed.tar.zst")
	cosigned := extract(t, f.cosign, "cosigned.tar.zst")
	sums, err := os.ReadFile(filepath.Join(signed, manifest.SumsName))
	if err != nil {
		t.Fatal(err)
	}
	modified := writeFile(t, manifest.SumsName, bytes.Replace(sums, []byte("  migrations/"), []byte("  migrationz/"), 1))
	for _, tc := range []struct {
		name       string
		key        *signtest.Key
		root, sig  string
		blob       string // default root/SHA256SUMS
		wantFailed string // "" for success
	}{
		{"signed/key a", f.a, signed, "SHA256SUMS.sig", "", ""},
		{"signed/key b", f.b, signed, "SHA256SUMS.sig", "", "invalid signature"},
		{"signed/modified SHA256SUMS", f.a, signed, "SHA256SUMS.sig", modified, "invalid signature"},
		{"co-signed/key a", f.a, cosigned, "SHA256SUMS.sig", "", ""},
		{"co-signed/key b", f.b, cosigned, "SHA256SUMS.2.sig", "", ""},
		{"co-signed/key b, a's signature", f.b, cosigned, "SHA256SUMS.sig", "", "invalid signature"},
		{"co-signed/key a, b's signature", f.a, cosigned, "SHA256SUMS.2.sig", "", "invalid signature"},
		{"co-signed/modified SHA256SUMS", f.b, cosigned, "SHA256SUMS.2.sig", modified, "invalid signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			blob := tc.blob
			if blob == "" {
				blob = filepath.Join(tc.root, manifest.SumsName)
			}
			r := c.verifyBlob(t, tc.key.Pub, filepath.Join(tc.root, tc.sig), blob)
			if tc.wantFailed == "" {
				wantOK(t, r, "cosign verify-blob")
			} else {
				wantFail(t, r, "cosign verify-blob", tc.wantFailed)
			}
		})
	}
}

// TestCosignVerifyBlobAttestation: stock cosign verify-blob-attestation
// accepts manifest.dsse.json as an attestation of every file SHA256SUMS
// lists, and of SHA256SUMS itself, with the key of each signer; and of
// nothing else.
func TestCosignVerifyBlobAttestation(t *testing.T) {
	t.Parallel()
	c := newCosign(t)
	f := getFixture(t)
	signed := extract(t, f.signed, "signed.tar.zst")
	cosigned := extract(t, f.cosign, "cosigned.tar.zst")

	type check struct {
		name, pub, root, file, wantFailed string
	}
	var checks []check
	for _, k := range []struct {
		name string
		root string
		keys []*signtest.Key
	}{
		{"signed", signed, []*signtest.Key{f.a}},
		{"co-signed", cosigned, []*signtest.Key{f.a, f.b}},
	} {
		names := append(slices.Sorted(maps.Keys(readSums(t, k.root))), manifest.SumsName)
		for i, key := range k.keys {
			for _, n := range names {
				checks = append(checks, check{fmt.Sprintf("%s/key %d/%s", k.name, i+1, n), key.Pub, k.root, filepath.Join(k.root, n), ""})
			}
		}
	}
	apply := filepath.Join(signed, "migrations", "21-101", "apply.sh")
	b, err := os.ReadFile(apply)
	if err != nil {
		t.Fatal(err)
	}
	checks = append(checks,
		check{"signed/other key", f.b.Pub, signed, apply, "accepted signatures do not match threshold, Found: 0"},
		check{"signed/file not in kit", f.a.Pub, signed, exampleSpec, "no matching subject digest"},
		check{"signed/changed file", f.a.Pub, signed, writeFile(t, "apply.sh", append(b, '\n')), "no matching subject digest"},
		check{"signed/signature file", f.a.Pub, signed, filepath.Join(signed, "SHA256SUMS.sig"), "no matching subject digest"},
		check{"co-signed/signature file", f.b.Pub, cosigned, filepath.Join(cosigned, "SHA256SUMS.2.sig"), "no matching subject digest"},
	)
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := c.verifyAttestation(t, tc.pub, filepath.Join(tc.root, manifest.EnvelopeName), tc.file)
			if tc.wantFailed == "" {
				wantOK(t, r, "cosign verify-blob-attestation")
			} else {
				wantFail(t, r, "cosign verify-blob-attestation", tc.wantFailed)
			}
		})
	}

	t.Run("other predicate type", func(t *testing.T) {
		t.Parallel()
		r := c.run(t, "", "verify-blob-attestation", "--key", f.a.Pub, "--signature", filepath.Join(signed, manifest.EnvelopeName),
			"--type", "https://example.com/not-a-kit/v1", "--insecure-ignore-tlog", filepath.Join(signed, manifest.SumsName))
		wantFail(t, r, "cosign verify-blob-attestation --type other", "invalid predicate type, expected https://example.com/not-a-kit/v1 got "+manifest.PredicateType)
	})
}

// TestCosignKeysSignKits: a key pair from cosign generate-key-pair signs
// kits with offkit, which offkit and cosign then verify.
func TestCosignKeysSignKits(t *testing.T) {
	t.Parallel()
	c := newCosign(t)
	f := getFixture(t)
	dir := t.TempDir()
	if r := c.run(t, dir, "generate-key-pair"); r.code != 0 {
		t.Fatalf("cosign generate-key-pair: exit status %d:\n%s", r.code, r.out)
	}
	priv, pub := filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	s, err := sign.LoadPrivateKey(priv, []byte(signtest.Password))
	if err != nil {
		t.Fatalf("offkit cannot load cosign's private key: %v", err)
	}
	v, err := sign.LoadPublicKey(pub)
	if err != nil {
		t.Fatalf("offkit cannot load cosign's public key: %v", err)
	}
	key := &signtest.Key{Priv: priv, Pub: pub, Signer: s, Verifier: v}
	if s.KeyID() != v.KeyID() {
		t.Fatalf("key IDs of cosign's key pair differ: %s, %s", s.KeyID(), v.KeyID())
	}

	var cosigned bytes.Buffer
	if _, err := bundle.Sign(context.Background(), &cosigned, bytes.NewReader(f.signed), s); err != nil {
		t.Fatalf("co-sign with cosign's key: %v", err)
	}
	for _, tc := range []struct {
		name    string
		kit     []byte
		sumsSig string // cosign's key's SHA256SUMS signature file
		trusted []*sign.Verifier
		wantErr error
	}{
		{"built", bundletest.Build(t, exampleSpec, []manifest.Signer{key.Signer}), "SHA256SUMS.sig", []*sign.Verifier{v}, nil},
		{"co-signed", cosigned.Bytes(), "SHA256SUMS.2.sig", []*sign.Verifier{v}, nil},
		{"built/other key", bundletest.Build(t, exampleSpec, []manifest.Signer{key.Signer}), "SHA256SUMS.sig", []*sign.Verifier{f.a.Verifier}, verify.ErrUntrusted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := verify.Verify(context.Background(), bytes.NewReader(tc.kit), verify.WithKeys(tc.trusted...))
			if !errors.Is(err, tc.wantErr) || (err == nil) != rep.Verified {
				t.Fatalf("offkit verify: %v, verified %v; want %v", err, rep.Verified, tc.wantErr)
			}
			if tc.wantErr == nil {
				last := rep.Signers[len(rep.Signers)-1]
				if !last.Trusted || last.KeyID != v.KeyID() || last.Key != pub || last.SumsSignature != tc.sumsSig {
					t.Errorf("offkit verify: last signer %+v, want trusted cosign.pub (%s) with %s", last, v.KeyID(), tc.sumsSig)
				}
			}
			root := extract(t, tc.kit, "kit.tar.zst")
			wantOK(t, c.verifyBlob(t, pub, filepath.Join(root, tc.sumsSig), filepath.Join(root, manifest.SumsName)), "cosign verify-blob")
			wantOK(t, c.verifyAttestation(t, pub, filepath.Join(root, manifest.EnvelopeName), filepath.Join(root, manifest.SumsName)), "cosign verify-blob-attestation")
		})
	}
}

// TestOffkitKeysWithCosign: a key pair from offkit keygen's code signs blobs
// with cosign sign-blob, whose signatures offkit verifies; and offkit's
// signatures with it verify with cosign verify-blob.
func TestOffkitKeysWithCosign(t *testing.T) {
	t.Parallel()
	c := newCosign(t)
	f := getFixture(t)
	blob := writeFile(t, "blob.txt", []byte("an offline kit, signed twice\n"))
	other := []byte("an offline kit, signed twice!\n")

	t.Run("cosign sign-blob, offkit verifies", func(t *testing.T) {
		t.Parallel()
		sigFile := filepath.Join(t.TempDir(), "blob.sig")
		r := c.run(t, "", "sign-blob", "--key", f.a.Priv, "--tlog-upload=false", "--yes", "--output-signature", sigFile, blob)
		if r.code != 0 {
			t.Fatalf("cosign sign-blob with offkit's key: exit status %d:\n%s", r.code, r.out)
		}
		raw, err := os.ReadFile(sigFile)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := sign.DecodeSignature(raw)
		if err != nil {
			t.Fatalf("offkit cannot decode cosign's signature %q: %v", raw, err)
		}
		msg, _ := os.ReadFile(blob)
		if err := f.a.Verifier.Verify(msg, sig); err != nil {
			t.Errorf("offkit rejects cosign's signature: %v", err)
		}
		if err := f.a.Verifier.Verify(other, sig); !errors.Is(err, sign.ErrBadSignature) {
			t.Errorf("offkit accepts cosign's signature over other content: %v", err)
		}
		if err := f.b.Verifier.Verify(msg, sig); !errors.Is(err, sign.ErrBadSignature) {
			t.Errorf("offkit accepts cosign's signature with another key: %v", err)
		}
		wantOK(t, c.verifyBlob(t, f.a.Pub, sigFile, blob), "cosign verify-blob")
	})

	t.Run("offkit signs, cosign verify-blob", func(t *testing.T) {
		t.Parallel()
		msg, _ := os.ReadFile(blob)
		sig, err := f.a.Signer.Sign(context.Background(), msg)
		if err != nil {
			t.Fatal(err)
		}
		sigFile := writeFile(t, "blob.sig", sign.EncodeSignature(sig))
		wantOK(t, c.verifyBlob(t, f.a.Pub, sigFile, blob), "cosign verify-blob")
		wantFail(t, c.verifyBlob(t, f.b.Pub, sigFile, blob), "cosign verify-blob with another key", "invalid signature")
		wantFail(t, c.verifyBlob(t, f.a.Pub, sigFile, writeFile(t, "other.txt", other)), "cosign verify-blob of other content", "invalid signature")
	})
}

// TestKitSBOM: the kit's SPDX document reads with tools-golang and lists
// every file of SHA256SUMS but itself, with the same SHA256, and a package
// per component.
func TestKitSBOM(t *testing.T) {
	t.Parallel()
	f := getFixture(t)
	for _, tc := range []struct {
		name string
		kit  []byte
	}{
		{"signed", f.signed},
		{"co-signed", f.cosign},
		{"unsigned gzip", bundletest.Build(t, exampleSpec, nil, bundle.WithCompression(bundle.Gzip, 0))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd, err := bundle.Open(bytes.NewReader(tc.kit))
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			sbom := rd.Head.File(manifest.KitSBOMName)
			if sbom == nil {
				t.Fatalf("no %s", manifest.KitSBOMName)
			}
			doc, err := spdxjson.Read(bytes.NewReader(sbom))
			if err != nil {
				t.Fatalf("tools-golang cannot read %s: %v", manifest.KitSBOMName, err)
			}
			if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" || doc.DocumentName != exampleRoot ||
				!strings.HasPrefix(doc.DocumentNamespace, "https://offkit.dev/spdx/"+exampleRoot+"-") {
				t.Errorf("SPDX document header: version %q, license %q, name %q, namespace %q", doc.SPDXVersion, doc.DataLicense, doc.DocumentName, doc.DocumentNamespace)
			}
			if doc.CreationInfo == nil || doc.CreationInfo.Created != "2023-11-14T22:13:20Z" {
				t.Errorf("SPDX creationInfo %+v, want created 2023-11-14T22:13:20Z", doc.CreationInfo)
			}

			// SHA256SUMS, parsed on its own.
			want := map[string]string{}
			for _, line := range strings.Split(strings.TrimSuffix(string(rd.Head.File(manifest.SumsName)), "\n"), "\n") {
				hex, name, _ := strings.Cut(line, "  ")
				want[name] = hex
			}
			delete(want, manifest.KitSBOMName)
			got := map[string]string{}
			for _, file := range doc.Files {
				name, ok := strings.CutPrefix(file.FileName, "./")
				if !ok {
					t.Errorf("SPDX file name %q does not start with ./", file.FileName)
				}
				if _, dup := got[name]; dup {
					t.Errorf("SPDX lists %s twice", name)
				}
				got[name] = ""
				for _, c := range file.Checksums {
					if c.Algorithm == "SHA256" {
						got[name] = c.Value
					}
				}
			}
			if !maps.Equal(got, want) {
				t.Errorf("SPDX files and SHA256s:\n%v\nwant SHA256SUMS but the SBOM itself:\n%v", got, want)
			}
			for p := range examplePayload(t) {
				if _, ok := got[p]; !ok {
					t.Errorf("SPDX does not list payload file %s", p)
				}
			}

			var pkgs []string
			for _, p := range doc.Packages {
				pkgs = append(pkgs, p.PackageName)
			}
			for _, c := range rd.Head.Manifest.Components {
				if !slices.Contains(pkgs, c.Name) {
					t.Errorf("SPDX has no package for component %s (packages %q)", c.Name, pkgs)
				}
			}
			if !slices.Contains(pkgs, "object-store-seeds") {
				t.Errorf("SPDX has no package for the pending component (packages %q)", pkgs)
			}
		})
	}
}
