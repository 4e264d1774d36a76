package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/offkit/offkit/internal/ui"
	"github.com/offkit/offkit/policy"
	"github.com/offkit/offkit/sign"
	"github.com/offkit/offkit/verify"
)

// trustFlags are the flags verify and unpack share: what the site trusts.
type trustFlags struct {
	keys           []string
	threshold      int
	name, version  string
	policy         string
	stateDir       string
	allowDowngrade bool
	imageKeys      []string

	// What options loaded, for the release record.
	loadedKeys   []*sign.Verifier
	loadedPolicy *policy.Policy
}

// verifiers returns every trusted kit key options loaded: --key, then the
// policy's.
func (t *trustFlags) verifiers() []*sign.Verifier {
	out := slices.Clone(t.loadedKeys)
	if t.loadedPolicy != nil {
		out = append(out, t.loadedPolicy.Keys...)
	}
	return out
}

const trustHelp = `
Trust (exit 4 when not met; decided on the kit's head, before its payload):
  --key PUB            a trusted public key (repeatable); at least one --key
                       or a --policy with trust.keys is required
  --threshold N        at least N distinct trusted keys signed (default 1);
                       several signatures by one key count once
  --name, --version    pin the kit's identity: a validly signed kit of
                       another name or version is refused
  --policy FILE        a trust policy (docs/POLICY.md): trusted keys and
                       threshold, pins, minimum version, maximum age,
                       required components, SBOMs and labels
  --state-dir DIR      rollback protection: DIR (which must exist) records the
                       highest version accepted per kit name; an older kit,
                       or a different kit under the recorded version, is
                       refused unless --allow-downgrade
  --image-key PUB      a cosign public key trusted for container images
                       (repeatable): every image the kit carries must have a
                       cosign signature, carried in the kit, that verifies
                       offline with one of them. Without it, image
                       signatures are not checked (the image layout always is)
`

func (t *trustFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&t.keys, "key", nil, "trusted public `PUB` key (repeatable)")
	f.IntVar(&t.threshold, "threshold", 1, "require `N` distinct trusted signers")
	f.StringVar(&t.name, "name", "", "require the kit's name to be `NAME`")
	f.StringVar(&t.version, "version", "", "require the kit's version to be `VERSION`")
	f.StringVar(&t.policy, "policy", "", "apply the trust policy in `FILE`")
	f.StringVar(&t.stateDir, "state-dir", "", "record accepted versions in `DIR`; refuse rollbacks")
	f.BoolVar(&t.allowDowngrade, "allow-downgrade", false, "with --state-dir: accept an older version")
	f.StringArrayVar(&t.imageKeys, "image-key", nil, "cosign public `PUB` key trusted for the kit's images (repeatable)")
}

// configError is a problem with the site's own configuration (a policy
// that does not parse, a state directory missing): exit 1, never 3.
type configError struct{ error }

func (e configError) Unwrap() error { return e.error }

// options loads keys, policy and state into verify options.
func (t *trustFlags) options() ([]verify.Option, error) {
	var opts []verify.Option
	// The distinct trusted keys, by key ID, and the --key file of each.
	distinct := map[string]string{}
	for _, k := range t.keys {
		v, err := sign.LoadPublicKey(k)
		if err != nil {
			return nil, err
		}
		// A key given twice would count once toward --threshold: a
		// threshold meant to need two signers could never be met, or
		// would be met by fewer than the site believes.
		if prev, dup := distinct[v.KeyID()]; dup {
			if prev == k {
				return nil, usageError{fmt.Errorf("--key %s is given twice: each trusted key counts once toward --threshold", k)}
			}
			return nil, usageError{fmt.Errorf("--key %s is the same key as --key %s (%s): each trusted key counts once toward --threshold", k, prev, v.KeyID())}
		}
		distinct[v.KeyID()] = k
		opts = append(opts, verify.WithKeys(v))
		t.loadedKeys = append(t.loadedKeys, v)
	}
	for _, k := range t.imageKeys {
		v, err := sign.LoadPublicKey(k)
		if err != nil {
			return nil, err
		}
		opts = append(opts, verify.WithImageKeys(v))
	}
	if t.policy != "" {
		p, err := policy.Load(t.policy)
		if err != nil {
			return nil, configError{fmt.Errorf("policy: %w", err)}
		}
		opts = append(opts, verify.WithPolicy(p))
		t.loadedPolicy = p
		for _, v := range p.Keys {
			if _, ok := distinct[v.KeyID()]; !ok {
				distinct[v.KeyID()] = t.policy
			}
		}
	}
	opts = append(opts, verify.WithThreshold(t.threshold), verify.WithName(t.name), verify.WithVersion(t.version))
	// verify's rules, checked before any kit is opened, worded as flags.
	var ce *verify.ConfigError
	if err := verify.CheckOptions(opts...); errors.As(err, &ce) {
		switch ce.Field {
		case "keys":
			return nil, usageError{fmt.Errorf("no trusted keys: give --key PUB, or a --policy with trust.keys")}
		case "threshold":
			return nil, usageError{fmt.Errorf("--threshold %d: must be between 1 and the number of distinct trusted keys (%d)", t.threshold, ce.Keys)}
		}
		return nil, usageError{err}
	} else if err != nil {
		return nil, usageError{err}
	}
	if t.allowDowngrade && t.stateDir == "" {
		return nil, usageError{fmt.Errorf("--allow-downgrade needs --state-dir")}
	}
	if t.stateDir != "" {
		s, err := verify.OpenState(t.stateDir)
		if err != nil {
			return nil, configError{err}
		}
		opts = append(opts, verify.WithState(s, t.allowDowngrade))
	}
	return opts, nil
}

// printReport prints the report of verifying kit, as JSON or text, and
// returns err, the verification's outcome, unless printing failed.
func printReport(w io.Writer, kit string, r *verify.Report, asJSON bool, op string, err error) error {
	if asJSON {
		if jerr := printJSON(w, r); jerr != nil {
			return jerr
		}
		return err
	}
	renderReport(w, kit, r, op)
	return err
}

// What a command does with a verified kit, as its report ends when it
// fails: "FAILED: nothing was <op>".
const (
	opVerify  = ""
	opUnpack  = "unpacked"
	opPull    = "written"
	opPublish = "published"
	opPush    = "pushed"
)

func renderReport(w io.Writer, kit string, r *verify.Report, op string) {
	w = printableWriter{w}
	if r.Kit != nil {
		fmt.Fprintf(w, "Kit %s: %s %s, created %s, %d file(s), %s, %s\n", kit, r.Kit.Name, r.Kit.Version, r.Kit.Created, r.Kit.Files, ui.Human(r.Kit.Bytes), r.Kit.Compression)
	}
	for _, c := range r.Checks {
		mark := "ok  "
		switch {
		case c.Skipped:
			mark = "skip"
		case !c.OK:
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %-10s %s\n", mark, c.Name, c.Detail)
		if c.Name == "policy" && r.Policy != nil {
			for _, g := range r.Policy.Gates {
				gm := "pass"
				if !g.OK {
					gm = "FAIL"
				}
				fmt.Fprintf(w, "         %s %-22s %s\n", gm, g.Name, g.Detail)
			}
		}
	}
	for _, s := range r.Signers {
		state := "trusted (" + s.Key + ")"
		if !s.Trusted {
			state = "NOT trusted: " + s.Problem
		}
		fmt.Fprintf(w, "  signer %d %s: %s\n", s.Index, s.KeyID, state)
	}
	for _, im := range r.Images {
		state := "signatures " + im.Signatures
		if len(im.SignedBy) > 0 {
			var by []string
			for _, s := range im.SignedBy {
				by = append(by, cmp.Or(s.Key, s.KeyID))
			}
			state += " (" + strings.Join(by, ", ") + ")"
		}
		if im.Problem != "" {
			state += ": " + im.Problem
		}
		fmt.Fprintf(w, "  image %s %s@%s: %s\n", im.Component, imageName(im.Reference), im.Digest, state)
	}
	switch {
	case r.Verified && r.Output != "" && op == opUnpack:
		fmt.Fprintf(w, "Verified OK; unpacked into %s\n", r.Output)
	case r.Verified && r.Output != "" && op == opPull:
		fmt.Fprintf(w, "Verified OK; written to %s\n", r.Output)
	case r.Verified:
		fmt.Fprintln(w, "Verified OK")
	case op != opVerify:
		fmt.Fprintf(w, "FAILED: nothing was %s\n", op)
	default:
		fmt.Fprintln(w, "Verification FAILED")
	}
}

// imageName is reference without its tag or digest, for lines that print
// the digest beside it.
func imageName(reference string) string {
	if i := strings.LastIndex(reference, "@"); i > 0 {
		reference = reference[:i]
	}
	if i := strings.LastIndex(reference, ":"); i > strings.LastIndex(reference, "/") {
		reference = reference[:i]
	}
	return reference
}
