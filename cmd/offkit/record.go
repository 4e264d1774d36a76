package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/offkit/offkit/internal/version"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/publish"
	"github.com/offkit/offkit/sign"
)

// recordFunc makes publish's release record (manifest.NewRecord): the kit
// file, the trust it was verified under, and the verification's result,
// DSSE-signed by signer if not nil.
func recordFunc(ctx context.Context, t *trustFlags, signer *sign.Signer, now func() time.Time) publish.RecordFunc {
	return func(v *publish.Verified) ([]byte, error) {
		rep, m := v.Report, v.Head.Manifest
		stmt, err := manifest.ParseDigest(rep.Kit.Statement)
		if err != nil {
			return nil, fmt.Errorf("the kit's statement digest: %w", err)
		}
		in := manifest.RecordInput{
			KitFile: v.File, KitDigest: v.SHA256, KitSize: v.Size,
			ResourceURI: v.URL, VerifierVersion: version.String(), TimeVerified: now(), Passed: rep.Verified,
			Name: m.Name, Version: m.Version, FormatVersion: m.FormatVersion, Statement: stmt,
			Threshold: rep.Trust.Threshold, Signers: rep.Trust.TrustedSigners,
		}
		seen := map[string]bool{}
		for _, k := range t.verifiers() {
			if seen[k.KeyID()] {
				continue
			}
			seen[k.KeyID()] = true
			// The key as cosign writes it: the same digest whatever the
			// file's line endings or comments.
			pem, err := cryptoutils.MarshalPublicKeyToPEM(k.Public())
			if err != nil {
				return nil, fmt.Errorf("key %s: %w", k.Source, err)
			}
			in.Keys = append(in.Keys, manifest.RecordKey{KeyID: k.KeyID(), PEM: manifest.Digest(sha256.Sum256(pem))})
		}
		if p := t.loadedPolicy; p != nil {
			in.Policy = &manifest.RecordPolicy{URI: p.File, Digest: p.Digest}
		}
		for _, im := range rep.Images {
			d, err := manifest.ParseDigest(im.Digest)
			if err != nil {
				return nil, fmt.Errorf("image %s: %w", im.Component, err)
			}
			in.Images = append(in.Images, manifest.RecordImage{Component: im.Component, Reference: im.Reference, Digest: d})
		}
		rec, err := manifest.NewRecord(in)
		if err != nil || signer == nil {
			return rec, err
		}
		return manifest.SignRecord(ctx, rec, signer)
	}
}
