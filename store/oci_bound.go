package store

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// What a registry sends is bounded as it is read: a hostile registry must
// not make offkit hold, print or follow more than these.
const (
	// A manifest, index, referrers list or tags page. A kit's manifest is
	// under 1 KiB, 64 referrers about 32 KiB, a page of 1000 tags of at
	// most 128 bytes 131 KiB.
	maxOCIDocument = 1 << 20
	maxOCITagPages = 1000 // 1000 tags each: a million tags
)

// maxErrorBody bounds an error answer's body, from a registry or an S3
// endpoint: its text ends up in an error message.
const maxErrorBody = 16 << 10

// boundedTransport limits the responses of a registry: error bodies are cut
// to maxErrorBody (go-containerregistry reads them whole into its error
// messages); manifests, referrers lists and tag pages fail past
// maxOCIDocument; tag listing stops after maxOCITagPages pages. Blobs (the
// kit itself) stream unbounded: they are verified as they are read.
type boundedTransport struct {
	next     http.RoundTripper
	tagPages atomic.Int64
}

func (b *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// A redirect is judged as the request that was redirected: a manifest
	// sent from elsewhere is still a manifest.
	orig := req
	for orig.Response != nil && orig.Response.Request != nil {
		orig = orig.Response.Request
	}
	tags := strings.Contains(orig.URL.Path, "/tags/list")
	if tags && b.tagPages.Add(1) > maxOCITagPages {
		return nil, fmt.Errorf("more than %d pages of tags from %s: refusing to list further", maxOCITagPages, req.URL.Host)
	}
	resp, err := b.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode >= 300:
		resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxErrorBody), c: resp.Body}
	case orig.Method == http.MethodGet && strings.Contains(orig.URL.Path, "/blobs/") && !strings.Contains(orig.URL.Path, "/blobs/uploads/"):
		// A blob: the kit streams, verified as it is read; the release
		// record is read bounded by the store.
	default:
		// Manifests, indexes, referrers, tag pages, upload answers.
		if resp.ContentLength > maxOCIDocument {
			resp.Body.Close()
			return nil, fmt.Errorf("%s: a %d-byte answer, over offkit's limit of %d for a manifest or listing", orig.URL.Path, resp.ContentLength, maxOCIDocument)
		}
		resp.Body = limitedBody{Reader: &capReader{r: resp.Body, left: maxOCIDocument, what: orig.URL.Path}, c: resp.Body}
	}
	return resp, nil
}

type limitedBody struct {
	io.Reader
	c io.Closer
}

func (l limitedBody) Close() error { return l.c.Close() }

// capReader fails, rather than ends, once more than left bytes come.
type capReader struct {
	r    io.Reader
	left int64
	what string
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, fmt.Errorf("%s: larger than offkit's limit of %d bytes for a manifest or listing", c.what, maxOCIDocument)
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return 0, fmt.Errorf("%s: larger than offkit's limit of %d bytes for a manifest or listing", c.what, maxOCIDocument)
	}
	return n, err
}
