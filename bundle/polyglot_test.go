package bundle

import (
	"archive/tar"
	"bytes"
	"testing"
)

func TestLooksLikeTarHeader(t *testing.T) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "evil.sh", Mode: 0o755, Size: 0, Typeflag: tar.TypeReg})
	hdr := append([]byte{}, b.Bytes()[:512]...)
	if !looksLikeTarHeader(hdr) {
		t.Fatal("a real ustar header is not recognised")
	}
	// GNU tar accepts the checksum with leading NULs and in base-256 too.
	lenient := append([]byte{}, hdr...)
	copy(lenient[148:156], append([]byte{0, 0}, hdr[148:154]...))
	if !looksLikeTarHeader(lenient) {
		t.Fatal("a checksum with leading NULs is not recognised")
	}
	if looksLikeTarHeader(make([]byte, 512)) {
		t.Fatal("an all-zero block is taken for a header")
	}
	corrupted := append([]byte{}, hdr...)
	corrupted[0] ^= 1
	if looksLikeTarHeader(corrupted) {
		t.Fatal("a block with a wrong checksum is taken for a header")
	}
}
