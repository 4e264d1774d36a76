package strictjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

type envelope struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

func TestValid(t *testing.T) {
	good := []string{
		`{}`, `[]`, `0`, `-0`, `1.5e+3`, `"a"`, `true`, `null`, " \t\r\n{\"a\":[1,2,{}]} \n",
		`{"a":1,"b":2}`, `"\ud83d\ude00"`, `"é"`, `{"":1}`, `{"a":{"a":1}}`,
		`{"ß":1,"ss":2}`, // not one key under simple folding
	}
	for _, in := range good {
		if err := Valid([]byte(in)); err != nil {
			t.Errorf("Valid(%q) = %v", in, err)
		}
	}
	bad := map[string]string{
		`{"a":1,"a":2}`:                  "duplicate key",
		`{"a":1,"A":2}`:                  "duplicate key",
		`{"s":1,"ſ":2}`:                  "duplicate key", // U+017F folds to S
		`{"k":1,"\u212a":2}`:             "duplicate key", // Kelvin sign
		`{"p\u0061yload":1,"payload":2}`: "duplicate key",
		`[{"x":{"y":1,"Y":2}}]`:          "duplicate key",
		`{"a":1} x`:                      "after the JSON value",
		`{"a":1}{}`:                      "after the JSON value",
		``:                               "end of input",
		"\ufeff{}":                       "invalid character",
		`NaN`:                            "invalid character",
		`01`:                             "after the JSON value",
		`1.`:                             "invalid number",
		`-`:                              "invalid number",
		`1e`:                             "invalid number",
		`"\ud800"`:                       "lone UTF-16 high surrogate",
		`"\udc00"`:                       "lone UTF-16 low surrogate",
		`"\ud800\u0041"`:                 "not followed by a low one",
		"\"\xff\"":                       "invalid UTF-8",
		"\"\xed\xa0\x80\"":               "invalid UTF-8", // a surrogate in UTF-8
		"\"a\tb\"":                       "control character",
		`"\x"`:                           "invalid escape",
		`{"a" 1}`:                        "expected ':'",
		`{1:2}`:                          "not a string",
		`[1,]`:                           "looking for a value",
		`{"a":1,}`:                       "not a string",
		`tru`:                            "invalid literal",
		strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1): "nested deeper",
	}
	for in, want := range bad {
		err := Valid([]byte(in))
		var je *Error
		if !errors.As(err, &je) || !strings.Contains(err.Error(), want) {
			t.Errorf("Valid(%q) = %v, want an *Error mentioning %q", in, err, want)
		}
	}
	if err := Valid([]byte(strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth))); err != nil {
		t.Errorf("depth %d refused: %v", MaxDepth, err)
	}
}

func TestUnmarshalExactNames(t *testing.T) {
	cases := []struct {
		in   string
		open bool
		want string // "" to accept
	}{
		{`{"payloadType":"t","payload":"p","signatures":[]}`, false, ""},
		{`{"payloadtype":"t"}`, false, `"payloadtype" differs from the field "payloadType" only by case`},
		{`{"PAYLOAD":"x"}`, true, "only by case"}, // open schemas too
		{`{"payloadType":"t","ſignatures":[]}`, false, "only by case"},
		{`{"signatures":[{"KeyID":"k"}]}`, false, "only by case"},
		{`{"signatures":[{"keyid":"k","extra":1}]}`, false, `unknown field "extra"`},
		{`{"signatures":[{"keyid":"k","extra":1}]}`, true, ""},
		{`{"extra":{"Payload":1}}`, true, "only by case"}, // below an unknown key
		{`{"extra":{"payload":1}}`, true, ""},
		{`{"payload":"a","payload":"b"}`, false, "duplicate key"},
		{`{"payload":1}`, false, "cannot unmarshal"}, // decoder's type check
	}
	for _, c := range cases {
		var e envelope
		var opts []Option
		if c.open {
			opts = append(opts, AllowUnknownFields())
		}
		err := Unmarshal([]byte(c.in), &e, opts...)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("Unmarshal(%s) = %v", c.in, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("Unmarshal(%s) = %v, want %q", c.in, err, c.want)
		}
	}
}

func TestMapKeysAreData(t *testing.T) {
	var v struct {
		Labels map[string]string `json:"labels"`
	}
	// A label may be spelt like a field name: map keys are matched exactly.
	if err := Unmarshal([]byte(`{"labels":{"Labels":"x","labels":"y"}}`), &v); err == nil || !strings.Contains(err.Error(), "duplicate key") {
		t.Fatalf("folded duplicate map keys: %v", err)
	}
	if err := Unmarshal([]byte(`{"labels":{"Labels":"x"}}`), &v); err != nil || v.Labels["Labels"] != "x" {
		t.Fatalf("map key: %v %v", err, v)
	}
}

func TestKnownNames(t *testing.T) {
	type doc struct {
		Name string `json:"name"`
	}
	in := []byte(`{"name":"a","DocumentDescribes":[]}`)
	if err := Check(in, new(doc), AllowUnknownFields()); err != nil {
		t.Fatalf("without KnownNames: %v", err)
	}
	if err := Check(in, new(doc), AllowUnknownFields(), KnownNames("documentDescribes")); err == nil || !strings.Contains(err.Error(), "only by case") {
		t.Fatalf("with KnownNames: %v", err)
	}
}

func TestEmbeddedAndTags(t *testing.T) {
	type Inner struct {
		A string `json:"a"`
		B string
	}
	type outer struct {
		Inner
		C    string `json:"c,omitempty"`
		Skip string `json:"-"`
	}
	var v outer
	if err := Unmarshal([]byte(`{"a":"1","B":"2","c":"3"}`), &v); err != nil || v.A != "1" || v.B != "2" || v.C != "3" {
		t.Fatalf("embedded fields: %v %+v", err, v)
	}
	for _, in := range []string{`{"b":"2"}`, `{"A":"1"}`, `{"Skip":"x"}`, `{"Inner":{}}`} {
		if err := Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("Unmarshal(%s) accepted", in)
		}
	}
}

func TestCanonical(t *testing.T) {
	type doc struct {
		A string   `json:"a"`
		B []string `json:"b"`
	}
	var v doc
	if err := UnmarshalCanonical([]byte(`{"a":"<&>","b":["x"]}`), &v); err != nil {
		t.Fatalf("canonical: %v", err)
	}
	for _, in := range []string{`{"b":["x"],"a":"<&>"}`, `{"a":"<&>", "b":["x"]}`, `{"a":"\u003c&>","b":["x"]}`, "{\"a\":\"<&>\",\"b\":[\"x\"]}\n"} {
		if err := UnmarshalCanonical([]byte(in), &v); err == nil || !strings.Contains(err.Error(), "canonical") {
			t.Errorf("UnmarshalCanonical(%s) = %v", in, err)
		}
	}
}

func TestFoldMatchesEncodingJSON(t *testing.T) {
	// Every key Fold maps to a field's fold, encoding/json decodes into
	// that field: the property the scanner relies on.
	type doc struct {
		S string `json:"s"`
		K string `json:"k"`
	}
	for _, key := range []string{"S", "ſ", "K", "\u212a"} {
		var d doc
		if err := json.Unmarshal([]byte(fmt.Sprintf(`{%q:"x"}`, key)), &d); err != nil {
			t.Fatal(err)
		}
		if (d.S == "x") != (Fold(key) == Fold("s")) || (d.K == "x") != (Fold(key) == Fold("k")) {
			t.Errorf("key %q: encoding/json set %+v, Fold %q", key, d, Fold(key))
		}
	}
}

// TestCostLinear: scanning N bytes allocates in proportion to N, for the
// shapes that cost most: many small objects, one wide object, deep nesting.
func TestCostLinear(t *testing.T) {
	shapes := map[string]func(n int) []byte{
		"objects": func(n int) []byte {
			var b strings.Builder
			b.WriteString("[")
			for i := range n {
				if i > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, `{"name":"f%d","digest":{"sha256":"%064d"}}`, i, i)
			}
			b.WriteString("]")
			return []byte(b.String())
		},
		"wide": func(n int) []byte {
			var b strings.Builder
			b.WriteString("{")
			for i := range n {
				if i > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, `"Key%d":%d`, i, i)
			}
			b.WriteString("}")
			return []byte(b.String())
		},
		"deep": func(n int) []byte {
			var b strings.Builder
			b.WriteString("[")
			for i := range n {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(strings.Repeat(`{"a":`, MaxDepth-2) + "1" + strings.Repeat("}", MaxDepth-2))
			}
			b.WriteString("]")
			return []byte(b.String())
		},
	}
	for name, gen := range shapes {
		t.Run(name, func(t *testing.T) {
			per := func(n int) float64 {
				data := gen(n)
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				if err := Valid(data); err != nil {
					t.Fatal(err)
				}
				runtime.ReadMemStats(&after)
				return float64(after.TotalAlloc-before.TotalAlloc) / float64(len(data))
			}
			small, large := per(1000), per(100000)
			t.Logf("%s: %.3f bytes allocated per input byte at 1k, %.3f at 100k", name, small, large)
			if large > 2*small+1 {
				t.Errorf("allocation grows faster than the input: %.3f B/B at 1k, %.3f at 100k", small, large)
			}
		})
	}
}

func BenchmarkValidStatement(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"_type":"x","subject":[`)
	for i := range 50000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"name":"components/migrations/21-101/file-%d.sql","digest":{"sha256":"%064d"}}`, i, i)
	}
	sb.WriteString(`]}`)
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := Valid(data); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzValid: the scanner accepts only what encoding/json accepts, and
// what it accepts decodes to a value that re-encodes and scans again.
func FuzzValid(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[{"a":1}]}`, `{"a":1,"A":2}`, `"\ud83d\ude00"`, `[1.5e3,-0,true,null]`, `{"ſ":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if Valid(b) != nil {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("Valid accepts %q, which encoding/json refuses", b)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		again, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := Valid(again); err != nil {
			t.Fatalf("re-encoding of %q refused: %v", b, err)
		}
	})
}
