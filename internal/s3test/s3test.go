// Package s3test runs a real S3 server for tests: VersityGW's posix
// backend (`make tools` installs the pinned versitygw into .cache/bin),
// listening on a free loopback port and storing its buckets in a test's
// temporary directory. It also has a TCP proxy that counts the bytes
// between a client and the server and can cut the connection, for the
// tests of what a failing network leaves behind.
package s3test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offkit/offkit/internal/testtool"
)

// The root credentials of every test server. They are test secrets, and
// the tests check that offkit's output never shows them.
const (
	AccessKey = "offkit-test-access"
	SecretKey = "offkit-test-secret-do-not-print"
	Region    = "us-east-1"
)

// Server is a running VersityGW.
type Server struct {
	// Endpoint is the server's URL, http://127.0.0.1:PORT.
	Endpoint string
	// Dir is the directory the buckets are kept in: bucket B's object K
	// is the file Dir/B/K.
	Dir string

	bin  string
	addr string
	mu   sync.Mutex
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan struct{}
}

// Binary returns the versitygw executable: on PATH, or in the repository's
// .cache/bin.
func Binary() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, ".cache", "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return "", fmt.Errorf("versitygw is not on PATH nor in %s; 'make tools' installs it", filepath.Dir(p))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("versitygw is not on PATH; 'make tools' installs it")
		}
		dir = parent
	}
}

// New starts a server, stopped when t ends. Without versitygw it skips
// the test, or fails it when OFFKIT_REQUIRE_INTEROP=1 or CI is set.
func New(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		testtool.Missing(t, err.Error())
	}
	s := &Server{Dir: t.TempDir(), bin: bin}
	var lastErr error
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s.addr = l.Addr().String()
		l.Close()
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("s3test: %v", lastErr)
	}
	s.Endpoint = "http://" + s.addr
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	log := &bytes.Buffer{}
	cmd := exec.Command(s.bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region,
		"--port", s.addr, "--quiet", "posix", s.Dir)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + s.Dir}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.log, s.done = cmd, log, done
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-done:
			return fmt.Errorf("versitygw on %s exited before it answered:\n%s", s.addr, log)
		default:
		}
		// Any answer (403 without credentials) means it is serving.
		if resp, err := client.Get("http://" + s.addr + "/"); err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("versitygw on %s did not answer in 30s:\n%s", s.addr, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (SIGKILL: like a crash, nothing is flushed).
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Restart starts the stopped server again on the same address and
// directory.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

// Env is the environment that points the AWS SDK's default chain (and so
// offkit) at endpoint (the server's, or a proxy's) with the test
// credentials, and nowhere else: no profile, no instance metadata.
func Env(endpoint string) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + SecretKey,
		"AWS_REGION=" + Region,
		"AWS_ENDPOINT_URL_S3=" + endpoint,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Setenv sets Env(endpoint) for the rest of t.
func Setenv(t testing.TB, endpoint string) {
	t.Helper()
	for _, kv := range Env(endpoint) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Client is an SDK client of the server, for the tests' own checks.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
}

// CreateBucket creates a bucket.
func (s *Server) CreateBucket(t testing.TB, bucket string) {
	t.Helper()
	if _, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
}

// Keys lists every key in bucket.
func (s *Server) Keys(t testing.TB, bucket string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.Client(), &s3.ListObjectsV2Input{Bucket: &bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s: %v", bucket, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// Uploads lists the keys of the multipart uploads in progress in bucket.
func (s *Server) Uploads(t testing.TB, bucket string) []string {
	t.Helper()
	out, err := s.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatalf("list multipart uploads of %s: %v", bucket, err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// Proxy is a TCP proxy in front of a server: it counts the bytes each way
// and can cut every connection once a number of bytes has gone up.
type Proxy struct {
	// Endpoint is the proxy's URL, to use instead of the server's.
	Endpoint string

	target   string
	l        net.Listener
	up, down atomic.Int64
	cutAt    atomic.Int64 // cut when up reaches this; 0 never
	mu       sync.Mutex
	conns    map[net.Conn]bool
}

// NewProxy starts a proxy to the server at endpoint (http://HOST:PORT),
// closed when t ends.
func NewProxy(t testing.TB, endpoint string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Endpoint: "http://" + l.Addr().String(), target: endpoint[len("http://"):], l: l, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

// Up and Down are the bytes sent to and from the server so far.
func (p *Proxy) Up() int64   { return p.up.Load() }
func (p *Proxy) Down() int64 { return p.down.Load() }

// Reset zeroes the counts.
func (p *Proxy) Reset() { p.up.Store(0); p.down.Store(0) }

// CutAfter makes the proxy close every connection, and refuse new ones,
// once n more bytes have gone up to the server.
func (p *Proxy) CutAfter(n int64) { p.cutAt.Store(p.up.Load() + n) }

func (p *Proxy) cut() bool {
	at := p.cutAt.Load()
	return at > 0 && p.up.Load() >= at
}

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() {
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *Proxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *Proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		if p.cut() {
			c.Close()
			continue
		}
		go p.handle(c)
	}
}

func (p *Proxy) handle(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.track(c, true)
	p.track(s, true)
	defer func() {
		c.Close()
		s.Close()
		p.track(c, false)
		p.track(s, false)
	}()
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				p.up.Add(int64(n))
				if p.cut() {
					c.Close()
					s.Close()
					return
				}
				if _, werr := s.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				s.(*net.TCPConn).CloseWrite()
				return
			}
		}
	}()
	io.Copy(countWriter{c, &p.down}, s)
}

type countWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}
