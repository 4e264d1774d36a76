package publish

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign/signtest"
	"github.com/offkit/offkit/store"
	"github.com/offkit/offkit/verify"
)

// countingObject counts the bytes its ranges deliver.
type countingObject struct {
	store.Object
	read, requests atomic.Int64
}

func (o *countingObject) Range(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	rc, err := o.Object.Range(ctx, off, n)
	if err != nil {
		return nil, err
	}
	o.requests.Add(1)
	return struct {
		io.Reader
		io.Closer
	}{&countReader{r: rc, n: &o.read}, rc}, nil
}

type countReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// bigKit is a kit whose payload (24 MiB of incompressible data, several
// compressed frames) dwarfs its head.
func bigKit(t *testing.T, k *signtest.Key) []byte {
	t.Helper()
	spec := bundletest.WriteSpec(t, t.TempDir())
	big := make([]byte, 24<<20)
	r := rand.NewChaCha8([32]byte{1})
	r.Read(big)
	if err := os.WriteFile(filepath.Join(filepath.Dir(spec), "src/migrations/003_big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	return bundletest.Build(t, spec, []manifest.Signer{k.Signer})
}

// TestRemoteInspectReadsHeadOnly: reading a published kit's head by range
// requests fetches what bundle.Open consumes (the head and the frames it
// reads ahead) plus at most one range window, not the kit.
func TestRemoteInspectReadsHeadOnly(t *testing.T) {
	k := signtest.NewKey(t, t.TempDir(), "a")
	kit := bigKit(t, k)
	st, err := store.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(context.Background(), bytes.NewReader(kit), st, nil, verify.WithKeys(k.Verifier)); err != nil {
		t.Fatal(err)
	}
	// What a local read of the head consumes.
	var consumedN atomic.Int64
	rd, err := bundle.Open(&countReader{r: bytes.NewReader(kit), n: &consumedN})
	if err != nil {
		t.Fatal(err)
	}
	rd.Close()
	consumed := consumedN.Load()

	_, h := bundletest.Payload(t, kit)
	obj, err := st.Open(context.Background(), h.Manifest.Name, h.Manifest.Version)
	if err != nil {
		t.Fatal(err)
	}
	co := &countingObject{Object: obj}
	rr := store.NewRangeReader(context.Background(), co)
	var readN atomic.Int64 // what the kit reader took from the range reader
	rd, err = bundle.Open(&countReader{r: rr, n: &readN})
	if err != nil {
		t.Fatal(err)
	}
	if got := rd.Head.Manifest.Name; got != h.Manifest.Name {
		t.Fatalf("head names %q, want %q", got, h.Manifest.Name)
	}
	rd.Close()
	rr.Close()
	t.Logf("kit %d bytes; local head read %d bytes; remote fetched %d bytes in %d range requests", len(kit), consumed, co.read.Load(), co.requests.Load())
	// The range reader fetches at most one window beyond what was read
	// from it (exact: nothing reads it once it is closed).
	if co.read.Load() > readN.Load()+store.MaxWindow {
		t.Fatalf("fetched %d bytes for %d read: more than one window (%d) ahead", co.read.Load(), readN.Load(), store.MaxWindow)
	}
	// The reader reads one compressed frame ahead in a goroutine of its own,
	// so when it is closed it may be a frame further than the local
	// reading was when it was counted (the race detector's timing shows
	// it): allow one frame (4 MiB of incompressible data) and one window.
	if slack := int64(bundle.ChunkSize) + store.MaxWindow; co.read.Load() > consumed+slack {
		t.Fatalf("fetched %d bytes: more than the %d the head's reading consumes plus one frame and one window (%d)", co.read.Load(), consumed, slack)
	}
	if co.read.Load()*4 > int64(len(kit)) {
		t.Fatalf("fetched %d of the kit's %d bytes for its head", co.read.Load(), len(kit))
	}
}
