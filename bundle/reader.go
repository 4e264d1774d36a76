package bundle

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/offkit/offkit/manifest"
)

// Limits on a kit's head (docs/FORMAT.md, "Limits").
const (
	MaxSumsSigSize = 16 << 10  // one SHA256SUMS signature file
	MaxHeadSize    = 256 << 20 // all metadata entries together
	MaxTrailer     = 1 << 20   // zero bytes accepted after the tar trailer
)

// ErrDigestMismatch reports a file whose content does not match its digest:
// the kit is corrupt (ErrCorrupt), and it wraps manifest.ErrDigestMismatch.
var ErrDigestMismatch = fmt.Errorf("%w: %w", ErrCorrupt, manifest.ErrDigestMismatch)

// Head is the metadata at the head of a kit, parsed and checked for
// consistency: every file SHA256SUMS lists is a subject of the statement with
// the same digest, SHA256SUMS's own digest is a subject, the manifest and the
// SBOMs agree with SHA256SUMS, and each DSSE signature has a SHA256SUMS
// signature file beside it. Whether the signatures verify, and with which
// keys, is not checked here.
type Head struct {
	Root        string // "<name>-<version>"
	Compression Compression
	EnvelopeRaw []byte
	Envelope    *manifest.Envelope
	Payload     []byte // the DSSE payload: the Statement's bytes
	Statement   *manifest.Statement
	Manifest    *manifest.Manifest
	SumsRaw     []byte
	Sums        manifest.Sums
	SumsSigs    [][]byte          // SumsSigs[i] belongs to Envelope.Signatures[i]
	SBOMs       map[string][]byte // by path: sbom/kit.spdx.json and component SBOMs
}

// Reader reads a kit: Open parses its head, Next streams its payload.
type Reader struct {
	Head *Head

	src       *sourceReader
	dec       io.ReadCloser
	ra        *readahead
	tail      *tailReader
	tr        *tar.Reader
	peeked    *tar.Header
	cur       *Entry
	files     map[string]manifest.File // payload files not yet seen
	dirs      dirTree                  // payload directories, each marked once seen
	done      bool
	mtime     time.Time   // every entry's mtime: the manifest's created time
	prev      string      // the previous payload entry's name, for the order check
	dataEnd   int64       // offset in the tar stream just after the last entry's content
	prevSize  int64       // the previous entry's content size, for its padding
	headTimes []time.Time // mtimes of the head's entries
}

// Entry is one payload entry. Reading it yields the file's content; at its
// end the content's digest has been checked against SHA256SUMS.
type Entry struct {
	Name string // relative to the kit root; directories end in "/"
	Dir  bool
	Size int64
	Mode string // manifest.ModeFile, ModeExec or (directories) ModeExec

	r      io.Reader
	h      hash.Hash
	want   manifest.Digest
	n      int64
	failed error
}

// Read reads the entry's content. The final read returns ErrDigestMismatch
// instead of io.EOF if the content does not match its digest.
func (e *Entry) Read(p []byte) (int, error) {
	if e.failed != nil {
		return 0, e.failed
	}
	if e.Dir {
		return 0, io.EOF
	}
	n, err := e.r.Read(p)
	e.h.Write(p[:n])
	e.n += int64(n)
	if errors.Is(err, io.EOF) {
		if e.n != e.Size {
			e.failed = &EntryError{Name: e.Name, Err: corrupt("truncated: %d of %d bytes", e.n, e.Size)}
			return n, e.failed
		}
		if got := manifest.DigestOf(e.h); got != e.want {
			e.failed = &EntryError{Name: e.Name, Err: fmt.Errorf("%w: content has %s, %s lists %s", ErrDigestMismatch, got, manifest.SumsName, e.want)}
			return n, e.failed
		}
	} else if err != nil {
		e.failed = err
	}
	return n, err
}

// Authenticator checks a kit's signatures while Open reads its head, so
// that nothing a signature covers is parsed before the signature is
// checked (docs/FORMAT.md §17). verify implements it with trusted keys.
type Authenticator interface {
	// Envelope is called once manifest.dsse.json has been read, with its
	// signatures and its payload, before the payload is parsed. An error
	// ends Open with that error.
	Envelope(env *manifest.Envelope, payload *manifest.Payload) error
	// Sums is called with SHA256SUMS, once its bytes are known to be
	// those the signed statement implies, and its signature files, one
	// per envelope signature, before anything after them is read. An
	// error ends Open with that error.
	Sums(sums []byte, sigs [][]byte) error
}

// OpenOption configures Open.
type OpenOption func(*openConfig)

type openConfig struct{ auth Authenticator }

// WithAuthenticator checks the head's signatures with a as it is read.
// Without it, Open checks that the head is well-formed and consistent, and
// nothing else: the signatures are not checked.
func WithAuthenticator(a Authenticator) OpenOption {
	return func(c *openConfig) { c.auth = a }
}

// Open reads and checks the head of the kit in r, leaving r positioned at
// the payload. It reads only the metadata entries, never the payload, in
// one pass, and parses each document only once what covers it has been
// checked: the envelope first, by its strict grammar; the statement once
// the authenticator accepts the envelope; SHA256SUMS and the SBOMs only by
// comparison with, or after checking their digests against, the statement.
func Open(r io.Reader, opts ...OpenOption) (*Reader, error) {
	var oc openConfig
	for _, o := range opts {
		o(&oc)
	}
	src := &sourceReader{r: r}
	dec, comp, err := decompress(src)
	if err != nil {
		return nil, src.classify(err)
	}
	// A zstd kit is decoded frames ahead, on every core (frameDecoder);
	// the others are read ahead by a goroutine of their own.
	var ra *readahead
	var tail *tailReader
	if comp == Zstd {
		tail = &tailReader{r: dec}
	} else {
		ra = newReadahead(dec, 1<<20, 8)
		tail = &tailReader{r: ra}
	}
	rd := &Reader{src: src, dec: dec, ra: ra, tail: tail, tr: tar.NewReader(tail)}
	h, err := rd.readHead(oc.auth)
	if err != nil {
		rd.Close()
		return nil, err
	}
	h.Compression = comp
	rd.Head = h
	if fd, ok := dec.(*frameDecoder); ok {
		fd.widen() // the payload: decode frames ahead on every core
	}
	for _, mt := range rd.headTimes {
		if !mt.Equal(rd.mtime) {
			rd.Close()
			return nil, corrupt("a metadata entry's mtime is not the kit's creation time")
		}
	}
	return rd, nil
}

// Close releases the decompressor.
func (rd *Reader) Close() error {
	if rd.ra != nil {
		rd.ra.Close()
	}
	return rd.dec.Close()
}

// next reads the next tar header and applies the checks every entry gets.
func (rd *Reader) next() (*tar.Header, error) {
	if rd.peeked != nil {
		h := rd.peeked
		rd.peeked = nil
		return h, nil
	}
	rd.tail.capture()
	h, err := rd.tr.Next()
	raw, over := rd.tail.captured()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		if errors.Is(err, ErrCorrupt) { // the decompressor's: not the tar's
			return nil, rd.src.classify(err)
		}
		return nil, rd.src.classify(fmt.Errorf("tar: %w", err))
	}
	if err := checkHeader(h); err != nil {
		return nil, &EntryError{Name: h.Name, Err: err}
	}
	if err := rd.checkCanonical(h, raw, over); err != nil {
		return nil, &EntryError{Name: h.Name, Err: err}
	}
	if rd.mtime.IsZero() {
		// In the head: checked once the manifest gives the kit's time.
		rd.headTimes = append(rd.headTimes, h.ModTime)
	} else if !h.ModTime.Equal(rd.mtime) {
		return nil, &EntryError{Name: h.Name, Err: corrupt("mtime %s is not the kit's creation time %s", h.ModTime.UTC().Format(time.RFC3339), rd.mtime.Format(time.RFC3339))}
	}
	rd.dataEnd = rd.tail.n + h.Size
	rd.prevSize = h.Size
	return h, nil
}

// maxHeaderBytes bounds the bytes between two entries' contents: padding,
// a pax header with its records, and the ustar header.
const maxHeaderBytes = 16 << 10

// checkCanonical requires the bytes read for a header — the previous
// entry's padding, then the header blocks — to be exactly those offkit's
// writer produces for the header's values (docs/FORMAT.md, Tar format).
// Parsers differ on everything else (numbers with leading NULs, bytes after
// a name's NUL, data hidden in padding), so nothing else is accepted: what
// offkit checks is what GNU tar extracts.
func (rd *Reader) checkCanonical(h *tar.Header, raw []byte, over bool) error {
	if over {
		return corrupt("header is larger than %d bytes", maxHeaderBytes)
	}
	mode := manifest.ModeFile
	if h.Mode == 0o755 {
		mode = manifest.ModeExec
	}
	var want bytes.Buffer
	want.Write(make([]byte, (512-rd.prevSize%512)%512)) // the previous entry's zero padding
	tw := tar.NewWriter(&want)
	if err := tw.WriteHeader(header(h.Name, h.Size, mode, h.ModTime)); err != nil {
		return corrupt("header cannot be written canonically: %v", err)
	}
	if !bytes.Equal(raw, want.Bytes()) {
		return corrupt("header or padding is not in canonical form (docs/FORMAT.md, Tar format)")
	}
	return nil
}

// allowedPAX are the only PAX records a kit may use.
var allowedPAX = map[string]bool{"path": true, "size": true, "mtime": true}

func checkHeader(h *tar.Header) error {
	if h.Format&(tar.FormatUSTAR|tar.FormatPAX) == 0 {
		return corrupt("header is in %v format, not USTAR or PAX", h.Format)
	}
	switch h.Typeflag {
	case tar.TypeReg:
		if h.Mode != 0o644 && h.Mode != 0o755 {
			return corrupt("mode %#o is not 0644 or 0755", h.Mode)
		}
		if strings.HasSuffix(h.Name, "/") {
			return corrupt("a regular file's name may not end in /")
		}
	case tar.TypeDir:
		if h.Mode != 0o755 || !strings.HasSuffix(h.Name, "/") {
			return corrupt("directory must have mode 0755 and a name ending in /")
		}
	default:
		return corrupt("type %q is not a regular file or directory", string(h.Typeflag))
	}
	if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
		return corrupt("owner is not 0/0 without names")
	}
	if h.Size < 0 || (h.Typeflag == tar.TypeDir && h.Size != 0) {
		return corrupt("bad size %d", h.Size)
	}
	for k := range h.PAXRecords {
		if !allowedPAX[k] {
			return corrupt("PAX record %q is not allowed", k)
		}
	}
	if err := manifest.CheckPath(strings.TrimSuffix(h.Name, "/")); err != nil {
		return err
	}
	return nil
}

// readFile reads the content of the current entry, which must be at most max.
func (rd *Reader) readFile(h *tar.Header, max int64, total *int64) ([]byte, error) {
	if h.Typeflag != tar.TypeReg {
		return nil, &EntryError{Name: h.Name, Err: corrupt("must be a regular file")}
	}
	if h.Size > max {
		return nil, &EntryError{Name: h.Name, Err: corrupt("%d bytes is over the limit of %d", h.Size, max)}
	}
	if *total += h.Size; *total > MaxHeadSize {
		return nil, &EntryError{Name: h.Name, Err: corrupt("metadata is over the limit of %d bytes", MaxHeadSize)}
	}
	// Grown as bytes arrive, never allocated by the size the header claims.
	b, err := io.ReadAll(rd.tr)
	if err == nil && int64(len(b)) != h.Size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, &EntryError{Name: h.Name, Err: rd.src.classify(fmt.Errorf("tar: %w", err))}
	}
	return b, nil
}

// readSame reads the current entry, which must be exactly want: a head file
// whose bytes the signed statement determines.
func (rd *Reader) readSame(h *tar.Header, want []byte, total *int64) error {
	if h.Typeflag != tar.TypeReg {
		return &EntryError{Name: h.Name, Err: corrupt("must be a regular file")}
	}
	if h.Size != int64(len(want)) {
		return &EntryError{Name: h.Name, Err: fmt.Errorf("%w: does not match the signed statement: %d bytes, the statement implies %d", ErrDigestMismatch, h.Size, len(want))}
	}
	if *total += h.Size; *total > MaxHeadSize {
		return &EntryError{Name: h.Name, Err: corrupt("metadata is over the limit of %d bytes", MaxHeadSize)}
	}
	buf := make([]byte, min(len(want), 64<<10))
	for off := 0; off < len(want); {
		n, err := io.ReadFull(rd.tr, buf[:min(len(buf), len(want)-off)])
		if err != nil {
			return &EntryError{Name: h.Name, Err: rd.src.classify(fmt.Errorf("tar: %w", err))}
		}
		if !bytes.Equal(buf[:n], want[off:off+n]) {
			return &EntryError{Name: h.Name, Err: fmt.Errorf("%w: does not match the signed statement: differs at byte %d from what it implies", ErrDigestMismatch, off+firstDiff(buf[:n], want[off:off+n]))}
		}
		off += n
	}
	return nil
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return len(a)
}

// readRef reads the current entry, a head file the manifest names by size
// and digest, and checks both before returning its bytes.
func (rd *Reader) readRef(h *tar.Header, ref manifest.FileRef, max int64, total *int64) ([]byte, error) {
	if h.Typeflag == tar.TypeReg && h.Size != ref.Size {
		return nil, &EntryError{Name: h.Name, Err: fmt.Errorf("%w: %d bytes, the manifest says %d", ErrDigestMismatch, h.Size, ref.Size)}
	}
	b, err := rd.readFile(h, max, total)
	if err != nil {
		return nil, err
	}
	if manifest.SHA256(b) != ref.Digest {
		return nil, &EntryError{Name: h.Name, Err: fmt.Errorf("%w: does not match its digest in the signed statement", ErrDigestMismatch)}
	}
	return b, nil
}

// readHead reads the head in archive order (docs/FORMAT.md §5, §17).
func (rd *Reader) readHead(auth Authenticator) (*Head, error) {
	var total int64

	expect := func(h *tar.Header, err error, name string) error {
		if errors.Is(err, io.EOF) {
			return corrupt("archive ends before %s", name)
		}
		if err != nil {
			return err
		}
		if h.Name != name {
			return &EntryError{Name: h.Name, Err: corrupt("expected %q here (docs/FORMAT.md, Layout)", name)}
		}
		return nil
	}
	h, err := rd.next()
	if errors.Is(err, io.EOF) {
		return nil, corrupt("empty archive")
	}
	if err != nil {
		return nil, err
	}
	if h.Typeflag != tar.TypeDir || strings.Count(h.Name, "/") != 1 {
		return nil, &EntryError{Name: h.Name, Err: corrupt("the first entry must be the root directory <name>-<version>/")}
	}
	head := &Head{Root: strings.TrimSuffix(h.Name, "/"), SBOMs: map[string][]byte{}}
	pre := head.Root + "/"

	// The envelope: the one document read before any signature is
	// checked, by a grammar that admits only the form offkit writes.
	h, err = rd.next()
	if err := expect(h, err, pre+manifest.EnvelopeName); err != nil {
		return nil, err
	}
	if h.Typeflag != tar.TypeReg {
		return nil, &EntryError{Name: h.Name, Err: corrupt("must be a regular file")}
	}
	if h.Size > manifest.MaxEnvelopeSize {
		return nil, &EntryError{Name: h.Name, Err: corrupt("%d bytes is over the limit of %d", h.Size, manifest.MaxEnvelopeSize)}
	}
	total += h.Size
	env, payload, err := manifest.ReadEnvelope(&classifyReader{rd.tr, rd.src})
	if err != nil {
		return nil, rd.src.classify(err)
	}
	if auth != nil {
		if err := auth.Envelope(env, payload); err != nil {
			return nil, err
		}
	}

	// The statement, now authenticated: its manifest determines SHA256SUMS
	// and the kit SBOM byte for byte.
	head.Payload = payload.Bytes()
	if head.Statement, head.Manifest, err = manifest.ParseStatement(head.Payload); err != nil {
		return nil, fmt.Errorf("%s: %w", manifest.EnvelopeName, err)
	}
	m := head.Manifest
	if head.Root != m.Root() {
		return nil, corrupt("root directory %q is not <name>-<version> of the manifest, %q", head.Root, m.Root())
	}
	rd.mtime, _ = m.CreatedTime()
	env.Payload = base64.StdEncoding.EncodeToString(head.Payload)
	head.Envelope = env
	if head.EnvelopeRaw, err = manifest.MarshalEnvelope(env); err != nil {
		return nil, err
	}
	if m.SBOM.Path != manifest.KitSBOMName {
		return nil, corrupt("manifest: kit SBOM must be at %s", manifest.KitSBOMName)
	}
	refs := []manifest.FileRef{m.SBOM}
	for _, c := range m.Components {
		if c.SBOM == nil {
			continue
		}
		if c.SBOM.Path != manifest.ComponentSBOMPath(c.Name) {
			return nil, corrupt("manifest: component %q SBOM must be at %s", c.Name, manifest.ComponentSBOMPath(c.Name))
		}
		refs = append(refs, *c.SBOM)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Path < refs[j].Path })

	head.Sums = m.Sums()
	head.SumsRaw = head.Sums.Marshal()
	h, err = rd.next()
	if err := expect(h, err, pre+manifest.SumsName); err != nil {
		return nil, err
	}
	if h.Size > manifest.MaxSumsSize {
		return nil, &EntryError{Name: h.Name, Err: corrupt("%d bytes is over the limit of %d", h.Size, manifest.MaxSumsSize)}
	}
	if err := rd.readSame(h, head.SumsRaw, &total); err != nil {
		return nil, err
	}
	for {
		h, err = rd.next()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if err == nil && h.Name == pre+manifest.SumsSigNameFor(len(head.SumsSigs)) {
			if len(head.SumsSigs) == len(env.Signatures) {
				return nil, &EntryError{Name: h.Name, Err: corrupt("more SHA256SUMS signature files than the %d DSSE signature(s)", len(env.Signatures))}
			}
			b, err := rd.readFile(h, MaxSumsSigSize, &total)
			if err != nil {
				return nil, err
			}
			// Every signature file is a signature, whoever made it: an
			// untrusted signer's is not checked, but it is extracted with
			// the kit, so it may not carry anything else (FORMAT §8.1).
			if sig, err := base64.StdEncoding.Strict().DecodeString(string(bytes.TrimSpace(b))); err != nil || len(sig) == 0 {
				return nil, &EntryError{Name: h.Name, Err: corrupt("not a signature: standard base64, optionally surrounded by white space")}
			}
			head.SumsSigs = append(head.SumsSigs, b)
			continue
		}
		if err := expect(h, err, pre+manifest.SBOMDir+"/"); err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeDir {
			return nil, &EntryError{Name: h.Name, Err: corrupt("must be a directory")}
		}
		break
	}
	if len(head.SumsSigs) != len(env.Signatures) {
		return nil, corrupt("%d SHA256SUMS signature file(s) for %d DSSE signature(s)", len(head.SumsSigs), len(env.Signatures))
	}
	if auth != nil {
		if err := auth.Sums(head.SumsRaw, head.SumsSigs); err != nil {
			return nil, err
		}
	}

	// The SBOMs, in path order: each the size and digest the manifest
	// gives before it is parsed; the kit's own exactly the document its
	// manifest implies.
	kitSBOM, err := manifest.MarshalSBOM(manifest.KitSBOM(m))
	if err != nil {
		return nil, err
	}
	for _, ref := range refs {
		h, err = rd.next()
		if errors.Is(err, io.EOF) || (err == nil && h.Name > pre+ref.Path) {
			return nil, corrupt("%s is missing from the archive's head", ref.Path)
		}
		if err != nil {
			return nil, err
		}
		if h.Name != pre+ref.Path {
			return nil, &EntryError{Name: h.Name, Err: corrupt("not named by the manifest, or out of order (SBOM entries are sorted)")}
		}
		if ref.Path == manifest.KitSBOMName {
			if ref.Size != int64(len(kitSBOM)) || ref.Digest != manifest.SHA256(kitSBOM) {
				return nil, fmt.Errorf("%w: %s: the manifest's digest is not that of the SBOM its manifest implies", ErrDigestMismatch, ref.Path)
			}
			if err := rd.readSame(h, kitSBOM, &total); err != nil {
				return nil, err
			}
			head.SBOMs[ref.Path] = kitSBOM
			continue
		}
		b, err := rd.readRef(h, ref, manifest.MaxSBOMSize, &total)
		if err != nil {
			return nil, err
		}
		if err := manifest.CheckSBOM(b); err != nil {
			return nil, fmt.Errorf("%s: %w", ref.Path, err)
		}
		head.SBOMs[ref.Path] = b
	}
	h, err = rd.next()
	if err == nil {
		if rel := strings.TrimPrefix(h.Name, pre); manifest.Within(strings.TrimSuffix(rel, "/"), manifest.SBOMDir) {
			return nil, &EntryError{Name: h.Name, Err: corrupt("not named by the manifest")}
		}
		rd.peeked = h // the first payload entry
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}

	rd.files = make(map[string]manifest.File, m.FileCount)
	for _, f := range m.AllFiles() {
		rd.files[f.Path] = f
		rd.dirs.addParents(f.Path)
	}
	return head, nil
}

// Next returns the next payload entry, or io.EOF after the last one. Each
// entry must be one the manifest lists, appear once, and have the listed
// size and mode; that is checked before any of its content is read, so an
// unlisted or oversized entry stops the stream at its header. The previous
// entry's content is drained and checked if the caller did not read it.
// At io.EOF every listed file has been seen and the stream's end checked.
func (rd *Reader) Next() (*Entry, error) {
	if rd.done {
		return nil, io.EOF
	}
	if rd.cur != nil {
		if _, err := io.Copy(io.Discard, rd.cur); err != nil {
			return nil, err
		}
		rd.cur = nil
	}
	h, err := rd.next()
	if errors.Is(err, io.EOF) {
		if err := rd.finish(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	if err != nil {
		return nil, err
	}
	pre := rd.Head.Root + "/"
	name, ok := strings.CutPrefix(h.Name, pre)
	if !ok || name == "" {
		return nil, &EntryError{Name: h.Name, Err: fmt.Errorf("%w: outside the root directory %s", manifest.ErrUnsafePath, pre)}
	}
	if h.Name <= rd.prev {
		return nil, &EntryError{Name: h.Name, Err: corrupt("out of order, or a duplicate: payload entries are sorted bytewise")}
	}
	rd.prev = h.Name
	if h.Typeflag == tar.TypeDir {
		id := rd.dirs.lookup(strings.TrimSuffix(name, "/"))
		if id < 0 {
			return nil, &EntryError{Name: h.Name, Err: corrupt("directory not implied by any listed file")}
		}
		if rd.dirs.seen[id] {
			return nil, &EntryError{Name: h.Name, Err: corrupt("appears twice")}
		}
		if err := rd.checkParent(h.Name, name); err != nil {
			return nil, err
		}
		rd.dirs.seen[id] = true
		return &Entry{Name: name, Dir: true, Mode: manifest.ModeExec}, nil
	}
	f, listed := rd.files[name]
	if !listed {
		return nil, &EntryError{Name: h.Name, Err: corrupt("not listed in the manifest (or appears twice)")}
	}
	delete(rd.files, name)
	if err := rd.checkParent(h.Name, name); err != nil {
		return nil, err
	}
	if h.Size != f.Size {
		return nil, &EntryError{Name: h.Name, Err: corrupt("size %d, the manifest says %d", h.Size, f.Size)}
	}
	if fmt.Sprintf("%04o", h.Mode) != f.Mode {
		return nil, &EntryError{Name: h.Name, Err: corrupt("mode %04o, the manifest says %s", h.Mode, f.Mode)}
	}
	e := &Entry{Name: name, Size: f.Size, Mode: f.Mode, r: &classifyReader{rd.tr, rd.src}, h: sha256.New(), want: f.Digest}
	rd.cur = e
	return e, nil
}

// checkParent requires a listed entry's directory to have been seen: sorted
// order puts a directory before its contents, so a parent not yet seen is
// missing or out of order. Refusing it here keeps an extractor from being
// handed an entry it has nowhere to put.
func (rd *Reader) checkParent(full, name string) error {
	if parent := path.Dir(strings.TrimSuffix(name, "/")); parent != "." && !rd.dirSeen(parent) {
		return &EntryError{Name: full, Err: corrupt("its directory %s/ has not appeared before it: missing, or out of order", parent)}
	}
	return nil
}

func (rd *Reader) dirSeen(d string) bool {
	id := rd.dirs.lookup(d)
	return id >= 0 && rd.dirs.seen[id]
}

// finish checks the end of the stream: every listed file seen, the tar
// trailer present, nothing but zeros after it, and the compressed stream
// intact to its end.
func (rd *Reader) finish() error {
	rd.done = true
	if len(rd.files) > 0 {
		var missing []string
		for n := range rd.files {
			missing = append(missing, n)
		}
		sort.Strings(missing)
		return corrupt("%d listed file(s) missing from the archive, first %q", len(missing), missing[0])
	}
	if missing := rd.dirs.unseen(); len(missing) > 0 {
		return corrupt("directory %q is missing from the archive", missing[0]+"/")
	}
	// After the last entry's content: zero padding to a 512-byte block, then
	// the end-of-archive marker of two zero blocks, all read by now.
	padded := (rd.dataEnd + 511) &^ 511
	if rd.tail.n-padded < 1024 || rd.tail.zeros < rd.tail.n-rd.dataEnd {
		return corrupt("archive is truncated: no tar end-of-archive marker")
	}
	rd.tail.watch = true
	n, err := io.Copy(io.Discard, io.LimitReader(rd.tail, MaxTrailer+1))
	if err != nil {
		return rd.src.classify(fmt.Errorf("after the tar trailer: %w", err))
	}
	if n > MaxTrailer || rd.tail.nonzero {
		return corrupt("data after the tar end-of-archive marker")
	}
	return nil
}

// sourceReader remembers the last error of the underlying reader, so that a
// failure can be classified as I/O (the file) or corruption (the content).
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return n, err
}

// classify returns err as an I/O error if the underlying reader failed,
// and as ErrCorrupt otherwise.
func (s *sourceReader) classify(err error) error {
	if s.err != nil {
		return fmt.Errorf("read kit: %w", s.err)
	}
	if errors.Is(err, ErrCorrupt) || errors.Is(err, manifest.ErrMalformed) {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return corrupt("archive is truncated (%v)", err)
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

type classifyReader struct {
	r   io.Reader
	src *sourceReader
}

func (c *classifyReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = c.src.classify(err)
	}
	return n, err
}

// tailReader tracks how many zero bytes end what has been read so far, and
// whether anything non-zero was read after it was asked to watch.
type tailReader struct {
	r       io.Reader
	n       int64  // bytes read
	rec     []byte // bytes read since capture, up to maxHeaderBytes
	recOn   bool
	recOver bool
	zeros   int64
	nonzero bool
	watch   bool
}

// capture starts recording what is read.
func (t *tailReader) capture() { t.rec, t.recOn, t.recOver = t.rec[:0], true, false }

// captured stops recording and returns what was read since capture, and
// whether that exceeded maxHeaderBytes.
func (t *tailReader) captured() ([]byte, bool) {
	t.recOn = false
	return t.rec, t.recOver
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.n += int64(n)
	b := p[:n]
	if t.recOn {
		if len(t.rec)+n > maxHeaderBytes {
			t.recOver = true
		} else {
			t.rec = append(t.rec, b...)
		}
	}
	i := len(b)
	for i > 0 && b[i-1] == 0 {
		i--
	}
	if i == 0 {
		t.zeros += int64(n)
	} else {
		t.zeros = int64(n - i)
		if t.watch {
			t.nonzero = true
		}
	}
	return n, err
}
