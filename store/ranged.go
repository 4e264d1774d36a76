package store

import (
	"context"
	"io"
)

// RangeReader reads an Object from its start by range requests of growing
// size, so that a reader that stops early (inspect reads only the kit's
// head) fetches little more than it used: at most MaxWindow bytes beyond
// what was read.
type RangeReader struct {
	ctx     context.Context
	obj     Object
	off     int64
	window  int64
	body    io.ReadCloser
	left    int64 // bytes left in the current range
	Fetched int64 // bytes requested so far
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
		r.Fetched += n
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
	if r.body != nil {
		return r.body.Close()
	}
	return nil
}
