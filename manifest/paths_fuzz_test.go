package manifest

import (
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzCheckPath checks what an accepted path promises: the rules of
// section 6.1 re-checked the plain way, a fold key that keeps the path's
// elements, and a SHA256SUMS line for it that ParseSums takes back.
func FuzzCheckPath(f *testing.F) {
	for _, p := range append(append([]string{}, toolNames...), "a/b", "-", "a/../b", "ﬁ/Ⅸ", "a\u2100b", "x./y ", "\u3164", "a\u200d", "e\u0301") {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if CheckPath(p) != nil {
			return
		}
		if p == "-" || !utf8.ValidString(p) || !norm.NFC.IsNormalString(p) || strings.ContainsAny(p, "\\\x00\n\r") || len(p) > MaxPathLen {
			t.Fatalf("accepted %q", p)
		}
		els := strings.Split(p, "/")
		keys := make([]string, len(els))
		for i, el := range els {
			if el == "" || el == "." || el == ".." || strings.Trim(el, ". ") == "" || len(el) > MaxComponentLen {
				t.Fatalf("accepted %q, with the element %q", p, el)
			}
			keys[i] = FoldKey(el)
			if keys[i] == "" || strings.Contains(keys[i], "/") {
				t.Fatalf("accepted %q, whose element %q has the key %q", p, el, keys[i])
			}
		}
		if k := FoldKey(p); k != strings.Join(keys, "/") {
			t.Fatalf("FoldKey(%q) = %q, not its elements' keys %q", p, k, keys)
		}
		line := []byte(SHA256(nil).Hex() + "  " + p + "\n")
		if _, err := ParseSums(line); err != nil && !IsSignatureFile(p) && p != SumsName {
			t.Fatalf("accepted %q, but ParseSums refuses its line: %v", p, err)
		}
	})
}

// FuzzPathSet adds the lines of its input to a PathSet (a line starting
// with ">" as a directory) and checks that it refuses exactly what the
// quadratic reference refuses, and holds the same directories.
func FuzzPathSet(f *testing.F) {
	f.Add("a/b/c\na/b/d\n>a/b\na/B/e")
	f.Add("m/RUN.sh\nm/run.sh")
	f.Add("a/b\na/b/c")
	f.Add("a/b/c/d/e\na/b/x\na/b/c/y\na/b/C/z\n>a/b/c/q")
	f.Add("Straße/x\nSTRASSE/y\nﬁ/a\nfi/b\na./c\na/d")
	f.Add("a/x\na-b/y\na/z\na")
	f.Fuzz(func(t *testing.T, in string) {
		s := NewPathSet(0)
		ref := &refSet{m: map[string]refEntry{}}
		var seen []string
		for _, line := range strings.Split(in, "\n") {
			p, dir := strings.CutPrefix(line, ">")
			err := s.Add(p, dir)
			if ok := ref.add(p, dir); ok != (err == nil) {
				t.Fatalf("after %q: Add(%q, %v) = %v; the reference says ok=%v", seen, p, dir, err, ok)
			}
			seen = append(seen, line)
		}
		if s.Dirs() != ref.dirs() {
			t.Fatalf("after %q: Dirs() = %d; the reference has %d", seen, s.Dirs(), ref.dirs())
		}
		for _, line := range seen {
			p := strings.TrimPrefix(line, ">")
			for d := p; d != "." && d != "/" && d != ""; d = path.Dir(d) {
				if s.IsDir(d) != ref.isDir(d) {
					t.Fatalf("after %q: IsDir(%q) = %v; the reference says %v", seen, d, s.IsDir(d), ref.isDir(d))
				}
			}
		}
	})
}
