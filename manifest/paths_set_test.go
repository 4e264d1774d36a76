package manifest

import (
	"errors"
	"math/rand/v2"
	"path"
	"strings"
	"testing"
)

// refSet is the quadratic reference for PathSet: every path and each of its
// directories, by the fold key of each, computed on its own.
type refSet struct {
	m map[string]refEntry // fold key -> entry
}

type refEntry struct {
	path string
	dir  bool
}

// add reports whether PathSet.Add(p, dir) should succeed, and if so records
// p and its directories.
func (r *refSet) add(p string, dir bool) bool {
	if CheckPath(p) != nil {
		return false
	}
	if e, ok := r.m[FoldKey(p)]; ok && !(dir && e.dir && e.path == p) {
		return false
	}
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if e, ok := r.m[FoldKey(d)]; ok && (!e.dir || e.path != d) {
			return false
		}
	}
	r.m[FoldKey(p)] = refEntry{p, dir}
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		r.m[FoldKey(d)] = refEntry{d, true}
	}
	return true
}

func (r *refSet) isDir(p string) bool {
	e, ok := r.m[FoldKey(p)]
	return ok && e.dir && e.path == p
}

func (r *refSet) dirs() int {
	n := 0
	for _, e := range r.m {
		if e.dir {
			n++
		}
	}
	return n
}

func TestPathSet(t *testing.T) {
	type add struct {
		path string
		dir  bool
		want string // "" if Add succeeds, else part of its error
	}
	cases := []struct {
		name  string
		adds  []add
		dirs  []string // IsDir is true for these
		not   []string // and false for these
		ndirs int
	}{
		{"files and their directories", []add{{"a/b/c", false, ""}, {"a/b/d", false, ""}, {"a/e", false, ""}, {"f", false, ""}},
			[]string{"a", "a/b"}, []string{"a/b/c", "f", "a/e", "b", "A", "a/B", "a/b/c/d"}, 2},
		{"duplicate file", []add{{"a/b", false, ""}, {"a/b", false, `"a/b" collides with "a/b"`}}, []string{"a"}, nil, 1},
		{"case", []add{{"m/RUN.sh", false, ""}, {"m/run.sh", false, `"m/run.sh" collides with "m/RUN.sh"`}}, []string{"m"}, nil, 1},
		{"case of a directory", []add{{"m/SUB/x", false, ""}, {"m/sub/y", false, `directory "m/sub" collides with "m/SUB"`}},
			[]string{"m", "m/SUB"}, []string{"m/sub"}, 2},
		{"case of a top directory", []add{{"M/x", false, ""}, {"m/x", false, `directory "m" collides with "M"`}}, []string{"M"}, []string{"m"}, 1},
		{"file then directory", []add{{"a/b", false, ""}, {"a/b/c", false, `directory "a/b" collides with "a/b"`}}, []string{"a"}, []string{"a/b"}, 1},
		{"directory then file", []add{{"a/b/c", false, ""}, {"a/b", false, `"a/b" collides with "a/b"`}}, []string{"a", "a/b"}, nil, 2},
		{"file under a folded file", []add{{"a/B", false, ""}, {"a/b/c", false, `directory "a/b" collides with "a/B"`}}, nil, nil, 1},
		{"sigma", []add{{"m/σ.sql", false, ""}, {"m/ς.sql", false, `collides with "m/σ.sql"`}}, nil, nil, 1},
		{"sharp s", []add{{"Straße/x", false, ""}, {"STRASSE/y", false, `directory "STRASSE" collides with "Straße"`}}, nil, nil, 1},
		{"trailing dot", []add{{"a./x", false, ""}, {"a/y", false, `directory "a" collides with "a."`}}, []string{"a."}, []string{"a"}, 1},
		{"NFKC", []add{{"ﬁle", false, ""}, {"file", false, `"file" collides with "ﬁle"`}}, nil, nil, 0},
		{"directories added", []add{{"a/b", true, ""}, {"a/b", true, ""}, {"a/b/c", false, ""}, {"a", true, ""}, {"a/B", true, `directory "a/B" collides with "a/b"`}},
			[]string{"a", "a/b"}, nil, 2},
		{"directory added where a file is", []add{{"a/b", false, ""}, {"a/b", true, `directory "a/b" collides with "a/b"`}}, nil, nil, 1},
		{"file where an added directory is", []add{{"a/b", true, ""}, {"a/b", false, `"a/b" collides with "a/b"`}}, []string{"a/b"}, nil, 2},
		{"a split edge", []add{{"a/b/c/d/e", false, ""}, {"a/b/x", false, ""}, {"a/b/c/y", false, ""}, {"a/b/C/z", false, `directory "a/b/C" collides with "a/b/c"`}},
			[]string{"a", "a/b", "a/b/c", "a/b/c/d"}, []string{"a/b/c/d/e", "a/b/x", "a/b/C"}, 4},
		{"siblings that sort apart", []add{{"a/x", false, ""}, {"a-b/y", false, ""}, {"a/z", false, ""}, {"a", false, `"a" collides with "a"`}}, []string{"a", "a-b"}, nil, 2},
		{"unsafe path", []add{{"a/../b", false, ". or .."}, {"-", false, "standard input"}}, nil, []string{"a"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewPathSet(0)
			ref := &refSet{m: map[string]refEntry{}}
			for _, a := range c.adds {
				err := s.Add(a.path, a.dir)
				if ok := ref.add(a.path, a.dir); ok != (err == nil) {
					t.Errorf("Add(%q, %v) = %v, but the reference says ok=%v", a.path, a.dir, err, ok)
				}
				switch {
				case a.want == "" && err != nil:
					t.Errorf("Add(%q, %v) = %v, want nil", a.path, a.dir, err)
				case a.want != "" && (!errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), a.want)):
					t.Errorf("Add(%q, %v) = %v, want ErrUnsafePath with %q", a.path, a.dir, err, a.want)
				}
			}
			for _, d := range c.dirs {
				if !s.IsDir(d) {
					t.Errorf("IsDir(%q) = false, want true", d)
				}
			}
			for _, d := range c.not {
				if s.IsDir(d) {
					t.Errorf("IsDir(%q) = true, want false", d)
				}
			}
			if s.Dirs() != c.ndirs || s.Dirs() != ref.dirs() {
				t.Errorf("Dirs() = %d, want %d (the reference has %d)", s.Dirs(), c.ndirs, ref.dirs())
			}
		})
	}
}

func TestPathSetCollisionError(t *testing.T) {
	s := NewPathSet(2)
	if err := s.Add("m/SUB/x", false); err != nil {
		t.Fatal(err)
	}
	err := s.Add("m/sub/y", false)
	var ce *CollisionError
	if !errors.As(err, &ce) || *ce != (CollisionError{Path: "m/sub", Other: "m/SUB", Dir: true}) {
		t.Fatalf("Add = %#v, want a CollisionError for the directory m/sub", err)
	}
}

// TestPathSetMatchesReference adds random paths over a small alphabet that
// folds (a A á Á ß ss . space) and checks PathSet against refSet after every
// step.
func TestPathSetMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		s := NewPathSet(0)
		ref := &refSet{m: map[string]refEntry{}}
		var added []string
		for range 40 {
			p, dir := randomPath(rng), rng.IntN(4) == 0
			err := s.Add(p, dir)
			if ok := ref.add(p, dir); ok != (err == nil) {
				t.Fatalf("round %d: Add(%q, %v) = %v, but the reference says ok=%v (added before: %q)", round, p, dir, err, ok, added)
			}
			added = append(added, p)
			if s.Dirs() != ref.dirs() {
				t.Fatalf("round %d: after %q: Dirs() = %d, the reference has %d", round, added, s.Dirs(), ref.dirs())
			}
			q := randomPath(rng)
			if s.IsDir(q) != ref.isDir(q) {
				t.Fatalf("round %d: after %q: IsDir(%q) = %v, the reference says %v", round, added, q, s.IsDir(q), ref.isDir(q))
			}
		}
	}
}

func randomPath(rng *rand.Rand) string {
	elems := []string{"a", "A", "á", "Á", "ß", "ss", "SS", "a.", "b", "ab", "a b"}
	n := 1 + rng.IntN(4)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(elems[rng.IntN(len(elems))])
	}
	return b.String()
}
