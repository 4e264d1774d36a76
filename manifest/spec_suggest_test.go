package manifest

import (
	"errors"
	"testing"

	"github.com/offkit/offkit/schemas"
)

// TestUnknownFieldSuggestion: an unknown field is reported at its own name
// and line, with the nearest known field of the same object when it is
// likely a misspelling, and without one otherwise.
func TestUnknownFieldSuggestion(t *testing.T) {
	cases := []struct {
		name, yaml, schema, want string
		line                     int
	}{
		{
			// The misspelt field is also a missing required one: the
			// unknown field is what is reported.
			"top-level typo", "name: demo\nversion: 1.0.0\ncomponets:\n  - name: a\n    from: a\n    path: a\n", schemas.KitSpec,
			`kit.yaml:3: componets: malformed: unknown field; did you mean "components"?`, 3,
		},
		{
			"component typo", "name: demo\nversion: 1.0.0\ncomponents:\n  - name: a\n    form: a\n    path: a\n", schemas.KitSpec,
			`kit.yaml:5: components[0].form: malformed: unknown field; did you mean "from"?`, 5,
		},
		{
			"case only", "name: demo\nversion: 1.0.0\ncomponents:\n  - name: a\n    from: a\n    Path: a\n", schemas.KitSpec,
			`kit.yaml:6: components[0].Path: malformed: unknown field; did you mean "path"?`, 6,
		},
		{
			"nothing near", "name: demo\nversion: 1.0.0\ncolour: blue\ncomponents:\n  - name: a\n    from: a\n    path: a\n", schemas.KitSpec,
			`kit.yaml:3: colour: malformed: unknown field`, 3,
		},
		{
			"policy typo", "apiVersion: offkit.dev/policy/v1\nkit:\n  nmae: demo\n", schemas.Policy,
			`kit.yaml:3: kit.nmae: malformed: unknown field; did you mean "name"?`, 3,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := DecodeYAML([]byte(c.yaml), "kit.yaml", c.schema)
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want a *FieldError wrapping ErrMalformed", err)
			}
			if err.Error() != c.want || fe.Line != c.line {
				t.Errorf("err = %q (line %d)\nwant  %q (line %d)", err, fe.Line, c.want, c.line)
			}
		})
	}
	// ParseSpec reports the same.
	_, err := ParseSpec([]byte(cases[0].yaml), "kit.yaml")
	if err == nil || err.Error() != cases[0].want {
		t.Errorf("ParseSpec: %v, want %q", err, cases[0].want)
	}
}

func TestNearest(t *testing.T) {
	known := []string{"components", "description", "labels", "name", "version"}
	for name, want := range map[string]string{
		"componets":  "components",
		"component":  "components",
		"Components": "components",
		"vesrion":    "version",
		"nmae":       "name",
		"labls":      "labels",
		"colour":     "",
		"x":          "",
		"nm":         "", // two edits in two letters: a guess, not a typo
		"":           "",
	} {
		if got := nearest(name, known); got != want {
			t.Errorf("nearest(%q) = %q, want %q", name, got, want)
		}
	}
	if got := knownFields("file:///x/kit.schema.json#/$defs/component"); len(got) == 0 || got[0] != "description" {
		t.Errorf("knownFields(component) = %v", got)
	}
	if got := knownFields("file:///x/nope.schema.json#"); got != nil {
		t.Errorf("knownFields(unknown schema) = %v, want nil", got)
	}
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "abc", 0}, {"ab", "ba", 1}, {"form", "from", 1}, {"kitten", "sitting", 3}, {"", "abc", 3}} {
		if d := editDistance(c.a, c.b); d != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, d, c.d)
		}
	}
}
