package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MaxJSONDepth bounds the nesting of any JSON document offkit parses.
const MaxJSONDepth = 64

// unmarshalStrict decodes one JSON value into v, refusing duplicate object
// keys at any depth, unknown fields, nesting deeper than MaxJSONDepth and
// trailing data. Duplicate keys matter: two parsers that pick different
// duplicates see different documents under one signature.
func unmarshalStrict(data []byte, v any) error {
	if err := checkJSON(data); err != nil {
		return err
	}
	return decodeStrict(data, v)
}

// decodeStrict decodes exactly one JSON value, refusing unknown fields and
// anything but white space after it. It checks the syntax in full.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed("%v", err)
	}
	if len(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")) != 0 {
		return malformed("trailing data after JSON value")
	}
	return nil
}

// checkJSON refuses duplicate object keys and nesting deeper than
// MaxJSONDepth. It is a fast scan that relies on its caller to check the
// syntax in full (decodeStrict, json.Unmarshal): on malformed input it
// may miss a duplicate, but never panics or loops.
func checkJSON(data []byte) error {
	type frame struct {
		obj  bool
		keys []string
		set  map[string]bool // once keys grows past a few
	}
	var stack []frame
	n := len(data)
	for i := 0; i < n; {
		switch data[i] {
		case '{', '[':
			if len(stack) >= MaxJSONDepth {
				return malformed("JSON nested deeper than %d", MaxJSONDepth)
			}
			stack = append(stack, frame{obj: data[i] == '{'})
			i++
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			i++
		case '"':
			j, esc := i+1, false
			for j < n && data[j] != '"' {
				if data[j] == '\\' {
					esc = true
					j++
				}
				j++
			}
			if j >= n {
				return malformed("JSON: unterminated string")
			}
			raw := data[i : j+1]
			i = j + 1
			k := i
			for k < n && (data[k] == ' ' || data[k] == '\t' || data[k] == '\r' || data[k] == '\n') {
				k++
			}
			if k >= n || data[k] != ':' || len(stack) == 0 || !stack[len(stack)-1].obj {
				continue // a value, not a key
			}
			key := string(raw[1 : len(raw)-1])
			if esc {
				if err := json.Unmarshal(raw, &key); err != nil {
					return malformed("JSON: bad key %s", raw)
				}
			}
			f := &stack[len(stack)-1]
			if f.set != nil {
				if f.set[key] {
					return malformed("JSON: duplicate key %q", key)
				}
				f.set[key] = true
				continue
			}
			for _, seen := range f.keys {
				if seen == key {
					return malformed("JSON: duplicate key %q", key)
				}
			}
			f.keys = append(f.keys, key)
			if len(f.keys) > 16 {
				f.set = make(map[string]bool, 2*len(f.keys))
				for _, k := range f.keys {
					f.set[k] = true
				}
			}
		default:
			i++
		}
	}
	return nil
}

// marshalCanonical encodes v as compact JSON without HTML escaping. Go's
// encoder is deterministic for structs and sorts map keys, so equal values
// give equal bytes.
func marshalCanonical(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
