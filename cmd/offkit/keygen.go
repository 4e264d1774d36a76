package main

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/offkit/offkit/internal/ui"
	"github.com/offkit/offkit/sign"
)

func newKeygenCmd() *cobra.Command {
	var prefix string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen [--output-key-prefix PREFIX]",
		Short: "Generate a cosign-compatible signing key pair",
		Long: `Generate an ECDSA P-256 key pair in cosign's format: PREFIX.key, the private key
encrypted with the password from COSIGN_PASSWORD (or a prompt on a terminal),
mode 0600, and PREFIX.pub, the public key. Keys from 'cosign generate-key-pair'
work with offkit, and these work with cosign.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			priv, pub := prefix+".key", prefix+".pub"
			if !force {
				for _, p := range []string{priv, pub} {
					if _, err := os.Stat(p); err == nil {
						return fmt.Errorf("%s already exists (use --force to replace it)", p)
					}
				}
			}
			pw, err := ui.Password(true)
			if err != nil {
				return err
			}
			privPEM, pubPEM, err := sign.GenerateKeyPair(pw)
			if err != nil {
				return err
			}
			if err := writeAtomic(priv, privPEM, 0o600); err != nil {
				return err
			}
			if err := writeAtomic(pub, pubPEM, 0o644); err != nil {
				os.Remove(priv)
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Private key written to %s\nPublic key written to %s\n", priv, pub)
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "output-key-prefix", "cosign", "write PREFIX.key and PREFIX.pub")
	cmd.Flags().BoolVar(&force, "force", false, "replace existing key files")
	return cmd
}

func writeAtomic(path string, b []byte, perm fs.FileMode) error {
	f, err := createAtomic(path, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}
