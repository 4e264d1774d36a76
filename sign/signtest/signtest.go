// Package signtest makes cosign key pairs on disk for tests, with the
// signer and verifier loaded from them.
package signtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/offkit/offkit/sign"
)

// Password protects every key made here.
const Password = "offkit-test"

// Key is a key pair on disk with its loaded halves.
type Key struct {
	Priv, Pub string // file paths
	Signer    *sign.Signer
	Verifier  *sign.Verifier
}

// NewKey generates a cosign key pair as dir/name.key and dir/name.pub
// (dir: t.TempDir() if empty).
func NewKey(t testing.TB, dir, name string) *Key {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	priv, pub, err := sign.GenerateKeyPair([]byte(Password))
	if err != nil {
		t.Fatal(err)
	}
	k := &Key{Priv: filepath.Join(dir, name+".key"), Pub: filepath.Join(dir, name+".pub")}
	if err := os.WriteFile(k.Priv, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k.Pub, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	if k.Signer, err = sign.LoadPrivateKey(k.Priv, []byte(Password)); err != nil {
		t.Fatal(err)
	}
	if k.Verifier, err = sign.LoadPublicKey(k.Pub); err != nil {
		t.Fatal(err)
	}
	return k
}
