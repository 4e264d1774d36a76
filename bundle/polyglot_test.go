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

// TestLooksLikeTarHeaderAsGNUTar covers checksum fields GNU tar's
// from_header accepts: leading white space of any kind, and a field with no
// digits at all, which reads as 0.
func TestLooksLikeTarHeaderAsGNUTar(t *testing.T) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "evil.sh", Mode: 0o755, Typeflag: tar.TypeReg})
	hdr := b.Bytes()[:512]
	for _, fill := range []byte{'\t', '\n', '\v', '\f', '\r'} {
		h := append([]byte{}, hdr...)
		digits := bytes.TrimRight(bytes.TrimLeft(h[148:156], "0"), "\x00 ")
		field := append(bytes.Repeat([]byte{fill}, 7-len(digits)), digits...)
		copy(h[148:156], append(field, 0))
		if !looksLikeTarHeader(h) {
			t.Errorf("checksum led by %q not recognised: %q", fill, h[148:156])
		}
	}
	// A field of NULs reads as 0: a block whose signed sum (with the field
	// as spaces) is 0 passes.
	h := make([]byte, 512)
	h[0], h[1] = 0x80, 0x80 // -128 each as int8: with the field as 8 spaces (+256), the signed sum is 0
	if !looksLikeTarHeader(h) {
		t.Error("an all-NUL checksum field with a zero signed sum is not recognised")
	}
	if v, ok := gnuOctal([]byte("\x00\x00\x00\x00\x00\x00\x00\x00")); !ok || v != 0 {
		t.Errorf("gnuOctal(NULs) = %d, %v; want 0, true", v, ok)
	}
	if _, ok := gnuOctal([]byte("        ")); ok {
		t.Error("gnuOctal(blanks) accepted; GNU tar refuses it")
	}
	if v, ok := gnuOctal([]byte("\t 0123\x00 ")); !ok || v != 0o123 {
		t.Errorf("gnuOctal = %o, %v", v, ok)
	}
}
