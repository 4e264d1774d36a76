package sign

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offkit/offkit/manifest"
)

// TestKeyIDKnownAnswer pins the key ID of testdata/p256.pub to the
// fingerprint OpenSSH computes for it:
//
//	ssh-keygen -i -m PKCS8 -f p256.pub > p.ssh; ssh-keygen -l -E sha256 -f p.ssh
func TestKeyIDKnownAnswer(t *testing.T) {
	v, err := LoadPublicKey(filepath.Join("testdata", "p256.pub"))
	if err != nil {
		t.Fatal(err)
	}
	const want = "SHA256:vaU9oo1KnRdQfKb49gcF1TDWzXlb/Jr6jSYQqO9yN1w"
	if v.KeyID() != want {
		t.Fatalf("KeyID = %s, want %s", v.KeyID(), want)
	}
}

func newKey(t *testing.T, password string) (*Signer, *Verifier, string) {
	t.Helper()
	priv, pub, err := GenerateKeyPair([]byte(password))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{"k.key": priv, "k.pub": pub} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(string(priv), "ENCRYPTED") {
		t.Fatalf("private key is not encrypted:\n%s", priv)
	}
	s, err := LoadPrivateKey(filepath.Join(dir, "k.key"), []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadPublicKey(filepath.Join(dir, "k.pub"))
	if err != nil {
		t.Fatal(err)
	}
	return s, v, dir
}

func TestSignVerifyRoundTrip(t *testing.T) {
	s, v, dir := newKey(t, "pw")
	if s.KeyID() != v.KeyID() {
		t.Fatalf("signer %s and verifier %s disagree on the key ID", s.KeyID(), v.KeyID())
	}
	msg := []byte("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a\n")
	sig, err := s.Sign(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	enc := EncodeSignature(sig)
	dec, err := DecodeSignature(append(enc, '\n'))
	if err != nil || string(dec) != string(sig) {
		t.Fatalf("signature encoding does not round-trip: %v", err)
	}
	if err := v.Verify(msg, sig); err != nil {
		t.Fatal(err)
	}
	bad := append([]byte{}, msg...)
	bad[0] ^= 1
	if err := v.Verify(bad, sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered message: err = %v, want ErrBadSignature", err)
	}
	_, other, _ := newKey(t, "pw")
	if err := other.Verify(msg, sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("other key: err = %v, want ErrBadSignature", err)
	}
	if _, err := LoadPrivateKey(filepath.Join(dir, "k.key"), []byte("wrong")); !errors.Is(err, ErrBadKey) {
		t.Fatalf("wrong password: err = %v, want ErrBadKey", err)
	}
	if _, err := LoadPrivateKey(filepath.Join(dir, "k.pub"), []byte("pw")); !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), "public key") {
		t.Fatalf("public key as private: err = %v", err)
	}
	if _, err := DecodeSignature([]byte("not base64!")); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("bad encoding: err = %v", err)
	}
}

func TestEnvelopeSignatures(t *testing.T) {
	a, va, _ := newKey(t, "")
	b, vb, _ := newKey(t, "")
	payload := []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)
	env := manifest.NewEnvelope(payload)
	for _, s := range []*Signer{a, b} {
		if err := manifest.SignEnvelope(context.Background(), env, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := manifest.SignEnvelope(context.Background(), env, a); !errors.Is(err, manifest.ErrAlreadySigned) {
		t.Fatalf("second signature by a: err = %v, want ErrAlreadySigned", err)
	}
	if len(env.Signatures) != 2 || env.Signatures[0].KeyID != a.KeyID() || env.Signatures[1].KeyID != b.KeyID() {
		t.Fatalf("signatures = %+v", env.Signatures)
	}
	if err := VerifyEnvelopeSignature(env, payload, 0, va); err != nil {
		t.Fatal(err)
	}
	if err := VerifyEnvelopeSignature(env, payload, 1, vb); err != nil {
		t.Fatal(err)
	}
	if err := VerifyEnvelopeSignature(env, payload, 0, vb); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("signature 1 with b's key: err = %v", err)
	}
	if err := VerifyEnvelopeSignature(env, append(payload, ' '), 0, va); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("changed payload: err = %v", err)
	}
}
