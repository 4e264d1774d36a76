// Package archtest holds the test that keeps offkit's packages layered one
// way (docs/ARCHITECTURE.md): it reads `go list` and fails on an import
// that crosses a layer, as restic's depguard rules do.
package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/offkit/offkit"

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func list(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	return pkgs
}

// modelDeps are what the data model may use: the strict JSON reading and
// the embedded JSON Schemas.
var modelDeps = map[string]bool{module + "/internal/strictjson": true, module + "/schemas": true}

func ours(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }

// TestLayers: manifest imports nothing of offkit's but internal/strictjson
// and the embedded schemas;
// bundle does not link cosign (it signs through manifest.Signer); no
// library package imports the command line; test support is imported by
// tests only.
func TestLayers(t *testing.T) {
	pkgs := list(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	rules := []struct {
		pkg    string
		ok     func(dep string) bool
		direct bool // check direct imports only
		why    string
	}{
		{module + "/manifest", func(d string) bool { return !ours(d) || modelDeps[d] }, false,
			"manifest is the data model: it depends on no other offkit package"},
		{module + "/bundle", func(d string) bool { return !strings.HasPrefix(d, "github.com/sigstore/cosign") }, false,
			"bundle signs through manifest.Signer and must not link cosign"},
		{module + "/store", func(d string) bool {
			return !ours(d) || d == module+"/manifest" || d == module+"/internal/fsutil" || modelDeps[d]
		}, false, "store keeps bytes; it knows nothing of verification"},
	}
	for _, r := range rules {
		p, ok := pkgs[r.pkg]
		if !ok {
			t.Errorf("%s: not found", r.pkg)
			continue
		}
		deps := p.Deps
		if r.direct {
			deps = p.Imports
		}
		for _, d := range deps {
			if !r.ok(d) {
				t.Errorf("%s depends on %s: %s", r.pkg, d, r.why)
			}
		}
	}
	for path, p := range pkgs {
		if strings.HasPrefix(path, module+"/cmd/") || strings.HasPrefix(path, module+"/internal/") {
			continue
		}
		for _, d := range p.Imports {
			switch {
			case strings.HasPrefix(d, module+"/cmd/"):
				t.Errorf("%s imports %s: library packages never import the command line", path, d)
			case strings.HasSuffix(d, "test") && ours(d) && !strings.HasSuffix(path, "test"):
				t.Errorf("%s imports the test support package %s outside tests", path, d)
			}
		}
	}
}
