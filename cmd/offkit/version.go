package main

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/offkit/offkit/internal/version"
	"github.com/offkit/offkit/manifest"
)

// VersionInfoVersion identifies the JSON form of versionInfo.
const VersionInfoVersion = "offkit.dev/version/v1"

// versionInfo is what 'offkit version --json' prints.
type versionInfo struct {
	SchemaVersion string     `json:"schemaVersion"`
	Version       string     `json:"version"`
	Go            string     `json:"go"`
	Platform      string     `json:"platform"` // GOOS/GOARCH
	Formats       kitFormats `json:"formats"`
}

// kitFormats are the kit format versions offkit reads and writes.
type kitFormats struct {
	Read  []int `json:"read"`
	Write []int `json:"write"`
}

// formats returns the kit formats this offkit reads (every format version
// the manifest package knows a predicate type for) and writes (build makes
// a v1 kit, or a v2 kit when it has image components; sign keeps the
// input's format).
func formats() kitFormats {
	var f kitFormats
	for v := 1; manifest.PredicateTypeFor(v) != ""; v++ {
		f.Read = append(f.Read, v)
	}
	f.Write = []int{manifest.FormatVersion, manifest.FormatVersion2}
	return f
}

func currentVersion() *versionInfo {
	return &versionInfo{
		SchemaVersion: VersionInfoVersion,
		Version:       version.String(),
		Go:            runtime.Version(),
		Platform:      runtime.GOOS + "/" + runtime.GOARCH,
		Formats:       formats(),
	}
}

// versionLine is the one line 'offkit version' and 'offkit --version' print.
func versionLine() string {
	v := currentVersion()
	return fmt.Sprintf("offkit %s (kit formats: reads %s; writes %s; %s, %s)\n",
		v.Version, formatList(v.Formats.Read), formatList(v.Formats.Write), v.Go, v.Platform)
}

func formatList(vs []int) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprintf("v%d", v)
	}
	return strings.Join(s, ", ")
}

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version [--json]",
		Short: "Print offkit's version and the kit formats it reads and writes",
		Long: `Print offkit's version, the kit format versions it reads and writes (a kit
without images is format v1, one with images v2), and the Go version and
platform it was built with. With --json, print them as one JSON object
(` + VersionInfoVersion + `).`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				return printJSON(cmd.OutOrStdout(), currentVersion())
			}
			fmt.Fprint(cmd.OutOrStdout(), versionLine())
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the version as JSON ("+VersionInfoVersion+")")
	return cmd
}
