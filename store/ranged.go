package store

import (
	"context"
	"io"
	"sync"
)

// RangeReader reads an Object from its start by range requests of growing
// size, so that a reader that stops early (inspect reads only the kit's
// head) fetches little more than it used: at most MaxWindow bytes beyond
// what was read.
//
// Read and Close may be called from different goroutines (a kit reader
// reads ahead in its own): Close waits for a Read in progress.
type RangeReader struct {
	mu      sync.Mutex
	closed  bool
	ctx     context.Context
	obj     Object
	off     int64
	window  int64
	body    io.ReadCloser
	left    int64 // bytes left in the current range
	fetched int64 // bytes requested so far
}

// Window sizes: the first request fetches MinWindow bytes, each next one
// twice the last, up to MaxWindow.
const (
	MinWindow = 64 << 10
	MaxWindow = 1 << 20
)

// NewRangeReader reads obj from its first byte.
func NewRangeReader(ctx context.Context, obj Object) *RangeReader {
	return &RangeReader{ctx: ctx, obj: obj, window: MinWindow}
}

func (r *RangeReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, io.ErrClosedPipe
	}
	if r.left == 0 {
		if r.body != nil {
			r.body.Close()
			r.body = nil
		}
		if r.off >= r.obj.Size() {
			return 0, io.EOF
		}
		n := min(r.window, r.obj.Size()-r.off)
		body, err := r.obj.Range(r.ctx, r.off, n)
		if err != nil {
			return 0, err
		}
		r.body, r.left = body, n
		r.fetched += n
		r.window = min(2*r.window, MaxWindow)
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.body.Read(p)
	r.off += int64(n)
	r.left -= int64(n)
	if err == io.EOF {
		if r.left > 0 {
			return n, io.ErrUnexpectedEOF
		}
		err = nil
	}
	return n, err
}

// Close ends the current range request.
func (r *RangeReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.body != nil {
		err := r.body.Close()
		r.body = nil
		return err
	}
	return nil
}

// Fetched is the number of bytes requested so far.
func (r *RangeReader) Fetched() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetched
}
