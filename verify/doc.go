// Package verify decides whether a kit is exactly what its signers built and
// whether those signers are trusted: it checks the archive's structure and
// paths, every signature against the given public keys, and every file's
// digest against SHA256SUMS and the signed statement, in one streaming pass.
//
// Failures are classified so callers can act on them: ErrNotIntact (the kit
// is corrupt, malformed or tampered with) and ErrUntrusted (the kit is intact
// but no trusted key signed it). Both wrap ErrVerification.
package verify
