package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strings"
)

// Digest is a SHA-256 digest. The zero value is not a valid digest.
type Digest [sha256.Size]byte

// Algorithm is the only digest algorithm kit format v1 uses.
const Algorithm = "sha256"

// SHA256 returns the digest of b.
func SHA256(b []byte) Digest { return sha256.Sum256(b) }

// DigestOf returns the digest accumulated in h, which must be a SHA-256 hash.
func DigestOf(h hash.Hash) Digest {
	var d Digest
	h.Sum(d[:0])
	return d
}

// Hex returns the digest as 64 lower-case hex digits.
func (d Digest) Hex() string { return hex.EncodeToString(d[:]) }

// String returns "sha256:<hex>".
func (d Digest) String() string { return Algorithm + ":" + d.Hex() }

// IsZero reports whether d is the zero value.
func (d Digest) IsZero() bool { return d == Digest{} }

// ParseHex parses exactly 64 lower-case hex digits.
func ParseHex(s string) (Digest, error) {
	var d Digest
	if len(s) != 2*len(d) || strings.ToLower(s) != s {
		return d, malformed("digest %q is not 64 lower-case hex digits", s)
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, malformed("digest %q is not 64 lower-case hex digits", s)
	}
	return d, nil
}

// ParseDigest parses "sha256:<64 lower-case hex digits>".
func ParseDigest(s string) (Digest, error) {
	hexPart, ok := strings.CutPrefix(s, Algorithm+":")
	if !ok {
		return Digest{}, malformed("digest %q does not start with %q", s, Algorithm+":")
	}
	return ParseHex(hexPart)
}

// MarshalText implements encoding.TextMarshaler ("sha256:<hex>").
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Digest) UnmarshalText(b []byte) error {
	v, err := ParseDigest(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
