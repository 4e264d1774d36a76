package store

// Attacks on the OCI medium by a hostile registry: one that answers tag
// lists, manifests, referrers, blobs and errors as it likes. Each test runs
// a fake registry on loopback (plain HTTP, as go-containerregistry uses for
// 127.0.0.1). A test that fails is an attack that works.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// hostileRegistry is a fake registry: /v2/ answers 200 (anonymous), and
// every other request goes to h. It counts the bytes its handlers write.
type hostileRegistry struct {
	srv     *httptest.Server
	written atomic.Int64
	reqs    atomic.Int64
	st      *OCI
}

const hostileRepo = "releases/kit"

func newHostileRegistry(t *testing.T, h func(r *hostileRegistry, w http.ResponseWriter, req *http.Request)) *hostileRegistry {
	t.Helper()
	r := &hostileRegistry{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/v2/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		r.reqs.Add(1)
		h(r, &countingResponse{ResponseWriter: w, n: &r.written}, req)
	}))
	t.Cleanup(r.srv.Close)
	host := strings.TrimPrefix(r.srv.URL, "http://")
	st, err := NewOCI(host+"/"+hostileRepo, false)
	if err != nil {
		t.Fatal(err)
	}
	r.st = st
	return r
}

type countingResponse struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingResponse) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// stream writes head, then chunk until total bytes are written or the
// client goes away, then tail.
func stream(w http.ResponseWriter, head, chunk, tail string, total int) {
	n, _ := w.Write([]byte(head))
	c := []byte(chunk)
	for n < total {
		k, err := w.Write(c)
		if err != nil {
			return
		}
		n += k
	}
	w.Write([]byte(tail))
}

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

const mib = 1 << 20

// kitManifestFor is a well-formed offkit kit manifest of name/version.
func kitManifestFor(t *testing.T, name, version string) []byte {
	t.Helper()
	raw, err := kitManifest(name, version, ".tar.zst", v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}, 1234)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestOCIAttackTagsListBodyUnbounded: the registry answers the tag list
// with a body that never ends (48 MiB here). offkit list must stop reading
// it at a bound (promise 4), not buffer it all: remote.List decodes each
// page with json.Decoder and no limit.
func TestOCIAttackTagsListBodyUnbounded(t *testing.T) {
	const total = 48 * mib
	r := newHostileRegistry(t, func(r *hostileRegistry, w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, "/tags/list") {
			w.Header().Set("Content-Type", "application/json")
			// Never valid: no closing bracket, so List fails only at the end.
			stream(w, `{"name":"`+hostileRepo+`","tags":[`, `"`+strings.Repeat("t", 120)+`.sig",`, ``, total)
			return
		}
		http.NotFound(w, req)
	})
	_, err := r.st.List(ctx10(t))
	if got := r.written.Load(); got > 16*mib {
		t.Errorf("BUG: List read %d MiB of one tag-list page before failing (%v): a hostile registry makes offkit list buffer "+
			"an unbounded tags body (store/oci.go List -> remote.List, no size limit on the page)", got/mib, trim(err))
	}
}

// TestOCIAttackTagsPaginationEndless: every tag-list page links to a next
// one, forever (here the registry gives up after 3000 pages). List must
// stop at a bound on pages or tags, not follow the chain as long as the
// registry likes and accumulate every tag.
func TestOCIAttackTagsPaginationEndless(t *testing.T) {
	const pages = 3000
	var page atomic.Int64
	r := newHostileRegistry(t, func(r *hostileRegistry, w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, "/tags/list") {
			n := page.Add(1)
			if n < pages {
				w.Header().Set("Link", fmt.Sprintf(`</v2/%s/tags/list?last=p%d>; rel="next"`, hostileRepo, n))
			}
			w.Header().Set("Content-Type", "application/json")
			// Tags List skips without fetching them: cosign signature tags.
			tags := make([]string, 100)
			for i := range tags {
				tags[i] = fmt.Sprintf("p%d-%d-%s.sig", n, i, strings.Repeat("x", 100))
			}
			json.NewEncoder(w).Encode(map[string]any{"name": hostileRepo, "tags": tags})
			return
		}
		http.NotFound(w, req)
	})
	_, err := r.st.List(ctx10(t))
	if got := page.Load(); got >= pages {
		t.Errorf("BUG: List followed %d tag-list pages (%d tags, %d MiB held at once) and would follow more (err %v): "+
			"no bound on the pages or tags of a hostile registry's listing (store/oci.go List -> remote.List)",
			got, got*100, r.written.Load()/mib, trim(err))
	}
}

// TestOCIAttackErrorBodyUnbounded: the registry answers a manifest GET
// with a 500 and a 32 MiB body. The error must be bounded (promise 4) and
// short enough to print (promise 5): transport.CheckError reads the whole
// body and Error() quotes it all.
func TestOCIAttackErrorBodyUnbounded(t *testing.T) {
	r := newHostileRegistry(t, func(r *hostileRegistry, w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		stream(w, "", strings.Repeat("E", 64<<10), "", 32*mib)
	})
	_, err := r.st.Open(ctx10(t), "", "1.0.0")
	if err == nil {
		t.Fatal("Open succeeded")
	}
	if len(err.Error()) > 64<<10 || r.written.Load() > 16*mib {
		t.Errorf("BUG: an error answer of %d MiB was read whole and made a %d-byte error message (what offkit prints to stderr): "+
			"store/oci.go check()/remote.Get use transport.CheckError, which io.ReadAll's the body; bound it (read at most a few KiB) "+
			"and truncate the registry's text", r.written.Load()/mib, len(err.Error()))
	}
}

// TestOCIAttackErrorTerminalEscapes: the registry's error message carries
// terminal escape sequences (set the window title, clear the screen, fake
// an "ok" line). offkit prints errors to the terminal: they must not pass
// through raw (promise 6).
func TestOCIAttackErrorTerminalEscapes(t *testing.T) {
	msg := "\x1b]0;owned\x07\x1b[2K\r  ok   signatures verified\x1b[8m"
	r := newHostileRegistry(t, func(r *hostileRegistry, w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": "DENIED", "message": msg}}})
	})
	_, err := r.st.List(ctx10(t))
	if err == nil {
		t.Fatal("List succeeded")
	}
	// The store keeps what the registry said, so that it can be reported;
	// where it is printed, offkit escapes it (cmd/offkit printable:
	// TestListAttackErrorEscapes runs this attack through the binary).
	if !strings.Contains(err.Error(), "DENIED") || !strings.Contains(err.Error(), "owned") || len(err.Error()) > maxErrorBody+1024 {
		t.Errorf("the registry's error is not kept, or not bounded: %q", err.Error())
	}
}

// TestOCIAttackHugeManifest: the tag's manifest is 24 MiB (a kit's is
// under 1 KiB). Reading it must stop at a small bound: go-containerregistry
// allows 100 MiB per manifest, List reads four at once, and every tag's
// referrers (up to 64 manifests each) too.
func TestOCIAttackHugeManifest(t *testing.T) {
	r := newHostileRegistry(t, func(r *hostileRegistry, w http.ResponseWriter, req *http.Request) {
		if strings.Contains(req.URL.Path, "/manifests/") {
			w.Header().Set("Content-Type", ociManifestType)
			stream(w, `{"schemaVersion":2,"mediaType":"`+ociManifestType+`","annotations":{"x":"`, strings.Repeat("A", 64<<10), `"}}`, 24*mib)
			return
		}
		http.NotFound(w, req)
	})
	_, err := r.st.Open(ctx10(t), "", "1.0.0")
	if got := r.written.Load(); got > 8*mib || err == nil {
		t.Errorf("BUG (low): Open read a %d MiB manifest (err %v): offkit relies on go-containerregistry's 100 MiB manifest limit; "+
			"with 4 List workers and 64 referrers per kit that is hundreds of MiB from one hostile registry. "+
			"Fetch manifests with offkit's own bound (MaxRecordSize or less)", got/mib, trim(err))
	}
}

// TestOCIAttackReferrersBounded: a referrers answer of 48 MiB is read to
// MaxRecordSize only, and more than maxReferrers record referrers are
// refused. Defended.
func TestOCIAttackReferrersBounded(t *testing.T) {
	kit := kitManifestFor(t, "demo", "1.2.3")
	var many atomic.Bool
	r := newHostileRegistry(t, func(r *hostileRegistry, w http.ResponseWriter, req *http.Request) {
		switch {
		case strings.HasSuffix(req.URL.Path, "/manifests/1.2.3"):
			w.Header().Set("Content-Type", ociManifestType)
			w.Write(kit)
		case strings.Contains(req.URL.Path, "/referrers/"):
			w.Header().Set("Content-Type", ociIndexType)
			if many.Load() {
				idx := v1.IndexManifest{SchemaVersion: 2, MediaType: ociIndexType}
				for i := range 200 {
					idx.Manifests = append(idx.Manifests, v1.Descriptor{MediaType: ociManifestType, ArtifactType: OCIRecordArtifactType,
						Size: 10, Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%064x", i)}})
				}
				json.NewEncoder(w).Encode(idx)
				return
			}
			stream(w, `{"schemaVersion":2,"mediaType":"`+ociIndexType+`","manifests":[`,
				`{"mediaType":"application/x-junk","size":1,"digest":"sha256:`+strings.Repeat("0", 64)+`"},`, `]}`, 48*mib)
		default:
			http.NotFound(w, req)
		}
	})
	_, err := r.st.Record(ctx10(t), "demo", "1.2.3")
	if err == nil {
		t.Error("Record of an endless referrers answer succeeded")
	}
	if got := r.written.Load(); got > 12*mib {
		t.Errorf("the referrers answer was read to %d MiB", got/mib)
	}
	many.Store(true)
	r.reqs.Store(0)
	_, err = r.st.Record(ctx10(t), "demo", "1.2.3")
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("200 record referrers: %v, want refused", err)
	}
	if n := r.reqs.Load(); n > maxReferrers+5 {
		t.Errorf("200 record referrers cost %d requests", n)
	}
}

// TestOCIAttackRecordBlobBounded: the record referrer is genuine but its
// blob is 48 MiB, or differs from its digest. Refused after at most
// MaxRecordSize. Defended.
func TestOCIAttackRecordBlobBounded(t *testing.T) {
	kit := kitManifestFor(t, "demo", "1.2.3")
	kh, _, _ := v1.SHA256(strings.NewReader(string(kit)))
	rec := []byte(`{"record":1}`)
	k := &ociKit{desc: v1.Descriptor{MediaType: ociManifestType, Digest: kh, Size: int64(len(kit))}, name: "demo", version: "1.2.3"}
	recM, err := recordManifest(k, rec)
	if err != nil {
		t.Fatal(err)
	}
	rh, _, _ := v1.SHA256(strings.NewReader(string(recM)))
	r := newHostileRegistry(t, func(r *hostileRegistry, w http.ResponseWriter, req *http.Request) {
		switch {
		case strings.HasSuffix(req.URL.Path, "/manifests/1.2.3"):
			w.Header().Set("Content-Type", ociManifestType)
			w.Write(kit)
		case strings.HasSuffix(req.URL.Path, "/manifests/"+rh.String()):
			w.Header().Set("Content-Type", ociManifestType)
			w.Write(recM)
		case strings.Contains(req.URL.Path, "/referrers/"):
			w.Header().Set("Content-Type", ociIndexType)
			json.NewEncoder(w).Encode(v1.IndexManifest{SchemaVersion: 2, MediaType: ociIndexType, Manifests: []v1.Descriptor{
				{MediaType: ociManifestType, ArtifactType: OCIRecordArtifactType, Size: int64(len(recM)), Digest: rh}}})
		case strings.Contains(req.URL.Path, "/blobs/"):
			stream(w, "", strings.Repeat("R", 64<<10), "", 48*mib)
		default:
			http.NotFound(w, req)
		}
	})
	_, err = r.st.Record(ctx10(t), "demo", "1.2.3")
	if err == nil {
		t.Error("a 48 MiB record blob was accepted")
	}
	if got := r.written.Load(); got > 12*mib {
		t.Errorf("the record blob was read to %d MiB", got/mib)
	}
}

// TestOCIAttackForeignAnnotations: a tag whose manifest claims a name or
// version that is not a kit's (terminal escapes, path elements) is not a
// kit: Open refuses it and the message quotes what it says. Defended.
func TestOCIAttackForeignAnnotations(t *testing.T) {
	for _, nv := range [][2]string{{"demo\x1b]0;x\x07", "1.2.3"}, {"../../etc", "1.2.3"}, {"demo", "1.2.3/../../x"}, {"demo", "1.2.3\n"}} {
		raw, _ := json.Marshal(ociManifest{SchemaVersion: 2, MediaType: ociManifestType, ArtifactType: OCIKitArtifactType,
			Config: emptyDescriptor(), Layers: []v1.Descriptor{{MediaType: types.MediaType(ociKitTypes[".tar.zst"]), Size: 1,
				Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}}},
			Annotations: map[string]string{annotationName: nv[0], annotationVersion: nv[1]}})
		r := newHostileRegistry(t, func(r *hostileRegistry, w http.ResponseWriter, req *http.Request) {
			if strings.Contains(req.URL.Path, "/manifests/") {
				w.Header().Set("Content-Type", ociManifestType)
				w.Write(raw)
				return
			}
			if strings.HasSuffix(req.URL.Path, "/tags/list") {
				json.NewEncoder(w).Encode(map[string]any{"name": hostileRepo, "tags": []string{"1.2.3"}})
				return
			}
			http.NotFound(w, req)
		})
		_, err := r.st.Open(ctx10(t), "", "1.2.3")
		if err == nil {
			t.Errorf("%q: Open accepted it", nv)
		} else if strings.ContainsAny(err.Error(), "\x1b\x07\n") {
			t.Errorf("%q: raw control characters in %q", nv, err.Error())
		}
		rs, err := r.st.List(ctx10(t))
		if err != nil || len(rs) != 0 {
			t.Errorf("%q: List = %+v, %v", nv, rs, err)
		}
	}
}

func trim(err error) string {
	if err == nil {
		return "<nil>"
	}
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// TestOCIListHidesSigVersions (informational, not an attack): a kit whose
// SemVer pre-release or build ends in ".sig" or ".att" (1.0.0-rc.sig is a
// valid version) is published under that tag, and List skips the tag as a
// cosign signature's: the kit is published but never listed.
func TestOCIListHidesSigVersions(t *testing.T) {
	kit := kitManifestFor(t, "demo", "1.0.0-rc.sig")
	r := newHostileRegistry(t, func(r *hostileRegistry, w http.ResponseWriter, req *http.Request) {
		switch {
		case strings.HasSuffix(req.URL.Path, "/tags/list"):
			json.NewEncoder(w).Encode(map[string]any{"name": hostileRepo, "tags": []string{"1.0.0-rc.sig"}})
		case strings.HasSuffix(req.URL.Path, "/manifests/1.0.0-rc.sig"):
			w.Header().Set("Content-Type", ociManifestType)
			w.Write(kit)
		default:
			http.NotFound(w, req)
		}
	})
	if _, err := r.st.Open(ctx10(t), "demo", "1.0.0-rc.sig"); err != nil {
		t.Fatalf("Open: %v", err)
	}
	rs, err := r.st.List(ctx10(t))
	if err != nil || len(rs) != 1 {
		t.Errorf("BUG (info): the kit demo 1.0.0-rc.sig opens but List = %+v, %v: store/oci.go List skips every tag ending "+
			"in .sig or .att, which valid SemVer versions can; skip only sha256-<hex>.sig/.att", rs, err)
	}
}
