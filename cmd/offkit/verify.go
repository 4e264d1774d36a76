package main

import (
	"github.com/spf13/cobra"

	"github.com/offkit/offkit/verify"
)

func newVerifyCmd() *cobra.Command {
	var t trustFlags
	var asJSON, quiet bool
	cmd := &cobra.Command{
		Use:   "verify KIT --key PUB [--key PUB...] [--threshold N] [--name NAME] [--version VERSION] [--policy FILE] [--state-dir DIR] [--image-key PUB...]",
		Short: "Verify that a kit is intact and trusted",
		Long: `Verify KIT offline, in one streaming pass: the archive's structure and paths,
every DSSE and SHA256SUMS signature against the trusted keys, the trust
rules below, every file's digest against SHA256SUMS and the signed statement
(none missing, none extra), and that the SBOM agrees with the files. Exit 0
only if all hold. KIT may be "-" for standard input.
` + trustHelp,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			limitMemory()
			if err := pinURL(&t, a[0]); err != nil {
				return err
			}
			opts, err := t.options()
			if err != nil {
				return err
			}
			rep, err := streamKit(cmd.Context(), a[0], "verifying", quiet || asJSON, opts, nil)
			if rep == nil {
				return err
			}
			return printReport(cmd.OutOrStdout(), a[0], rep, asJSON, opVerify, err)
		},
	}
	t.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON ("+verify.ReportVersion+")")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return cmd
}
