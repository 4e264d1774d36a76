// Package interop holds interoperability tests of offkit's kits and keys
// against the real tools they promise to work with: the cosign CLI
// (verify-blob, verify-blob-attestation, sign-blob, generate-key-pair), GNU
// tar with zstd, and sha256sum. It has no code outside its tests.
//
// A missing tool skips the tests that need it, unless OFFKIT_REQUIRE_INTEROP=1
// or CI is set, as in 'make test', when it fails them.
package interop
