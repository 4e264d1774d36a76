package store

// Second-pass attacks on boundedTransport (store/oci_bound.go): it
// recognises manifests, referrers and tag pages by the request's path, so
// a hostile registry answers from another path. A test that fails is an
// attack that works.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestOCIAttack2TagsNextPageOffPath: the first tag page's Link names the
// next page at /v2/<repo>/tags/list/ (one slash more; any path will do:
// go-containerregistry follows the link wherever it points). That page is
// neither counted against maxOCITagPages nor capped at maxOCIDocument.
func TestOCIAttack2TagsNextPageOffPath(t *testing.T) {
	t.Run("body", func(t *testing.T) {
		r := newHostileRegistry(t, func(r *hostileRegistry, w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			switch {
			case strings.HasSuffix(req.URL.Path, "/tags/list"):
				w.Header().Set("Link", fmt.Sprintf(`</v2/%s/tags/list/?last=a>; rel="next"`, hostileRepo))
				json.NewEncoder(w).Encode(map[string]any{"name": hostileRepo, "tags": []string{"a.sig"}})
			case strings.HasSuffix(req.URL.Path, "/tags/list/"):
				stream(w, `{"name":"`+hostileRepo+`","tags":[`, `"`+strings.Repeat("t", 120)+`.sig",`, ``, 48*mib)
			default:
				http.NotFound(w, req)
			}
		})
		_, err := r.st.List(ctx10(t))
		if got := r.written.Load(); got > 16*mib {
			t.Errorf("BUG (low): List read %d MiB of a tag page served from /tags/list/ (err %v): store/oci_bound.go "+
				"boundedTransport matches strings.HasSuffix(path, \"/tags/list\") only; the Link header moves the next page "+
				"to any path. Bound by what the request is (count and cap every request remote.List makes, e.g. a transport "+
				"per operation, or refuse a next link whose path differs from the first page's)", got/mib, trim(err))
		}
	})
	t.Run("pages", func(t *testing.T) {
		const pages = maxOCITagPages + 200
		var page atomic.Int64
		r := newHostileRegistry(t, func(r *hostileRegistry, w http.ResponseWriter, req *http.Request) {
			if !strings.Contains(req.URL.Path, "/tags/list") {
				http.NotFound(w, req)
				return
			}
			n := page.Add(1)
			if n < pages {
				// Alternate paths: /tags/list/ then /tags/list//, none ending in /tags/list.
				w.Header().Set("Link", fmt.Sprintf(`</v2/%s/tags/list/%s?last=p%d>; rel="next"`, hostileRepo, strings.Repeat("x/", int(n%2)), n))
			}
			w.Header().Set("Content-Type", "application/json")
			tags := []string{fmt.Sprintf("sha256-%064d.sig", n)} // cosign's: skipped
			json.NewEncoder(w).Encode(map[string]any{"name": hostileRepo, "tags": tags})
		})
		_, err := r.st.List(ctx10(t))
		if got := page.Load(); got >= pages {
			t.Errorf("BUG (low): List followed %d tag pages served off /tags/list (err %v): maxOCITagPages counts only "+
				"paths ending in /tags/list", got, trim(err))
		}
	})
}

// TestOCIAttack2ManifestRedirect: the registry answers the manifest GET
// with a 307 to /elsewhere, which answers with a 48 MiB body. The Go
// client follows the redirect through boundedTransport, which sees the
// second request's path (not /manifests/) and lets it through; only
// go-containerregistry's own 100 MiB manifest limit is left.
func TestOCIAttack2ManifestRedirect(t *testing.T) {
	r := newHostileRegistry(t, func(r *hostileRegistry, w http.ResponseWriter, req *http.Request) {
		switch {
		case strings.Contains(req.URL.Path, "/manifests/"):
			http.Redirect(w, req, "/elsewhere/m", http.StatusTemporaryRedirect)
		case req.URL.Path == "/elsewhere/m":
			if req.Method == http.MethodHead {
				w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
				return
			}
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			stream(w, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"x":"`, strings.Repeat("a", 4096), `"}}`, 48*mib)
		default:
			http.NotFound(w, req)
		}
	})
	_, err := r.st.Open(ctx10(t), "demo", "1.2.3")
	if got := r.written.Load(); got > maxOCIDocument+8*mib {
		t.Errorf("BUG (low): Open read a %d MiB manifest through a redirect (err %v): store/oci_bound.go boundedTransport "+
			"classifies each hop by its own path, so GET /v2/<repo>/manifests/<tag> -> 307 /elsewhere is unbounded "+
			"(go-containerregistry caps at 100 MiB; 4 listWorkers in List make that 400 MiB). Classify by the first "+
			"request (e.g. a CheckRedirect that keeps the original kind, or refuse redirects for manifests/tags/referrers)",
			got/mib, trim(err))
	}
}
