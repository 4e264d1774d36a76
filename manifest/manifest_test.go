package manifest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/offkit/offkit/internal/strictjson"
)

func TestDigestKnownAnswer(t *testing.T) {
	// FIPS 180-2 test vector.
	const want = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	d := SHA256([]byte("abc"))
	if d.String() != want {
		t.Fatalf("SHA256(abc) = %s, want %s", d, want)
	}
	back, err := ParseDigest(want)
	if err != nil || back != d {
		t.Fatalf("ParseDigest(%q) = %v, %v", want, back, err)
	}
	for _, bad := range []string{"", "sha256:", "sha512:" + want[7:], "sha256:" + strings.ToUpper(want[7:]), want + "0", want[:70]} {
		if _, err := ParseDigest(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseDigest(%q) err = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestPAEKnownAnswer(t *testing.T) {
	// The example of the DSSE protocol specification.
	got := string(PAE("http://example.com/HelloWorld", []byte("hello world")))
	want := "DSSEv1 29 http://example.com/HelloWorld 11 hello world"
	if got != want {
		t.Fatalf("PAE = %q, want %q", got, want)
	}
}

func TestSumsMarshalKnownAnswer(t *testing.T) {
	s := Sums{{Name: "b/x", Digest: SHA256([]byte("abc"))}, {Name: "a", Digest: SHA256(nil)}}
	s.Sort()
	want := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a\n" +
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  b/x\n"
	if got := string(s.Marshal()); got != want {
		t.Fatalf("Marshal:\n%s\nwant:\n%s", got, want)
	}
	back, err := ParseSums([]byte(want))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Marshal(), []byte(want)) {
		t.Fatal("round trip changed SHA256SUMS")
	}
}

func TestParseSumsRejects(t *testing.T) {
	h := SHA256([]byte("abc")).Hex()
	cases := map[string]string{
		"empty":            "",
		"no final newline": h + "  a",
		"binary marker":    h + " *a\n",
		"one space":        h + " a\n",
		"upper hex":        strings.ToUpper(h) + "  a\n",
		"short hex":        h[1:] + "  a\n",
		"blank line":       h + "  a\n\n",
		"unsorted":         h + "  b\n" + h + "  a\n",
		"duplicate":        h + "  a\n" + h + "  a\n",
		"dotdot":           h + "  ../a\n",
		"absolute":         h + "  /etc/passwd\n",
		"escaped":          "\\" + h + "  a\\nb\n",
		"lists itself":     h + "  SHA256SUMS\n",
		"lists signature":  h + "  SHA256SUMS.sig\n",
		"lists envelope":   h + "  manifest.dsse.json\n",
		"CR line ending":   h + "  a\r\n",
		"bsd style":        "SHA256 (a) = " + h + "\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseSums([]byte(in)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseSums(%q) err = %v, want ErrMalformed", in, err)
			}
		})
	}
}

func TestCheckPath(t *testing.T) {
	ok := []string{"a", "a/b.txt", "migrations/21-101/001.js", "données/é.sql", strings.Repeat("a", 255)}
	for _, p := range ok {
		if err := CheckPath(p); err != nil {
			t.Errorf("CheckPath(%q) = %v, want nil", p, err)
		}
	}
	bad := []string{"", "/a", "a/", "a//b", "./a", "a/./b", "..", "a/../b", "a\\b", "a\x00b", "a\nb", "a\x7fb",
		"e\u0301", // NFD: e + combining acute
		string([]byte{0xff}), strings.Repeat("a", 256), strings.Repeat("a/", 2049) + "a"}
	for _, p := range bad {
		if err := CheckPath(p); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("CheckPath(%q) = %v, want ErrUnsafePath", p, err)
		}
	}
	if FoldKey("Straße/É") != FoldKey("STRASSE/é") && FoldKey("A/B") != FoldKey("a/b") {
		t.Error("FoldKey does not fold case")
	}
}

func TestReservedAndSignatureNames(t *testing.T) {
	for _, p := range []string{"sbom", "SBOM/x", "SHA256SUMS", "sha256sums.sig", "SHA256SUMS.2.sig", "x.sig", "manifest.dsse.json", "a.sigstore.json",
		"SHA256SUMS/x", "manifest.dsse.json/y", "SHA256SUMS.sig/z"} {
		if !IsReservedPath(p) {
			t.Errorf("IsReservedPath(%q) = false", p)
		}
	}
	for _, p := range []string{"migrations/x.sig", "data", "sbomx/a", "docs/SHA256SUMS"} {
		if IsReservedPath(p) {
			t.Errorf("IsReservedPath(%q) = true", p)
		}
	}
	for i := range 12 {
		n := SumsSigNameFor(i)
		if j, ok := SumsSigIndex(n); !ok || j != i {
			t.Errorf("SumsSigIndex(%q) = %d, %v; want %d", n, j, ok, i)
		}
	}
	for _, n := range []string{"SHA256SUMS.1.sig", "SHA256SUMS.02.sig", "SHA256SUMS..sig", "SHA256SUMS.x.sig", "SHA256SUMS.sig.sig"} {
		if _, ok := SumsSigIndex(n); ok {
			t.Errorf("SumsSigIndex(%q) accepted", n)
		}
	}
}

func TestParseSpec(t *testing.T) {
	const good = `name: concelier-lnm
version: 21.101.0
components:
  - name: migrations-21-101
    type: migrations
    from: src/m
    path: migrations/21-101
  - name: seeds
    type: seeds
    path: seeds/object-store
    pending: true
`
	s, err := ParseSpec([]byte(good), "kit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Root() != "concelier-lnm-21.101.0" || len(s.Components) != 2 || !s.Components[1].Pending || s.Components[0].Type != TypeMigrations {
		t.Fatalf("parsed %+v", s)
	}
	cases := []struct {
		name, yaml, field string
		line              int
	}{
		{"bad name", strings.Replace(good, "concelier-lnm", "Concelier", 1), "name", 1},
		{"version not semver", strings.Replace(good, "21.101.0", "one", 1), "version", 2},
		{"version is a number", strings.Replace(good, "21.101.0", "1.0", 1), "version", 2},
		{"dotdot path", strings.Replace(good, "path: migrations/21-101", "path: ../x", 1), "components[0].path", 7},
		{"absolute from", strings.Replace(good, "from: src/m", "from: /etc", 1), "components[0].from", 6},
		{"unknown field", good + "colour: red\n", "", 0},
		{"duplicate name", strings.Replace(good, "name: seeds", "name: migrations-21-101", 1), "components[1].name", 8},
		{"overlapping path", strings.Replace(good, "path: seeds/object-store", "path: migrations/21-101/x", 1), "components[1].path", 10},
		{"reserved path", strings.Replace(good, "path: seeds/object-store", "path: SHA256SUMS", 1), "components[1].path", 10},
		{"pending with from", strings.Replace(good, "pending: true", "pending: true\n    from: src/x", 1), "components[1]", 0},
		{"no from", strings.Replace(good, "    from: src/m\n", "", 1), "components[0]", 0},
		{"unknown type", strings.Replace(good, "type: seeds", "type: magic", 1), "components[1].type", 9},
		{"duplicate key", strings.Replace(good, "version: 21.101.0", "version: 21.101.0\nversion: 21.101.1", 1), "", 0},
		{"two documents", good + "---\nname: x\n", "", 0},
		{"not yaml", "name: [", "", 0},
		// The schema would check "Li4vZXZpbA==" and the decoder yield "../evil".
		{"binary path", strings.Replace(good, "path: migrations/21-101", "path: !!binary Li4vZXZpbA==", 1), "", 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSpec([]byte(c.yaml), "kit.yaml")
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want a *FieldError wrapping ErrMalformed", err)
			}
			if c.field != "" && fe.Field != c.field {
				t.Errorf("field = %q, want %q (%v)", fe.Field, c.field, err)
			}
			if c.line != 0 && fe.Line != c.line {
				t.Errorf("line = %d, want %d (%v)", fe.Line, c.line, err)
			}
			if !strings.HasPrefix(err.Error(), "kit.yaml") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func testManifest() (*Manifest, Sums) {
	f := File{Path: "m/a.sql", Size: 3, Mode: ModeFile, Digest: SHA256([]byte("abc"))}
	m := &Manifest{
		FormatVersion: 1, Name: "demo", Version: "1.0.0", Created: "2023-11-14T22:13:20Z",
		Tool:       Tool{Name: "offkit", Version: "test"},
		Components: []Component{{Name: "m", Type: TypeMigrations, Path: "m", Size: 3, Files: []File{f}}},
		FileCount:  1, TotalSize: 3,
	}
	sbom, _ := MarshalSBOM(KitSBOM(m))
	m.SBOM = FileRef{Path: KitSBOMName, Size: int64(len(sbom)), Digest: SHA256(sbom)}
	sums := Sums{{Name: f.Path, Digest: f.Digest}, {Name: KitSBOMName, Digest: m.SBOM.Digest}}
	sums.Sort()
	return m, sums
}

func TestStatementRoundTrip(t *testing.T) {
	m, sums := testManifest()
	st, err := NewStatement(m, sums)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	st2, m2, err := ParseStatement(payload)
	if err != nil {
		t.Fatal(err)
	}
	subj, _ := st2.Subjects()
	if len(subj) != 3 || subj[SumsName] != SHA256(sums.Marshal()) || subj["m/a.sql"] != SHA256([]byte("abc")) {
		t.Fatalf("subjects = %v", subj)
	}
	if again, _ := m2.Marshal(); !bytes.Equal(again, st.Predicate) {
		t.Fatal("manifest does not round-trip byte for byte")
	}
	env := NewEnvelope(payload)
	raw, err := MarshalEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, p, err := ParseEnvelope(raw); err != nil || !bytes.Equal(p, payload) {
		t.Fatalf("ParseEnvelope: %v", err)
	}
}

func TestParseStatementRejects(t *testing.T) {
	m, sums := testManifest()
	st, _ := NewStatement(m, sums)
	good, _ := st.Marshal()
	mutate := map[string]func(string) string{
		"wrong _type": func(s string) string {
			return strings.Replace(s, StatementType, "https://in-toto.io/Statement/v0.1", 1)
		},
		"wrong predicateType": func(s string) string { return strings.Replace(s, PredicateType, "https://slsa.dev/provenance/v1", 1) },
		"duplicate key":       func(s string) string { return strings.Replace(s, `{"_type"`, `{"predicateType":"x","_type"`, 1) },
		"unknown field":       func(s string) string { return strings.Replace(s, `{"_type"`, `{"extra":1,"_type"`, 1) },
		"bad mode":            func(s string) string { return strings.Replace(s, `"mode":"0644"`, `"mode":"4755"`, 1) },
		"file outside":        func(s string) string { return strings.Replace(s, `"path":"m/a.sql"`, `"path":"x/a.sql"`, 1) },
		"dotdot file":         func(s string) string { return strings.Replace(s, `"path":"m/a.sql"`, `"path":"m/../../a"`, 1) },
		"wrong totals":        func(s string) string { return strings.Replace(s, `"totalSize":3`, `"totalSize":4`, 1) },
		"format version 2":    func(s string) string { return strings.Replace(s, `"formatVersion":1`, `"formatVersion":2`, 1) },
		"trailing data":       func(s string) string { return s + "{}" },
		"two digests": func(s string) string {
			return strings.Replace(s, `"digest":{"sha256"`, `"digest":{"sha512":"00","sha256"`, 1)
		},
	}
	for name, f := range mutate {
		t.Run(name, func(t *testing.T) {
			in := f(string(good))
			if in == string(good) {
				t.Fatal("mutation did not apply")
			}
			if _, _, err := ParseStatement([]byte(in)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestParseEnvelopeRejects(t *testing.T) {
	p := base64.StdEncoding.EncodeToString([]byte("{}"))
	cases := map[string]string{
		"wrong payloadType": `{"payloadType":"text/plain","payload":"` + p + `","signatures":[]}`,
		"duplicate payload": `{"payloadType":"application/vnd.in-toto+json","payload":"` + p + `","payload":"e30=","signatures":[]}`,
		"unknown field":     `{"payloadType":"application/vnd.in-toto+json","payload":"` + p + `","signatures":[],"x":1}`,
		"url base64":        `{"payloadType":"application/vnd.in-toto+json","payload":"_-8","signatures":[]}`,
		"bad sig base64":    `{"payloadType":"application/vnd.in-toto+json","payload":"` + p + `","signatures":[{"keyid":"","sig":"!!"}]}`,
		"empty sig":         `{"payloadType":"application/vnd.in-toto+json","payload":"` + p + `","signatures":[{"keyid":"","sig":""}]}`,
		"not json":          `{"payloadType":`,
		"deep":              strings.Repeat("[", 100) + strings.Repeat("]", 100),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, _, err := ParseEnvelope([]byte(in)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestKitSBOMAgrees(t *testing.T) {
	m, sums := testManifest()
	raw, err := MarshalSBOM(KitSBOM(m))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ParseSBOM(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckKitSBOM(doc, m, sums); err != nil {
		t.Fatal(err)
	}
	if doc.CreationInfo.Created != m.Created || !strings.HasPrefix(doc.DocumentNamespace, NamespacePrefix+"demo-1.0.0-") {
		t.Fatalf("created %q namespace %q", doc.CreationInfo.Created, doc.DocumentNamespace)
	}
	again, _ := MarshalSBOM(KitSBOM(m))
	if !bytes.Equal(raw, again) {
		t.Fatal("KitSBOM is not deterministic")
	}
	sums[0].Digest = SHA256([]byte("other"))
	if err := CheckKitSBOM(doc, m, sums); !errors.Is(err, ErrMalformed) {
		t.Fatalf("CheckKitSBOM with a changed digest: %v", err)
	}
}

func TestCheckJSON(t *testing.T) {
	ok := []string{`{}`, `[]`, `{"a":1,"b":{"a":2}}`, `[{"a":1},{"a":1}]`, `{"a":"x\"y","b":"\\"}`, `{"k":"a:b","v":":"}`, `"s"`, `{"a\u0062":1,"ab ":2}`}
	for _, in := range ok {
		if err := checkJSON([]byte(in)); err != nil {
			t.Errorf("checkJSON(%s) = %v", in, err)
		}
	}
	bad := []string{`{"a":1,"a":2}`, `{"a":{"b":1,"b":1}}`, `[{"x":[{"a":1,"a":1}]}]`, `{"ab":1,"a\u0062":2}`, `{"a" : 1, "a" : 2}`,
		strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1), `{"a":"unterminated}`}
	for _, in := range bad {
		if err := checkJSON([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("checkJSON(%s) = %v, want ErrMalformed", in, err)
		}
	}
	// Many keys: linear scan becomes a set; duplicates still found.
	var b strings.Builder
	b.WriteString("{")
	for i := range 100 {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	b.WriteString(`"k42":0}`)
	if err := checkJSON([]byte(b.String())); !errors.Is(err, ErrMalformed) {
		t.Errorf("duplicate among 100 keys: %v", err)
	}
	var v struct{ A int }
	if err := unmarshalStrict([]byte(`{"A":1} {"A":2}`), &v); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing value accepted: %v", err)
	}
	if err := unmarshalStrict([]byte("{\"A\":1} \n"), &v); err != nil || v.A != 1 {
		t.Errorf("trailing white space refused: %v", err)
	}
}

// FuzzCheckJSON compares the fast duplicate-key scan with a decoder-based
// reference on valid JSON.
func FuzzCheckJSON(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[{"a":1}]}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		err := checkJSON(b)
		// The reference reads what encoding/json reads; the strict reading
		// also refuses invalid UTF-8 and lone surrogates, which it replaces.
		if !json.Valid(b) || !utf8.Valid(b) || bytes.Contains(bytes.ToLower(b), []byte(`\ud`)) {
			return
		}
		want := refDupCheck(json.NewDecoder(bytes.NewReader(b)), 0)
		if (err == nil) != (want == nil) {
			t.Fatalf("checkJSON(%q) = %v, reference %v", b, err, want)
		}
	})
}

func refDupCheck(dec *json.Decoder, depth int) error {
	if depth > MaxJSONDepth {
		return errors.New("deep")
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	for dec.More() {
		if d == '{' {
			kt, _ := dec.Token()
			k := strictjson.Fold(kt.(string)) // as encoding/json matches names
			if seen[k] {
				return errors.New("dup")
			}
			seen[k] = true
		}
		if err := refDupCheck(dec, depth+1); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return err
}
