package hostile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/offkit/offkit/internal/hostile"
	"github.com/offkit/offkit/sign"
	"github.com/offkit/offkit/verify"
)

var update = flag.Bool("update", false, "rewrite testdata/hostile from the generator")

// dir is the committed test data.
var dir = filepath.Join("..", "..", "testdata", "hostile")

// Size limits of the committed files.
const (
	maxFile  = 200 << 10
	maxTotal = 2 << 20
)

// TestGenerate checks the generator's cases against the library, and the
// committed testdata/hostile against the generator: the same cases with
// the same expectations, each file present and still refused for the
// stated reason. With -update it first rewrites testdata/hostile (keeping
// the trusted key, or making one if there is none).
func TestGenerate(t *testing.T) {
	if *update {
		writeAll(t)
	}
	key, err := hostile.LoadKey(dir)
	if err != nil {
		t.Fatalf("%v (run: go test ./internal/hostile -run TestGenerate -update)", err)
	}
	pub, err := sign.LoadPublicKey(filepath.Join(dir, hostile.PubFile))
	if err != nil {
		t.Fatal(err)
	}
	if pub.KeyID() != key.KeyID() {
		t.Fatalf("%s and %s are not one key pair", hostile.KeyFile, hostile.PubFile)
	}
	cases := hostile.Cases(t, key)

	// The generator's kits, fresh: each refused as stated.
	t.Run("generated", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.Name, func(t *testing.T) { expectRefused(t, c, c.Kit, pub) })
		}
		if _, err := verifyKit(hostile.Good(t, key), pub); err != nil {
			t.Fatalf("the control kit does not verify: %v", err)
		}
	})

	// The committed index lists exactly the generator's cases.
	ix, err := hostile.LoadIndex(dir)
	if err != nil {
		t.Fatalf("%v (run: go test ./internal/hostile -run TestGenerate -update)", err)
	}
	if ix.Key != hostile.PubFile || ix.Good != hostile.GoodFile {
		t.Errorf("%s: trustedKey %q, good %q; want %q, %q", hostile.Index, ix.Key, ix.Good, hostile.PubFile, hostile.GoodFile)
	}
	// Kit is not part of the JSON form: the rest must be equal.
	g, _ := json.MarshalIndent(ix.Cases, "", "  ")
	w, _ := json.MarshalIndent(cases, "", "  ")
	if !bytes.Equal(g, w) {
		t.Fatalf("%s is stale (run: go test ./internal/hostile -run TestGenerate -update)\ncommitted:\n%s\ngenerator:\n%s", hostile.Index, g, w)
	}

	// Every committed kit is refused for the stated reason; the control
	// verifies; the files are small.
	t.Run("committed", func(t *testing.T) {
		total := int64(0)
		for _, c := range ix.Cases {
			kit, err := os.ReadFile(filepath.Join(dir, c.File))
			if err != nil {
				t.Fatal(err)
			}
			if len(kit) > maxFile {
				t.Errorf("%s is %d bytes, over %d", c.File, len(kit), maxFile)
			}
			t.Run(c.Name, func(t *testing.T) { expectRefused(t, c, kit, pub) })
		}
		good, err := os.ReadFile(filepath.Join(dir, hostile.GoodFile))
		if err != nil {
			t.Fatal(err)
		}
		if rep, err := verifyKit(good, pub); err != nil || !rep.Verified {
			t.Fatalf("%s does not verify: %v", hostile.GoodFile, err)
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		known := map[string]bool{hostile.Index: true, hostile.KeyFile: true, hostile.PubFile: true, hostile.GoodFile: true}
		for _, c := range ix.Cases {
			known[c.File] = true
		}
		for _, e := range ents {
			if !known[e.Name()] {
				t.Errorf("%s: not a file of the index", e.Name())
			}
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			total += fi.Size()
		}
		if total > maxTotal {
			t.Errorf("testdata/hostile holds %d bytes, over %d", total, maxTotal)
		}
		t.Logf("testdata/hostile: %d cases, %d bytes", len(ix.Cases), total)
	})
}

func verifyKit(kit []byte, pub *sign.Verifier) (*verify.Report, error) {
	return verify.Verify(context.Background(), bytes.NewReader(kit), verify.WithKeys(pub))
}

// expectRefused checks that kit is refused as not intact, with an error
// matching c.Match. A case with KnownBug logs a failure instead.
func expectRefused(t *testing.T, c hostile.Case, kit []byte, pub *sign.Verifier) {
	t.Helper()
	failed := false
	fail := func(format string, args ...any) {
		t.Helper()
		failed = true
		if c.KnownBug != "" {
			t.Logf("known bug (%s): "+format, append([]any{c.KnownBug}, args...)...)
			return
		}
		t.Errorf(format, args...)
	}
	// KnownBug is about the command: the library may already hold.
	defer func() {
		if c.KnownBug != "" && !failed {
			t.Logf("%s: known bug, but offkit's library refuses it as stated: %s", c.Name, c.KnownBug)
		}
	}()
	if c.Want != hostile.ExitNotIntact {
		t.Fatalf("want exit %d: only exit %d is covered here", c.Want, hostile.ExitNotIntact)
	}
	re, err := regexp.Compile(c.Match)
	if err != nil {
		t.Fatalf("match %q: %v", c.Match, err)
	}
	rep, err := verifyKit(kit, pub)
	switch {
	case err == nil:
		fail("%s: verified; want it refused (%s)", c.Name, c.Description)
	case !errors.Is(err, verify.ErrNotIntact):
		fail("%s: err = %v; want ErrNotIntact", c.Name, err)
	case errors.Is(err, verify.ErrUntrusted):
		fail("%s: err = %v; refused as untrusted, not only as not intact", c.Name, err)
	case !re.MatchString(err.Error()):
		fail("%s: error %q does not match %q", c.Name, err, c.Match)
	case rep.Verified:
		fail("%s: the report says verified", c.Name)
	}
}

// writeAll rewrites testdata/hostile: the key (only if missing), every
// case's kit, the control kit and the index. Files of cases that no longer
// exist are removed.
func writeAll(t *testing.T) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, hostile.KeyFile)); errors.Is(err, os.ErrNotExist) {
		priv, pub, err := sign.GenerateKeyPair([]byte(hostile.Password))
		if err != nil {
			t.Fatal(err)
		}
		write(t, hostile.KeyFile, priv)
		write(t, hostile.PubFile, pub)
	}
	key, err := hostile.LoadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	cases := hostile.Cases(t, key)
	keep := map[string]bool{hostile.Index: true, hostile.KeyFile: true, hostile.PubFile: true, hostile.GoodFile: true}
	for _, c := range cases {
		write(t, c.File, c.Kit)
		keep[c.File] = true
	}
	write(t, hostile.GoodFile, hostile.Good(t, key))
	ix := hostile.IndexFile{
		Comment: "Hostile kits that offkit verify and offkit unpack must refuse (exit status want, stderr matching the regexp match), " +
			"each signed by trusted.key (password \"" + hostile.Password + "\"). Generated by internal/hostile: " +
			"go test ./internal/hostile -run TestGenerate -update",
		Key: hostile.PubFile, Good: hostile.GoodFile, Cases: cases,
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ix); err != nil {
		t.Fatal(err)
	}
	write(t, hostile.Index, b.Bytes())
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !keep[e.Name()] && (strings.Contains(e.Name(), ".tar")) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func write(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
