package manifest

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// toolNames are kit paths that CheckPath accepts although a shell, a
// SHA256SUMS line or a tar header might make something of them. The real
// tools must take each for exactly its bytes.
var toolNames = []string{
	" x", "x ", "x  y", "*x", "#x", "-x", "--x", "-/a", "x.", "a..b", "C:x", "a:b", "~", "$HOME", "[a]", "?",
	"a b/c", "données/été.sql", "日本/語.txt", "a\u00a0b", "Straße", "😀",
}

func writeFiles(t *testing.T, dir string, names []string) Sums {
	t.Helper()
	var sums Sums
	for _, n := range names {
		if err := CheckPath(n); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("content of "+n), 0o644); err != nil {
			t.Fatal(err)
		}
		sums = append(sums, Sum{Name: n, Digest: SHA256([]byte("content of " + n))})
	}
	sums.Sort()
	return sums
}

func sha256sumCheck(t *testing.T, dir string, sums []byte, stdin string) (string, error) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, SumsName), sums, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sha256sum", "--check", "--strict", SumsName)
	cmd.Dir, cmd.Stdin = dir, strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSha256sumAgrees runs GNU sha256sum --check, as docs/FORMAT.md section
// 18 does, on a SHA256SUMS that offkit writes and accepts, and shows why
// "-" and a carriage return are refused.
func TestSha256sumAgrees(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum:", err)
	}
	dir := t.TempDir()
	sums := writeFiles(t, dir, toolNames)
	raw := sums.Marshal()
	if parsed, err := ParseSums(raw); err != nil || !bytes.Equal(parsed.Marshal(), raw) {
		t.Fatalf("ParseSums of offkit's own SHA256SUMS: %v", err)
	}
	out, err := sha256sumCheck(t, dir, raw, "")
	var want strings.Builder
	for _, s := range sums {
		want.WriteString(s.Name + ": OK\n")
	}
	if err != nil || out != want.String() {
		t.Fatalf("sha256sum --check: %v\n%s\nwant:\n%s", err, out, want.String())
	}

	// A changed file is caught, whatever its name.
	if err := os.WriteFile(filepath.Join(dir, "-x"), []byte("evil"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := sha256sumCheck(t, dir, raw, ""); err == nil || !strings.Contains(out, "-x: FAILED\n") {
		t.Fatalf("sha256sum --check passed a changed -x: %v\n%s", err, out)
	}

	// "-" is standard input to sha256sum: a file named "-" is never read,
	// so a listed digest of whatever is on stdin passes.
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "-"), []byte("evil"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdin := []byte(SHA256(nil).Hex() + "  -\n")
	if out, err := sha256sumCheck(t, dir, stdin, ""); err != nil || out != "-: OK\n" {
		t.Logf("sha256sum no longer reads - as standard input (%v: %q); the rule is kept anyway", err, out)
	}
	if _, err := ParseSums(stdin); err == nil {
		t.Error(`ParseSums accepts a line for "-"`)
	}

	// sha256sum drops a carriage return before the newline, so "x\r" would
	// be checked as "x": control characters are refused.
	if err := os.WriteFile(filepath.Join(dir, "x"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cr := []byte(SHA256([]byte("x")).Hex() + "  x\r\n")
	if out, err := sha256sumCheck(t, dir, cr, ""); err != nil || out != "x: OK\n" {
		t.Logf("sha256sum no longer drops a carriage return (%v: %q)", err, out)
	}
	if _, err := ParseSums(cr); err == nil {
		t.Error("ParseSums accepts a name ending in a carriage return")
	}
}

// writeTar writes a pax archive as offkit lays one out (section 4): the
// root directory, then each directory and file under it, sorted.
func writeTar(t *testing.T, root string, names []string) []byte {
	t.Helper()
	entries := map[string]bool{root + "/": true}
	for _, n := range names {
		entries[root+"/"+n] = false
		for d := filepath.Dir(n); d != "."; d = filepath.Dir(d) {
			entries[root+"/"+d+"/"] = true
		}
	}
	var sorted []string
	for e := range entries {
		sorted = append(sorted, e)
	}
	sort.Strings(sorted)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	mtime := time.Unix(1700000000, 0)
	for _, e := range sorted {
		h := &tar.Header{Name: e, Mode: 0o755, Typeflag: tar.TypeDir, ModTime: mtime, Format: tar.FormatPAX}
		var body []byte
		if !entries[e] {
			body = []byte("content of " + strings.TrimPrefix(e, root+"/"))
			h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// extract runs GNU tar -xf on the archive under locale and returns the
// files it made below root, as their names' bytes.
func extract(t *testing.T, archive []byte, root, locale string) (string, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("tar", "-xf", "-", "-C", dir)
	cmd.Stdin = bytes.NewReader(archive)
	cmd.Env = append(os.Environ(), "LC_ALL="+locale)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("LC_ALL=%s tar -xf: %v\n%s", locale, err, out)
	}
	// Through an os.Root, which opens one element at a time: the longest
	// names are too long for a path from /.
	top := filepath.Join(dir, root)
	r, err := os.OpenRoot(top)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	files := map[string]string{}
	err = fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := r.ReadFile(p)
		files[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return top, files
}

// TestTarKeepsNames extracts a kit's layout with GNU tar under LC_ALL=C, as
// docs/FORMAT.md section 18 says to, and checks that every name lands on
// exactly its bytes and that sha256sum --check then agrees. It includes the
// longest tar name the limits allow, MaxPathLen bytes under a 255-byte root.
func TestTarKeepsNames(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("no tar:", err)
	}
	root := strings.Repeat("r", MaxComponentLen)
	n := MaxPathLen - len(root) - 1 // the longest tar name
	longest := strings.Repeat(strings.Repeat("l", 254)+"/", n/255)
	longest += strings.Repeat("m", n-len(longest))
	names := append(append([]string{}, toolNames...), longest)
	_, files := extract(t, writeTar(t, root, names), root, "C")
	if len(files) != len(names) {
		t.Errorf("tar made %d files for %d names", len(files), len(names))
	}
	for _, n := range names {
		if files[n] != "content of "+n {
			t.Errorf("tar did not extract %q as itself (got %q)", n, files[n])
		}
	}
	if _, err := exec.LookPath("sha256sum"); err != nil {
		return
	}
	top, _ := extract(t, writeTar(t, root, toolNames), root, "C")
	sums := writeFiles(t, t.TempDir(), toolNames) // for the digests
	if out, err := sha256sumCheck(t, top, sums.Marshal(), ""); err != nil {
		t.Fatalf("sha256sum --check after LC_ALL=C tar -xf: %v\n%s", err, out)
	}
}

// latin1Locale returns a locale whose character set is ISO-8859-1, or "".
func latin1Locale() string {
	out, _ := exec.Command("locale", "-a").Output()
	candidates := append(strings.Fields(string(out)), "en_US.ISO-8859-1", "en_US.iso88591", "de_DE.ISO-8859-1", "fr_FR.ISO-8859-1")
	for _, l := range candidates {
		cmd := exec.Command("locale", "charmap")
		cmd.Env = append(os.Environ(), "LC_ALL="+l)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if out, err := cmd.Output(); err == nil && stderr.Len() == 0 && strings.TrimSpace(string(out)) == "ISO-8859-1" {
			return l
		}
	}
	return ""
}

// TestTarLegacyLocale shows what section 18's LC_ALL=C is for. GNU tar
// converts a pax name from UTF-8 to the locale's character set when it can,
// so in ISO-8859-1 the distinct kit paths "Ä\u00a0" and "Ġ" (UTF-8 C4 A0,
// which tar cannot convert and so keeps) land on one file, C4 A0. offkit
// cannot refuse such pairs without refusing non-ASCII names (every 8-bit
// and multibyte character set has them), but the stock check still fails:
// sha256sum looks up names as UTF-8 bytes, and "Ä\u00a0" is not there. The
// test needs an ISO-8859-1 locale.
func TestTarLegacyLocale(t *testing.T) {
	for _, tool := range []string{"tar", "locale", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip("no", tool)
		}
	}
	locale := latin1Locale()
	if locale == "" {
		t.Skip("no ISO-8859-1 locale (generate one with localedef -i en_US -f ISO-8859-1, and LOCPATH if not installed)")
	}
	names := []string{"Ä\u00a0", "Ġ"}
	s := NewPathSet(2)
	for _, n := range names {
		if err := s.Add(n, false); err != nil {
			t.Fatalf("Add(%q) = %v: the pair no longer shows the legacy-locale collision", n, err)
		}
	}
	root := "k-1.0.0"
	top, files := extract(t, writeTar(t, root, names), root, locale)
	if len(files) != 1 || files["\xc4\xa0"] == "" {
		t.Fatalf("LC_ALL=%s tar -xf made %q; want the two names on one file, C4 A0", locale, files)
	}
	sums := writeFiles(t, t.TempDir(), names)
	if out, err := sha256sumCheck(t, top, sums.Marshal(), ""); err == nil {
		t.Fatalf("sha256sum --check passed after LC_ALL=%s tar -xf:\n%s", locale, out)
	}
	if _, files := extract(t, writeTar(t, root, names), root, "C"); len(files) != 2 {
		t.Fatalf("LC_ALL=C tar -xf made %q; want both names", files)
	}
}
