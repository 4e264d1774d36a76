package bundle

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Frame limits a reader enforces on a zstd kit (docs/FORMAT.md, section 3
// and "Limits"). offkit's writer cuts the tar stream into ChunkSize chunks
// and compresses each as one frame that records its content size, so each
// frame can be cut from the stream without decoding it, and several can be
// decoded at once.
const (
	// MaxFrameContent bounds the content of one zstd frame; the frame must
	// declare it (Frame_Content_Size).
	MaxFrameContent = ChunkSize
	// maxFrameBytes bounds the compressed bytes of one frame: its content
	// stored raw, a block header per 128 KiB block, the frame header and
	// checksum, and slack.
	maxFrameBytes = MaxFrameContent + MaxFrameContent/zstdMaxBlock*3 + 64<<10
	zstdMaxBlock  = 128 << 10 // Block_Maximum_Size (RFC 8878, 3.1.1.2.3)
	// framesInFlight is how many frames are read ahead and decoded at once.
	framesInFlight = 3
)

// frameDecoder decodes a kit's zstd stream several frames at a time: one
// goroutine cuts the stream into frames by their block headers, without
// decoding them, and each frame is decoded on its own (DecodeAll, which
// checks its content size and checksum) while Read returns the frames'
// content in order. Memory is bounded by framesInFlight frames.
type frameDecoder struct {
	dec     *zstd.Decoder
	futures chan chan frame // one per frame, in stream order
	stop    chan struct{}
	done    chan struct{}
	cur     frame
	off     int
	err     error
	free    chan *[]byte  // buffers of maxFrameBytes capacity, made as needed
	tokens  chan struct{} // one per frame the splitter may cut ahead of Read
	short   int           // frames shorter than MaxFrameContent so far (the splitter's)
	widened sync.Once
	closer  sync.Once
}

type frame struct {
	buf *[]byte // decoded content
	err error
}

func newFrameDecoder(br *bufio.Reader) (*frameDecoder, error) {
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(framesInFlight),
		zstd.WithDecoderMaxWindow(MaxWindow),
		zstd.WithDecoderMaxMemory(MaxFrameContent))
	if err != nil {
		return nil, err
	}
	d := &frameDecoder{
		dec:     dec,
		futures: make(chan chan frame, framesInFlight),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		free:    make(chan *[]byte, 2*framesInFlight+3),
		tokens:  make(chan struct{}, framesInFlight),
	}
	// One frame ahead until widen: a head is read a frame at a time, so an
	// untrusted kit is refused without the payload's read-ahead buffers.
	d.tokens <- struct{}{}
	go d.split(br)
	return d, nil
}

// buffer returns a free buffer, or a new one: at most 2*framesInFlight+3
// are ever in use (frames queued with their compressed and decoded bytes,
// the one being read, the one being cut), so they are kept, not collected.
func (d *frameDecoder) buffer() *[]byte {
	select {
	case b := <-d.free:
		return b
	default:
		b := make([]byte, 0, maxFrameBytes)
		return &b
	}
}

func (d *frameDecoder) release(b *[]byte) {
	select {
	case d.free <- b:
	default:
	}
}

// split cuts the stream into frames and starts decoding each.
func (d *frameDecoder) split(br *bufio.Reader) {
	defer close(d.done)
	defer close(d.futures)
	var off int64
	for {
		select {
		case <-d.tokens:
		case <-d.stop:
			return
		}
		comp := d.buffer()
		size, err := readFrame(br, comp, off)
		if errors.Is(err, io.EOF) {
			d.release(comp)
			return
		}
		if err == nil {
			err = d.countShort(size, off)
		}
		fut := make(chan frame, 1)
		select {
		case d.futures <- fut:
		case <-d.stop:
			return
		}
		if err != nil {
			fut <- frame{err: err}
			return
		}
		at, n := off, int64(len(*comp)) // comp is the decoder's from here on
		off += n
		go func() {
			out := d.buffer()
			b, err := d.dec.DecodeAll(*comp, (*out)[:0])
			switch {
			case err != nil:
				err = fmt.Errorf("%w: zstd frame at offset %d: %v", ErrCorrupt, at, err)
			case uint64(len(b)) != size:
				err = corrupt("zstd frame at offset %d: %d bytes of content, its header says %d", at, len(b), size)
			}
			*out = b
			d.release(comp)
			fut <- frame{buf: out, err: err}
		}()
	}
}

// maxShortFrames is how many frames of a kit may hold less than
// MaxFrameContent: offkit's writers fill every frame but the last of the
// head and the last of the payload. Without it a kit of tiny frames costs a
// reader a frame's overhead per few bytes of input.
const maxShortFrames = 2

// countShort refuses an empty frame, and a third frame shorter than
// MaxFrameContent.
func (d *frameDecoder) countShort(size uint64, off int64) error {
	switch {
	case size == 0:
		return corrupt("zstd frame at offset %d is empty (docs/FORMAT.md, section 3)", off)
	case size < MaxFrameContent:
		if d.short++; d.short > maxShortFrames {
			return corrupt("zstd frame at offset %d: more than %d frames shorter than %d bytes (docs/FORMAT.md, section 3)", off, maxShortFrames, MaxFrameContent)
		}
	}
	return nil
}

// readFrame reads one zstd frame from br into comp (which it resets) and
// returns the content size it declares; io.EOF at a clean end of the
// stream. off is the frame's offset in the kit, for errors.
func readFrame(br *bufio.Reader, comp *[]byte, off int64) (uint64, error) {
	*comp = (*comp)[:0]
	peek, err := br.Peek(zstd.HeaderMaxSize)
	if len(peek) == 0 && errors.Is(err, io.EOF) {
		return 0, io.EOF
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	if len(peek) < 4 && bytes.HasPrefix(zstdMagic, peek) {
		return 0, io.ErrUnexpectedEOF // the stream ends in a frame's magic
	}
	if len(peek) < 4 || !isZstdMagic(peek) {
		if len(peek) >= 4 && binary.LittleEndian.Uint32(peek)&^0xf == 0x184d2a50 {
			return 0, corrupt("a skippable zstd frame at offset %d: kits have none", off)
		}
		return 0, corrupt("not a zstd frame at offset %d", off)
	}
	var h zstd.Header
	if err := h.Decode(peek); err != nil {
		if len(peek) < zstd.HeaderMaxSize {
			return 0, io.ErrUnexpectedEOF // the stream ends in the header
		}
		return 0, corrupt("zstd frame at offset %d: %v", off, err)
	}
	switch {
	case h.DictionaryID != 0:
		return 0, corrupt("zstd frame at offset %d: uses a dictionary", off)
	case !h.SingleSegment && h.WindowSize > MaxWindow:
		return 0, corrupt("zstd frame at offset %d: window size exceeded: it asks for %d bytes, at most %d", off, h.WindowSize, MaxWindow)
	case !h.HasFCS:
		return 0, corrupt("zstd frame at offset %d: does not declare its content size", off)
	case h.FrameContentSize > MaxFrameContent:
		return 0, corrupt("zstd frame at offset %d: declares %d bytes of content, at most %d", off, h.FrameContentSize, MaxFrameContent)
	}
	if err := appendN(br, comp, h.HeaderSize); err != nil {
		return 0, err
	}
	for last := false; !last; {
		if err := appendN(br, comp, 3); err != nil {
			return 0, err
		}
		bh := (*comp)[len(*comp)-3:]
		v := uint32(bh[0]) | uint32(bh[1])<<8 | uint32(bh[2])<<16
		last = v&1 == 1
		size := int(v >> 3)
		switch (v >> 1) & 3 {
		case 1: // RLE: one byte, repeated size times
			size = 1
		case 3:
			return 0, corrupt("zstd frame at offset %d: reserved block type", off)
		}
		if size > zstdMaxBlock {
			return 0, corrupt("zstd frame at offset %d: a block of %d bytes, at most %d", off, size, zstdMaxBlock)
		}
		if len(*comp)+size > maxFrameBytes {
			return 0, corrupt("zstd frame at offset %d: more than %d compressed bytes", off, maxFrameBytes)
		}
		if err := appendN(br, comp, size); err != nil {
			return 0, err
		}
	}
	if h.HasCheckSum {
		if err := appendN(br, comp, 4); err != nil {
			return 0, err
		}
	}
	return h.FrameContentSize, nil
}

func isZstdMagic(b []byte) bool {
	return b[0] == zstdMagic[0] && b[1] == zstdMagic[1] && b[2] == zstdMagic[2] && b[3] == zstdMagic[3]
}

// appendN appends the next n bytes of br to b; a stream that ends first is
// io.ErrUnexpectedEOF (truncated).
func appendN(br *bufio.Reader, b *[]byte, n int) error {
	start := len(*b)
	*b = append(*b, make([]byte, n)...)
	if _, err := io.ReadFull(br, (*b)[start:]); err != nil {
		*b = (*b)[:start]
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// widen lets the splitter run framesInFlight frames ahead: for the
// payload, once the head is read.
func (d *frameDecoder) widen() {
	d.widened.Do(func() {
		for range framesInFlight - 1 {
			select {
			case d.tokens <- struct{}{}:
			default:
			}
		}
	})
}

// Read returns the stream's content, frame after frame.
func (d *frameDecoder) Read(p []byte) (int, error) {
	for d.cur.buf == nil || d.off == len(*d.cur.buf) {
		if d.err != nil {
			return 0, d.err
		}
		if d.cur.buf != nil {
			d.release(d.cur.buf)
			d.cur.buf = nil
		}
		fut, ok := <-d.futures
		if !ok {
			d.err = io.EOF
			return 0, io.EOF
		}
		f := <-fut
		select {
		case d.tokens <- struct{}{}: // the splitter may cut the next frame
		default:
		}
		if f.err != nil {
			if f.buf != nil {
				d.release(f.buf)
			}
			d.err = f.err
			return 0, f.err
		}
		d.cur, d.off = f, 0
	}
	n := copy(p, (*d.cur.buf)[d.off:])
	d.off += n
	return n, nil
}

// Close stops reading ahead. It does not wait for a read of the source
// in progress: the decoder is released once the splitter and every frame
// being decoded have finished.
func (d *frameDecoder) Close() error {
	d.closer.Do(func() {
		close(d.stop)
		go func() {
			for fut := range d.futures {
				<-fut
			}
			<-d.done
			d.dec.Close()
		}()
	})
	return nil
}
