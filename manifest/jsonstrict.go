package manifest

import (
	"errors"

	"github.com/offkit/offkit/internal/strictjson"
)

// MaxJSONDepth bounds the nesting of any JSON document offkit parses.
const MaxJSONDepth = strictjson.MaxDepth

// unmarshalStrict decodes one JSON value into v by offkit's one JSON
// reading (internal/strictjson, FORMAT §16): exact field names, no
// duplicate keys in any casing, no unknown fields, bounded nesting, nothing
// after the value.
func unmarshalStrict(data []byte, v any, opts ...strictjson.Option) error {
	if err := strictjson.Unmarshal(data, v, opts...); err != nil {
		return jsonError(err)
	}
	return nil
}

// checkJSON checks data by the same rules without a destination type.
func checkJSON(data []byte) error { return jsonError(strictjson.Valid(data)) }

func jsonError(err error) error {
	var je *strictjson.Error
	if errors.As(err, &je) {
		return malformed("%v", je)
	}
	return err
}

// marshalCanonical encodes v in offkit's canonical JSON form
// (strictjson.Marshal).
func marshalCanonical(v any) ([]byte, error) { return strictjson.Marshal(v) }

// canonical refuses data that is not marshalCanonical of v: for documents
// offkit writes, the bytes are a function of their value.
func canonical(what string, data []byte, v any) error {
	want, err := marshalCanonical(v)
	if err != nil {
		return err
	}
	if string(want) != string(data) {
		return malformed("%s is not in offkit's canonical form (docs/FORMAT.md, JSON rules)", what)
	}
	return nil
}
