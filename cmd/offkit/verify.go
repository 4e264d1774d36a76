package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/offkit/offkit/sign"
	"github.com/offkit/offkit/verify"
)

func newVerifyCmd() *cobra.Command {
	var keys []string
	var asJSON, quiet bool
	cmd := &cobra.Command{
		Use:   "verify KIT --key PUB [--key PUB...]",
		Short: "Verify that a kit is intact and signed by a trusted key",
		Long: `Verify KIT offline, in one streaming pass: the archive's structure and paths,
every DSSE and SHA256SUMS signature against the given public keys, every
file's digest against SHA256SUMS and the signed statement (none missing,
none extra), and that the SBOM agrees with the files. Exit 0 only if all hold.
KIT may be "-" for standard input.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if len(keys) == 0 {
				return usageError{fmt.Errorf("at least one --key PUB is required")}
			}
			var vs []*sign.Verifier
			for _, k := range keys {
				v, err := sign.LoadPublicKey(k)
				if err != nil {
					return err
				}
				vs = append(vs, v)
			}
			in, size, err := openKit(a[0])
			if err != nil {
				return err
			}
			defer in.Close()
			p := newProgress("verifying", quiet || asJSON)
			rep, err := verify.Verify(cmd.Context(), &countingReader{r: in, total: size, p: p}, verify.WithKeys(vs...))
			p.finish()
			if asJSON {
				if jerr := printJSON(cmd.OutOrStdout(), rep); jerr != nil {
					return jerr
				}
			} else {
				renderReport(cmd.OutOrStdout(), a[0], rep)
			}
			return err
		},
	}
	cmd.Flags().StringArrayVar(&keys, "key", nil, "trusted public `PUB` key (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON ("+verify.ReportVersion+")")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return cmd
}

func renderReport(w io.Writer, kit string, r *verify.Report) {
	if r.Kit != nil {
		fmt.Fprintf(w, "Kit %s: %s %s, created %s, %d file(s), %s, %s\n", kit, r.Kit.Name, r.Kit.Version, r.Kit.Created, r.Kit.Files, human(r.Kit.Bytes), r.Kit.Compression)
	}
	for _, c := range r.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %-10s %s\n", mark, c.Name, c.Detail)
	}
	for _, s := range r.Signers {
		state := "trusted (" + s.Key + ")"
		if !s.Trusted {
			state = "NOT trusted: " + s.Problem
		}
		fmt.Fprintf(w, "  signer %d %s: %s\n", s.Index, s.KeyID, state)
	}
	if r.Verified {
		fmt.Fprintln(w, "Verified OK")
	} else {
		fmt.Fprintln(w, "Verification FAILED")
	}
}
