package policy_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/policy"
)

// FuzzParse checks that Parse never panics, that every error it returns is
// a *manifest.FieldError naming the file, and that what it accepts has the
// right apiVersion and can be evaluated. Key files named by inputs do not
// resolve (the directory does not exist), so inputs with trust.keys fail.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"apiVersion: offkit.dev/policy/v1\n",
		"apiVersion: offkit.dev/policy/v1\ndescription: prod\nkit:\n  name: demo\n  version: 1.2.3\n  minVersion: 1.0.0-rc.1\n  maxAge: 30d\ntrust:\n  threshold: 2\nrequire:\n  components:\n    - name: migrations\n      type: migrations\n      sbom: true\n    - type: rollback\n  componentSBOMs: true\n  labels: {ticket: REL-1, qa/passed: \"yes\"}\n  allowPending: true\n",
		"apiVersion: offkit.dev/policy/v1\ntrust:\n  keys: [a.pub, /abs/b.pub]\n  threshold: 2\n",
		"apiVersion: offkit.dev/policy/v1\nkit:\n  maxAge: 9999999d\n",
		"apiVersion: offkit.dev/policy/v1\nkit:\n  maxAge: !!binary 123d\n",
		"apiVersion: offkit.dev/policy/v1\nkit:\n  maxAge: !x 12h\n",
		"apiVersion: offkit.dev/policy/v2\n",
		"apiVersion: offkit.dev/policy/v1\nkit:\n  version: 1.0.0\n  minVersion: 2.0.0\n",
		"apiVersion: offkit.dev/policy/v1\ntrust:\n  threshold: 2.0\n",
		"apiVersion: offkit.dev/policy/v1\nkit: &a {name: x}\nrequire: *a\n",
		"apiVersion: offkit.dev/policy/v1\n---\napiVersion: offkit.dev/policy/v1\n",
		"{\"apiVersion\": \"offkit.dev/policy/v1\", \"kit\": {\"name\": \"demo\"}}",
		"apiVersion: offkit.dev/policy/v1\nunknown: 1\n",
		"apiVersion: offkit.dev/policy/v1\nrequire:\n  components: [{}]\n",
		"apiVersion: offkit.dev/policy/v1\n<<: {kit: {name: x}}\n",
		"- a\n- b\n",
		"",
		"\x00",
		"apiVersion: !!str offkit.dev/policy/v1\n",
		"\"apiVersion\": \"offkit.dev/policy/v1\"\n\"apiVersion\": \"offkit.dev/policy/v1\"\n",
	} {
		f.Add([]byte(s))
	}
	dir := filepath.Join(f.TempDir(), "no-such-dir")
	file := filepath.Join(dir, "policy.yaml")
	m := &manifest.Manifest{
		Name: "demo", Version: "1.2.3", Created: "2026-03-01T12:00:00Z", Labels: map[string]string{"ticket": "REL-1"},
		Components: []manifest.Component{
			{Name: "migrations", Type: "migrations", SBOM: &manifest.FileRef{}},
			{Name: "seeds", Type: "seeds", Pending: true},
		},
	}
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := policy.Parse(data, file, dir)
		if err != nil {
			var fe *manifest.FieldError
			if !errors.As(err, &fe) || fe.File != file {
				t.Fatalf("error %v (%T) is not a *manifest.FieldError of %s", err, err, file)
			}
			if p != nil {
				t.Fatal("a policy returned with an error")
			}
			return
		}
		var doc map[string]any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("accepted a policy yaml.Unmarshal refuses: %v", err)
		}
		if doc["apiVersion"] != policy.APIVersion {
			t.Fatalf("accepted apiVersion %#v", doc["apiVersion"])
		}
		if p.File != file || p.Digest != manifest.SHA256(data) {
			t.Fatalf("file %q digest %s", p.File, p.Digest)
		}
		if len(p.Keys) != 0 {
			t.Fatalf("%d keys loaded from a directory that does not exist", len(p.Keys))
		}
		if p.Threshold < 0 || p.Threshold > 64 {
			t.Fatalf("threshold %d", p.Threshold)
		}
		if (p.MaxAgeText != "") != (p.MaxAge > 0) {
			t.Fatalf("maxAge %q parsed as %v", p.MaxAgeText, p.MaxAge)
		}
		if p.Version != "" && p.MinVersion != "" && manifest.CompareVersions(p.Version, p.MinVersion) < 0 {
			t.Fatalf("version %s below minVersion %s accepted", p.Version, p.MinVersion)
		}
		gates, err := p.Evaluate(policy.Input{Manifest: m, Signers: []string{"SHA256:x"}, Now: now})
		failed := false
		for _, g := range gates {
			if g.Name == "" || g.Detail == "" {
				t.Fatalf("gate %+v", g)
			}
			failed = failed || !g.OK
		}
		if failed != (err != nil) || (err != nil && !errors.Is(err, policy.ErrFailed)) {
			t.Fatalf("gates %+v, err %v", gates, err)
		}
	})
}
