package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offkit/offkit/sign"
	"github.com/offkit/offkit/verify"
)

const keyDir = "../../../testdata/hostile"

// testScale shrinks the kits' byte budgets for TestAsTrusted and
// TestUntrusted: 64 MiB becomes 32 KiB.
const testScale = 1.0 / 2048

type row struct{ name, file, trusted, asTrusted string }

func readIndex(t *testing.T, dir string) []row {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "kits.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []row
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		f := strings.Split(line, "\t")
		out = append(out, row{name: f[0], file: f[1], trusted: f[5], asTrusted: f[6]})
	}
	if len(out) != len(specs()) {
		t.Fatalf("kits.tsv lists %d kits, want %d", len(out), len(specs()))
	}
	return out
}

// check verifies a kit with the trusted key and returns the error,
// turning a panic into an error.
func check(t *testing.T, file string, key *sign.Verifier) (err error) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	_, err = verify.Verify(context.Background(), f, verify.WithKeys(key))
	return err
}

// TestAsTrusted makes every kit at a small scale, signed by the trusted
// key, and checks that verification gets as far as the kit is meant to
// (spec.asTrusted): a kit made to be consistent verifies, and one made to
// fail does so at the check it is named for (or, in a stricter reader, is
// refused as not intact).
func TestAsTrusted(t *testing.T) {
	if testing.Short() {
		t.Skip("makes and verifies every kit")
	}
	dir := t.TempDir()
	if err := run(dir, "", keyDir, testScale, true, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	key, err := sign.LoadPublicKey(filepath.Join(keyDir, "trusted.pub"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readIndex(t, dir) {
		t.Run(r.name, func(t *testing.T) {
			err := check(t, filepath.Join(dir, r.file), key)
			switch r.asTrusted {
			case "ok":
				if err != nil {
					t.Errorf("signed by the trusted key, it does not verify: %v", err)
				}
			case "ok?":
				if err != nil && !errors.Is(err, verify.ErrNotIntact) {
					t.Errorf("signed by the trusted key: got %v, want verified or not intact", err)
				}
			case "unsigned":
				if !errors.Is(err, verify.ErrUntrusted) {
					t.Errorf("unsigned: got %v, want untrusted", err)
				}
			case "panic":
				// tools-golang dereferences a null package. Once offkit
				// refuses such an SBOM itself, not intact is right too.
				if err == nil || !(strings.HasPrefix(err.Error(), "panic:") || errors.Is(err, verify.ErrNotIntact)) {
					t.Errorf("got %v, want a panic or not intact", err)
				}
			default:
				// The error the kit is made for; a stricter reader may
				// refuse it earlier, as not intact.
				if err == nil || !(strings.Contains(err.Error(), r.asTrusted) || errors.Is(err, verify.ErrNotIntact)) {
					t.Errorf("got %v, want an error with %q", err, r.asTrusted)
				}
			}
		})
	}
}

// TestUntrusted makes the kits at a small scale as they really are: those
// meant to be untrusted are refused, those meant to be trusted verify.
func TestUntrusted(t *testing.T) {
	if testing.Short() {
		t.Skip("makes and verifies every kit")
	}
	dir := t.TempDir()
	if err := run(dir, "", keyDir, testScale, false, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	key, err := sign.LoadPublicKey(filepath.Join(keyDir, "trusted.pub"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readIndex(t, dir) {
		t.Run(r.name, func(t *testing.T) {
			err := check(t, filepath.Join(dir, r.file), key)
			if r.trusted == "yes" {
				// "ok?": a stricter reader may refuse it as not intact.
				if err != nil && !(r.asTrusted == "ok?" && errors.Is(err, verify.ErrNotIntact)) {
					t.Errorf("meant to be trusted, it does not verify: %v", err)
				}
				return
			}
			if err == nil {
				t.Errorf("meant to be untrusted, it verifies")
			}
		})
	}
}

// TestFits checks the head sizing of the kits that are quick to make at
// full scale: each fits within the limits, and is close to the one it is
// named for.
func TestFits(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 64 MiB heads")
	}
	limitScale = 1
	g := &gen{trusted: fakeSigner{"trusted"}, scale: 1, log: t.Logf}
	for _, c := range []struct {
		name   string
		k      *kit
		used   func(h *head) int
		target int
	}{
		{"sums-max", g.sumsMax(false), func(h *head) int { return len(h.sums) }, maxSumsSize},
		{"json-bomb-deep", g.jsonBomb(false), func(h *head) int { return len(h.envelope) }, maxEnvelopeSize},
		{"json-bomb-wide", g.jsonBomb(true), func(h *head) int { return len(h.envelope) }, maxEnvelopeSize},
		{"sbom-max", g.sbomMax(3, maxSBOMSize, true), func(h *head) int { return int(h.size()) }, maxHeadSize},
	} {
		h := c.k.build(true)
		if err := h.fits(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if u := c.used(h); u < c.target-c.target/1000 {
			t.Errorf("%s: %d bytes, want within 0.1%% of %d", c.name, u, c.target)
		}
	}
}
