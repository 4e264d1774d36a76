package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/offkit/offkit/schemas"

	"github.com/offkit/offkit/internal/strictjson"
)

// MaxSpecSize bounds kit.yaml.
const MaxSpecSize = 1 << 20

// Component types (kit.yaml "type").
const (
	TypeMigrations = "migrations"
	TypeBackfill   = "backfill"
	TypeRollback   = "rollback"
	TypeSeeds      = "seeds"
	TypeData       = "data"
	TypeDocs       = "docs"
	TypeTooling    = "tooling"
	TypeOther      = "other"
	TypeImage      = "image" // only, and always, for image components
)

// Spec is a parsed and validated kit.yaml.
type Spec struct {
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Components  []ComponentSpec   `json:"components"`

	file  string         // the document's name, for FieldError
	lines map[string]int // line of every field, for FieldError
}

// ComponentSpec is one entry of kit.yaml's components list.
type ComponentSpec struct {
	Name        string   `json:"name"`
	Type        string   `json:"type,omitempty"` // defaults to "other"
	Description string   `json:"description,omitempty"`
	From        string   `json:"from,omitempty"` // relative to kit.yaml
	Path        string   `json:"path,omitempty"` // relative to the kit root; "" for an image component
	SBOM        string   `json:"sbom,omitempty"` // relative to kit.yaml
	Include     []string `json:"include,omitempty"`
	Exclude     []string `json:"exclude,omitempty"`
	Pending     bool     `json:"pending,omitempty"`
	// Image is an image component's source: a registry reference,
	// "oci:DIR[:REF]" or "docker-archive:FILE[:REF]", with relative paths
	// relative to kit.yaml. An image component has Type TypeImage and no
	// From, Path, Include, Exclude or Pending.
	Image string `json:"image,omitempty"`
	// Platforms filter an image index ("linux/amd64"); only with Image.
	Platforms []string `json:"platforms,omitempty"`
}

// IsImage reports whether c is an image component.
func (c *ComponentSpec) IsImage() bool { return c.Image != "" }

// Root returns the kit's root directory name, "<name>-<version>".
func (s *Spec) Root() string { return s.Name + "-" + s.Version }

// HasImages reports whether the spec has an image component, and so builds
// a format v2 kit.
func (s *Spec) HasImages() bool {
	for i := range s.Components {
		if s.Components[i].IsImage() {
			return true
		}
	}
	return false
}

// FieldError returns err as a *FieldError naming the spec's file and the
// line of field ("components[2].image"), for errors found after parsing,
// such as an image source that does not resolve.
func (s *Spec) FieldError(field string, err error) error {
	return &FieldError{File: s.file, Line: s.lines[field], Field: field, Err: err}
}

// ParseSpec parses kit.yaml. file names the document in errors. The spec
// must satisfy schemas/kit.schema.json and the rules of docs/FORMAT.md
// ("kit.yaml"); a violation is reported as a *FieldError with the field's
// path and line.
func ParseSpec(data []byte, file string) (*Spec, error) {
	if len(data) > MaxSpecSize {
		return nil, &FieldError{File: file, Err: malformed("larger than %d bytes", MaxSpecSize)}
	}
	root, lines, err := DecodeYAML(data, file, schemas.KitSpec)
	if err != nil {
		return nil, err
	}
	var s Spec
	if err := root.Decode(&specYAML{&s}); err != nil {
		return nil, &FieldError{File: file, Err: malformed("%v", err)}
	}
	if err := s.check(file, lines); err != nil {
		return nil, err
	}
	s.file, s.lines = file, lines
	return &s, nil
}

// DecodeYAML parses a single YAML document, converts it as encoding/json
// would see it, and validates it against the named embedded schema. It
// returns the parsed node and the line of every field, keyed by its path
// ("components[0].path"). Errors are *FieldError values naming file, field
// and line. Aliases, merge keys, duplicate keys and more than one document
// are refused.
func DecodeYAML(data []byte, file, schema string) (*yaml.Node, map[string]int, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, nil, &FieldError{File: file, Err: malformed("%v", err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, nil, &FieldError{File: file, Line: extra.Line, Err: malformed("more than one YAML document")}
	}
	if err := noBinary(&root, file); err != nil {
		return nil, nil, err
	}
	lines := map[string]int{}
	inst, err := yamlToJSON(&root, "", lines)
	if err != nil {
		return nil, nil, &FieldError{File: file, Err: err}
	}
	sch, err := schemas.Get(schema)
	if err != nil {
		return nil, nil, err
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return nil, nil, schemaError(file, ve, lines)
		}
		return nil, nil, &FieldError{File: file, Err: malformed("%v", err)}
	}
	return &root, lines, nil
}

// noBinary refuses YAML !!binary scalars. The schema checks a scalar's
// text, but decoding a !!binary one yields its base64-decoded bytes: a
// value the schema never saw (a path, a policy's maxAge).
func noBinary(n *yaml.Node, file string) error {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!binary" {
		return &FieldError{File: file, Line: n.Line, Err: malformed("YAML !!binary values are not allowed")}
	}
	for _, c := range n.Content {
		if err := noBinary(c, file); err != nil {
			return err
		}
	}
	return nil
}

// specYAML decodes with the json tag names.
type specYAML struct{ s *Spec }

func (y *specYAML) UnmarshalYAML(n *yaml.Node) error {
	var raw struct {
		Name        string            `yaml:"name"`
		Version     string            `yaml:"version"`
		Description string            `yaml:"description"`
		Labels      map[string]string `yaml:"labels"`
		Components  []struct {
			Name        string   `yaml:"name"`
			Type        string   `yaml:"type"`
			Description string   `yaml:"description"`
			From        string   `yaml:"from"`
			Path        string   `yaml:"path"`
			SBOM        string   `yaml:"sbom"`
			Include     []string `yaml:"include"`
			Exclude     []string `yaml:"exclude"`
			Pending     bool     `yaml:"pending"`
			Image       string   `yaml:"image"`
			Platforms   []string `yaml:"platforms"`
		} `yaml:"components"`
	}
	if err := n.Decode(&raw); err != nil {
		return err
	}
	*y.s = Spec{Name: raw.Name, Version: raw.Version, Description: raw.Description, Labels: raw.Labels}
	for _, c := range raw.Components {
		t := c.Type
		switch {
		case t != "":
		case c.Image != "":
			t = TypeImage
		default:
			t = TypeOther
		}
		y.s.Components = append(y.s.Components, ComponentSpec{
			Name: c.Name, Type: t, Description: c.Description, From: c.From, Path: c.Path,
			SBOM: c.SBOM, Include: c.Include, Exclude: c.Exclude, Pending: c.Pending,
			Image: c.Image, Platforms: c.Platforms,
		})
	}
	return nil
}

// check applies the rules the schema cannot express.
func (s *Spec) check(file string, lines map[string]int) error {
	fail := func(field string, err error) error {
		return &FieldError{File: file, Line: lines[field], Field: field, Err: err}
	}
	if len(s.Root()) > MaxComponentLen {
		return fail("version", malformed("<name>-<version> is %d bytes; the kit's root directory name may have at most %d", len(s.Root()), MaxComponentLen))
	}
	names := map[string]int{}
	// Component paths go into a PathSet as files: one that is equal to
	// another by fold key, or within it, collides there, in time linear in
	// the paths' bytes.
	paths := NewPathSet(len(s.Components))
	for i, c := range s.Components {
		f := fmt.Sprintf("components[%d]", i)
		if j, dup := names[c.Name]; dup {
			return fail(f+".name", malformed("duplicate component name %q (also components[%d])", c.Name, j))
		}
		names[c.Name] = i
		if c.Name == "kit" {
			return fail(f+".name", malformed("component name \"kit\" is reserved (sbom/kit.spdx.json is the kit's own SBOM)"))
		}
		if c.IsImage() {
			// Checked by the schema: no from, path, include, exclude or
			// pending; type image. The source is parsed when it is resolved.
			continue
		}
		if err := CheckPath(c.Path); err != nil {
			return fail(f+".path", err)
		}
		if len(s.Root())+1+len(c.Path) > MaxPathLen {
			return fail(f+".path", fmt.Errorf("%w: %q: under the root %q, longer than %d bytes", ErrUnsafePath, c.Path, s.Root(), MaxPathLen))
		}
		if IsReservedPath(c.Path) {
			return fail(f+".path", fmt.Errorf("%w: %q is reserved for kit metadata", ErrUnsafePath, c.Path))
		}
		for _, g := range append(append([]string{}, c.Include...), c.Exclude...) {
			if _, err := path.Match(g, ""); err != nil {
				return fail(f, malformed("bad glob %q: %v", g, err))
			}
		}
		if err := paths.add(c.Path, false); err != nil {
			return fail(f+".path", s.overlap(i, err))
		}
	}
	return nil
}

// overlap reports the collision err of components[i].path with an earlier
// component's path: the first whose path is, or lies below, the path
// err names as the other.
func (s *Spec) overlap(i int, err error) error {
	c := s.Components[i]
	var ce *CollisionError
	if errors.As(err, &ce) {
		for j, o := range s.Components[:i] {
			if o.IsImage() || !Within(o.Path, ce.Other) {
				continue
			}
			if Within(FoldKey(c.Path), FoldKey(o.Path)) || Within(FoldKey(o.Path), FoldKey(c.Path)) {
				return fmt.Errorf("%w: %q overlaps components[%d].path %q", ErrUnsafePath, c.Path, j, o.Path)
			}
			return fmt.Errorf("%w: %q collides with components[%d].path %q: %w", ErrUnsafePath, c.Path, j, o.Path, err)
		}
	}
	return err
}

// yamlToJSON converts a YAML node into the value encoding/json would produce,
// recording the line of every field under its path ("components[0].path").
func yamlToJSON(n *yaml.Node, at string, lines map[string]int) (any, error) {
	lines[at] = n.Line
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, malformed("empty document")
		}
		return yamlToJSON(n.Content[0], at, lines)
	case yaml.AliasNode:
		return nil, malformed("line %d: YAML aliases are not allowed", n.Line)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		folded := make(map[string]struct{}, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return nil, malformed("line %d: mapping keys must be plain strings", k.Line)
			}
			// Keys are compared as the JSON reading compares them
			// (strictjson.Fold), so no spelling of a key can hide another.
			fk := strictjson.Fold(k.Value)
			if _, dup := folded[fk]; dup {
				return nil, malformed("line %d: duplicate key %q (keys are compared ignoring case)", k.Line, k.Value)
			}
			folded[fk] = struct{}{}
			child := k.Value
			if at != "" {
				child = at + "." + k.Value
			}
			val, err := yamlToJSON(v, child, lines)
			if err != nil {
				return nil, err
			}
			lines[child] = k.Line
			m[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		a := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			v, err := yamlToJSON(c, fmt.Sprintf("%s[%d]", at, i), lines)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		return a, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return n.Value, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, malformed("line %d: %v", n.Line, err)
			}
			return b, nil
		case "!!int", "!!float":
			// Keep numbers distinct from strings so the schema sees the
			// type the author wrote (version: 1.0 is a number, not a version).
			f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
			if err != nil {
				return n.Value, nil
			}
			return f, nil
		case "!!null":
			return nil, nil
		}
		return n.Value, nil
	}
	return nil, malformed("line %d: unsupported YAML node", n.Line)
}

var printer = message.NewPrinter(language.English)

// schemaError turns the first leaf of a schema validation error into a
// FieldError naming the field and its line.
func schemaError(file string, ve *jsonschema.ValidationError, lines map[string]int) error {
	leaf := ve
	for len(leaf.Causes) > 0 {
		// An unknown field beside another error of the same object (a
		// misspelt required field is also missing) is the one to report.
		next := leaf.Causes[0]
		for _, c := range leaf.Causes {
			if _, ok := c.ErrorKind.(*kind.AdditionalProperties); ok && len(c.Causes) == 0 {
				next = c
				break
			}
		}
		leaf = next
	}
	field := ""
	for _, tok := range leaf.InstanceLocation {
		if _, err := strconv.Atoi(tok); err == nil {
			field += "[" + tok + "]"
		} else if field == "" {
			field = tok
		} else {
			field += "." + tok
		}
	}
	if ap, ok := leaf.ErrorKind.(*kind.AdditionalProperties); ok && len(ap.Properties) > 0 {
		// Point at the unknown field itself.
		if field == "" {
			field = ap.Properties[0]
		} else {
			field += "." + ap.Properties[0]
		}
		msg := "unknown field"
		if near := nearest(ap.Properties[0], knownFields(leaf.SchemaURL)); near != "" {
			msg += fmt.Sprintf("; did you mean %q?", near)
		}
		return &FieldError{File: file, Line: lines[field], Field: field, Err: malformed("%s", msg)}
	}
	msg := leaf.ErrorKind.LocalizedString(printer)
	if _, ok := leaf.ErrorKind.(*kind.FalseSchema); ok {
		// A field the schema forbids in this context.
		switch {
		case field == "images":
			msg = "not allowed in a formatVersion 1 manifest (a kit with images is formatVersion 2)"
		case strings.HasSuffix(field, ".platforms"):
			msg = "allowed only in an image component (with image)"
		default:
			msg = "not allowed in an image component (which has no from, path, include, exclude or pending)"
		}
	}
	if strings.Contains(msg, "'not' failed") {
		msg = "unsafe path: absolute, or has a '.', '..' or empty element, a backslash or a trailing slash"
	}
	return &FieldError{File: file, Line: lines[field], Field: field, Err: malformed("%s", msg)}
}

// knownFields returns the names of the properties of the object schema at
// schemaURL ("file:///.../kit.schema.json#/$defs/component"), one of the
// embedded schemas, sorted; nil if it cannot be found.
func knownFields(schemaURL string) []string {
	loc, ptr, _ := strings.Cut(schemaURL, "#")
	raw, err := schemas.Raw(path.Base(loc))
	if err != nil {
		return nil
	}
	var node any
	if err := json.Unmarshal(raw, &node); err != nil {
		return nil
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch n := node.(type) {
		case map[string]any:
			node = n[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil
			}
			node = n[i]
		default:
			return nil
		}
	}
	obj, _ := node.(map[string]any)
	props, _ := obj["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// nearest returns the name in known closest to the unknown name, if it is
// close enough to be a likely misspelling: at most two edits (a swap of
// two neighbouring letters is one), and at most one for every three
// letters of name; a name differing only in case is nearest. "" if none
// is.
func nearest(name string, known []string) string {
	best, bestD := "", 0
	for _, k := range known {
		d := editDistance(strings.ToLower(name), strings.ToLower(k))
		if k == name || d > 2 || 3*d > len([]rune(name)) {
			continue
		}
		if best == "" || d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// the insertions, deletions, substitutions and swaps of adjacent runes
// that turn one into the other.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}
