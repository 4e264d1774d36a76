package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/offkit/offkit/internal/fsutil"
	"github.com/offkit/offkit/internal/ui"
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

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
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
	p := ui.NewProgress(label, quiet)
	rep, err := verify.Verify(ctx, &ui.CountingReader{R: in, Total: size, P: p}, opts...)
	p.Finish()
	return rep, err
}
