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
