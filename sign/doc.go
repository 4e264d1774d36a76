// Package sign holds offkit's keys and signatures: cosign-compatible key
// pairs (generated and loaded with github.com/sigstore/cosign/v2, so keys
// from `cosign generate-key-pair` work here and the reverse), signing of the
// kit's DSSE envelope and of SHA256SUMS, and verification of both.
//
// Signatures are exactly what cosign makes and checks: ECDSA (or the key's
// algorithm) over SHA-256 of the DSSE pre-authentication encoding, and over
// SHA-256 of the blob for SHA256SUMS.sig, base64-encoded.
package sign
