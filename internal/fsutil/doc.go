// Package fsutil holds the file-system primitives offkit needs beyond the
// os package, each with its Unix and Windows forms: exclusive advisory
// locks on open files (flock(2), LockFileEx), used for the state directory
// (one writer at a time) and for unpack's staging directories (a staging
// directory whose lock is free belongs to a run that died); and syncing a
// directory, so that a rename in it is durable; and atomic output files
// (AtomicFile), which appear only when complete and synced.
package fsutil
