package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/policy"
	"github.com/offkit/offkit/sign/signtest"
)

// keys makes key pairs named names in dir (dir/<name>.pub) and returns
// their key IDs by name.
func keys(t *testing.T, dir string, names ...string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, n := range names {
		ids[n] = signtest.NewKey(t, dir, n).Verifier.KeyID()
	}
	return ids
}

func TestPolicyLoad(t *testing.T) {
	dir := t.TempDir()
	ids := keys(t, filepath.Join(dir), "a", "b")
	must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	must(t, os.Rename(filepath.Join(dir, "b.pub"), filepath.Join(dir, "sub", "b.pub")))
	const doc = `apiVersion: offkit.dev/policy/v1
description: production site
kit:
  name: demo
  minVersion: 1.2.0
  maxAge: 30d
trust:
  keys: [a.pub, sub/b.pub]
  threshold: 2
require:
  components:
    - name: migrations
      sbom: true
    - type: rollback
  componentSBOMs: false
  labels:
    ticket: REL-1
  allowPending: true
`
	path := filepath.Join(dir, "policy.yaml")
	must(t, os.WriteFile(path, []byte(doc), 0o644))
	p, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.File != path || p.Digest != manifest.SHA256([]byte(doc)) || p.Description != "production site" {
		t.Errorf("file %q digest %s description %q", p.File, p.Digest, p.Description)
	}
	if p.Name != "demo" || p.Version != "" || p.MinVersion != "1.2.0" || p.MaxAge != 30*24*time.Hour || p.MaxAgeText != "30d" {
		t.Errorf("kit = %q %q %q %v %q", p.Name, p.Version, p.MinVersion, p.MaxAge, p.MaxAgeText)
	}
	// Keys are read relative to the policy file, not the working directory.
	if len(p.Keys) != 2 || p.Keys[0].KeyID() != ids["a"] || p.Keys[1].KeyID() != ids["b"] || p.Threshold != 2 {
		t.Errorf("keys %v threshold %d", p.Keys, p.Threshold)
	}
	want := []policy.Requirement{{Name: "migrations", SBOM: true}, {Type: "rollback"}}
	if len(p.Components) != 2 || p.Components[0] != want[0] || p.Components[1] != want[1] {
		t.Errorf("components = %+v", p.Components)
	}
	if p.ComponentSBOMs || !p.AllowPending || len(p.Labels) != 1 || p.Labels["ticket"] != "REL-1" {
		t.Errorf("require = %v %v %v", p.ComponentSBOMs, p.AllowPending, p.Labels)
	}

	if _, err := policy.Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing policy: err = %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	must(t, os.WriteFile(big, []byte("apiVersion: offkit.dev/policy/v1\n"+"#"+strings.Repeat("x", policy.MaxSize)+"\n"), 0o644))
	if _, err := policy.Load(big); !errors.Is(err, manifest.ErrMalformed) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized policy: err = %v", err)
	}
}

func TestPolicyParseErrors(t *testing.T) {
	dir := t.TempDir()
	keys(t, dir, "a", "b")
	const head = "apiVersion: offkit.dev/policy/v1\n"
	cases := []struct {
		name, doc string
		line      int
		field     string
		match     string
	}{
		{"unknown top-level field", head + "kit:\n  name: demo\nrequires: {}\n", 4, "requires", "unknown field"},
		{"unknown nested field", head + "kit:\n  name: demo\n  nmae: demo\n", 4, "kit.nmae", "unknown field"},
		{"unknown requirement field", head + "require:\n  components:\n    - name: x\n      sboms: true\n", 5, "require.components[0].sboms", "unknown field"},
		{"bad apiVersion", "apiVersion: offkit.dev/policy/v2\n", 1, "apiVersion", ""},
		{"missing apiVersion", "kit:\n  name: demo\n", 1, "", "apiVersion"},
		{"threshold above keys", head + "trust:\n  keys: [a.pub, b.pub]\n  threshold: 3\n", 4, "trust.threshold", "more than the 2 key(s)"},
		{"threshold zero", head + "trust:\n  threshold: 0\n", 3, "trust.threshold", ""},
		{"threshold not a number", head + "trust:\n  threshold: two\n", 3, "trust.threshold", ""},
		{"maxAge without unit", head + "kit:\n  maxAge: \"30\"\n", 3, "kit.maxAge", ""},
		{"maxAge in words", head + "kit:\n  maxAge: 30 days\n", 3, "kit.maxAge", ""},
		{"maxAge zero", head + "kit:\n  maxAge: 0d\n", 3, "kit.maxAge", ""},
		{"maxAge a number", head + "kit:\n  maxAge: 30\n", 3, "kit.maxAge", ""},
		{"version not semver", head + "kit:\n  version: \"1.0\"\n", 3, "kit.version", ""},
		{"version a YAML number", head + "kit:\n  version: 1.0\n", 3, "kit.version", ""},
		{"minVersion with a v", head + "kit:\n  name: demo\n  minVersion: v1.2.0\n", 4, "kit.minVersion", ""},
		{"minVersion leading zero", head + "kit:\n  minVersion: 1.02.0\n", 3, "kit.minVersion", ""},
		{"version below minVersion", head + "kit:\n  minVersion: 2.0.0\n  version: 1.9.9\n", 4, "kit.version", "below kit.minVersion"},
		{"bad kit name", head + "kit:\n  name: Demo\n", 3, "kit.name", ""},
		{"key file missing", head + "trust:\n  keys:\n    - a.pub\n    - nope.pub\n", 5, "trust.keys[1]", "nope.pub"},
		{"key file not a key", head + "trust:\n  keys:\n    - a.pub\n    - policy.yaml\n", 5, "trust.keys[1]", "not a PEM public key"},
		{"key listed twice", head + "trust:\n  keys:\n    - a.pub\n    - ./a.pub\n", 5, "trust.keys[1]", "listed twice"},
		{"no keys", head + "trust:\n  keys: []\n", 3, "trust.keys", ""},
		{"component without name or type", head + "require:\n  components:\n    - sbom: true\n", 4, "require.components[0]", ""},
		{"component of an unknown type", head + "require:\n  components:\n    - type: binaries\n", 4, "require.components[0].type", ""},
		{"label not a string", head + "require:\n  labels:\n    approved: true\n", 4, "require.labels.approved", ""},
		{"label name", head + "require:\n  labels:\n    \"-x\": y\n", -1, "", "'-x' does not match"},
		{"allowPending not a bool", head + "require:\n  allowPending: \"yes\"\n", 3, "require.allowPending", ""},
		{"two documents", head + "---\n" + head, 2, "", "more than one YAML document"},
		{"not YAML", head + "kit: [\n", 0, "", ""},
		{"alias", head + "kit: &k\n  name: demo\ndescription: *k\n", 0, "", "aliases"},
		{"empty", "", 0, "", ""},
		{"binary maxAge", head + "kit:\n  maxAge: !!binary 123d\n", 3, "", "!!binary"},
		{"binary name", head + "kit:\n  name: !!binary abcd\n", 3, "", "!!binary"},
		{"a list", "- apiVersion: offkit.dev/policy/v1\n", 1, "", "want object"},
	}
	file := filepath.Join(dir, "policy.yaml")
	must(t, os.WriteFile(file, []byte("not a key"), 0o644))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := policy.Parse([]byte(c.doc), file, dir)
			var fe *manifest.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse = %+v, %v; want a *manifest.FieldError", p, err)
			}
			if p != nil {
				t.Errorf("Parse returned a policy with its error")
			}
			// line -1: the line is not checked (schemaError locates a
			// propertyNames failure at the document, not the label).
			if fe.File != file || (c.line >= 0 && fe.Line != c.line) || fe.Field != c.field {
				t.Errorf("error at %s:%d field %q, want line %d field %q: %v", fe.File, fe.Line, fe.Field, c.line, c.field, err)
			}
			if !strings.Contains(err.Error(), c.match) {
				t.Errorf("error %q does not mention %q", err, c.match)
			}
			if c.line > 0 && !strings.HasPrefix(err.Error(), file+":"+strconv.Itoa(c.line)+": ") {
				t.Errorf("error %q does not start with file:line", err)
			}
			if c.field != "" && !strings.HasPrefix(c.field, "trust.keys[") && !errors.Is(err, manifest.ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
		})
	}
}

// kit is the manifest policies are evaluated on in these tests: demo 1.2.3,
// created at created, with a migrations component that has an SBOM, a
// rollback component that has none, and a pending seeds placeholder.
func kit(created time.Time) *manifest.Manifest {
	return &manifest.Manifest{
		FormatVersion: manifest.FormatVersion,
		Name:          "demo",
		Version:       "1.2.3",
		Labels:        map[string]string{"ticket": "REL-1", "approved": "yes"},
		Created:       created.UTC().Format(time.RFC3339),
		Components: []manifest.Component{
			{Name: "migrations", Type: "migrations", Path: "migrations", SBOM: &manifest.FileRef{Path: "sbom/migrations.spdx.json"}},
			{Name: "rollback", Type: "rollback", Path: "rollback"},
			{Name: "seeds", Type: "seeds", Path: "seeds", Pending: true},
		},
	}
}

var created = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func parse(t *testing.T, doc, dir string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse([]byte("apiVersion: offkit.dev/policy/v1\n"+doc), filepath.Join(dir, "policy.yaml"), dir)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

// TestPolicyEvaluate checks each gate passing and failing. Every case's policy
// allows pending placeholders unless it is about them, so that the one
// gate under test decides.
func TestPolicyEvaluate(t *testing.T) {
	dir := t.TempDir()
	ids := keys(t, dir, "a", "b", "c")
	const pending = "require:\n  allowPending: true\n"
	cases := []struct {
		name    string
		doc     string
		mod     func(m *manifest.Manifest)
		now     time.Time // zero: created + 1h
		signers []string
		gate    string // the gate under test
		ok      bool
		detail  string // in the gate's detail
		also    string // another gate that fails
	}{
		{name: "name", doc: "kit:\n  name: demo\n" + pending, gate: "kit.name", ok: true},
		{name: "other name", doc: "kit:\n  name: prod-db\n" + pending, gate: "kit.name", detail: `kit name "demo", policy requires "prod-db"`},
		{name: "exact version", doc: "kit:\n  version: 1.2.3\n" + pending, gate: "kit.version", ok: true},
		{name: "other version", doc: "kit:\n  version: 1.2.4\n" + pending, gate: "kit.version", detail: "kit version 1.2.3, policy requires exactly 1.2.4"},
		{name: "version with build metadata is not exact", doc: "kit:\n  version: 1.2.3+build.7\n" + pending, gate: "kit.version"},
		{name: "minVersion equal", doc: "kit:\n  minVersion: 1.2.3\n" + pending, gate: "kit.minVersion", ok: true},
		{name: "minVersion below", doc: "kit:\n  minVersion: 1.1.99\n" + pending, gate: "kit.minVersion", ok: true},
		{name: "minVersion numeric not lexical", doc: "kit:\n  minVersion: 1.10.0\n" + pending, gate: "kit.minVersion", detail: "at least 1.10.0"},
		{name: "minVersion above", doc: "kit:\n  minVersion: 1.3.0\n" + pending, gate: "kit.minVersion", detail: "kit version 1.2.3, policy requires at least 1.3.0"},
		{name: "prerelease is below its release", doc: "kit:\n  minVersion: 1.2.3\n" + pending, mod: func(m *manifest.Manifest) { m.Version = "1.2.3-rc.1" }, gate: "kit.minVersion"},
		{name: "prerelease above minVersion", doc: "kit:\n  minVersion: 1.2.3-rc.1\n" + pending, mod: func(m *manifest.Manifest) { m.Version = "1.2.3-rc.2" }, gate: "kit.minVersion", ok: true},
		{name: "fresh", doc: "kit:\n  maxAge: 30d\n" + pending, now: created.Add(29 * 24 * time.Hour), gate: "kit.maxAge", ok: true, detail: "29d 0h ago; policy allows at most 30d"},
		{name: "exactly maxAge", doc: "kit:\n  maxAge: 2h\n" + pending, now: created.Add(2 * time.Hour), gate: "kit.maxAge", ok: true},
		{name: "a second over maxAge", doc: "kit:\n  maxAge: 2h\n" + pending, now: created.Add(2*time.Hour + time.Second), gate: "kit.maxAge", detail: "2h 0m 1s ago; policy allows at most 2h"},
		{name: "stale", doc: "kit:\n  maxAge: 30d\n" + pending, now: created.Add(31 * 24 * time.Hour), gate: "kit.maxAge", detail: "31d 0h ago"},
		{name: "minutes", doc: "kit:\n  maxAge: 90m\n" + pending, now: created.Add(91 * time.Minute), gate: "kit.maxAge"},
		{name: "seconds", doc: "kit:\n  maxAge: 90s\n" + pending, now: created.Add(89 * time.Second), gate: "kit.maxAge", ok: true},
		{name: "created within the clock skew", doc: "kit:\n  maxAge: 1h\n" + pending, now: created.Add(-policy.MaxSkew), gate: "kit.maxAge", ok: true},
		{name: "created in the future", doc: "kit:\n  maxAge: 1h\n" + pending, now: created.Add(-policy.MaxSkew - time.Second), gate: "kit.maxAge", detail: "in the future"},
		{name: "created far in the future", doc: "kit:\n  maxAge: 9999999d\n" + pending, now: created.Add(-365 * 24 * time.Hour), gate: "kit.maxAge", detail: "in the future"},
		{name: "maxAge beyond a time.Duration", doc: "kit:\n  maxAge: 9999999d\n" + pending, now: created.Add(200 * 365 * 24 * time.Hour), gate: "kit.maxAge", ok: true, detail: "policy allows at most 9999999d"},
		{name: "bad creation time", doc: "kit:\n  maxAge: 1h\n" + pending, mod: func(m *manifest.Manifest) { m.Created = "yesterday" }, gate: "kit.maxAge", detail: "creation time"},

		{name: "threshold of any trusted keys", doc: "trust:\n  threshold: 2\n" + pending, signers: []string{"x", "y"}, gate: "trust.threshold", ok: true, detail: "signed by 2 of the trusted keys"},
		{name: "threshold of any trusted keys, too few", doc: "trust:\n  threshold: 2\n" + pending, signers: []string{"x"}, gate: "trust.threshold", detail: "signed by 1 of the trusted keys, policy requires 2"},
		{name: "policy keys, default threshold 1", doc: "trust:\n  keys: [a.pub, b.pub]\n" + pending, signers: []string{ids["b"]}, gate: "trust.threshold", ok: true},
		{name: "policy keys, another key signed", doc: "trust:\n  keys: [a.pub, b.pub]\n" + pending, signers: []string{ids["c"]}, gate: "trust.threshold", detail: "signed by 0 of the policy's 2 key(s), policy requires 1"},
		{name: "policy keys 2 of 3", doc: "trust:\n  keys: [a.pub, b.pub, c.pub]\n  threshold: 2\n" + pending, signers: []string{ids["a"], ids["c"]}, gate: "trust.threshold", ok: true, detail: "signed by 2 of the policy's 3 key(s)"},
		// Keys trusted by --key count toward Verify's threshold, not the policy's.
		{name: "policy keys count, others do not", doc: "trust:\n  keys: [a.pub, b.pub]\n  threshold: 2\n" + pending, signers: []string{ids["a"], ids["c"], "SHA256:other"}, gate: "trust.threshold", detail: "signed by 1 of the policy's 2 key(s), policy requires 2"},

		{name: "component by name", doc: "require:\n  components: [{name: rollback}]\n  allowPending: true\n", gate: "require.components", ok: true, detail: "present: rollback"},
		{name: "component by name, absent", doc: "require:\n  components: [{name: backfill}]\n  allowPending: true\n", gate: "require.components", detail: "a component with name backfill: no such component"},
		{name: "component by type", doc: "require:\n  components: [{type: rollback}]\n  allowPending: true\n", gate: "require.components", ok: true, detail: "present: rollback"},
		{name: "component by type, absent", doc: "require:\n  components: [{type: backfill}]\n  allowPending: true\n", gate: "require.components", detail: "a component with type backfill: no such component"},
		{name: "component by name and type", doc: "require:\n  components: [{name: migrations, type: migrations}]\n  allowPending: true\n", gate: "require.components", ok: true},
		{name: "component by name and wrong type", doc: "require:\n  components: [{name: migrations, type: rollback}]\n  allowPending: true\n", gate: "require.components", detail: "no such component"},
		{name: "component with its SBOM", doc: "require:\n  components: [{type: migrations, sbom: true}]\n  allowPending: true\n", gate: "require.components", ok: true},
		{name: "component without its SBOM", doc: "require:\n  components: [{name: rollback, sbom: true}]\n  allowPending: true\n", gate: "require.components", detail: "a component with name rollback, with its own SBOM: rollback carries no SBOM of its own"},
		{name: "one of two of a type has an SBOM", doc: "require:\n  components: [{type: migrations, sbom: true}]\n  allowPending: true\n",
			mod: func(m *manifest.Manifest) {
				m.Components = append([]manifest.Component{{Name: "early", Type: "migrations", Path: "early"}}, m.Components...)
			}, gate: "require.components", ok: true, detail: "present: migrations"},
		{name: "required component is pending", doc: "require:\n  components: [{name: seeds}]\n", gate: "require.components", detail: "seeds is a pending placeholder, not delivered", also: "require.allowPending"},
		{name: "required pending component, allowed", doc: "require:\n  components: [{name: seeds}]\n  allowPending: true\n", gate: "require.components", ok: true},

		{name: "componentSBOMs", doc: "require:\n  componentSBOMs: true\n  allowPending: true\n", gate: "require.componentSBOMs", detail: "without an SBOM of their own: rollback"},
		{name: "componentSBOMs, all have one", doc: "require:\n  componentSBOMs: true\n  allowPending: true\n",
			mod: func(m *manifest.Manifest) { m.Components[1].SBOM = &manifest.FileRef{Path: "sbom/rollback.spdx.json"} }, gate: "require.componentSBOMs", ok: true},

		{name: "label", doc: "require:\n  labels: {ticket: REL-1}\n  allowPending: true\n", gate: "require.labels", ok: true},
		{name: "label wrong value", doc: "require:\n  labels: {ticket: REL-2}\n  allowPending: true\n", gate: "require.labels", detail: `label ticket is "REL-1", policy requires "REL-2"`},
		{name: "label absent", doc: "require:\n  labels: {qa: passed}\n  allowPending: true\n", gate: "require.labels", detail: `label qa is absent, policy requires "passed"`},
		{name: "label absent, none at all", doc: "require:\n  labels: {qa: \"\"}\n  allowPending: true\n", mod: func(m *manifest.Manifest) { m.Labels = nil }, gate: "require.labels", detail: "absent"},
		{name: "label empty value", doc: "require:\n  labels: {qa: \"\"}\n  allowPending: true\n", mod: func(m *manifest.Manifest) { m.Labels["qa"] = "" }, gate: "require.labels", ok: true},

		{name: "pending placeholder refused by default", doc: "kit:\n  name: demo\n", gate: "require.allowPending", detail: "pending placeholders, not delivered: seeds"},
		{name: "no pending placeholder", doc: "kit:\n  name: demo\n", mod: func(m *manifest.Manifest) { m.Components = m.Components[:2] }, gate: "require.allowPending", ok: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := parse(t, c.doc, dir)
			m := kit(created)
			if c.mod != nil {
				c.mod(m)
			}
			now := c.now
			if now.IsZero() {
				now = created.Add(time.Hour)
			}
			gates, err := p.Evaluate(policy.Input{Manifest: m, Signers: c.signers, Now: now})
			var g *policy.Gate
			for i := range gates {
				if gates[i].Name == c.gate {
					if g != nil {
						t.Fatalf("gate %s twice: %+v", c.gate, gates)
					}
					g = &gates[i]
				} else if !gates[i].OK && gates[i].Name != c.also {
					t.Errorf("gate %s failed too: %s", gates[i].Name, gates[i].Detail)
				}
			}
			if g == nil {
				t.Fatalf("no gate %s in %+v", c.gate, gates)
			}
			if g.OK != c.ok || !strings.Contains(g.Detail, c.detail) {
				t.Errorf("gate %s = %v %q, want %v and %q", g.Name, g.OK, g.Detail, c.ok, c.detail)
			}
			if c.ok {
				if err != nil {
					t.Errorf("Evaluate: %v", err)
				}
				return
			}
			if !errors.Is(err, policy.ErrFailed) || !strings.Contains(err.Error(), c.gate+": "+g.Detail) {
				t.Errorf("Evaluate err = %v, want ErrFailed naming %s", err, c.gate)
			}
		})
	}
}

// TestPolicyEvaluateAllGates checks that every gate is reported, in the order of
// the file, failed ones included, and that the error names the first
// failure.
func TestPolicyEvaluateAllGates(t *testing.T) {
	dir := t.TempDir()
	ids := keys(t, dir, "a", "b")
	p := parse(t, `kit:
  name: demo
  version: 1.3.0
  minVersion: 1.3.0
  maxAge: 1d
trust:
  keys: [a.pub, b.pub]
  threshold: 2
require:
  components:
    - name: migrations
      sbom: true
    - type: backfill
  componentSBOMs: true
  labels:
    ticket: REL-1
    approved: "no"
`, dir)
	gates, err := p.Evaluate(policy.Input{Manifest: kit(created), Signers: []string{ids["a"], ids["b"]}, Now: created.Add(2 * time.Hour)})
	want := []struct {
		name string
		ok   bool
	}{
		{"kit.name", true}, {"kit.version", false}, {"kit.minVersion", false}, {"kit.maxAge", true},
		{"trust.threshold", true}, {"require.components", true}, {"require.components", false},
		{"require.componentSBOMs", false}, {"require.labels", false}, {"require.labels", true},
		{"require.allowPending", false},
	}
	if len(gates) != len(want) {
		t.Fatalf("%d gates, want %d: %+v", len(gates), len(want), gates)
	}
	for i, w := range want {
		if gates[i].Name != w.name || gates[i].OK != w.ok || gates[i].Detail == "" {
			t.Errorf("gate %d = %+v, want %s ok=%v", i, gates[i], w.name, w.ok)
		}
	}
	// Labels are checked in sorted order: approved before ticket.
	if !strings.HasPrefix(gates[8].Detail, "label approved ") {
		t.Errorf("labels out of order: %+v", gates[8:10])
	}
	if !errors.Is(err, policy.ErrFailed) || !strings.Contains(err.Error(), "kit.version: kit version 1.2.3, policy requires exactly 1.3.0") {
		t.Errorf("err = %v, want the first failed gate", err)
	}

	// A policy of only its apiVersion still refuses a pending placeholder.
	gates, err = parse(t, "", dir).Evaluate(policy.Input{Manifest: kit(created), Now: created})
	if len(gates) != 1 || gates[0].Name != "require.allowPending" || gates[0].OK || !errors.Is(err, policy.ErrFailed) {
		t.Errorf("empty policy: gates %+v err %v", gates, err)
	}
	m := kit(created)
	m.Components = m.Components[:2]
	if gates, err = parse(t, "", dir).Evaluate(policy.Input{Manifest: m, Now: created}); err != nil || len(gates) != 1 || !gates[0].OK {
		t.Errorf("empty policy, nothing pending: gates %+v err %v", gates, err)
	}
}

func TestPolicyRequirementString(t *testing.T) {
	for _, c := range []struct {
		q    policy.Requirement
		want string
	}{
		{policy.Requirement{Name: "x"}, "a component with name x"},
		{policy.Requirement{Type: "docs"}, "a component with type docs"},
		{policy.Requirement{Name: "x", Type: "docs", SBOM: true}, "a component with name x and type docs, with its own SBOM"},
	} {
		if got := c.q.String(); got != c.want {
			t.Errorf("%+v = %q, want %q", c.q, got, c.want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
