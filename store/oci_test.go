package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/offkit/offkit/internal/registrytest"
	"github.com/offkit/offkit/internal/testtool"
)

const ociTestRepo = "releases/concelier-lnm"

// testChunk makes a 20 MiB kit four chunks: three full, one short.
const testChunk = 6 << 20

// ociFixture is a registry and an OCI store on it whose requests are
// recorded.
type ociFixture struct {
	reg  *registrytest.Registry
	repo string // HOST/releases/concelier-lnm
	st   *OCI
	rec  *recorder
}

func newOCIFixture(t *testing.T) *ociFixture {
	t.Helper()
	reg := registrytest.New(t)
	repo := reg.Host + "/" + ociTestRepo
	st, err := NewOCI(repo, false)
	if err != nil {
		t.Fatalf("NewOCI(%q): %v", repo, err)
	}
	rec := &recorder{next: st.base}
	st.base, st.chunkSize = rec, testChunk
	return &ociFixture{reg: reg, repo: repo, st: st, rec: rec}
}

// recorder records the requests a store sends, and can drop their Range
// header, as a registry that ignores it would.
type recorder struct {
	next      http.RoundTripper
	mu        sync.Mutex
	reqs      []string // "METHOD path Content-Range"
	dropRange bool
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, strings.TrimSpace(req.Method+" "+req.URL.Path+" "+req.Header.Get("Content-Range")))
	drop := r.dropRange
	r.mu.Unlock()
	if drop && req.Header.Get("Range") != "" {
		req = req.Clone(req.Context())
		req.Header.Del("Range")
	}
	return r.next.RoundTrip(req)
}

// requests returns the recorded requests of method, and forgets them all.
func (r *recorder) requests(method string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, q := range r.reqs {
		if strings.HasPrefix(q, method+" ") {
			out = append(out, q)
		}
	}
	r.reqs = nil
	return out
}

func kitBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 0))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// publishOCI publishes data as name/version in writes of odd sizes.
func publishOCI(t *testing.T, st Store, name, version, ext string, data, record []byte) error {
	t.Helper()
	ctx := context.Background()
	up, err := st.Begin(ctx, name, version, ext)
	if err != nil {
		return err
	}
	for p := data; len(p) > 0; {
		k := min(len(p), 1<<20+7)
		if _, err := up.Write(p[:k]); err != nil {
			up.Abort()
			return err
		}
		p = p[k:]
	}
	if err := up.Commit(ctx, record); err != nil {
		up.Abort()
		return err
	}
	return up.Abort() // a no-op after Commit
}

func readRange(t *testing.T, obj Object, off, n int64) []byte {
	t.Helper()
	rc, err := obj.Range(context.Background(), off, n)
	if err != nil {
		t.Fatalf("Range(%d, %d): %v", off, n, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Range(%d, %d): read: %v", off, n, err)
	}
	return b
}

func digestOf(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// getManifest reads the manifest tagged (or with digest) ref as the
// registry serves it.
func (f *ociFixture) getManifest(t *testing.T, ref string) *remote.Descriptor {
	t.Helper()
	r, err := name.ParseReference(f.repo + ref)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Get(r)
	if err != nil {
		t.Fatalf("GET manifest %s: %v", r, err)
	}
	return d
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustDigest(t *testing.T, s string) name.Digest {
	t.Helper()
	d, err := name.NewDigest(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestOCIRoundTrip(t *testing.T) {
	f := newOCIFixture(t)
	ctx := context.Background()
	data := kitBytes(1, 20<<20)
	record := []byte(`{"kit":"concelier-lnm","version":"1.4.0"}` + "\n")
	f.rec.requests("") // forget the ping
	if err := publishOCI(t, f.st, "concelier-lnm", "1.4.0", ".tar.zst", data, record); err != nil {
		t.Fatalf("publish: %v", err)
	}
	var ranges []string // of the kit's chunks (go-containerregistry streams small blobs in one unranged PATCH)
	for _, r := range f.rec.requests("PATCH") {
		if r := r[strings.LastIndex(r, " ")+1:]; !strings.HasPrefix(r, "/") {
			ranges = append(ranges, r)
		}
	}
	want := []string{"0-6291455", "6291456-12582911", "12582912-18874367", "18874368-20971519"}
	if !reflect.DeepEqual(ranges, want) {
		t.Errorf("PATCH Content-Ranges:\n got %q\nwant %q", ranges, want)
	}

	// The manifest, byte for byte.
	d := f.getManifest(t, ":1.4.0")
	wantManifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"artifactType":"application/vnd.offkit.kit.v1",`+
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},`+
		`"layers":[{"mediaType":"application/vnd.offkit.kit.v1.tar+zstd","size":%d,"digest":"%s","annotations":{"org.opencontainers.image.title":"concelier-lnm-1.4.0.tar.zst"}}],`+
		`"annotations":{"dev.offkit.kit.name":"concelier-lnm","org.opencontainers.image.version":"1.4.0"}}`,
		len(data), digestOf(data))
	if string(d.Manifest) != wantManifest {
		t.Errorf("manifest:\n got %s\nwant %s", d.Manifest, wantManifest)
	}

	obj, err := f.st.Open(ctx, "concelier-lnm", "1.4.0")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if obj.Size() != int64(len(data)) {
		t.Errorf("Size() = %d, want %d", obj.Size(), len(data))
	}
	if got, want := obj.URL(), "oci://"+f.repo+":1.4.0"; got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}
	f.rec.requests("")
	if got := readRange(t, obj, 0, -1); !bytes.Equal(got, data) {
		t.Errorf("Range(0, -1): %d bytes, sha256 %s; want the kit's %d, %s", len(got), digestOf(got), len(data), digestOf(data))
	}
	size := int64(len(data))
	for _, c := range []struct{ off, n int64 }{
		{0, 1}, {0, 10}, {5, 100}, {testChunk - 3, 10}, {size - 5, -1}, {size - 5, 100}, {size, -1}, {size / 2, 0},
	} {
		end := size
		if c.n >= 0 {
			end = min(size, c.off+c.n)
		}
		if got := readRange(t, obj, c.off, c.n); !bytes.Equal(got, data[c.off:end]) {
			t.Errorf("Range(%d, %d) = %d bytes, not bytes [%d, %d) of the kit", c.off, c.n, len(got), c.off, end)
		}
	}
	if _, err := obj.Range(ctx, size+1, 1); err == nil {
		t.Errorf("Range(%d, 1) past the end: no error", size+1)
	}
	for _, g := range f.rec.requests("") {
		if !strings.HasPrefix(g, "GET /v2/"+ociTestRepo+"/blobs/sha256:") {
			t.Errorf("Range sent %q, want only blob GETs", g)
		}
	}

	got, err := f.st.Record(ctx, "concelier-lnm", "1.4.0")
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	if !bytes.Equal(got, record) {
		t.Errorf("Record = %q, want %q", got, record)
	}
	// A kit URL names the kit by its tag alone.
	obj, err = f.st.Open(ctx, "", "1.4.0")
	if err != nil {
		t.Fatalf(`Open("", "1.4.0"): %v`, err)
	}
	if obj.Size() != size || obj.URL() != "oci://"+f.repo+":1.4.0" {
		t.Errorf(`Open("", "1.4.0") = %d bytes at %s`, obj.Size(), obj.URL())
	}
	if _, err := f.st.Open(ctx, "other-kit", "1.4.0"); err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "holds the kit concelier-lnm 1.4.0") {
		t.Errorf("Open of another name under the tag: %v, want an error naming the kit the tag holds", err)
	}
}

// A registry (or a proxy) that ignores Range answers 200 with the whole
// blob: Range still returns the bytes asked for.
func TestOCIRangeIgnored(t *testing.T) {
	f := newOCIFixture(t)
	data := kitBytes(2, 1<<20)
	if err := publishOCI(t, f.st, "concelier-lnm", "1.0.0", ".tar.zst", data, nil); err != nil {
		t.Fatalf("publish: %v", err)
	}
	obj, err := f.st.Open(context.Background(), "concelier-lnm", "1.0.0")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	f.rec.dropRange = true
	for _, c := range []struct{ off, n int64 }{{0, 10}, {1000, 5000}, {int64(len(data)) - 3, -1}} {
		end := int64(len(data))
		if c.n >= 0 {
			end = c.off + c.n
		}
		if got := readRange(t, obj, c.off, c.n); !bytes.Equal(got, data[c.off:end]) {
			t.Errorf("Range(%d, %d) without range support = %d bytes, not bytes [%d, %d)", c.off, c.n, len(got), c.off, end)
		}
	}
}

func TestOCIRecordFallbackTag(t *testing.T) {
	f := newOCIFixture(t)
	ctx := context.Background()
	data := kitBytes(3, 4096)
	if err := publishOCI(t, f.st, "concelier-lnm", "2.0.0", ".tar.zst", data, nil); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if _, err := f.st.Record(ctx, "concelier-lnm", "2.0.0"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Record before PutRecord: %v, want ErrNotFound", err)
	}
	kit := f.getManifest(t, ":2.0.0").Digest

	// This registry has no referrers API.
	resp, err := http.Get("http://" + f.reg.Host + "/v2/" + ociTestRepo + "/referrers/" + kit.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET referrers: %s, want 404 (a registry without the referrers API)", resp.Status)
	}

	record := []byte(`{"record":1}`)
	if err := f.st.PutRecord(ctx, "concelier-lnm", "2.0.0", record); err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	got, err := f.st.Record(ctx, "concelier-lnm", "2.0.0")
	if err != nil || !bytes.Equal(got, record) {
		t.Fatalf("Record = %q, %v; want %q", got, err, record)
	}
	if err := f.st.PutRecord(ctx, "concelier-lnm", "2.0.0", []byte(`{"record":2}`)); !errors.Is(err, ErrExists) {
		t.Errorf("second PutRecord: %v, want ErrExists", err)
	}
	if got, _ := f.st.Record(ctx, "concelier-lnm", "2.0.0"); !bytes.Equal(got, record) {
		t.Errorf("Record after a refused PutRecord = %q, want %q", got, record)
	}

	// The fallback tag lists the one referrer, as the spec says.
	idx := f.getManifest(t, ":sha256-"+kit.Hex)
	var im v1.IndexManifest
	if err := json.Unmarshal(idx.Manifest, &im); err != nil {
		t.Fatal(err)
	}
	if idx.MediaType != ociIndexType || len(im.Manifests) != 1 {
		t.Fatalf("fallback tag: %s with %d manifests, want an OCI index of one:\n%s", idx.MediaType, len(im.Manifests), idx.Manifest)
	}
	e := im.Manifests[0]
	wantAnn := map[string]string{annotationName: "concelier-lnm", annotationVersion: "2.0.0"}
	if e.MediaType != ociManifestType || e.ArtifactType != OCIRecordArtifactType || !reflect.DeepEqual(e.Annotations, wantAnn) {
		t.Errorf("fallback entry = %+v, want an image manifest, artifactType %s, annotations %v", e, OCIRecordArtifactType, wantAnn)
	}
	ref := f.getManifest(t, "@"+e.Digest.String())
	var m ociManifest
	if err := json.Unmarshal(ref.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.Subject == nil || m.Subject.Digest != kit || m.ArtifactType != OCIRecordArtifactType ||
		len(m.Layers) != 1 || m.Layers[0].Digest != digestOf(record) || m.Layers[0].Annotations[annotationTitle] != "concelier-lnm-2.0.0.release.json" {
		t.Errorf("record referrer manifest:\n%s", ref.Manifest)
	}

	// go-containerregistry reads it back too.
	gidx, err := remote.Referrers(mustDigest(t, f.repo+"@"+kit.String()))
	if err != nil {
		t.Fatal(err)
	}
	gim, _ := gidx.IndexManifest()
	if len(gim.Manifests) != 1 || gim.Manifests[0].Digest != e.Digest {
		t.Errorf("remote.Referrers = %+v, want the record referrer %s", gim.Manifests, e.Digest)
	}

	// List sees the record, and no kit under the fallback tag.
	rs, err := f.st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || !rs[0].Record {
		t.Errorf("List = %+v, want one kit with a record", rs)
	}
}

func TestOCICreateOnly(t *testing.T) {
	f := newOCIFixture(t)
	ctx := context.Background()
	a, b := kitBytes(4, 3<<20), kitBytes(5, 3<<20)
	if err := publishOCI(t, f.st, "concelier-lnm", "1.0.0", ".tar.zst", a, []byte(`"a"`)); err != nil {
		t.Fatalf("publish: %v", err)
	}
	before := f.getManifest(t, ":1.0.0").Digest
	f.rec.requests("")
	if err := publishOCI(t, f.st, "concelier-lnm", "1.0.0", ".tar.zst", b, []byte(`"b"`)); !errors.Is(err, ErrExists) {
		t.Fatalf("second publish: %v, want ErrExists", err)
	}
	if p := f.rec.requests("PATCH"); len(p) != 0 {
		t.Errorf("second publish uploaded %d chunks, want none", len(p))
	}
	if after := f.getManifest(t, ":1.0.0").Digest; after != before {
		t.Errorf("tag 1.0.0 moved from %s to %s", before, after)
	}
	obj, err := f.st.Open(ctx, "concelier-lnm", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if got := readRange(t, obj, 0, -1); !bytes.Equal(got, a) {
		t.Errorf("the published kit changed")
	}
	if rec, _ := f.st.Record(ctx, "concelier-lnm", "1.0.0"); string(rec) != `"a"` {
		t.Errorf("Record = %q, want the first publish's", rec)
	}

	// Two publishers that both began before either committed: the first
	// to commit wins.
	u1, err := f.st.Begin(ctx, "concelier-lnm", "1.1.0", ".tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	u2, err := f.st.Begin(ctx, "concelier-lnm", "1.1.0", ".tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	u1.Write(a)
	u2.Write(b)
	if err := u1.Commit(ctx, nil); err != nil {
		t.Fatalf("first Commit: %v", err)
	}
	if err := u2.Commit(ctx, nil); !errors.Is(err, ErrExists) {
		t.Fatalf("second Commit: %v, want ErrExists", err)
	}
	u2.Abort()
	obj, err = f.st.Open(ctx, "concelier-lnm", "1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	if got := readRange(t, obj, 0, -1); !bytes.Equal(got, a) {
		t.Errorf("1.1.0 holds the second publisher's bytes")
	}
}

func TestOCIAbort(t *testing.T) {
	f := newOCIFixture(t)
	ctx := context.Background()
	up, err := f.st.Begin(ctx, "concelier-lnm", "3.0.0", ".tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.Write(kitBytes(6, testChunk+100)); err != nil {
		t.Fatal(err)
	}
	session := up.(*ociUpload).loc.String()
	if err := up.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if n, err := up.Write([]byte("x")); err == nil {
		t.Errorf("Write after Abort = %d, nil; want an error", n)
	}
	if err := up.Commit(ctx, nil); err == nil {
		t.Errorf("Commit after Abort: no error")
	}
	if d := f.rec.requests("DELETE"); len(d) != 1 || !strings.Contains(d[0], "/blobs/uploads/") {
		t.Errorf("Abort sent %q, want one DELETE of the upload session", d)
	}
	resp, err := http.Get(session)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET the upload session after Abort: %s, want 404", resp.Status)
	}
	if _, err := f.st.Open(ctx, "concelier-lnm", "3.0.0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open after Abort: %v, want ErrNotFound", err)
	}
	tags, err := remote.List(mustRef(t, f.repo).Context())
	if err == nil && len(tags) != 0 {
		t.Errorf("tags after Abort: %q, want none", tags)
	}
	if rs, err := f.st.List(ctx); err != nil || len(rs) != 0 {
		t.Errorf("List after Abort = %+v, %v; want nothing", rs, err)
	}
	// Abort before any byte.
	up, err = f.st.Begin(ctx, "concelier-lnm", "3.0.0", ".tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Abort(); err != nil {
		t.Errorf("Abort of an empty upload: %v", err)
	}
	// A cancelled publishing context: Abort has its own.
	cctx, cancel := context.WithCancel(ctx)
	up, err = f.st.Begin(cctx, "concelier-lnm", "3.0.0", ".tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := up.Write(kitBytes(7, testChunk)); !errors.Is(err, context.Canceled) {
		t.Errorf("Write under a cancelled context: %v, want context.Canceled", err)
	}
	f.rec.requests("")
	if err := up.Abort(); err != nil {
		t.Errorf("Abort after cancel: %v", err)
	}
	if d := f.rec.requests("DELETE"); len(d) != 1 {
		t.Errorf("Abort after cancel sent %q, want one DELETE", d)
	}
}

func TestOCITag(t *testing.T) {
	for _, c := range []struct{ version, tag string }{
		{"1.0.0", "1.0.0"},
		{"1.4.0+build.7", "1.4.0_build.7"},
		{"1.0.0-rc.1+sha.5114f85", "1.0.0-rc.1_sha.5114f85"},
		{"1.4.0_build.7", "1.4.0_build.7"}, // a URL's tag
		{"-1.0", ""},
		{".1", ""},
		{"1/0", ""},
		{strings.Repeat("1", 129), ""},
	} {
		tag, err := ociTag(c.version)
		if tag != c.tag || (err != nil) != (c.tag == "") {
			t.Errorf("ociTag(%q) = %q, %v; want %q", c.version, tag, err, c.tag)
		}
	}
}

func TestOCIPlusVersion(t *testing.T) {
	f := newOCIFixture(t)
	ctx := context.Background()
	data := kitBytes(8, 5000)
	if err := publishOCI(t, f.st, "concelier-lnm", "1.4.0+build.7", ".tar", data, []byte("{}")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	d := f.getManifest(t, ":1.4.0_build.7")
	k, err := parseKit(d.Manifest, d.Descriptor)
	if err != nil {
		t.Fatal(err)
	}
	if k.version != "1.4.0+build.7" || k.layer.MediaType != "application/vnd.offkit.kit.v1.tar" ||
		k.layer.Annotations[annotationTitle] != "concelier-lnm-1.4.0+build.7.tar" {
		t.Errorf("manifest under 1.4.0_build.7:\n%s", d.Manifest)
	}
	for _, v := range []string{"1.4.0+build.7", "1.4.0_build.7"} {
		nm := "concelier-lnm"
		if strings.Contains(v, "_") {
			nm = "" // a URL's tag
		}
		obj, err := f.st.Open(ctx, nm, v)
		if err != nil {
			t.Fatalf("Open(%q, %q): %v", nm, v, err)
		}
		if got := readRange(t, obj, 0, -1); !bytes.Equal(got, data) {
			t.Errorf("Open(%q, %q): other bytes", nm, v)
		}
		if obj.URL() != "oci://"+f.repo+":1.4.0_build.7" {
			t.Errorf("URL() = %q", obj.URL())
		}
	}
	rs, err := f.st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Release{{Name: "concelier-lnm", Version: "1.4.0+build.7", URL: "oci://" + f.repo + ":1.4.0_build.7",
		File: "concelier-lnm-1.4.0+build.7.tar", Size: int64(len(data)), Record: true}}
	if !reflect.DeepEqual(rs, want) {
		t.Errorf("List:\n got %+v\nwant %+v", rs, want)
	}
	// The name must be the kit's; the version a kit version.
	if _, err := f.st.Begin(ctx, "concelier-lnm", "1.4.0_build.7", ".tar"); err == nil {
		t.Errorf("Begin with a tag for a version: no error")
	}
}

func TestOCIListAndForeign(t *testing.T) {
	f := newOCIFixture(t)
	ctx := context.Background()
	if rs, err := f.st.List(ctx); err != nil || len(rs) != 0 {
		t.Fatalf("List of an empty repository = %+v, %v", rs, err)
	}
	kits := []struct {
		version, ext string
		size         int
		record       bool
	}{
		{"1.10.0", ".tar.zst", 300, true},
		{"1.2.0", ".tar.gz", 200, false},
		{"1.2.0-rc.1", ".tar", 0, true}, // an empty kit: no PATCH at all
	}
	for i, k := range kits {
		var rec []byte
		if k.record {
			rec = []byte(`{"n":` + fmt.Sprint(i) + `}`)
		}
		if err := publishOCI(t, f.st, "concelier-lnm", k.version, k.ext, kitBytes(uint64(10+i), k.size), rec); err != nil {
			t.Fatalf("publish %s: %v", k.version, err)
		}
	}
	// A foreign image under a tag, and an alias of a kit.
	img, err := random.Image(100, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(mustRef(t, f.repo+":foreign"), img); err != nil {
		t.Fatal(err)
	}
	alias := f.getManifest(t, ":1.2.0")
	if err := remote.Tag(mustRef(t, f.repo+":latest").(name.Tag), alias); err != nil {
		t.Fatal(err)
	}

	rs, err := f.st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u := "oci://" + f.repo + ":"
	want := []Release{
		{Name: "concelier-lnm", Version: "1.2.0-rc.1", URL: u + "1.2.0-rc.1", File: "concelier-lnm-1.2.0-rc.1.tar", Size: 0, Record: true},
		{Name: "concelier-lnm", Version: "1.2.0", URL: u + "1.2.0", File: "concelier-lnm-1.2.0.tar.gz", Size: 200, Record: false},
		{Name: "concelier-lnm", Version: "1.10.0", URL: u + "1.10.0", File: "concelier-lnm-1.10.0.tar.zst", Size: 300, Record: true},
	}
	if !reflect.DeepEqual(rs, want) {
		t.Errorf("List:\n got %+v\nwant %+v", rs, want)
	}
	if d := f.getManifest(t, ":1.2.0"); !strings.Contains(string(d.Manifest), `"mediaType":"application/vnd.offkit.kit.v1.tar+gzip"`) {
		t.Errorf("the .tar.gz kit's manifest:\n%s", d.Manifest)
	}

	_, err = f.st.Open(ctx, "", "foreign")
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "is not an offkit kit") {
		t.Errorf(`Open("", "foreign"): %v, want a refusal`, err)
	}
	if _, err := f.st.Record(ctx, "", "foreign"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf(`Record("", "foreign"): %v, want a refusal`, err)
	}
	if _, err := f.st.Open(ctx, "concelier-lnm", "9.9.9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open of an unpublished version: %v, want ErrNotFound", err)
	}
	// An alias opens the kit it names.
	obj, err := f.st.Open(ctx, "", "latest")
	if err != nil || obj.Size() != 200 || obj.URL() != u+"1.2.0" {
		t.Errorf(`Open("", "latest") = %v, %v; want the kit 1.2.0`, obj, err)
	}
	// A foreign image under a version's tag: not a kit, not replaced.
	if err := remote.Write(mustRef(t, f.repo+":4.0.0"), img); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Open(ctx, "concelier-lnm", "4.0.0"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Open of a foreign image under 4.0.0: %v, want a refusal", err)
	}
	if err := publishOCI(t, f.st, "concelier-lnm", "4.0.0", ".tar", []byte("kit"), nil); !errors.Is(err, ErrExists) {
		t.Errorf("publish over a foreign image: %v, want ErrExists", err)
	}
	if rs, _ := f.st.List(ctx); len(rs) != 3 {
		t.Errorf("List after the foreign 4.0.0: %d kits, want 3", len(rs))
	}
}

func TestNewOCI(t *testing.T) {
	for _, c := range []struct {
		repo, url string
	}{
		{"127.0.0.1:5000/releases/kit", "oci://127.0.0.1:5000/releases/kit"},
		{"registry.example/ab", "oci://registry.example/ab"},
		{"localhost:5000/ab", "oci://localhost:5000/ab"},
		{"localhost/ab", ""},       // go-containerregistry reads it as Docker Hub's
		{"releases/kit", ""},       // no registry host: Docker Hub
		{"127.0.0.1:5000", ""},     // no repository
		{"127.0.0.1:5000/A", ""},   // upper case
		{"127.0.0.1:5000/a:1", ""}, // a tag
		{"127.0.0.1:5000/a@sha256:" + strings.Repeat("0", 64), ""},
	} {
		o, err := NewOCI(c.repo, false)
		if c.url == "" {
			if err == nil {
				t.Errorf("NewOCI(%q): no error", c.repo)
			}
			continue
		}
		if err != nil {
			t.Errorf("NewOCI(%q): %v", c.repo, err)
			continue
		}
		if got := o.URL("", ""); got != c.url {
			t.Errorf("NewOCI(%q).URL = %q, want %q", c.repo, got, c.url)
		}
	}
	o, err := NewOCI("registry.example/ab", true)
	if err != nil {
		t.Fatal(err)
	}
	if o.repo.Scheme() != "http" {
		t.Errorf("insecure: scheme %q, want http", o.repo.Scheme())
	}
}

// needTool finds a tool on PATH ('make tools' installs it into
// .cache/bin). Without it the test is skipped, or fails when
// OFFKIT_REQUIRE_INTEROP=1 or CI is set.
func needTool(t *testing.T, tool string) string {
	t.Helper()
	return testtool.Need(t, tool)
}

// runTool runs a tool hermetically (its own HOME and DOCKER_CONFIG) and
// returns its stdout.
func runTool(t *testing.T, dir, path string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	home := t.TempDir()
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "DOCKER_CONFIG=" + home, "LC_ALL=C"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(path), strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

func TestOCIInteropCrane(t *testing.T) {
	crane := needTool(t, "crane")
	f := newOCIFixture(t)
	data := kitBytes(20, 3<<20+11)
	if err := publishOCI(t, f.st, "concelier-lnm", "1.4.0+build.7", ".tar.zst", data, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	raw := runTool(t, t.TempDir(), crane, "manifest", f.repo+":1.4.0_build.7")
	var m ociManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("crane manifest: %v\n%s", err, raw)
	}
	if m.ArtifactType != OCIKitArtifactType || len(m.Layers) != 1 || m.Layers[0].Digest != digestOf(data) {
		t.Fatalf("crane manifest:\n%s", raw)
	}
	blob := runTool(t, t.TempDir(), crane, "blob", f.repo+"@"+m.Layers[0].Digest.String())
	if !bytes.Equal(blob, data) {
		t.Errorf("crane blob: %d bytes, sha256 %s; want the kit's %d, %s", len(blob), digestOf(blob), len(data), digestOf(data))
	}
	tags := strings.Fields(string(runTool(t, t.TempDir(), crane, "ls", f.repo)))
	kit := f.getManifest(t, ":1.4.0_build.7").Digest
	want := []string{"1.4.0_build.7", "sha256-" + kit.Hex}
	if !reflect.DeepEqual(tags, want) {
		t.Errorf("crane ls = %q, want %q", tags, want)
	}
}

func TestOCIInteropOras(t *testing.T) {
	oras := needTool(t, "oras")
	f := newOCIFixture(t)
	data := kitBytes(21, 2<<20+3)
	record := []byte(`{"record":"oras"}`)
	if err := publishOCI(t, f.st, "concelier-lnm", "1.4.0+build.7", ".tar.zst", data, record); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	runTool(t, dir, oras, "pull", "--plain-http", f.repo+":1.4.0_build.7", "-o", "out")
	got, err := os.ReadFile(filepath.Join(dir, "out", "concelier-lnm-1.4.0+build.7.tar.zst"))
	if err != nil {
		t.Fatalf("oras pull: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("oras pull: %d bytes, sha256 %s; want the kit's %d, %s", len(got), digestOf(got), len(data), digestOf(data))
	}
	// oras finds the record through the fallback tag.
	out := runTool(t, dir, oras, "discover", "--plain-http", "--format", "json", "--artifact-type", OCIRecordArtifactType, f.repo+":1.4.0_build.7")
	var disc struct {
		Referrers []struct {
			ArtifactType string `json:"artifactType"`
			Digest       string `json:"digest"`
		} `json:"referrers"`
	}
	if err := json.Unmarshal(out, &disc); err != nil {
		t.Fatalf("oras discover: %v\n%s", err, out)
	}
	if len(disc.Referrers) != 1 || disc.Referrers[0].ArtifactType != OCIRecordArtifactType {
		t.Fatalf("oras discover:\n%s", out)
	}
	runTool(t, dir, oras, "pull", "--plain-http", f.repo+"@"+disc.Referrers[0].Digest, "-o", "rec")
	got, err = os.ReadFile(filepath.Join(dir, "rec", "concelier-lnm-1.4.0+build.7.release.json"))
	if err != nil || !bytes.Equal(got, record) {
		t.Errorf("oras pull of the record referrer = %q, %v; want %q", got, err, record)
	}
}
