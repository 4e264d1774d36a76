package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/offkit/offkit/internal/version"
	"github.com/offkit/offkit/manifest"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print offkit's version and the kit format it writes",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "offkit %s (kit format v%d, %s, %s/%s)\n", version.String(), manifest.FormatVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
