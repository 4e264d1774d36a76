package images

import "github.com/offkit/offkit/internal/strictjson"

// jsonUnmarshal decodes one layout JSON document (an index, a manifest,
// oci-layout) into v by offkit's one JSON reading, internal/strictjson:
// exact field names, no duplicate keys in any casing, bounded nesting,
// nothing after the value. Unknown fields are allowed: the OCI
// specifications let manifests carry them. Duplicate keys are not: two
// parsers that pick different duplicates would see different images under
// one digest.
func jsonUnmarshal(data []byte, v any) error {
	return strictjson.Unmarshal(data, v, strictjson.AllowUnknownFields())
}
