package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/offkit/offkit/images"
	"github.com/offkit/offkit/unpack"
	"github.com/offkit/offkit/verify"
)

// PushResultVersion identifies the JSON form of pushResult.
const PushResultVersion = "offkit.dev/push-result/v1"

// pushResult is what offkit images push did, for people and machines.
type pushResult struct {
	SchemaVersion string         `json:"schemaVersion"`
	Kit           string         `json:"kit"`
	To            string         `json:"to"`
	Verify        *verify.Report `json:"verify"`
	Images        []pushedImage  `json:"images"`
	OK            bool           `json:"ok"`
	Error         string         `json:"error,omitempty"`
}

// pushedImage is one image pushed (or about to be, when a push failed).
type pushedImage struct {
	Components   []string `json:"components"` // the kit's image components with this image
	Reference    string   `json:"reference"`  // as recorded in the kit
	Digest       string   `json:"digest"`
	Destination  string   `json:"destination"` // repository@digest
	Tags         []string `json:"tags"`        // the image's own tag, if any, in the destination
	Artifacts    []string `json:"artifacts"`   // signatures and attestations (by tag) and referrers (by digest) pushed
	BlobsPushed  int      `json:"blobsPushed"`
	BlobsSkipped int      `json:"blobsSkipped"` // already in the destination
	Pushed       bool     `json:"pushed"`
	Error        string   `json:"error,omitempty"`
}

func newImagesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "images",
		Short: "Work with the container images a kit carries",
		Args:  args(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newImagesPushCmd())
	return cmd
}

func newImagesPushCmd() *cobra.Command {
	var t trustFlags
	var to string
	var insecure, asJSON, quiet bool
	cmd := &cobra.Command{
		Use:   "push KIT --to REGISTRY/PREFIX --key PUB [trust flags] [--image-key PUB...] [--insecure-registry]",
		Short: "Verify a kit, then push its container images to a registry",
		Long: `Verify KIT exactly as 'offkit unpack' does, unpacking it into a temporary
directory (under $TMPDIR, removed at the end, also on failure or Ctrl-C);
if any check fails nothing is pushed, with verify's exit status. Then push
each image the kit carries from the kit's OCI layout to
REGISTRY/PREFIX/<its original repository path>: its blobs (those the
registry already has are skipped), its manifests by digest, its original
tag, and its cosign signatures and attestations (under their
sha256-<hex>.sig/.att tags) and OCI referrers, byte for byte, so that stock
'cosign verify --key' and 'cosign verify-attestation --key' work against the
site registry. Pushing again is harmless and sends no blob.

Every reference is worked out, before anything is pushed, from the names
the kit carries, which must be OCI distribution repository paths and tags
(no "..", ".", empty or upper-case path elements); each must lie in
REGISTRY, in PREFIX or under it. If one does not, nothing is pushed (exit 3).

Registries on loopback (localhost, 127.0.0.1) may be plain HTTP; any other
plain-HTTP or self-signed registry needs --insecure-registry. Credentials
come from the Docker config (docker login) and its credential helpers.
Give --image-key to require every image to be signed by a trusted cosign key
before anything is pushed.
` + trustHelp,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if to == "" {
				return usageError{errors.New("--to REGISTRY/PREFIX is required")}
			}
			var iopts []images.Option
			if insecure {
				iopts = append(iopts, images.InsecureRegistry())
			}
			if err := images.CheckPrefix(to, iopts...); err != nil {
				return usageError{fmt.Errorf("--to: %w", err)}
			}
			limitMemory()
			if err := pinURL(&t, a[0]); err != nil {
				return err
			}
			opts, err := t.options()
			if err != nil {
				return err
			}
			res := &pushResult{SchemaVersion: PushResultVersion, Kit: a[0], To: to, Images: []pushedImage{}}
			err = pushKit(cmd.Context(), cmd.OutOrStdout(), a[0], to, opts, iopts, quiet, asJSON, res)
			res.OK = err == nil
			if err != nil {
				res.Error = err.Error()
			}
			if asJSON {
				if jerr := printJSON(cmd.OutOrStdout(), res); jerr != nil {
					return jerr
				}
			}
			return err
		},
	}
	t.add(cmd)
	cmd.Flags().StringVar(&to, "to", "", "push under `REGISTRY/PREFIX` (e.g. registry.site:5000/mirror)")
	cmd.Flags().BoolVar(&insecure, "insecure-registry", false, "allow plain HTTP and unverified TLS to the registry")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON ("+PushResultVersion+")")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output and no verification report")
	return cmd
}

// pushKit verifies kit by unpacking it into a temporary directory and
// pushes its images from there, filling in res as it goes.
func pushKit(ctx context.Context, w io.Writer, kit, to string, opts []verify.Option, iopts []images.Option, quiet, asJSON bool, res *pushResult) error {
	tmp, err := os.MkdirTemp("", "offkit-push-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var u *unpack.Unpacker
	defer func() {
		if u != nil {
			u.Close()
		}
	}()
	rep, err := streamKit(ctx, kit, "verifying", quiet || asJSON, opts, func() ([]verify.Option, error) {
		var err error
		if u, err = unpack.New(tmp, unpack.Options{NoSync: true}); err != nil {
			return nil, err
		}
		return []verify.Option{verify.WithExtractor(u)}, nil
	})
	if rep == nil {
		return err
	}
	res.Verify = rep
	if !asJSON && (err != nil || !quiet) {
		// The verification is shown in full when it failed, and otherwise
		// unless -q.
		renderReport(w, kit, rep, opVerify)
	}
	if err != nil {
		return fmt.Errorf("%w (nothing was pushed)", err)
	}
	if len(rep.Images) == 0 {
		return fmt.Errorf("%s carries no container images: nothing to push", kit)
	}
	l, err := images.OpenLayout(os.DirFS(filepath.Join(u.Target(), images.KitDir)))
	if err != nil {
		return err
	}
	// Every reference to push to is worked out, and checked to lie under
	// --to, before anything is pushed.
	targets, err := images.PlanPush(l, to, iopts...)
	if err != nil {
		return fmt.Errorf("%w (nothing was pushed)", err)
	}
	for _, t := range targets {
		pi := pushedImage{Reference: t.Image.Reference, Digest: t.Image.Digest().String(), Destination: t.Digest.String(),
			Tags: []string{}, Artifacts: []string{}}
		for _, ir := range rep.Images {
			if ir.Digest == pi.Digest {
				pi.Components = append(pi.Components, ir.Component)
			}
		}
		res.Images = append(res.Images, pi)
	}
	for i, t := range targets {
		pi := &res.Images[i]
		pr, err := images.Push(ctx, l, t, iopts...)
		if err != nil {
			pi.Error = err.Error()
			return fmt.Errorf("push %s: %w", pi.Destination, err)
		}
		pi.Pushed = true
		pi.BlobsPushed, pi.BlobsSkipped = pr.BlobsPushed, pr.BlobsSkipped
		if t.Tag != nil {
			pi.Tags = append(pi.Tags, t.Tag.TagStr())
		}
		for _, r := range t.Artifacts {
			pi.Artifacts = append(pi.Artifacts, r.Identifier())
		}
		if !asJSON {
			renderPushed(w, pi)
		}
	}
	return nil
}

func renderPushed(w io.Writer, pi *pushedImage) {
	tags := "no tag"
	if len(pi.Tags) > 0 {
		tags = "tag " + strings.Join(pi.Tags, ", ")
	}
	fmt.Fprintf(w, "Pushed %s (%s): %s; %d signature/attestation/referrer artifact(s); %d blob(s) pushed, %d already there\n",
		pi.Destination, strings.Join(pi.Components, ", "), tags, len(pi.Artifacts), pi.BlobsPushed, pi.BlobsSkipped)
}
