// Package manifest is offkit's data model: the kit specification read from
// kit.yaml, the kit manifest carried as an in-toto predicate, SHA256SUMS, the
// in-toto Statement, the DSSE envelope and the kit's SPDX document.
//
// Every type comes with a Marshal/Parse pair. Parsers treat their input as
// hostile: they are strict, bounded and name what is wrong. The package does
// no I/O beyond the readers it is handed and makes no trust decisions; those
// belong to the bundle and verify packages.
package manifest
