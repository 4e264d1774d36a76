//go:build !unix

package store

// Open flags of a directory store's reads; os.Root already keeps them
// inside the store.
const (
	oNonblockNofollow = 0
)
