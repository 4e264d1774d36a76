package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/offkit/offkit/unpack"
	"github.com/offkit/offkit/verify"
)

func newUnpackCmd() *cobra.Command {
	var t trustFlags
	var dir string
	var o unpack.Options
	var asJSON, quiet bool
	cmd := &cobra.Command{
		Use:   "unpack KIT -C DIR --key PUB [trust flags] [--image-key PUB...]",
		Short: "Verify a kit and extract it into DIR, all or nothing",
		Long: `Verify KIT exactly as 'offkit verify' does and, as it is read, extract it:
like 'tar -x -C DIR', the kit appears as DIR/<name>-<version>/, but only once
every check has passed. Nothing is extracted from a kit that is not trusted.
Files are written into a staging directory inside DIR (.offkit-staging-*)
while they are hashed, flushed to disk, and the root is renamed into place
at the end: a kit that fails, Ctrl-C, a crash or kill -9 leaves no
DIR/<name>-<version>, and nothing is ever written outside DIR. Staging left
by a run that died is removed by the next run. An existing
DIR/<name>-<version> is refused unless --force, which replaces it
atomically. Files get the kit's modes (0644 or 0755) and mtime.
KIT may be "-" for standard input.
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
			var u *unpack.Unpacker
			defer func() {
				if u != nil {
					u.Close()
				}
			}()
			rep, err := streamKit(cmd.Context(), a[0], "unpacking", quiet || asJSON, opts, func() ([]verify.Option, error) {
				var err error
				if u, err = unpack.New(dir, o); err != nil {
					return nil, err
				}
				for _, s := range u.Cleaned {
					fmt.Fprintf(cmd.ErrOrStderr(), "offkit: removed stale staging directory %s, left by an interrupted unpack\n", s)
				}
				for _, s := range u.Busy {
					fmt.Fprintf(cmd.ErrOrStderr(), "offkit: note: %s belongs to an unpack still running; left alone\n", s)
				}
				for _, e := range u.Problems {
					fmt.Fprintf(cmd.ErrOrStderr(), "offkit: warning: %v\n", e)
				}
				return []verify.Option{verify.WithExtractor(u)}, nil
			})
			if rep == nil {
				return err
			}
			rep.Output = u.Target()
			return printReport(cmd.OutOrStdout(), a[0], rep, asJSON, opUnpack, err)
		},
	}
	t.add(cmd)
	cmd.Flags().StringVarP(&dir, "directory", "C", ".", "extract into `DIR`, which must exist")
	cmd.Flags().BoolVar(&o.Force, "force", false, "replace an existing DIR/<name>-<version>")
	cmd.Flags().BoolVar(&o.NoSync, "no-sync", false, "do not flush the files to disk before the rename (faster, not crash-safe)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON ("+verify.ReportVersion+")")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return cmd
}
