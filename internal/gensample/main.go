// Command gensample writes a deterministic sample tree for benchmarking
// offkit against a manual sha256sum+tar+zstd pipeline.
//
//	go run ./internal/gensample -o DIR -size 1GiB -seed 1
//
// It creates DIR/kit.yaml and DIR/data/ with roughly the requested number of
// payload bytes, split as:
//
//   - ~40% incompressible: a few 8-64 MiB files of ChaCha8 pseudo-random bytes
//   - ~40% compressible text: 1-16 MiB files of log- and SQL-like lines
//   - ~20% small files: thousands of 1-64 KiB files (mixed text/random) in
//     nested directories
//
// -shape many keeps the 40/40/20 split but makes the small files 1-8 KiB
// and the random part three large blobs (a 1 GiB sample has about 46,000
// files: a seed bundle's shape); -shape tiny writes -files files of
// 1-4 KiB each and ignores -size (one object per file, as the 21-103 seed
// bundle moves them).
//
// The same -size, -seed, -shape and -files always produce byte-identical trees. Output is
// streamed; memory use stays at a few MiB regardless of -size.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/offkit/offkit/internal/sample"
)

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
)

func main() {
	out := flag.String("o", "", "output directory (required); the tree goes to DIR/data, the spec to DIR/kit.yaml")
	sizeStr := flag.String("size", "1GiB", "approximate total payload size, e.g. 64MiB, 1GiB, 500MB, 1048576")
	seed := flag.Uint64("seed", 1, "seed for the deterministic generator")
	force := flag.Bool("force", false, "remove an existing DIR/data first")
	quiet := flag.Bool("q", false, "do not print a summary")
	shapeFlag := flag.String("shape", "mixed", "mixed, many (small files of 1-8 KiB, three large blobs) or tiny (-files files of 1-4 KiB)")
	files := flag.Int("files", 200000, "with -shape tiny: the number of files")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: gensample -o DIR [-size SIZE] [-seed N] [-shape mixed|many|tiny] [-files N] [-force] [-q]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	size, err := sample.ParseSize(*sizeStr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gensample: %v\n", err)
		os.Exit(2)
	}
	sh, ok := shapes[*shapeFlag]
	if !ok || *files < 1 {
		fmt.Fprintf(os.Stderr, "gensample: -shape must be mixed, many or tiny, and -files positive\n")
		os.Exit(2)
	}
	sh.files = *files
	st, err := generate(*out, size, *seed, *force, sh)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gensample: %v\n", err)
		os.Exit(1)
	}
	if !*quiet {
		fmt.Fprintf(os.Stderr, "gensample: %s: %d files, %d bytes (random %d in %d files, text %d in %d files, small %d in %d files)\n",
			*out, st.files(), st.bytes(),
			st.randBytes, st.randFiles, st.textBytes, st.textFiles, st.smallBytes, st.smallFiles)
	}
}

type stats struct {
	randFiles, textFiles, smallFiles int
	randBytes, textBytes, smallBytes int64
}

func (s stats) files() int   { return s.randFiles + s.textFiles + s.smallFiles }
func (s stats) bytes() int64 { return s.randBytes + s.textBytes + s.smallBytes }

// shape is how a sample's bytes are split into files.
type shape struct {
	randLo, randHi   int64 // random blobs' sizes; randHi 0: a third of the random budget each
	smallLo, smallHi int64
	textLo, textHi   int64
	tiny             bool // only -files small files of smallLo-smallHi
	files            int
}

var shapes = map[string]shape{
	"mixed": {randLo: 8 * mib, randHi: 64 * mib, textLo: 1 * mib, textHi: 16 * mib, smallLo: 1 * kib, smallHi: 64 * kib},
	"many":  {textLo: 1 * kib, textHi: 20 * mib, smallLo: 1 * kib, smallHi: 8 * kib},
	"tiny":  {tiny: true, smallLo: 1 * kib, smallHi: 4 * kib},
}

func generate(dir string, total int64, seed uint64, force bool, sh shape) (stats, error) {
	var st stats
	data := filepath.Join(dir, "data")
	if _, err := os.Lstat(data); err == nil {
		if !force {
			return st, fmt.Errorf("%s already exists (use -force to replace it)", data)
		}
		if err := os.RemoveAll(data); err != nil {
			return st, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return st, err
	}
	if err := os.MkdirAll(data, 0o755); err != nil {
		return st, err
	}

	randBudget := total * 4 / 10
	textBudget := total * 4 / 10
	smallBudget := total - randBudget - textBudget
	if sh.tiny {
		randBudget, textBudget, smallBudget = 0, 0, 0
	}
	if sh.randHi == 0 {
		sh.randLo, sh.randHi = randBudget/3, randBudget/3+1
	}

	layout := rand.New(sample.NewRNG(seed, "layout"))
	randSrc := sample.NewRNG(seed, "random-bytes")
	textRNG := rand.New(sample.NewRNG(seed, "text"))

	buf := make([]byte, mib) // the only large buffer; reused for all random content

	// Incompressible blobs.
	for i, left := 0, randBudget; left > 0; i++ {
		n := pick(layout, left, sh.randLo, sh.randHi)
		p := filepath.Join(data, "blobs", fmt.Sprintf("blob-%03d.bin", i))
		if err := writeFile(p, func(w io.Writer) error { return writeRandom(w, randSrc, buf, n) }); err != nil {
			return st, err
		}
		left -= n
		st.randFiles++
		st.randBytes += n
	}

	// Compressible text, alternating application logs and SQL dumps.
	for i, left := 0, textBudget; left > 0; i++ {
		n := pick(layout, left, sh.textLo, sh.textHi)
		var p string
		gen := genLogLine
		if i%2 == 0 {
			p = filepath.Join(data, "logs", fmt.Sprintf("app-%03d.log", i/2))
		} else {
			p = filepath.Join(data, "sql", fmt.Sprintf("dump-%03d.sql", i/2))
			gen = genSQLLine
		}
		if err := writeFile(p, func(w io.Writer) error { return writeText(w, textRNG, gen, n) }); err != nil {
			return st, err
		}
		left -= n
		st.textFiles++
		st.textBytes += n
	}

	// Many small files in a nested tree: small/aa/bb[/cc]/file-NNNNN.{txt,bin}.
	for i, left := 0, smallBudget; left > 0 || sh.tiny && i < sh.files; i++ {
		n := pick(layout, left, sh.smallLo, sh.smallHi)
		if sh.tiny {
			n = sh.smallLo + layout.Int64N(sh.smallHi-sh.smallLo+1)
		}
		depth := 2 + layout.IntN(2)
		parts := []string{data, "small"}
		for d := 0; d < depth; d++ {
			parts = append(parts, fmt.Sprintf("%c%c", 'a'+layout.IntN(16), 'a'+layout.IntN(4)))
		}
		var err error
		if layout.IntN(2) == 0 {
			parts = append(parts, fmt.Sprintf("file-%05d.txt", i))
			gen := genLogLine
			if layout.IntN(2) == 0 {
				gen = genSQLLine
			}
			err = writeFile(filepath.Join(parts...), func(w io.Writer) error { return writeText(w, textRNG, gen, n) })
		} else {
			parts = append(parts, fmt.Sprintf("file-%05d.bin", i))
			err = writeFile(filepath.Join(parts...), func(w io.Writer) error { return writeRandom(w, randSrc, buf, n) })
		}
		if err != nil {
			return st, err
		}
		left -= n
		st.smallFiles++
		st.smallBytes += n
	}

	spec := `# Generated by internal/gensample; benchmark input for scripts/bench.sh.
name: bench
version: 1.0.0
components:
  - name: data
    type: data
    from: data
    path: data
`
	if err := os.WriteFile(filepath.Join(dir, "kit.yaml"), []byte(spec), 0o644); err != nil {
		return st, err
	}
	return st, nil
}

// pick returns a size in [lo, hi] that never exceeds left and never leaves a
// remainder smaller than lo (which would produce an undersized last file).
func pick(r *rand.Rand, left, lo, hi int64) int64 {
	if left <= hi {
		// Take everything if splitting would leave a runt; otherwise split.
		if left < 2*lo {
			return left
		}
		hi = left - lo
	} else if left-hi < lo && left-lo >= lo {
		hi = left - lo
	}
	return lo + r.Int64N(hi-lo+1)
}

func writeFile(path string, fill func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

func writeRandom(w io.Writer, src *rand.ChaCha8, buf []byte, n int64) error {
	for n > 0 {
		chunk := buf
		if int64(len(chunk)) > n {
			chunk = chunk[:n]
		}
		_, _ = src.Read(chunk) // never fails
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		n -= int64(len(chunk))
	}
	return nil
}

// writeText writes exactly n bytes of newline-terminated lines from gen. The
// final line is truncated (and newline-terminated) to hit n exactly.
func writeText(w io.Writer, r *rand.Rand, gen func([]byte, *rand.Rand) []byte, n int64) error {
	bw := bufio.NewWriterSize(w, 256*kib)
	line := make([]byte, 0, 512)
	for n > 0 {
		line = gen(line[:0], r)
		if int64(len(line)) > n {
			line = line[:n]
			line[n-1] = '\n'
		}
		if _, err := bw.Write(line); err != nil {
			return err
		}
		n -= int64(len(line))
	}
	return bw.Flush()
}

var (
	levels   = []string{"INFO", "INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARN", "ERROR"}
	services = []string{"auth", "billing", "catalog", "checkout", "gateway", "inventory", "search", "shipping"}
	methods  = []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	routes   = []string{"/api/v1/orders", "/api/v1/users", "/api/v1/items", "/api/v2/search", "/healthz", "/api/v1/cart", "/api/v1/payments", "/metrics"}
	statuses = []int{200, 200, 200, 200, 201, 204, 304, 400, 401, 404, 500, 503}
	messages = []string{
		"request completed",
		"cache miss, fetching from upstream",
		"retrying after transient error",
		"connection pool exhausted, waiting",
		"slow query detected",
		"token refreshed",
		"rate limit applied",
		"background job finished",
	}
	tables    = []string{"orders", "customers", "line_items", "payments", "shipments", "audit_log"}
	firstName = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"}
	cities    = []string{"Berlin", "Lisbon", "Osaka", "Toronto", "Nairobi", "Lima", "Oslo", "Perth"}
)

func appendTimestamp(b []byte, r *rand.Rand) []byte {
	b = append(b, "2025-"...)
	b = append2(b, 1+r.IntN(12))
	b = append(b, '-')
	b = append2(b, 1+r.IntN(28))
	b = append(b, 'T')
	b = append2(b, r.IntN(24))
	b = append(b, ':')
	b = append2(b, r.IntN(60))
	b = append(b, ':')
	b = append2(b, r.IntN(60))
	b = append(b, '.')
	ms := r.IntN(1000)
	b = append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, 'Z')
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func appendHex(b []byte, v uint64, digits int) []byte {
	const hex = "0123456789abcdef"
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hex[(v>>(4*uint(i)))&0xf])
	}
	return b
}

func genLogLine(b []byte, r *rand.Rand) []byte {
	b = appendTimestamp(b, r)
	b = append(b, ' ')
	b = append(b, levels[r.IntN(len(levels))]...)
	b = append(b, " ["...)
	b = append(b, services[r.IntN(len(services))]...)
	b = append(b, "] request_id="...)
	b = appendHex(b, r.Uint64(), 16)
	b = append(b, " method="...)
	b = append(b, methods[r.IntN(len(methods))]...)
	b = append(b, " path="...)
	b = append(b, routes[r.IntN(len(routes))]...)
	if r.IntN(3) == 0 {
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(r.IntN(100000)), 10)
	}
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(statuses[r.IntN(len(statuses))]), 10)
	b = append(b, " latency_ms="...)
	b = strconv.AppendInt(b, int64(r.IntN(250)), 10)
	b = append(b, " user="...)
	b = append(b, firstName[r.IntN(len(firstName))]...)
	b = strconv.AppendInt(b, int64(r.IntN(1000)), 10)
	b = append(b, ` msg="`...)
	b = append(b, messages[r.IntN(len(messages))]...)
	return append(b, "\"\n"...)
}

func genSQLLine(b []byte, r *rand.Rand) []byte {
	t := tables[r.IntN(len(tables))]
	switch r.IntN(4) {
	case 0:
		b = append(b, "UPDATE "...)
		b = append(b, t...)
		b = append(b, " SET status = 'shipped', updated_at = '"...)
		b = appendTimestamp(b, r)
		b = append(b, "' WHERE id = "...)
		b = strconv.AppendInt(b, int64(r.IntN(10_000_000)), 10)
		return append(b, ";\n"...)
	default:
		b = append(b, "INSERT INTO "...)
		b = append(b, t...)
		b = append(b, " (id, customer, city, amount_cents, currency, created_at) VALUES ("...)
		b = strconv.AppendInt(b, int64(r.IntN(10_000_000)), 10)
		b = append(b, ", '"...)
		b = append(b, firstName[r.IntN(len(firstName))]...)
		b = append(b, '.')
		b = append(b, firstName[r.IntN(len(firstName))]...)
		b = append(b, "', '"...)
		b = append(b, cities[r.IntN(len(cities))]...)
		b = append(b, "', "...)
		b = strconv.AppendInt(b, int64(r.IntN(500_000)), 10)
		b = append(b, ", 'EUR', '"...)
		b = appendTimestamp(b, r)
		return append(b, "');\n"...)
	}
}
