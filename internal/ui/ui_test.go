package ui

import (
	"io"
	"strings"
	"testing"
)

func TestHuman(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1258: "1.2 KiB", 48 << 20: "48.0 MiB", 1 << 40: "1.0 TiB"} {
		if got := Human(n); got != want {
			t.Errorf("Human(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestProgressOffTerminal: a meter off a terminal counts and prints
// nothing (tests run without one), and the reader passes every byte.
func TestProgressOffTerminal(t *testing.T) {
	p := NewProgress("reading", false)
	if p.on {
		t.Skip("stderr is a terminal")
	}
	r := &CountingReader{R: strings.NewReader(strings.Repeat("x", 100000)), Total: 100000, P: p}
	n, err := io.Copy(io.Discard, r)
	if n != 100000 || err != nil || r.n != 100000 || p.shown {
		t.Fatalf("copied %d, %v; counted %d; shown %v", n, err, r.n, p.shown)
	}
	p.Finish()
}
