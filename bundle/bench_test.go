package bundle_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/manifest"
)

// benchSpec writes a ~64 MiB sample shaped like the make bench one: 40%
// incompressible, 40% text, 20% small files.
func benchSpec(b *testing.B) (spec *manifest.Spec, dir string, size int64) {
	b.Helper()
	dir = b.TempDir()
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	cc := rand.NewChaCha8([32]byte{2})
	write := func(name string, data []byte) {
		p := filepath.Join(dir, "data", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		size += int64(len(data))
	}
	const total = 64 << 20
	for i := range 4 {
		r := make([]byte, total*4/10/4)
		cc.Read(r)
		write(fmt.Sprintf("blob/%d.bin", i), r)
	}
	for i := range 4 {
		var t bytes.Buffer
		for t.Len() < total*4/10/4 {
			fmt.Fprintf(&t, "INSERT INTO linksets (id, tenant, observed) VALUES (%d, 'tenant-%d', now());\n", rng.IntN(1e9), rng.IntN(50))
		}
		write(fmt.Sprintf("sql/%d.sql", i), t.Bytes())
	}
	for i := 0; i < total*2/10/(16<<10); i++ {
		r := make([]byte, 16<<10)
		cc.Read(r[:8<<10])
		write(fmt.Sprintf("small/%02d/%d.dat", i%32, i), r)
	}
	y := []byte("name: bench\nversion: 1.0.0\ncomponents:\n  - name: data\n    type: data\n    from: data\n    path: data\n")
	spec, err := manifest.ParseSpec(y, "kit.yaml")
	if err != nil {
		b.Fatal(err)
	}
	return spec, dir, size
}

func BenchmarkBuild(b *testing.B) {
	spec, dir, size := benchSpec(b)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		if _, err := bundle.Build(context.Background(), io.Discard, spec, dir,
			bundle.WithCreated(bundletest.Epoch)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	spec, dir, size := benchSpec(b)
	var kit bytes.Buffer
	if _, err := bundle.Build(context.Background(), &kit, spec, dir, bundle.WithCreated(bundletest.Epoch)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		rd, err := bundle.Open(bytes.NewReader(kit.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		for {
			e, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, e); err != nil {
				b.Fatal(err)
			}
		}
		rd.Close()
	}
}
