package bundle_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
)

// TestZstdFrameRules checks the frame rules readers enforce on zstd kits
// (docs/FORMAT.md, section 3): every frame declares its content size, of
// at most ChunkSize, none is empty, at most two are shorter, and there are
// no skippable frames.
func TestZstdFrameRules(t *testing.T) {
	spec := bundletest.WriteSpec(t, t.TempDir())
	plain := bundletest.Build(t, spec, nil, bundle.WithCompression(bundle.None, 0))
	encodeAll := func(b []byte) []byte {
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		return enc.EncodeAll(b, nil)
	}
	// Frames cut at odd places, each with its content size.
	var odd []byte
	for rest, n := plain, 300; len(rest) > 0; n = n*2 + 7 {
		k := min(n, len(rest))
		if len(rest)-k < 256 { // the encoder omits the content size of frames under 256 bytes
			k = len(rest)
		}
		odd = append(odd, encodeAll(rest[:k])...)
		rest = rest[k:]
	}
	// A kit of many short frames costs a reader a frame's overhead per few
	// bytes: readers refuse a third frame under ChunkSize, as no conforming
	// writer makes one (the last of the head and of the payload).
	if _, err := bundle.Open(bytes.NewReader(odd)); !errors.Is(err, bundle.ErrCorrupt) || !strings.Contains(err.Error(), "shorter than") {
		t.Fatalf("frames at odd boundaries: %v, want the short-frame limit", err)
	}
	two := append(encodeAll(plain[:len(plain)/2]), encodeAll(plain[len(plain)/2:])...)
	if rd, err := bundle.Open(bytes.NewReader(two)); err != nil {
		t.Fatalf("two short frames: %v", err)
	} else {
		rd.Close()
	}
	empty := append(encodeAll(plain[:len(plain)/2]), append(encodeAll(nil), encodeAll(plain[len(plain)/2:])...)...)
	if _, err := bundle.Open(bytes.NewReader(empty)); !errors.Is(err, bundle.ErrCorrupt) {
		t.Fatalf("an empty frame: %v, want ErrCorrupt", err)
	}

	// The encoder leaves out the content size of a frame under 256 bytes.
	noSize := append(encodeAll(plain[:100]), encodeAll(plain[100:])...)

	// One frame of more than ChunkSize: the payload padded out with a
	// trailer of zeros (which readers otherwise accept, up to MaxTrailer).
	big := append(append([]byte{}, plain...), make([]byte, bundle.ChunkSize)...)

	first := encodeAll(plain[:1024])
	skippable := []byte{0x51, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 0, 0, 0, 0}
	withSkippable := append(append(append([]byte{}, first...), skippable...), encodeAll(plain[1024:])...)

	reserved := encodeAll(plain)
	// The first block header follows the frame header: set its type to 3.
	var h zstd.Header
	if err := h.Decode(reserved); err != nil {
		t.Fatal(err)
	}
	reserved = append([]byte{}, reserved...)
	reserved[h.HeaderSize] |= 3 << 1

	whole := encodeAll(plain)
	for _, c := range []struct {
		name, want string
		kit        []byte
	}{
		{"frame without its content size", "does not declare its content size", noSize},
		{"frame over ChunkSize", "declares 4", encodeAll(big)},
		{"skippable frame mid-stream", "a skippable zstd frame at offset", withSkippable},
		{"reserved block type", "reserved block type", reserved},
		{"truncated in a frame header", "archive is truncated", append(append([]byte{}, first...), whole[:3]...)},
		{"truncated in a block", "archive is truncated", whole[:len(whole)/2]},
	} {
		t.Run(c.name, func(t *testing.T) {
			rd, err := bundle.Open(bytes.NewReader(c.kit))
			if err == nil {
				for err == nil {
					_, err = rd.Next()
				}
				rd.Close()
			}
			if !errors.Is(err, bundle.ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrCorrupt with %q", err, c.want)
			}
		})
	}
}
