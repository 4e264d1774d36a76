package bundle

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offkit/offkit/images"
	"github.com/offkit/offkit/manifest"
)

// Build writes the kit described by spec to dst. specDir is the directory
// relative to which the spec names its sources (kit.yaml's directory).
//
// Sources are read twice: first hashed (on every core), so that the head —
// manifest, SHA256SUMS, signatures and SBOMs — can be written to dst first;
// then streamed into the compressed payload and hashed again, so a source
// that changed between the passes fails the build rather than producing a
// kit whose content does not match its claims. Nothing is held in memory
// or written to a temporary file. On error dst holds partial output, which
// the caller discards. Without WithSigner the kit is unsigned; Sign signs it later.
// The same spec, sources and creation time give the same bytes.
//
// A spec with image components needs WithImages (see ResolveImages) and
// makes a format v2 kit: the image layout's files are payload files under
// images/, listed with the digests the plan gives and streamed from their
// sources, once, as the payload is written; content that does not match
// fails the build with ErrSourceChanged. A spec without images makes a v1
// kit, unchanged.
func Build(ctx context.Context, dst io.Writer, spec *manifest.Spec, specDir string, opts ...Option) (*Head, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.created.IsZero() {
		return nil, errors.New("build: no creation time (WithCreated; SOURCE_DATE_EPOCH)")
	}
	srcs, sboms, err := plan(spec, specDir)
	if err != nil {
		return nil, err
	}
	layout, err := imageComponents(ctx, spec, cfg.images)
	if err != nil {
		return nil, err
	}
	root := spec.Root()
	var total, imagesTotal int64 // bytes of the sources read twice, and of the layout's files, read once
	for _, s := range srcs {
		total += s.size
	}
	for _, f := range layout {
		imagesTotal += f.Size
	}
	progressTotal := 2*total + imagesTotal
	digests, err := hashSources(ctx, srcs, cfg, progressTotal)
	if err != nil {
		return nil, err
	}

	m := &manifest.Manifest{
		FormatVersion: manifest.FormatVersion,
		Name:          spec.Name, Version: spec.Version,
		Description: spec.Description, Labels: spec.Labels,
		Created: cfg.created.Format(time.RFC3339),
		Tool:    cfg.tool,
	}
	if cfg.images != nil {
		// The layout's files are payload files under images/, listed with
		// the digests the plan gives; the payload pass streams and checks them.
		m.FormatVersion = manifest.FormatVersion2
		m.Images = &manifest.Images{Path: manifest.ImagesPath, Files: []manifest.File{}}
		for _, f := range layout {
			kp := manifest.ImagesPath + "/" + f.Path
			d := hashBytes(f.Digest)
			srcs = append(srcs, source{kitPath: kp, layout: f.Path, size: f.Size, mode: manifest.ModeFile, comp: -1})
			digests = append(digests, d)
			m.Images.Files = append(m.Images.Files, manifest.File{Path: kp, Size: f.Size, Mode: manifest.ModeFile, Digest: d})
			m.Images.Size += f.Size
		}
		m.FileCount += len(m.Images.Files)
		m.TotalSize += m.Images.Size
	}
	head := &Head{Root: root, Compression: cfg.compression, SBOMs: map[string][]byte{}}
	for i, c := range spec.Components {
		mc := manifest.Component{Name: c.Name, Type: c.Type, Path: c.Path, Description: c.Description, Pending: c.Pending, Files: []manifest.File{}}
		if c.IsImage() {
			ref := cfg.images.Refs[c.Name]
			mc.Path, mc.Image = manifest.ImagesPath, &ref
		}
		for j, s := range srcs {
			if s.comp == i {
				mc.Files = append(mc.Files, manifest.File{Path: s.kitPath, Size: s.size, Mode: s.mode, Digest: digests[j]})
				mc.Size += s.size
			}
		}
		if b, ok := sboms[i]; ok {
			p := manifest.ComponentSBOMPath(c.Name)
			mc.SBOM = &manifest.FileRef{Path: p, Size: int64(len(b)), Digest: manifest.SHA256(b)}
			head.SBOMs[p] = b
		}
		m.FileCount += len(mc.Files)
		m.TotalSize += mc.Size
		m.Components = append(m.Components, mc)
	}
	kitSBOM, err := manifest.MarshalSBOM(manifest.KitSBOM(m))
	if err != nil {
		return nil, err
	}
	head.SBOMs[manifest.KitSBOMName] = kitSBOM
	m.SBOM = manifest.FileRef{Path: manifest.KitSBOMName, Size: int64(len(kitSBOM)), Digest: manifest.SHA256(kitSBOM)}

	sums := make(manifest.Sums, 0, len(srcs)+len(head.SBOMs))
	for j, s := range srcs {
		sums = append(sums, manifest.Sum{Name: s.kitPath, Digest: digests[j]})
	}
	for p, b := range head.SBOMs {
		sums = append(sums, manifest.Sum{Name: p, Digest: manifest.SHA256(b)})
	}
	sums.Sort()
	stmt, err := manifest.NewStatement(m, sums)
	if err != nil {
		return nil, err
	}
	if head.Payload, err = stmt.Marshal(); err != nil {
		return nil, err
	}
	head.Manifest, head.Statement, head.Sums, head.SumsRaw = m, stmt, sums, sums.Marshal()
	head.Envelope = manifest.NewEnvelope(head.Payload)
	for _, s := range cfg.signers {
		if err := head.addSignature(ctx, s); err != nil {
			return nil, err
		}
	}
	if err := head.write(dst, cfg); err != nil {
		return nil, err
	}
	if err := writePayload(ctx, dst, root, srcs, digests, cfg, total, progressTotal); err != nil {
		return nil, err
	}
	return head, nil
}

// addSignature signs the envelope and SHA256SUMS with s.
func (h *Head) addSignature(ctx context.Context, s manifest.Signer) error {
	if err := manifest.SignEnvelope(ctx, h.Envelope, s); err != nil {
		return err
	}
	sig, err := s.Sign(ctx, h.SumsRaw)
	if err != nil {
		return err
	}
	// As cosign sign-blob writes it: standard base64, no newline.
	h.SumsSigs = append(h.SumsSigs, []byte(base64.StdEncoding.EncodeToString(sig)))
	return nil
}

// checkLimits refuses a head that readers would refuse (docs/FORMAT.md,
// Limits), so that Build never makes a kit Verify cannot accept.
func (h *Head) checkLimits() error {
	over := func(what string, n, limit int) error {
		return fmt.Errorf("%w: %s would be %d bytes, over the limit of %d; split the kit (%d files)",
			ErrTooLarge, what, n, limit, h.Manifest.FileCount)
	}
	total := len(h.EnvelopeRaw) + len(h.SumsRaw)
	switch {
	case len(h.Payload) > manifest.MaxStatementSize:
		return over("the statement", len(h.Payload), manifest.MaxStatementSize)
	case len(h.EnvelopeRaw) > manifest.MaxEnvelopeSize:
		return over(manifest.EnvelopeName, len(h.EnvelopeRaw), manifest.MaxEnvelopeSize)
	case len(h.SumsRaw) > manifest.MaxSumsSize:
		return over(manifest.SumsName, len(h.SumsRaw), manifest.MaxSumsSize)
	case len(h.Envelope.Signatures) > manifest.MaxSignatures:
		return fmt.Errorf("%w: more than %d signatures", ErrTooLarge, manifest.MaxSignatures)
	}
	for name, b := range h.SBOMs {
		if len(b) > manifest.MaxSBOMSize {
			return over(name, len(b), manifest.MaxSBOMSize)
		}
		total += len(b)
	}
	for _, s := range h.SumsSigs {
		total += len(s)
	}
	if total > MaxHeadSize {
		return over("the metadata", total, MaxHeadSize)
	}
	return nil
}

// write writes the head's entries, compressed on their own, with no tar
// trailer: the payload follows and ends the archive.
func (h *Head) write(dst io.Writer, cfg *config) error {
	var err error
	if h.EnvelopeRaw, err = manifest.MarshalEnvelope(h.Envelope); err != nil {
		return err
	}
	if err := h.checkLimits(); err != nil {
		return err
	}
	cw, err := newCompressor(dst, cfg.compression, cfg.level)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(cw)
	mtime, err := h.Manifest.CreatedTime()
	if err != nil {
		return err
	}
	pre := h.Root + "/"
	put := func(name string, b []byte) error {
		if err := tw.WriteHeader(header(pre+name, int64(len(b)), manifest.ModeFile, mtime)); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	if err := tw.WriteHeader(header(pre, 0, "", mtime)); err != nil {
		return err
	}
	if err := put(manifest.EnvelopeName, h.EnvelopeRaw); err != nil {
		return err
	}
	if err := put(manifest.SumsName, h.SumsRaw); err != nil {
		return err
	}
	for i, s := range h.SumsSigs {
		if err := put(manifest.SumsSigNameFor(i), s); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(header(pre+manifest.SBOMDir+"/", 0, "", mtime)); err != nil {
		return err
	}
	names := make([]string, 0, len(h.SBOMs))
	for n := range h.SBOMs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := put(n, h.SBOMs[n]); err != nil {
			return err
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return cw.Close()
}

// payloadEntry is a payload tar entry: a directory or a source file.
type payloadEntry struct {
	name string // tar name, with the root; directories end in "/"
	src  int    // index in srcs, -1 for a directory
}

func payloadEntries(root string, srcs []source) []payloadEntry {
	dirs := map[string]bool{}
	var es []payloadEntry
	for i, s := range srcs {
		es = append(es, payloadEntry{root + "/" + s.kitPath, i})
		for d := path.Dir(s.kitPath); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			es = append(es, payloadEntry{root + "/" + d + "/", -1})
		}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].name < es[j].name })
	return es
}

// writePayload writes the payload entries, compressed, to w, checking that
// each source still has the digest the first pass computed, and that each
// image layout file, streamed from the plan, has the digest the plan gave.
// Progress starts at done bytes of progressTotal.
func writePayload(ctx context.Context, w io.Writer, root string, srcs []source, digests []manifest.Digest, cfg *config, done, progressTotal int64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	cw, err := newCompressor(bw, cfg.compression, cfg.level)
	if err != nil {
		return err
	}
	defer cw.Close()
	tw := tar.NewWriter(cw)
	buf := make([]byte, 1<<20)
	h := sha256.New()
	for _, e := range payloadEntries(root, srcs) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.src < 0 {
			if err := tw.WriteHeader(header(e.name, 0, "", cfg.created)); err != nil {
				return err
			}
			continue
		}
		s := srcs[e.src]
		h.Reset()
		if s.layout != "" {
			if err := copyLayoutFile(ctx, tw, h, cfg.images.Plan, s, e.name, buf, cfg.created); err != nil {
				return err
			}
			if manifest.DigestOf(h) != digests[e.src] {
				return fmt.Errorf("%w: image layout file %s: content has %s, the plan %s", ErrSourceChanged, s.layout, manifest.DigestOf(h), digests[e.src])
			}
		} else {
			if err := copySource(tw, h, s, e.name, buf, cfg.created); err != nil {
				return err
			}
			if manifest.DigestOf(h) != digests[e.src] {
				return fmt.Errorf("%w: %s has a new digest", ErrSourceChanged, s.file)
			}
		}
		done += s.size
		if cfg.progress != nil {
			cfg.progress(done, progressTotal)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := cw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// hashSources computes every source's digest, reading files on all cores.
// Progress counts up to the sources' bytes, of progressTotal.
func hashSources(ctx context.Context, srcs []source, cfg *config, progressTotal int64) ([]manifest.Digest, error) {
	digests := make([]manifest.Digest, len(srcs))
	next := make(chan int)
	errs := make(chan error, runtime.GOMAXPROCS(0))
	var done atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20)
			h := sha256.New()
			for i := range next {
				h.Reset()
				if err := copySourceTo(h, srcs[i], buf); err != nil {
					errs <- err
					return
				}
				digests[i] = manifest.DigestOf(h)
				if n := done.Add(srcs[i].size); cfg.progress != nil {
					cfg.progress(n, progressTotal)
				}
			}
		}()
	}
	var err error
feed:
	for i := range srcs {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return digests, err
}

// copySource writes one source file as a tar entry, hashing what it writes.
// A file that changed size since it was planned is an error.
func copySource(tw *tar.Writer, h io.Writer, s source, name string, buf []byte, mtime time.Time) error {
	f, err := os.Open(s.file)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := tw.WriteHeader(header(name, s.size, s.mode, mtime)); err != nil {
		return err
	}
	return copyExact(io.MultiWriter(tw, h), f, s, buf)
}

// copyLayoutFile writes one file of the image layout as a tar entry,
// streaming it from the plan (from its registry or local source) and
// hashing what it writes. Content that is not the size and digest the plan
// listed fails with ErrSourceChanged: the kit's head already lists them.
func copyLayoutFile(ctx context.Context, tw *tar.Writer, h io.Writer, p *images.Plan, s source, name string, buf []byte, mtime time.Time) error {
	rc, err := p.Open(ctx, s.layout)
	if err != nil {
		return fmt.Errorf("image layout file %s: %w", s.layout, err)
	}
	defer rc.Close()
	if err := tw.WriteHeader(header(name, s.size, s.mode, mtime)); err != nil {
		return err
	}
	n, err := io.CopyBuffer(io.MultiWriter(tw, h), rc, buf)
	switch {
	case errors.Is(err, images.ErrDigestMismatch), errors.Is(err, tar.ErrWriteTooLong):
		return fmt.Errorf("%w: image layout file %s: %w", ErrSourceChanged, s.layout, err)
	case err != nil:
		return fmt.Errorf("image layout file %s: %w", s.layout, err)
	case n != s.size:
		return fmt.Errorf("%w: image layout file %s: %d bytes, the plan lists %d", ErrSourceChanged, s.layout, n, s.size)
	}
	return nil
}

// copySourceTo copies one source file to w.
func copySourceTo(w io.Writer, s source, buf []byte) error {
	f, err := os.Open(s.file)
	if err != nil {
		return err
	}
	defer f.Close()
	return copyExact(w, f, s, buf)
}

// copyExact copies exactly s.size bytes of f to w; a file that changed size
// since it was planned is an error.
func copyExact(w io.Writer, f *os.File, s source, buf []byte) error {
	n, err := io.CopyBuffer(w, io.LimitReader(f, s.size), buf)
	if err != nil {
		return fmt.Errorf("read %s: %w", s.file, err)
	}
	if n != s.size {
		return fmt.Errorf("%w: %s shrank from %d to %d bytes", ErrSourceChanged, s.file, s.size, n)
	}
	if k, _ := f.Read(buf[:1]); k > 0 {
		return fmt.Errorf("%w: %s grew", ErrSourceChanged, s.file)
	}
	return nil
}

// Sign reads the kit in src, adds signer's signatures (to the DSSE envelope
// and a SHA256SUMS signature file) and writes the result to dst. The
// payload's entries are re-emitted as built — same names, modes, times and
// content, checked against SHA256SUMS on the way, so a kit that is not
// intact is refused. The compression follows the source's, at the level
// WithCompression gives (default: the compression's default level); the
// compressed bytes equal the original's when the level is the one it was
// built with.
func Sign(ctx context.Context, dst io.Writer, src io.Reader, signer manifest.Signer, opts ...Option) (*Head, error) {
	rd, err := Open(src)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	cfg, err := newConfig(append([]Option{WithCompression(rd.Head.Compression, 0)}, opts...))
	if err != nil {
		return nil, err
	}
	h := rd.Head
	if err := h.addSignature(ctx, signer); err != nil {
		return nil, err
	}
	if err := h.write(dst, cfg); err != nil {
		return nil, err
	}
	mtime, _ := h.Manifest.CreatedTime()
	bw := bufio.NewWriterSize(dst, 1<<20)
	cw, err := newCompressor(bw, cfg.compression, cfg.level)
	if err != nil {
		return nil, err
	}
	defer cw.Close()
	tw := tar.NewWriter(cw)
	buf := make([]byte, 1<<20)
	var done int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(header(h.Root+"/"+e.Name, e.Size, e.Mode, mtime)); err != nil {
			return nil, err
		}
		if _, err := io.CopyBuffer(tw, e, buf); err != nil {
			return nil, err
		}
		done += e.Size
		if cfg.progress != nil {
			cfg.progress(done, h.Manifest.TotalSize)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := cw.Close(); err != nil {
		return nil, err
	}
	return h, bw.Flush()
}
