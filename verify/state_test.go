package verify_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign/signtest"
	"github.com/offkit/offkit/verify"
)

// readRecord reads and strictly decodes the state's record of demo.
func readRecord(t *testing.T, dir string) (verify.Record, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r verify.Record
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("record: %v\n%s", err, data)
	}
	return r, data
}

// onlyRecords checks that dir holds the named records and the lock file,
// nothing else: no temporary file is left behind.
func onlyRecords(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	want := append([]string{".lock"}, names...)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("state directory holds %v, want %v", got, want)
	}
}

// TestState walks a site through a sequence of kits of one name.
func TestState(t *testing.T) {
	a := signtest.NewKey(t, "", "a")
	dir := t.TempDir()
	s, err := verify.OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir() != dir {
		t.Errorf("Dir = %q", s.Dir())
	}
	clock := bundletest.Epoch.Add(time.Hour)
	run := func(kit []byte, allow bool) (*verify.Report, error) {
		t.Helper()
		clock = clock.Add(time.Hour)
		return verifyKit(kit, verify.WithKeys(a.Verifier), verify.WithState(s, allow), verify.WithNow(func() time.Time { return clock }))
	}
	wantRollback := func(rep *verify.Report, err error, same bool, match string) {
		t.Helper()
		wantUntrusted(t, rep, err, match)
		var rb *verify.RollbackError
		if !errors.As(err, &rb) {
			t.Fatalf("err = %v, want a *RollbackError in its chain", err)
		}
		if rb.Name != "demo" || rb.Version != rep.Kit.Version || rb.SameVersion != same || rb.Previous == nil {
			t.Errorf("RollbackError = %+v", rb)
		}
		if ch := checkOf(rep, "rollback"); ch == nil || ch.OK {
			t.Errorf("rollback check = %+v", ch)
		}
		if checkOf(rep, "state") != nil {
			t.Errorf("a refused kit reached the state check: %+v", rep.Checks)
		}
	}
	v120 := kitOf(t, "demo", "1.2.0", a)

	// Nothing recorded: accepted, and recorded.
	if _, err := os.Stat(filepath.Join(dir, "demo.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("record before the first kit: %v", err)
	}
	rep, err := run(v120, false)
	wantOK(t, rep, err)
	if rep.State == nil || rep.State.Dir != dir || rep.State.Previous != nil || rep.State.AllowDowngrade {
		t.Errorf("state report = %+v", rep.State)
	}
	if ch := checkOf(rep, "rollback"); ch == nil || ch.Detail != "no version of this kit accepted before" {
		t.Errorf("rollback check = %+v", ch)
	}
	if ch := checkOf(rep, "state"); ch == nil || ch.Detail != "accepted version recorded in "+dir {
		t.Errorf("state check = %+v", ch)
	}
	r, first := readRecord(t, dir)
	want := verify.Record{SchemaVersion: verify.StateVersion, Name: "demo", Version: "1.2.0", Statement: rep.Kit.Statement, Accepted: clock.Format(time.RFC3339)}
	if r != want || !strings.HasPrefix(r.Statement, "sha256:") || !strings.HasSuffix(r.Accepted, "Z") {
		t.Errorf("record = %+v, want %+v", r, want)
	}
	if !bytes.HasSuffix(first, []byte("}\n")) {
		t.Errorf("record does not end in a newline: %q", first)
	}
	fi, err := os.Stat(filepath.Join(dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o600 != 0o600 || perm&0o022 != 0 {
		t.Errorf("record mode %#o: want read-write for its owner, writable by no one else", perm)
	}
	onlyRecords(t, dir, "demo.json")

	// The same kit again: accepted, the record left as it was (its time
	// too). Co-signing does not change the statement: the co-signed kit is
	// the same kit.
	b := signtest.NewKey(t, "", "b")
	for _, kit := range [][]byte{v120, cosign(t, v120, b.Signer)} {
		rep, err = run(kit, false)
		wantOK(t, rep, err)
		if rep.State.Previous == nil || *rep.State.Previous != want {
			t.Errorf("previous = %+v", rep.State.Previous)
		}
		if ch := checkOf(rep, "rollback"); ch == nil || ch.Detail != "not older than 1.2.0, the highest version accepted" {
			t.Errorf("rollback check = %+v", ch)
		}
		if _, data := readRecord(t, dir); !bytes.Equal(data, first) {
			t.Errorf("record changed by the same kit:\n%s", data)
		}
	}

	// An older kit: refused, record unchanged.
	v110 := kitOf(t, "demo", "1.1.0", a)
	rep, err = run(v110, false)
	wantRollback(rep, err, false, "rollback protection: demo 1.1.0 is older than 1.2.0, the highest version accepted on "+want.Accepted+"")
	if _, data := readRecord(t, dir); !bytes.Equal(data, first) {
		t.Errorf("record changed by a refused kit:\n%s", data)
	}

	// With allowDowngrade: accepted, the record still says 1.2.0.
	rep, err = run(v110, true)
	wantOK(t, rep, err)
	if !rep.State.AllowDowngrade || rep.State.Previous == nil || rep.State.Previous.Version != "1.2.0" {
		t.Errorf("state report = %+v", rep.State)
	}
	if ch := checkOf(rep, "rollback"); ch == nil || ch.Detail != "downgrade from 1.2.0 allowed (a deliberate rollback)" {
		t.Errorf("rollback check = %+v", ch)
	}
	if _, data := readRecord(t, dir); !bytes.Equal(data, first) {
		t.Errorf("record changed by an allowed downgrade:\n%s", data)
	}
	onlyRecords(t, dir, "demo.json")

	// A newer kit: accepted and recorded.
	v130 := kitOf(t, "demo", "1.3.0", a)
	rep, err = run(v130, false)
	wantOK(t, rep, err)
	r130, data130 := readRecord(t, dir)
	if r130.Version != "1.3.0" || r130.Statement != rep.Kit.Statement || r130.Accepted != clock.Format(time.RFC3339) {
		t.Errorf("record = %+v", r130)
	}

	// A different kit under 1.3.0: refused, with allowDowngrade accepted,
	// and the record keeps the first 1.3.0.
	other := bundletest.Build(t, specFor(t, "demo", "1.3.0", "another kit altogether"), []manifest.Signer{a.Signer})
	rep, err = run(other, false)
	wantRollback(rep, err, true, "rollback protection: demo 1.3.0 was accepted before with a different signed statement ("+r130.Statement+")")
	if rep.Kit.Statement == r130.Statement {
		t.Fatal("the other kit has the same statement")
	}
	rep, err = run(other, true)
	wantOK(t, rep, err)
	if _, data := readRecord(t, dir); !bytes.Equal(data, data130) {
		t.Errorf("record changed by another kit under the recorded version:\n%s", data)
	}

	// The record is written only once the kit is verified: a newer kit
	// whose payload does not match is refused (not intact), record
	// unchanged.
	v140 := kitOf(t, "demo", "1.4.0", a)
	bad := bundletest.Rewrite(t, v140, edit("migrations/001_init.sql", func(e *bundletest.Entry) { e.Data[0] ^= 1 }))
	rep, err = run(bad, false)
	if !errors.Is(err, verify.ErrNotIntact) || !strings.Contains(err.Error(), "digest mismatch") {
		t.Fatalf("corrupt 1.4.0: err = %v", err)
	}
	if ch := checkOf(rep, "rollback"); ch == nil || !ch.OK {
		t.Errorf("rollback check = %+v", ch)
	}
	if checkOf(rep, "state") != nil {
		t.Errorf("state check for a kit that is not intact: %+v", rep.Checks)
	}
	if _, data := readRecord(t, dir); !bytes.Equal(data, data130) {
		t.Errorf("record changed by a corrupt kit:\n%s", data)
	}

	// Prereleases sort before their release.
	rc := kitOf(t, "demo", "1.4.0-rc.1", a)
	rep, err = run(rc, false)
	wantOK(t, rep, err)
	if r, _ := readRecord(t, dir); r.Version != "1.4.0-rc.1" {
		t.Errorf("record = %+v", r)
	}
	rep, err = run(v140, false)
	wantOK(t, rep, err)
	if r, _ := readRecord(t, dir); r.Version != "1.4.0" {
		t.Errorf("record = %+v", r)
	}
	rep, err = run(rc, false)
	wantRollback(rep, err, false, "demo 1.4.0-rc.1 is older than 1.4.0")
	// 1.10.0 is newer than 1.4.0, not older (not a string comparison).
	rep, err = run(kitOf(t, "demo", "1.10.0", a), false)
	wantOK(t, rep, err)

	// Another kit name has its own record.
	rep, err = run(kitOf(t, "other", "0.1.0", a), false)
	wantOK(t, rep, err)
	if rep.State.Previous != nil {
		t.Errorf("previous = %+v", rep.State.Previous)
	}
	onlyRecords(t, dir, "demo.json", "other.json")
	if r, _ := readRecord(t, dir); r.Version != "1.10.0" {
		t.Errorf("demo record = %+v", r)
	}
}

// TestStateCorrupt checks that a state record that cannot be read is an
// operational error: neither the kit's fault (not intact) nor a refusal
// (untrusted), and nothing is overwritten.
func TestStateCorrupt(t *testing.T) {
	a := signtest.NewKey(t, "", "a")
	kit := bundletest.Kit(t, a.Signer)
	good := fmt.Sprintf(`{"schemaVersion":%q,"name":"demo","version":"1.0.0","statement":"sha256:00","accepted":"2026-01-01T00:00:00Z"}`, verify.StateVersion)
	for name, content := range map[string]string{
		"empty":          "",
		"not JSON":       "{",
		"unknown field":  strings.Replace(good, `"name"`, `"extra":1,"name"`, 1),
		"other schema":   strings.Replace(good, verify.StateVersion, "offkit.dev/state/v0", 1),
		"other name":     strings.Replace(good, `"name":"demo"`, `"name":"evil"`, 1),
		"no version":     strings.Replace(good, `"version":"1.0.0"`, `"version":""`, 1),
		"array":          "[]",
		"too large":      good + strings.Repeat(" ", 64<<10),
		"a directory":    "",
		"version number": strings.Replace(good, `"1.0.0"`, `1`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "demo.json")
			if name == "a directory" {
				if err := os.Mkdir(path, 0o755); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := verify.OpenState(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Check("demo", "2.0.0", "sha256:11", false); err == nil || errors.Is(err, verify.ErrVerification) {
				t.Errorf("Check: err = %v, want an operational error", err)
			}
			if err := s.Record("demo", "2.0.0", "sha256:11", false, time.Now()); err == nil || errors.Is(err, verify.ErrVerification) {
				t.Errorf("Record: err = %v, want an operational error", err)
			}
			rep, err := verifyKit(kit, verify.WithKeys(a.Verifier), verify.WithState(s, false))
			if err == nil || errors.Is(err, verify.ErrNotIntact) || errors.Is(err, verify.ErrUntrusted) || errors.As(err, new(*verify.RollbackError)) {
				t.Fatalf("Verify: err = %v, want an operational error", err)
			}
			if rep.Verified || !strings.HasPrefix(err.Error(), "state: ") {
				t.Errorf("report verified %v, err %v", rep.Verified, err)
			}
			if ch := checkOf(rep, "rollback"); ch == nil || ch.OK {
				t.Errorf("rollback check = %+v", ch)
			}
			if name != "a directory" {
				if data, _ := os.ReadFile(path); string(data) != content {
					t.Errorf("the state record was overwritten: %q", data)
				}
			}
		})
	}
}

func TestOpenState(t *testing.T) {
	dir := t.TempDir()
	if _, err := verify.OpenState(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "create it first") {
		t.Errorf("missing directory: err = %v", err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := verify.OpenState(file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file: err = %v", err)
	}
	// Not created by OpenState.
	if _, err := os.Stat(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenState created the directory: %v", err)
	}
}

// TestStateRecord checks Check and Record directly.
func TestStateRecord(t *testing.T) {
	dir := t.TempDir()
	s, err := verify.OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	get := func() *verify.Record {
		t.Helper()
		r, err := s.Get("demo")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if get() != nil {
		t.Fatal("a record in an empty state")
	}
	if prev, err := s.Check("demo", "1.0.0", "sha256:aa", false); prev != nil || err != nil {
		t.Fatalf("Check in an empty state = %v, %v", prev, err)
	}
	if err := s.Record("demo", "1.0.0", "sha256:aa", false, t0); err != nil {
		t.Fatal(err)
	}
	want := verify.Record{SchemaVersion: verify.StateVersion, Name: "demo", Version: "1.0.0", Statement: "sha256:aa", Accepted: "2026-01-02T02:04:05Z"}
	if r := get(); r == nil || *r != want {
		t.Fatalf("record = %+v, want %+v (the time in UTC)", r, want)
	}
	// Same version and statement, an older version, and (allowed) another
	// statement under the version: the record stands, time and all.
	for _, c := range []struct {
		version, stmt string
		allow         bool
	}{{"1.0.0", "sha256:aa", false}, {"0.9.0", "sha256:bb", false}, {"0.9.0", "sha256:bb", true}, {"1.0.0", "sha256:bb", true}, {"1.0.0-rc.1", "sha256:cc", false}, {"1.0.0+build.2", "sha256:aa", false}} {
		if err := s.Record("demo", c.version, c.stmt, c.allow, t0.Add(time.Hour)); err != nil {
			t.Errorf("Record %+v: %v", c, err)
		}
		if r := get(); *r != want {
			t.Errorf("after Record %+v: record = %+v", c, r)
		}
	}
	// Another statement under the recorded version, not allowed.
	var rb *verify.RollbackError
	if err := s.Record("demo", "1.0.0", "sha256:bb", false, t0); !errors.As(err, &rb) || !rb.SameVersion || rb.Previous.Statement != "sha256:aa" {
		t.Errorf("Record of another statement under 1.0.0: err = %v", err)
	}
	// Build metadata is ignored in precedence: 1.0.0+x is 1.0.0.
	if _, err := s.Check("demo", "1.0.0+build.2", "sha256:bb", false); !errors.As(err, &rb) || !rb.SameVersion {
		t.Errorf("Check 1.0.0+build.2 with another statement: err = %v", err)
	}
	if prev, err := s.Check("demo", "0.1.0", "sha256:bb", true); err != nil || prev == nil || *prev != want {
		t.Errorf("Check with allowDowngrade = %+v, %v", prev, err)
	}
	if _, err := s.Check("demo", "0.1.0", "sha256:bb", false); !errors.As(err, &rb) || rb.SameVersion || rb.Version != "0.1.0" || rb.Previous.Version != "1.0.0" {
		t.Errorf("Check of an older version: err = %v", err)
	}
	if err := s.Record("demo", "1.0.1", "sha256:dd", false, t0); err != nil {
		t.Fatal(err)
	}
	if r := get(); r.Version != "1.0.1" || r.Statement != "sha256:dd" {
		t.Errorf("record = %+v", r)
	}
	onlyRecords(t, dir, "demo.json")
}

// TestStateConcurrentRecord records many versions at once, in a random
// order: the highest wins, and no temporary file is left.
func TestStateConcurrentRecord(t *testing.T) {
	dir := t.TempDir()
	const n = 40
	versions := make([]string, n)
	for i := range versions {
		versions[i] = fmt.Sprintf("1.%d.0", i)
	}
	rand.Shuffle(n, func(i, j int) { versions[i], versions[j] = versions[j], versions[i] })
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, v := range versions {
		wg.Go(func() {
			// Each its own State, as separate processes would have.
			s, err := verify.OpenState(dir)
			if err == nil {
				err = s.Record("demo", v, "sha256:"+v, false, time.Now())
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	r, _ := readRecord(t, dir)
	if want := fmt.Sprintf("1.%d.0", n-1); r.Version != want || r.Statement != "sha256:"+want {
		t.Errorf("record = %+v, want %s", r, want)
	}
	onlyRecords(t, dir, "demo.json")
}

// racer records a different kit under the version being verified while the
// payload is read: another run accepting it in between the rollback check
// and the record.
type racer struct {
	extractor
	s *verify.State
}

func (x *racer) Start(h *bundle.Head) error {
	x.started = true
	return x.s.Record(h.Manifest.Name, h.Manifest.Version, "sha256:another", false, time.Now())
}

// TestStateRace checks that a kit whose version another run recorded with
// another statement since the rollback check is refused (untrusted), and
// that record stands.
func TestStateRace(t *testing.T) {
	a := signtest.NewKey(t, "", "a")
	dir := t.TempDir()
	s, err := verify.OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	x := &racer{s: s}
	rep, err := verifyKit(bundletest.Kit(t, a.Signer), verify.WithKeys(a.Verifier), verify.WithState(s, false), verify.WithExtractor(x))
	var rb *verify.RollbackError
	if !errors.Is(err, verify.ErrUntrusted) || !errors.As(err, &rb) || !rb.SameVersion {
		t.Fatalf("err = %v, want ErrUntrusted with a RollbackError", err)
	}
	if ch := checkOf(rep, "state"); ch == nil || ch.OK || rep.Verified {
		t.Errorf("state check = %+v", ch)
	}
	if r, _ := readRecord(t, dir); r.Version != "1.2.3" || r.Statement != "sha256:another" {
		t.Errorf("record = %+v", r)
	}
}
