package verify

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign"
)

// Sentinel errors, tested with errors.Is.
var (
	ErrVerification = errors.New("verification failed")
	// ErrNotIntact: the kit is corrupt, malformed, truncated or tampered
	// with, or a signature by a given key does not verify.
	ErrNotIntact = fmt.Errorf("%w: the kit is not intact", ErrVerification)
	// ErrUntrusted: the kit is intact, but not signed by a trusted key.
	ErrUntrusted = fmt.Errorf("%w: the kit is not signed by a trusted key", ErrVerification)
)

// ReportVersion identifies the JSON form of Report.
const ReportVersion = "offkit.dev/verify-report/v1"

// Report is the outcome of a verification, for people and machines alike.
type Report struct {
	SchemaVersion string   `json:"schemaVersion"`
	Kit           *KitInfo `json:"kit,omitempty"`
	Verified      bool     `json:"verified"`
	Checks        []Check  `json:"checks"`
	Signers       []Signer `json:"signers"`
	Error         string   `json:"error,omitempty"`
}

// KitInfo identifies the kit verified.
type KitInfo struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Created     string `json:"created"`
	Compression string `json:"compression"`
	Files       int    `json:"files"`
	Bytes       int64  `json:"bytes"`
}

// Check is one step of the verification algorithm (docs/FORMAT.md).
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Signer is one signature found in the kit.
type Signer struct {
	Index         int    `json:"index"` // 1-based, in envelope order
	KeyID         string `json:"keyid"`
	SumsSignature string `json:"sumsSignature"` // the SHA256SUMS signature file
	Trusted       bool   `json:"trusted"`
	Key           string `json:"key,omitempty"` // the trusted key file that verified it
	Problem       string `json:"problem,omitempty"`
}

// Option configures Verify.
type Option func(*config) error

type config struct{ keys []*sign.Verifier }

// WithKeys trusts the given public keys.
func WithKeys(keys ...*sign.Verifier) Option {
	return func(c *config) error { c.keys = append(c.keys, keys...); return nil }
}

func (r *Report) check(name string, err error, ok string) {
	c := Check{Name: name, OK: err == nil, Detail: ok}
	if err != nil {
		c.Detail = err.Error()
	}
	r.Checks = append(r.Checks, c)
}

// Verify reads the kit in r once and reports whether it is intact and signed
// by at least one of the trusted keys. The error is nil only when every
// check holds; otherwise it wraps ErrNotIntact, ErrUntrusted, or is an I/O
// error from r. The report is returned in every case.
func Verify(ctx context.Context, r io.Reader, opts ...Option) (*Report, error) {
	rep := &Report{SchemaVersion: ReportVersion, Checks: []Check{}, Signers: []Signer{}}
	err := run(ctx, r, rep, opts)
	rep.Verified = err == nil
	if err != nil {
		rep.Error = err.Error()
	}
	return rep, err
}

func run(ctx context.Context, r io.Reader, rep *Report, opts []Option) error {
	var cfg config
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return err
		}
	}
	if len(cfg.keys) == 0 {
		return errors.New("verify: no trusted keys given")
	}
	rd, err := bundle.Open(r)
	rep.check("metadata", notIntact(err), "manifest, SHA256SUMS, statement subjects and SBOMs are well-formed and agree")
	if err != nil {
		return notIntact(err)
	}
	defer rd.Close()
	h := rd.Head
	m := h.Manifest
	rep.Kit = &KitInfo{Name: m.Name, Version: m.Version, Created: m.Created, Compression: string(h.Compression), Files: m.FileCount, Bytes: m.TotalSize}

	trusted, sigErr := checkSignatures(h, cfg.keys, rep)
	rep.check("signatures", sigErr, fmt.Sprintf("%d signature(s), %d by trusted keys; DSSE and SHA256SUMS signatures agree", len(h.Envelope.Signatures), trusted))

	var n int
	var payloadErr error
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			_, err = io.Copy(io.Discard, e)
		}
		if err != nil {
			payloadErr = err
			break
		}
		if !e.Dir {
			n++
		}
	}
	rep.check("payload", notIntact(payloadErr), fmt.Sprintf("%d file(s), every digest matches SHA256SUMS; nothing missing, nothing extra", n))
	switch {
	case payloadErr != nil:
		return notIntact(payloadErr)
	case sigErr != nil:
		return sigErr
	}
	return nil
}

// checkSignatures verifies each DSSE signature, and the SHA256SUMS
// signature beside it, against the trusted keys. It returns how many
// distinct trusted keys signed.
func checkSignatures(h *bundle.Head, keys []*sign.Verifier, rep *Report) (int, error) {
	env := h.Envelope
	if len(env.Signatures) == 0 {
		return 0, fmt.Errorf("%w: the kit is unsigned (sign it with offkit sign)", ErrUntrusted)
	}
	byID := map[string]*sign.Verifier{}
	for _, k := range keys {
		byID[k.KeyID()] = k
	}
	signedBy := map[string]bool{}
	var broken error
	for i, s := range env.Signatures {
		sg := Signer{Index: i + 1, KeyID: s.KeyID, SumsSignature: manifest.SumsSigNameFor(i)}
		var match *sign.Verifier
		for _, k := range keys {
			if sign.VerifyEnvelopeSignature(env, h.Payload, i, k) == nil {
				match = k
				break
			}
		}
		switch {
		case match != nil:
			sumsSig, err := sign.DecodeSignature(h.SumsSigs[i])
			if err == nil {
				err = match.Verify(h.SumsRaw, sumsSig)
			}
			if err != nil {
				sg.Problem = fmt.Sprintf("%s does not verify with the key that signed the manifest: %v", sg.SumsSignature, err)
				broken = fmt.Errorf("%w: signature %d: %s", ErrNotIntact, i+1, sg.Problem)
			} else if s.KeyID != "" && s.KeyID != match.KeyID() {
				sg.Problem = fmt.Sprintf("keyid %q does not name the key that verifies it (%s)", s.KeyID, match.KeyID())
				broken = fmt.Errorf("%w: signature %d: %s", ErrNotIntact, i+1, sg.Problem)
			} else {
				sg.Trusted, sg.Key, sg.KeyID = true, match.Source, match.KeyID()
				signedBy[match.KeyID()] = true
			}
		case byID[s.KeyID] != nil:
			sg.Problem = fmt.Sprintf("claims trusted key %s (%s) but does not verify with it", s.KeyID, byID[s.KeyID].Source)
			broken = fmt.Errorf("%w: signature %d: %s", ErrNotIntact, i+1, sg.Problem)
		default:
			sg.Problem = "not signed by any trusted key"
		}
		rep.Signers = append(rep.Signers, sg)
	}
	if broken != nil {
		return len(signedBy), broken
	}
	if len(signedBy) == 0 {
		return 0, fmt.Errorf("%w: none of the %d signature(s) verifies with the %d key(s) given", ErrUntrusted, len(env.Signatures), len(keys))
	}
	return len(signedBy), nil
}

// notIntact classifies a reading error: corruption becomes ErrNotIntact,
// anything else (I/O) is returned as it is.
func notIntact(err error) error {
	if err == nil || errors.Is(err, ErrNotIntact) {
		return err
	}
	if errors.Is(err, manifest.ErrMalformed) {
		return fmt.Errorf("%w: %w", ErrNotIntact, err)
	}
	return err
}
