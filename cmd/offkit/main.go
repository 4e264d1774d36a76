// Command offkit builds, signs, verifies and inspects offline kits.
//
// Each subcommand lives in its own file and wires flags to one library call;
// errors are mapped to exit codes in one place, exitCode.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/internal/version"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/unpack"
	"github.com/offkit/offkit/verify"
)

// Exit codes, documented in every command's help and in README.md.
const (
	exitOK        = 0
	exitError     = 1 // operational: a file not found, I/O, a key that will not load
	exitUsage     = 2 // bad flags or arguments
	exitNotIntact = 3 // the kit (or spec) is malformed, corrupt or tampered with
	exitUntrusted = 4 // the kit is intact but not acceptable under the trust policy
)

const exitStatusHelp = `
EXIT STATUS
  0  success: every check held
  1  operational error: a file not found, an I/O error, a key that does not load
  2  bad usage: unknown command or flag, missing argument, a value out of range
  3  not intact or not well-formed: a corrupt, truncated, tampered or malformed
     kit (digest mismatch, missing/extra entry, unsafe path, broken signature),
     or a kit.yaml or source that breaks the rules
  4  intact but not trusted: fewer than --threshold distinct trusted signers
     (or none), a --name/--version pin, a policy gate or rollback protection
     refuses it
`

type usageError struct{ error }

// hintedError is an error that brings its own hints, printed after it.
type hintedError struct {
	error
	hints []string
}

func (e hintedError) Unwrap() error { return e.error }

func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, new(configError)):
		return exitError
	case errors.Is(err, verify.ErrUntrusted):
		return exitUntrusted
	case errors.Is(err, verify.ErrNotIntact), errors.Is(err, manifest.ErrMalformed), errors.Is(err, bundle.ErrUnknownFormat):
		return exitNotIntact
	}
	return exitError
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "offkit",
		Short: "Build, sign, verify and inspect signed offline kits",
		Long: `offkit builds deterministic, signed, compressed offline kits from a kit.yaml,
co-signs them, verifies them offline against public keys, and inspects them
without unpacking. See docs/FORMAT.md for the kit format.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	// An unknown command is bad usage (cobra would report it as a plain error).
	root.Args = cobra.ArbitraryArgs
	root.RunE = func(cmd *cobra.Command, a []string) error {
		if len(a) > 0 {
			return usageError{fmt.Errorf("unknown command %q for %q", a[0], cmd.CommandPath())}
		}
		return cmd.Help()
	}
	root.AddCommand(newKeygenCmd(), newBuildCmd(), newSignCmd(), newVerifyCmd(), newUnpackCmd(), newPublishCmd(), newPullCmd(), newListCmd(), newImagesCmd(), newInspectCmd(), newVersionCmd())
	// offkit --version prints what 'offkit version' does.
	root.Version = version.String()
	root.SetVersionTemplate(versionLine())
	root.SetHelpCommand(newHelpCmd())
	// Added now, not when executing, so an unknown shell is bad usage.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.RunE = func(cmd *cobra.Command, a []string) error {
				if len(a) > 0 {
					var shells []string
					for _, s := range cmd.Commands() {
						if s.IsAvailableCommand() {
							shells = append(shells, s.Name())
						}
					}
					return usageError{fmt.Errorf("unknown shell %q for %q: offkit completes %s", a[0], cmd.CommandPath(), strings.Join(shells, ", "))}
				}
				return cmd.Help()
			}
			c.Args = cobra.ArbitraryArgs
		}
	}
	// Subcommands inherit the root's template, EXIT STATUS included.
	root.SetHelpTemplate(root.HelpTemplate() + exitStatusHelp)
	return root
}

// newHelpCmd is cobra's help command, except that an unknown topic is bad
// usage (cobra prints the root's usage and exits 0).
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help prints the help of any command: offkit help [path to command].",
		ValidArgsFunction: func(c *cobra.Command, a []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, rest, err := c.Root().Find(a)
			if err != nil || len(rest) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, sub := range cmd.Commands() {
				if (sub.IsAvailableCommand() || sub.Name() == "help") && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, a []string) error {
			cmd, rest, err := c.Root().Find(a)
			if err != nil || len(rest) > 0 {
				return usageError{fmt.Errorf("unknown help topic %q", strings.Join(a, " "))}
			}
			cmd.InitDefaultHelpFlag()
			cmd.InitDefaultVersionFlag()
			return cmd.Help()
		},
	}
}

// args wraps a cobra positional-argument check so its failure is a usage error.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfiles := startProfiles()
	err := newRootCmd().ExecuteContext(ctx)
	stopProfiles()
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "offkit: error: %s\n", printableLine(err.Error()))
		for _, h := range hints(err) {
			fmt.Fprintf(os.Stderr, "offkit: hint: %s\n", h)
		}
	}
	os.Exit(exitCode(err))
}

func hints(err error) []string {
	var ue usageError
	var he hintedError
	switch {
	case errors.As(err, &he):
		return he.hints
	case errors.As(err, &ue):
		return []string{"run 'offkit help' or 'offkit COMMAND --help'"}
	case errors.Is(err, unpack.ErrExists):
		return []string{"use --force to replace it (atomically)"}
	case errors.As(err, new(*verify.RollbackError)):
		return []string{"--allow-downgrade accepts it, for a deliberate rollback",
			"the kit is not acceptable here: see the FAIL lines above; do not use it unless your release process says otherwise"}
	case errors.Is(err, verify.ErrUntrusted):
		return []string{"the kit is not acceptable here: see the FAIL lines above; do not use it unless your release process says otherwise"}
	case errors.Is(err, bundle.ErrUnknownFormat):
		return []string{"this is not an offkit kit (neither a zstd, gzip nor tar stream): check that you gave the right file"}
	case errors.Is(err, verify.ErrNotIntact):
		return []string{"this kit is not what its signers built: do not use it; fetch it again from the release bucket"}
	}
	return nil
}
