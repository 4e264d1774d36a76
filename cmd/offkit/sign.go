package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/internal/ui"
	"github.com/offkit/offkit/sign"
)

func newSignCmd() *cobra.Command {
	var out, key string
	var quiet, asJSON, force bool
	var level int
	cmd := &cobra.Command{
		Use:   "sign KIT --key KEY -o OUT [--force]",
		Short: "Add a signature to a kit (co-sign) without changing its payload",
		Long: `Sign KIT with KEY and write the signed kit to OUT. The signature is added to the
kit's DSSE envelope beside any earlier ones, with a SHA256SUMS signature file
for stock 'cosign verify-blob'; the payload is carried over unchanged and
checked against SHA256SUMS on the way, so a damaged kit is refused.

KIT is never changed: OUT must be another file. OUT appears only once the
signed kit is complete; an existing OUT is refused (exit 1) unless --force,
which replaces it.

Sign only kits you have inspected: a signature says you vouch for the content.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if out == "" || key == "" {
				return usageError{fmt.Errorf("--key KEY and -o OUT are required")}
			}
			if level < 0 || level > 22 {
				return usageError{fmt.Errorf("--level %d out of range", level)}
			}
			if abs(out) == abs(a[0]) {
				return usageError{fmt.Errorf("-o must differ from the input kit")}
			}
			if err := refuseExisting(out, force); err != nil {
				return err
			}
			pw, err := ui.Password(false)
			if err != nil {
				return err
			}
			s, err := sign.LoadPrivateKey(key, pw)
			if err != nil {
				return err
			}
			in, err := os.Open(a[0])
			if err != nil {
				return err
			}
			defer in.Close()
			fi, err := in.Stat()
			if err != nil {
				return err
			}
			p := ui.NewProgress("signing", quiet || asJSON)
			create := createNew
			if force {
				create = createAtomic
			}
			f, err := create(out, 0o644)
			if err != nil {
				return err
			}
			defer f.Abort()
			head, err := bundle.Sign(cmd.Context(), f, &ui.CountingReader{R: in, Total: fi.Size(), P: p}, s, bundle.WithLevel(level))
			p.Finish()
			if err != nil {
				return fmt.Errorf("sign %s: %w", a[0], err)
			}
			if err := f.Commit(); err != nil {
				return err
			}
			return printResult(cmd, head.Result("sign", out), asJSON)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the signed kit to `OUT`")
	cmd.Flags().StringVar(&key, "key", "", "cosign private `KEY` (password from COSIGN_PASSWORD)")
	cmd.Flags().IntVar(&level, "level", 0, "compression level of the output, which keeps the input's compression (default: zstd 3, gzip 6; give the build's --level to keep the payload's bytes)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing OUT")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON ("+bundle.ResultVersion+")")
	return cmd
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
