// Package bundle writes and reads offkit kits: deterministic, compressed tar
// archives whose metadata (the DSSE-signed manifest, SHA256SUMS, its
// signatures and the SBOMs) comes first and whose payload follows, sorted.
//
// Build streams every source once, hashing it while it is compressed; Open
// reads only the metadata at the head of a kit, and Reader.Next streams the
// payload entry by entry, so neither ever holds a payload file in memory.
// The format is specified in docs/FORMAT.md. Trust decisions are the verify
// package's.
package bundle
