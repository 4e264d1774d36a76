package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/internal/version"
	"github.com/offkit/offkit/sign"
	"github.com/offkit/offkit/sign/signtest"
)

// TestMain lets the test binary run as the real offkit command: scripts run
// it with "exec offkit ...", which calls main as it is, os.Exit and all.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"offkit": main})
}

// TestScripts runs the end-to-end scripts in testdata/script. Each starts in
// a fresh work directory holding a copy of testdata/example as example/,
// with COSIGN_PASSWORD, SOURCE_DATE_EPOCH, a non-UTC TZ and OFFKIT_VERSION
// set. Besides testscript's own commands, scripts have:
//
//	exitcode N prog args...   run prog (like exec) and require exit status N
//	perm MODE file            require file's permission bits to be MODE (octal)
//	listdir dir               print dir's names, hidden ones too, to stdout
//	flipbyte file offset      flip a bit of the byte at offset (<0: from the end)
//	truncate file size        cut file to size bytes
//	replace file old new      replace the one occurrence of old by new, as long
//	keyid VAR pubkey          set VAR to the key ID of pubkey
//	sha256 VAR file           set VAR to file's SHA-256 in hex
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("COSIGN_PASSWORD", signtest.Password)
			env.Setenv("SOURCE_DATE_EPOCH", strconv.FormatInt(bundletest.Epoch.Unix(), 10))
			// Kit times are UTC whatever the local zone; a zone far from
			// UTC shows it.
			env.Setenv("TZ", "Pacific/Chatham")
			// The version offkit stamps into kits: the test binary is offkit.
			env.Setenv("OFFKIT_VERSION", version.String())
			return copyTree(filepath.Join("..", "..", "testdata", "example"), filepath.Join(env.WorkDir, "example"))
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitcode,
			"perm":     cmdPerm,
			"listdir":  cmdListdir,
			"flipbyte": cmdFlipbyte,
			"truncate": cmdTruncate,
			"replace":  cmdReplace,
			"keyid":    cmdKeyid,
			"sha256":   cmdSHA256,
		},
	})
}

// copyTree copies the regular files and directories under src to dst,
// keeping their permission bits.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, fi.Mode().Perm()|0o700)
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(target, b, fi.Mode().Perm()); err != nil {
				return err
			}
			return os.Chmod(target, fi.Mode().Perm())
		}
		return fmt.Errorf("%s: not a regular file or directory", p)
	})
}

// exitcode N PROGRAM [ARGS...] runs PROGRAM like exec and checks that it
// exits with status N. Its output is kept for stdout and stderr.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad status %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// perm MODE FILE checks FILE's permission bits, e.g. "perm 0600 k.key".
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: perm MODE file")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	if err != nil {
		ts.Fatalf("perm: bad mode %q", args[0])
	}
	fi, err := os.Stat(ts.MkAbs(args[1]))
	ts.Check(err)
	switch got := fi.Mode().Perm(); {
	case !neg && got != fs.FileMode(want):
		ts.Fatalf("%s has mode %#o, want %#o", args[1], got, want)
	case neg && got == fs.FileMode(want):
		ts.Fatalf("%s has mode %#o", args[1], got)
	}
}

// listdir DIR writes the names in DIR, hidden ones included, one a line
// and sorted, to stdout: "listdir out; ! stdout ." asserts out is empty.
func cmdListdir(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: listdir dir")
	}
	ents, err := os.ReadDir(ts.MkAbs(args[0]))
	ts.Check(err)
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	w := ts.Stdout() // even for an empty directory, so stdout is reset
	for _, n := range names {
		fmt.Fprintln(w, n)
	}
}

// flipbyte FILE OFFSET inverts the low bit of the byte at OFFSET; a
// negative OFFSET counts from the end of the file.
func cmdFlipbyte(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: flipbyte file offset")
	}
	name := ts.MkAbs(args[0])
	b, err := os.ReadFile(name)
	ts.Check(err)
	off, err := strconv.Atoi(args[1])
	ts.Check(err)
	if off < 0 {
		off += len(b)
	}
	if off < 0 || off >= len(b) {
		ts.Fatalf("flipbyte: offset %s outside %s (%d bytes)", args[1], args[0], len(b))
	}
	b[off] ^= 1
	ts.Check(os.WriteFile(name, b, 0o644))
}

// truncate FILE SIZE cuts FILE to SIZE bytes.
func cmdTruncate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: truncate file size")
	}
	n, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	ts.Check(os.Truncate(ts.MkAbs(args[0]), n))
}

// replace FILE OLD NEW replaces the one occurrence of OLD in FILE with NEW,
// which must be as long: a tamper that keeps every tar offset in place.
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace file old new")
	}
	old, repl := []byte(args[1]), []byte(args[2])
	if len(old) != len(repl) || len(old) == 0 {
		ts.Fatalf("replace: %q and %q must be non-empty and of one length", old, repl)
	}
	name := ts.MkAbs(args[0])
	b, err := os.ReadFile(name)
	ts.Check(err)
	if n := bytes.Count(b, old); n != 1 {
		ts.Fatalf("replace: %q occurs %d times in %s, want once", old, n, args[0])
	}
	ts.Check(os.WriteFile(name, bytes.Replace(b, old, repl, 1), 0o644))
}

// keyid VAR PUB sets the environment variable VAR to the key ID of the
// public key file PUB ("SHA256:..."), for cmpenv and ${VAR@R} in regexps.
func cmdKeyid(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: keyid VAR pubkey")
	}
	v, err := sign.LoadPublicKey(ts.MkAbs(args[1]))
	ts.Check(err)
	ts.Setenv(args[0], v.KeyID())
}

// sha256 VAR FILE sets the environment variable VAR to FILE's SHA-256, in
// hex.
func cmdSHA256(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sha256 VAR file")
	}
	sum := sha256.Sum256([]byte(ts.ReadFile(args[1])))
	ts.Setenv(args[0], hex.EncodeToString(sum[:]))
}

// runResult is how a run of the offkit binary ended.
type runResult struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// runOffkit runs the real offkit binary (the test binary, which TestMain
// puts on PATH as offkit) in dir, with env added to the environment, and
// fails the test if it cannot run or takes over 2 minutes.
func runOffkit(t *testing.T, dir string, env []string, args ...string) runResult {
	t.Helper()
	bin, err := exec.LookPath("offkit")
	if err != nil {
		t.Fatalf("offkit is not on PATH (TestMain puts the test binary there): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	r := runResult{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("offkit %s: timed out", strings.Join(args, " "))
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("offkit %s: %v", strings.Join(args, " "), err)
	}
	return r
}
