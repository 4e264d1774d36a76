package unpack_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/offkit/offkit/sign"
	"github.com/offkit/offkit/unpack"
	"github.com/offkit/offkit/verify"
)

// FuzzUnpack feeds arbitrary kits to verify + unpack with the hostile
// corpus's trusted key, seeded with every kit in testdata/hostile (125
// refused attacks and one good kit). Whatever the input, the outcome is all
// or nothing, inside DIR only: on success DIR holds exactly the kit's root,
// on failure DIR is empty, and nothing appears beside DIR.
func FuzzUnpack(f *testing.F) {
	corpus := filepath.Join("..", "testdata", "hostile")
	kits, err := filepath.Glob(filepath.Join(corpus, "*.tar*"))
	if err != nil || len(kits) == 0 {
		f.Fatalf("no seed kits in %s: %v", corpus, err)
	}
	for _, k := range kits {
		b, err := os.ReadFile(k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	key, err := sign.LoadPublicKey(filepath.Join(corpus, "trusted.pub"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, kit []byte) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "dir")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		u, err := unpack.New(dir, unpack.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := verify.Verify(context.Background(), bytes.NewReader(kit), verify.WithKeys(key), verify.WithExtractor(u))
		u.Close()
		got := names(t, dir)
		if err == nil {
			if len(got) != 1 || rep.Kit == nil || got[0] != rep.Kit.Name+"-"+rep.Kit.Version {
				t.Fatalf("verified, but DIR holds %v", got)
			}
		} else if len(got) != 0 {
			t.Fatalf("refused (%v), but DIR holds %v", err, got)
		}
		if beside := names(t, parent); len(beside) != 1 || beside[0] != "dir" {
			t.Fatalf("written beside DIR: %v", beside)
		}
	})
}
