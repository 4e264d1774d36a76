package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/offkit/offkit/internal/s3test"
)

// testPart is S3's smallest part size: a 12 MiB kit is three parts, the
// last one short.
const testPart = 5 << 20

type s3Fixture struct {
	srv    *s3test.Server
	bucket string
	st     *S3
}

// newS3Fixture starts a server with a bucket, and returns the store under
// prefix in it, configured from the environment as offkit's is.
func newS3Fixture(t *testing.T, endpoint func(*s3test.Server) string, prefix string) *s3Fixture {
	t.Helper()
	srv := s3test.New(t)
	srv.CreateBucket(t, "releases")
	ep := srv.Endpoint
	if endpoint != nil {
		ep = endpoint(srv)
	}
	s3test.Setenv(t, ep)
	st, err := NewS3(context.Background(), "releases", prefix)
	if err != nil {
		t.Fatal(err)
	}
	st.partSize = testPart
	return &s3Fixture{srv: srv, bucket: "releases", st: st}
}

func TestS3RoundTrip(t *testing.T) {
	f := newS3Fixture(t, nil, "/team/concelier/")
	data := kitBytes(1, 12<<20+123)
	record := []byte(`{"record":1}`)
	if err := publishOCI(t, f.st, "concelier-lnm", "1.4.0+build.7", ".tar.zst", data, record); err != nil {
		t.Fatal(err)
	}
	// The layout: the kit and its record, as a directory store has them.
	keys := f.srv.Keys(t, f.bucket)
	want := []string{"team/concelier/concelier-lnm/1.4.0+build.7/.offkit-kit",
		"team/concelier/concelier-lnm/1.4.0+build.7/concelier-lnm-1.4.0+build.7.release.json",
		"team/concelier/concelier-lnm/1.4.0+build.7/concelier-lnm-1.4.0+build.7.tar.zst"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys = %q, want %q", keys, want)
	}
	// The object is the kit, byte for byte, and the server kept each
	// part's SHA-256 checksum.
	got, err := os.ReadFile(filepath.Join(f.srv.Dir, f.bucket, want[2]))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("stored object: %d bytes, %v; want the kit's %d", len(got), err, len(data))
	}
	attrs, err := f.srv.Client().GetObjectAttributes(context.Background(), &s3.GetObjectAttributesInput{
		Bucket: &f.bucket, Key: &want[2], ObjectAttributes: []s3types.ObjectAttributes{s3types.ObjectAttributesChecksum}})
	if err != nil {
		t.Fatal(err)
	}
	head, err := f.srv.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &f.bucket, Key: &want[2]})
	if err != nil {
		t.Fatal(err)
	}
	if etag := aws.ToString(head.ETag); !strings.HasSuffix(strings.Trim(etag, `"`), "-3") {
		t.Errorf("ETag %s: not a multipart object of 3 parts", etag)
	}
	if attrs.Checksum == nil || attrs.Checksum.ChecksumSHA256 == nil {
		t.Errorf("no SHA-256 checksum kept: %+v", attrs.Checksum)
	}
	if u := f.srv.Uploads(t, f.bucket); len(u) != 0 {
		t.Errorf("uploads left: %q", u)
	}

	obj, err := f.st.Open(context.Background(), "concelier-lnm", "1.4.0+build.7")
	if err != nil {
		t.Fatal(err)
	}
	if obj.Size() != int64(len(data)) || obj.URL() != "s3://releases/team/concelier/concelier-lnm/1.4.0+build.7" {
		t.Errorf("Size, URL = %d, %q", obj.Size(), obj.URL())
	}
	for _, r := range [][2]int64{{0, -1}, {0, 1}, {5<<20 - 3, 10}, {int64(len(data)) - 5, -1}, {int64(len(data)) - 5, 100}, {int64(len(data)), -1}} {
		end := int64(len(data))
		if r[1] >= 0 {
			end = min(end, r[0]+r[1])
		}
		if got := readRange(t, obj, r[0], r[1]); !bytes.Equal(got, data[r[0]:end]) {
			t.Errorf("Range(%d, %d): %d bytes, want %d", r[0], r[1], len(got), end-r[0])
		}
	}
	if _, err := obj.Range(context.Background(), int64(len(data))+1, 1); err == nil {
		t.Error("Range past the end: no error")
	}
	rec, err := f.st.Record(context.Background(), "concelier-lnm", "1.4.0+build.7")
	if err != nil || !bytes.Equal(rec, record) {
		t.Errorf("Record = %q, %v", rec, err)
	}
	if err := f.st.PutRecord(context.Background(), "concelier-lnm", "1.4.0+build.7", []byte("other")); !errors.Is(err, ErrExists) {
		t.Errorf("PutRecord over a record: %v, want ErrExists", err)
	}
	if _, err := f.st.Open(context.Background(), "concelier-lnm", "1.4.1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open of an unpublished version: %v, want ErrNotFound", err)
	}
	if _, err := f.st.Record(context.Background(), "concelier-lnm", "1.4.1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Record of an unpublished version: %v, want ErrNotFound", err)
	}
}

func TestS3List(t *testing.T) {
	f := newS3Fixture(t, nil, "kits")
	for _, v := range []string{"1.10.0", "1.9.0", "1.10.0-rc.1"} {
		var rec []byte
		if v == "1.9.0" {
			rec = []byte("{}")
		}
		if err := publishOCI(t, f.st, "app", v, ".tar.gz", kitBytes(2, 100), rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := publishOCI(t, f.st, "api", "0.1.0", ".tar", kitBytes(3, 10), nil); err != nil {
		t.Fatal(err)
	}
	// Foreign keys under the prefix and outside it are not kits.
	for _, k := range []string{"kits/README", "kits/app/2.0.0/notes.txt", "kits/app/x/app-x.tar.zst", "other/app/3.0.0/app-3.0.0.tar.zst", "kits/a/b/c/d"} {
		if _, err := f.srv.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: &f.bucket, Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := f.st.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.Name+" "+r.Version+" "+r.File+" "+r.URL)
		if r.Modified.IsZero() || time.Since(r.Modified) > time.Hour || r.Size == 0 {
			t.Errorf("%s %s: size %d, modified %v", r.Name, r.Version, r.Size, r.Modified)
		}
		if r.Record != (r.Version == "1.9.0") {
			t.Errorf("%s %s: Record = %v", r.Name, r.Version, r.Record)
		}
	}
	want := []string{
		"api 0.1.0 api-0.1.0.tar s3://releases/kits/api/0.1.0",
		"app 1.9.0 app-1.9.0.tar.gz s3://releases/kits/app/1.9.0",
		"app 1.10.0-rc.1 app-1.10.0-rc.1.tar.gz s3://releases/kits/app/1.10.0-rc.1",
		"app 1.10.0 app-1.10.0.tar.gz s3://releases/kits/app/1.10.0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("List:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestS3CreateOnly: a published version is never replaced, whether the
// second publisher starts after the first committed or both upload at
// once; the loser's parts are gone.
func TestS3CreateOnly(t *testing.T) {
	f := newS3Fixture(t, nil, "")
	first := kitBytes(4, 6<<20)
	if err := publishOCI(t, f.st, "app", "1.0.0", ".tar.zst", first, nil); err != nil {
		t.Fatal(err)
	}
	for _, ext := range Exts {
		if err := publishOCI(t, f.st, "app", "1.0.0", ext, kitBytes(5, 100), nil); !errors.Is(err, ErrExists) {
			t.Errorf("second publish as %s: %v, want ErrExists", ext, err)
		}
	}

	// Two uploads begun before either commits: one wins.
	ctx := context.Background()
	var ups []Upload
	for range 2 {
		up, err := f.st.Begin(ctx, "app", "2.0.0", ".tar.zst")
		if err != nil {
			t.Fatal(err)
		}
		ups = append(ups, up)
	}
	datas := [][]byte{kitBytes(6, 7<<20), kitBytes(7, 7<<20)}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, up := range ups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := up.Write(datas[i]); err != nil {
				errs[i] = err
				return
			}
			errs[i] = up.Commit(ctx, nil)
			up.Abort()
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if won >= 0 {
				t.Fatal("both concurrent publishes succeeded")
			}
			won = i
		case !errors.Is(err, ErrExists):
			t.Errorf("publish %d: %v, want nil or ErrExists", i, err)
		}
	}
	if won < 0 {
		t.Fatalf("no publish won: %v", errs)
	}
	got, err := os.ReadFile(filepath.Join(f.srv.Dir, f.bucket, "app/2.0.0/app-2.0.0.tar.zst"))
	if err != nil || !bytes.Equal(got, datas[won]) {
		t.Errorf("the object is not the winner's kit (%v)", err)
	}
	if u := f.srv.Uploads(t, f.bucket); len(u) != 0 {
		t.Errorf("uploads left: %q", u)
	}
}

// TestS3Abort: an aborted upload, and one whose context is cancelled,
// leave no key and no multipart upload.
func TestS3Abort(t *testing.T) {
	f := newS3Fixture(t, nil, "")
	ctx, cancel := context.WithCancel(context.Background())
	up, err := f.st.Begin(ctx, "app", "1.0.0", ".tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.Write(kitBytes(8, 11<<20)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := up.Commit(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit after cancel: %v, want context.Canceled", err)
	}
	if err := up.Abort(); err != nil {
		t.Errorf("Abort: %v", err)
	}
	up, err = f.st.Begin(context.Background(), "app", "1.0.1", ".tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.Write(kitBytes(9, 6<<20)); err != nil {
		t.Fatal(err)
	}
	if err := up.Abort(); err != nil {
		t.Errorf("Abort: %v", err)
	}
	if k := f.srv.Keys(t, f.bucket); len(k) != 0 {
		t.Errorf("keys left: %q", k)
	}
	if u := f.srv.Uploads(t, f.bucket); len(u) != 0 {
		t.Errorf("uploads left: %q", u)
	}
}

// TestS3NetworkFails: the connection dies in the middle of the upload and
// stays dead; the publish fails, naming where, and nothing is visible
// once the network is back.
func TestS3NetworkFails(t *testing.T) {
	var proxy *s3test.Proxy
	f := newS3Fixture(t, func(s *s3test.Server) string { proxy = s3test.NewProxy(t, s.Endpoint); return proxy.Endpoint }, "")
	up, err := f.st.Begin(context.Background(), "app", "1.0.0", ".tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	proxy.CutAfter(7 << 20)
	_, werr := up.Write(kitBytes(10, 30<<20))
	cerr := up.Commit(context.Background(), nil)
	if werr == nil && cerr == nil {
		t.Fatal("the upload succeeded through a dead network")
	}
	err = errors.Join(werr, cerr)
	if !strings.Contains(err.Error(), "s3://releases/app/1.0.0") {
		t.Errorf("error does not say where: %v", err)
	}
	if strings.Contains(err.Error(), s3test.SecretKey) {
		t.Errorf("error shows the secret key: %v", err)
	}
	if k := f.srv.Keys(t, f.bucket); len(k) != 0 {
		t.Errorf("visible after a failed upload: %q", k)
	}
}

// TestS3ServerKilled: the server dies mid-upload; after it restarts,
// nothing is visible, and a new publish of the version succeeds.
func TestS3ServerKilled(t *testing.T) {
	f := newS3Fixture(t, nil, "")
	up, err := f.st.Begin(context.Background(), "app", "1.0.0", ".tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.Write(kitBytes(11, 10<<20)); err != nil {
		t.Fatal(err)
	}
	f.srv.Stop()
	_, werr := up.Write(kitBytes(12, 10<<20))
	cerr := up.Commit(context.Background(), nil)
	if werr == nil && cerr == nil {
		t.Fatal("the upload succeeded with the server down")
	}
	up.Abort()
	f.srv.Restart(t)
	if k := f.srv.Keys(t, f.bucket); len(k) != 0 {
		t.Errorf("visible after the server died: %q", k)
	}
	data := kitBytes(13, 6<<20)
	if err := publishOCI(t, f.st, "app", "1.0.0", ".tar.zst", data, nil); err != nil {
		t.Fatalf("publish after restart: %v", err)
	}
}

// TestS3Errors: a missing bucket and wrong credentials are errors that
// name the bucket and never show the secret.
func TestS3Errors(t *testing.T) {
	f := newS3Fixture(t, nil, "")
	st, err := NewS3(context.Background(), "nosuchbucket", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Begin(context.Background(), "app", "1.0.0", ".tar.zst"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"nosuchbucket"`) {
		t.Errorf("Begin in a missing bucket: %v", err)
	}
	if _, err := st.List(context.Background()); !errors.Is(err, ErrNotFound) {
		t.Errorf("List of a missing bucket: %v", err)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-"+s3test.SecretKey)
	st, err = NewS3(context.Background(), f.bucket, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Begin(context.Background(), "app", "1.0.0", ".tar.zst")
	if err == nil || strings.Contains(err.Error(), s3test.SecretKey) || !strings.Contains(err.Error(), "s3://releases/app/1.0.0") {
		t.Errorf("Begin with a wrong secret: %v", err)
	}
	if _, err := st.Begin(context.Background(), "App", "1.0.0", ".tar.zst"); err == nil {
		t.Error("Begin of a name a kit cannot have: no error")
	}
	if _, err := st.Begin(context.Background(), "app", "1.0.0", ".zip"); err == nil {
		t.Error("Begin with an unknown extension: no error")
	}
}

// TestS3InteropCurl: a kit offkit published is an ordinary object: curl
// with its own SigV4 signing gets it byte for byte.
func TestS3InteropCurl(t *testing.T) {
	curl := needTool(t, "curl")
	f := newS3Fixture(t, nil, "p")
	data := kitBytes(14, 1<<20)
	if err := publishOCI(t, f.st, "app", "1.0.0", ".tar.zst", data, nil); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "kit")
	// curl 7.88 does not send the payload hash S3 wants; it signs it.
	cmd := exec.Command(curl, "-sSf", "--aws-sigv4", "aws:amz:"+s3test.Region+":s3", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
		"--user", s3test.AccessKey+":"+s3test.SecretKey, "-o", out,
		f.srv.Endpoint+"/releases/p/app/1.0.0/app-1.0.0.tar.zst")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("curl: %v\n%s", err, b)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Errorf("curl got %d bytes, not the kit's %d", len(got), len(data))
	}
}

// TestCreateOnlyAcrossCompressions: a version published as .tar.gz while
// a .tar.zst publish of it was uploading stays the .tar.gz; the later one
// removes its own file and is ErrExists, in a directory and in S3.
func TestCreateOnlyAcrossCompressions(t *testing.T) {
	dir, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for medium, st := range map[string]Store{"dir": dir, "s3": newS3Fixture(t, nil, "").st} {
		t.Run(medium, func(t *testing.T) {
			ctx := context.Background()
			late, err := st.Begin(ctx, "app", "1.0.0", ".tar.zst")
			if err != nil {
				t.Fatal(err)
			}
			first := kitBytes(20, 1000)
			if err := publishOCI(t, st, "app", "1.0.0", ".tar.gz", first, nil); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1100 * time.Millisecond) // S3 keeps times to the second
			if _, err := late.Write(kitBytes(21, 1000)); err != nil {
				t.Fatal(err)
			}
			if err := late.Commit(ctx, nil); !errors.Is(err, ErrExists) {
				t.Fatalf("the later publish under another compression: %v, want ErrExists", err)
			}
			late.Abort()
			obj, err := st.Open(ctx, "app", "1.0.0")
			if err != nil {
				t.Fatal(err)
			}
			if got := readRange(t, obj, 0, -1); !bytes.Equal(got, first) {
				t.Error("the version is not the first published kit")
			}
			rs, err := st.List(ctx)
			if err != nil || len(rs) != 1 || rs[0].File != "app-1.0.0.tar.gz" {
				t.Errorf("List = %+v, %v", rs, err)
			}
		})
	}
}
