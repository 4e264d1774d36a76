// Package schemas embeds the JSON Schemas of offkit's documents — kit.yaml,
// the kit manifest predicate and the trust policy — and compiles them for validation.
//
// The schemas are part of the normative kit format (docs/FORMAT.md); the
// manifest package enforces them on every document it parses.
package schemas
