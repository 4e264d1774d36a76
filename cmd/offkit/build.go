package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/images"
	"github.com/offkit/offkit/internal/ui"
	"github.com/offkit/offkit/internal/version"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign"
)

func newBuildCmd() *cobra.Command {
	var (
		out, compression string
		keys             []string
		level            int
		epoch            string
		quiet, asJSON    bool
		insecure, force  bool
	)
	cmd := &cobra.Command{
		Use:   "build SPEC -o OUT [--key KEY] [--force]",
		Short: "Build a deterministic offline kit from a kit.yaml",
		Long: `Build the kit that SPEC (a kit.yaml) describes and write it to OUT.

The kit is deterministic: the same spec and sources give the same bytes,
whatever the checkout path, file times, umask, directory order, time zone or
locale. Its time comes from --source-date-epoch or SOURCE_DATE_EPOCH; without
either, the current time is used and the kit is not reproducible.

With --key (repeatable) the kit is signed; without, it is unsigned and can be
signed later with 'offkit sign'. OUT appears only once the kit is complete;
an existing OUT is refused (exit 1) unless --force, which replaces it.

Image components (image: in kit.yaml) make a format v2 kit. Their sources
are resolved first: a registry reference over the network (credentials from
the Docker config), oci:DIR and docker-archive:FILE relative to the spec's
directory. An image named by tag is resolved once, with a warning; the kit
records the digest. Layers are streamed into the kit, not stored on disk.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if out == "" {
				return usageError{fmt.Errorf("-o OUT is required")}
			}
			comp, err := bundle.ParseCompression(compression)
			if err == nil {
				err = comp.CheckLevel(level)
			}
			if err != nil {
				return usageError{err}
			}
			if err := refuseExisting(out, force); err != nil {
				return err
			}
			data, err := readSpec(a[0])
			if err != nil {
				return err
			}
			spec, err := manifest.ParseSpec(data, a[0])
			if err != nil {
				return err
			}
			created, err := creationTime(epoch, cmd)
			if err != nil {
				return err
			}
			if err := outsideSources(out, filepath.Dir(a[0]), spec); err != nil {
				return err
			}
			opts := []bundle.Option{
				bundle.WithCompression(comp, level), bundle.WithCreated(created),
				bundle.WithTool("offkit", version.String()),
			}
			var imgOpts []images.Option
			if insecure {
				imgOpts = append(imgOpts, images.InsecureRegistry())
			}
			imgs, err := bundle.ResolveImages(cmd.Context(), spec, filepath.Dir(a[0]), imgOpts...)
			if err != nil {
				return err
			}
			if imgs != nil {
				for _, w := range imgs.Warnings {
					fmt.Fprintf(cmd.ErrOrStderr(), "offkit: warning: %s\n", w)
				}
				opts = append(opts, bundle.WithImages(imgs.Plan, imgs.Refs))
			}
			if len(keys) > 0 {
				pw, err := ui.Password(false)
				if err != nil {
					return err
				}
				for _, k := range keys {
					s, err := sign.LoadPrivateKey(k, pw)
					if err != nil {
						return err
					}
					opts = append(opts, bundle.WithSigner(s))
				}
			}
			p := ui.NewProgress("building", quiet || asJSON)
			opts = append(opts, bundle.WithProgress(p.Update))
			create := createNew
			if force {
				create = createAtomic
			}
			f, err := create(out, 0o644)
			if err != nil {
				return err
			}
			defer f.Abort()
			head, err := bundle.Build(cmd.Context(), f, spec, filepath.Dir(a[0]), opts...)
			p.Finish()
			if err != nil {
				return fmt.Errorf("build %s: %w", a[0], err)
			}
			if err := f.Commit(); err != nil {
				return err
			}
			return printResult(cmd, head.Result("build", out), asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "output", "o", "", "write the kit to `OUT`")
	f.StringArrayVar(&keys, "key", nil, "sign with this cosign private `KEY` (repeatable; password from COSIGN_PASSWORD)")
	f.StringVar(&compression, "compression", "zstd", "zstd, gzip or none")
	f.IntVar(&level, "level", 0, "compression level (default: zstd 3, gzip 6)")
	f.StringVar(&epoch, "source-date-epoch", "", "kit time, seconds since 1970 (default: $SOURCE_DATE_EPOCH)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	f.BoolVar(&force, "force", false, "replace an existing OUT")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON ("+bundle.ResultVersion+")")
	f.BoolVar(&insecure, "insecure-registry", false, "reach image registries over plain HTTP or unchecked HTTPS (loopback registries need no flag)")
	return cmd
}

func creationTime(flag string, cmd *cobra.Command) (time.Time, error) {
	v, from := flag, "--source-date-epoch"
	if v == "" {
		v, from = os.Getenv("SOURCE_DATE_EPOCH"), "SOURCE_DATE_EPOCH"
	}
	if v == "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "offkit: hint: SOURCE_DATE_EPOCH is not set: using the current time, so this kit is not reproducible")
		return time.Now().UTC().Truncate(time.Second), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > 253402300799 {
		return time.Time{}, usageError{fmt.Errorf("%s=%q is not a number of seconds since 1970", from, v)}
	}
	return time.Unix(n, 0).UTC(), nil
}

// specHint is the hint for a kit.yaml that cannot be read.
const specHint = "offkit build expects a kit.yaml; see testdata/example/kit.yaml, and docs/FORMAT.md (14. kit.yaml) for its fields"

func readSpec(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, hintedError{fmt.Errorf("cannot read the kit spec %s: %w", path, err), []string{specHint}}
	}
	if fi.IsDir() {
		h := specHint
		if _, err := os.Stat(filepath.Join(path, "kit.yaml")); err == nil {
			h = "give the kit.yaml in it: offkit build " + filepath.Join(path, "kit.yaml")
		}
		return nil, hintedError{fmt.Errorf("the kit spec %s is a directory, not a kit.yaml", path), []string{h}}
	}
	if fi.Size() > manifest.MaxSpecSize {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", path, manifest.ErrMalformed, manifest.MaxSpecSize)
	}
	return os.ReadFile(path)
}

// printResult prints what build or sign wrote, as one line or as JSON.
func printResult(cmd *cobra.Command, r *bundle.Result, asJSON bool) error {
	if asJSON {
		return printJSON(cmd.OutOrStdout(), r)
	}
	m, sigs := r.Kit.Manifest, r.Kit.Signatures
	if r.Operation == "sign" {
		last := sigs[len(sigs)-1]
		fmt.Fprintf(cmd.OutOrStdout(), "Signed %s as signature %d (key %s): %s\n", r.Kit.Root, last.Index, last.KeyID, r.Output)
		return nil
	}
	state := "unsigned"
	if len(sigs) > 0 {
		state = fmt.Sprintf("signed by %d key(s)", len(sigs))
	}
	imgs := ""
	if n := len(r.Kit.Images); n > 0 {
		imgs = fmt.Sprintf(", %d image(s)", n)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Built %s: %s, %d file(s), %s%s, %s\n", r.Output, r.Kit.Root, m.FileCount, ui.Human(m.TotalSize), imgs, state)
	return nil
}

// outsideSources refuses an output path inside a component's source, where
// the kit being written would become part of itself.
func outsideSources(out, specDir string, spec *manifest.Spec) error {
	o, err := filepath.Abs(filepath.Dir(out))
	if err != nil {
		return err
	}
	if r, err := filepath.EvalSymlinks(o); err == nil {
		o = r
	}
	for _, c := range spec.Components {
		if c.Pending || c.IsImage() {
			continue
		}
		src, err := filepath.Abs(filepath.Join(specDir, filepath.FromSlash(c.From)))
		if err != nil {
			continue
		}
		if r, err := filepath.EvalSymlinks(src); err == nil {
			src = r
		}
		if o == src || strings.HasPrefix(o, src+string(filepath.Separator)) {
			return usageError{fmt.Errorf("-o %s is inside the source of component %q (%s): write the kit elsewhere", out, c.Name, c.From)}
		}
	}
	return nil
}
