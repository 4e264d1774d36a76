package verify_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign"
	"github.com/offkit/offkit/sign/signtest"
	"github.com/offkit/offkit/verify"
)

func run(t *testing.T, kit []byte, keys ...*signtest.Key) (*verify.Report, error) {
	t.Helper()
	var vs []*sign.Verifier
	for _, k := range keys {
		vs = append(vs, k.Verifier)
	}
	return verify.Verify(context.Background(), bytes.NewReader(kit), verify.WithKeys(vs...))
}

func TestVerifyGoodKit(t *testing.T) {
	k := signtest.NewKey(t, "", "a")
	kit := bundletest.Kit(t, k.Signer)
	rep, err := run(t, kit, k)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !rep.Verified || rep.Kit.Name != "demo" || rep.Kit.Files != 6 || len(rep.Signers) != 1 || !rep.Signers[0].Trusted {
		t.Fatalf("report = %+v", rep)
	}
	if rep.Signers[0].KeyID != k.Signer.KeyID() || !strings.HasPrefix(rep.Signers[0].KeyID, "SHA256:") {
		t.Fatalf("signer key id = %q, want %q", rep.Signers[0].KeyID, k.Signer.KeyID())
	}
	for _, c := range rep.Checks {
		if !c.OK {
			t.Errorf("check %s failed: %s", c.Name, c.Detail)
		}
	}
}

// TestCoSign checks that a second signer adds a signature without touching
// the payload, and that either key alone is then trusted.
func TestCoSign(t *testing.T) {
	a, b := signtest.NewKey(t, "", "a"), signtest.NewKey(t, "", "b")
	unsigned := bundletest.Kit(t)
	var s1, s2 bytes.Buffer
	if _, err := bundle.Sign(context.Background(), &s1, bytes.NewReader(unsigned), a.Signer); err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.Sign(context.Background(), &s2, bytes.NewReader(s1.Bytes()), b.Signer); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*signtest.Key{a, b} {
		rep, err := run(t, s2.Bytes(), k)
		if err != nil {
			t.Fatalf("verify co-signed kit with %s: %v", k.Pub, err)
		}
		if len(rep.Signers) != 2 {
			t.Fatalf("signers = %+v", rep.Signers)
		}
	}
	// The payload entries are byte for byte those of the unsigned kit.
	payload := func(kit []byte) []*bundletest.Entry {
		var out []*bundletest.Entry
		for _, e := range bundletest.Entries(t, kit) {
			if n := e.Header.Name; !strings.Contains(n, "SHA256SUMS") && !strings.HasSuffix(n, manifest.EnvelopeName) {
				out = append(out, e)
			}
		}
		return out
	}
	p0, p2 := payload(unsigned), payload(s2.Bytes())
	if len(p0) != len(p2) {
		t.Fatalf("%d entries before signing, %d after", len(p0), len(p2))
	}
	for i := range p0 {
		if p0[i].Header.Name != p2[i].Header.Name || !bytes.Equal(p0[i].Data, p2[i].Data) {
			t.Fatalf("entry %d changed by signing: %s", i, p0[i].Header.Name)
		}
	}
	// Signing again with the same key is refused.
	var s3 bytes.Buffer
	if _, err := bundle.Sign(context.Background(), &s3, bytes.NewReader(s2.Bytes()), a.Signer); !errors.Is(err, manifest.ErrAlreadySigned) {
		t.Fatalf("second signature by the same key: err = %v, want ErrAlreadySigned", err)
	}
}

// edit returns a rewriter that applies f to the entry named name (relative
// to the kit root).
func edit(name string, f func(e *bundletest.Entry)) func([]*bundletest.Entry) []*bundletest.Entry {
	return func(es []*bundletest.Entry) []*bundletest.Entry {
		e := bundletest.Find(es, name)
		if e == nil {
			panic("no entry " + name)
		}
		f(e)
		return es
	}
}

func TestVerifyRejects(t *testing.T) {
	k := signtest.NewKey(t, "", "a")
	other := signtest.NewKey(t, "", "other")
	kit := bundletest.Kit(t, k.Signer)
	unsigned := bundletest.Kit(t)
	const file = "migrations/001_init.sql"

	cases := []struct {
		name  string
		kit   func() []byte
		keys  []*signtest.Key
		want  error
		match string // in the error
	}{
		{"wrong key", func() []byte { return kit }, []*signtest.Key{other}, verify.ErrUntrusted, "none of the 1 signature"},
		{"unsigned", func() []byte { return unsigned }, nil, verify.ErrUntrusted, "unsigned"},
		{"changed payload, same size", func() []byte {
			return bundletest.Rewrite(t, kit, edit(file, func(e *bundletest.Entry) { e.Data[0] ^= 1 }))
		}, nil, verify.ErrNotIntact, "digest mismatch"},
		{"changed payload, other size", func() []byte {
			return bundletest.Rewrite(t, kit, edit(file, func(e *bundletest.Entry) { e.Data = append(e.Data, 'x') }))
		}, nil, verify.ErrNotIntact, "size"},
		{"added file", func() []byte {
			return bundletest.Rewrite(t, kit, func(es []*bundletest.Entry) []*bundletest.Entry {
				h := *es[len(es)-1].Header
				h.Name = "demo-1.2.3/zzz_extra.sql" // sorts last, where a payload entry may be
				return append(es, &bundletest.Entry{Header: &h, Data: []byte("DROP TABLE t;\n")})
			})
		}, nil, verify.ErrNotIntact, "not listed"},
		{"payload out of order", func() []byte {
			return bundletest.Rewrite(t, kit, func(es []*bundletest.Entry) []*bundletest.Entry {
				n := len(es)
				es[n-1], es[n-2] = es[n-2], es[n-1]
				return es
			})
		}, nil, verify.ErrNotIntact, "out of order"},
		{"changed mtime", func() []byte {
			return bundletest.Rewrite(t, kit, edit(file, func(e *bundletest.Entry) { e.Header.ModTime = time.Unix(1, 0) }))
		}, nil, verify.ErrNotIntact, "mtime"},
		{"GNU format header", func() []byte {
			return bundletest.Rewrite(t, kit, edit(file, func(e *bundletest.Entry) { e.Header.Format = tar.FormatGNU }))
		}, nil, verify.ErrNotIntact, "format"},
		{"missing directory entry", func() []byte {
			return bundletest.Rewrite(t, kit, func(es []*bundletest.Entry) []*bundletest.Entry {
				var out []*bundletest.Entry
				for _, e := range es {
					if e.Header.Name != "demo-1.2.3/migrations/sub/deep/" {
						out = append(out, e)
					}
				}
				return out
			})
		}, nil, verify.ErrNotIntact, "directory"},
		{"removed file", func() []byte {
			return bundletest.Rewrite(t, kit, func(es []*bundletest.Entry) []*bundletest.Entry {
				var out []*bundletest.Entry
				for _, e := range es {
					if !strings.HasSuffix(e.Header.Name, file) {
						out = append(out, e)
					}
				}
				return out
			})
		}, nil, verify.ErrNotIntact, "missing"},
		{"duplicate file", func() []byte {
			return bundletest.Rewrite(t, kit, func(es []*bundletest.Entry) []*bundletest.Entry {
				return append(es, bundletest.Find(es, file))
			})
		}, nil, verify.ErrNotIntact, "duplicate"},
		{"SHA256SUMS edited with a recomputed line", func() []byte {
			return bundletest.Rewrite(t, kit, func(es []*bundletest.Entry) []*bundletest.Entry {
				f := bundletest.Find(es, file)
				old := manifest.SHA256(f.Data).Hex()
				f.Data = []byte("DROP TABLE t;\n")
				s := bundletest.Find(es, manifest.SumsName)
				s.Data = bytes.Replace(s.Data, []byte(old), []byte(manifest.SHA256(f.Data).Hex()), 1)
				return es
			})
		}, nil, verify.ErrNotIntact, "does not match the signed statement"},
		{"SHA256SUMS.sig from another key", func() []byte {
			sig, _ := other.Signer.Sign(context.Background(), bundletest.Find(bundletest.Entries(t, kit), manifest.SumsName).Data)
			return bundletest.Rewrite(t, kit, edit(manifest.SumsSigName, func(e *bundletest.Entry) { e.Data = sign.EncodeSignature(sig) }))
		}, nil, verify.ErrNotIntact, "SHA256SUMS.sig does not verify"},
		{"DSSE signature corrupted", func() []byte {
			return bundletest.Rewrite(t, kit, edit(manifest.EnvelopeName, func(e *bundletest.Entry) {
				env, _, _ := manifest.ParseEnvelope(e.Data)
				sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
				sig[len(sig)-1] ^= 1
				env.Signatures[0].Sig = base64.StdEncoding.EncodeToString(sig)
				e.Data, _ = manifest.MarshalEnvelope(env)
			}))
		}, nil, verify.ErrNotIntact, "does not verify"},
		{"wrong payloadType", func() []byte {
			return bundletest.Rewrite(t, kit, edit(manifest.EnvelopeName, func(e *bundletest.Entry) {
				e.Data = bytes.Replace(e.Data, []byte(manifest.PayloadType), []byte("application/json"), 1)
			}))
		}, nil, verify.ErrNotIntact, "payloadType"},
		{"duplicate key in envelope", func() []byte {
			return bundletest.Rewrite(t, kit, edit(manifest.EnvelopeName, func(e *bundletest.Entry) {
				e.Data = bytes.Replace(e.Data, []byte(`{"payloadType"`), []byte(`{"payload":"e30=","payloadType"`), 1)
			}))
		}, nil, verify.ErrNotIntact, "only in the form it writes"},
		{"path traversal", func() []byte {
			return bundletest.Rewrite(t, kit, func(es []*bundletest.Entry) []*bundletest.Entry {
				h := *es[len(es)-1].Header
				h.Name = "demo-1.2.3/../../etc/cron.d/x"
				return append(es, &bundletest.Entry{Header: &h, Data: []byte("x")})
			})
		}, nil, verify.ErrNotIntact, "unsafe path"},
		{"symlink", func() []byte {
			return bundletest.Rewrite(t, kit, func(es []*bundletest.Entry) []*bundletest.Entry {
				h := &tar.Header{Name: "demo-1.2.3/migrations/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd", Mode: 0o777, Format: tar.FormatPAX}
				return append(es, &bundletest.Entry{Header: h})
			})
		}, nil, verify.ErrNotIntact, "not a regular file or directory"},
		{"other root", func() []byte {
			return bundletest.Rewrite(t, kit, func(es []*bundletest.Entry) []*bundletest.Entry {
				for _, e := range es {
					e.Header.Name = "evil-1.0.0" + strings.TrimPrefix(e.Header.Name, "demo-1.2.3")
				}
				return es
			})
		}, nil, verify.ErrNotIntact, "root directory"},
		{"setuid mode", func() []byte {
			return bundletest.Rewrite(t, kit, edit("migrations/run.sh", func(e *bundletest.Entry) { e.Header.Mode = 0o4755 }))
		}, nil, verify.ErrNotIntact, "mode"},
		{"payload before metadata", func() []byte {
			return bundletest.Rewrite(t, kit, func(es []*bundletest.Entry) []*bundletest.Entry {
				return append([]*bundletest.Entry{es[0], es[len(es)-1]}, es[1:len(es)-1]...)
			})
		}, nil, verify.ErrNotIntact, "expected"},
		{"truncated", func() []byte { return kit[:len(kit)-100] }, nil, verify.ErrNotIntact, ""},
		{"truncated before trailer", func() []byte {
			es := bundletest.Entries(t, kit)
			var raw bytes.Buffer
			tw := tar.NewWriter(&raw)
			for _, e := range es {
				tw.WriteHeader(e.Header)
				tw.Write(e.Data)
			}
			tw.Flush() // no end-of-archive marker
			return bundletest.Compress(t, raw.Bytes())
		}, nil, verify.ErrNotIntact, "end-of-archive"},
		{"trailing garbage", func() []byte { return append(append([]byte{}, kit...), []byte("garbage")...) }, nil, verify.ErrNotIntact, ""},
		{"bit flip in compressed stream", func() []byte {
			b := append([]byte{}, kit...)
			b[len(b)/2] ^= 0x10
			return b
		}, nil, verify.ErrNotIntact, ""},
		{"not a kit", func() []byte { return []byte("hello, world") }, nil, verify.ErrNotIntact, "unknown compression"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keys := c.keys
			if keys == nil {
				keys = []*signtest.Key{k}
			}
			rep, err := run(t, c.kit(), keys...)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if c.want == verify.ErrUntrusted && errors.Is(err, verify.ErrNotIntact) {
				t.Fatalf("an intact kit was reported as not intact: %v", err)
			}
			if !strings.Contains(err.Error(), c.match) {
				t.Errorf("error %q does not mention %q", err, c.match)
			}
			if rep.Verified || rep.Error == "" {
				t.Errorf("report says verified=%v error=%q", rep.Verified, rep.Error)
			}
		})
	}
}

// TestBombStopsAtHeader checks that an unlisted entry declaring 3 GiB is
// refused at its header: the reader never reads its content.
func TestBombStopsAtHeader(t *testing.T) {
	k := signtest.NewKey(t, "", "a")
	es := bundletest.Entries(t, bundletest.Kit(t, k.Signer))
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, e := range es {
		tw.WriteHeader(e.Header)
		tw.Write(e.Data)
	}
	tw.WriteHeader(&tar.Header{Name: "demo-1.2.3/zzz/zeros", Size: 3 << 30, Mode: 0o644, Typeflag: tar.TypeReg, Format: tar.FormatPAX, ModTime: bundletest.Epoch})
	tw.Write(make([]byte, 1<<20)) // the stream then just ends
	kit := bundletest.Compress(t, raw.Bytes())
	_, err := run(t, kit, k)
	if !errors.Is(err, verify.ErrNotIntact) || !strings.Contains(err.Error(), "not listed") {
		t.Fatalf("err = %v, want ErrNotIntact naming the unlisted entry", err)
	}
}

func TestVerifyNeedsKeys(t *testing.T) {
	_, err := verify.Verify(context.Background(), bytes.NewReader(nil))
	if err == nil || errors.Is(err, verify.ErrVerification) {
		t.Fatalf("err = %v, want a usage error", err)
	}
}
