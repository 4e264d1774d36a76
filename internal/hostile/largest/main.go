// Command largest writes the largest hostile kits that fit within each
// limit of docs/FORMAT.md §15: kits that are small on disk (zstd, and
// mostly repetitive) but make a reader do as much work as the limits
// allow — the JSON, path and signature checks of the head, and for kits
// signed by the trusted test key, the payload and image layout checks.
// Each kit passes the tar-level checks (canonical headers, order, mtimes)
// and is consistent as far as its attack allows, so that what it costs is
// the work it is named for, not an early error.
//
//	go run ./internal/hostile/largest -o DIR [-only REGEXP]
//
// writes DIR/<name>.tar.zst for each kit, and DIR/kits.tsv listing them
// (name, file, compressed and decompressed sizes, whether it is meant to
// be trusted, and what it is), and prints a table. Kits meant to be
// untrusted are unsigned or signed by keys derived from fixed seeds;
// trusted ones by testdata/hostile/trusted.key (password "hostile"), whose
// public key verifiers are given. Everything is deterministic but the
// ECDSA signatures, which are randomised.
//
// scripts/hostile-cost.sh measures what `offkit verify` and `offkit
// inspect` spend on each kit.
//
// -trust-all signs every signed kit with the trusted key, and -scale
// shrinks every byte budget: together they make small kits whose
// verification shows how far each kind of kit gets (largest_test.go).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/offkit/offkit/sign"
)

func main() {
	out := flag.String("o", "", "write the kits into `DIR` (required)")
	only := flag.String("only", "", "write only the kits whose name matches `REGEXP`")
	keys := flag.String("keys", "testdata/hostile", "`DIR` of trusted.key (password \"hostile\")")
	scale := flag.Float64("scale", 1, "scale every byte budget by `F` (for tests)")
	trustAll := flag.Bool("trust-all", false, "sign every signed kit with the trusted key (for tests)")
	list := flag.Bool("list", false, "list the kits and exit")
	verbose := flag.Bool("v", false, "log progress to standard error")
	flag.Parse()
	if *list {
		for _, s := range specs() {
			fmt.Printf("%s\t%s\n", s.name, s.what)
		}
		return
	}
	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, *only, *keys, *scale, *trustAll, *verbose, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "largest:", err)
		os.Exit(1)
	}
}

// written is one kit written.
type written struct {
	spec
	file string
	result
}

func run(dir, only, keyDir string, scale float64, trustAll, verbose bool, w io.Writer) error {
	re, err := regexp.Compile(only)
	if err != nil {
		return err
	}
	s, err := sign.LoadPrivateKey(filepath.Join(keyDir, "trusted.key"), []byte("hostile"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	g := &gen{trusted: cosignSigner{s}, scale: scale, trustAll: trustAll, log: func(string, ...any) {}}
	if verbose {
		g.log = func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
	}
	limitScale = scale
	var done []written
	for _, sp := range specs() {
		if !re.MatchString(sp.name) {
			continue
		}
		t0 := time.Now()
		file := sp.name + ".tar.zst"
		res, err := sp.make(g).write(filepath.Join(dir, file))
		if err != nil {
			return fmt.Errorf("%s: %w", sp.name, err)
		}
		g.log("%s: %d bytes, %d decompressed, %v", sp.name, res.compressed, res.raw, time.Since(t0).Round(time.Millisecond))
		done = append(done, written{sp, file, res})
		runtime.GC()
		debug.FreeOSMemory()
	}
	if len(done) == 0 {
		return fmt.Errorf("no kit matches %q", only)
	}
	if err := writeIndex(filepath.Join(dir, "kits.tsv"), done, only != ""); err != nil {
		return err
	}
	fmt.Fprintln(w, "| kit | compressed | decompressed | head | trusted | what |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
	for _, d := range done {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", d.name, human(d.compressed), human(d.raw), human(d.head), yesNo(d.trusted || (trustAll && d.asTrusted != "unsigned")), d.what)
	}
	return nil
}

// writeIndex writes kits.tsv; with merge, rows for kits not written now
// are kept.
func writeIndex(file string, done []written, merge bool) error {
	rows := map[string]string{}
	var order []string
	if merge {
		if b, err := os.ReadFile(file); err == nil {
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if name, _, ok := strings.Cut(line, "\t"); ok && name != "name" {
					rows[name] = line
				}
			}
		}
	}
	for _, d := range done {
		rows[d.name] = fmt.Sprintf("%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s", d.name, d.file, d.compressed, d.raw, d.head, yesNo(d.trusted), d.asTrusted, d.what)
	}
	for _, s := range specs() {
		if _, ok := rows[s.name]; ok {
			order = append(order, s.name)
		}
	}
	var b strings.Builder
	b.WriteString("name\tfile\tcompressed\tdecompressed\thead\ttrusted\tasTrusted\twhat\n")
	for _, n := range order {
		b.WriteString(rows[n] + "\n")
	}
	return os.WriteFile(file, []byte(b.String()), 0o644)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func human(n int64) string {
	switch {
	case n >= 10<<30:
		return fmt.Sprintf("%.0f GiB", float64(n)/(1<<30))
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 10<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 10<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
