package sign

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// MaxKeyFileSize bounds key files.
const MaxKeyFileSize = 64 << 10

// ErrBadSignature is returned when a signature does not verify.
var ErrBadSignature = errors.New("signature does not verify")

// ErrBadKey is returned when a key file cannot be used.
var ErrBadKey = errors.New("unusable key")

// KeyID returns the DSSE key ID offkit and cosign use for pub: the
// OpenSSH-style SHA256 fingerprint ("SHA256:<base64>") computed by
// go-securesystemslib, which cosign's DSSE verifier compares against.
func KeyID(pub crypto.PublicKey) (string, error) { return dsse.SHA256KeyID(pub) }

// Signer signs with a private key.
type Signer struct {
	sv    signature.SignerVerifier
	keyID string
	// Source names where the key came from, for messages.
	Source string
}

// NewSigner wraps a sigstore signer.
func NewSigner(sv signature.SignerVerifier, source string) (*Signer, error) {
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadKey, source, err)
	}
	id, err := KeyID(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadKey, source, err)
	}
	return &Signer{sv: sv, keyID: id, Source: source}, nil
}

// LoadPrivateKey reads a cosign private key file (encrypted PEM) and
// decrypts it with password.
func LoadPrivateKey(path string, password []byte) (*Signer, error) {
	b, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(b); blk != nil && strings.Contains(blk.Type, "PUBLIC KEY") {
		return nil, fmt.Errorf("%w: %s is a public key; signing needs the private key (.key)", ErrBadKey, path)
	}
	sv, err := cosign.LoadPrivateKey(b, password, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v (is COSIGN_PASSWORD right?)", ErrBadKey, path, err)
	}
	return NewSigner(sv, path)
}

// KeyID returns the signer's key ID.
func (s *Signer) KeyID() string { return s.keyID }

// Public returns the signer's public key.
func (s *Signer) Public() crypto.PublicKey { pub, _ := s.sv.PublicKey(); return pub }

// Sign signs msg (hashing it with the key's hash, SHA-256 for cosign keys).
func (s *Signer) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	sig, err := s.sv.SignMessage(bytes.NewReader(msg))
	if err != nil {
		return nil, fmt.Errorf("sign with %s: %w", s.Source, err)
	}
	return sig, nil
}

// Verifier checks signatures with a public key.
type Verifier struct {
	v     signature.Verifier
	pub   crypto.PublicKey
	keyID string
	// Source names where the key came from, for reports.
	Source string
}

// NewVerifier makes a Verifier for pub.
func NewVerifier(pub crypto.PublicKey, source string) (*Verifier, error) {
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadKey, source, err)
	}
	id, err := KeyID(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadKey, source, err)
	}
	return &Verifier{v: v, pub: pub, keyID: id, Source: source}, nil
}

// LoadPublicKey reads a PEM public key file, as written by `offkit keygen`
// or `cosign generate-key-pair`.
func LoadPublicKey(path string) (*Verifier, error) {
	b, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: not a PEM public key: %v", ErrBadKey, path, err)
	}
	return NewVerifier(pub, path)
}

// KeyID returns the verifier's key ID.
func (v *Verifier) KeyID() string { return v.keyID }

// Public returns the public key.
func (v *Verifier) Public() crypto.PublicKey { return v.pub }

// Verify checks sig over msg.
func (v *Verifier) Verify(msg, sig []byte) error {
	if err := v.v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err != nil {
		return fmt.Errorf("%w with key %s (%s)", ErrBadSignature, v.keyID, v.Source)
	}
	return nil
}

// Verifier returns a Verifier for the signer's own public key.
func (s *Signer) Verifier() (*Verifier, error) { return NewVerifier(s.Public(), s.Source) }

// GenerateKeyPair makes a new ECDSA P-256 key pair in cosign's format: the
// private key encrypted with password, the public key as PEM.
func GenerateKeyPair(password []byte) (privPEM, pubPEM []byte, err error) {
	kb, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return password, nil })
	if err != nil {
		return nil, nil, fmt.Errorf("generate key pair: %w", err)
	}
	return kb.PrivateBytes, kb.PublicBytes, nil
}

// EncodeSignature encodes a raw signature as cosign writes .sig files:
// standard base64, no newline.
func EncodeSignature(sig []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(sig))
}

// DecodeSignature decodes a .sig file written by offkit or `cosign sign-blob`.
func DecodeSignature(b []byte) ([]byte, error) {
	b = bytes.TrimSpace(b)
	sig, err := base64.StdEncoding.Strict().DecodeString(string(b))
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w: not a base64 signature", ErrBadSignature)
	}
	return sig, nil
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > MaxKeyFileSize {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrBadKey, path, MaxKeyFileSize)
	}
	return b, nil
}
