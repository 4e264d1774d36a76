package unpack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign/signtest"
	"github.com/offkit/offkit/unpack"
	"github.com/offkit/offkit/verify"
)

// The kit bundletest builds: demo 1.2.3.
const root = "demo-1.2.3"

// keys are made once: cosign key generation is slow.
var keys struct{ a, b *signtest.Key }

func keyA(t *testing.T) *signtest.Key {
	if keys.a == nil {
		keys.a = signtest.NewKey(t, os.TempDir(), fmt.Sprintf("offkit-unpack-test-a-%d", os.Getpid()))
		keys.b = signtest.NewKey(t, os.TempDir(), fmt.Sprintf("offkit-unpack-test-b-%d", os.Getpid()))
	}
	return keys.a
}

func keyB(t *testing.T) *signtest.Key { keyA(t); return keys.b }

func TestMain(m *testing.M) {
	code := m.Run()
	for _, k := range []*signtest.Key{keys.a, keys.b} {
		if k != nil {
			os.Remove(k.Priv)
			os.Remove(k.Pub)
		}
	}
	os.Exit(code)
}

// buildKit builds bundletest's kit (three components, nested directories,
// an executable run.sh, SBOMs) with comp, signed by a and b.
func buildKit(t *testing.T, comp bundle.Compression) []byte {
	t.Helper()
	spec := bundletest.WriteSpec(t, t.TempDir())
	return bundletest.Build(t, spec, []manifest.Signer{keyA(t).Signer, keyB(t).Signer}, bundle.WithCompression(comp, 0))
}

// spy wraps the Unpacker to record what verify asked of it, and lets a
// test act in the middle of the payload.
type spy struct {
	x       verify.Extractor
	calls   []string
	onEntry func(e *bundle.Entry, err error) error
}

func (s *spy) Start(h *bundle.Head) error {
	s.calls = append(s.calls, "start")
	return s.x.Start(h)
}

func (s *spy) Entry(e *bundle.Entry) error {
	s.calls = append(s.calls, "entry "+e.Name)
	err := s.x.Entry(e)
	if s.onEntry != nil {
		if err2 := s.onEntry(e, err); err2 != nil {
			return err2
		}
	}
	return err
}

func (s *spy) Commit() error { s.calls = append(s.calls, "commit"); return s.x.Commit() }
func (s *spy) Abort()        { s.calls = append(s.calls, "abort"); s.x.Abort() }

func (s *spy) called(name string) bool {
	return slices.ContainsFunc(s.calls, func(c string) bool { return c == name || strings.HasPrefix(c, name+" ") })
}

// unpackInto verifies kit with key a's verifier and unpacks it into dir.
// The Unpacker is closed before returning, as the CLI does.
func unpackInto(t *testing.T, ctx context.Context, r io.Reader, dir string, opts unpack.Options, s *spy, vopts ...verify.Option) (*unpack.Unpacker, *verify.Report, error) {
	t.Helper()
	u, err := unpack.New(dir, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer u.Close()
	if s == nil {
		s = &spy{}
	}
	s.x = u
	if len(vopts) == 0 {
		vopts = []verify.Option{verify.WithKeys(keyA(t).Verifier)}
	}
	rep, err := verify.Verify(ctx, r, append(vopts, verify.WithExtractor(s))...)
	return u, rep, err
}

// node is what a test compares of one file system entry.
type node struct {
	Mode    fs.FileMode
	MTime   time.Time
	Content string // file content, or symlink target
}

func (n node) String() string {
	return fmt.Sprintf("%v %s %q", n.Mode, n.MTime.UTC().Format(time.RFC3339Nano), n.Content)
}

// tree lists everything under dir (not dir itself), without following
// symbolic links, by slash path relative to dir.
func tree(t *testing.T, dir string) map[string]node {
	t.Helper()
	out := map[string]node{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		n := node{Mode: fi.Mode(), MTime: fi.ModTime()}
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n.Content = string(b)
		case fi.Mode()&fs.ModeSymlink != 0:
			n.Content, err = os.Readlink(p)
			if err != nil {
				return err
			}
		}
		out[filepath.ToSlash(rel)] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// diffTrees reports how got differs from want.
func diffTrees(got, want map[string]node) []string {
	var diffs []string
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+p)
		case g.Mode != w.Mode || !g.MTime.Equal(w.MTime) || g.Content != w.Content:
			diffs = append(diffs, fmt.Sprintf("%s: got %v, want %v", p, g, w))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			diffs = append(diffs, "extra "+p)
		}
	}
	slices.Sort(diffs)
	return diffs
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func requireEmpty(t *testing.T, dir string) {
	t.Helper()
	if n := names(t, dir); len(n) != 0 {
		t.Fatalf("%s is not empty: %v", dir, n)
	}
}

func requireOnly(t *testing.T, dir string, want ...string) {
	t.Helper()
	if n := names(t, dir); !slices.Equal(n, want) {
		t.Fatalf("%s holds %v, want %v", dir, n, want)
	}
}

func setUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// TestUnpackEqualsGNUTar: what offkit unpack writes is what `tar -xf` of
// the same kit writes — names, contents, modes and mtimes of every entry,
// head files included — whatever the compression and the umask.
func TestUnpackEqualsGNUTar(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("no tar:", err)
	}
	if out, _ := exec.Command("tar", "--version").Output(); !bytes.Contains(out, []byte("GNU tar")) {
		t.Skip("tar is not GNU tar")
	}
	for _, comp := range []bundle.Compression{bundle.Zstd, bundle.Gzip, bundle.None} {
		kit := buildKit(t, comp)
		kitPath := filepath.Join(t.TempDir(), "kit.tar")
		if err := os.WriteFile(kitPath, kit, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, mask := range []int{0o022, 0o077} {
			t.Run(fmt.Sprintf("%s/umask%03o", comp, mask), func(t *testing.T) {
				setUmask(t, mask)
				dir, ref := t.TempDir(), t.TempDir()
				u, rep, err := unpackInto(t, context.Background(), bytes.NewReader(kit), dir, unpack.Options{}, nil)
				if err != nil {
					t.Fatalf("unpack: %v", err)
				}
				if want := filepath.Join(dir, root); u.Target() != want || !rep.Verified {
					t.Fatalf("Target() = %q, verified %v; want %q, true", u.Target(), rep.Verified, want)
				}
				// -p: tar's modes are the archive's, for any user (root
				// has it by default); the umask is inherited.
				cmd := exec.Command("tar", "-xpf", kitPath, "-C", ref)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("tar -xf: %v\n%s", err, out)
				}
				requireOnly(t, dir, root)
				got, want := tree(t, dir), tree(t, ref)
				if d := diffTrees(got, want); len(d) > 0 {
					t.Fatalf("offkit unpack and tar -xf differ:\n%s", strings.Join(d, "\n"))
				}

				// And what they agree on is the kit: every entry tar
				// lists, with the kit's modes and creation time.
				list, err := exec.Command("tar", "-tf", kitPath).Output()
				if err != nil {
					t.Fatal(err)
				}
				var listed []string
				for _, l := range strings.Split(strings.TrimSpace(string(list)), "\n") {
					listed = append(listed, strings.TrimSuffix(l, "/"))
				}
				var have []string
				for p := range got {
					have = append(have, p)
				}
				slices.Sort(listed)
				slices.Sort(have)
				if !slices.Equal(have, listed) {
					t.Fatalf("unpacked %v\ntar lists %v", have, listed)
				}
				for _, p := range []string{
					root, root + "/" + manifest.EnvelopeName, root + "/" + manifest.SumsName,
					root + "/" + manifest.SumsSigNameFor(0), root + "/" + manifest.SumsSigNameFor(1),
					root + "/sbom", root + "/" + manifest.KitSBOMName,
					root + "/migrations/sub/deep/x.json", root + "/migrations/run.sh", root + "/rollback/rollback.js",
				} {
					if _, ok := got[p]; !ok {
						t.Errorf("%s not unpacked", p)
					}
				}
				for p, n := range got {
					want := fs.FileMode(0o644)
					switch {
					case n.Mode.IsDir():
						want = fs.ModeDir | 0o755
					case strings.HasSuffix(p, ".sh"):
						want = 0o755
					}
					if n.Mode != want {
						t.Errorf("%s: mode %v, want %v", p, n.Mode, want)
					}
					if !n.MTime.Equal(bundletest.Epoch) {
						t.Errorf("%s: mtime %v, want the kit's creation time %v", p, n.MTime, bundletest.Epoch)
					}
				}
				for name, content := range bundletest.Files {
					if rel, ok := strings.CutPrefix(name, "src/migrations/"); ok {
						if g := got[root+"/migrations/"+rel].Content; g != content {
							t.Errorf("%s: content %q, want %q", rel, g, content)
						}
					}
				}
			})
		}
	}
}

// tamperLast returns an uncompressed kit whose last payload file,
// rollback/rollback.js, has one byte changed: its tar headers, its size
// and everything before it are intact, so its digest is checked only after
// it has been written to staging.
func tamperLast(t *testing.T) []byte {
	kit := buildKit(t, bundle.None)
	old, repl := []byte("// rollback\n"), []byte("// rollbacK\n")
	if n := bytes.Count(kit, old); n != 1 {
		t.Fatalf("%q occurs %d times in the kit", old, n)
	}
	return bytes.Replace(kit, old, repl, 1)
}

// TestUnpackNotIntactLeavesNothing: the last file is written to staging,
// then its digest is refused: the whole kit is discarded.
func TestUnpackNotIntactLeavesNothing(t *testing.T) {
	kit := tamperLast(t)
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var staged []string // what staging held when the bad file was refused
	s := &spy{onEntry: func(e *bundle.Entry, err error) error {
		if err != nil {
			staged, _ = filepath.Glob(filepath.Join(dir, unpack.StagingPrefix+"*", root, "rollback", "rollback.js"))
		}
		return nil
	}}
	_, rep, err := unpackInto(t, context.Background(), bytes.NewReader(kit), dir, unpack.Options{}, s)
	if !errors.Is(err, verify.ErrNotIntact) || !errors.Is(err, bundle.ErrDigestMismatch) {
		t.Fatalf("err = %v, want ErrNotIntact and a digest mismatch", err)
	}
	if !strings.Contains(err.Error(), "rollback/rollback.js") {
		t.Errorf("error %q does not name the file", err)
	}
	if rep.Verified || rep.Output != "" {
		t.Errorf("report: verified %v, output %q", rep.Verified, rep.Output)
	}
	if len(staged) != 1 {
		t.Fatalf("the refused file was not in staging when refused (%v): the test does not test what it says", staged)
	}
	if s.calls[len(s.calls)-1] != "abort" || s.called("commit") {
		t.Errorf("calls = %v, want abort last and no commit", s.calls)
	}
	requireEmpty(t, dir)
	requireOnly(t, parent, "out")
}

// TestUnpackUntrustedLeavesNothing: a kit no trusted key signed is refused
// on its head; nothing of it is written.
func TestUnpackUntrustedLeavesNothing(t *testing.T) {
	kit := bundletest.Build(t, bundletest.WriteSpec(t, t.TempDir()), []manifest.Signer{keyB(t).Signer})
	dir := t.TempDir()
	u, err := unpack.New(dir, unpack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &spy{x: u}
	rep, err := verify.Verify(context.Background(), bytes.NewReader(kit), verify.WithKeys(keyA(t).Verifier), verify.WithExtractor(s))
	if !errors.Is(err, verify.ErrUntrusted) {
		t.Fatalf("err = %v, want ErrUntrusted", err)
	}
	if len(s.calls) != 0 {
		t.Errorf("the extractor was called: %v", s.calls)
	}
	// Before Close, staging holds its lock and nothing else: no root was
	// ever made.
	stagings, _ := filepath.Glob(filepath.Join(dir, unpack.StagingPrefix+"*"))
	if len(stagings) != 1 {
		t.Fatalf("staging directories: %v", stagings)
	}
	requireOnly(t, stagings[0], ".lock")
	u.Close()
	requireEmpty(t, dir)
	if rep.Output != "" || u.Target() != "" {
		t.Errorf("output %q, target %q", rep.Output, u.Target())
	}
}

// TestUnpackNothingOutsideDir: on success and on failure, only DIR's
// content changes; DIR's parent and siblings are as they were.
func TestUnpackNothingOutsideDir(t *testing.T) {
	good, bad := buildKit(t, bundle.Zstd), tamperLast(t)
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	for _, d := range []string{dir, filepath.Join(parent, "sibling")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(parent, "sibling", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	outside := func() map[string]node {
		all := tree(t, parent)
		for p := range all {
			if strings.HasPrefix(p, "out/") {
				delete(all, p)
			}
		}
		n := all["out"]
		n.MTime = time.Time{} // DIR's own mtime changes as its content does
		all["out"] = n
		return all
	}
	before := outside()
	if _, _, err := unpackInto(t, context.Background(), bytes.NewReader(bad), dir, unpack.Options{}, nil); err == nil {
		t.Fatal("tampered kit unpacked")
	}
	requireEmpty(t, dir)
	if d := diffTrees(outside(), before); len(d) > 0 {
		t.Errorf("failed unpack changed things outside DIR: %v", d)
	}
	if _, _, err := unpackInto(t, context.Background(), bytes.NewReader(good), dir, unpack.Options{}, nil); err != nil {
		t.Fatal(err)
	}
	requireOnly(t, dir, root)
	if d := diffTrees(outside(), before); len(d) > 0 {
		t.Errorf("unpack changed things outside DIR: %v", d)
	}
}

// TestUnpackExistingRoot: an existing DIR/<name>-<version> — a directory,
// a file, a symbolic link to elsewhere — is refused, untouched, unless
// Force, which replaces it (the link itself, never its target).
func TestUnpackExistingRoot(t *testing.T) {
	kit := buildKit(t, bundle.Zstd)
	elsewhere := t.TempDir()
	if err := os.WriteFile(filepath.Join(elsewhere, "precious"), []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	outside := tree(t, elsewhere)
	for _, c := range []struct {
		name string
		make func(p string) error
	}{
		{"directory", func(p string) error {
			if err := os.MkdirAll(filepath.Join(p, "migrations"), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(p, "migrations", "old.sql"), []byte("old"), 0o644)
		}},
		{"file", func(p string) error { return os.WriteFile(p, []byte("a file"), 0o644) }},
		{"symlink", func(p string) error { return os.Symlink(elsewhere, p) }},
		{"dangling symlink", func(p string) error { return os.Symlink(filepath.Join(elsewhere, "nothing"), p) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, root)
			if err := c.make(target); err != nil {
				t.Fatal(err)
			}
			old := tree(t, dir)

			s := &spy{}
			_, rep, err := unpackInto(t, context.Background(), bytes.NewReader(kit), dir, unpack.Options{}, s)
			if !errors.Is(err, unpack.ErrExists) {
				t.Fatalf("err = %v, want ErrExists", err)
			}
			// The library names the target; the command line adds the hint
			// about --force (a library error names no flags).
			if !strings.Contains(err.Error(), target) || strings.Contains(err.Error(), "--force") {
				t.Errorf("error %q does not name %s, or names a flag", err, target)
			}
			if rep.Verified {
				t.Error("report says verified")
			}
			if s.called("entry") || s.called("commit") {
				t.Errorf("refused at Start, yet calls = %v", s.calls)
			}
			if d := diffTrees(tree(t, dir), old); len(d) > 0 {
				t.Fatalf("refused unpack changed DIR: %v", d)
			}

			u, _, err := unpackInto(t, context.Background(), bytes.NewReader(kit), dir, unpack.Options{Force: true}, nil)
			if err != nil {
				t.Fatalf("--force: %v", err)
			}
			if u.Target() != target {
				t.Errorf("Target() = %q", u.Target())
			}
			requireOnly(t, dir, root)
			fi, err := os.Lstat(target)
			if err != nil || !fi.IsDir() {
				t.Fatalf("after --force %s is %v (%v), want a directory", target, fi, err)
			}
			if _, err := os.Stat(filepath.Join(target, "migrations", "old.sql")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the old root's file survived --force: %v", err)
			}
			b, err := os.ReadFile(filepath.Join(target, "migrations", "sub", "deep", "x.json"))
			if err != nil || string(b) != "{}\n" {
				t.Errorf("new content: %q, %v", b, err)
			}
			if d := diffTrees(tree(t, elsewhere), outside); len(d) > 0 {
				t.Errorf("the link's target outside DIR changed: %v", d)
			}
		})
	}
}

// TestUnpackRootAppearsDuringUnpack: a root made by someone else while the
// kit is being read is not overwritten at Commit (RENAME_NOREPLACE).
func TestUnpackRootAppearsDuringUnpack(t *testing.T) {
	kit := buildKit(t, bundle.Zstd)
	dir := t.TempDir()
	target := filepath.Join(dir, root)
	s := &spy{onEntry: func(e *bundle.Entry, err error) error {
		if e.Name == "migrations/001_init.sql" {
			if err := os.Mkdir(target, 0o700); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(target, "theirs"), []byte("theirs"), 0o600)
		}
		return nil
	}}
	_, _, err := unpackInto(t, context.Background(), bytes.NewReader(kit), dir, unpack.Options{}, s)
	if !errors.Is(err, unpack.ErrExists) {
		t.Fatalf("err = %v, want ErrExists; calls %v", err, s.calls)
	}
	if !s.called("commit") || s.calls[len(s.calls)-1] != "abort" {
		t.Errorf("calls = %v, want commit refused then abort", s.calls)
	}
	requireOnly(t, dir, root)
	requireOnly(t, target, "theirs")
}

// TestUnpackStaleStaging: New removes staging directories whose run died
// (lock not held; or no lock and old) and reports them; it leaves those of
// a run still alive, and anything that is not a staging directory.
func TestUnpackStaleStaging(t *testing.T) {
	dir := t.TempDir()
	elsewhere := t.TempDir()
	mk := func(name string, files ...string) string {
		p := filepath.Join(dir, name)
		for _, f := range files {
			fp := filepath.Join(p, f)
			if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(fp, []byte("junk"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	dead := mk(unpack.StagingPrefix+"dead", ".lock", root+"/migrations/001_init.sql", root+"/SHA256SUMS")
	orphan := mk(unpack.StagingPrefix+"orphan", root+"/x")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(orphan, old, old); err != nil {
		t.Fatal(err)
	}
	young := mk(unpack.StagingPrefix+"young", root+"/x") // no lock yet: a run between mkdir and lock
	busy := mk(unpack.StagingPrefix+"busy", ".lock", root+"/x")
	lf, err := os.OpenFile(filepath.Join(busy, ".lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	// Not staging directories: a file with the prefix, a symbolic link
	// with the prefix to a directory outside DIR that looks stale, and an
	// unrelated directory.
	mk(unpack.StagingPrefix+"file-parent", "x")
	if err := os.Rename(filepath.Join(dir, unpack.StagingPrefix+"file-parent", "x"), filepath.Join(dir, unpack.StagingPrefix+"file")); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, unpack.StagingPrefix+"file-parent"))
	for _, f := range []string{".lock", "precious"} {
		if err := os.WriteFile(filepath.Join(elsewhere, f), []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, unpack.StagingPrefix+"link")); err != nil {
		t.Fatal(err)
	}
	mk("other", ".lock")
	outside := tree(t, elsewhere)

	u, err := unpack.New(dir, unpack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	slices.Sort(u.Cleaned)
	slices.Sort(u.Busy)
	if want := []string{dead, orphan}; !slices.Equal(u.Cleaned, want) {
		t.Errorf("Cleaned = %v, want %v", u.Cleaned, want)
	}
	if want := []string{busy, young}; !slices.Equal(u.Busy, want) {
		t.Errorf("Busy = %v, want %v", u.Busy, want)
	}
	for _, p := range []string{dead, orphan} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s not removed: %v", p, err)
		}
	}
	requireOnly(t, busy, ".lock", root)
	requireOnly(t, young, root)
	if d := diffTrees(tree(t, elsewhere), outside); len(d) > 0 {
		t.Errorf("a link's target outside DIR changed: %v", d)
	}
	for _, p := range []string{"file", "link"} {
		if _, err := os.Lstat(filepath.Join(dir, unpack.StagingPrefix+p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}

	// The busy run ends (its lock released): the next run cleans it.
	lf.Close()
	u.Close()
	u2, err := unpack.New(dir, unpack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer u2.Close()
	if !slices.Equal(u2.Cleaned, []string{busy}) {
		t.Errorf("after the lock is released, Cleaned = %v, want [%s]", u2.Cleaned, busy)
	}
}

// TestUnpackConcurrentNew: runs starting together in one DIR never take
// each other's staging for stale.
func TestUnpackConcurrentNew(t *testing.T) {
	dir := t.TempDir()
	const workers, rounds = 8, 200
	errc := make(chan error, workers)
	for range workers {
		go func() {
			for range rounds {
				u, err := unpack.New(dir, unpack.Options{})
				if err != nil {
					errc <- err
					return
				}
				if len(u.Cleaned) > 0 {
					u.Close()
					errc <- fmt.Errorf("a run reported another run's staging as stale: %v", u.Cleaned)
					return
				}
				u.Close()
			}
			errc <- nil
		}()
	}
	for range workers {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	requireEmpty(t, dir)
}

// failAfter reads n bytes of r, then fails with err.
type failAfter struct {
	r   io.Reader
	n   int
	err error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// bigKit is an uncompressed kit with a few MiB of payload in several files.
func bigKit(t *testing.T) []byte {
	t.Helper()
	specDir := t.TempDir()
	src := filepath.Join(specDir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		b := make([]byte, 512<<10)
		for j := range b {
			b[j] = byte(i*7 + j*13 + j>>9)
		}
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("part%d.bin", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := filepath.Join(specDir, "kit.yaml")
	yaml := "name: demo\nversion: 1.2.3\ncomponents:\n  - name: data\n    from: src\n    path: data\n"
	if err := os.WriteFile(spec, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return bundletest.Build(t, spec, []manifest.Signer{keyA(t).Signer}, bundle.WithCompression(bundle.None, 0))
}

// TestUnpackCancelled: cancelled midway — between entries, or the source
// failing in the middle of a file — the kit is discarded.
func TestUnpackCancelled(t *testing.T) {
	kit := bigKit(t)
	t.Run("context", func(t *testing.T) {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := &spy{onEntry: func(e *bundle.Entry, err error) error {
			if e.Name == "data/part2.bin" {
				cancel()
			}
			return nil
		}}
		_, rep, err := unpackInto(t, ctx, bytes.NewReader(kit), dir, unpack.Options{}, s)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if rep.Verified || s.called("commit") || s.calls[len(s.calls)-1] != "abort" || s.called("entry data/part3.bin") {
			t.Errorf("verified %v, calls %v", rep.Verified, s.calls)
		}
		requireEmpty(t, dir)
	})
	t.Run("source fails midway", func(t *testing.T) {
		dir := t.TempDir()
		boom := errors.New("the medium was pulled out")
		s := &spy{}
		_, _, err := unpackInto(t, context.Background(), &failAfter{r: bytes.NewReader(kit), n: len(kit) / 2, err: boom}, dir, unpack.Options{}, s)
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want %v", err, boom)
		}
		if !s.called("entry data/part0.bin") || s.calls[len(s.calls)-1] != "abort" {
			t.Errorf("calls = %v, want some entries, then abort", s.calls)
		}
		requireEmpty(t, dir)
	})
}

// TestUnpackDirMustExist: DIR is never created, and must be a directory.
func TestUnpackDirMustExist(t *testing.T) {
	parent := t.TempDir()
	missing := filepath.Join(parent, "missing")
	if _, err := unpack.New(missing, unpack.Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("New(missing) = %v, want ErrNotExist", err)
	}
	file := filepath.Join(parent, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := unpack.New(file, unpack.Options{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("New(file) = %v, want not a directory", err)
	}
	requireOnly(t, parent, "file")
}

// TestUnpackNoSync: NoSync changes durability, not the result.
func TestUnpackNoSync(t *testing.T) {
	kit := buildKit(t, bundle.Gzip)
	a, b := t.TempDir(), t.TempDir()
	for _, c := range []struct {
		dir  string
		sync bool
	}{{a, true}, {b, false}} {
		if _, _, err := unpackInto(t, context.Background(), bytes.NewReader(kit), c.dir, unpack.Options{NoSync: !c.sync}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if d := diffTrees(tree(t, b), tree(t, a)); len(d) > 0 {
		t.Errorf("--no-sync unpacks differently: %v", d)
	}
}
