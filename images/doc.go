// Package images carries container images in kits: it resolves image
// sources (a registry reference, an OCI image layout directory or a
// docker-archive tarball) to pinned digests, plans one deterministic OCI
// image layout holding every image with its cosign signatures, attestations
// and OCI 1.1 referrers, checks such a layout offline, verifies the carried
// signatures with cosign public keys, and pushes images from a layout to a
// registry so that stock cosign verifies them there.
//
// Nothing here holds a blob in memory except manifests, which are bounded
// by MaxManifestSize: layers are listed from their descriptors and streamed,
// and every stream is checked against its digest while it is read.
package images
