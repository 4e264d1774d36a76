package images

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxJSONDepth bounds the nesting of layout JSON (manifest.MaxJSONDepth).
const maxJSONDepth = 64

// jsonUnmarshal decodes one JSON value into v, refusing duplicate object
// keys at any depth, nesting deeper than maxJSONDepth and trailing data.
// Unknown fields are allowed: the OCI specifications let manifests carry
// them. Duplicate keys are not: two parsers that pick different duplicates
// would see different images under one digest.
func jsonUnmarshal(data []byte, v any) error {
	if err := checkJSON(data); err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// checkJSON checks data is exactly one JSON value with no duplicate keys
// and no nesting deeper than maxJSONDepth.
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) != 0 {
				return errors.New("json: unexpected end of input")
			}
			break
		}
		if err != nil {
			return fmt.Errorf("json: %w", err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				markValue(stack)
			} else {
				k, ok := tok.(string)
				if !ok {
					return errors.New("json: object key is not a string")
				}
				if _, dup := top.keys[k]; dup {
					return fmt.Errorf("json: duplicate key %q", k)
				}
				top.keys[k] = struct{}{}
				top.key = false
				continue
			}
		} else {
			switch tok {
			case json.Delim('{'), json.Delim('['):
				if len(stack) >= maxJSONDepth {
					return fmt.Errorf("json: nested deeper than %d", maxJSONDepth)
				}
				f := &frame{object: tok == json.Delim('{')}
				if f.object {
					f.keys, f.key = map[string]struct{}{}, true
				}
				stack = append(stack, f)
			case json.Delim(']'):
				stack = stack[:len(stack)-1]
				markValue(stack)
			default:
				markValue(stack)
			}
		}
		if len(stack) == 0 {
			// One complete top-level value: anything after it but white
			// space is refused.
			if _, err := dec.Token(); !errors.Is(err, io.EOF) {
				return errors.New("json: trailing data after the value")
			}
			return nil
		}
	}
	return errors.New("json: no value")
}

// frame is an object or array being scanned by checkJSON.
type frame struct {
	object bool
	keys   map[string]struct{}
	key    bool // the next token in an object is a key
}

// markValue records that a value ended inside the innermost object, whose
// next token is then a key.
func markValue(stack []*frame) {
	if len(stack) > 0 && stack[len(stack)-1].object {
		stack[len(stack)-1].key = true
	}
}
