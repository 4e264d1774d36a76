package images

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Transport returns an http.RoundTripper that serves the layout as a
// read-only registry over the distribution API, for any host and
// repository name, without any network: what imagesig shows to cosign.
func (l *Layout) Transport() http.RoundTripper { return &layoutTransport{l: l} }

// layoutTransport serves a layout as a read-only registry over the
// distribution API, for any host: GET and HEAD of /v2/, of manifests by
// the digest or by the tag of a signature or attestation entry, and of
// blobs. Everything is read from the layout and checked.
type layoutTransport struct{ l *Layout }

func (t *layoutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return t.status(req, http.StatusMethodNotAllowed, "UNSUPPORTED"), nil
	}
	p := req.URL.Path
	if p == "/v2/" || p == "/v2" {
		return t.respond(req, http.StatusOK, "application/json", int64(2), io.NopCloser(strings.NewReader("{}")), ""), nil
	}
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return t.status(req, http.StatusNotFound, "NAME_UNKNOWN"), nil
	}
	i := strings.LastIndex(rest, "/")
	j := strings.LastIndex(rest[:max(i, 0)], "/")
	if i < 0 || j < 0 {
		return t.status(req, http.StatusNotFound, "NAME_UNKNOWN"), nil
	}
	kind, ref := rest[j+1:i], rest[i+1:]
	var d v1.Descriptor
	switch kind {
	case "manifests":
		var found bool
		if h, err := v1.NewHash(ref); err == nil {
			d, found = t.manifestByDigest(h)
		} else {
			d, found = t.manifestByTag(ref)
		}
		if !found {
			return t.status(req, http.StatusNotFound, "MANIFEST_UNKNOWN"), nil
		}
	case "blobs":
		h, err := v1.NewHash(ref)
		if err != nil || checkLayoutDescriptor(v1.Descriptor{Digest: h}) != nil {
			return t.status(req, http.StatusNotFound, "BLOB_UNKNOWN"), nil
		}
		fi, err := statBlob(t.l, h)
		if err != nil {
			return t.status(req, http.StatusNotFound, "BLOB_UNKNOWN"), nil
		}
		d = v1.Descriptor{MediaType: "application/octet-stream", Digest: h, Size: fi}
	default:
		return t.status(req, http.StatusNotFound, "NAME_UNKNOWN"), nil
	}
	var body io.ReadCloser = http.NoBody
	if req.Method == http.MethodGet {
		rc, err := t.l.Open(d)
		if err != nil {
			return nil, err
		}
		body = rc
	}
	return t.respond(req, http.StatusOK, string(d.MediaType), d.Size, body, d.Digest.String()), nil
}

// manifestByDigest finds the manifest h among the entries of index.json
// and, for any other manifest, reads its media type from its content.
func (t *layoutTransport) manifestByDigest(h v1.Hash) (v1.Descriptor, bool) {
	if i, ok := t.l.byDigest[h]; ok {
		return t.l.entries[i].Descriptor, true
	}
	size, err := statBlob(t.l, h)
	if err != nil || size > MaxManifestSize {
		return v1.Descriptor{}, false
	}
	d := v1.Descriptor{Digest: h, Size: size}
	b, err := t.l.manifest(d)
	if err != nil {
		return v1.Descriptor{}, false
	}
	d.MediaType = sniffMediaType(b)
	return d, isIndex(d.MediaType) || isManifest(d.MediaType)
}

// manifestByTag finds the signature or attestation entry tagged tag.
func (t *layoutTransport) manifestByTag(tag string) (v1.Descriptor, bool) {
	if i, ok := t.l.byTag[tag]; ok {
		return t.l.entries[i].Descriptor, true
	}
	return v1.Descriptor{}, false
}

func statBlob(l *Layout, h v1.Hash) (int64, error) {
	f, err := l.fsys.Open(blobPath(h))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func (t *layoutTransport) respond(req *http.Request, code int, contentType string, size int64, body io.ReadCloser, digest string) *http.Response {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Docker-Distribution-API-Version", "registry/2.0")
	if digest != "" {
		h.Set("Docker-Content-Digest", digest)
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", code, http.StatusText(code)), StatusCode: code,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: body, ContentLength: size, Request: req,
	}
}

func (t *layoutTransport) status(req *http.Request, code int, errCode string) *http.Response {
	b := []byte(fmt.Sprintf(`{"errors":[{"code":%q,"message":"not in the layout"}]}`, errCode))
	return t.respond(req, code, "application/json", int64(len(b)), io.NopCloser(bytes.NewReader(b)), "")
}
