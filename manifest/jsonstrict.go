package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed("%v", err)
	}
	return nil
}

// checkJSON verifies that data is exactly one JSON value with no duplicate
// keys and bounded depth.
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := checkValue(dec, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return malformed("trailing data after JSON value")
	}
	return nil
}

func checkValue(dec *json.Decoder, depth int) error {
	if depth > MaxJSONDepth {
		return malformed("JSON nested deeper than %d", MaxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return malformed("JSON: %v", err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return malformed("JSON: %v", err)
			}
			k := kt.(string)
			if seen[k] {
				return malformed("JSON: duplicate key %q", k)
			}
			seen[k] = true
			if err := checkValue(dec, depth+1); err != nil {
				return err
			}
		}
	case '[':
		for dec.More() {
			if err := checkValue(dec, depth+1); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // closing delimiter
		return malformed("JSON: %v", err)
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

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
