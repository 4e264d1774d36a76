package bundle

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression names a kit's compression.
type Compression string

// Supported compressions.
const (
	Zstd Compression = "zstd"
	Gzip Compression = "gzip"
	None Compression = "none"
)

// ChunkSize is the amount of tar stream compressed into each independent
// zstd frame or gzip member. Independent chunks let every core compress, and
// fixing their size (not the core count) keeps the output deterministic.
const ChunkSize = 4 << 20

// ParseCompression parses a --compression value.
func ParseCompression(s string) (Compression, error) {
	switch c := Compression(s); c {
	case Zstd, Gzip, None:
		return c, nil
	}
	return "", fmt.Errorf("unknown compression %q (want zstd, gzip or none)", s)
}

// DefaultLevel returns the default level of c.
func (c Compression) DefaultLevel() int {
	switch c {
	case Zstd:
		return 3
	case Gzip:
		return 6
	}
	return 0
}

// CheckLevel validates a level for c (0 means the default).
func (c Compression) CheckLevel(level int) error {
	if level == 0 {
		return nil
	}
	return c.checkLevel(level)
}

// checkLevel validates a level for c.
func (c Compression) checkLevel(level int) error {
	switch c {
	case Zstd:
		if level < 1 || level > 22 {
			return fmt.Errorf("zstd level %d out of range 1..22", level)
		}
	case Gzip:
		if level < 1 || level > 9 {
			return fmt.Errorf("gzip level %d out of range 1..9", level)
		}
	}
	return nil
}

// compressor is an io.WriteCloser that cuts its input into ChunkSize chunks,
// compresses them in parallel and writes the results in order.
type compressor struct {
	dst     io.Writer
	encode  func(dst, src []byte) ([]byte, error)
	buf     []byte
	pending []chan result
	jobs    chan job
	wg      sync.WaitGroup
	err     error
	free    chan []byte // recycled input chunk buffers
	outFree chan []byte // recycled output buffers
	closed  bool
}

type job struct {
	in  []byte
	out chan result
}

type result struct {
	b   []byte
	err error
}

// newCompressor returns a writer that compresses into dst with c at level.
// For None it returns a pass-through writer.
func newCompressor(dst io.Writer, c Compression, level int) (io.WriteCloser, error) {
	if err := c.checkLevel(level); err != nil {
		return nil, err
	}
	workers := runtime.GOMAXPROCS(0)
	var encode func(dst, src []byte) ([]byte, error)
	switch c {
	case None:
		return nopCloser{dst}, nil
	case Zstd:
		enc, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
			zstd.WithEncoderConcurrency(workers),
			zstd.WithEncoderCRC(true))
		if err != nil {
			return nil, err
		}
		encode = func(dst, src []byte) ([]byte, error) {
			return enc.EncodeAll(src, dst), nil
		}
	case Gzip:
		encode = func(dst, src []byte) ([]byte, error) {
			b := bytes.NewBuffer(dst)
			zw, err := gzip.NewWriterLevel(b, level)
			if err != nil {
				return nil, err
			}
			zw.ModTime = time.Unix(0, 0) // MTIME 0: no time stamp, deterministic
			if _, err := zw.Write(src); err != nil {
				return nil, err
			}
			if err := zw.Close(); err != nil {
				return nil, err
			}
			return b.Bytes(), nil
		}
	default:
		return nil, fmt.Errorf("unknown compression %q", c)
	}
	w := &compressor{dst: dst, encode: encode, jobs: make(chan job),
		free: make(chan []byte, 2*workers+2), outFree: make(chan []byte, 2*workers+2)}
	w.buf = w.getBuf()
	for range workers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for j := range w.jobs {
				b, err := w.encode(w.getOut(), j.in)
				select {
				case w.free <- j.in[:0]:
				default:
				}
				j.out <- result{b, err}
			}
		}()
	}
	return w, nil
}

func (w *compressor) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), ChunkSize-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p, n = p[k:], n+k
		if len(w.buf) == ChunkSize {
			if err := w.submit(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// submit hands the current chunk to a worker, writing out finished chunks so
// that at most 2*workers are in flight.
func (w *compressor) submit() error {
	out := make(chan result, 1)
	w.jobs <- job{in: w.buf, out: out}
	w.pending = append(w.pending, out)
	w.buf = w.getBuf()
	for len(w.pending) > 2*runtime.GOMAXPROCS(0) {
		if err := w.drainOne(); err != nil {
			return err
		}
	}
	return nil
}

func (w *compressor) getBuf() []byte {
	select {
	case b := <-w.free:
		return b
	default:
		return make([]byte, 0, ChunkSize)
	}
}

func (w *compressor) drainOne() error {
	r := <-w.pending[0]
	w.pending = w.pending[1:]
	if r.err != nil {
		w.err = r.err
		return r.err
	}
	if _, err := w.dst.Write(r.b); err != nil {
		w.err = err
		return err
	}
	select {
	case w.outFree <- r.b[:0]:
	default:
	}
	return nil
}

// getOut returns an empty output buffer large enough for a chunk that does
// not compress (zstd and gzip add at most a few bytes per 128 KiB block).
func (w *compressor) getOut() []byte {
	select {
	case b := <-w.outFree:
		return b
	default:
		return make([]byte, 0, ChunkSize+ChunkSize/64+4096)
	}
}

// Close compresses what is buffered, writes everything out and stops the
// workers. It does not close dst.
func (w *compressor) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil && len(w.buf) > 0 {
		_ = w.submit()
	}
	for len(w.pending) > 0 {
		if err := w.drainOne(); err != nil && w.err == nil {
			w.err = err
		}
	}
	close(w.jobs)
	w.wg.Wait()
	return w.err
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Limits applied while decompressing untrusted kits.
const (
	// MaxWindow bounds the zstd window a kit may ask a reader to allocate.
	MaxWindow = 64 << 20
)

// ErrUnknownFormat is returned for input that is neither a zstd, gzip nor
// plain tar stream.
var ErrUnknownFormat = fmt.Errorf("%w: not an offkit kit: unknown compression (want zstd, gzip or tar)", ErrCorrupt)

// Magic numbers of the compressed formats a kit may use.
var (
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
	gzipMagic = []byte{0x1f, 0x8b}
)

// decompress detects r's compression from its first bytes and returns a
// reader of the tar stream. Decoding errors are the caller's to classify.
func decompress(r io.Reader) (io.ReadCloser, Compression, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, "", err
	}
	isZstd, isGzip := bytes.HasPrefix(magic, zstdMagic), bytes.HasPrefix(magic, gzipMagic)
	compressed := isZstd || isGzip
	if compressed && (len(magic) >= 262 && string(magic[257:262]) == "ustar" ||
		len(magic) >= 512 && looksLikeTarHeader(magic[:512])) {
		// GNU tar takes a file whose first block is a valid tar header for
		// an uncompressed archive: it would extract something else than
		// what is verified here.
		return nil, "", corrupt("the kit's first 512 bytes also read as a tar header: GNU tar would not see the compressed kit")
	}
	switch {
	case isZstd:
		d, err := newFrameDecoder(br)
		if err != nil {
			return nil, "", err
		}
		return d, Zstd, nil
	case isGzip:
		d, err := gzip.NewReader(br)
		if err != nil {
			return nil, "", fmt.Errorf("%w: gzip: %v", ErrCorrupt, err)
		}
		if err := checkGzipHeader(&d.Header); err != nil {
			return nil, "", err
		}
		d.Multistream(false)
		return &gzipMembers{br: br, z: d}, Gzip, nil
	case len(magic) >= 263 && string(magic[257:262]) == "ustar":
		return io.NopCloser(br), None, nil
	}
	return nil, "", ErrUnknownFormat
}

// looksLikeTarHeader reports whether GNU tar would take block for a tar
// header, and so read the whole file as an uncompressed archive: the test of
// tar_checksum in GNU tar's list.c, with the recorded checksum parsed as its
// from_header does (one leading NUL skipped, then white space, then octal
// digits; no digits reads as 0). Checksums in other forms a lenient parser
// might accept (base-256, leading NULs) count too.
func looksLikeTarHeader(block []byte) bool {
	var unsigned, signed int64
	for i, c := range block {
		if i >= 148 && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	if unsigned == 8*' ' { // an all-zero block
		return false
	}
	field := block[148:156]
	var candidates []int64
	if v, ok := gnuOctal(field); ok {
		candidates = append(candidates, v)
	}
	if v, ok := gnuOctal(bytes.TrimLeft(field, "\x00 \t\n\v\f\r")); ok {
		candidates = append(candidates, v)
	}
	if field[0]&0x80 != 0 { // base-256
		v := int64(field[0] & 0x7f)
		for _, c := range field[1:] {
			v = v<<8 | int64(c)
		}
		candidates = append(candidates, v)
	}
	for _, v := range candidates {
		if v == unsigned || v == signed {
			return true
		}
	}
	return false
}

// gnuOctal parses a numeric header field as GNU tar's from_header does for
// octal-only fields.
func gnuOctal(f []byte) (int64, bool) {
	isSpace := func(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }
	i := 0
	if len(f) > 0 && f[0] == 0 {
		i++
	}
	for ; ; i++ {
		if i == len(f) {
			return 0, false
		}
		if !isSpace(f[i]) {
			break
		}
	}
	var v int64
	for i < len(f) && f[i] >= '0' && f[i] <= '7' {
		v = v<<3 | int64(f[i]-'0')
		i++
	}
	if i != len(f) && f[i] != 0 && !isSpace(f[i]) {
		return 0, false
	}
	return v, true
}

// checkGzipHeader refuses the optional gzip header fields kits never use:
// they are where a tar header can be hidden from zstd/gzip-aware readers.
func checkGzipHeader(h *gzip.Header) error {
	if len(h.Extra) > 0 || h.Name != "" || h.Comment != "" {
		return corrupt("gzip member has extra, name or comment fields, which kits do not use")
	}
	return nil
}

// gzipMembers reads a multi-member gzip stream one member at a time, so
// that every member's header is checked, not only the first.
type gzipMembers struct {
	br   *bufio.Reader
	z    *gzip.Reader
	done bool
}

func (g *gzipMembers) Read(p []byte) (int, error) {
	for !g.done {
		n, err := g.z.Read(p)
		if !errors.Is(err, io.EOF) {
			return n, err
		}
		// The end of a member: another, or the end of the stream.
		switch err := g.z.Reset(g.br); {
		case errors.Is(err, io.EOF):
			g.done = true
		case err != nil:
			return n, fmt.Errorf("%w: gzip: %v", ErrCorrupt, err)
		default:
			g.z.Multistream(false)
			if err := checkGzipHeader(&g.z.Header); err != nil {
				return n, err
			}
		}
		if n > 0 {
			return n, nil
		}
	}
	return 0, io.EOF
}

func (g *gzipMembers) Close() error { return g.z.Close() }
