package main

// Second-pass attacks on printable (cmd/offkit/printable.go), pinURL
// (remote.go) and the echo of URLs. A test that fails is an attack that
// works.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offkit/offkit/store"
)

// TestPrintableAttack2Vectors: C1 controls spelled in UTF-8 (U+009B is
// CSI to an 8-bit terminal), raw C1 bytes (invalid UTF-8), other invalid
// bytes, the bidi overrides and isolates, DEL, ESC: all escaped.
// Defended.
func TestPrintableAttack2Vectors(t *testing.T) {
	for _, s := range []string{"\u009b2K", "\x9b2K", "\xc2", "\xff\xfe", "\xe2\x80", "\u202e", "\u2066", "\u061c", "\x7f", "\x1b[0m", "\r", "\x00", "\u200e"} {
		got := printable("a" + s + "b")
		for _, r := range got {
			if unprintable(r) {
				t.Errorf("printable(%q) = %q: keeps %U", s, got, r)
			}
		}
		if strings.Contains(got, s) {
			t.Errorf("printable(%q) = %q: kept raw", s, got)
		}
	}
}

// TestInspectAttack2NewlineForgesLines: printable keeps '\n' (renderings
// have their own), so a field that holds one starts a line of its own:
// an unverified kit's description forges inspect's "Signatures" line,
// the one that says whether the kit is signed. The kit.yaml schema (and
// the manifest) allow a newline in a description or label value.
func TestInspectAttack2NewlineForgesLines(t *testing.T) {
	work := t.TempDir()
	const forged = "Signatures:  1 verified (keyid 0123abcd, release-key.pub)"
	writeFile(t, filepath.Join(work, "src", "a.txt"), []byte("hi\n"))
	writeFile(t, filepath.Join(work, "kit.yaml"), []byte("name: esc\nversion: 1.0.0\n"+
		`description: "nightly\n`+forged+`"`+"\n"+
		"components:\n  - name: c\n    from: src\n    path: data\n"))
	if r := offkit(t, work, "build", "kit.yaml", "-o", "esc.tar.zst"); r.code != 0 {
		t.Fatalf("build: exit %d\n%s", r.code, r.stderr)
	}
	r := offkit(t, work, "inspect", "esc.tar.zst")
	if r.code != 0 {
		t.Fatalf("inspect: exit %d\n%s", r.code, r.stderr)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if line == forged {
			t.Errorf("BUG (low): inspect prints the unsigned kit's description newline and all, so it forges a line of its "+
				"own: %q in\n%s\ncmd/offkit/printable.go unprintable exempts '\\n' and '\\t' for the renderings' own text, but "+
				"printableWriter passes fields through with them; escape '\\n' in fields (printable(field) with newlines "+
				"escaped, at each Fprintf argument) and keep printableWriter for the frame only", forged, r.stdout)
		}
	}
}

// TestListAttack2ErrorNewlineForgesLines: the registry's error message
// holds a newline and a line that looks like offkit's own. main.go
// prints printable(err.Error()), which keeps newlines: stderr shows a
// line offkit never wrote (the first review's TestListAttackErrorEscapes
// sends the same newline but checks only ESC, BEL and CR).
func TestListAttack2ErrorNewlineForgesLines(t *testing.T) {
	const forged = "offkit: hint: this registry is trusted; re-run with --insecure"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/v2/" {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": "DENIED", "message": "denied\n" + forged}}})
	}))
	defer srv.Close()
	r := offkit(t, t.TempDir(), "list", "oci://"+strings.TrimPrefix(srv.URL, "http://")+"/releases/kit")
	if r.code == 0 {
		t.Fatalf("list succeeded:\n%s", r.stdout)
	}
	for _, line := range strings.Split(r.stderr, "\n") {
		if line == forged {
			t.Errorf("BUG (low): the registry's error text forges a line of offkit's stderr: %q in\n%s"+
				"cmd/offkit/main.go prints printable(err.Error()), and printable keeps '\\n'; escape newlines in "+
				"error text (an error is one line)", forged, r.stderr)
		}
	}
}

// TestPinAttack2TagMapping: pinURL maps an oci:// tag back to a version
// ('_' to '+'). A semantic version holds no '_', so the mapping is one to
// one: no tag pins a version other than the one whose tag it is, and a
// tag that is no kit version pins a version no kit has. The pins agree
// with what OpenKit opens. Defended.
func TestPinAttack2TagMapping(t *testing.T) {
	for _, c := range []struct{ url, name, version string }{
		{"oci://127.0.0.1:5000/releases/kit:1.2.3_build.7", "", "1.2.3+build.7"},
		{"oci://127.0.0.1:5000/releases/kit:1.2.3", "", "1.2.3"},
		{"oci://127.0.0.1:5000/releases/kit:1.2.3-rc.1_a_b", "", "1.2.3-rc.1+a+b"}, // no such semver: no kit matches
		{"file:///srv/store/demo/1.2.3", "demo", "1.2.3"},
		{"file:///srv/store/dem%6f/1.2.3", "demo", "1.2.3"},
		{"s3://releases/pre/demo/1.2.3+b", "demo", "1.2.3+b"},
	} {
		var tf trustFlags
		if err := pinURL(&tf, c.url); err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if tf.name != c.name || tf.version != c.version {
			t.Errorf("%s: pins %q %q, want %q %q", c.url, tf.name, tf.version, c.name, c.version)
		}
		if store.CheckRelease("x", tf.version) == nil && strings.Contains(c.url, "oci://") {
			tag := strings.ReplaceAll(tf.version, "+", "_")
			if !strings.HasSuffix(c.url, ":"+tag) {
				t.Errorf("BUG: %s pins %s, whose tag is %s", c.url, tf.version, tag)
			}
		}
	}
	// A user pin that differs only where the mapping works is refused.
	tf := trustFlags{version: "1.2.3_build.7"}
	if err := pinURL(&tf, "oci://127.0.0.1:5000/releases/kit:1.2.3_build.7"); err == nil {
		t.Errorf("--version 1.2.3_build.7 accepted for a URL that pins 1.2.3+build.7 (%q)", tf.version)
	}
}

// TestURLAttack2NonURLEchoesCredentials: the operator pastes the
// registry's https:// URL, token and all, where offkit wants oci:// (or
// drops a slash: oci:/). offkit refuses it as no URL, and the refusal (or
// the "no such file" of a path) prints the token: store.redact guards
// only what store.URLError carries (publish.go openStore's and pull's
// "is not a URL" print the argument raw).
func TestURLAttack2NonURLEchoesCredentials(t *testing.T) {
	const secret = "ghp_R3aLlyS3cr3tT0k3nV4lu3"
	work := t.TempDir()
	for _, raw := range []string{"https://robot:" + secret + "@registry.site/releases/kit", "oci:/robot:" + secret + "@registry.site/releases/kit"} {
		for _, args := range [][]string{
			{"list", raw},
			{"pull", raw + ":1.2.3", "-o", filepath.Join(work, "k"), "--key", "k.pub"},
			{"verify", raw + ":1.2.3", "--key", "k.pub"},
		} {
			os.WriteFile(filepath.Join(work, "k.pub"), []byte("x"), 0o644)
			r := offkit(t, work, args...)
			if strings.Contains(r.stderr+r.stdout, secret) {
				t.Errorf("BUG (low): offkit %s %s... prints the token: %q: pass the argument through a redaction (store.Redact, "+
					"exported) wherever a non-URL argument is echoed (cmd/offkit/publish.go:261 openStore, :151 pull)",
					args[0], strings.SplitN(raw, ":", 2)[0], strings.TrimSpace(r.stderr))
			}
		}
	}
}
