// Package images carries container images in kits: it resolves image
// sources (a registry reference, an OCI image layout directory or a
// docker-archive tarball) to pinned digests, plans one deterministic OCI
// image layout holding every image with its cosign signatures, attestations
// and OCI 1.1 referrers, checks such a layout offline, verifies the carried
// signatures with cosign public keys (in package imagesig, apart so that
// importing images does not link cosign), and pushes images from a layout to a
// registry so that stock cosign verifies them there.
//
// Nothing here holds a blob in memory except manifests, which are bounded
// by MaxManifestSize: layers are listed from their descriptors and streamed,
// and every stream is checked against its digest while it is read.
//
// # The layout
//
// A kit holds one OCI image layout under KitDir ("images/"): oci-layout,
// index.json and blobs/sha256/<hex>, each blob stored once however many
// images share it. Each entry of index.json carries AnnotationRole:
//
//   - "image": an image named in kit.yaml, by the digest it was pinned to,
//     with its original reference (org.opencontainers.image.ref.name),
//     repository path (AnnotationRepository) and tag (AnnotationTag).
//   - "signature" and "attestation": the cosign manifest tagged
//     sha256-<hex>.sig or .att in the source, with that tag as its
//     ref.name and the digest it belongs to as AnnotationSubject.
//   - "referrer": an OCI 1.1 referrer, with AnnotationSubject.
//
// An index filtered by platform is carried unchanged, so the digest named
// and signed stays verifiable, with only the children for its platforms;
// AnnotationPlatforms on its entry lists them, and tells readers that the
// other children are absent on purpose.
//
// # Checking
//
// A kit's layout is signed input from a party that may be hostile, so
// the Checker reads each blob once, by digest, however many descriptors
// name it: its work and allocations are linear in the layout's bytes and
// descriptors. Every descriptor's size and media type must be its blob's
// (an image manifest or index must have a mediaType field), and every
// repository path and tag Push would use must be an OCI distribution name
// (CheckRepositoryPath, CheckTag), so that nothing climbs out of the
// prefix pushed to. PlanPush works out every reference to push before
// anything is pushed, and each must lie under the prefix.
package images
