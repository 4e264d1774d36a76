package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// spec is one kit this program writes.
type spec struct {
	name    string
	trusted bool   // signed by the trusted test key (testdata/hostile/trusted.key)
	what    string // what it is, for the table
	// asTrusted is what `offkit verify --key trusted.pub` answers, at the
	// commit this program was written against, for the same kit signed by
	// the trusted key (the -trust-all mode): "ok" (verified), "ok?" (verified,
	// but a stricter reader may refuse it as not intact: it is more than
	// offkit's writer produces), "unsigned", "panic", or a substring of
	// the error. It says how far the kit gets.
	asTrusted string
	make      func(g *gen) *kit
}

// gen holds what every kit is made with.
type gen struct {
	trusted  signer
	scale    float64 // of every byte budget; 1 writes the real thing
	trustAll bool    // sign every signed kit with the trusted key instead
	log      func(format string, a ...any)
}

// lim scales a byte budget.
func (g *gen) lim(n int) int { return int(float64(n) * g.scale) }

// count scales a count that a scaled-down kit could not hold.
func (g *gen) count(n int) int {
	if g.scale >= 1 {
		return n
	}
	return max(2, min(n, int(float64(n)*g.scale*10)))
}

// signers returns the signers of a kit: n untrusted keys, or the trusted
// key (once) if the kit is meant to be trusted or in -trust-all mode.
func (g *gen) signers(trusted bool, n int) []signer {
	if n == 0 {
		return nil
	}
	if trusted || g.trustAll {
		return []signer{g.trusted}
	}
	var out []signer
	for i := range n {
		out = append(out, untrustedKey(strconv.Itoa(i+1)))
	}
	return out
}

func specs() []spec {
	return []spec{
		{name: "envelope-max-untrusted", what: "manifest.dsse.json just under 64 MiB: a 48 MiB statement of ~220k files (every file twice: a subject and a manifest file), consistent with a 15 MiB SHA256SUMS and a 54 MiB kit SBOM; 1 untrusted signature", asTrusted: "ok",
			make: func(g *gen) *kit { return g.manyFiles(g.signers(false, 1)) }},
		{name: "envelope-max-64sigs-untrusted", what: "envelope-max with 64 signatures by 64 untrusted keys (and 64 SHA256SUMS.N.sig)", asTrusted: "ok",
			make: func(g *gen) *kit { return g.manyFiles(g.signers(false, maxSignatures)) }},
		{name: "unsigned-max", what: "envelope-max with no signature at all", asTrusted: "unsigned",
			make: func(g *gen) *kit { return g.manyFiles(nil) }},
		{name: "envelope-max-trusted", trusted: true, what: "envelope-max signed by the trusted key: verifies (the cost of a legitimate maximal head and its 220k-file payload)", asTrusted: "ok",
			make: func(g *gen) *kit { return g.manyFiles(g.signers(true, 1)) }},
		{name: "sums-max-short-untrusted", what: "SHA256SUMS just under 64 MiB of ~880k short lines (valid, sorted), its digest in the statement; refused at the subject count", asTrusted: "subjects",
			make: func(g *gen) *kit { return g.sumsMax(false) }},
		{name: "sums-max-deep-untrusted", what: "SHA256SUMS just under 64 MiB of ~16k lines with 4096-byte paths of 2047 elements; refused at the subject count", asTrusted: "subjects",
			make: func(g *gen) *kit { return g.sumsMax(true) }},
		{name: "sbom-max-untrusted", what: "kit SBOM and 3 component SBOMs of 64 MiB each (256 MiB head), SPDX-2.2 with ~22M empty packages each `{}`; consistent", asTrusted: "ok?",
			make: func(g *gen) *kit { return g.sbomMax(3, g.lim(maxSBOMSize), true) }},
		{name: "sbom-many-untrusted", what: "1024 components (the schema's limit), each with a 255 KiB SPDX-2.2 SBOM of empty packages: 1025 SBOMs (the reader's limit), 256 MiB of head; consistent", asTrusted: "ok?",
			make: func(g *gen) *kit { return g.sbomMax(g.count(maxComponents), g.lim(maxSBOMSize), false) }},
		{name: "sbom-1mib-untrusted", what: "one 1 MiB SPDX-2.2 component SBOM of ~350k empty packages: the cost per MiB of SBOM", asTrusted: "ok?",
			make: func(g *gen) *kit { return g.sbomMax(1, g.lim(MiB), false) }},
		{name: "sbom-null-relationships-untrusted", what: "a 64 MiB component SBOM whose relationships are ~13M nulls (tools-golang removes each null by shifting the rest: quadratic)", asTrusted: "ok?",
			make: func(g *gen) *kit { return g.sbomNulls(g.lim(maxSBOMSize - 4<<10)) }},
		{name: "sbom-null-relationships-1mib-untrusted", what: "the same with a 1 MiB SBOM (~210k nulls)", asTrusted: "ok?",
			make: func(g *gen) *kit { return g.sbomNulls(g.lim(MiB)) }},
		{name: "sbom-null-package-untrusted", what: `a 300-byte component SBOM with "packages":[null]: tools-golang dereferences the nil package (offkit now checks carried SBOMs itself, CheckSBOM)`, asTrusted: "ok?",
			make: func(g *gen) *kit { return g.sbomNullPackage() }},
		{name: "deep-paths-untrusted", what: "~6k files whose paths are 4085 bytes (4096 with the root) of 2041 elements (a/a/.../a/NNNNN); every fold-key and directory check walks all 2040 parents", asTrusted: "ok",
			make: func(g *gen) *kit { return g.deepPaths(false) }},
		{name: "deep-paths-trusted", trusted: true, what: "deep-paths signed by the trusted key: verifies (payload: 2040 nested directories and the files)", asTrusted: "ok",
			make: func(g *gen) *kit { return g.deepPaths(true) }},
		{name: "json-bomb-deep-untrusted", what: "a 48 MiB statement whose predicate has an unknown field holding ~410k arrays each nested to depth 64 (the limit), 25M arrays in all; refused by the schema", asTrusted: "unknown field",
			make: func(g *gen) *kit { return g.jsonBomb(false) }},
		{name: "json-bomb-wide-untrusted", what: "a 48 MiB statement whose predicate has an unknown field holding one object of 2M keys that differ only in case; refused by the schema", asTrusted: "unknown field",
			make: func(g *gen) *kit { return g.jsonBomb(true) }},
		{name: "json-casefold-keys-untrusted", what: "a 48 MiB statement whose keys are repeated in every case variant (16 _type, 8192 predicateType, 16 name and 64 digest per subject); Go's decoder folds them, so it is consistent", asTrusted: "ok?",
			make: func(g *gen) *kit { return g.caseFold() }},
		{name: "zstd-empty-frames-untrusted", what: "a small kit after ~11M empty zstd frames (9 bytes each, content size 0): 100 MiB of input that decodes to nothing", asTrusted: "ok?",
			make: func(g *gen) *kit { return g.emptyFrames(g.lim(100 * MiB)) }},
		{name: "images-index-platforms-trusted", trusted: true, what: "format 2: index.json (4 MiB) lists the pinned 4 MiB index 16k times, each with a different dev.offkit.image.platforms filter; the checker parses and walks the index (13k present, 13k filtered-out children) again for each (now: each blob once, and an image listed more times than pinned is refused)", asTrusted: "ok?",
			make: func(g *gen) *kit { return g.imagesPlatforms(0) }},
		{name: "images-index-platforms-32-trusted", trusted: true, what: "the same with 32 index.json entries", asTrusted: "ok?",
			make: func(g *gen) *kit { return g.imagesPlatforms(32) }},
		{name: "images-artifacts-trusted", trusted: true, what: "format 2: 185k artifacts in the manifest (46 image components of the same image, 4096 each), index.json with 10k signature entries; each artifact is looked up in every entry", asTrusted: "ok",
			make: func(g *gen) *kit { return g.imagesArtifacts() }},
	}
}

// ---- helpers --------------------------------------------------------

// base36 returns i in base 36, zero-padded to width.
func base36(i, width int) string {
	s := strconv.FormatInt(int64(i), 36)
	return strings.Repeat("0", width-len(s)) + s
}

// fill returns the kit of mk(n) for the largest n in [lo, hi] whose head
// fits the limits. n=lo must fit.
func (g *gen) fill(name string, lo, hi int, mk func(n int) *kit) *kit {
	fits := func(n int) bool { return mk(n).build(true).fits() == nil }
	// The head grows linearly with n: estimate from two small kits, then
	// gallop from the estimate and bisect.
	a, b := lo, lo+max(1, (hi-lo)/256)
	n := lo
	if fits(b) {
		sa, sb := headMeasure(mk(a).build(true)), headMeasure(mk(b).build(true))
		est := hi
		if sb > sa {
			est = b + int((1-sb)/((sb-sa)/float64(b-a)))
		}
		est = min(max(est, b), hi)
		if fits(est) {
			step := 1
			for est+step <= hi && fits(est+step) {
				est += step
				step *= 2
			}
			n = largest(est, min(hi, est+step-1), fits)
		} else {
			step := 1
			for est-step > b && !fits(est-step) {
				est -= step
				step *= 2
			}
			n = largest(max(b, est-step), est-1, fits)
		}
	} else {
		n = largest(lo, b, fits)
	}
	g.log("%s: n=%d", name, n)
	return mk(n)
}

// headMeasure is the fraction of the tightest limit a head uses.
func headMeasure(h *head) float64 {
	f := max(float64(len(h.statement))/float64(scaled(maxStatement)), float64(len(h.envelope))/float64(scaled(maxEnvelopeSize)),
		float64(len(h.sums))/float64(scaled(maxSumsSize)), float64(h.size())/float64(scaled(maxHeadSize)))
	for _, s := range h.sboms {
		f = max(f, float64(len(s.data))/float64(scaled(maxSBOMSize)))
	}
	return f
}

// small is a small consistent kit: two files and a pending component.
func (g *gen) small(signers []signer) *kit {
	k := newKit(1)
	k.component("data", "data", "data")
	k.add("data", "data/a.txt", []byte("hello\n"), modeFile)
	k.add("data", "data/run.sh", []byte("#!/bin/sh\necho run\n"), modeExec)
	p := k.component("seeds", "seeds", "seeds")
	p.Pending = true
	k.signers = signers
	return k
}

// budget returns how many bytes of JSON may be added to k's statement so
// that the statement and the envelope still fit (leaving slack).
func (g *gen) budget(k *kit) int {
	h := k.build(true)
	byStmt := g.lim(maxStatement) - len(h.statement)
	byEnv := (g.lim(maxEnvelopeSize)-len(h.envelope))*3/4 - 16
	return max(0, min(byStmt, byEnv)-256)
}

// ---- envelope-max, unsigned-max ---------------------------------------

func (g *gen) manyFiles(signers []signer) *kit {
	mk := func(n int) *kit {
		k := newKit(1)
		k.component("data", "data", "d")
		c := &k.m.Components[0]
		c.Files = make([]File, 0, n)
		for i := range n {
			p := "d/" + base36(i, 4)
			c.Files = append(c.Files, File{Path: p, Mode: modeFile, Digest: emptyDigest})
			k.payload = append(k.payload, pfile{path: p, mode: modeFile})
		}
		k.signers = signers
		return k
	}
	return g.fill("many-files", 1, 36*36*36*36-1, mk)
}

// ---- sums-max ---------------------------------------------------------

func (g *gen) sumsMax(deep bool) *kit {
	k := g.small(g.signers(false, 1))
	limit := g.lim(maxSumsSize)
	k.sums = func([]byte) []byte {
		hexd := strings.TrimPrefix(emptyDigest, "sha256:")
		var b bytes.Buffer
		b.Grow(limit)
		if deep {
			// One-byte elements to the limit of a tar name under the
			// root, then 4 characters.
			pre := strings.Repeat("a/", (maxPathLen-len(root)-1-4)/2)
			for i := 0; ; i++ {
				line := hexd + "  " + pre + base36(i, 4) + "\n"
				if b.Len()+len(line) > limit {
					break
				}
				b.WriteString(line)
			}
		} else {
			for i := 0; ; i++ {
				line := hexd + "  x/" + base36(i, 6) + "\n"
				if b.Len()+len(line) > limit {
					break
				}
				b.WriteString(line)
			}
		}
		return b.Bytes()
	}
	return k
}

// ---- SBOMs ------------------------------------------------------------

// padArray writes elem, comma-separated, after what b holds (inside an
// array that already has an element) until b is size bytes less tail.
func padArray(b *bytes.Buffer, elem string, size, tail int) {
	n := (size - tail - b.Len()) / (len(elem) + 1)
	if n <= 0 {
		return
	}
	b.Grow(n * (len(elem) + 1))
	for range n {
		b.WriteByte(',')
		b.WriteString(elem)
	}
}

// componentSBOM is a valid SPDX document of exactly size bytes (or more,
// if size is too small) whose array field holds elem repeated: SPDX-2.2
// is read into tools-golang's 2.2 model and converted, by reflection, to
// 2.3, which costs about four times as much as reading 2.3.
func componentSBOM(name, version, field, first, elem string, size int) []byte {
	var b bytes.Buffer
	spdxHead(&b, name, "https://example.org/"+name)
	b.WriteString(`,"` + field + `":[` + first)
	padArray(&b, elem, size, 3)
	b.WriteString("]}\n")
	out := b.Bytes()
	out = bytes.Replace(out, []byte(`"SPDX-2.3"`), []byte(`"`+version+`"`), 1)
	return out
}

// sbomMax makes a kit of n components, each with a component SBOM of
// size bytes (at most) full of empty packages: the first holds the kit's
// files, the others are pending. With kitToo, the kit SBOM is padded to
// the same size with empty packages too. The SBOMs share what the head's
// limit leaves.
func (g *gen) sbomMax(n, size int, kitToo bool) *kit {
	k := newKit(1)
	k.signers = g.signers(false, 1)
	for i := range n {
		name := fmt.Sprintf("c%04d", i)
		c := k.component(name, "docs", "docs/"+name)
		if i == 0 {
			k.add(name, c.Path+"/a.txt", []byte("hello\n"), modeFile)
		} else {
			c.Pending = true
		}
		c = k.comp(name)
		c.SBOM = &FileRef{Path: "sbom/" + name + ".spdx.json"}
		k.sboms[c.SBOM.Path] = componentSBOM(name, "SPDX-2.2", "packages", "{}", "{}", 0)
	}
	h := k.build(true)
	shares := n
	if kitToo {
		shares++
	}
	rest := int(h.size())
	for _, s := range h.sboms {
		if _, ok := k.sboms[s.path]; ok || kitToo {
			rest -= len(s.data)
		}
	}
	size = min(size, (g.lim(maxHeadSize)-rest)/shares-64)
	for i := range n {
		name := fmt.Sprintf("c%04d", i)
		k.sboms["sbom/"+name+".spdx.json"] = componentSBOM(name, "SPDX-2.2", "packages", "{}", "{}", size)
	}
	if kitToo {
		k.kitSBOM = func(m *Manifest, _ map[string][]byte) []byte {
			b := minimalKitSBOM(m, func(b *bytes.Buffer) { padArray(b, "{}", size, 4) })
			return bytes.Replace(b, []byte(`"SPDX-2.3"`), []byte(`"SPDX-2.2"`), 1)
		}
	}
	return k
}

func (g *gen) sbomNulls(size int) *kit {
	k := g.small(g.signers(false, 1))
	c := k.component("docs", "docs", "docs")
	c.Pending = true
	c.SBOM = &FileRef{Path: "sbom/docs.spdx.json"}
	k.sboms[c.SBOM.Path] = componentSBOM("docs", "SPDX-2.3", "relationships", "null", "null", size)
	return k
}

func (g *gen) sbomNullPackage() *kit {
	k := g.small(g.signers(false, 1))
	c := k.component("docs", "docs", "docs")
	c.Pending = true
	c.SBOM = &FileRef{Path: "sbom/docs.spdx.json"}
	k.sboms[c.SBOM.Path] = componentSBOM("docs", "SPDX-2.3", "packages", "null", "", 0)
	return k
}

// ---- deep paths -------------------------------------------------------

func (g *gen) deepPaths(trusted bool) *kit {
	// The tar name, root included, must be a valid path too (bundle's
	// checkHeader), so a kit path can be MaxPathLen less the root and "/":
	// "a/" 2040 times, then a 5-byte name.
	n := maxPathLen - len(root) - 1
	pre := strings.Repeat("a/", (n-5)/2)
	mk := func(n int) *kit {
		k := newKit(1)
		k.component("deep", "data", "a")
		c := &k.m.Components[0]
		for i := range n {
			p := pre + base36(i, 5)
			c.Files = append(c.Files, File{Path: p, Mode: modeFile, Digest: emptyDigest})
			k.payload = append(k.payload, pfile{path: p, mode: modeFile})
		}
		k.signers = g.signers(trusted, 1)
		return k
	}
	return g.fill("deep-paths", 1, 36*36*36*36-1, mk)
}

// ---- JSON ---------------------------------------------------------------

// jsonBomb adds an unknown field "x" at the start of the predicate, as
// large as the statement allows: deeply nested arrays, or one object with
// keys that differ only in case.
func (g *gen) jsonBomb(wide bool) *kit {
	k := g.small(g.signers(false, 1))
	room := g.budget(k) - len(`"x":[],`)
	var x bytes.Buffer
	x.Grow(room + 64)
	if wide {
		x.WriteString(`"x":{`)
		// Keys: every case variant of a 20-letter word, then of the next.
		const letters = "abcdefghijklmnopqrstuvwxyz"
		key := make([]byte, 20)
		for i := 0; ; i++ {
			w, v := i>>20, i&(1<<20-1)
			for j := range key {
				c := letters[(w+j)%26]
				if v>>j&1 == 1 {
					c -= 'a' - 'A'
				}
				key[j] = c
			}
			if x.Len()+len(key)+5 > room {
				break
			}
			if i > 0 {
				x.WriteByte(',')
			}
			x.WriteByte('"')
			x.Write(key)
			x.WriteString(`":0`)
		}
		x.WriteString("},")
	} else {
		// Depth: the statement (1), the predicate (2), "x" (3), then 61.
		d := maxJSONDepth - 3
		elem := strings.Repeat("[", d) + strings.Repeat("]", d)
		x.WriteString(`"x":[` + elem)
		for x.Len()+len(elem)+1 <= room {
			x.WriteByte(',')
			x.WriteString(elem)
		}
		x.WriteString("],")
	}
	k.predicate = func(p []byte) []byte {
		return append([]byte("{"+x.String()), p[1:]...)
	}
	return k
}

// caseFold writes the statement with every key repeated in case variants
// that Go's encoding/json maps to the same field.
func (g *gen) caseFold() *kit {
	variants := func(s string, max int) []string {
		var idx []int
		for i := range len(s) {
			if s[i] >= 'a' && s[i] <= 'z' {
				idx = append(idx, i)
			}
		}
		var out []string
		for v := 0; v < 1<<len(idx) && len(out) < max; v++ {
			b := []byte(s)
			for j, i := range idx {
				if v>>j&1 == 1 {
					b[i] -= 'a' - 'A'
				}
			}
			out = append(out, string(b))
		}
		return out
	}
	nptypes := 1 << 20
	if g.scale < 1 {
		nptypes = 16
	}
	types, ptypes := variants("_type", 1<<20), variants("predicateType", nptypes)
	names, digests := variants("name", 16), variants("digest", 64)
	rewrite := func(stmt []byte) []byte {
		var st Statement
		if err := json.Unmarshal(stmt, &st); err != nil {
			panic(err)
		}
		var b bytes.Buffer
		b.WriteByte('{')
		for _, t := range types {
			fmt.Fprintf(&b, "%q:%q,", t, st.Type)
		}
		b.WriteString(`"subject":[`)
		for i, s := range st.Subject {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('{')
			for _, n := range names {
				fmt.Fprintf(&b, "%q:%q,", n, s.Name)
			}
			for j, d := range digests {
				if j > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `%q:{"sha256":%q}`, d, s.Digest.SHA256)
			}
			b.WriteByte('}')
		}
		b.WriteString("],")
		for _, t := range ptypes {
			fmt.Fprintf(&b, "%q:%q,", t, st.PredicateType)
		}
		b.WriteString(`"predicate":`)
		b.Write(st.Predicate)
		b.WriteByte('}')
		return b.Bytes()
	}
	mk := func(n int) *kit {
		k := newKit(1)
		k.component("data", "data", "d")
		c := &k.m.Components[0]
		for i := range n {
			p := "d/" + base36(i, 4)
			c.Files = append(c.Files, File{Path: p, Mode: modeFile, Digest: emptyDigest})
			k.payload = append(k.payload, pfile{path: p, mode: modeFile})
		}
		k.statement = rewrite
		k.signers = g.signers(false, 1)
		return k
	}
	return g.fill("casefold", 1, 36*36*36*36-1, mk)
}

// ---- zstd ---------------------------------------------------------------

// emptyFrame is a zstd frame with content size 0: magic, a single-segment
// descriptor with a one-byte content size of 0, and one empty last raw
// block.
var emptyFrame = []byte{0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00}

func (g *gen) emptyFrames(size int) *kit {
	k := g.small(g.signers(false, 1))
	k.before = bytes.Repeat(emptyFrame, size/len(emptyFrame))
	return k
}
