// Command s3bench is the plain-SDK baseline of make bench's publishing
// measurements: what a release pipeline would do without offkit, with the
// same SDK (aws-sdk-go-v2), part size and parallelism as offkit's S3 store.
//
//	s3bench mb BUCKET              create a bucket
//	s3bench put FILE BUCKET KEY    multipart upload of FILE, parts with SHA-256 checksums
//	s3bench get BUCKET KEY FILE    GetObject to FILE ("-" for standard output)
//
// Configuration is the AWS default chain, like offkit's (AWS_ENDPOINT_URL_S3
// for a local server).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/logging"
)

// The S3 store's part size and parts in flight (store/s3.go).
const (
	partSize = 8 << 20
	inFlight = 4
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "s3bench:", err)
		os.Exit(1)
	}
}

func client(ctx context.Context) (*s3.Client, error) {
	// As store.NewS3 configures it.
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		config.WithLogger(logging.Nop{}))
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), nil
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: s3bench mb BUCKET | put FILE BUCKET KEY | get BUCKET KEY FILE")
	}
	c, err := client(ctx)
	if err != nil {
		return err
	}
	switch {
	case args[0] == "mb" && len(args) == 2:
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(args[1])})
		return err
	case args[0] == "put" && len(args) == 4:
		return put(ctx, c, args[1], args[2], args[3])
	case args[0] == "get" && len(args) == 4:
		return get(ctx, c, args[1], args[2], args[3])
	}
	return fmt.Errorf("usage: s3bench mb BUCKET | put FILE BUCKET KEY | get BUCKET KEY FILE")
}

func put(ctx context.Context, c *s3.Client, file, bucket, key string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key, ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		return err
	}
	var (
		mu    sync.Mutex
		parts []types.CompletedPart
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, inFlight)
	)
	for n := int32(1); ; n++ {
		buf := make([]byte, partSize)
		k, rerr := io.ReadFull(f, buf)
		if k == 0 {
			break
		}
		buf = buf[:k]
		sem <- struct{}{}
		wg.Add(1)
		go func(n int32, buf []byte) {
			defer func() { <-sem; wg.Done() }()
			sum := sha256.Sum256(buf)
			cs := base64.StdEncoding.EncodeToString(sum[:])
			out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(n),
				Body: bytes.NewReader(buf), ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: &cs})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				first = err
				return
			}
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumSHA256: out.ChecksumSHA256})
		}(n, buf)
		if rerr != nil {
			break
		}
	}
	wg.Wait()
	if first != nil {
		c.AbortMultipartUpload(context.Background(), &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId})
		return first
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	return err
}

func get(ctx context.Context, c *s3.Client, bucket, key, file string) error {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	w := io.Writer(os.Stdout)
	if file != "-" {
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	_, err = io.Copy(w, out.Body)
	return err
}
