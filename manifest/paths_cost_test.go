package manifest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// cost is what one check allocated, per byte of the paths it checked.
type cost struct {
	bytes          int
	alloc, mallocs uint64
}

func (c cost) perByte() (float64, float64) {
	return float64(c.alloc) / float64(c.bytes), float64(c.mallocs) / float64(c.bytes)
}

func (c cost) String() string {
	a, m := c.perByte()
	return fmt.Sprintf("%d path bytes: %d B in %d allocations (%.3f B, %.5f allocations per byte)", c.bytes, c.alloc, c.mallocs, a, m)
}

// measure runs check once and returns what it allocated.
func measure(t *testing.T, bytes int, check func() error) cost {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := check()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	return cost{bytes, after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs}
}

// costManifest lists n files, each in a directory of its own below c/ and
// then mid: the most directories n paths of that length can imply.
func costManifest(n int, mid string) (*Manifest, int) {
	d := SHA256(nil)
	c := Component{Name: "c", Type: TypeData, Path: "c", Size: int64(n)}
	bytes := 0
	for i := range n {
		p := fmt.Sprintf("c/%07d/%sf", i, mid)
		bytes += len(p)
		c.Files = append(c.Files, File{Path: p, Size: 1, Mode: ModeFile, Digest: d})
	}
	return &Manifest{
		FormatVersion: FormatVersion, Name: "k", Version: "1.0.0", Created: "2023-11-14T22:13:20Z",
		Tool: Tool{Name: "offkit", Version: "test"}, Components: []Component{c},
		SBOM: FileRef{Path: KitSBOMName, Digest: d}, FileCount: n, TotalSize: int64(n),
	}, bytes
}

// fill repeats el+"/" to make a path of costManifest as long as it may be,
// under its root k-1.0.0.
func fill(el string) string {
	return strings.Repeat(el+"/", (MaxPathLen-len("k-1.0.0/c/0000000/f"))/(len(el)+1))
}

// TestPathCostLinear checks that Manifest.Check, ParseSums and ParseSpec
// allocate in proportion to the bytes of the paths they check, however deep
// the paths are: for each shape of path, the cost per byte of the largest
// input is within twice that of the smallest, and deep paths cost no more
// per byte than shallow ones.
func TestPathCostLinear(t *testing.T) {
	big := 10000
	if testing.Short() {
		big = 2000
	}
	shapes := []struct {
		name  string
		mid   string
		sizes []int
	}{
		{"depth 3", "a/b/", []int{1000, 100 * big / 10}},
		{"depth 100", strings.Repeat("a/", 100), []int{100, big}},
		{"deep ASCII, MaxPathLen", fill("a"), []int{100, 1000, big}},
		{"deep non-ASCII, MaxPathLen", fill("é"), []int{100, big / 10}},
		{"longest elements", fill(strings.Repeat("x", MaxComponentLen)), []int{100, 1000, big}},
	}
	var deepest, depth100 float64
	for _, sh := range shapes {
		var first cost
		for i, n := range sh.sizes {
			m, bytes := costManifest(n, sh.mid)
			c := measure(t, bytes, m.Check)
			t.Logf("%s, %d files: Manifest.Check: %v", sh.name, n, c)
			a, _ := c.perByte()
			if i == 0 {
				first = c
				continue
			}
			a0, m0 := first.perByte()
			_, mb := c.perByte()
			if a > 2*a0+0.01 || mb > 2*m0+0.0001 {
				t.Errorf("%s: %d files cost %v; %d files cost %v: more than twice as much per byte", sh.name, n, c, sh.sizes[0], first)
			}
			switch sh.name {
			case "depth 100":
				depth100 = a
			case "deep ASCII, MaxPathLen":
				deepest = a
			}
		}
	}
	if deepest > 2*depth100+0.01 {
		t.Errorf("paths of depth %d cost %.3f B per byte, paths of depth 100 %.3f", strings.Count(fill("a"), "/"), deepest, depth100)
	}

	// SHA256SUMS with deep names.
	sums := func(n int) ([]byte, int) {
		var s Sums
		for i := range n {
			s = append(s, Sum{Name: fmt.Sprintf("c/%07d/%sf", i, fill("a")), Digest: SHA256(nil)})
		}
		b := s.Marshal()
		return b, len(b)
	}
	var first cost
	for i, n := range []int{100, big} {
		b, bytes := sums(n)
		c := measure(t, bytes, func() error { _, err := ParseSums(b); return err })
		t.Logf("ParseSums, %d deep lines: %v", n, c)
		if i == 0 {
			first = c
		} else if a, a0 := c.alloc*uint64(first.bytes), first.alloc*uint64(c.bytes); a > 2*a0+uint64(c.bytes) {
			t.Errorf("ParseSums: %v, but %v for fewer lines", c, first)
		}
	}

	// kit.yaml with many long component paths, which used to be compared
	// pairwise.
	spec := func(n int) ([]byte, int) {
		var b strings.Builder
		b.WriteString("name: k\nversion: 1.0.0\ncomponents:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - name: c%d\n    from: src\n    path: p%04d/%sz\n", i, i, strings.Repeat(strings.Repeat("a", 200)+"/", 4))
		}
		return []byte(b.String()), b.Len()
	}
	for i, n := range []int{100, 900} {
		y, bytes := spec(n)
		c := measure(t, bytes, func() error { _, err := ParseSpec(y, "kit.yaml"); return err })
		t.Logf("ParseSpec, %d components: %v", n, c)
		if i == 0 {
			first = c
		} else if a, a0 := c.alloc*uint64(first.bytes), first.alloc*uint64(c.bytes); a > 2*a0 {
			t.Errorf("ParseSpec: %v, but %v for fewer components", c, first)
		}
	}
}

// TestPathSetDirsLinear: a PathSet of deep paths implying millions of
// directories holds two nodes per path, and allocates no more per byte for
// ten times as many paths.
func TestPathSetDirsLinear(t *testing.T) {
	mid := fill("a")
	var first cost
	for i, n := range []int{100, 1000} {
		paths := make([]string, n)
		bytes := 0
		for j := range paths {
			paths[j] = fmt.Sprintf("c/%07d/%sf", j, mid)
			bytes += len(paths[j])
		}
		var s *PathSet
		c := measure(t, bytes, func() error {
			s = NewPathSet(n)
			for _, p := range paths {
				if err := s.Add(p, false); err != nil {
					return err
				}
			}
			return nil
		})
		if want := n*strings.Count(paths[0], "/") - (n - 1); s.Dirs() != want {
			t.Errorf("Dirs() = %d, want %d", s.Dirs(), want)
		}
		if len(s.nodes) > 2*n+1 {
			t.Errorf("%d nodes for %d paths", len(s.nodes), n)
		}
		t.Logf("PathSet, %d paths implying %d directories: %v", n, s.Dirs(), c)
		if i == 0 {
			first = c
		} else if a, a0 := c.alloc*uint64(first.bytes), first.alloc*uint64(c.bytes); a > 2*a0 {
			t.Errorf("PathSet: %v, but %v for fewer paths", c, first)
		}
	}
}
