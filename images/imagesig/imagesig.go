// Package imagesig verifies, offline, the cosign signatures and
// attestations carried in an OCI image layout of a kit (see package
// images). It is apart from images so that building a kit, which imports
// images, does not link cosign.
package imagesig

import (
	"context"
	"crypto"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/offkit/offkit/images"
)

// layoutRepository is the name under which a layout is shown to cosign.
// The layout's transport answers for it without any network.
const layoutRepository = "layout.offkit.invalid/image"

// VerifySignatures verifies, offline, the cosign signatures carried in the
// layout for the manifest digest: the simple-signing payloads of the
// sha256-<hex>.sig manifest, whose signatures must verify with a key and
// whose critical.image.docker-manifest-digest must be digest. It runs
// cosign's own verification (cosign.VerifyImageSignatures, as `cosign verify
// --key K --insecure-ignore-tlog` does) against the layout served from
// memory as a read-only registry (images.Layout.Transport). The
// transparency log is not consulted: an air-gapped site has none.
//
// It returns the indexes in keys of the keys that verified a signature,
// or an error wrapping images.ErrUntrusted when none did.
func VerifySignatures(ctx context.Context, l *images.Layout, digest v1.Hash, keys []crypto.PublicKey) ([]int, error) {
	return verify(ctx, l, images.RoleSignature, digest, keys)
}

// VerifyAttestations is VerifySignatures for the cosign attestations
// (sha256-<hex>.att) carried for digest: DSSE envelopes whose signature
// must verify with a key and whose in-toto statement must name digest as a
// subject (cosign verify-attestation --key K --insecure-ignore-tlog, of any
// predicate type).
func VerifyAttestations(ctx context.Context, l *images.Layout, digest v1.Hash, keys []crypto.PublicKey) ([]int, error) {
	return verify(ctx, l, images.RoleAttestation, digest, keys)
}

func verify(ctx context.Context, l *images.Layout, role images.Role, digest v1.Hash, keys []crypto.PublicKey) ([]int, error) {
	if len(keys) == 0 {
		return nil, errors.New("images: no public keys to verify with")
	}
	found := false
	for _, e := range l.Artifacts(digest) {
		found = found || e.Role == role
	}
	if !found {
		return nil, fmt.Errorf("%w: the layout carries no cosign %s of %s", images.ErrUntrusted, role, digest)
	}
	repo, err := name.NewRepository(layoutRepository)
	if err != nil {
		return nil, err
	}
	ref := repo.Digest(digest.String())
	var verified []int
	var errs []error
	for i, pub := range keys {
		verifier, err := signature.LoadVerifier(pub, crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("images: key %d: %w", i+1, err)
		}
		co := &cosign.CheckOpts{
			SigVerifier: verifier,
			IgnoreTlog:  true,
			IgnoreSCT:   true,
			RegistryClientOpts: []ociremote.Option{
				ociremote.WithTargetRepository(repo),
				ociremote.WithRemoteOptions(remote.WithContext(ctx), remote.WithTransport(l.Transport())),
			},
		}
		if role == images.RoleSignature {
			co.ClaimVerifier = cosign.SimpleClaimVerifier
			_, _, err = cosign.VerifyImageSignatures(ctx, ref, co)
		} else {
			co.ClaimVerifier = cosign.IntotoSubjectClaimVerifier
			_, _, err = cosign.VerifyImageAttestations(ctx, ref, co)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("key %d: %w", i+1, err))
			continue
		}
		verified = append(verified, i)
	}
	if len(verified) == 0 {
		return nil, fmt.Errorf("%w: no cosign %s of %s carried in the layout verifies with the %d key(s) given: %w",
			images.ErrUntrusted, role, digest, len(keys), errors.Join(errs...))
	}
	return verified, nil
}
