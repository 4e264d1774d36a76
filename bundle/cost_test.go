package bundle_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign/signtest"
)

var errRefused = errors.New("refused by the test authenticator")

// refuser is an authenticator that trusts nothing, as verify does for a
// kit no trusted key signed.
type refuser struct{ payload int }

func (r *refuser) Envelope(_ *manifest.Envelope, p *manifest.Payload) error {
	r.payload = p.Len()
	return errRefused
}
func (r *refuser) Sums([]byte, [][]byte) error { return errRefused }

// untrustedKit returns a kit whose envelope carries an n-byte payload and
// 64 signatures, followed by a 64 MiB kit SBOM: an untrusted kit as large
// as the limits allow behind its envelope.
func untrustedKit(t *testing.T, kit []byte, n int) []byte {
	es := bundletest.Entries(t, kit)
	var env strings.Builder
	fmt.Fprintf(&env, `{"payloadType":"application/vnd.in-toto+json","payload":"%s","signatures":[`, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), n)))
	for i := range manifest.MaxSignatures {
		if i > 0 {
			env.WriteString(",")
		}
		fmt.Fprintf(&env, `{"keyid":"k%d","sig":"%s"}`, i, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{byte(i)}, 72)))
	}
	env.WriteString("]}\n")
	bundletest.Find(es, manifest.EnvelopeName).Data = []byte(env.String())
	bundletest.Find(es, manifest.KitSBOMName).Data = bytes.Repeat([]byte(" "), manifest.MaxSBOMSize)
	return bundletest.Pack(t, es, false)
}

// TestUntrustedHeadCost: an untrusted kit is refused having read its
// envelope and nothing after it, with allocations linear in the envelope,
// never in what follows it.
func TestUntrustedHeadCost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 64 MiB heads")
	}
	good := bundletest.Kit(t, signtest.NewKey(t, t.TempDir(), "a").Signer)
	alloc := func(n int) uint64 {
		kit := untrustedKit(t, good, n)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := &refuser{}
		_, err := bundle.Open(bytes.NewReader(kit), bundle.WithAuthenticator(r))
		runtime.ReadMemStats(&after)
		if !errors.Is(err, errRefused) || r.payload != n {
			t.Fatalf("Open = %v with a %d-byte payload, want the authenticator's refusal of %d bytes", err, r.payload, n)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := 1<<20, 16<<20
	a, b := alloc(small), alloc(large)
	perByte := float64(b-a) / float64(large-small)
	t.Logf("Open of an untrusted kit: %d MiB allocated for a 1 MiB payload, %d MiB for 16 MiB: %.2f bytes per payload byte", a>>20, b>>20, perByte)
	if perByte > 2 {
		t.Errorf("allocation grows by %.2f bytes per payload byte, want at most 2 (the payload, once, and reading buffers)", perByte)
	}
	if b > uint64(large)*2+48<<20 {
		t.Errorf("%d MiB allocated for a %d MiB payload: more than the payload and fixed buffers (the 64 MiB SBOM after it was read?)", b>>20, large>>20)
	}
}

// manyFiles builds a signed kit of n small files in nested directories.
func manyFiles(t *testing.T, n int) []byte {
	dir := t.TempDir()
	for i := range n {
		p := filepath.Join(dir, "src", fmt.Sprintf("d%02d", i%50), fmt.Sprintf("e%03d", i%997), fmt.Sprintf("file-%06d.sql", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("-- %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := filepath.Join(dir, "kit.yaml")
	yaml := "name: cost\nversion: 1.0.0\ncomponents:\n  - name: data\n    type: data\n    from: src\n    path: data\n"
	if err := os.WriteFile(spec, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return bundletest.Build(t, spec, []manifest.Signer{signtest.NewKey(t, dir, "k").Signer})
}

// accepter trusts every kit: the head's own checks are what is measured.
type accepter struct{}

func (accepter) Envelope(*manifest.Envelope, *manifest.Payload) error { return nil }
func (accepter) Sums([]byte, [][]byte) error                          { return nil }

// TestTrustedHeadCost: reading a trusted head — the statement, manifest
// checks, SHA256SUMS and kit SBOM regenerated and compared, the directory
// tree — allocates the same per file at 5,000 files as at 500.
func TestTrustedHeadCost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 5,000-file kit")
	}
	perFile := func(n int) float64 {
		start := time.Now()
		kit := manyFiles(t, n)
		built := time.Since(start)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rd, err := bundle.Open(bytes.NewReader(kit), bundle.WithAuthenticator(accepter{}))
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		rd.Close()
		t.Logf("%d files: built in %v, head read in %v", n, built, time.Since(start)-built)
		if rd.Head.Manifest.FileCount != n {
			t.Fatalf("%d files, want %d", rd.Head.Manifest.FileCount, n)
		}
		return float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
	}
	small, large := perFile(500), perFile(5000)
	t.Logf("Open of a trusted head: %.0f bytes allocated per file at 500 files, %.0f at 5,000", small, large)
	if large > 2*small {
		t.Errorf("allocation per file grows with the file count: %.0f B at 500, %.0f B at 5,000", small, large)
	}
}
