// Package unpack extracts a kit into a directory as it is verified, so
// that the kit appears at DIR/<name>-<version>/ only when every check has
// passed — like `tar -x -C DIR`, but all or nothing.
//
// An Unpacker is a verify.Extractor. Files are written into a staging
// directory inside DIR (.offkit-staging-*), hashed as they are written,
// and the kit's root is renamed into place at the end: a kit that fails,
// a crash or kill -9 leaves no DIR/<name>-<version>. Staging directories
// left by a run that died are found by their lock and removed by the next
// run. Every write goes through an os.Root opened on the staging root, so
// nothing is written outside DIR whatever the entry names say.
package unpack
