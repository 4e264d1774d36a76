package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/offkit/offkit/internal/fsutil"
	"github.com/offkit/offkit/store"
	"github.com/offkit/offkit/verify"
)

// atomicFile is an output that appears only when Commit succeeds
// (internal/fsutil); the command line words its errors.
type atomicFile struct{ *fsutil.AtomicFile }

// refuseExisting refuses to write path if it exists, unless force: build
// and sign, like keygen, replace an existing output only with --force.
func refuseExisting(path string, force bool) error {
	if force {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return errExists(path)
	}
	return nil
}

func errExists(path string) error {
	return fmt.Errorf("%s already exists (use --force to replace it)", path)
}

// createNew is createAtomic for an output that must not exist: it is
// refused now if it does, and Commit fails, leaving it as it is, if it has
// appeared by then.
func createNew(path string, perm os.FileMode) (*atomicFile, error) {
	f, err := fsutil.CreateNew(path, perm)
	if errors.Is(err, fsutil.ErrExists) {
		return nil, errExists(path)
	}
	if err != nil {
		return nil, err
	}
	return &atomicFile{f}, nil
}

func createAtomic(path string, perm os.FileMode) (*atomicFile, error) {
	f, err := fsutil.CreateAtomic(path, perm)
	if err != nil {
		return nil, err
	}
	return &atomicFile{f}, nil
}

// Commit moves the file into place (fsutil.AtomicFile.Commit).
func (a *atomicFile) Commit() error {
	err := a.AtomicFile.Commit()
	if errors.Is(err, fsutil.ErrExists) {
		return errExists(a.Path())
	}
	return err
}

// password returns the key password: COSIGN_PASSWORD if set (even empty),
// else a prompt on the terminal, confirmed when confirm is true.
func password(confirm bool) ([]byte, error) {
	if p, ok := os.LookupEnv("COSIGN_PASSWORD"); ok {
		return []byte(p), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, errors.New("no password: set COSIGN_PASSWORD (standard input is not a terminal to prompt on)")
	}
	fmt.Fprint(os.Stderr, "Enter password for private key: ")
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, err
	}
	if confirm {
		fmt.Fprint(os.Stderr, "Enter password for private key again: ")
		q, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return nil, err
		}
		if string(p) != string(q) {
			return nil, errors.New("passwords do not match")
		}
	}
	return p, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// progress prints a one-line progress meter on stderr when stderr is a
// terminal, at most ten times a second, and nothing otherwise.
type progress struct {
	label string
	on    bool
	mu    sync.Mutex
	last  time.Time
	start time.Time
	shown bool
}

func newProgress(label string, quiet bool) *progress {
	return &progress{label: label, on: !quiet && term.IsTerminal(int(os.Stderr.Fd())), start: time.Now()}
}

func (p *progress) update(done, total int64) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last = now
	rate := float64(done) / max(now.Sub(p.start).Seconds(), 0.001)
	if total <= 0 { // reading a stream of unknown size
		fmt.Fprintf(os.Stderr, "\r%s %s %s/s ", p.label, human(done), human(int64(rate)))
	} else {
		pct := float64(done) * 100 / float64(total)
		fmt.Fprintf(os.Stderr, "\r%s %s / %s (%.0f%%) %s/s ", p.label, human(done), human(total), pct, human(int64(rate)))
	}
	p.shown = true
}

func (p *progress) finish() {
	if p.on && p.shown {
		fmt.Fprint(os.Stderr, "\r"+strings.Repeat(" ", 72)+"\r")
	}
}

// countingReader reports progress as it is read.
type countingReader struct {
	r     io.Reader
	n     int64
	total int64
	p     *progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	c.p.update(c.n, c.total)
	return n, err
}

func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// openKit opens the kit at path, standard input for "-", or a published
// kit's URL (streamed from the store, never copied), and returns it with its
// size (0 when unknown). Closing it ends a read in progress where the system
// allows (files, pipes on standard input, connections): see closeOnCancel.
func openKit(ctx context.Context, path string) (io.ReadCloser, int64, error) {
	if store.IsURL(path) {
		obj, err := openRemoteKit(ctx, path)
		if err != nil {
			return nil, 0, err
		}
		rc, err := obj.Range(ctx, 0, -1)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		return rc, obj.Size(), nil
	}
	if path == "-" {
		if f := stdinKit(); f != os.Stdin {
			return f, 0, nil
		}
		return io.NopCloser(os.Stdin), 0, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// closeOnCancel closes in when ctx is cancelled (Ctrl-C, SIGTERM), so a
// read waiting for more of the kit returns and the command can clean up.
// The returned function stops it.
func closeOnCancel(ctx context.Context, in io.Closer) func() bool {
	return context.AfterFunc(ctx, func() { in.Close() })
}

// streamKit opens the kit at path and verifies it with opts, in one pass,
// showing progress as label unless quiet. before, if not nil, runs once
// the kit is open and may add options (unpack's extractor); it runs after
// the kit opens so a missing kit fails before anything is made. The report
// is nil only if the kit could not be opened or before failed.
func streamKit(ctx context.Context, path, label string, quiet bool, opts []verify.Option, before func() ([]verify.Option, error)) (*verify.Report, error) {
	in, size, err := openKit(ctx, path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	defer closeOnCancel(ctx, in)()
	if before != nil {
		more, err := before()
		if err != nil {
			return nil, err
		}
		opts = append(opts, more...)
	}
	p := newProgress(label, quiet)
	rep, err := verify.Verify(ctx, &countingReader{r: in, total: size, p: p}, opts...)
	p.finish()
	return rep, err
}
