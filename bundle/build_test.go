package bundle_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/manifest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestMain doubles as a helper process: with OFFKIT_BUILD_HELPER=dir it
// writes the test spec into dir under the environment it was given (umask,
// TZ, locale) and builds the kit to dir/kit.tar.zst.
func TestMain(m *testing.M) {
	if dir := os.Getenv("OFFKIT_BUILD_HELPER"); dir != "" {
		if err := buildHelper(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func buildHelper(dir string) error {
	var umask int
	fmt.Sscanf(os.Getenv("OFFKIT_UMASK"), "%o", &umask)
	syscall.Umask(umask)
	// Write the sources in reverse order with odd modification times.
	names := make([]string, 0, len(bundletest.Files))
	for n := range bundletest.Files {
		names = append(names, n)
	}
	if os.Getenv("OFFKIT_REVERSE") != "" {
		for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
			names[i], names[j] = names[j], names[i]
		}
	}
	mtime := time.Now().Add(-time.Duration(len(dir)) * time.Hour)
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			return err
		}
		perm := os.FileMode(0o666)
		if strings.HasSuffix(n, ".sh") {
			perm = 0o777
		}
		if err := os.WriteFile(p, []byte(bundletest.Files[n]), perm); err != nil {
			return err
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			return err
		}
	}
	spec := filepath.Join(dir, "kit.yaml")
	if err := os.WriteFile(spec, []byte(bundletest.SpecYAML), 0o666); err != nil {
		return err
	}
	s, err := manifest.ParseSpec([]byte(bundletest.SpecYAML), spec)
	if err != nil {
		return err
	}
	out, err := os.Create(filepath.Join(dir, "kit.tar.zst"))
	if err != nil {
		return err
	}
	defer out.Close()
	// A relative spec directory, as a user would give it.
	if err := os.Chdir(dir); err != nil {
		return err
	}
	_, err = bundle.Build(context.Background(), out, s, ".", bundle.WithCreated(bundletest.Epoch), bundle.WithTool("offkit", "test"))
	return err
}

// TestReproducible builds the same spec in two processes that differ in
// checkout path, file times, umask, creation order, time zone and locale,
// and requires byte-identical kits.
func TestReproducible(t *testing.T) {
	envs := [][]string{
		{"OFFKIT_UMASK=022", "TZ=UTC", "LC_ALL=C"},
		{"OFFKIT_UMASK=077", "TZ=Asia/Kathmandu", "LC_ALL=tr_TR.UTF-8", "OFFKIT_REVERSE=1"},
	}
	var kits [][]byte
	for i, env := range envs {
		dir := filepath.Join(t.TempDir(), strings.Repeat("x", i+1), "checkout")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), append(env, "OFFKIT_BUILD_HELPER="+dir)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("helper build %d: %v\n%s", i, err, out)
		}
		b, err := os.ReadFile(filepath.Join(dir, "kit.tar.zst"))
		if err != nil {
			t.Fatal(err)
		}
		kits = append(kits, b)
	}
	if !bytes.Equal(kits[0], kits[1]) {
		t.Fatalf("kits differ: %d and %d bytes", len(kits[0]), len(kits[1]))
	}
}

// TestGoldenDigest pins the digest of the unsigned test kit. A change means
// the format's bytes changed: regenerate with -update only if that is meant
// (and say so in docs/FORMAT.md).
func TestGoldenDigest(t *testing.T) {
	kit := bundletest.Build(t, bundletest.WriteSpec(t, t.TempDir()), nil, bundle.WithTool("offkit", "test"))
	sum := sha256.Sum256(kit)
	got := hex.EncodeToString(sum[:]) + "\n"
	golden := filepath.Join("testdata", "demo-1.2.3.sha256")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./bundle -run TestGoldenDigest -update)", err)
	}
	if got != string(want) {
		t.Fatalf("unsigned kit digest = %s, golden %s", got, want)
	}
}

func TestCompressions(t *testing.T) {
	spec := bundletest.WriteSpec(t, t.TempDir())
	for _, c := range []struct {
		comp  bundle.Compression
		level int
	}{{bundle.Zstd, 1}, {bundle.Zstd, 19}, {bundle.Gzip, 0}, {bundle.None, 0}} {
		t.Run(fmt.Sprintf("%s-%d", c.comp, c.level), func(t *testing.T) {
			files, head := bundletest.Payload(t, bundletest.Build(t, spec, nil, bundle.WithCompression(c.comp, c.level)))
			if head.Compression != c.comp {
				t.Fatalf("detected %s", head.Compression)
			}
			got := map[string]string{}
			for n, b := range files {
				got[n] = string(b)
			}
			want := map[string]string{
				"migrations/001_init.sql":    bundletest.Files["src/migrations/001_init.sql"],
				"migrations/002_index.sql":   bundletest.Files["src/migrations/002_index.sql"],
				"migrations/sub/README.md":   bundletest.Files["src/migrations/sub/README.md"],
				"migrations/sub/deep/x.json": bundletest.Files["src/migrations/sub/deep/x.json"],
				"migrations/run.sh":          bundletest.Files["src/migrations/run.sh"],
				"rollback/rollback.js":       bundletest.Files["src/rollback.js"],
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("payload = %v\nwant %v", got, want)
			}
		})
	}
	if _, err := bundle.ParseCompression("brotli"); err == nil {
		t.Fatal("brotli accepted")
	}
}

// TestLargeFileStreams builds a kit whose file spans many compression
// chunks and checks it round-trips.
func TestLargeFileStreams(t *testing.T) {
	dir := t.TempDir()
	spec := bundletest.WriteSpec(t, dir)
	big := make([]byte, 3*bundle.ChunkSize+12345)
	for i := range big {
		big[i] = byte(i * 7 / 13)
	}
	if err := os.WriteFile(filepath.Join(dir, "src/migrations/big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	files, _ := bundletest.Payload(t, bundletest.Build(t, spec, nil))
	if !bytes.Equal(files["migrations/big.bin"], big) {
		t.Fatal("big.bin did not round-trip")
	}
}

// TestOpenReadsOnlyHead checks that Open (what inspect uses) succeeds on a
// kit whose payload has been cut off: it never reads past the metadata.
func TestOpenReadsOnlyHead(t *testing.T) {
	dir := t.TempDir()
	spec := bundletest.WriteSpec(t, dir)
	big := make([]byte, 8*bundle.ChunkSize)
	if err := os.WriteFile(filepath.Join(dir, "src/migrations/big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	kit := bundletest.Build(t, spec, nil, bundle.WithCompression(bundle.None, 0))
	head := kit[:64<<10]
	rd, err := bundle.Open(io.MultiReader(bytes.NewReader(head), errReader{}))
	if err != nil {
		t.Fatalf("Open on the head alone: %v", err)
	}
	if rd.Head.Manifest.FileCount != 7 {
		t.Fatalf("file count = %d", rd.Head.Manifest.FileCount)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("read past the head") }

func TestBuildRefusesBadSources(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  error
		match string
	}{
		{"symlink out of source", func(t *testing.T, dir string) {
			os.Symlink("/etc/passwd", filepath.Join(dir, "src/migrations/passwd"))
		}, bundle.ErrSource, "outside its source"},
		{"symlink to directory", func(t *testing.T, dir string) {
			os.Symlink("sub", filepath.Join(dir, "src/migrations/sub2"))
		}, bundle.ErrSource, "directory"},
		{"fifo", func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "src/migrations/fifo"), 0o644); err != nil {
				t.Skip(err)
			}
		}, bundle.ErrSource, "special file"},

		{"missing source", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "src/rollback.js"))
		}, fs.ErrNotExist, "rollback.js"},
		{"source outside the spec dir", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "src/rollback.js"))
			os.Symlink("/etc/hostname", filepath.Join(dir, "src/rollback.js"))
		}, bundle.ErrSource, "outside the spec's directory"},
		{"empty component", func(t *testing.T, dir string) {
			os.RemoveAll(filepath.Join(dir, "src/migrations"))
			os.MkdirAll(filepath.Join(dir, "src/migrations/empty"), 0o755)
		}, bundle.ErrSource, "no files"},
		{"case collision", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "src/migrations/001_INIT.sql"), []byte("x"), 0o644)
		}, manifest.ErrUnsafePath, "collide"},
		{"invalid UTF-8 name", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "src/migrations/\xff.sql"), []byte("x"), 0o644)
		}, manifest.ErrUnsafePath, "UTF-8"},
		{"newline in name", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "src/migrations/a\nb.sql"), []byte("x"), 0o644)
		}, manifest.ErrUnsafePath, "control"},
		{"invalid SBOM", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "src/runner.spdx.json"), []byte(`{"spdxVersion":"SPDX-2.3"}`), 0o644)
		}, manifest.ErrMalformed, "SPDX"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			specPath := bundletest.WriteSpec(t, dir)
			c.setup(t, dir)
			spec, err := manifest.ParseSpec([]byte(bundletest.SpecYAML), specPath)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			_, err = bundle.Build(context.Background(), &out, spec, dir, bundle.WithCreated(bundletest.Epoch))
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.match) {
				t.Fatalf("err = %v, want %v mentioning %q", err, c.want, c.match)
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written to the output on failure", out.Len())
			}
		})
	}
}

func TestIncludeExclude(t *testing.T) {
	dir := t.TempDir()
	bundletest.WriteSpec(t, dir)
	os.WriteFile(filepath.Join(dir, "src/migrations/scratch.tmp"), []byte("x"), 0o644)
	os.MkdirAll(filepath.Join(dir, "src/migrations/obj"), 0o755)
	os.WriteFile(filepath.Join(dir, "src/migrations/obj/o.bin"), []byte("x"), 0o644)
	// Excluded special files and escaping symlinks are not errors.
	if err := syscall.Mkfifo(filepath.Join(dir, "src/migrations/pipe.tmp"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Symlink("/etc/passwd", filepath.Join(dir, "src/migrations/obj/passwd"))
	y := strings.Replace(bundletest.SpecYAML, "    path: migrations\n", "    path: migrations\n    include: [\"*.sql\", \"*.tmp\", \"obj\", \"sub/deep/*\"]\n    exclude: [\"*.tmp\", \"obj\"]\n", 1)
	spec, err := manifest.ParseSpec([]byte(y), "kit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	h, err := bundle.Build(context.Background(), &out, spec, dir, bundle.WithCreated(bundletest.Epoch))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range h.Manifest.Components[0].Files {
		got = append(got, f.Path)
	}
	want := []string{"migrations/001_init.sql", "migrations/002_index.sql", "migrations/sub/deep/x.json"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
}

func TestBuildCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	specPath := bundletest.WriteSpec(t, dir)
	spec, _ := manifest.ParseSpec([]byte(bundletest.SpecYAML), specPath)
	_, err := bundle.Build(ctx, io.Discard, spec, dir, bundle.WithCreated(bundletest.Epoch))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestReadsOtherWriters checks that a kit is read whatever valid
// concatenation of frames carries it, such as one single zstd frame for the
// whole archive (zstd -c of the plain tar). A leading skippable frame is
// refused: it is how a file is made to read as a plain tar to GNU tar.
func TestReadsOtherWriters(t *testing.T) {
	spec := bundletest.WriteSpec(t, t.TempDir())
	plain := bundletest.Build(t, spec, nil, bundle.WithCompression(bundle.None, 0))
	skippable := []byte{0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 0, 0, 0, 0}
	if _, err := bundle.Open(bytes.NewReader(append(skippable, bundletest.Compress(t, plain)...))); !errors.Is(err, bundle.ErrUnknownFormat) {
		t.Fatalf("leading skippable frame: err = %v, want ErrUnknownFormat", err)
	}
	for name, kit := range map[string][]byte{
		"one frame": bundletest.Compress(t, plain),
	} {
		t.Run(name, func(t *testing.T) {
			files, head := bundletest.Payload(t, kit)
			if len(files) != 6 || head.Compression != bundle.Zstd {
				t.Fatalf("%d files, compression %s", len(files), head.Compression)
			}
		})
	}
}

func TestGzipMembersHaveNoTimestamp(t *testing.T) {
	kit := bundletest.Build(t, bundletest.WriteSpec(t, t.TempDir()), nil, bundle.WithCompression(bundle.Gzip, 0))
	if len(kit) < 10 || kit[0] != 0x1f || kit[1] != 0x8b {
		t.Fatal("not gzip")
	}
	if mtime := kit[4:8]; !bytes.Equal(mtime, []byte{0, 0, 0, 0}) {
		t.Fatalf("gzip MTIME = % x, want 0 (no time stamp)", mtime)
	}
}
