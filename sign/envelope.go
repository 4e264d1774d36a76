package sign

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/offkit/offkit/manifest"
)

var errEOF = io.EOF

// ErrAlreadySigned is returned when a key signs an envelope it already signed.
var ErrAlreadySigned = errors.New("already signed by this key")

// SignEnvelope appends s's signature over the envelope's payload to e. It
// refuses to sign twice with one key.
func SignEnvelope(ctx context.Context, e *manifest.Envelope, s *Signer) error {
	payload, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil {
		return fmt.Errorf("envelope payload: %w", err)
	}
	for _, sig := range e.Signatures {
		if sig.KeyID == s.KeyID() {
			return fmt.Errorf("%w: %s", ErrAlreadySigned, s.KeyID())
		}
	}
	raw, err := s.Sign(ctx, manifest.PAE(e.PayloadType, payload))
	if err != nil {
		return err
	}
	e.Signatures = append(e.Signatures, manifest.Signature{KeyID: s.KeyID(), Sig: base64.StdEncoding.EncodeToString(raw)})
	return nil
}

// VerifyEnvelopeSignature checks the i-th signature of e with v. It checks
// the signature bytes only; whether v is trusted is the caller's decision.
func VerifyEnvelopeSignature(e *manifest.Envelope, payload []byte, i int, v *Verifier) error {
	sig, err := manifest.SigBytes(e, i)
	if err != nil {
		return fmt.Errorf("%w: signature %d: %v", ErrBadSignature, i+1, err)
	}
	return v.Verify(manifest.PAE(e.PayloadType, payload), sig)
}
