package manifest

import (
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits on kit paths. They keep names portable and bounded for readers.
const (
	MaxPathLen      = 4096 // bytes, for a path relative to the kit root
	MaxComponentLen = 255  // bytes, for one path element
)

// Names of the metadata entries at the kit root (docs/FORMAT.md, "Layout").
const (
	SumsName     = "SHA256SUMS"
	SumsSigName  = "SHA256SUMS.sig"
	EnvelopeName = "manifest.dsse.json"
	SBOMDir      = "sbom"
	KitSBOMName  = "sbom/kit.spdx.json"
)

// CheckPath reports whether p is a safe relative path inside a kit: valid
// NFC UTF-8 with no control characters or backslashes, no empty, "." or ".."
// elements, not absolute, and within the length limits. Such a path means the
// same thing to GNU tar, sha256sum and every file system offkit targets.
func CheckPath(p string) error {
	bad := func(why string) error { return fmt.Errorf("%w: %q: %s", ErrUnsafePath, p, why) }
	switch {
	case p == "":
		return bad("empty")
	case len(p) > MaxPathLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxPathLen))
	case !utf8.ValidString(p):
		return bad("not valid UTF-8")
	case !norm.NFC.IsNormalString(p):
		return bad("not in Unicode normalization form C")
	case strings.HasPrefix(p, "/"):
		return bad("absolute")
	case strings.ContainsRune(p, '\\'):
		return bad("contains a backslash")
	}
	for _, r := range p {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return bad("contains a control character")
		}
	}
	for _, el := range strings.Split(p, "/") {
		switch {
		case el == "":
			return bad("has an empty element")
		case el == "." || el == "..":
			return bad("has a . or .. element")
		case len(el) > MaxComponentLen:
			return bad(fmt.Sprintf("has an element longer than %d bytes", MaxComponentLen))
		}
	}
	return nil
}

// FoldKey returns the key under which two paths collide on a case-insensitive
// or normalising file system (macOS, Windows): the NFC form, case-folded.
func FoldKey(p string) string {
	return strings.ToLower(strings.ToUpper(norm.NFC.String(p)))
}

// IsReservedPath reports whether p, relative to the kit root, is reserved for
// kit metadata and so may not be used by a component: anything whose first
// element is sbom, images (the image layout of format v2), SHA256SUMS,
// SHA256SUMS.*, or a signature name (*.sig, *.dsse.json, *.sigstore.json) —
// so a payload directory can never take the place of a metadata file when
// the kit is extracted. Case-insensitive.
func IsReservedPath(p string) bool {
	first, _, _ := strings.Cut(FoldKey(p), "/")
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
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// Clean joins elements with "/" and cleans the result.
func Clean(elem ...string) string { return path.Clean(path.Join(elem...)) }
