package sign

import (
	"fmt"

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
