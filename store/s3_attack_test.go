package store

// Attacks on the S3 medium by a hostile S3 endpoint (or a bucket's
// listing as a hostile proxy serves it). A test that fails is an attack
// that works.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/offkit/offkit/internal/s3test"
)

type hostileS3 struct {
	srv     *httptest.Server
	written atomic.Int64
	reqs    atomic.Int64
	st      *S3
}

func newHostileS3(t *testing.T, h func(s *hostileS3, w http.ResponseWriter, req *http.Request)) *hostileS3 {
	t.Helper()
	s := &hostileS3{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.reqs.Add(1)
		h(s, &countingResponse{ResponseWriter: w, n: &s.written}, req)
	}))
	t.Cleanup(s.srv.Close)
	s3test.Setenv(t, s.srv.URL)
	st, err := NewS3(context.Background(), "releases", "")
	if err != nil {
		t.Fatal(err)
	}
	s.st = st
	return s
}

const listHead = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>releases</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys>`

func s3ListEntry(key string, size int) string {
	return fmt.Sprintf(`<Contents><Key>%s</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"x"</ETag><Size>%d</Size><StorageClass>STANDARD</StorageClass></Contents>`, key, size)
}

// TestS3AttackListSameTokenForever: the listing says IsTruncated with the
// same NextContinuationToken on every page. List must notice (or stop at a
// bound), not loop for as long as the server likes: the SDK paginator's
// StopOnDuplicateToken is off by default (here the server gives up after
// 3000 pages).
func TestS3AttackListSameTokenForever(t *testing.T) {
	const pages = 3000
	s := newHostileS3(t, func(s *hostileS3, w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("list-type") != "2" {
			http.NotFound(w, req)
			return
		}
		trunc := s.reqs.Load() < pages
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `%s<KeyCount>1</KeyCount><IsTruncated>%t</IsTruncated><NextContinuationToken>same</NextContinuationToken>%s</ListBucketResult>`,
			listHead, trunc, s3ListEntry("demo/1.2.3/demo-1.2.3.tar.zst", 10))
	})
	ctx := ctx10(t)
	rs, err := s.st.List(ctx)
	if n := s.reqs.Load(); n >= pages {
		t.Errorf("BUG: List fetched %d pages of a listing that repeats its continuation token (result %d kits, err %v): "+
			"store/s3.go List's NewListObjectsV2Paginator has StopOnDuplicateToken off and no page bound, so a hostile "+
			"endpoint keeps offkit list looping until Ctrl-C", n, len(rs), trim(err))
	}
}

// TestS3AttackListPageHuge: one listing page of 24 MiB (a real S3 page is
// at most 1000 keys, a few hundred KiB). List must refuse it at a bound,
// not decode it all.
func TestS3AttackListPageHuge(t *testing.T) {
	s := newHostileS3(t, func(s *hostileS3, w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("list-type") != "2" {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		stream(w, listHead+`<IsTruncated>false</IsTruncated>`, s3ListEntry("junk/"+strings.Repeat("k", 200), 1), `</ListBucketResult>`, 24*mib)
	})
	_, err := s.st.List(ctx10(t))
	if got := s.written.Load(); got > 8*mib || err == nil {
		t.Errorf("BUG (low): List decoded a %d MiB listing page (err %v): no bound on a page's size; the SDK builds every "+
			"<Contents> of it in memory", got/mib, trim(err))
	}
}

// TestS3AttackErrorControlCharacters: the endpoint's error message holds a
// carriage return and C1 controls (legal in XML). What offkit prints must
// not carry them raw (promise 6).
func TestS3AttackErrorControlCharacters(t *testing.T) {
	s := newHostileS3(t, func(s *hostileS3, w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>denied&#13;  ok   payload    verified&#x9b;2K</Message><RequestId>1</RequestId></Error>`)
	})
	_, err := s.st.List(ctx10(t))
	if err == nil {
		t.Fatal("List succeeded")
	}
	// The store keeps what the endpoint said, so that it can be reported;
	// where it is printed, offkit escapes it (cmd/offkit printable).
	if !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "verified") {
		t.Errorf("the endpoint's error is not kept: %q", err.Error())
	}
}

// TestS3AttackRangeLength: the endpoint answers a range GET with another
// length than asked. Refused. Defended.
func TestS3AttackRangeLength(t *testing.T) {
	s := newHostileS3(t, func(s *hostileS3, w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("list-type") == "2" {
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `%s<KeyCount>1</KeyCount><IsTruncated>false</IsTruncated>%s</ListBucketResult>`, listHead, s3ListEntry("demo/1.2.3/demo-1.2.3.tar.zst", 100))
			return
		}
		w.Header().Set("Content-Length", "5000")
		w.Header().Set("Content-Range", "bytes 0-4999/5000")
		w.WriteHeader(http.StatusPartialContent)
		w.Write(make([]byte, 5000))
	})
	obj, err := s.st.Open(ctx10(t), "demo", "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.Range(ctx10(t), 0, -1); err == nil {
		t.Error("a range answer of 5000 bytes for 100 asked was accepted")
	}
}
