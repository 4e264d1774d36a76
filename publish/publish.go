// Package publish puts verified kits into stores and brings them back: one
// streaming read of the kit feeds both the verifier and the store, and the
// store's upload is committed only once every check has held. A kit that
// fails, is untrusted, or is interrupted is never visible, and the store is
// left as it was.
package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/store"
	"github.com/offkit/offkit/verify"
)

// ResultVersion identifies the JSON form of Result.
const ResultVersion = "offkit.dev/publish/v1"

// ErrConflict means the store already holds a different kit under the same
// name and version. Published kits are immutable: the one there is left
// untouched. It wraps verify.ErrUntrusted, so it exits 4 like any refusal.
var ErrConflict = fmt.Errorf("%w: a different kit is already published under this name and version", verify.ErrUntrusted)

// MaxPending bounds the bytes held in memory before the kit's head is
// trusted, when the store's key (which needs the kit's name and version) is
// not yet known. The head is at most bundle's MaxHeadSize decoded; its
// compressed form plus the frames read ahead fits well within this.
const MaxPending = 128 << 20

// Result is what Publish did.
type Result struct {
	SchemaVersion    string         `json:"schemaVersion"`
	URL              string         `json:"url"`
	Name             string         `json:"name"`
	Version          string         `json:"version"`
	File             string         `json:"file"`
	SHA256           string         `json:"sha256"`
	Size             int64          `json:"size"`
	Published        bool           `json:"published"`        // this run made the kit visible
	AlreadyPublished bool           `json:"alreadyPublished"` // the same bytes were there already
	Record           bool           `json:"record"`           // a release record was written by this run
	Verify           *verify.Report `json:"verification"`
	Error            string         `json:"error,omitempty"`
}

// Verified is a kit that passed verification on its way to a store.
type Verified struct {
	File   string          // its file name in the store: <name>-<version><ext>
	SHA256 manifest.Digest // of the kit file's bytes
	Size   int64           // of the kit file
	URL    string          // where it is published
	Head   *bundle.Head    // its verified head
	Report *verify.Report  // the verification
}

// RecordFunc makes the release record of a verified kit.
type RecordFunc func(v *Verified) ([]byte, error)

// Publish verifies the kit read from src with opts and, as it reads,
// uploads it to st under the name and version the verified kit states.
// The upload is committed, with the release record made by record (if not
// nil), only when verification passed; it is aborted otherwise.
//
// If st already holds the kit with the same SHA-256, Publish reports it as
// already published and returns nil; with other bytes it returns an error
// wrapping ErrConflict. The result is returned in every case once
// verification has started.
func Publish(ctx context.Context, src io.Reader, st store.Store, record RecordFunc, opts ...verify.Option) (*Result, error) {
	res := &Result{SchemaVersion: ResultVersion}
	sink := &uploadSink{ctx: ctx, st: st, h: sha256.New()}
	defer sink.abort()
	rep, err := verify.Verify(ctx, src, append(opts, verify.WithSink(sink))...)
	res.Verify = rep
	if rep != nil && rep.Kit != nil {
		res.Name, res.Version = rep.Kit.Name, rep.Kit.Version
		res.URL = st.URL(res.Name, res.Version)
	}
	if err != nil {
		return res, fmt.Errorf("%w (nothing was published)", err)
	}
	sum := manifest.DigestOf(sink.h)
	res.SHA256, res.Size, res.File = sum.Hex(), sink.n, sink.file
	var rec []byte
	if record != nil {
		v := &Verified{File: sink.file, SHA256: sum, Size: sink.n, URL: res.URL, Head: sink.head, Report: rep}
		if rec, err = record(v); err != nil {
			return res, fmt.Errorf("release record: %w (nothing was published)", err)
		}
	}
	err = sink.up.Commit(ctx, rec)
	if err == nil {
		res.Published, res.Record = true, rec != nil
		return res, nil
	}
	if errors.Is(err, store.ErrNoRecord) {
		res.Published = true
		return res, err
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("interrupted: %v: %w (nothing was published)", context.Cause(ctx), ctx.Err())
	}
	if !errors.Is(err, store.ErrExists) {
		return res, fmt.Errorf("%w (nothing was published)", err)
	}
	// Published already, by an earlier run or a concurrent one: the same
	// bytes are success, other bytes a conflict.
	same, err := Same(ctx, st, res.Name, res.Version, sum, sink.n)
	if err != nil {
		return res, fmt.Errorf("%s is already published, and comparing it failed: %w", res.URL, err)
	}
	if !same {
		return res, fmt.Errorf("%s: %w; it was left untouched", res.URL, ErrConflict)
	}
	res.AlreadyPublished = true
	if rec != nil {
		// A run that died between the kit and its record left no record.
		if err := st.PutRecord(ctx, res.Name, res.Version, rec); err == nil {
			res.Record = true
		} else if !errors.Is(err, store.ErrExists) {
			return res, fmt.Errorf("%s is published, but writing its missing release record failed: %w", res.URL, err)
		}
	}
	return res, nil
}

// Same reports whether the kit published as name/version has the given
// SHA-256 and size, reading it from the store.
func Same(ctx context.Context, st store.Store, name, version string, sum manifest.Digest, size int64) (bool, error) {
	obj, err := st.Open(ctx, name, version)
	if err != nil {
		return false, err
	}
	if obj.Size() != size {
		return false, nil
	}
	rc, err := obj.Range(ctx, 0, -1)
	if err != nil {
		return false, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return false, err
	}
	return n == size && manifest.DigestOf(h) == sum, nil
}

// uploadSink is the verify.Sink of a publish: it hashes every byte, holds
// them until the head is trusted (the store's key needs the kit's name and
// version), then streams them to the store's upload.
type uploadSink struct {
	ctx     context.Context
	st      store.Store
	pending bytes.Buffer
	up      store.Upload
	h       hash.Hash
	n       int64
	file    string
	head    *bundle.Head
}

func (s *uploadSink) Write(p []byte) (int, error) {
	s.h.Write(p)
	s.n += int64(len(p))
	if s.up != nil {
		return s.up.Write(p)
	}
	if s.pending.Len()+len(p) > MaxPending {
		return 0, fmt.Errorf("publish: more than %d bytes before the end of the kit's head", MaxPending)
	}
	return s.pending.Write(p)
}

func (s *uploadSink) Start(h *bundle.Head) error {
	ext, err := Ext(h.Compression)
	if err != nil {
		return err
	}
	m := h.Manifest
	up, err := s.st.Begin(s.ctx, m.Name, m.Version, ext)
	if err != nil {
		return fmt.Errorf("publish to %s: %w", s.st.URL(m.Name, m.Version), err)
	}
	s.up, s.head = up, h
	s.file = store.KitFile(m.Name, m.Version, ext)
	_, err = up.Write(s.pending.Bytes())
	s.pending = bytes.Buffer{}
	return err
}

// abort discards the upload unless it was committed (Abort is then a no-op).
func (s *uploadSink) abort() {
	if s.up != nil {
		s.up.Abort()
	}
}

// Ext is the kit file extension of a compression.
func Ext(c bundle.Compression) (string, error) {
	switch c {
	case bundle.Zstd:
		return ".tar.zst", nil
	case bundle.Gzip:
		return ".tar.gz", nil
	case bundle.None:
		return ".tar", nil
	}
	return "", fmt.Errorf("publish: unknown compression %q", c)
}
