package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign/signtest"
)

// The interrupt tests run the real offkit command in a process of its own
// (the test binary as offkit, set up in $PATH by TestMain), feed it a kit
// through a pipe, and interrupt it in the middle.

const bigUnpackRoot = "big-1.0.0"

// bigUnpackKit writes an uncompressed kit of 6 MiB of incompressible data in six
// files, signed, and returns it, its public key's path and the files'
// contents by name.
func bigUnpackKit(t *testing.T) ([]byte, string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	k := signtest.NewKey(t, dir, "a")
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.NewChaCha8([32]byte{'o', 'f', 'f', 'k', 'i', 't'})
	files := map[string][]byte{}
	for i := range 6 {
		b := make([]byte, 1<<20)
		rng.Read(b)
		name := fmt.Sprintf("part%d.bin", i)
		files["data/"+name] = b
		if err := os.WriteFile(filepath.Join(src, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := filepath.Join(dir, "kit.yaml")
	if err := os.WriteFile(spec, []byte("name: big\nversion: 1.0.0\ncomponents:\n  - name: data\n    from: src\n    path: data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	kit := bundletest.Build(t, spec, []manifest.Signer{k.Signer}, bundle.WithCompression(bundle.None, 0))
	return kit, k.Pub, files
}

// unpackProc is an offkit unpack reading a kit from a pipe.
type unpackProc struct {
	cmd            *exec.Cmd
	w              *os.File // the pipe's write end: the kit goes in here
	stdout, stderr bytes.Buffer
	done           chan error
}

func startUnpackProc(t *testing.T, dir, pub string) *unpackProc {
	t.Helper()
	bin, err := exec.LookPath("offkit")
	if err != nil {
		t.Fatalf("offkit is not in $PATH (TestMain puts the test binary there): %v", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	u := &unpackProc{w: w, done: make(chan error, 1)}
	u.cmd = exec.Command(bin, "unpack", "-", "-C", dir, "--key", pub)
	u.cmd.Stdin = r
	u.cmd.Stdout, u.cmd.Stderr = &u.stdout, &u.stderr
	if err := u.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	go func() { u.done <- u.cmd.Wait() }()
	t.Cleanup(func() {
		u.cmd.Process.Kill()
		w.Close()
	})
	return u
}

// wait waits for the process to end and returns its wait status.
func (u *unpackProc) wait(t *testing.T) syscall.WaitStatus {
	t.Helper()
	select {
	case err := <-u.done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return u.cmd.ProcessState.Sys().(syscall.WaitStatus)
	case <-time.After(60 * time.Second):
		u.cmd.Process.Kill()
		t.Fatalf("offkit unpack did not end\nstdout:\n%s\nstderr:\n%s", &u.stdout, &u.stderr)
	}
	panic("unreachable")
}

// waitForUnpack polls until what exists, for at most 30 seconds.
func waitForUnpack(t *testing.T, u *unpackProc, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); {
		select {
		case err := <-u.done:
			t.Fatalf("offkit unpack ended (%v) before %s\nstdout:\n%s\nstderr:\n%s", err, what, &u.stdout, &u.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func unpackGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func unpackDirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestUnpackInterruptKill9: offkit unpack killed with SIGKILL — before it
// has read a byte, or with half the payload written to staging — leaves no
// DIR/<name>-<version>, only its staging; the next run removes that, says
// so, and unpacks the kit.
func TestUnpackInterruptKill9(t *testing.T) {
	kit, pub, files := bigUnpackKit(t)
	for _, c := range []struct {
		name  string
		write int    // bytes of the kit fed before the kill
		wait  string // what must be in staging before the kill, under its root
	}{
		{"before the head", 0, ""},
		{"mid-payload", len(kit) / 2, "data/part0.bin"},
	} {
		t.Run(c.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			u := startUnpackProc(t, dir, pub)
			go u.w.Write(kit[:c.write]) // blocks while the pipe is full; fails once killed
			stagings := filepath.Join(dir, ".offkit-staging-*")
			waitForUnpack(t, u, "the staging lock", func() bool { return len(unpackGlob(t, filepath.Join(stagings, ".lock"))) == 1 })
			if c.wait != "" {
				waitForUnpack(t, u, c.wait+" in staging", func() bool {
					return len(unpackGlob(t, filepath.Join(stagings, bigUnpackRoot, filepath.FromSlash(c.wait)))) == 1
				})
			}
			if err := u.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			ws := u.wait(t)
			if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("offkit unpack ended with %v, not by SIGKILL\nstderr:\n%s", ws, &u.stderr)
			}
			u.w.Close()

			// Killed: no root, and the staging it was writing.
			if _, err := os.Lstat(filepath.Join(dir, bigUnpackRoot)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("%s exists after kill -9: %v", bigUnpackRoot, err)
			}
			left := unpackGlob(t, stagings)
			if len(left) != 1 || !slices.Equal(unpackDirNames(t, dir), []string{filepath.Base(left[0])}) {
				t.Fatalf("DIR after kill -9 holds %v, want one staging directory", unpackDirNames(t, dir))
			}
			if c.wait != "" {
				if got := unpackDirNames(t, left[0]); !slices.Equal(got, []string{".lock", bigUnpackRoot}) {
					t.Fatalf("staging holds %v", got)
				}
			}
			if got := unpackDirNames(t, parent); !slices.Equal(got, []string{"out"}) {
				t.Fatalf("outside DIR: %v", got)
			}

			// The next run cleans it up and unpacks.
			again := exec.Command(u.cmd.Path, "unpack", "-", "-C", dir, "--key", pub)
			again.Stdin = bytes.NewReader(kit)
			var stdout, stderr bytes.Buffer
			again.Stdout, again.Stderr = &stdout, &stderr
			if err := again.Run(); err != nil {
				t.Fatalf("second unpack: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
			}
			want := fmt.Sprintf("offkit: removed stale staging directory %s, left by an interrupted unpack\n", left[0])
			if stderr.String() != want {
				t.Errorf("stderr = %q, want %q", &stderr, want)
			}
			if want := "Verified OK; unpacked into " + filepath.Join(dir, bigUnpackRoot) + "\n"; !strings.HasSuffix(stdout.String(), want) {
				t.Errorf("stdout does not end with %q:\n%s", want, &stdout)
			}
			if got := unpackDirNames(t, dir); !slices.Equal(got, []string{bigUnpackRoot}) {
				t.Fatalf("DIR holds %v, want only %s", got, bigUnpackRoot)
			}
			for name, content := range files {
				b, err := os.ReadFile(filepath.Join(dir, bigUnpackRoot, filepath.FromSlash(name)))
				if err != nil || !bytes.Equal(b, content) {
					t.Errorf("%s: %d bytes, %v; want the kit's %d bytes", name, len(b), err, len(content))
				}
			}
		})
	}
}

// TestUnpackInterruptSIGINT: Ctrl-C in the middle of the payload — the
// kit still coming in — ends offkit unpack with status 1, having removed
// its staging: DIR is left empty.
func TestUnpackInterruptSIGINT(t *testing.T) {
	kit, pub, _ := bigUnpackKit(t)
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	u := startUnpackProc(t, dir, pub)
	more := make(chan struct{})
	go func() {
		u.w.Write(kit[:len(kit)/2])
		<-more
		u.w.Write(kit[len(kit)/2:]) // fails with EPIPE if it stopped reading
		u.w.Close()
	}()
	waitForUnpack(t, u, "a payload file in staging", func() bool {
		return len(unpackGlob(t, filepath.Join(dir, ".offkit-staging-*", bigUnpackRoot, "data", "part0.bin"))) == 1
	})
	if err := u.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// Nothing more comes in: the read waiting on the pipe must end on the
	// signal by itself (standard input is read through a non-blocking
	// duplicate that is closed on cancellation).
	ws := u.wait(t)
	close(more)
	if ws.Signaled() || ws.ExitStatus() != 1 {
		t.Fatalf("offkit unpack ended with %v, want exit status 1\nstdout:\n%s\nstderr:\n%s", ws, &u.stdout, &u.stderr)
	}
	if !strings.Contains(u.stderr.String(), "offkit: error: interrupted: interrupt signal received: context canceled") {
		t.Errorf("stderr does not report the interruption:\n%s", &u.stderr)
	}
	if !strings.Contains(u.stdout.String(), "FAILED: nothing was unpacked") {
		t.Errorf("stdout:\n%s", &u.stdout)
	}
	if got := unpackDirNames(t, dir); len(got) != 0 {
		t.Fatalf("DIR after Ctrl-C holds %v, want nothing", got)
	}
	if got := unpackDirNames(t, parent); !slices.Equal(got, []string{"out"}) {
		t.Fatalf("outside DIR: %v", got)
	}
}
