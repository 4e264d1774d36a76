package manifest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestSpecComponentPaths: kit.yaml component paths must not overlap or
// collide by fold key, checked with a PathSet.
func TestSpecComponentPaths(t *testing.T) {
	spec := func(paths ...string) []byte {
		var b strings.Builder
		b.WriteString("name: k\nversion: 1.0.0\ncomponents:\n")
		for i, p := range paths {
			fmt.Fprintf(&b, "  - name: c%d\n    from: src\n    path: %q\n", i, p)
		}
		return []byte(b.String())
	}
	cases := []struct {
		name  string
		paths []string
		want  string // "" if the spec is accepted
	}{
		{"apart", []string{"docs", "migrations/21-101", "migrations/21-102", "docs-extra"}, ""},
		{"equal", []string{"docs", "docs"}, `components[1].path: malformed: unsafe path: "docs" overlaps components[0].path "docs"`},
		{"within", []string{"docs", "docs/a.txt"}, `"docs/a.txt" overlaps components[0].path "docs"`},
		{"containing", []string{"a/b/c", "x", "a/b"}, `components[2].path: malformed: unsafe path: "a/b" overlaps components[0].path "a/b/c"`},
		{"equal by case", []string{"Docs", "docs"}, `"docs" overlaps components[0].path "Docs"`},
		{"within by fold", []string{"ﬁles", "files/x"}, `"files/x" overlaps components[0].path "ﬁles"`},
		{"within by a trailing dot", []string{"data.", "data/x"}, `"data/x" overlaps components[0].path "data."`},
		{"directories that collide", []string{"x", "A/x", "a/y"},
			`components[2].path: malformed: unsafe path: "a/y" collides with components[1].path "A/x": directory "a" collides with "A"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSpec(spec(c.paths...), "kit.yaml")
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ParseSpec: %v, want a FieldError with ErrUnsafePath and %q", err, c.want)
			}
		})
	}
}
