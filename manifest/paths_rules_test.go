package manifest

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// TestCheckPathRules covers every rule of docs/FORMAT.md section 6.1, with
// the part of the error that names it.
func TestCheckPathRules(t *testing.T) {
	long := strings.Repeat(strings.Repeat("a", 254)+"/", MaxPathLen/255) // 15 elements of 254 bytes
	long += strings.Repeat("b", MaxPathLen-len(long))
	tests := []struct {
		name, path, want string // want "" for a path CheckPath accepts
	}{
		{"plain", "a", ""},
		{"nested", "migrations/21-101/001.js", ""},
		{"accented NFC", "données/été.sql", ""},
		{"CJK", "日本語/ファイル.txt", ""},
		{"sharp s", "Straße/ß.txt", ""},
		{"dotless i", "ı/İ", ""},
		{"ligature", "ﬁle", ""},
		{"emoji", "😀.txt", ""},
		{"no-break space", "a\u00a0b", ""},
		{"ideographic space", "a\u3000b", ""},
		{"inner space", "a b", ""},
		{"leading space", " x", ""},
		{"trailing space", "x ", ""},
		{"trailing dot", "x.", ""},
		{"dots inside", "...a/a..b", ""},
		{"leading star", "*x", ""},
		{"leading hash", "#x", ""},
		{"leading dash", "-x", ""},
		{"double dash", "--x", ""},
		{"dash below the root", "a/-", ""},
		{"dash directory", "-/a", ""},
		{"colon", "C:x/a:b", ""},
		{"tilde and dollar", "~/$HOME", ""},
		{"longest element", strings.Repeat("a", MaxComponentLen), ""},
		{"longest path", long, ""},

		{"empty", "", "empty"},
		{"stdin", "-", "standard input"},
		{"too long", long + "b", "longer than"},
		{"invalid UTF-8", "a\xffb", "not valid UTF-8"},
		{"NFD", "e\u0301", "normalization form C"},
		{"Angstrom sign", "\u212b", "normalization form C"},   // a singleton decomposition, to Å
		{"Kelvin sign", "\u212a.txt", "normalization form C"}, // to K
		{"absolute", "/a", "absolute"},
		{"backslash", "a\\b", "backslash"},
		{"NUL", "a\x00b", "control character"},
		{"newline", "a\nb", "control character"},
		{"carriage return", "a\r", "control character"},
		{"tab", "a\tb", "control character"},
		{"DEL", "a\x7fb", "control character"},
		{"NEL", "a\u0085b", "control character"},
		{"replacement character", "a\ufffdb", "replacement character"},
		{"zero width space", "a\u200bb", "invisible format"},
		{"zero width non-joiner", "a\u200cb", "invisible format"},
		{"zero width joiner", "a\u200db", "invisible format"},
		{"left-to-right mark", "a\u200eb", "invisible format"},
		{"right-to-left override", "exe.\u202etxt", "invisible format"},
		{"isolate", "a\u2066b", "invisible format"},
		{"byte order mark", "\ufeffa", "invisible format"},
		{"soft hyphen", "a\u00adb", "invisible format"},
		{"Arabic number sign", "\u0600a", "invisible format"},
		{"tag", "a\U000e0041", "invisible format"},
		{"combining grapheme joiner", "a\u034fb", "default-ignorable"},
		{"Hangul filler", "\u3164", "default-ignorable"},
		{"Hangul choseong filler", "a\u115f", "default-ignorable"},
		{"variation selector 16", "\u2764\ufe0f", "default-ignorable"},
		{"Mongolian variation selector", "a\u180bb", "default-ignorable"},
		{"line separator", "a\u2028b", "line or paragraph separator"},
		{"paragraph separator", "a\u2029b", "line or paragraph separator"},
		{"private use", "a\ue000b", "private-use"},
		{"SFM colon", "a\uf022b", "private-use"},
		{"supplementary private use", "\U000f0000", "private-use"},
		{"unassigned", "a\u0378b", "unassigned"},
		{"noncharacter", "a\ufdd0b", "unassigned"},
		{"U+FFFF", "a\uffff", "unassigned"},
		{"account of", "a\u2100b", "slash or backslash"},
		{"fullwidth solidus", "a\uff0fb", "slash or backslash"},
		{"fullwidth reverse solidus", "a\uff3cb", "slash or backslash"},
		{"small reverse solidus", "a\ufe68b", "slash or backslash"},
		{"trailing slash", "a/", "empty element"},
		{"double slash", "a//b", "empty element"},
		{"dot", ".", ". or .. element"},
		{"dot dot", "..", ". or .. element"},
		{"leading dot element", "./a", ". or .. element"},
		{"inner dot element", "a/./b", ". or .. element"},
		{"inner dot dot", "a/../b", ". or .. element"},
		{"three dots", "...", "only of dots and spaces"},
		{"space element", "a/ /b", "only of dots and spaces"},
		{"dot space", ". .", "only of dots and spaces"},
		{"two dot leader", "a/\u2025/b", "only of dots and spaces"},
		{"fullwidth dots", "\uff0e\uff0e", "only of dots and spaces"},
		{"ideographic space element", "a/\u3000", "only of dots and spaces"},
		{"element too long", strings.Repeat("a", MaxComponentLen+1), "longer than 255"},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			err := CheckPath(c.path)
			if c.want == "" {
				if err != nil {
					t.Fatalf("CheckPath(%q) = %v, want nil", c.path, err)
				}
				return
			}
			if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("CheckPath(%q) = %v, want ErrUnsafePath mentioning %q", c.path, err, c.want)
			}
		})
	}
}

func TestCheckPathAllocates(t *testing.T) {
	for p, want := range map[string]float64{
		"migrations/21-101/001.js":                            0,
		strings.Repeat("a/", 2000) + "x":                      0,
		"données/été/日本語/" + strings.Repeat("é/", 1000) + "x": 1, // in norm.Form.IsNormalString
	} {
		if n := testing.AllocsPerRun(10, func() { CheckPath(p) }); n > want {
			t.Errorf("CheckPath(%.40q...) allocates %v times, want %v", p, n, want)
		}
	}
}

// TestParseSumsRefusesStdin: a SHA256SUMS line for "-" would make
// sha256sum --check hash its standard input (TestSha256sumAgrees).
func TestParseSumsRefusesStdin(t *testing.T) {
	line := SHA256(nil).Hex() + "  -\n"
	if _, err := ParseSums([]byte(line)); !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("ParseSums(%q) = %v, want ErrUnsafePath", line, err)
	}
}

// TestFoldKey lists pairs that some target file system takes for one name
// (so their keys are equal) and pairs none does.
func TestFoldKey(t *testing.T) {
	same := [][2]string{
		{"A", "a"},
		{"Straße", "STRASSE"},  // full case folding (ext4 casefold)
		{"\u1e9e", "ss"},       // capital sharp s
		{"\u212a", "k"},        // Kelvin sign (simple folding: NTFS, HFS+)
		{"\u212b", "å"},        // Angstrom sign: a singleton canonical decomposition
		{"ı", "I"},             // dotless i: NTFS upper-cases it to I
		{"ı", "i"},             // and so it is i too
		{"İ", "i\u0307"},       // full folding of capital I with dot
		{"σ", "ς"},             // final sigma
		{"Σ", "ς"},             //
		{"ſ", "s"},             // long s
		{"ǅ", "ǆ"},             // title case
		{"ﬁ", "fi"},            // ligature (NFKC, and full folding)
		{"Ⅸ", "ix"},            // Roman numeral: NFKC, then case
		{"①", "1"},             // NFKC
		{"\uff21\uff22", "ab"}, // fullwidth
		{"㎏", "kg"},            // square kg
		{"a\u00a0b", "a b"},    // no-break space: NFKC
		{"e\u0301", "é"},       // NFD and NFC
		{"a.", "a"},            // Windows drops trailing dots
		{"a ", "a"},            // and spaces
		{"a . .", "a"},         //
		{"a\u2024", "a"},       // one dot leader, NFKC "."
		{"x./y ", "x/y"},       // in every element
		{"DATA/Été.SQL", "data/été.sql"},
	}
	for _, p := range same {
		if FoldKey(p[0]) != FoldKey(p[1]) {
			t.Errorf("FoldKey(%q) = %q, FoldKey(%q) = %q; want them equal", p[0], FoldKey(p[0]), p[1], FoldKey(p[1]))
		}
	}
	differ := [][2]string{
		{"a", "b"},
		{"é", "e"},
		{"données", "donnees"},
		{"a-b", "a_b"},
		{"a.b", "ab"},
		{".a", "a"}, // only trailing dots go
		{" a", "a"}, // and only trailing spaces
		{"İ", "i"},  // every normalising file system decomposes İ first
		{"a/b", "ab"},
		{"a/b", "a\u2044b"}, // fraction slash is not a slash
	}
	for _, p := range differ {
		if FoldKey(p[0]) == FoldKey(p[1]) {
			t.Errorf("FoldKey(%q) = FoldKey(%q) = %q; want them different", p[0], p[1], FoldKey(p[0]))
		}
	}
	for _, p := range []string{"a/b/c", "données/Été.sql", "ﬁ/Ⅸ/①", "x./y ", "Straße/ǅ/ı"} {
		var want []string
		for _, el := range strings.Split(p, "/") {
			want = append(want, FoldKey(el))
		}
		if got := FoldKey(p); got != strings.Join(want, "/") {
			t.Errorf("FoldKey(%q) = %q, want the elements' keys joined, %q", p, got, strings.Join(want, "/"))
		}
	}
	if p := "lower/case/ascii"; FoldKey(p) != p || testing.AllocsPerRun(10, func() { FoldKey(p) }) != 0 {
		t.Errorf("FoldKey(%q) = %q or allocates; want it unchanged, with no allocation", p, FoldKey(p))
	}
}

func TestIsReservedPathFolds(t *testing.T) {
	for _, p := range []string{"\uff33\uff22\uff2f\uff2d/x", "sbom./x", "SHA256SUMS ", "x.SIG", "\u017fbom", "IMAGES", "images./blobs"} {
		if !IsReservedPath(p) {
			t.Errorf("IsReservedPath(%q) = false, want true", p)
		}
	}
	for _, p := range []string{"data", "sbomx/a", "docs/sbom", "x.sig.txt"} {
		if IsReservedPath(p) {
			t.Errorf("IsReservedPath(%q) = true, want false", p)
		}
	}
}

// TestRuneTables checks, for every code point, the tables and claims the
// path rules rest on: slashLike and dotLike are exactly the code points
// whose NFKC form has a slash or backslash, or only dots and spaces; the key
// of an accepted element never has a slash and keeps the elements around it;
// "/" is a normalization boundary; FoldKey's fast path is exact; and the key
// of a code point is that of its image under each folding or normalization
// that a target file system applies (strings.ToLower's İ -> i aside, which
// no such file system does: they decompose İ first).
func TestRuneTables(t *testing.T) {
	for _, f := range []norm.Form{norm.NFC, norm.NFD, norm.NFKC, norm.NFKD} {
		if p := f.PropertiesString("/"); !p.BoundaryBefore() || !p.BoundaryAfter() {
			t.Errorf("%v: / is not a normalization boundary", f)
		}
	}
	maps := map[string]func(string) string{
		"NFC": norm.NFC.String, "NFD": norm.NFD.String, "NFKC": norm.NFKC.String, "NFKD": norm.NFKD.String,
		"ToUpper": strings.ToUpper, "ToLower": strings.ToLower, "ToTitle": strings.ToTitle,
		"Fold": cases.Fold().String, "Upper": cases.Upper(language.Und).String, "Lower": cases.Lower(language.Und).String,
	}
	failures := 0
	fail := func(format string, args ...any) {
		if failures++; failures <= 20 {
			t.Errorf(format, args...)
		}
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C) {
			if badRune(r) == "" {
				fail("%U: unassigned, but badRune allows it", r)
			}
			continue // no decomposition, no case
		}
		s := string(r)
		n := norm.NFKC.String(s)
		if slash := strings.ContainsAny(n, `/\`) && r != '/' && r != '\\'; slash != unicode.Is(slashLike, r) {
			fail("%U: NFKC %q; in slashLike: %v", r, n, !slash)
		}
		if dots := strings.Trim(n, ". ") == ""; dots != unicode.Is(dotLike, r) {
			fail("%U: NFKC %q; in dotLike: %v", r, n, !dots)
		}
		if n == s && folder.String(s) == s && strings.Map(lowerUpper, s) == s {
			d := norm.NFKD.String(s)
			if strings.Map(lowerUpper, folder.String(d)) != d {
				fail("%U: FoldKey's fast path would keep it, but its decomposition %q folds", r, d)
			}
		}
		if r >= utf8.RuneSelf {
			allowed := unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs) && r != utf8.RuneError &&
				!unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) && !unicode.Is(slashLike, r)
			if allowed != (badRune(r) == "") {
				fail("%U: badRune says %q", r, badRune(r))
			}
		}
		el := "x" + s
		if r >= utf8.RuneSelf && badRune(r) != "" || unicode.Is(dotLike, r) || CheckPath(el) != nil {
			continue
		}
		k := FoldKey(el)
		if strings.Contains(k, "/") {
			fail("%U: key %q has a slash", r, k)
		}
		if got, want := FoldKey("a/"+el+"/"+el), "a/"+k+"/"+k; got != want {
			fail("%U: key of a path %q, want its elements' %q", r, got, want)
		}
		if FoldKey(k) != k {
			fail("%U: key %q is not its own key (%q)", r, k, FoldKey(k))
		}
		var images []string
		for name, m := range maps {
			if im := m(s); im != s && (name != "ToLower" || r != 'İ') {
				images = append(images, im)
			}
		}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			images = append(images, string(f))
		}
		for _, im := range images {
			if FoldKey("x"+im) != k {
				fail("%U: key %q, but x%q has key %q", r, k, im, FoldKey("x"+im))
			}
		}
	}
}
