package verify

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign/signtest"
)

type recordingSink struct {
	bytes.Buffer
	startedAt int // bytes received when Start was called; -1 before
	name      string
	failAfter int // fail writes beyond this many bytes (0: never)
}

func (s *recordingSink) Write(p []byte) (int, error) {
	if s.failAfter > 0 && s.Len()+len(p) > s.failAfter {
		return 0, errors.New("sink full")
	}
	return s.Buffer.Write(p)
}

func (s *recordingSink) Start(h *bundle.Head) error {
	s.startedAt, s.name = s.Len(), h.Manifest.Name
	return nil
}

// TestSinkGetsTheKit: the sink receives exactly the kit's bytes, and Start
// comes after the head, before the end.
func TestSinkGetsTheKit(t *testing.T) {
	k := signtest.NewKey(t, "", "a")
	kit := bundletest.Kit(t, k.Signer)
	s := &recordingSink{startedAt: -1}
	if _, err := Verify(context.Background(), bytes.NewReader(kit), WithKeys(k.Verifier), WithSink(s)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Bytes(), kit) {
		t.Fatalf("the sink got %d bytes, want the kit's %d", s.Len(), len(kit))
	}
	if s.startedAt <= 0 || s.startedAt > len(kit) || s.name == "" {
		t.Fatalf("Start at %d of %d bytes (name %q)", s.startedAt, len(kit), s.name)
	}
}

// TestSinkUntrusted: an untrusted kit never reaches Start.
func TestSinkUntrusted(t *testing.T) {
	a, b := signtest.NewKey(t, "", "a"), signtest.NewKey(t, "", "b")
	kit := bundletest.Kit(t, b.Signer)
	s := &recordingSink{startedAt: -1}
	_, err := Verify(context.Background(), bytes.NewReader(kit), WithKeys(a.Verifier), WithSink(s))
	if !errors.Is(err, ErrUntrusted) || s.startedAt != -1 {
		t.Fatalf("got %v, Start at %d; want untrusted, no Start", err, s.startedAt)
	}
}

// TestSinkTrailingData: bytes after the kit's end would reach the sink, so
// they are refused (they are also for a plain verify).
func TestSinkTrailingData(t *testing.T) {
	k := signtest.NewKey(t, "", "a")
	kit := append(bundletest.Kit(t, k.Signer), "#!/bin/sh\n"...)
	_, err := Verify(context.Background(), bytes.NewReader(kit), WithKeys(k.Verifier), WithSink(&recordingSink{}))
	if !errors.Is(err, ErrNotIntact) {
		t.Fatalf("got %v, want not intact", err)
	}
}

// TestSinkFails: the sink's error is the result, and is not a verdict on
// the kit.
func TestSinkFails(t *testing.T) {
	k := signtest.NewKey(t, "", "a")
	kit := bundletest.Kit(t, k.Signer)
	for _, after := range []int{10, len(kit) - 10} {
		rep, err := Verify(context.Background(), bytes.NewReader(kit), WithKeys(k.Verifier), WithSink(&recordingSink{failAfter: after}))
		if err == nil || errors.Is(err, ErrVerification) || err.Error() != "sink full" || rep.Verified {
			t.Fatalf("failing after %d bytes: got %v, want the sink's error", after, err)
		}
	}
}

// bufferingSink holds bytes until Start, as publish's upload does, and
// takes its time moving them: a Write between Start's first and last
// moved byte would reorder the kit.
type bufferingSink struct {
	pending, out bytes.Buffer
	started      bool
}

func (s *bufferingSink) Write(p []byte) (int, error) {
	if s.started {
		return s.out.Write(p)
	}
	return s.pending.Write(p)
}

func (s *bufferingSink) Start(*bundle.Head) error {
	s.started = true
	for s.pending.Len() > 0 {
		s.out.Write(s.pending.Next(512))
		time.Sleep(time.Millisecond)
	}
	return nil
}

// TestSinkStartBetweenWrites: the kit reader reads ahead in its own
// goroutine while Start runs; the sink still gets the kit in order. (A
// publish to S3 once stored a kit with its first frames after later ones.)
func TestSinkStartBetweenWrites(t *testing.T) {
	k := signtest.NewKey(t, "", "a")
	spec := bundletest.WriteSpec(t, t.TempDir())
	big := make([]byte, 24<<20)
	rand.NewChaCha8([32]byte{2}).Read(big)
	if err := os.WriteFile(filepath.Join(filepath.Dir(spec), "src/migrations/003_big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	kit := bundletest.Build(t, spec, []manifest.Signer{k.Signer})
	s := &bufferingSink{}
	if _, err := Verify(context.Background(), bytes.NewReader(kit), WithKeys(k.Verifier), WithSink(s)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.out.Bytes(), kit) {
		t.Fatalf("the sink got %d bytes, not the kit's %d in order", s.out.Len(), len(kit))
	}
}
