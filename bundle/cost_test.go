package bundle_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

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
