package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/internal/ui"
	"github.com/offkit/offkit/store"
)

func newInspectCmd() *cobra.Command {
	var asJSON bool
	var show string
	cmd := &cobra.Command{
		Use:   "inspect KIT [--json] [--show FILE]",
		Short: "Show what a kit holds and who signed it, without unpacking it",
		Long: `Read only the head of KIT — its manifest, SHA256SUMS, signatures and SBOMs —
and print what the kit holds: components, files, sizes, SBOMs and the key IDs
of its signers. The metadata is checked for consistency, but no signature is
verified: use 'offkit verify' for that. --show prints one metadata file as it
is stored (SHA256SUMS, manifest.dsse.json, SHA256SUMS.sig, sbom/kit.spdx.json,
...), or "manifest" for the manifest alone as JSON. KIT may be "-" for
standard input.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			limitMemory()
			var in io.ReadCloser
			if store.IsURL(a[0]) {
				// Only the head is read: by range requests, not one
				// download of the whole kit.
				obj, err := openRemoteKit(cmd.Context(), a[0])
				if err != nil {
					return err
				}
				in = store.NewRangeReader(cmd.Context(), obj)
			} else {
				var err error
				if in, _, err = openKit(cmd.Context(), a[0]); err != nil {
					return err
				}
			}
			defer in.Close()
			rd, err := bundle.Open(in)
			if err != nil {
				return fmt.Errorf("inspect %s: %w", a[0], err)
			}
			defer rd.Close()
			w := cmd.OutOrStdout()
			if show == "manifest" {
				return printJSON(w, rd.Head.Manifest)
			}
			if show != "" {
				b := rd.Head.File(show)
				if b == nil {
					return usageError{fmt.Errorf("%s has no metadata file %q", a[0], show)}
				}
				_, err := w.Write(b)
				return err
			}
			in2 := rd.Head.Inspect()
			if asJSON {
				return printJSON(w, in2)
			}
			renderInspection(w, in2)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON ("+bundle.InspectionVersion+")")
	cmd.Flags().StringVar(&show, "show", "", "print one metadata `FILE` of the kit")
	return cmd
}

func renderInspection(w io.Writer, in *bundle.Inspection) {
	w = printableWriter{w}
	m := in.Manifest
	fmt.Fprintf(w, "Kit:         %s %s\n", m.Name, m.Version)
	if m.Description != "" {
		fmt.Fprintf(w, "Description: %s\n", printableLine(m.Description))
	}
	fmt.Fprintf(w, "Created:     %s by %s %s\n", printableLine(m.Created), printableLine(m.Tool.Name), printableLine(m.Tool.Version))
	fmt.Fprintf(w, "Archive:     %s/, %s, format v%d\n", in.Root, in.Compression, m.FormatVersion)
	fmt.Fprintf(w, "Payload:     %d file(s), %s\n", m.FileCount, ui.Human(m.TotalSize))
	if len(m.Labels) > 0 {
		keys := make([]string, 0, len(m.Labels))
		for k := range m.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(w, "Labels:")
		for _, k := range keys {
			fmt.Fprintf(w, "  %s: %s\n", printableLine(k), printableLine(m.Labels[k]))
		}
	}
	fmt.Fprintln(w, "Components:")
	for _, c := range m.Components {
		state := fmt.Sprintf("%d file(s), %s", len(c.Files), ui.Human(c.Size))
		switch {
		case c.Pending:
			state = "PENDING (declared, not delivered)"
		case c.Image != nil:
			state = "image " + c.Image.Digest.String()
		}
		fmt.Fprintf(w, "  %-24s %-10s %s  %s\n", c.Name, c.Type, c.Path, state)
		if c.SBOM != nil {
			fmt.Fprintf(w, "  %-24s sbom       %s\n", "", c.SBOM.Path)
		}
	}
	if m.Images != nil {
		fmt.Fprintf(w, "Images:      %d image(s) in one OCI layout at %s/: %d file(s), %s\n", len(in.Images), m.Images.Path, len(m.Images.Files), ui.Human(m.Images.Size))
		for _, im := range in.Images {
			fmt.Fprintf(w, "  %s\n", im.Component)
			fmt.Fprintf(w, "    reference:  %s\n", printableLine(im.Reference))
			if im.Repository != "" {
				fmt.Fprintf(w, "    repository: %s\n", printableLine(im.Repository))
			}
			fmt.Fprintf(w, "    digest:     %s (%s)\n", im.Digest, im.MediaType)
			if len(im.Platforms) > 0 {
				fmt.Fprintf(w, "    platforms:  %s\n", strings.Join(im.Platforms, ", "))
			}
			fmt.Fprintf(w, "    carries:    %d signature(s), %d attestation(s), %d referrer(s) (claimed; 'offkit verify --image-key' checks signatures)\n",
				im.Signatures, im.Attestations, im.Referrers)
		}
	}
	fmt.Fprintln(w, "SBOMs:")
	for _, s := range in.SBOMs {
		fmt.Fprintf(w, "  %s  %s\n", s.Digest, s.Path)
	}
	if len(in.Signatures) == 0 {
		fmt.Fprintln(w, "Signatures:  none (unsigned; sign with 'offkit sign')")
	} else {
		fmt.Fprintln(w, "Signatures (claimed, not verified; use 'offkit verify'):")
		for _, s := range in.Signatures {
			fmt.Fprintf(w, "  %d  keyid %s  %s\n", s.Index, s.KeyID, s.SumsSignature)
		}
	}
}
