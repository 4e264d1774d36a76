// Package ui is the command line's terminal I/O: a progress meter shown
// only on a terminal, the key password prompt, and human-readable sizes.
// It holds no format or trust rule.
package ui

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Password returns the key password: COSIGN_PASSWORD if set (even empty),
// else a prompt on the terminal, confirmed when confirm is true.
func Password(confirm bool) ([]byte, error) {
	if p, ok := os.LookupEnv("COSIGN_PASSWORD"); ok {
		return []byte(p), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, errors.New("no password: set COSIGN_PASSWORD (standard input is not a terminal to prompt on)")
	}
	fmt.Fprint(os.Stderr, "Enter password for private key: ")
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, err
	}
	if confirm {
		fmt.Fprint(os.Stderr, "Enter password for private key again: ")
		q, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return nil, err
		}
		if string(p) != string(q) {
			return nil, errors.New("passwords do not match")
		}
	}
	return p, nil
}

// Progress prints a one-line progress meter on stderr when stderr is a
// terminal, at most ten times a second, and nothing otherwise.
type Progress struct {
	label string
	on    bool
	mu    sync.Mutex
	last  time.Time
	start time.Time
	shown bool
}

// NewProgress returns the meter of label; quiet (or stderr not a terminal)
// turns it off.
func NewProgress(label string, quiet bool) *Progress {
	return &Progress{label: label, on: !quiet && term.IsTerminal(int(os.Stderr.Fd())), start: time.Now()}
}

// Update shows done of total bytes (total 0: unknown).
func (p *Progress) Update(done, total int64) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last = now
	rate := float64(done) / max(now.Sub(p.start).Seconds(), 0.001)
	if total <= 0 { // reading a stream of unknown size
		fmt.Fprintf(os.Stderr, "\r%s %s %s/s ", p.label, Human(done), Human(int64(rate)))
	} else {
		pct := float64(done) * 100 / float64(total)
		fmt.Fprintf(os.Stderr, "\r%s %s / %s (%.0f%%) %s/s ", p.label, Human(done), Human(total), pct, Human(int64(rate)))
	}
	p.shown = true
}

// Finish clears the meter.
func (p *Progress) Finish() {
	if p.on && p.shown {
		fmt.Fprint(os.Stderr, "\r"+strings.Repeat(" ", 72)+"\r")
	}
}

// CountingReader reports to P the bytes read from R, of Total.
type CountingReader struct {
	R     io.Reader
	Total int64
	P     *Progress
	n     int64
}

func (c *CountingReader) Read(b []byte) (int, error) {
	n, err := c.R.Read(b)
	c.n += int64(n)
	c.P.Update(c.n, c.Total)
	return n, err
}

// Human writes a size in bytes as people read it: 1.2 KiB, 48.0 MiB.
func Human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
