package sign

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"github.com/sigstore/sigstore/pkg/signature/options"

	"github.com/offkit/offkit/manifest"
)

// VerifyEnvelopeSignature checks the i-th signature of e with v. It checks
// the signature bytes only; whether v is trusted is the caller's decision.
func VerifyEnvelopeSignature(e *manifest.Envelope, payload []byte, i int, v *Verifier) error {
	sig, err := manifest.SigBytes(e, i)
	if err != nil {
		return fmt.Errorf("%w: signature %d: %v", ErrBadSignature, i+1, err)
	}
	return v.Verify(manifest.PAE(e.PayloadType, payload), sig)
}

// VerifyPAE checks the i-th signature of e with v over payload, whose PAE
// digest (manifest.Payload.PAEDigest) the caller computed once for all
// signatures and keys: checking n signatures against k keys then costs one
// pass over the payload, not n×k.
func VerifyPAE(e *manifest.Envelope, i int, payload *manifest.Payload, digest []byte, v *Verifier) error {
	sig, err := manifest.SigBytes(e, i)
	if err != nil {
		return fmt.Errorf("%w: signature %d: %v", ErrBadSignature, i+1, err)
	}
	if _, ok := v.pub.(ed25519.PublicKey); ok {
		// Ed25519 signs the message itself, not a digest of it.
		return v.Verify(manifest.PAE(e.PayloadType, payload.Bytes()), sig)
	}
	if err := v.v.VerifySignature(bytes.NewReader(sig), nil, options.WithDigest(digest)); err != nil {
		return fmt.Errorf("%w with key %s (%s)", ErrBadSignature, v.keyID, v.Source)
	}
	return nil
}
