package store

import (
	"context"
	"errors"
)

// Until the S3 and OCI media land.
func newS3Store(ctx context.Context, bucket, prefix string) (Store, error) {
	return nil, errors.New("s3:// not yet")
}
func newOCIStore(repo string, insecure bool) (Store, error) { return nil, errors.New("oci:// not yet") }
