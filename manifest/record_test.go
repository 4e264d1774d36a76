package manifest_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/offkit/offkit/manifest"
)

// The known-answer vectors of the release record. OFFKIT_UPDATE_RECORD=1
// go test ./manifest -run TestRecordKnownAnswer rewrites them.
var (
	recordVector       = filepath.Join("testdata", "record", "concelier-lnm-21.101.0.release.json")
	recordSignedVector = filepath.Join("testdata", "record", "concelier-lnm-21.101.0.release.signed.json")
)

// recordInput is the fixed input of the vectors.
func recordInput() manifest.RecordInput {
	return manifest.RecordInput{
		KitFile:         "concelier-lnm-21.101.0.tar.zst",
		KitDigest:       manifest.SHA256([]byte("kit")),
		KitSize:         123456,
		ResourceURI:     "file:///srv/kits/concelier-lnm-21.101.0.tar.zst",
		VerifierVersion: "v1.2.3",
		TimeVerified:    time.Date(2026, 12, 2, 23, 20, 50, 520000000, time.FixedZone("CET", 3600)),
		Passed:          true,
		Name:            "concelier-lnm",
		Version:         "21.101.0",
		FormatVersion:   manifest.FormatVersion2,
		Statement:       manifest.SHA256([]byte("statement")),
		Threshold:       1,
		Keys: []manifest.RecordKey{
			{KeyID: "SHA256:zzz", PEM: manifest.SHA256([]byte("pem b"))},
			{KeyID: "SHA256:aaa", PEM: manifest.SHA256([]byte("pem a"))},
		},
		Signers: []string{"SHA256:aaa"},
		Images: []manifest.RecordImage{
			{Component: "app", Reference: "registry.example.org/team/app:1.0", Digest: manifest.SHA256([]byte("image"))},
		},
	}
}

// edSigner is a deterministic manifest.Signer (Ed25519), so a signed
// record has a known answer too.
type edSigner struct {
	id   string
	priv ed25519.PrivateKey
}

func newEdSigner(id string) *edSigner {
	seed := manifest.SHA256([]byte(id))
	return &edSigner{id: id, priv: ed25519.NewKeyFromSeed(seed[:])}
}

func (s *edSigner) KeyID() string { return s.id }
func (s *edSigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	return ed25519.Sign(s.priv, msg), nil
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if os.Getenv("OFFKIT_UPDATE_RECORD") == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (OFFKIT_UPDATE_RECORD=1 writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (-got +want):\n%s", path, cmp.Diff(string(got), string(want)))
	}
}

// TestRecordKnownAnswer: a fixed input gives exactly the checked-in bytes,
// unsigned and signed (Ed25519 signatures are deterministic), and the
// order of keys and signers or the zone of the time changes nothing.
func TestRecordKnownAnswer(t *testing.T) {
	in := recordInput()
	stmt, err := manifest.NewRecord(in)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, recordVector, stmt)

	in.Keys[0], in.Keys[1] = in.Keys[1], in.Keys[0]
	in.TimeVerified = in.TimeVerified.UTC().Truncate(time.Second)
	again, err := manifest.NewRecord(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, stmt) {
		t.Errorf("reordered keys or another zone give other bytes:\n%s\n%s", again, stmt)
	}

	signed, err := manifest.SignRecord(context.Background(), stmt, newEdSigner("a"), newEdSigner("b"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, recordSignedVector, signed)
}

// TestRecordRoundTrip: ParseRecord returns what NewRecord was given, for
// the unsigned and signed forms, passed and failed, with and without a
// policy file and images.
func TestRecordRoundTrip(t *testing.T) {
	failed := recordInput()
	failed.Passed, failed.Signers, failed.Images = false, nil, nil
	failed.Policy = &manifest.RecordPolicy{URI: "/etc/offkit/policy.yaml", Digest: manifest.SHA256([]byte("policy"))}
	for name, in := range map[string]manifest.RecordInput{"passed": recordInput(), "failed with policy": failed} {
		t.Run(name, func(t *testing.T) {
			stmt, err := manifest.NewRecord(in)
			if err != nil {
				t.Fatal(err)
			}
			want := in
			want.TimeVerified = in.TimeVerified.UTC().Truncate(time.Second)
			want.Keys = []manifest.RecordKey{in.Keys[1], in.Keys[0]} // sorted
			signer := newEdSigner("a")
			signed, err := manifest.SignRecord(context.Background(), stmt, signer)
			if err != nil {
				t.Fatal(err)
			}
			for form, data := range map[string][]byte{"unsigned": stmt, "signed": signed} {
				r, err := manifest.ParseRecord(data)
				if err != nil {
					t.Fatalf("%s: %v", form, err)
				}
				got := r.RecordInput
				if !got.TimeVerified.Equal(want.TimeVerified) {
					t.Errorf("%s: time %v, want %v", form, got.TimeVerified, want.TimeVerified)
				}
				got.TimeVerified = want.TimeVerified
				if diff := cmp.Diff(got, want); diff != "" {
					t.Errorf("%s: (-got +want)\n%s", form, diff)
				}
				if !bytes.Equal(r.Payload, stmt) {
					t.Errorf("%s: payload is not the statement", form)
				}
				if r.Statement.Predicate.Offkit.Name != in.Name || r.Statement.PredicateType != manifest.RecordPredicateType {
					t.Errorf("%s: decoded statement %+v", form, r.Statement)
				}
				switch {
				case form == "unsigned" && r.Envelope != nil:
					t.Errorf("unsigned: has an envelope")
				case form == "signed":
					if r.Envelope == nil || len(r.Envelope.Signatures) != 1 || r.Envelope.Signatures[0].KeyID != "a" {
						t.Fatalf("signed: envelope %+v", r.Envelope)
					}
					sig, err := manifest.SigBytes(r.Envelope, 0)
					if err != nil || !ed25519.Verify(signer.priv.Public().(ed25519.PublicKey), manifest.PAE(r.Envelope.PayloadType, r.Payload), sig) {
						t.Errorf("signed: the signature does not verify over the payload: %v", err)
					}
				}
			}
		})
	}
}

// TestNewRecordRejects: NewRecord refuses input that would make a record
// claim what was not verified, or not name what it is about.
func TestNewRecordRejects(t *testing.T) {
	for name, mut := range map[string]func(*manifest.RecordInput){
		"no kit file":         func(in *manifest.RecordInput) { in.KitFile = "" },
		"kit file is a path":  func(in *manifest.RecordInput) { in.KitFile = "a/b.tar.zst" },
		"no kit digest":       func(in *manifest.RecordInput) { in.KitDigest = manifest.Digest{} },
		"no statement digest": func(in *manifest.RecordInput) { in.Statement = manifest.Digest{} },
		"relative uri":        func(in *manifest.RecordInput) { in.ResourceURI = "kits/x.tar.zst" },
		"no time":             func(in *manifest.RecordInput) { in.TimeVerified = time.Time{} },
		"format 3":            func(in *manifest.RecordInput) { in.FormatVersion = 3 },
		"threshold 0":         func(in *manifest.RecordInput) { in.Threshold = 0 },
		"threshold over keys": func(in *manifest.RecordInput) { in.Threshold = 3 },
		"passed below threshold": func(in *manifest.RecordInput) {
			in.Threshold = 2
		},
		"signer not trusted":   func(in *manifest.RecordInput) { in.Signers = []string{"SHA256:other"} },
		"signer twice":         func(in *manifest.RecordInput) { in.Signers = []string{"SHA256:aaa", "SHA256:aaa"} },
		"key twice":            func(in *manifest.RecordInput) { in.Keys[1].KeyID = in.Keys[0].KeyID },
		"key without digest":   func(in *manifest.RecordInput) { in.Keys[0].PEM = manifest.Digest{} },
		"image without digest": func(in *manifest.RecordInput) { in.Images[0].Digest = manifest.Digest{} },
		"policy without digest": func(in *manifest.RecordInput) {
			in.Policy = &manifest.RecordPolicy{URI: "policy.yaml"}
		},
		"control character": func(in *manifest.RecordInput) { in.Name = "a\nb" },
	} {
		t.Run(name, func(t *testing.T) {
			in := recordInput()
			mut(&in)
			if _, err := manifest.NewRecord(in); !errors.Is(err, manifest.ErrMalformed) {
				t.Errorf("NewRecord: %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := manifest.SignRecord(context.Background(), []byte(`{}`), newEdSigner("a")); !errors.Is(err, manifest.ErrMalformed) {
		t.Errorf("SignRecord of a non-record: %v, want ErrMalformed", err)
	}
	stmt, _ := manifest.NewRecord(recordInput())
	if _, err := manifest.SignRecord(context.Background(), stmt); err == nil {
		t.Error("SignRecord with no signer: no error")
	}
	if _, err := manifest.SignRecord(context.Background(), stmt, newEdSigner("a"), newEdSigner("a")); !errors.Is(err, manifest.ErrAlreadySigned) {
		t.Errorf("SignRecord with one key twice: %v, want ErrAlreadySigned", err)
	}
}

// TestParseRecordRejects: hostile variants of a valid record are refused,
// each as malformed.
func TestParseRecordRejects(t *testing.T) {
	stmt, err := manifest.NewRecord(recordInput())
	if err != nil {
		t.Fatal(err)
	}
	s := string(stmt)
	replace := func(old, new string) []byte {
		t.Helper()
		if !strings.Contains(s, old) {
			t.Fatalf("the vector has no %q", old)
		}
		return []byte(strings.Replace(s, old, new, 1))
	}
	kit := manifest.SHA256([]byte("kit")).Hex()
	envelope := func(payload []byte, sigs string) []byte {
		return []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"` + base64.StdEncoding.EncodeToString(payload) + `","signatures":[` + sigs + "]}\n")
	}
	for name, data := range map[string][]byte{
		"empty":                   nil,
		"not JSON":                []byte("release"),
		"trailing newline":        append(bytes.Clone(stmt), '\n'),
		"duplicate key":           replace(`"_type":`, `"_type":"x","_type":`),
		"case-folded key":         replace(`"predicateType":`, `"predicatetype":`),
		"Kelvin-folded key":       replace(`"keyid":`, `"\u212aeyid":`),
		"unknown top field":       replace(`"_type":`, `"extra":1,"_type":`),
		"unknown predicate field": replace(`"slsaVersion":`, `"extra":1,"slsaVersion":`),
		"unknown offkit field":    replace(`"threshold":`, `"extra":1,"threshold":`),
		"wrong predicateType":     replace(manifest.RecordPredicateType, manifest.PredicateType),
		"wrong _type":             replace("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"),
		"two subjects":            replace(`"subject":[`, `"subject":[{"name":"other","digest":{"sha256":"`+kit+`"}},`),
		"no subject":              replace(`"subject":[{"name":"concelier-lnm-21.101.0.tar.zst","digest":{"sha256":"`+kit+`"}}]`, `"subject":[]`),
		"upper-case digest":       replace(kit, strings.ToUpper(kit)),
		"short digest":            replace(kit, kit[:63]),
		"second digest":           replace(`{"sha256":"`+kit+`"}`, `{"sha256":"`+kit+`","sha512":"00"}`),
		"claims SLSA level":       replace(`["OFFKIT_VERIFIED"]`, `["SLSA_BUILD_LEVEL_3"]`),
		"failed but levels":       replace(`"PASSED"`, `"FAILED"`),
		"other verifier":          replace(manifest.RecordVerifierID, "https://example.com/verifier"),
		"fractional time":         replace(`"2026-12-02T22:20:50Z"`, `"2026-12-02T22:20:50.5Z"`),
		"zoned time":              replace(`"2026-12-02T22:20:50Z"`, `"2026-12-02T23:20:50+01:00"`),
		"other spacing":           replace(`"_type":`, `"_type": `),
		"oversize":                append(bytes.Clone(stmt), bytes.Repeat([]byte(" "), manifest.MaxRecordSize)...),
		"unsigned envelope":       envelope(stmt, ""),
		"envelope of non-record":  envelope([]byte(`{"_type":"https://in-toto.io/Statement/v1"}`), `{"keyid":"a","sig":"AAAA"}`),
		"envelope other form":     bytes.Replace(envelope(stmt, `{"keyid":"a","sig":"AAAA"}`), []byte(`","payload"`), []byte(`", "payload"`), 1),
	} {
		t.Run(name, func(t *testing.T) {
			if r, err := manifest.ParseRecord(data); !errors.Is(err, manifest.ErrMalformed) {
				t.Errorf("ParseRecord: %+v, %v; want ErrMalformed", r, err)
			}
		})
	}
}

// FuzzParseRecord: an accepted record is exactly NewRecord of the values
// it returns (and SignRecord's envelope of them, when signed): nothing else
// parses.
func FuzzParseRecord(f *testing.F) {
	for _, p := range []string{recordVector, recordSignedVector} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"https://slsa.dev/verification_summary/v1","predicate":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := manifest.ParseRecord(b)
		if err != nil {
			if !errors.Is(err, manifest.ErrMalformed) {
				t.Fatalf("refused with an error that is not ErrMalformed: %v", err)
			}
			return
		}
		stmt, err := manifest.NewRecord(r.RecordInput)
		if err != nil {
			t.Fatalf("accepted a record whose values NewRecord refuses: %v", err)
		}
		if !bytes.Equal(stmt, r.Payload) {
			t.Fatalf("accepted statement %q is not NewRecord of its values %q", r.Payload, stmt)
		}
		if r.Envelope == nil {
			if !bytes.Equal(stmt, b) {
				t.Fatalf("accepted %q, which is not NewRecord's %q", b, stmt)
			}
			return
		}
		again, err := manifest.MarshalEnvelope(r.Envelope)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted envelope %q is not its own encoding %q: %v", b, again, err)
		}
	})
}
