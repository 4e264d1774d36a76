package bundle

import (
	"io"
)

// readahead reads r in a goroutine of its own, so that decompression runs
// on one core while the consumer parses and hashes on another. It holds at
// most depth buffers of size bytes.
type readahead struct {
	bufs chan []byte // filled buffers, in order
	free chan []byte // empty buffers
	errc chan error  // the error that ended r, after the last buffer
	buf  []byte      // the buffer being consumed
	off  int         // how much of it has been consumed
	err  error
	stop chan struct{}
}

func newReadahead(r io.Reader, size, depth int) *readahead {
	ra := &readahead{
		bufs: make(chan []byte, depth),
		free: make(chan []byte, depth),
		errc: make(chan error, 1),
		stop: make(chan struct{}),
	}
	for range depth {
		ra.free <- make([]byte, size)
	}
	go func() {
		defer close(ra.bufs)
		for {
			var b []byte
			select {
			case b = <-ra.free:
			case <-ra.stop:
				ra.errc <- io.ErrClosedPipe
				return
			}
			n, err := fill(r, b)
			if n > 0 {
				ra.bufs <- b[:n]
			}
			if err != nil {
				ra.errc <- err
				return
			}
		}
	}()
	return ra
}

func (ra *readahead) Read(p []byte) (int, error) {
	for ra.off == len(ra.buf) {
		if ra.buf != nil {
			ra.free <- ra.buf[:cap(ra.buf)] // never blocks: depth buffers exist
			ra.buf = nil
		}
		if ra.err != nil {
			return 0, ra.err
		}
		b, ok := <-ra.bufs
		if !ok {
			ra.err = <-ra.errc
			return 0, ra.err
		}
		ra.buf, ra.off = b, 0
	}
	n := copy(p, ra.buf[ra.off:])
	ra.off += n
	return n, nil
}

// Close stops the goroutine. It does not close r.
func (ra *readahead) Close() {
	select {
	case <-ra.stop:
	default:
		close(ra.stop)
	}
	for range ra.bufs { // drain, so the goroutine can exit
	}
}

// fill reads into b until it is full or r fails, returning r's error as it
// is (io.EOF at the end; a decoder's io.ErrUnexpectedEOF for a truncated
// stream stays that).
func fill(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := r.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
