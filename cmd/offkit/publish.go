package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/internal/ui"
	"github.com/offkit/offkit/publish"
	"github.com/offkit/offkit/sign"
	"github.com/offkit/offkit/store"
	"github.com/offkit/offkit/verify"
)

const storeHelp = `
Stores (STORE is a URL):
  file:///DIR                      a directory: DIR/<name>/<version>/<file>
  s3://BUCKET[/PREFIX]             an S3 bucket: PREFIX/<name>/<version>/<file>.
                                   Credentials and region come from the AWS
                                   default chain (AWS_ACCESS_KEY_ID,
                                   AWS_SECRET_ACCESS_KEY, AWS_REGION, profiles);
                                   AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL names
                                   a non-AWS server (path-style addressing)
  oci://HOST[:PORT]/REPOSITORY     an OCI registry: the kit is an artifact
                                   tagged with its version
A published kit's URL is STORE/<name>/<version> (oci://HOST/REPOSITORY:<tag>).
`

func newPublishCmd() *cobra.Command {
	var t trustFlags
	var to, recordKey string
	var asJSON, quiet bool
	cmd := &cobra.Command{
		Use:   "publish KIT --to STORE --key PUB [trust flags] [--record-key KEY]",
		Short: "Verify a kit and publish it to a bucket, directory or registry, in one pass",
		Long: `Verify KIT exactly as 'offkit verify' does and, in the same read, upload it to
STORE under the name and version the verified kit states. The kit becomes
visible only once every check has passed: an S3 multipart upload is
completed (create-only, If-None-Match: *) after the last check and aborted
otherwise; a directory gets a temporary file linked into place; a registry
gets its blobs while verifying and the manifest and tag after. Beside the
kit goes its release record, <name>-<version>.release.json: an in-toto
statement (a SLSA verification summary) naming the kit file's SHA-256, the
keys and threshold used, the signers and the images, DSSE-signed with
--record-key when given (docs/FORMAT.md).

Published kits are immutable. If the same kit is there already, publish says
so and exits 0; a different kit under the same name and version is refused
(exit 4) and left untouched. KIT may be "-" for standard input.
` + trustHelp + storeHelp,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			limitMemory()
			if to == "" {
				return usageError{errors.New("--to STORE is required")}
			}
			if err := pinURL(&t, a[0]); err != nil {
				return err
			}
			opts, err := t.options()
			if err != nil {
				return err
			}
			var signer *sign.Signer
			if recordKey != "" {
				pw, err := ui.Password(false)
				if err != nil {
					return err
				}
				if signer, err = sign.LoadPrivateKey(recordKey, pw); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			st, err := openStore(ctx, to)
			if err != nil {
				return err
			}
			in, size, err := openKit(ctx, a[0])
			if err != nil {
				return err
			}
			defer in.Close()
			defer closeOnCancel(ctx, in)()
			p := ui.NewProgress("publishing", quiet || asJSON)
			res, err := publish.Publish(ctx, &ui.CountingReader{R: in, Total: size, P: p}, st,
				recordFunc(ctx, &t, signer, time.Now), opts...)
			p.Finish()
			if err != nil {
				res.Error = err.Error()
			}
			w := cmd.OutOrStdout()
			if asJSON {
				if jerr := printJSON(w, res); jerr != nil {
					return jerr
				}
				return err
			}
			if res.Verify != nil && (err != nil && res.Verify.Error != "" || !quiet) {
				renderReport(w, a[0], res.Verify, opPublish)
			}
			switch {
			case err != nil && res.Published:
				fmt.Fprintf(w, "Published %s: %s, %s, sha256:%s; its release record was not\n", res.URL, res.File, ui.Human(res.Size), res.SHA256)
			case err != nil && res.Verify != nil && res.Verify.Error == "":
				// Verified, then the upload failed or was interrupted.
				fmt.Fprintln(w, "FAILED: nothing was published")
			case err != nil:
			case res.AlreadyPublished:
				fmt.Fprintf(w, "Already published: %s (%s, the same SHA-256 %s)\n", res.URL, res.File, res.SHA256)
			default:
				fmt.Fprintf(w, "Published %s: %s, %s, sha256:%s\n", res.URL, res.File, ui.Human(res.Size), res.SHA256)
			}
			if err == nil && res.Record {
				fmt.Fprintf(w, "Release record: %s/%s\n", res.URL, store.RecordFile(res.Name, res.Version))
			}
			return err
		},
	}
	t.add(cmd)
	cmd.Flags().StringVar(&to, "to", "", "publish to `STORE` (file://, s3:// or oci:// URL)")
	cmd.Flags().StringVar(&recordKey, "record-key", "", "sign the release record with the cosign private `KEY` (password from COSIGN_PASSWORD or a prompt)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON ("+publish.ResultVersion+")")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output and no verification report")
	return cmd
}

func newPullCmd() *cobra.Command {
	var t trustFlags
	var out string
	var asJSON, quiet, force bool
	cmd := &cobra.Command{
		Use:   "pull URL -o FILE --key PUB [trust flags]",
		Short: "Download a published kit, verifying it as it arrives",
		Long: `Download the kit at URL (STORE/<name>/<version>) to FILE, verifying it exactly
as 'offkit verify' does while it streams. FILE appears only if every check
passed: it is written to a temporary file beside it and renamed at the end.
A tampered, truncated or untrusted kit leaves no FILE (exit 3 or 4). An
existing FILE is refused (exit 1) unless --force, as build and sign refuse it.
` + trustHelp + storeHelp,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			limitMemory()
			if out == "" {
				return usageError{errors.New("-o FILE is required")}
			}
			if !store.IsURL(a[0]) {
				return usageError{fmt.Errorf("%s is not a URL (file://, s3:// or oci://): to check a local kit use offkit verify", store.Redact(a[0]))}
			}
			if err := refuseExisting(out, force); err != nil {
				return err
			}
			if err := pinURL(&t, a[0]); err != nil {
				return err
			}
			opts, err := t.options()
			if err != nil {
				return err
			}
			create := createNew
			if force {
				create = createAtomic
			}
			var f *atomicFile
			rep, err := streamKit(cmd.Context(), a[0], "pulling", quiet || asJSON, opts, func() ([]verify.Option, error) {
				var err error
				if f, err = create(out, 0o644); err != nil {
					return nil, err
				}
				return []verify.Option{verify.WithSink(fileSink{f})}, nil
			})
			if f != nil {
				if err == nil {
					err = f.Commit()
				}
				f.Abort()
			}
			if rep == nil {
				return err
			}
			if err == nil {
				rep.Output = out
			}
			return printReport(cmd.OutOrStdout(), a[0], rep, asJSON, opPull, err)
		},
	}
	t.add(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the kit to `FILE`")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing FILE (atomically)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON ("+verify.ReportVersion+")")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return cmd
}

// fileSink writes a pulled kit to its temporary file.
type fileSink struct{ f *atomicFile }

func (s fileSink) Write(p []byte) (int, error) { return s.f.Write(p) }
func (fileSink) Start(*bundle.Head) error      { return nil }

// ListVersion identifies the JSON form of offkit list.
const ListVersion = "offkit.dev/list/v1"

type listResult struct {
	SchemaVersion string          `json:"schemaVersion"`
	Store         string          `json:"store"`
	Kits          []store.Release `json:"kits"`
}

func newListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list STORE [--json]",
		Short: "List the kits published in a store",
		Long: `List the kits published in STORE: name, version, size, when written, and
whether a release record is beside it. Nothing is verified: use
'offkit verify URL' or 'offkit pull' for that.
` + storeHelp,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			st, err := openStore(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			kits, err := st.List(cmd.Context())
			if err != nil {
				return fmt.Errorf("list %s: %w", a[0], err)
			}
			if kits == nil {
				kits = []store.Release{}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return printJSON(w, listResult{SchemaVersion: ListVersion, Store: st.URL("", ""), Kits: kits})
			}
			renderList(w, kits)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON ("+ListVersion+")")
	return cmd
}

func renderList(w io.Writer, kits []store.Release) {
	if len(kits) == 0 {
		fmt.Fprintln(w, "No kits published.")
		return
	}
	tw := tabwriter.NewWriter(printableWriter{w}, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tSIZE\tWRITTEN\tRECORD\tURL")
	for _, k := range kits {
		rec := "no"
		if k.Record {
			rec = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.Name, k.Version, ui.Human(k.Size), k.Modified.UTC().Format("2006-01-02T15:04:05Z"), rec, k.URL)
	}
	tw.Flush()
}

// openStore opens the store a URL names; a bad URL is bad usage.
func openStore(ctx context.Context, raw string) (store.Store, error) {
	if !store.IsURL(raw) {
		return nil, usageError{fmt.Errorf("%s is not a store URL (file:///DIR, s3://BUCKET/PREFIX or oci://HOST/REPOSITORY)", store.Redact(raw))}
	}
	st, err := store.Open(ctx, raw, store.Options{})
	var ue *store.URLError
	if errors.As(err, &ue) {
		return nil, usageError{err}
	}
	return st, err
}
