package images_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/offkit/offkit/images"
	"github.com/offkit/offkit/internal/registrytest"
)

// benchLayerSize is the size of the generated layer: 1 GiB, or
// OFFKIT_BENCH_LAYER_MIB MiB.
func benchLayerSize(b *testing.B) int64 {
	if s := os.Getenv("OFFKIT_BENCH_LAYER_MIB"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("OFFKIT_BENCH_LAYER_MIB=%q: want a positive number", s)
		}
		return n << 20
	}
	return 1 << 30
}

// noise returns size incompressible bytes, the same for the same seed.
func noise(seed uint64, size int64) io.Reader {
	var key [32]byte
	key[0] = byte(seed)
	return io.LimitReader(rand.NewChaCha8(key), size)
}

// bigLayer is a generated layer streamed from noise, never held in memory.
type bigLayer struct {
	size   int64
	digest v1.Hash
}

func (l *bigLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *bigLayer) Size() (int64, error)                { return l.size, nil }
func (l *bigLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l *bigLayer) Compressed() (io.ReadCloser, error)  { return io.NopCloser(noise(1, l.size)), nil }

// bigSource writes an OCI layout source holding one image with a layer of
// size bytes, streaming it to disk.
func bigSource(b *testing.B, size int64) string {
	b.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, noise(1, size)); err != nil {
		b.Fatal(err)
	}
	l := &bigLayer{size: size, digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}}
	layer, err := partial.CompressedToLayer(l)
	if err != nil {
		b.Fatal(err)
	}
	img := randomImage(b, 1)
	img, err = appendLayer(img, layer)
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "src")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{refName: "team/big:v1"})); err != nil {
		b.Fatal(err)
	}
	return dir
}

// peak samples the heap in use every few milliseconds until stopped.
type peak struct {
	mu   sync.Mutex
	max  uint64
	stop chan struct{}
	done chan struct{}
}

func startPeak() *peak {
	runtime.GC()
	p := &peak{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		var ms runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			p.mu.Lock()
			p.max = max(p.max, ms.HeapInuse)
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peak) end() uint64 {
	close(p.stop)
	<-p.done
	return p.max
}

func maxRSS(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return float64(ru.Maxrss) / 1024 // Linux reports KiB
}

// BenchmarkCopyBigLayer copies an image with a generated 1 GiB layer
// through the streaming path, resolving an oci: source, writing the layout,
// checking it, and pushing it to a real registry, and reports the peak
// heap in use and the process's peak RSS. Memory must stay flat: nothing
// holds a blob. Run it with
//
//	go test -run '^$' -bench BenchmarkCopyBigLayer -benchtime 1x ./images/
func BenchmarkCopyBigLayer(b *testing.B) {
	ctx := context.Background()
	size := benchLayerSize(b)
	src := bigSource(b, size)
	host := registrytest.Start(b)
	b.SetBytes(size)
	b.ResetTimer()
	var heap uint64
	for i := range b.N {
		pk := startPeak()
		img := resolve(b, "oci:"+src+":team/big:v1")
		plan, err := images.NewPlan(img)
		if err != nil {
			b.Fatal(err)
		}
		out := filepath.Join(b.TempDir(), "images"+strconv.Itoa(i))
		if err := images.WriteDir(ctx, plan, out); err != nil {
			b.Fatal(err)
		}
		fsys := os.DirFS(out)
		if _, err := images.CheckLayout(fsys, img.Digest()); err != nil {
			b.Fatal(err)
		}
		l, err := images.OpenLayout(fsys)
		if err != nil {
			b.Fatal(err)
		}
		targets, err := images.PlanPush(l, host+"/site")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := images.Push(ctx, l, targets[0]); err != nil {
			b.Fatal(err)
		}
		heap = max(heap, pk.end())
		os.RemoveAll(out)
	}
	b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(maxRSS(b), "max-RSS-MiB")
}

func appendLayer(img v1.Image, l v1.Layer) (v1.Image, error) {
	return mutate.AppendLayers(img, l)
}
