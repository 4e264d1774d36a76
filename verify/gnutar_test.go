package verify_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/sign/signtest"
	"github.com/offkit/offkit/verify"
)

// TestRefusesWhatGNUTarReadsDifferently holds the attacks of a red-team
// review: signed bytes left intact, header bytes edited so that Go's
// archive/tar and GNU tar read different archives. Every one must be
// refused: what offkit verifies must be what `tar -xf` extracts.
func TestRefusesWhatGNUTarReadsDifferently(t *testing.T) {
	k := signtest.NewKey(t, "", "a")
	kit := bundletest.Kit(t, k.Signer)
	raw := bundletest.Raw(t, kit)
	find := func(raw []byte, name string) bundletest.Block {
		for _, b := range bundletest.Blocks(raw) {
			if b.Name == "demo-1.2.3/"+name {
				return b
			}
		}
		t.Fatalf("no entry %s", name)
		return bundletest.Block{}
	}
	edit := func(f func(raw []byte)) []byte {
		r := append([]byte{}, raw...)
		f(r)
		return bundletest.Compress(t, r)
	}
	cases := []struct {
		name, match string
		kit         []byte
	}{
		{"sbom/ as a regular file hiding entries", "sbom/", edit(func(r []byte) {
			b := find(r, "sbom/")
			h := r[b.Off : b.Off+512]
			h[156] = '0'
			bundletest.Checksum(h)
		})},
		{"size with leading NULs (GNU tar reads 0)", "canonical", edit(func(r []byte) {
			b := find(r, "migrations/001_init.sql")
			h := r[b.Off : b.Off+512]
			copy(h[124:136], fmt.Sprintf("\x00\x00%09o\x00", b.Size))
			bundletest.Checksum(h)
		})},
		{"mode with leading NULs (GNU tar reads 0)", "canonical", edit(func(r []byte) {
			b := find(r, "migrations/run.sh")
			h := r[b.Off : b.Off+512]
			copy(h[100:108], "\x00\x0000755\x00")
			bundletest.Checksum(h)
		})},
		{"a header hidden in a file's padding", "canonical", edit(func(r []byte) {
			b := find(r, "migrations/001_init.sql")
			pad := r[b.Off+512+b.Size : b.Off+1024]
			copy(pad[10:], "ustar\x0000")
		})},
		{"bytes after a name's NUL", "canonical", edit(func(r []byte) {
			b := find(r, "migrations/002_index.sql")
			h := r[b.Off : b.Off+512]
			h[99] = 'x'
			bundletest.Checksum(h)
		})},
		{"a link name on a regular file", "canonical", edit(func(r []byte) {
			b := find(r, "migrations/002_index.sql")
			h := r[b.Off : b.Off+512]
			copy(h[157:], "/etc/passwd")
			bundletest.Checksum(h)
		})},
		{"gzip header with an extra field", "extra", func() []byte {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Extra = []byte("ab\x02\x00zz")
			zw.Write(raw)
			zw.Close()
			return b.Bytes()
		}()},
		{"first block reads as a plain tar", "also read as a tar header", func() []byte {
			// A gzip member whose first 512 bytes pass GNU tar's header
			// checksum: GNU tar would read the file as an uncompressed tar.
			blk := make([]byte, 512)
			copy(blk, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
			copy(blk[257:], "ustar\x0000")
			bundletest.Checksum(blk)
			return append(blk, kit...)
		}()},
	}
	// Second review: the polyglot one frame in, past an empty first zstd
	// frame or gzip member, with checksum fields as only GNU tar reads them.
	gz := func() []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(raw)
		zw.Close()
		return b.Bytes()
	}()
	for _, c := range []struct {
		name  string
		first []byte // the file's first bytes, before the hidden tar's header fields
		kit   []byte
		field func(sum int) string
	}{
		{"zstd, empty frame then skippable, tab checksum", zstdSkippablePrefix(), kit, func(sum int) string { return fmt.Sprintf("\t%06o\x00", sum) }},
		{"zstd, empty frame then skippable, form-feed checksum", zstdSkippablePrefix(), kit, func(sum int) string { return fmt.Sprintf("\f%06o\x00", sum) }},
		{"gzip, empty member then FEXTRA, tab checksum", gzipExtraPrefix(gz), gz[10:], func(sum int) string { return fmt.Sprintf("\t%06o\x00", sum) }},
	} {
		blk := make([]byte, 10240)
		copy(blk, c.first)
		copy(blk[257:], "ustar\x0000")
		copy(blk[148:156], "        ")
		sum := 0
		for _, b := range blk[:512] {
			sum += int(b)
		}
		copy(blk[148:156], c.field(sum))
		cases = append(cases, struct {
			name, match string
			kit         []byte
		}{c.name, "also read as a tar header", append(blk, c.kit...)})
	}
	cases = append(cases, struct {
		name, match string
		kit         []byte
	}{"gzip, a later member with FEXTRA", "extra, name or comment", func() []byte {
		var b bytes.Buffer
		b.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0}) // an empty member
		m := append([]byte{}, gz...)
		m[3] |= 0x04 // FEXTRA: one subfield "ab" of 2 bytes
		b.Write(m[:10])
		b.Write([]byte{6, 0, 'a', 'b', 2, 0, 'z', 'z'})
		b.Write(m[10:])
		return b.Bytes()
	}()})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := run(t, c.kit, k)
			if !errors.Is(err, verify.ErrNotIntact) {
				t.Fatalf("err = %v, want ErrNotIntact", err)
			}
			if !strings.Contains(err.Error(), c.match) {
				t.Errorf("error %q does not mention %q", err, c.match)
			}
			if rep.Verified {
				t.Error("report says verified")
			}
		})
	}
	// The unedited stream, recompressed, still verifies: the edits above
	// are what is refused.
	if _, err := run(t, edit(func([]byte) {}), k); err != nil {
		t.Fatalf("unedited kit: %v", err)
	}
	_ = bundle.Zstd
}

// zstdSkippablePrefix is an empty zstd frame followed by the header of a
// skippable frame that runs to the end of a 10240-byte block.
func zstdSkippablePrefix() []byte {
	p := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00} // single segment, size 0, one empty raw block
	p = append(p, 0x50, 0x2a, 0x4d, 0x18)
	n := uint32(10240 - 17)
	return append(p, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
}

// gzipExtraPrefix is an empty gzip member followed by the header of a
// member (gz's own) with an FEXTRA field that runs to the end of a
// 10240-byte block; gz's deflate data follows the block.
func gzipExtraPrefix(gz []byte) []byte {
	p := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0}
	h := append([]byte{}, gz[:10]...)
	h[3] |= 0x04
	p = append(p, h...)
	n := 10240 - len(p) - 2
	return append(p, byte(n), byte(n>>8))
}
