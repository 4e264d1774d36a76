package manifest

import (
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Limits on kit paths. They keep names portable and bounded for readers.
const (
	// MaxPathLen bounds a kit path and a tar name, "<root>/<path>", in
	// bytes: 4095 is the longest name GNU tar can extract on Linux, whose
	// PATH_MAX of 4096 counts the terminating NUL.
	MaxPathLen      = 4095
	MaxComponentLen = 255 // bytes, for one path element
)

// Names of the metadata entries at the kit root (docs/FORMAT.md, "Layout").
const (
	SumsName     = "SHA256SUMS"
	SumsSigName  = "SHA256SUMS.sig"
	EnvelopeName = "manifest.dsse.json"
	SBOMDir      = "sbom"
	KitSBOMName  = "sbom/kit.spdx.json"
)

// CheckPath reports whether p is a safe relative path inside a kit
// (docs/FORMAT.md, "Paths"): valid UTF-8 in Normalization Form C, not "-",
// not absolute, with no backslash, no empty, "." or ".." element, no element
// made only of dots and spaces, within the length limits, and with no code
// point that is a control, format, private-use, unassigned, line or
// paragraph separator, default-ignorable or U+FFFD, nor one whose
// compatibility form holds a slash or backslash. Such a path means the same
// thing to GNU tar, to sha256sum --check, and to every file system offkit
// targets, and FoldKey can compare it element by element.
//
// CheckPath costs time linear in len(p), and for an ASCII path allocates
// only for its error.
func CheckPath(p string) error {
	bad := func(why string) error { return fmt.Errorf("%w: %q: %s", ErrUnsafePath, p, why) }
	switch {
	case p == "":
		return bad("empty")
	case len(p) > MaxPathLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxPathLen))
	case !utf8.ValidString(p):
		return bad("not valid UTF-8")
	case !isASCII(p) && !norm.NFC.IsNormalString(p):
		return bad("not in Unicode normalization form C")
	case p[0] == '/':
		return bad("absolute")
	case strings.IndexByte(p, '\\') >= 0:
		return bad("contains a backslash")
	case p == "-":
		return bad(`"-" is standard input to sha256sum --check`)
	}
	for _, r := range p {
		if r < utf8.RuneSelf {
			if r < 0x20 || r == 0x7f {
				return bad("contains a control character")
			}
			continue
		}
		if why := badRune(r); why != "" {
			return bad(fmt.Sprintf("contains %U, %s", r, why))
		}
	}
	for i := 0; ; {
		end := elemEnd(p, i)
		switch el := p[i:end]; {
		case el == "":
			return bad("has an empty element")
		case el == "." || el == "..":
			return bad("has a . or .. element")
		case len(el) > MaxComponentLen:
			return bad(fmt.Sprintf("has an element longer than %d bytes", MaxComponentLen))
		case onlyDots(el):
			return bad("has an element made only of dots and spaces")
		}
		if end == len(p) {
			return nil
		}
		i = end + 1
	}
}

// badRune says why the non-ASCII code point r may not appear in a kit path,
// or returns "" if it may.
func badRune(r rune) string {
	if r < 0x100 && r >= 0xa0 && r != 0xad {
		return "" // Latin-1 letters, signs and the no-break space
	}
	if unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs) {
		// Assigned, and not a control, format, private-use or separator
		// character; a few of these are still refused.
		switch {
		case r == utf8.RuneError:
			return "the replacement character"
		case r >= 0x034f && unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector):
			return "an invisible default-ignorable character"
		case r >= 0x2100 && unicode.Is(slashLike, r):
			return "whose compatibility form has a slash or backslash"
		}
		return ""
	}
	switch {
	case unicode.IsControl(r):
		return "a control character"
	case unicode.Is(unicode.Cf, r):
		return "an invisible format character"
	case unicode.In(r, unicode.Zl, unicode.Zp):
		return "a line or paragraph separator"
	case unicode.Is(unicode.Co, r):
		return "a private-use character"
	}
	return "an unassigned code point (Unicode " + unicode.Version + ")"
}

// slashLike holds the code points other than / and \ whose NFKC form has a
// slash or backslash (℀ is "a/c", ／ is "/"): a file system that compares
// names in NFKC, or Windows' best-fit code page conversion, would see a
// path separator in them, and FoldKey would not keep the path's elements.
// TestRuneTables checks the table against every code point.
var slashLike = &unicode.RangeTable{R16: []unicode.Range16{
	{Lo: 0x2100, Hi: 0x2101, Stride: 1}, // ℀ ℁
	{Lo: 0x2105, Hi: 0x2106, Stride: 1}, // ℅ ℆
	{Lo: 0xfe68, Hi: 0xfe68, Stride: 1}, // ﹨
	{Lo: 0xff0f, Hi: 0xff0f, Stride: 1}, // ／
	{Lo: 0xff3c, Hi: 0xff3c, Stride: 1}, // ＼
}}

// dotLike holds the code points whose NFKC form is made only of dots and
// spaces (U+2025 ‥ is "..", U+3000 is " "). TestRuneTables checks it.
var dotLike = &unicode.RangeTable{R16: []unicode.Range16{
	{Lo: 0x0020, Hi: 0x0020, Stride: 1},
	{Lo: 0x002e, Hi: 0x002e, Stride: 1},
	{Lo: 0x00a0, Hi: 0x00a0, Stride: 1},
	{Lo: 0x2000, Hi: 0x200a, Stride: 1},
	{Lo: 0x2024, Hi: 0x2026, Stride: 1},
	{Lo: 0x202f, Hi: 0x202f, Stride: 1},
	{Lo: 0x205f, Hi: 0x205f, Stride: 1},
	{Lo: 0x3000, Hi: 0x3000, Stride: 1},
	{Lo: 0xfe19, Hi: 0xfe19, Stride: 1},
	{Lo: 0xfe30, Hi: 0xfe30, Stride: 1},
	{Lo: 0xfe52, Hi: 0xfe52, Stride: 1},
	{Lo: 0xff0e, Hi: 0xff0e, Stride: 1},
}}

// onlyDots reports whether el is made only of dots and spaces, counting
// their compatibility forms (‥, U+3000): Windows drops trailing dots and
// spaces from a name, so such an element would vanish or become ".." there,
// and its fold key would be empty.
func onlyDots(el string) bool {
	for _, r := range el {
		if !unicode.Is(dotLike, r) {
			return false
		}
	}
	return true
}

// folder is Unicode full case folding (CaseFolding.txt, C and F), which is
// stateless and safe for concurrent use.
var folder = cases.Fold()

// FoldKey returns the key under which two kit paths may name the same file
// on some target file system: case-insensitive ones (NTFS, APFS and HFS+,
// ext4 and ZFS with case folding), normalising ones (in NFD, NFC, or ZFS's
// NFKC and NFKD) and Windows, which drops trailing dots and spaces. It is
// coarser than each of them: the compatibility decomposition (NFKD), full
// case folding, then each rune's simple lower case of its upper case (which
// puts dotless ı with I and i, as NTFS does), recomposed (NFKC), with each
// element's trailing dots and spaces removed.
//
// For a path that CheckPath accepts, the key keeps the path's elements: the
// key of each element, joined by "/", so the key of a directory is a prefix
// of the keys of the paths below it. FoldKey costs time linear in len(p);
// it allocates nothing for a path of lower-case ASCII with no element that
// ends in a dot or space.
func FoldKey(p string) string {
	k := p
	if isASCII(p) {
		if hasUpperASCII(p) {
			k = strings.ToLower(p)
		}
	} else if !norm.NFKC.IsNormalString(k) || folder.String(k) != k || strings.Map(lowerUpper, k) != k {
		// (Otherwise k is its own key: TestFoldKeyFastPath checks that a
		// rune in NFKC that folding and lowerUpper keep decomposes to runes
		// that they keep too.)
		k = norm.NFKD.String(k)
		k = folder.String(k)
		k = strings.Map(lowerUpper, k)
		k = norm.NFKC.String(k)
	}
	return trimElements(k)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func hasUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

func lowerUpper(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }

// trimElements removes trailing dots and spaces from every element of k.
func trimElements(k string) string {
	trailing := func(i int) bool { return k[i] == '.' || k[i] == ' ' }
	trim := false
	for i := 0; i < len(k) && !trim; i++ {
		trim = trailing(i) && (i+1 == len(k) || k[i+1] == '/')
	}
	if !trim {
		return k
	}
	var b strings.Builder
	b.Grow(len(k))
	for rest := k; ; {
		el, more, found := strings.Cut(rest, "/")
		b.WriteString(strings.TrimRight(el, ". "))
		if !found {
			break
		}
		b.WriteByte('/')
		rest = more
	}
	return b.String()
}

// IsReservedPath reports whether p, relative to the kit root, is reserved for
// kit metadata and so may not be used by a component: anything whose first
// element is sbom, images (the image layout of format v2), SHA256SUMS,
// SHA256SUMS.*, or a signature name (*.sig, *.dsse.json, *.sigstore.json) —
// so a payload directory can never take the place of a metadata file when
// the kit is extracted. The first element is compared by its fold key, so
// case, compatibility forms and trailing dots do not matter.
func IsReservedPath(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	first = FoldKey(first)
	sums := strings.ToLower(SumsName)
	return first == SBOMDir || first == ImagesPath || first == sums || strings.HasPrefix(first, sums+".") ||
		strings.HasSuffix(first, ".sig") || strings.HasSuffix(first, ".dsse.json") || strings.HasSuffix(first, ".sigstore.json")
}

// IsSignatureFile reports whether name, relative to the kit root, is a
// signature file: excluded from SHA256SUMS and from the statement's subjects.
func IsSignatureFile(name string) bool {
	if name == EnvelopeName {
		return true
	}
	_, ok := SumsSigIndex(name)
	return ok
}

// SumsSigName returns the name of the SHA256SUMS signature made by the i-th
// signer (0-based, in DSSE signature order): SHA256SUMS.sig for the first,
// SHA256SUMS.<i+1>.sig after it.
func SumsSigNameFor(i int) string {
	if i == 0 {
		return SumsSigName
	}
	return fmt.Sprintf("%s.%d.sig", SumsName, i+1)
}

// SumsSigIndex is the inverse of SumsSigNameFor.
func SumsSigIndex(name string) (int, bool) {
	if name == SumsSigName {
		return 0, true
	}
	mid, ok := strings.CutPrefix(name, SumsName+".")
	if !ok {
		return 0, false
	}
	mid, ok = strings.CutSuffix(mid, ".sig")
	if !ok || mid == "" || len(mid) > 4 || mid[0] == '0' {
		return 0, false
	}
	n := 0
	for _, c := range mid {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n < 2 {
		return 0, false
	}
	return n - 1, true
}

// Within reports whether p is dir or lies below it.
func Within(p, dir string) bool {
	return p == dir || len(p) > len(dir) && p[len(dir)] == '/' && p[:len(dir)] == dir
}

// Clean joins elements with "/" and cleans the result.
func Clean(elem ...string) string { return path.Clean(path.Join(elem...)) }

// A CollisionError reports a kit path that would be the same file or
// directory as another on some target file system (their fold keys are
// equal, and they are not the same directory), or a file where another path
// needs a directory. It wraps ErrUnsafePath.
type CollisionError struct {
	Path  string // the path added, or its ancestor directory that collides
	Other string // the path or directory recorded before, as it was spelt
	Dir   bool   // Path is a directory
}

func (e *CollisionError) Error() string {
	if e.Dir {
		return fmt.Sprintf("directory %q collides with %q", e.Path, e.Other)
	}
	return fmt.Sprintf("%q collides with %q", e.Path, e.Other)
}

func (e *CollisionError) Unwrap() error { return ErrUnsafePath }

// A PathSet holds kit paths — files, directories, and every directory they
// imply — and refuses a path that collides with one it holds: a fold key
// (FoldKey) it already has under another spelling or as another kind (file
// or directory), or a path below a file. It is a radix tree over the paths'
// fold keys, split at element boundaries, so adding a path costs time linear
// in its length and at most two nodes, however deep it is and however many
// directories it implies: a set of paths of N bytes in all costs O(N).
//
// The zero PathSet is not usable; make one with NewPathSet.
type PathSet struct {
	nodes []pathNode
	kids  map[pathEdge]int32
	dirs  int
}

// A pathNode is a file or directory at the end of an edge. The directories
// inside the edge are implied: they are the node's key and path cut at an
// element boundary below the parent's.
type pathNode struct {
	key, path string // fold key and spelling of the whole path; "" at the root
	parent    int32
	file      bool
}

// A pathEdge names a node's child by the fold key of the edge's first
// element.
type pathEdge struct {
	parent int32
	first  string
}

// NewPathSet returns an empty set with room for about n paths.
func NewPathSet(n int) *PathSet {
	n = max(n, 0)
	return &PathSet{nodes: make([]pathNode, 1, n+1), kids: make(map[pathEdge]int32, n)}
}

// Dirs returns the number of directories the set holds: added ones and
// implied ones, each once. The kit root is not one.
func (s *PathSet) Dirs() int { return s.dirs }

// Add adds p, a file or (if dir) a directory, and the directories above it.
// It refuses a path that CheckPath refuses, and returns a *CollisionError if
// p or one of its directories collides with a path the set holds. Adding a
// directory the set holds, spelt the same, does nothing. When Add fails, the
// set is unchanged. Add keeps p: it stores substrings of it and of its key.
func (s *PathSet) Add(p string, dir bool) error {
	if err := CheckPath(p); err != nil {
		return err
	}
	return s.add(p, dir)
}

// add is Add for a path that CheckPath accepts.
func (s *PathSet) add(p string, dir bool) error {
	k := FoldKey(p)
	if strings.Count(k, "/") != strings.Count(p, "/") {
		return fmt.Errorf("%w: %q: its fold key %q does not keep its elements", ErrUnsafePath, p, k)
	}
	cur := int32(0)
	ki, pi := 0, 0 // start of the next element in k and p
	for {
		first := k[ki:elemEnd(k, ki)]
		child, ok := s.kids[pathEdge{cur, first}]
		if !ok {
			s.leaf(cur, p, k, ki, dir)
			return nil
		}
		c := s.nodes[child]
		// c's key and path agree with k and p up to ki and pi. Walk the
		// edge element by element.
		for {
			ke, ce := elemEnd(k, ki), elemEnd(c.key, ki)
			if k[ki:ke] != c.key[ki:ce] {
				// The paths part here: ki > the edge's start, as the first
				// elements matched. Split the edge at the directory above.
				s.split(cur, child, first, ki-1, pi-1)
				s.leaf(int32(len(s.nodes)-1), p, k, ki, dir)
				return nil
			}
			pe, cpe := elemEnd(p, pi), elemEnd(c.path, pi)
			if p[pi:pe] != c.path[pi:cpe] {
				if ke == len(k) {
					return &CollisionError{Path: p, Other: c.path[:cpe], Dir: dir}
				}
				return &CollisionError{Path: p[:pe], Other: c.path[:cpe], Dir: true}
			}
			switch {
			case ke == len(k) && ce == len(c.key): // p is c
				if dir && !c.file {
					return nil
				}
				return &CollisionError{Path: p, Other: c.path, Dir: dir}
			case ke == len(k): // p is a directory inside the edge
				if dir {
					return nil
				}
				return &CollisionError{Path: p, Other: c.path[:cpe]}
			case ce == len(c.key): // c is a directory above p
				if c.file {
					return &CollisionError{Path: p[:pe], Other: c.path, Dir: true}
				}
				cur, ki, pi = child, ke+1, pe+1
			default:
				ki, pi = ke+1, pe+1
				continue
			}
			break
		}
	}
}

// leaf adds the node for p below parent, its edge starting at k[ki:].
func (s *PathSet) leaf(parent int32, p, k string, ki int, dir bool) {
	id := int32(len(s.nodes))
	s.nodes = append(s.nodes, pathNode{key: k, path: p, parent: parent, file: !dir})
	s.kids[pathEdge{parent, k[ki:elemEnd(k, ki)]}] = id
	s.dirs += strings.Count(k[ki:], "/")
	if dir {
		s.dirs++
	}
}

// split puts a directory node at key offset ko and path offset po inside the
// edge from parent to child, whose first element's key is first.
func (s *PathSet) split(parent, child int32, first string, ko, po int) {
	c := &s.nodes[child]
	id := int32(len(s.nodes))
	mid := pathNode{key: c.key[:ko], path: c.path[:po], parent: parent}
	c.parent = id
	s.kids[pathEdge{id, c.key[ko+1 : elemEnd(c.key, ko+1)]}] = child
	s.kids[pathEdge{parent, first}] = id
	s.nodes = append(s.nodes, mid)
}

// elemEnd returns the end of the element of s that starts at i.
func elemEnd(s string, i int) int {
	if j := strings.IndexByte(s[i:], '/'); j >= 0 {
		return i + j
	}
	return len(s)
}

// IsDir reports whether the set holds the directory p, spelt exactly so: one
// added, or one implied by a path added. It costs time linear in len(p).
func (s *PathSet) IsDir(p string) bool {
	if CheckPath(p) != nil {
		return false
	}
	k := FoldKey(p)
	if strings.Count(k, "/") != strings.Count(p, "/") {
		return false
	}
	cur := int32(0)
	ki, pi := 0, 0
	for {
		child, ok := s.kids[pathEdge{cur, k[ki:elemEnd(k, ki)]}]
		if !ok {
			return false
		}
		c := s.nodes[child]
		for {
			ke, ce := elemEnd(k, ki), elemEnd(c.key, ki)
			pe, cpe := elemEnd(p, pi), elemEnd(c.path, pi)
			if k[ki:ke] != c.key[ki:ce] || p[pi:pe] != c.path[pi:cpe] {
				return false
			}
			switch {
			case ke == len(k):
				return ce < len(c.key) || !c.file
			case ce == len(c.key):
				if c.file {
					return false
				}
				cur, ki, pi = child, ke+1, pe+1
			default:
				ki, pi = ke+1, pe+1
				continue
			}
			break
		}
	}
}
