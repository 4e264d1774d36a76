package manifest

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseSums checks that ParseSums never panics and that whatever it
// accepts marshals back to exactly the same bytes.
func FuzzParseSums(f *testing.F) {
	_, sums := testManifest()
	f.Add(sums.Marshal())
	f.Add([]byte("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSums(b)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Marshal(), b) {
			t.Fatalf("accepted %q but marshals to %q", b, s.Marshal())
		}
	})
}

// FuzzParseEnvelope checks that an accepted envelope is its own canonical
// encoding, and re-marshals and parses to the same payload.
func FuzzParseEnvelope(f *testing.F) {
	m, sums := testManifest()
	st, _ := NewStatement(m, sums)
	p, _ := st.Marshal()
	raw, _ := MarshalEnvelope(NewEnvelope(p))
	f.Add(raw)
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"k","sig":"AAAA"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, payload, err := ParseEnvelope(b)
		if err != nil {
			return
		}
		again, err := MarshalEnvelope(e)
		if err != nil {
			t.Fatal(err)
		}
		_, p2, err := ParseEnvelope(again)
		if err != nil || !bytes.Equal(p2, payload) {
			t.Fatalf("re-marshalled envelope does not parse to the same payload: %v", err)
		}
		// The grammar admits only offkit's own encoding: what it accepts is
		// exactly what offkit writes for that value, and encoding/json
		// (as every JSON parser) reads the same value from it.
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted %q, which is not its canonical encoding %q", b, again)
		}
		var std Envelope
		if err := json.Unmarshal(b, &std); err != nil || std.Payload != e.Payload || len(std.Signatures) != len(e.Signatures) {
			t.Fatalf("encoding/json reads the accepted envelope differently: %v", err)
		}
	})
}

// FuzzParseStatement checks that an accepted statement's manifest passes
// its own checks and round-trips.
func FuzzParseStatement(f *testing.F) {
	m, sums := testManifest()
	st, _ := NewStatement(m, sums)
	p, _ := st.Marshal()
	f.Add(p)
	m2, sums2 := testManifestV2()
	st2, _ := NewStatement(m2, sums2)
	p2, _ := st2.Marshal()
	f.Add(p2)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, man, err := ParseStatement(b)
		if err != nil {
			return
		}
		if err := man.Check(); err != nil {
			t.Fatalf("accepted manifest fails Check: %v", err)
		}
		enc, err := man.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseManifest(enc); err != nil {
			t.Fatalf("re-marshalled manifest is refused: %v", err)
		}
	})
}

// FuzzParseSpec checks that ParseSpec never panics and that an accepted
// spec's paths are safe.
func FuzzParseSpec(f *testing.F) {
	f.Add([]byte("name: a\nversion: 1.0.0\ncomponents:\n  - name: c\n    from: x\n    path: y\n"))
	f.Add([]byte(imageSpec))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSpec(b, "kit.yaml")
		if err != nil {
			return
		}
		for _, c := range s.Components {
			if c.IsImage() {
				if c.Path != "" || c.From != "" || c.Pending || c.Type != TypeImage {
					t.Fatalf("accepted image component %+v", c)
				}
				continue
			}
			if err := CheckPath(c.Path); err != nil {
				t.Fatalf("accepted unsafe path %q", c.Path)
			}
		}
	})
}
