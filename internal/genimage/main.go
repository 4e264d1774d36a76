// Command genimage writes a deterministic OCI image layout for benchmarking
// offkit with a large container image.
//
//	go run ./internal/genimage -o DIR -size 1GiB -seed 1 -ref team/big:v1
//
// DIR becomes an OCI image layout (oci-layout, index.json, blobs/sha256/)
// holding one linux/amd64 image whose index.json entry is annotated
// org.opencontainers.image.ref.name=REF, so that kit.yaml can name it as
// `image: oci:DIR:REF`. The image has a small config and two layers, both
// gzip-compressed tars (application/vnd.oci.image.layer.v1.tar+gzip):
//
//   - a small layer: a few 1-16 KiB files of pseudo-random bytes
//   - a big layer: one file of -size ChaCha8 pseudo-random bytes, gzipped
//     without compression (stored deflate blocks), so the blob is
//     incompressible and a little larger than -size
//
// The same -size, -seed and -ref always produce byte-identical layouts.
//
// The big layer is never held in memory: a first streaming pass computes its
// digest, diff ID and size, then go-containerregistry writes it from a
// second, identical stream (partial.CompressedToLayer over a layer that
// regenerates its bytes on demand). Memory use stays at a few MiB regardless
// of -size.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/offkit/offkit/internal/sample"
)

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30

	// refNameAnnotation names an image in an OCI layout's index.json.
	refNameAnnotation = "org.opencontainers.image.ref.name"
)

// epoch is every timestamp in the image, for reproducibility.
var epoch = v1.Time{Time: time.Unix(0, 0).UTC()}

func main() {
	out := flag.String("o", "", "output directory (required); it must not exist unless -force")
	sizeStr := flag.String("size", "1GiB", "size of the big layer's file, e.g. 64MiB, 1GiB, 500MB, 1048576")
	seed := flag.Uint64("seed", 1, "seed for the deterministic generator")
	ref := flag.String("ref", "team/big:v1", "value of the image's "+refNameAnnotation+" annotation")
	force := flag.Bool("force", false, "remove an existing DIR first")
	quiet := flag.Bool("q", false, "do not print a summary")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: genimage -o DIR [-size SIZE] [-seed N] [-ref REF] [-force] [-q]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || *ref == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	size, err := sample.ParseSize(*sizeStr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "genimage: %v\n", err)
		os.Exit(2)
	}
	img, err := generate(*out, size, *seed, *ref, *force)
	if err != nil {
		fmt.Fprintf(os.Stderr, "genimage: %v\n", err)
		os.Exit(1)
	}
	if !*quiet {
		fmt.Fprintf(os.Stderr, "genimage: %s: %s %s (big layer %s, %d bytes)\n",
			*out, *ref, img.digest, img.bigDigest, img.bigSize)
	}
}

// result describes the written image.
type result struct {
	digest    v1.Hash
	bigDigest v1.Hash
	bigSize   int64
}

func generate(dir string, size int64, seed uint64, ref string, force bool) (result, error) {
	var res result
	if _, err := os.Lstat(dir); err == nil {
		if !force {
			return res, fmt.Errorf("%s already exists (use -force to replace it)", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return res, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return res, err
	}

	small, err := smallLayer(seed)
	if err != nil {
		return res, fmt.Errorf("small layer: %w", err)
	}
	big, err := newBigLayer(seed, size)
	if err != nil {
		return res, fmt.Errorf("big layer: %w", err)
	}
	bigLayer, err := partial.CompressedToLayer(big)
	if err != nil {
		return res, err
	}

	base, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Created:      epoch,
		RootFS:       v1.RootFS{Type: "layers"},
		Config: v1.Config{
			Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd:        []string{"/big.bin"},
			WorkingDir: "/",
			Labels:     map[string]string{"dev.offkit.genimage.seed": strconv.FormatUint(seed, 10)},
		},
	})
	if err != nil {
		return res, err
	}
	base = mutate.MediaType(base, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base,
		mutate.Addendum{Layer: small, History: v1.History{Created: epoch, CreatedBy: "genimage: small layer"}},
		mutate.Addendum{Layer: bigLayer, History: v1.History{Created: epoch, CreatedBy: "genimage: big layer"}},
	)
	if err != nil {
		return res, err
	}

	p, err := layout.Write(dir, mutate.IndexMediaType(empty.Index, types.OCIImageIndex))
	if err != nil {
		return res, err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{refNameAnnotation: ref})); err != nil {
		return res, err
	}

	// The layout wrote the big blob from a second stream: check that it is
	// the one the manifest names.
	fi, err := os.Stat(fmt.Sprintf("%s/blobs/%s/%s", dir, big.digest.Algorithm, big.digest.Hex))
	if err != nil {
		return res, err
	}
	if fi.Size() != big.size {
		return res, fmt.Errorf("big layer blob is %d bytes, want %d", fi.Size(), big.size)
	}
	if res.digest, err = img.Digest(); err != nil {
		return res, err
	}
	res.bigDigest, res.bigSize = big.digest, big.size
	return res, nil
}

// smallLayer returns a small gzipped tar of a few pseudo-random files, built
// in memory.
func smallLayer(seed uint64) (v1.Layer, error) {
	rng := rand.New(sample.NewRNG(seed, "small"))
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755, Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	for i := range 4 {
		data := make([]byte, kib+rng.IntN(15*kib))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("etc/small-%d.bin", i), Mode: 0o644, Size: int64(len(data)), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// bigLayer is a partial.CompressedLayer whose bytes are regenerated on every
// read: a gzip (stored blocks) of a tar holding one file of ChaCha8 bytes.
type bigLayer struct {
	seed           uint64
	fileSize       int64
	digest, diffID v1.Hash
	size           int64
}

func newBigLayer(seed uint64, fileSize int64) (*bigLayer, error) {
	l := &bigLayer{seed: seed, fileSize: fileSize}
	dh, uh := sha256.New(), sha256.New()
	cw := &countWriter{w: dh}
	if err := l.write(cw, uh); err != nil {
		return nil, err
	}
	l.digest, l.diffID, l.size = sum(dh), sum(uh), cw.n
	return l, nil
}

func sum(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

// write streams the compressed layer to w and the uncompressed tar to u.
func (l *bigLayer) write(w, u io.Writer) error {
	gz, err := gzip.NewWriterLevel(w, gzip.NoCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(io.MultiWriter(gz, u))
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: "big.bin", Mode: 0o755, Size: l.fileSize, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	rng := sample.NewRNG(l.seed, "big")
	buf := make([]byte, 256*kib)
	for left := l.fileSize; left > 0; {
		n := int64(len(buf))
		if left < n {
			n = left
		}
		rng.Read(buf[:n])
		if _, err := tw.Write(buf[:n]); err != nil {
			return err
		}
		left -= n
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func (l *bigLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *bigLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *bigLayer) Size() (int64, error)                { return l.size, nil }
func (l *bigLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }

// Compressed streams the layer through a pipe, generating it anew.
func (l *bigLayer) Compressed() (io.ReadCloser, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(l.write(pw, io.Discard)) }()
	return pr, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
