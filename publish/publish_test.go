package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/internal/registrytest"
	"github.com/offkit/offkit/internal/s3test"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign/signtest"
	"github.com/offkit/offkit/store"
	"github.com/offkit/offkit/verify"
)

// stores are the media every publish test runs against; a medium whose
// server is not installed here skips.
var stores = map[string]func(t *testing.T) store.Store{
	"dir": func(t *testing.T) store.Store {
		st, err := store.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return st
	},
	"s3": func(t *testing.T) store.Store {
		srv := s3test.New(t)
		srv.CreateBucket(t, "releases")
		s3test.Setenv(t, srv.Endpoint)
		st, err := store.NewS3(context.Background(), "releases", "kits")
		if err != nil {
			t.Fatal(err)
		}
		return st
	},
	"oci": func(t *testing.T) store.Store {
		reg := registrytest.New(t)
		st, err := store.NewOCI(reg.Host+"/releases/kit", false)
		if err != nil {
			t.Fatal(err)
		}
		return st
	},
}

type fixture struct {
	a, b     *signtest.Key
	kit      []byte // signed by a
	other    []byte // signed by a, same name and version, other bytes
	byB      []byte // signed by b only
	corrupt  []byte // a's kit with its last file's content changed
	spec     string
	name     string
	version  string
	trustedA verify.Option
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{a: signtest.NewKey(t, dir, "a"), b: signtest.NewKey(t, dir, "b")}
	f.spec = bundletest.WriteSpec(t, t.TempDir())
	f.kit = bundletest.Build(t, f.spec, []manifest.Signer{f.a.Signer})
	f.other = bundletest.Build(t, f.spec, []manifest.Signer{f.a.Signer}, bundle.WithCreated(bundletest.Epoch.Add(time.Hour)))
	f.byB = bundletest.Build(t, f.spec, []manifest.Signer{f.b.Signer})
	f.corrupt = bundletest.Rewrite(t, f.kit, func(es []*bundletest.Entry) []*bundletest.Entry {
		last := es[len(es)-1]
		last.Data = append([]byte{}, last.Data...)
		last.Data[0] ^= 1
		return es
	})
	_, h := bundletest.Payload(t, f.kit)
	f.name, f.version = h.Manifest.Name, h.Manifest.Version
	f.trustedA = verify.WithKeys(f.a.Verifier)
	return f
}

func sum(b []byte) manifest.Digest { return manifest.SHA256(b) }

// published returns the kit's bytes as the store holds them, nil if none.
func published(t *testing.T, st store.Store, name, version string) []byte {
	t.Helper()
	obj, err := st.Open(context.Background(), name, version)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	rc, err := obj.Range(context.Background(), 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func record(v *Verified) ([]byte, error) {
	if v.Head == nil || v.Report == nil || !v.Report.Verified || v.URL == "" || v.File == "" {
		return nil, fmt.Errorf("record made of %+v", v)
	}
	return []byte(`{"kit":"` + v.SHA256.Hex() + `"}`), nil
}

func TestPublish(t *testing.T) {
	f := newFixture(t)
	for medium, newStore := range stores {
		t.Run(medium, func(t *testing.T) {
			ctx := context.Background()
			st := newStore(t)

			// Untrusted, and not intact after the whole payload streamed:
			// nothing is visible.
			_, err := Publish(ctx, bytes.NewReader(f.byB), st, record, f.trustedA)
			if !errors.Is(err, verify.ErrUntrusted) {
				t.Fatalf("untrusted kit: got %v, want ErrUntrusted", err)
			}
			_, err = Publish(ctx, bytes.NewReader(f.corrupt), st, record, f.trustedA)
			if !errors.Is(err, verify.ErrNotIntact) {
				t.Fatalf("corrupt kit: got %v, want ErrNotIntact", err)
			}
			if got, err := st.List(ctx); err != nil || len(got) != 0 {
				t.Fatalf("after failures the store lists %v (%v), want nothing", got, err)
			}
			if b := published(t, st, f.name, f.version); b != nil {
				t.Fatalf("after failures a kit of %d bytes is visible", len(b))
			}

			// Published: the bytes are the kit's, with its record.
			res, err := Publish(ctx, bytes.NewReader(f.kit), st, record, f.trustedA)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Published || res.AlreadyPublished || !res.Record || res.SHA256 != sum(f.kit).Hex() || res.Size != int64(len(f.kit)) {
				t.Fatalf("result %+v", res)
			}
			if got := published(t, st, f.name, f.version); !bytes.Equal(got, f.kit) {
				t.Fatalf("published %d bytes, want the kit's %d", len(got), len(f.kit))
			}
			rec, err := st.Record(ctx, f.name, f.version)
			if err != nil || string(rec) != `{"kit":"`+sum(f.kit).Hex()+`"}` {
				t.Fatalf("record %q, %v", rec, err)
			}
			list, err := st.List(ctx)
			if err != nil || len(list) != 1 || list[0].Name != f.name || list[0].Version != f.version ||
				list[0].Size != int64(len(f.kit)) || !list[0].Record || list[0].URL != st.URL(f.name, f.version) {
				t.Fatalf("list %+v, %v", list, err)
			}

			// Again: already published, exit 0, nothing changed.
			res, err = Publish(ctx, bytes.NewReader(f.kit), st, record, f.trustedA)
			if err != nil || !res.AlreadyPublished || res.Published {
				t.Fatalf("republish: %+v, %v", res, err)
			}
			// Other bytes, same name and version: a conflict; the
			// published kit is untouched.
			_, err = Publish(ctx, bytes.NewReader(f.other), st, record, f.trustedA)
			if !errors.Is(err, ErrConflict) || !errors.Is(err, verify.ErrUntrusted) {
				t.Fatalf("conflicting kit: got %v, want ErrConflict", err)
			}
			if got := published(t, st, f.name, f.version); !bytes.Equal(got, f.kit) {
				t.Fatal("the conflicting publish changed the published kit")
			}
		})
	}
}

// TestPublishConcurrent: two publishes of different kits under one version
// at once; exactly one wins, and the store holds its bytes.
func TestPublishConcurrent(t *testing.T) {
	f := newFixture(t)
	for medium, newStore := range stores {
		t.Run(medium, func(t *testing.T) {
			if medium == "oci" {
				t.Skip("registry tags have no create-only write: two publishes that both find the tag free both succeed (docs/FORMAT.md §21)")
			}
			for round := 0; round < 3; round++ {
				st := newStore(t)
				kits := [][]byte{f.kit, f.other}
				errs := make([]error, 2)
				var wg sync.WaitGroup
				for i := range kits {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, errs[i] = Publish(context.Background(), bytes.NewReader(kits[i]), st, record, f.trustedA)
					}()
				}
				wg.Wait()
				won := -1
				for i, err := range errs {
					switch {
					case err == nil:
						if won >= 0 {
							t.Fatalf("round %d: both publishes succeeded", round)
						}
						won = i
					case !errors.Is(err, ErrConflict):
						t.Fatalf("round %d: publish %d: %v, want success or ErrConflict", round, i, err)
					}
				}
				if won < 0 {
					t.Fatalf("round %d: neither publish succeeded: %v", round, errs)
				}
				if got := published(t, st, f.name, f.version); !bytes.Equal(got, kits[won]) {
					t.Fatalf("round %d: the store holds other bytes than the winner's", round)
				}
			}
		})
	}
}

// TestPublishCancel: cancelled mid-kit, nothing is visible.
func TestPublishCancel(t *testing.T) {
	f := newFixture(t)
	for medium, newStore := range stores {
		t.Run(medium, func(t *testing.T) {
			st := newStore(t)
			ctx, cancel := context.WithCancel(context.Background())
			r := &cancelAfter{r: bytes.NewReader(f.kit), n: int64(len(f.kit)) - 100, cancel: cancel}
			_, err := Publish(ctx, r, st, record, f.trustedA)
			if err == nil || !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want cancelled", err)
			}
			if b := published(t, st, f.name, f.version); b != nil {
				t.Fatal("a cancelled publish is visible")
			}
		})
	}
}

// cancelAfter cancels once n bytes were read, and then fails reads.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
		return 0, context.Canceled
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// TestPublishUploadFails: a store that fails mid-upload is an operational
// error (not a verdict on the kit), and its upload is aborted.
func TestPublishUploadFails(t *testing.T) {
	f := newFixture(t)
	st := &failing{Store: stores["dir"](t), after: 1000}
	_, err := Publish(context.Background(), bytes.NewReader(f.kit), st, record, f.trustedA)
	if err == nil || errors.Is(err, verify.ErrVerification) || !errors.Is(err, errUpload) {
		t.Fatalf("got %v, want the upload's error, not a verification failure", err)
	}
	if !st.aborted {
		t.Fatal("the failed upload was not aborted")
	}
	if b := published(t, st, f.name, f.version); b != nil {
		t.Fatal("a failed upload is visible")
	}
}

var errUpload = errors.New("connection reset by test")

type failing struct {
	store.Store
	after   int
	aborted bool
}

func (s *failing) Begin(ctx context.Context, name, version, ext string) (store.Upload, error) {
	up, err := s.Store.Begin(ctx, name, version, ext)
	return &failingUpload{Upload: up, s: s}, err
}

type failingUpload struct {
	store.Upload
	s *failing
	n int
}

func (u *failingUpload) Write(p []byte) (int, error) {
	if u.n += len(p); u.n > u.s.after {
		return 0, errUpload
	}
	return u.Upload.Write(p)
}

func (u *failingUpload) Abort() error { u.s.aborted = true; return u.Upload.Abort() }

// TestDirLeavesNothing: a directory store's failed publishes leave no
// temporary files or empty directories.
func TestDirLeavesNothing(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	st, err := store.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	Publish(context.Background(), bytes.NewReader(f.corrupt), st, record, f.trustedA)
	fs := &failing{Store: st, after: 1000}
	Publish(context.Background(), bytes.NewReader(f.kit), fs, record, f.trustedA)
	var left []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error {
		if p != dir {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
}
