// Package registrytest runs a real OCI registry for tests: the CNCF
// distribution registry that Debian packages as /usr/bin/docker-registry
// (`make tools` installs it). Each registry listens on a free loopback port,
// stores its blobs in a test's temporary directory and is stopped when the
// test ends.
package registrytest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offkit/offkit/internal/testtool"
)

// Binary is the registry executable, as the Debian package docker-registry
// installs it.
const Binary = "/usr/bin/docker-registry"

// startTimeout bounds how long Start waits for the registry to answer.
const startTimeout = 30 * time.Second

// Registry is a running registry.
type Registry struct {
	// Host is the registry's host:port, e.g. "127.0.0.1:41234". Registry
	// clients (go-containerregistry, cosign) use plain HTTP for loopback
	// hosts.
	Host string

	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{} // closed when the process has exited
	once sync.Once
}

// Start starts a registry and returns its host:port. The registry is
// stopped when t ends.
func Start(t testing.TB) string { t.Helper(); return New(t).Host }

// New starts a registry and returns it, so that the test can Stop it early:
// for example to show that something works without the source registry.
//
// Without the registry binary New skips the test, or fails it when
// OFFKIT_REQUIRE_INTEROP=1 or CI is set.
func New(t testing.TB) *Registry {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		testtool.Missing(t, fmt.Sprintf("%s is missing (%v); 'make tools' installs the Debian package docker-registry", Binary, err))
	}
	dir := t.TempDir()
	// The port is chosen here and handed to the registry; another process
	// could take it in between, so a failed start is retried on a new port.
	var lastErr error
	for range 3 {
		r, err := start(dir)
		if err == nil {
			t.Cleanup(func() {
				if err := r.Stop(); err != nil {
					t.Errorf("registry %s: %v\n%s", r.Host, err, r.log)
				}
			})
			return r
		}
		lastErr = err
	}
	t.Fatalf("registrytest: %v", lastErr)
	return nil
}

func start(dir string) (*Registry, error) {
	host, err := freePort()
	if err != nil {
		return nil, err
	}
	storage := filepath.Join(dir, "storage-"+strings.ReplaceAll(host, ":", "-"))
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return nil, err
	}
	config := filepath.Join(storage, "config.yml")
	if err := os.WriteFile(config, []byte(configYAML(host, storage)), 0o644); err != nil {
		return nil, err
	}
	log := &lockedBuffer{}
	cmd := exec.Command(Binary, "serve", config)
	cmd.Stdout, cmd.Stderr = log, log
	// An empty environment: no REGISTRY_* variable may change the config.
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", Binary, err)
	}
	r := &Registry{Host: host, cmd: cmd, log: log, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.done) }()
	if err := r.waitReady(); err != nil {
		_ = r.Stop()
		return nil, fmt.Errorf("registry on %s: %w\n%s", host, err, log)
	}
	return r, nil
}

// configYAML is the registry's configuration: filesystem storage in
// storage, deletes enabled, no auth, listening on host only.
func configYAML(host, storage string) string {
	return fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %q
  secret: registrytest
`, storage, host)
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	host := l.Addr().String()
	return host, l.Close()
}

// waitReady polls /v2/ until it answers 200.
func (r *Registry) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-r.done:
			return errors.New("exited before it answered")
		default:
		}
		resp, err := client.Get("http://" + r.Host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /v2/: %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", startTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the registry and waits for it to exit. It may be called more
// than once; later calls do nothing.
func (r *Registry) Stop() error {
	var err error
	r.once.Do(func() {
		select {
		case <-r.done:
			return
		default:
		}
		if err = r.cmd.Process.Signal(os.Interrupt); err != nil {
			err = r.cmd.Process.Kill()
		}
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			err = r.cmd.Process.Kill()
			<-r.done
		}
		if errors.Is(err, os.ErrProcessDone) {
			err = nil
		}
	})
	return err
}

// Log returns what the registry has written to stdout and stderr.
func (r *Registry) Log() string { return r.log.String() }

// lockedBuffer collects the registry's output; the process writes to it
// while tests may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
