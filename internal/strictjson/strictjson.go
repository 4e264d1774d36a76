// Package strictjson is the one way offkit reads a JSON document it acts
// on: the DSSE envelope, the in-toto statement and kit manifest, SBOMs,
// image manifests and indexes, the rollback state. It exists because JSON
// parsers disagree on the same bytes, and a signature covers bytes, not a
// parser's view of them.
//
// A document is read in two steps. A single-pass scanner checks the syntax
// exactly (RFC 8259, valid UTF-8, no lone surrogates), bounds the nesting,
// and refuses any object with two keys that are equal after the case
// folding encoding/json applies when it matches field names (so "payload",
// "Payload" and "payload" with a Kelvin sign are one key). Walking the
// destination type beside it, the scanner also refuses a key that matches a
// field only by folding: encoding/json would read it into that field, while
// Python's json module, jq and every other exact parser would not. Only
// then does encoding/json decode the bytes, which by now mean the same
// thing to every parser. Cost is linear in the input, with allocations for
// keys only.
package strictjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of objects and arrays in any document.
const MaxDepth = 64

// Error is a document refused by the scanner or the decoder. Offset is the
// byte at which the problem was found, -1 if unknown.
type Error struct {
	Offset int64
	Msg    string
}

func (e *Error) Error() string {
	if e.Offset < 0 {
		return "JSON: " + e.Msg
	}
	return fmt.Sprintf("JSON at byte %d: %s", e.Offset, e.Msg)
}

// Option changes how Unmarshal reads a document.
type Option func(*options)

type options struct {
	open  bool
	extra []string
}

// AllowUnknownFields accepts object keys the destination type does not
// define, for documents whose schemas are open (OCI manifests, SPDX). A key
// that differs from a defined name only by case folding is still refused.
func AllowUnknownFields() Option { return func(o *options) { o.open = true } }

// KnownNames adds field names that a destination type's custom
// UnmarshalJSON reads beyond its struct fields (SPDX's documentDescribes,
// say): with AllowUnknownFields, a key folding to one of them must equal it.
func KnownNames(names ...string) Option {
	return func(o *options) { o.extra = append(o.extra, names...) }
}

// Valid checks that data is exactly one JSON value by the scanner's rules,
// without a destination type.
func Valid(data []byte) error {
	s := scanner{data: data, global: &names{}}
	return s.run(anySchema)
}

// Unmarshal checks data with the scanner against v's type (Check) and then
// decodes it into v with encoding/json. Unknown fields are refused unless
// AllowUnknownFields is given.
func Unmarshal(data []byte, v any, opts ...Option) error {
	o, err := check(data, v, opts)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if !o.open {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return &Error{Offset: dec.InputOffset(), Msg: err.Error()}
	}
	return nil
}

// Check checks data with the scanner against the type v points to,
// without decoding it: for documents another library decodes.
func Check(data []byte, v any, opts ...Option) error {
	_, err := check(data, v, opts)
	return err
}

func check(data []byte, v any, opts []Option) (options, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	rt := reflect.TypeOf(v)
	if rt == nil || rt.Kind() != reflect.Pointer {
		return o, &Error{Offset: -1, Msg: "destination is not a pointer"}
	}
	sch, global := schemaFor(rt.Elem())
	if len(o.extra) > 0 {
		g := &names{exact: map[string]bool{}, fold: map[string]bool{}}
		for n := range global.exact {
			g.add(n)
		}
		for _, n := range o.extra {
			g.add(n)
		}
		global = g
	}
	s := scanner{data: data, open: o.open, global: global}
	return o, s.run(sch)
}

// Marshal encodes v in offkit's canonical form: encoding/json's compact
// encoding, struct fields in declaration order, map keys sorted, without
// HTML escaping and without a trailing newline.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// UnmarshalCanonical is Unmarshal with unknown fields refused, followed by
// a check that data is exactly Marshal of the result: for documents offkit
// writes itself, any other encoding of the same value is refused.
func UnmarshalCanonical(data []byte, v any) error {
	if err := Unmarshal(data, v); err != nil {
		return err
	}
	b, err := Marshal(v)
	if err != nil {
		return err
	}
	if !bytes.Equal(b, data) {
		return &Error{Offset: int64(firstDiff(b, data)), Msg: "not in canonical form (compact encoding/json, fields in order)"}
	}
	return nil
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// Fold returns the key under which encoding/json matches a name to a struct
// field: ASCII letters upper-cased, every other rune replaced by the
// smallest rune of its simple case-folding orbit (so 'ſ' is 'S' and the
// Kelvin sign is 'K').
func Fold(name string) string {
	ascii := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= utf8.RuneSelf || ('a' <= c && c <= 'z') {
			ascii = false
			break
		}
	}
	if ascii {
		return name
	}
	return string(appendFold(nil, []byte(name)))
}

func appendFold(out, in []byte) []byte {
	for i := 0; i < len(in); {
		c := in[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(in[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return out
}

func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// --- destination types -----------------------------------------------------

type kind uint8

const (
	kindAny    kind = iota // no field rules below: interfaces, RawMessage, scalars
	kindStruct             // keys are field names
	kindMap                // keys are data
	kindSlice
)

type schema struct {
	kind   kind
	fields map[string]*schema // kindStruct: exact name -> field type
	folds  map[string]string  // kindStruct: Fold(name) -> name
	custom bool               // has its own UnmarshalJSON: keys beyond fields are its business
	elem   *schema            // kindMap, kindSlice
}

var anySchema = &schema{kind: kindAny}

// names is every field name a destination type tree defines.
type names struct {
	exact map[string]bool
	fold  map[string]bool
}

func (n *names) add(name string) { n.exact[name], n.fold[Fold(name)] = true, true }

type typeInfo struct {
	sch    *schema
	global *names
}

var cache sync.Map // reflect.Type -> *typeInfo

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func schemaFor(t reflect.Type) (*schema, *names) {
	if ti, ok := cache.Load(t); ok {
		return ti.(*typeInfo).sch, ti.(*typeInfo).global
	}
	global := &names{exact: map[string]bool{}, fold: map[string]bool{}}
	sch := build(t, map[reflect.Type]*schema{}, global)
	cache.Store(t, &typeInfo{sch, global})
	return sch, global
}

func build(t reflect.Type, seen map[reflect.Type]*schema, global *names) *schema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := seen[t]; ok {
		return s
	}
	custom := reflect.PointerTo(t).Implements(unmarshalerType) || t.Implements(unmarshalerType)
	text := reflect.PointerTo(t).Implements(textUnmarshalerType) || t.Implements(textUnmarshalerType)
	switch {
	case t.Kind() == reflect.Struct && !text:
		s := &schema{kind: kindStruct, fields: map[string]*schema{}, folds: map[string]string{}, custom: custom}
		seen[t] = s
		addFields(s, t, seen, global)
		return s
	case custom || text:
		return anySchema
	case t.Kind() == reflect.Map:
		s := &schema{kind: kindMap}
		seen[t] = s
		s.elem = build(t.Elem(), seen, global)
		return s
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return anySchema // []byte is a base64 string
		}
		s := &schema{kind: kindSlice}
		seen[t] = s
		s.elem = build(t.Elem(), seen, global)
		return s
	}
	return anySchema
}

// addFields adds t's JSON fields to s as encoding/json sees them: tagged
// names, exported fields, fields of untagged embedded structs promoted.
func addFields(s *schema, t reflect.Type, seen map[reflect.Type]*schema, global *names) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(s, ft, seen, global)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := s.fields[name]; dup {
			continue // a promoted field shadowed by an outer one
		}
		s.fields[name] = build(f.Type, seen, global)
		s.folds[Fold(name)] = name
		global.add(name)
	}
}
