package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/policy"
	"github.com/offkit/offkit/sign"
	"github.com/offkit/offkit/sign/signtest"
	"github.com/offkit/offkit/verify"
)

// verifiers returns the keys' public halves, for verify.WithKeys.
func verifiers(keys ...*signtest.Key) []*sign.Verifier {
	var vs []*sign.Verifier
	for _, k := range keys {
		vs = append(vs, k.Verifier)
	}
	return vs
}

func verifyKit(kit []byte, opts ...verify.Option) (*verify.Report, error) {
	return verify.Verify(context.Background(), bytes.NewReader(kit), opts...)
}

// specFor writes bundletest's spec with another name, version and
// description into a temp dir and returns its path.
func specFor(t *testing.T, name, version, description string) string {
	t.Helper()
	spec := bundletest.WriteSpec(t, t.TempDir())
	y := strings.Replace(bundletest.SpecYAML, "name: demo\nversion: 1.2.3\ndescription: a test kit\n",
		"name: "+name+"\nversion: "+version+"\ndescription: "+description+"\n", 1)
	if y == bundletest.SpecYAML && (name != "demo" || version != "1.2.3" || description != "a test kit") {
		t.Fatal("bundletest.SpecYAML does not begin as expected")
	}
	if err := os.WriteFile(spec, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return spec
}

// kitOf builds a kit of the given name and version, signed by keys.
func kitOf(t *testing.T, name, version string, keys ...*signtest.Key) []byte {
	t.Helper()
	var signers []manifest.Signer
	for _, k := range keys {
		signers = append(signers, k.Signer)
	}
	return bundletest.Build(t, specFor(t, name, version, "a test kit"), signers)
}

// anonymous signs with its key but names no key ID: the DSSE envelope then
// carries an empty keyid, which readers accept (docs/FORMAT.md section 9),
// and SignEnvelope's one-key-signs-once check does not see the key.
type anonymous struct{ *sign.Signer }

func (anonymous) KeyID() string { return "" }

func cosign(t *testing.T, kit []byte, s manifest.Signer) []byte {
	t.Helper()
	var out bytes.Buffer
	if _, err := bundle.Sign(context.Background(), &out, bytes.NewReader(kit), s); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// signedTwice returns kit (signed once, by one key) with that signature
// repeated: the envelope's signature duplicated, keyid and all, and
// SHA256SUMS.sig copied to SHA256SUMS.2.sig beside it.
func signedTwice(t *testing.T, kit []byte) []byte {
	t.Helper()
	return bundletest.Rewrite(t, kit, func(es []*bundletest.Entry) []*bundletest.Entry {
		env := bundletest.Find(es, manifest.EnvelopeName)
		e, _, err := manifest.ParseEnvelope(env.Data)
		if err != nil || len(e.Signatures) != 1 {
			t.Fatalf("envelope: %v, %d signature(s)", err, len(e.Signatures))
		}
		e.Signatures = append(e.Signatures, e.Signatures[0])
		if env.Data, err = manifest.MarshalEnvelope(e); err != nil {
			t.Fatal(err)
		}
		var out []*bundletest.Entry
		for _, x := range es {
			out = append(out, x)
			if strings.HasSuffix(x.Header.Name, "/"+manifest.SumsSigName) {
				h := *x.Header
				h.Name = strings.TrimSuffix(h.Name, manifest.SumsSigName) + manifest.SumsSigNameFor(1)
				out = append(out, &bundletest.Entry{Header: &h, Data: x.Data})
			}
		}
		return out
	})
}

// checkOf returns the report's check called name, or nil.
func checkOf(rep *verify.Report, name string) *verify.Check {
	for i := range rep.Checks {
		if rep.Checks[i].Name == name {
			return &rep.Checks[i]
		}
	}
	return nil
}

// wantUntrusted checks that err refuses an intact kit as untrusted, names
// match, and that the payload was not read.
func wantUntrusted(t *testing.T, rep *verify.Report, err error, match string) {
	t.Helper()
	if !errors.Is(err, verify.ErrUntrusted) || errors.Is(err, verify.ErrNotIntact) {
		t.Fatalf("err = %v, want ErrUntrusted only", err)
	}
	if !strings.Contains(err.Error(), match) {
		t.Errorf("error %q does not mention %q", err, match)
	}
	if rep.Verified || rep.Error != err.Error() {
		t.Errorf("report: verified %v, error %q", rep.Verified, rep.Error)
	}
	if c := checkOf(rep, "payload"); c == nil || !c.Skipped || c.OK {
		t.Errorf("payload check = %+v, want skipped: an untrusted kit's payload is not read", c)
	}
}

func wantOK(t *testing.T, rep *verify.Report, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !rep.Verified || rep.Error != "" {
		t.Fatalf("report: verified %v, error %q", rep.Verified, rep.Error)
	}
	for _, c := range rep.Checks {
		if !c.OK || c.Skipped {
			t.Errorf("check %s: ok %v skipped %v: %s", c.Name, c.OK, c.Skipped, c.Detail)
		}
	}
}

func TestThreshold(t *testing.T) {
	a, b, c, d := signtest.NewKey(t, "", "a"), signtest.NewKey(t, "", "b"), signtest.NewKey(t, "", "c"), signtest.NewKey(t, "", "d")
	ab := bundletest.Kit(t, a.Signer, b.Signer)
	ad := bundletest.Kit(t, a.Signer, d.Signer)
	abc := verify.WithKeys(verifiers(a, b, c)...)

	t.Run("2 of 3", func(t *testing.T) {
		rep, err := verifyKit(ab, abc, verify.WithThreshold(2))
		wantOK(t, rep, err)
		if rep.Trust.Threshold != 2 || len(rep.Trust.Keys) != 3 ||
			!slices.Equal(rep.Trust.TrustedSigners, []string{a.Verifier.KeyID(), b.Verifier.KeyID()}) {
			t.Errorf("trust = %+v", rep.Trust)
		}
		if ch := checkOf(rep, "threshold"); ch == nil || ch.Detail != "signed by 2 distinct trusted key(s), 2 required" {
			t.Errorf("threshold check = %+v", ch)
		}
		if len(rep.Signers) != 2 || !rep.Signers[0].Trusted || !rep.Signers[1].Trusted || rep.Signers[1].SumsSignature != "SHA256SUMS.2.sig" {
			t.Errorf("signers = %+v", rep.Signers)
		}
	})
	t.Run("3 of 3 with 2 signers", func(t *testing.T) {
		rep, err := verifyKit(ab, abc, verify.WithThreshold(3))
		wantUntrusted(t, rep, err, "signed by 2 distinct trusted key(s), 3 required")
		if ch := checkOf(rep, "threshold"); ch == nil || ch.OK {
			t.Errorf("threshold check = %+v", ch)
		}
		// The signatures themselves are fine: that check passed.
		if ch := checkOf(rep, "signatures"); ch == nil || !ch.OK {
			t.Errorf("signatures check = %+v", ch)
		}
	})
	t.Run("one signer not trusted", func(t *testing.T) {
		rep, err := verifyKit(ad, abc, verify.WithThreshold(2))
		wantUntrusted(t, rep, err, "signed by 1 distinct trusted key(s), 2 required")
		if len(rep.Signers) != 2 || !rep.Signers[0].Trusted || rep.Signers[1].Trusted ||
			rep.Signers[1].KeyID != d.Verifier.KeyID() || rep.Signers[1].Problem != "not signed by any trusted key" {
			t.Errorf("signers = %+v", rep.Signers)
		}
	})
	t.Run("an untrusted extra signature does not hurt", func(t *testing.T) {
		for _, keys := range [][]*signtest.Key{{a}, {a, b, c}} {
			rep, err := verifyKit(ad, verify.WithKeys(verifiers(keys...)...))
			wantOK(t, rep, err)
			if !slices.Equal(rep.Trust.TrustedSigners, []string{a.Verifier.KeyID()}) || rep.Signers[1].Trusted {
				t.Errorf("trust %+v signers %+v", rep.Trust, rep.Signers)
			}
		}
	})
	t.Run("only untrusted signers", func(t *testing.T) {
		rep, err := verifyKit(ad, verify.WithKeys(verifiers(b, c)...))
		wantUntrusted(t, rep, err, "none of the 2 signature(s) verifies with the 2 trusted key(s)")
	})

	// One key's signatures count once, whether the second one names the
	// key or not.
	single := bundletest.Kit(t, a.Signer)
	if _, err := bundle.Sign(context.Background(), io.Discard, bytes.NewReader(single), a.Signer); !errors.Is(err, manifest.ErrAlreadySigned) {
		t.Fatalf("bundle.Sign with the same key again: err = %v, want ErrAlreadySigned", err)
	}
	twice := map[string][]byte{
		"empty keyid":     cosign(t, single, anonymous{a.Signer}),
		"same keyid":      signedTwice(t, single),
		"three, one of b": cosign(t, cosign(t, single, anonymous{a.Signer}), b.Signer),
	}
	for name, kit := range twice {
		t.Run("same key twice, "+name, func(t *testing.T) {
			// The kit is intact and each signature verifies: threshold 1 passes.
			rep, err := verifyKit(kit, abc)
			wantOK(t, rep, err)
			n := 2
			if strings.Contains(name, "three") {
				n = 3
			}
			if len(rep.Signers) != n || !rep.Signers[0].Trusted || !rep.Signers[1].Trusted || rep.Signers[1].KeyID != a.Verifier.KeyID() {
				t.Fatalf("signers = %+v", rep.Signers)
			}
			rep, err = verifyKit(kit, abc, verify.WithThreshold(n))
			wantUntrusted(t, rep, err, "required")
			if len(rep.Trust.TrustedSigners) != n-1 {
				t.Errorf("trusted signers = %v, want %d distinct", rep.Trust.TrustedSigners, n-1)
			}
		})
	}

	t.Run("bad thresholds", func(t *testing.T) {
		for _, o := range [][]verify.Option{
			{abc, verify.WithThreshold(0)},
			{abc, verify.WithThreshold(-1)},
			{abc, verify.WithThreshold(manifest.MaxSignatures + 1)},
			{abc, verify.WithThreshold(4)},
			// A key given twice is one key.
			{verify.WithKeys(verifiers(a, a, b)...), verify.WithThreshold(3)},
		} {
			rep, err := verifyKit(ab, o...)
			if err == nil || errors.Is(err, verify.ErrVerification) || rep.Verified || rep.Kit != nil {
				t.Errorf("err = %v, want a usage error before the kit is read", err)
			}
		}
		_, err := verifyKit(ab, verify.WithKeys(verifiers(a, a, b)...), verify.WithThreshold(3))
		var ce *verify.ConfigError
		if !errors.As(err, &ce) || ce.Field != "threshold" || ce.Keys != 2 || !strings.Contains(err.Error(), "the 2 distinct trusted key(s)") {
			t.Errorf("err = %v, want a ConfigError on the threshold with 2 keys", err)
		}
		// CheckOptions says the same without a kit.
		if err := verify.CheckOptions(verify.WithKeys(verifiers(a, a, b)...), verify.WithThreshold(3)); !errors.As(err, &ce) || ce.Field != "threshold" {
			t.Errorf("CheckOptions: %v", err)
		}
		if err := verify.CheckOptions(verify.WithThreshold(1)); !errors.As(err, &ce) || ce.Field != "keys" {
			t.Errorf("CheckOptions without keys: %v", err)
		}
		if err := verify.CheckOptions(verify.WithKeys(verifiers(a, b)...), verify.WithThreshold(2)); err != nil {
			t.Errorf("CheckOptions of a good configuration: %v", err)
		}
	})
}

// extractor records what Verify hands it.
type extractor struct {
	started, committed, aborted bool
	entries                     int
}

func (x *extractor) Start(*bundle.Head) error { x.started = true; return nil }
func (x *extractor) Entry(e *bundle.Entry) error {
	x.entries++
	_, err := io.Copy(io.Discard, e)
	return err
}
func (x *extractor) Commit() error { x.committed = true; return nil }
func (x *extractor) Abort()        { x.aborted = true }

// TestTrustBeforePayload checks that trust is decided on the head: a kit
// whose payload is corrupt is refused as untrusted when it is not trusted,
// and nothing reaches an extractor.
func TestTrustBeforePayload(t *testing.T) {
	a, b := signtest.NewKey(t, "", "a"), signtest.NewKey(t, "", "b")
	kit := bundletest.Kit(t, a.Signer, b.Signer)
	bad := bundletest.Rewrite(t, kit, edit("migrations/001_init.sql", func(e *bundletest.Entry) { e.Data[0] ^= 1 }))
	keys := verify.WithKeys(verifiers(a, b)...)

	x := &extractor{}
	rep, err := verifyKit(bad, keys, verify.WithThreshold(2), verify.WithName("other"), verify.WithExtractor(x))
	wantUntrusted(t, rep, err, "pinned identity")
	if x.started || x.entries > 0 || x.committed || x.aborted {
		t.Errorf("extractor used for an untrusted kit: %+v", x)
	}

	x = &extractor{}
	_, err = verifyKit(bad, keys, verify.WithThreshold(2), verify.WithExtractor(x))
	if !errors.Is(err, verify.ErrNotIntact) || !x.started || x.committed || !x.aborted {
		t.Errorf("trusted, corrupt: err %v, extractor %+v", err, x)
	}

	x = &extractor{}
	rep, err = verifyKit(kit, keys, verify.WithThreshold(2), verify.WithExtractor(x))
	wantOK(t, rep, err)
	if !x.started || !x.committed || x.aborted || x.entries == 0 {
		t.Errorf("extractor = %+v", x)
	}
}

// TestPins checks --name and --version: a validly signed kit of another
// name or version is refused, the right one accepted.
func TestPins(t *testing.T) {
	a := signtest.NewKey(t, "", "a")
	demo := bundletest.Kit(t, a.Signer)
	evil := kitOf(t, "evil", "1.2.3", a)
	newer := kitOf(t, "demo", "1.2.4", a)
	keys := verify.WithKeys(a.Verifier)

	// The substitute is intact and signed by the trusted key.
	rep, err := verifyKit(evil, keys)
	wantOK(t, rep, err)
	if checkOf(rep, "pins") != nil {
		t.Errorf("a pins check without pins: %+v", rep.Checks)
	}

	cases := []struct {
		name        string
		kit         []byte
		pinName     string
		pinVersion  string
		match       string // "": passes
		wantVersion string
	}{
		{"name matches", demo, "demo", "", "", ""},
		{"version matches", demo, "", "1.2.3", "", ""},
		{"both match", demo, "demo", "1.2.3", "", ""},
		{"another kit's name", evil, "demo", "", `pinned identity: name is "evil", pinned to "demo"`, ""},
		{"another kit's name, version matches", evil, "demo", "1.2.3", `name is "evil", pinned to "demo"`, ""},
		{"another version", newer, "demo", "1.2.3", `pinned identity: version is "1.2.4", pinned to "1.2.3"`, ""},
		{"version prefix", demo, "", "1.2", `version is "1.2.3", pinned to "1.2"`, ""},
		{"both wrong", evil, "demo", "2.0.0", `name is "evil", pinned to "demo"; version is "1.2.3", pinned to "2.0.0"`, ""},
		{"name case", demo, "Demo", "", `pinned to "Demo"`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := verifyKit(c.kit, keys, verify.WithName(c.pinName), verify.WithVersion(c.pinVersion))
			if rep.Trust.Name != c.pinName || rep.Trust.Version != c.pinVersion {
				t.Errorf("trust = %+v", rep.Trust)
			}
			ch := checkOf(rep, "pins")
			if ch == nil {
				t.Fatalf("no pins check: %+v", rep.Checks)
			}
			if c.match == "" {
				wantOK(t, rep, err)
				return
			}
			wantUntrusted(t, rep, err, c.match)
			if ch.OK || !strings.Contains(ch.Detail, c.match) {
				t.Errorf("pins check = %+v", ch)
			}
		})
	}
}

// writePolicy writes doc (after its apiVersion) as dir/policy.yaml and
// loads it.
func writePolicy(t *testing.T, dir, doc string) *policy.Policy {
	t.Helper()
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte("apiVersion: offkit.dev/policy/v1\n"+doc), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPolicy(t *testing.T) {
	dir := t.TempDir()
	a, b, c := signtest.NewKey(t, dir, "a"), signtest.NewKey(t, dir, "b"), signtest.NewKey(t, dir, "c")
	ab := bundletest.Kit(t, a.Signer, b.Signer)
	ac := bundletest.Kit(t, a.Signer, c.Signer)
	at := func(d time.Duration) verify.Option {
		return verify.WithNow(func() time.Time { return bundletest.Epoch.Add(d) })
	}

	t.Run("keys from the policy alone", func(t *testing.T) {
		p := writePolicy(t, dir, "kit:\n  name: demo\ntrust:\n  keys: [a.pub, b.pub]\n  threshold: 2\nrequire:\n  allowPending: true\n")
		rep, err := verifyKit(ab, verify.WithPolicy(p), at(time.Hour))
		wantOK(t, rep, err)
		if len(rep.Trust.Keys) != 2 || len(rep.Trust.TrustedSigners) != 2 || rep.Signers[0].Key != a.Pub {
			t.Errorf("trust %+v signers %+v", rep.Trust, rep.Signers)
		}
		pr := rep.Policy
		if pr == nil || !pr.Passed || pr.File != p.File || pr.Digest != p.Digest.String() || !strings.HasPrefix(pr.Digest, "sha256:") {
			t.Fatalf("policy report = %+v", pr)
		}
		var names []string
		for _, g := range pr.Gates {
			names = append(names, g.Name)
			if !g.OK || g.Detail == "" {
				t.Errorf("gate %+v", g)
			}
		}
		if !slices.Equal(names, []string{"kit.name", "trust.threshold"}) {
			t.Errorf("gates = %v", names)
		}
		if ch := checkOf(rep, "policy"); ch == nil || ch.Detail != "all 2 gate(s) of "+p.File+" pass" {
			t.Errorf("policy check = %+v", ch)
		}
	})

	t.Run("the policy counts only its own keys", func(t *testing.T) {
		p := writePolicy(t, dir, "trust:\n  keys: [a.pub, b.pub]\n  threshold: 2\nrequire:\n  allowPending: true\n")
		// a and c signed; --key c makes c trusted: Verify's threshold
		// (1) holds, the policy's (2 of a, b) does not.
		rep, err := verifyKit(ac, verify.WithKeys(c.Verifier), verify.WithPolicy(p), at(time.Hour))
		wantUntrusted(t, rep, err, "policy not met: trust.threshold: signed by 1 of the policy's 2 key(s), policy requires 2")
		if !errors.Is(err, policy.ErrFailed) {
			t.Errorf("err = %v, want policy.ErrFailed in its chain", err)
		}
		if len(rep.Trust.TrustedSigners) != 2 || checkOf(rep, "threshold") == nil || !checkOf(rep, "threshold").OK {
			t.Errorf("trust %+v checks %+v", rep.Trust, rep.Checks)
		}
		if rep.Policy == nil || rep.Policy.Passed || len(rep.Policy.Gates) != 1 || rep.Policy.Gates[0].OK {
			t.Errorf("policy report = %+v", rep.Policy)
		}
		// a and b signed: passes, --key c or not.
		rep, err = verifyKit(ab, verify.WithKeys(c.Verifier), verify.WithPolicy(p), at(time.Hour))
		wantOK(t, rep, err)
		// --threshold counts every trusted key: 3 (a, b, c) would need c too.
		rep, err = verifyKit(ab, verify.WithKeys(c.Verifier), verify.WithPolicy(p), verify.WithThreshold(3), at(time.Hour))
		wantUntrusted(t, rep, err, "signed by 2 distinct trusted key(s), 3 required")
	})

	t.Run("maxAge", func(t *testing.T) {
		p := writePolicy(t, dir, "kit:\n  maxAge: 30d\ntrust:\n  keys: [a.pub]\nrequire:\n  allowPending: true\n")
		for _, c := range []struct {
			age   time.Duration
			match string // "": passes
		}{
			{0, ""},
			{29 * 24 * time.Hour, ""},
			{30 * 24 * time.Hour, ""},
			{30*24*time.Hour + time.Second, "kit.maxAge: created 2023-11-14T22:13:20Z, 30d 0h 0m 1s ago; policy allows at most 30d"},
			{-time.Minute, ""}, // a clock a little behind the builder's
			{-policy.MaxSkew - time.Second, "kit.maxAge: created 2023-11-14T22:13:20Z, in the future (now 2023-11-14T22:08:19Z)"},
			{-365 * 24 * time.Hour, "in the future"},
		} {
			rep, err := verifyKit(ab, verify.WithPolicy(p), at(c.age))
			if c.match == "" {
				wantOK(t, rep, err)
				continue
			}
			wantUntrusted(t, rep, err, c.match)
		}
	})

	t.Run("what the kit carries", func(t *testing.T) {
		for _, c := range []struct {
			doc   string
			match string // "": passes
		}{
			{"require:\n  components: [{name: migrations, sbom: true}, {type: rollback}]\n  labels: {ticket: REL-1}\n  allowPending: true\n", ""},
			{"require:\n  components: [{name: rollback, type: rollback}]\n  allowPending: true\n", ""},
			{"require:\n  components: [{name: backfill}]\n  allowPending: true\n", "require.components: a component with name backfill: no such component"},
			{"require:\n  components: [{type: rollback, sbom: true}]\n  allowPending: true\n", "rollback carries no SBOM of its own"},
			{"require:\n  componentSBOMs: true\n  allowPending: true\n", "require.componentSBOMs: without an SBOM of their own: rollback"},
			{"require:\n  labels: {ticket: REL-2}\n  allowPending: true\n", `require.labels: label ticket is "REL-1", policy requires "REL-2"`},
			{"require:\n  labels: {approved: \"yes\"}\n  allowPending: true\n", `label approved is absent`},
			{"kit:\n  name: demo\n", "require.allowPending: pending placeholders, not delivered: seeds"},
			{"require:\n  components: [{name: seeds}]\n", "require.components: a component with name seeds: seeds is a pending placeholder, not delivered"},
			{"require:\n  components: [{name: seeds}]\n  allowPending: true\n", ""},
			{"kit:\n  version: 1.2.4\n  minVersion: 1.0.0\n  name: demo\nrequire:\n  allowPending: true\n", "kit.version: kit version 1.2.3, policy requires exactly 1.2.4"},
			{"kit:\n  minVersion: 1.10.0\nrequire:\n  allowPending: true\n", "kit.minVersion: kit version 1.2.3, policy requires at least 1.10.0"},
		} {
			p := writePolicy(t, dir, c.doc)
			rep, err := verifyKit(ab, verify.WithKeys(a.Verifier), verify.WithPolicy(p), at(time.Hour))
			if c.match == "" {
				wantOK(t, rep, err)
				continue
			}
			wantUntrusted(t, rep, err, c.match)
			if ch := checkOf(rep, "policy"); ch == nil || ch.OK {
				t.Errorf("%s: policy check = %+v", c.doc, ch)
			}
		}
	})

	t.Run("JSON report", func(t *testing.T) {
		p := writePolicy(t, dir, "description: the site's rules\nkit:\n  name: demo\n  maxAge: 1h\ntrust:\n  keys: [a.pub, b.pub]\n  threshold: 2\nrequire:\n  labels: {ticket: REL-1}\n")
		rep, err := verifyKit(ab, verify.WithPolicy(p), verify.WithName("demo"), at(2*time.Hour))
		wantUntrusted(t, rep, err, "kit.maxAge")
		data, jerr := json.Marshal(rep)
		if jerr != nil {
			t.Fatal(jerr)
		}
		var got struct {
			SchemaVersion string
			Verified      bool
			Checks        []map[string]any
			Signers       []map[string]any
			Trust         struct {
				Keys           []string
				Threshold      int
				TrustedSigners []string
				Name           string
			}
			Policy *struct {
				File, Digest, Description string
				Passed                    bool
				Gates                     []struct {
					Name   string
					OK     *bool
					Detail string
				}
			}
			State json.RawMessage
			Error string
		}
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		if got.SchemaVersion != verify.ReportVersion || got.Verified || got.Error == "" || len(got.Signers) != 2 ||
			got.Trust.Threshold != 1 || len(got.Trust.Keys) != 2 || len(got.Trust.TrustedSigners) != 2 || got.Trust.Name != "demo" {
			t.Errorf("report = %s", data)
		}
		if got.State != nil {
			t.Errorf("state without a state directory: %s", got.State)
		}
		var checks []string
		for _, c := range got.Checks {
			checks = append(checks, c["name"].(string))
		}
		if !slices.Equal(checks, []string{"signatures", "threshold", "metadata", "pins", "policy", "payload"}) {
			t.Errorf("checks = %v", checks)
		}
		pol := got.Policy
		if pol == nil || pol.Passed || pol.Description != "the site's rules" || pol.File != p.File || pol.Digest != p.Digest.String() {
			t.Fatalf("policy = %s", data)
		}
		want := map[string]bool{"kit.name": true, "kit.maxAge": false, "trust.threshold": true, "require.labels": true, "require.allowPending": false}
		if len(pol.Gates) != len(want) {
			t.Errorf("gates = %+v", pol.Gates)
		}
		for _, g := range pol.Gates {
			if w, ok := want[g.Name]; !ok || g.OK == nil || *g.OK != w || g.Detail == "" {
				t.Errorf("gate %s: ok %v detail %q", g.Name, g.OK, g.Detail)
			}
		}
	})
}
