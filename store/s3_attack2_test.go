package store

// Second-pass attacks on the S3 medium's fixes (boundedS3, the claim
// object). A test that fails is an attack that works.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// hostileS3Publish answers a whole publish (list, create, part, claim,
// complete, abort) as a plain S3 would, except that complete is answered
// by complete.
func hostileS3Publish(t *testing.T, complete func(w http.ResponseWriter)) *hostileS3 {
	return newHostileS3(t, func(s *hostileS3, w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		q := req.URL.Query()
		w.Header().Set("Content-Type", "application/xml")
		switch {
		case req.Method == http.MethodGet && q.Get("list-type") == "2":
			fmt.Fprintf(w, `%s<KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`, listHead)
		case req.Method == http.MethodPost && q.Has("uploads"):
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>releases</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>`)
		case req.Method == http.MethodPut && q.Has("partNumber"):
			w.Header().Set("ETag", `"p1"`)
		case req.Method == http.MethodPut:
			w.Header().Set("ETag", `"c"`) // the claim, the record
		case req.Method == http.MethodPost && q.Has("uploadId"):
			complete(w)
		case req.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, req)
		}
	})
}

func s3Publish(ctx context.Context, st *S3) error {
	up, err := st.Begin(ctx, "demo", "1.2.3", ".tar.zst")
	if err != nil {
		return err
	}
	up.Write([]byte("kit bytes"))
	if err := up.Commit(ctx, nil); err != nil {
		up.Abort()
		return err
	}
	return nil
}

// TestS3Attack2CompleteBodyUnbounded: the endpoint answers
// CompleteMultipartUpload (POST ?uploadId=) 200 with a 48 MiB body, as
// the result document and as S3's "200 with an <Error>" form. boundedS3
// bounds only error statuses and listings: the SDK's 200-error check
// (TeeReader into a bytes.Buffer) and its XML decoder read it all, and
// the <Error> form makes an error message of all of it.
func TestS3Attack2CompleteBodyUnbounded(t *testing.T) {
	for _, c := range []struct{ name, head, chunk, tail string }{
		{"result", `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Location>`, strings.Repeat("A", 4096), `</Location></CompleteMultipartUploadResult>`},
		{"error-in-200", `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>`, strings.Repeat("A", 4096), `</Message></Error>`},
		{"before-root", `<?xml version="1.0" encoding="UTF-8"?>`, strings.Repeat(" ", 4096), `<CompleteMultipartUploadResult/>`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := hostileS3Publish(t, func(w http.ResponseWriter) { stream(w, c.head, c.chunk, c.tail, 48*mib) })
			err := s3Publish(ctx10(t), s.st)
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if got := s.written.Load(); got > 24*mib || len(msg) > 1<<20 {
				t.Errorf("BUG (medium): a hostile S3 endpoint's 200 answer to CompleteMultipartUpload was read whole: %d MiB read, "+
					"error of %d bytes (publish holds it in memory; an endless body is an OOM): store/s3.go boundedS3.Do bounds only "+
					"status >= 300 and list-type=2/?uploads; cap every non-GetObject 2xx body too (e.g. POST ?uploadId, PUT)",
					got/mib, len(msg))
			}
		})
	}
}

// TestS3Attack2ClaimObjectHuge: the endpoint holds a claim object of
// 48 MiB naming the very kit file first: claim reads 256 bytes of it, so
// it is not this file's claim, and Commit refuses (ErrExists) rather than
// reading on or completing. Defended.
func TestS3Attack2ClaimObjectHuge(t *testing.T) {
	s := newHostileS3(t, func(s *hostileS3, w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		q := req.URL.Query()
		w.Header().Set("Content-Type", "application/xml")
		switch {
		case req.Method == http.MethodGet && q.Get("list-type") == "2":
			fmt.Fprintf(w, `%s<KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`, listHead)
		case req.Method == http.MethodPost && q.Has("uploads"):
			fmt.Fprint(w, `<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>`)
		case req.Method == http.MethodPut && q.Has("partNumber"):
			w.Header().Set("ETag", `"p1"`)
		case req.Method == http.MethodPut: // the claim: taken
			w.WriteHeader(http.StatusPreconditionFailed)
			fmt.Fprint(w, `<Error><Code>PreconditionFailed</Code></Error>`)
		case req.Method == http.MethodGet: // the claim object
			w.Header().Set("Content-Type", "application/octet-stream")
			stream(w, "demo-1.2.3.tar.zst", "\n", "", 48*mib)
		case req.Method == http.MethodPost && q.Has("uploadId"):
			t.Error("BUG: the upload was completed over another's claim")
		case req.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	err := s3Publish(ctx10(t), s.st)
	if !errors.Is(err, ErrExists) {
		t.Errorf("publish over a taken claim: %v, want ErrExists", trim(err))
	}
	if got := s.written.Load(); got > 16*mib {
		t.Errorf("BUG: the claim object was read to %d MiB", got/mib)
	}
}
