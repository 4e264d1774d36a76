package manifest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Limits on manifest.dsse.json.
const (
	MaxEnvelopeSize = 64 << 20
	MaxSignatures   = 64
	maxSigLen       = 16 << 10 // bytes of one base64 signature
)

// Envelope is a DSSE envelope (github.com/secure-systems-lab/go-securesystemslib/dsse).
type Envelope = dsse.Envelope

// Signature is one signature of an Envelope.
type Signature = dsse.Signature

// PAE returns the DSSE pre-authentication encoding of the envelope's payload:
// the bytes each signature signs.
func PAE(payloadType string, payload []byte) []byte { return dsse.PAE(payloadType, payload) }

// NewEnvelope wraps a statement payload in an unsigned envelope.
func NewEnvelope(payload []byte) *Envelope {
	return &Envelope{PayloadType: PayloadType, Payload: base64.StdEncoding.EncodeToString(payload), Signatures: []Signature{}}
}

// MarshalEnvelope encodes e as it is stored in manifest.dsse.json.
func MarshalEnvelope(e *Envelope) ([]byte, error) {
	b, err := marshalCanonical(e)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseEnvelope parses manifest.dsse.json held in memory (ReadEnvelope).
func ParseEnvelope(data []byte) (*Envelope, []byte, error) {
	if len(data) > MaxEnvelopeSize {
		return nil, nil, malformed("%s is larger than %d bytes", EnvelopeName, MaxEnvelopeSize)
	}
	e, p, err := ReadEnvelope(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	e.Payload = base64.StdEncoding.EncodeToString(p.Bytes())
	return e, p.Bytes(), nil
}

// SigBytes decodes the i-th signature.
func SigBytes(e *Envelope, i int) ([]byte, error) {
	return base64.StdEncoding.Strict().DecodeString(e.Signatures[i].Sig)
}

// Signer makes signatures with one key; sign.Signer implements it. Sign
// signs msg as cosign does (for cosign keys: ECDSA over SHA-256 of msg).
type Signer interface {
	KeyID() string
	Sign(ctx context.Context, msg []byte) ([]byte, error)
}

// ErrAlreadySigned is returned when a key signs an envelope it already signed.
var ErrAlreadySigned = errors.New("already signed by this key")

// SignEnvelope appends s's signature over the envelope's PAE to e, with
// s's key ID. It refuses to sign twice with one key.
func SignEnvelope(ctx context.Context, e *Envelope, s Signer) error {
	payload, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil {
		return fmt.Errorf("envelope payload: %w", err)
	}
	for _, sig := range e.Signatures {
		if sig.KeyID == s.KeyID() {
			return fmt.Errorf("%w: %s", ErrAlreadySigned, s.KeyID())
		}
	}
	raw, err := s.Sign(ctx, PAE(e.PayloadType, payload))
	if err != nil {
		return err
	}
	e.Signatures = append(e.Signatures, Signature{KeyID: s.KeyID(), Sig: base64.StdEncoding.EncodeToString(raw)})
	return nil
}
