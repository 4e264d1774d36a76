package bundle

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/offkit/offkit/manifest"
)

// TestBuildRefusesOversizedHead checks that a head over a reader limit is
// refused before anything is written, so Build never makes a kit that
// Open refuses.
func TestBuildRefusesOversizedHead(t *testing.T) {
	base := func() *Head {
		return &Head{
			Manifest: &manifest.Manifest{FileCount: 1},
			Envelope: manifest.NewEnvelope([]byte("{}")),
			SBOMs:    map[string][]byte{},
		}
	}
	cases := map[string]func(h *Head){
		"SHA256SUMS": func(h *Head) { h.SumsRaw = make([]byte, manifest.MaxSumsSize+1) },
		"statement":  func(h *Head) { h.Payload = make([]byte, manifest.MaxStatementSize+1) },
		"SBOM":       func(h *Head) { h.SBOMs[manifest.KitSBOMName] = make([]byte, manifest.MaxSBOMSize+1) },
		"whole head": func(h *Head) {
			for i := range 5 {
				h.SBOMs[manifest.ComponentSBOMPath(string(rune('a'+i)))] = make([]byte, manifest.MaxSBOMSize)
			}
		},
	}
	for name, grow := range cases {
		t.Run(name, func(t *testing.T) {
			h := base()
			grow(h)
			var out countingWriter
			err := h.write(&out, &config{compression: None})
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if out.n != 0 {
				t.Fatalf("%d bytes written before the refusal", out.n)
			}
		})
	}
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

// TestSourceChangedBetweenPasses changes a source after it was hashed and
// before it is written: the build must fail, not write a kit whose content
// differs from its signed claims.
func TestSourceChangedBetweenPasses(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"src/a.sql": "one\n", "src/b.sql": "two\n"} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	spec, err := manifest.ParseSpec([]byte("name: x\nversion: 1.0.0\ncomponents:\n  - name: c\n    from: src\n    path: c\n"), "kit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srcs, _, err := plan(spec, dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := newConfig([]Option{WithCreated(time.Unix(1, 0))})
	digests, err := hashSources(context.Background(), srcs, cfg, 8)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, content string }{
		{"same size", "ONE\n"},
		{"grown", "one more\n"},
		{"shrunk", "1\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, "src/a.sql"), []byte(c.content), 0o644)
			err := writePayload(context.Background(), &countingWriter{}, "x-1.0.0", srcs, digests, cfg, 8, 16)
			if !errors.Is(err, ErrSourceChanged) {
				t.Fatalf("err = %v, want ErrSourceChanged", err)
			}
		})
	}
}
