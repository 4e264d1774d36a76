package store

// # The S3 medium (s3://BUCKET[/PREFIX])
//
// A kit is published as the object PREFIX/<name>/<version>/<KitFile>, and
// its release record as PREFIX/<name>/<version>/<RecordFile>: the same
// layout as a directory store, so `aws s3 sync` of a prefix gives a
// directory offkit reads as file://.
//
// Publishing streams the kit once, in one multipart upload: parts of
// PartSize bytes, PartsInFlight of them uploading at once, each with its
// SHA-256 checksum (x-amz-checksum-sha256), which the server checks
// before it accepts the part. Nothing is visible until Commit completes
// the upload with If-None-Match: * (S3's conditional write): the server
// refuses it (412) if the key exists, so two publishers of one version
// have one winner. Abort aborts the multipart upload, which deletes its
// parts. A publisher killed before either leaves an incomplete upload,
// invisible to readers; a bucket lifecycle rule
// (AbortIncompleteMultipartUpload) removes those.
//
// Credentials, region and endpoint come from the AWS SDK's default chain:
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or
// AWS_PROFILE, AWS_REGION (us-east-1 when unset), and AWS_ENDPOINT_URL_S3
// or AWS_ENDPOINT_URL for an S3-compatible server (path-style addressing
// is used then). offkit never prints them.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/logging"
)

// PartSize is the size of each part of a multipart upload: S3 allows
// 10,000 parts, so kits up to 78 GiB; with PartsInFlight, the upload holds
// 40 MiB of buffers, so that a publish stays under 128 MiB whatever the
// kit's size.
const PartSize = 8 << 20

// PartsInFlight is how many parts upload at once; an upload holds
// PartsInFlight+1 part buffers.
const PartsInFlight = 4

// maxParts is S3's limit on the parts of one upload.
const maxParts = 10000

// maxListKeys bounds the keys List reads.
const maxListKeys = 1 << 20

// S3 is a store in an S3 bucket, under a key prefix (s3://).
type S3 struct {
	c        *s3.Client
	bucket   string
	prefix   string // "" or ending in "/"
	partSize int    // PartSize; smaller in tests
}

// NewS3 returns the store in bucket under prefix ("" for the whole
// bucket), configured from the environment (see the medium's comment).
func NewS3(ctx context.Context, bucket, prefix string) (*S3, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		// offkit checks every byte of a kit itself; the SDK's response
		// checksums would only warn, on stderr, about multipart objects.
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		config.WithLogger(logging.Nop{}))
	if err != nil {
		return nil, fmt.Errorf("s3://%s: configuration: %w", bucket, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		// An S3-compatible server on a host of its own (MinIO, VersityGW,
		// Ceph) wants path-style requests.
		o.UsePathStyle = o.BaseEndpoint != nil
		o.HTTPClient = boundedS3{next: o.HTTPClient}
	})
	return newS3(c, bucket, prefix), nil
}

func newS3(c *s3.Client, bucket, prefix string) *S3 {
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &S3{c: c, bucket: bucket, prefix: prefix, partSize: PartSize}
}

// URL implements Store.
func (s *S3) URL(name, version string) string {
	u := "s3://" + s.bucket
	if s.prefix != "" {
		u += "/" + strings.TrimSuffix(s.prefix, "/")
	}
	if name == "" {
		return u
	}
	return u + "/" + name + "/" + version
}

func (s *S3) dir(name, version string) string { return s.prefix + name + "/" + version + "/" }

// s3Error says what failed where, without the SDK's request IDs' noise,
// and maps a 404 to ErrNotFound and a 412 to ErrExists.
func (s *S3) s3Error(what string, err error) error {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			var nb *types.NoSuchBucket
			if errors.As(err, &nb) || strings.Contains(err.Error(), "NoSuchBucket") {
				return fmt.Errorf("%s: no bucket %q: %w", what, s.bucket, ErrNotFound)
			}
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		case http.StatusPreconditionFailed:
			return fmt.Errorf("%s: %w", what, ErrExists)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// find returns the key of the kit name/version and its size, or "" if
// none is published.
func (s *S3) find(ctx context.Context, name, version string) (key string, size int64, err error) {
	if err := CheckRelease(name, version); err != nil {
		return "", 0, err
	}
	dir := s.dir(name, version)
	// Only the kit files: <name>-<version>.tar*, at most one per extension.
	prefix := dir + name + "-" + version + ".tar"
	out, err := s.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix, MaxKeys: aws.Int32(int32(len(Exts)))})
	if err != nil {
		return "", 0, s.s3Error(s.URL(name, version), err)
	}
	var names []string
	sizes := map[string]int64{}
	for _, o := range out.Contents {
		n := strings.TrimPrefix(aws.ToString(o.Key), dir)
		names, sizes[n] = append(names, n), aws.ToInt64(o.Size)
	}
	claim := ""
	if len(names) > 1 {
		claim = s.claim(ctx, name, version)
	}
	file := pickKit(names, claim, name, version)
	if file == "" {
		return "", 0, nil
	}
	return dir + file, sizes[file], nil
}

// claim returns the version's claimed kit file (claimFile), "" if none.
func (s *S3) claim(ctx context.Context, name, version string) string {
	key := s.dir(name, version) + claimFile
	out, err := s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return ""
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(out.Body, 256))
	return strings.TrimSuffix(string(b), "\n")
}

// Begin implements Store.
func (s *S3) Begin(ctx context.Context, name, version, ext string) (Upload, error) {
	if err := checkExt(ext); err != nil {
		return nil, err
	}
	have, _, err := s.find(ctx, name, version)
	if err != nil {
		return nil, err
	}
	if have != "" {
		return existing{url: s.URL(name, version)}, nil
	}
	key := s.dir(name, version) + KitFile(name, version, ext)
	out, err := s.c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ContentType: aws.String(kitContentType(ext)),
	})
	if err != nil {
		return nil, s.s3Error(s.URL(name, version), err)
	}
	u := &s3Upload{s: s, name: name, version: version, key: key, id: out.UploadId,
		free: make(chan []byte, PartsInFlight+1), sem: make(chan struct{}, PartsInFlight)}
	// Parts upload under the publishing context: cancelling it stops them.
	u.ctx, u.stop = context.WithCancel(ctx)
	for range PartsInFlight + 1 {
		u.free <- nil // allocated on first use: a small kit needs one buffer
	}
	return u, nil
}

func kitContentType(ext string) string {
	switch ext {
	case ".tar.zst":
		return "application/zstd"
	case ".tar.gz":
		return "application/gzip"
	}
	return "application/x-tar"
}

type s3Upload struct {
	s             *S3
	name, version string
	key           string
	id            *string

	free chan []byte // part buffers
	sem  chan struct{}
	buf  []byte // the part being filled
	n    int32  // parts sent
	wg   sync.WaitGroup

	mu    sync.Mutex
	parts []types.CompletedPart
	err   error // the first part's failure
	ctx   context.Context
	stop  context.CancelFunc
	done  bool
}

func (u *s3Upload) failed() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

// Write implements Upload: it fills a part buffer and, when it is full,
// uploads it in the background.
func (u *s3Upload) Write(p []byte) (int, error) {
	if err := u.failed(); err != nil {
		return 0, err
	}
	written := 0
	for len(p) > 0 {
		if u.buf == nil {
			b := <-u.free
			if b == nil {
				b = make([]byte, 0, u.s.partSize)
			}
			u.buf = b[:0]
		}
		k := min(len(p), u.s.partSize-len(u.buf))
		u.buf = append(u.buf, p[:k]...)
		p, written = p[k:], written+k
		if len(u.buf) == u.s.partSize {
			if err := u.send(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// send uploads the filled buffer as the next part.
func (u *s3Upload) send() error {
	if u.n == maxParts {
		return fmt.Errorf("%s: the kit is larger than S3's %d parts of %d bytes", u.s.URL(u.name, u.version), maxParts, u.s.partSize)
	}
	u.n++
	n, buf := u.n, u.buf
	u.buf = nil
	u.sem <- struct{}{}
	u.wg.Add(1)
	go func() {
		defer func() { u.free <- buf; <-u.sem; u.wg.Done() }()
		sum := sha256.Sum256(buf)
		cs := base64.StdEncoding.EncodeToString(sum[:])
		out, err := u.s.c.UploadPart(u.ctx, &s3.UploadPartInput{
			Bucket: &u.s.bucket, Key: &u.key, UploadId: u.id, PartNumber: aws.Int32(n),
			Body: bytes.NewReader(buf), ContentLength: aws.Int64(int64(len(buf))),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: &cs,
		})
		u.mu.Lock()
		defer u.mu.Unlock()
		if err != nil {
			if u.err == nil {
				u.err = u.s.s3Error(fmt.Sprintf("%s: part %d", u.s.URL(u.name, u.version), n), err)
				u.stop() // the other parts are pointless now
			}
			return
		}
		u.parts = append(u.parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumSHA256: &cs})
	}()
	return nil
}

// Commit implements Upload: it uploads the last part, waits for all of
// them, and completes the upload if the key is still absent.
func (u *s3Upload) Commit(ctx context.Context, record []byte) error {
	if len(u.buf) > 0 || u.n == 0 {
		if u.buf == nil {
			u.buf = []byte{}
		}
		if err := u.send(); err != nil {
			u.Abort()
			return err
		}
	}
	stopWith := context.AfterFunc(ctx, u.stop)
	u.wg.Wait()
	stopWith()
	if err := u.failed(); err != nil {
		u.Abort()
		return err
	}
	if err := ctx.Err(); err != nil {
		u.Abort()
		return err
	}
	slices.SortFunc(u.parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	// Claim the version for this file, create-only: a claim for another
	// file means the version was published under another compression.
	file := path.Base(u.key)
	claimKey := u.s.dir(u.name, u.version) + claimFile
	_, err := u.s.c.PutObject(ctx, &s3.PutObjectInput{Bucket: &u.s.bucket, Key: &claimKey,
		Body: strings.NewReader(file + "\n"), ContentLength: aws.Int64(int64(len(file) + 1)), IfNoneMatch: aws.String("*")})
	if err != nil {
		err = u.s.s3Error(u.s.URL(u.name, u.version), err)
		if errors.Is(err, ErrExists) && u.s.claim(ctx, u.name, u.version) == file {
			err = nil // an earlier try of this very file: the completion decides
		}
	}
	if err != nil {
		u.Abort()
		return err
	}
	_, err = u.s.c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &u.s.bucket, Key: &u.key, UploadId: u.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
		IfNoneMatch:     aws.String("*"),
	})
	if err != nil {
		u.Abort()
		return u.s.s3Error(u.s.URL(u.name, u.version), err)
	}
	u.done = true
	if record != nil {
		if err := u.s.PutRecord(ctx, u.name, u.version, record); err != nil {
			return fmt.Errorf("%w: %w", ErrNoRecord, err)
		}
	}
	return nil
}

// Abort implements Upload: it aborts the multipart upload, which deletes
// the parts uploaded so far.
func (u *s3Upload) Abort() error {
	if u.done {
		return nil
	}
	u.done = true
	u.stop()
	u.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := u.s.c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &u.s.bucket, Key: &u.key, UploadId: u.id})
	if err != nil {
		return u.s.s3Error(u.s.URL(u.name, u.version)+": aborting the upload", err)
	}
	return nil
}

// Open implements Store.
func (s *S3) Open(ctx context.Context, name, version string) (Object, error) {
	key, size, err := s.find(ctx, name, version)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, notFound(s.URL(name, version))
	}
	return &s3Object{s: s, key: key, size: size, url: s.URL(name, version)}, nil
}

type s3Object struct {
	s    *S3
	key  string
	size int64
	url  string
}

func (o *s3Object) Size() int64 { return o.size }
func (o *s3Object) URL() string { return o.url }

// Range implements Object: a GET with a Range header.
func (o *s3Object) Range(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	n, err := clampRange(o.url, off, n, o.size)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	out, err := o.s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &o.s.bucket, Key: &o.key,
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1))})
	if err != nil {
		return nil, o.s.s3Error(o.url, err)
	}
	if out.ContentLength != nil && *out.ContentLength != n {
		out.Body.Close()
		return nil, fmt.Errorf("%s: asked for %d bytes at %d, the server sends %d (the object changed?)", o.url, n, off, *out.ContentLength)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(out.Body, n), out.Body}, nil
}

// Record implements Store.
func (s *S3) Record(ctx context.Context, name, version string) ([]byte, error) {
	if err := CheckRelease(name, version); err != nil {
		return nil, err
	}
	key := s.dir(name, version) + RecordFile(name, version)
	out, err := s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, s.s3Error(s.URL(name, version)+"/"+RecordFile(name, version), err)
	}
	defer out.Body.Close()
	return readLimited(out.Body, s.URL(name, version)+"/"+RecordFile(name, version))
}

// PutRecord implements Store: a PutObject with If-None-Match: *.
func (s *S3) PutRecord(ctx context.Context, name, version string, record []byte) error {
	if err := CheckRelease(name, version); err != nil {
		return err
	}
	key := s.dir(name, version) + RecordFile(name, version)
	sum := sha256.Sum256(record)
	_, err := s.c.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key,
		Body: bytes.NewReader(record), ContentLength: aws.Int64(int64(len(record))),
		ContentType:       aws.String("application/vnd.in-toto+json"),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		IfNoneMatch: aws.String("*"),
	})
	if err != nil {
		return s.s3Error(s.URL(name, version)+"/"+RecordFile(name, version), err)
	}
	return nil
}

// List implements Store: every PREFIX/<name>/<version>/<KitFile> key.
// Other keys under the prefix are ignored.
func (s *S3) List(ctx context.Context) ([]Release, error) {
	type entry struct {
		size     map[string]int64
		modified map[string]time.Time
	}
	found := map[[2]string]*entry{}
	p := s3.NewListObjectsV2Paginator(s.c, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &s.prefix, MaxKeys: aws.Int32(listPageKeys)},
		func(o *s3.ListObjectsV2PaginatorOptions) { o.StopOnDuplicateToken = true })
	// The listing comes from the server: bounded, as everything read from a
	// store is (a million keys is a store of 300,000 kits).
	keys := 0
	for p.HasMorePages() {
		if keys > maxListKeys {
			return nil, fmt.Errorf("%s: more than %d keys under the prefix; list a narrower prefix", s.URL("", ""), maxListKeys)
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.s3Error(s.URL("", ""), err)
		}
		keys += len(page.Contents)
		for _, o := range page.Contents {
			parts := strings.Split(strings.TrimPrefix(aws.ToString(o.Key), s.prefix), "/")
			if len(parts) != 3 || CheckRelease(parts[0], parts[1]) != nil {
				continue
			}
			k := [2]string{parts[0], parts[1]}
			e := found[k]
			if e == nil {
				e = &entry{size: map[string]int64{}, modified: map[string]time.Time{}}
				found[k] = e
			}
			e.size[parts[2]] = aws.ToInt64(o.Size)
			e.modified[parts[2]] = aws.ToTime(o.LastModified)
		}
	}
	var out []Release
	for k, e := range found {
		var names []string
		for n := range e.modified {
			names = append(names, n)
		}
		claim := ""
		if kitFiles(names, k[0], k[1]) > 1 {
			claim = s.claim(ctx, k[0], k[1])
		}
		file := pickKit(names, claim, k[0], k[1])
		if file == "" {
			continue
		}
		out = append(out, Release{Name: k[0], Version: k[1], URL: s.URL(k[0], k[1]), File: file,
			Size: e.size[file], Modified: e.modified[file].UTC(), Record: hasKey(e.modified, RecordFile(k[0], k[1]))})
	}
	sortReleases(out)
	return out, nil
}

func hasKey[V any](m map[string]V, k string) bool { _, ok := m[k]; return ok }

// isGetObject reports whether req reads an object's bytes (GetObject: a
// GET of a key with no query but the SDK's x-id): the kit streams
// unbounded, verified as it is read; records and claims are read bounded.
func isGetObject(req *http.Request) bool {
	if req.Method != http.MethodGet {
		return false
	}
	for k, v := range req.URL.Query() {
		if k != "x-id" || len(v) != 1 || v[0] != "GetObject" {
			return false
		}
	}
	return true
}

// maxS3Answer bounds any other answer that is not an object's bytes.
const maxS3Answer = 64 << 10

// listPageKeys is the keys List asks for per page, and maxS3Listing bounds
// one page: 200 keys of up to 1 KiB, even if every byte of each is escaped
// in the XML, and the other fields.
const (
	listPageKeys = 200
	maxS3Listing = 2 << 20
)

// boundedS3 limits what an S3 endpoint sends besides objects: error bodies
// are cut to maxErrorBody and listing pages fail past maxS3Listing.
type boundedS3 struct{ next s3.HTTPClient }

func (b boundedS3) Do(req *http.Request) (*http.Response, error) {
	resp, err := b.next.Do(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode >= 300:
		resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxErrorBody), c: resp.Body}
	case isGetObject(req):
	case req.Method == http.MethodGet && (req.URL.Query().Get("list-type") == "2" || req.URL.Query().Has("uploads")):
		resp.Body = limitedBody{Reader: &capReader{r: resp.Body, left: maxS3Listing, what: "listing of " + req.URL.Path}, c: resp.Body}
	default:
		// The small XML answers of the upload's steps: a hostile
		// endpoint's endless CompleteMultipartUpload result would
		// otherwise be read whole.
		resp.Body = limitedBody{Reader: &capReader{r: resp.Body, left: maxS3Answer, what: "answer to " + req.Method + " " + req.URL.Path}, c: resp.Body}
	}
	return resp, nil
}
