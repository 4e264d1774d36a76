package manifest_test

// The stock-tool differential: whatever offkit accepts, Python's json
// module (which jq agrees with, FORMAT §18) must read the same way.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/internal/strictjson"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign/signtest"
)

// pyCompare is the Python side: for each line "<base64 doc> <base64 view>"
// it prints "same" when json.loads reads doc as the value view encodes
// (zero values, which encoding/json may omit or spell, dropped on both
// sides, in empty objects too), else
// "differ <both>".
const pyCompare = `
import base64, json, sys
ZERO = (None, "", 0, False, [], {}, "sha256:" + "0" * 64)  # Go's zero values as it encodes them
def norm(v):
    if isinstance(v, dict):
        v = {k: norm(x) for k, x in v.items()}
        return {k: x for k, x in v.items() if x not in ZERO}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v
for line in sys.stdin:
    doc, view = line.split()
    try:
        a = norm(json.loads(base64.b64decode(doc)))
    except Exception as e:
        print("python refuses", repr(e)); sys.stdout.flush(); continue
    b = norm(json.loads(base64.b64decode(view)))
    print("same" if a == b else "differ " + json.dumps([a, b])[:2000]); sys.stdout.flush()
`

type pyProc struct {
	mu  sync.Mutex
	in  io.WriteCloser
	out *bufio.Scanner
	err error
}

var py struct {
	once sync.Once
	p    *pyProc
}

func python(t testing.TB) *pyProc {
	py.once.Do(func() {
		p := &pyProc{}
		py.p = p
		cmd := exec.Command("python3", "-c", pyCompare)
		if p.in, p.err = cmd.StdinPipe(); p.err != nil {
			return
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			p.err = err
			return
		}
		p.out = bufio.NewScanner(out)
		p.out.Buffer(nil, 1<<20)
		p.err = cmd.Start()
	})
	if py.p.err != nil {
		t.Skipf("python3 is not available: %v", py.p.err)
	}
	return py.p
}

// compare asks Python whether doc reads as the value whose encoding/json
// encoding is view.
func (p *pyProc) compare(doc, view []byte) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.in, "%s %s\n", base64.StdEncoding.EncodeToString(doc), base64.StdEncoding.EncodeToString(view))
	if !p.out.Scan() {
		return "python exited"
	}
	return p.out.Text()
}

// keySpans returns the byte ranges of the object keys in doc (without
// quotes) and, for each, the offset just after the '{' of its object. Keys
// with escapes are included as written.
func keySpans(doc []byte) (keys [][2]int, objs []int) {
	var stack []int
	for i := 0; i < len(doc); i++ {
		switch doc[i] {
		case '{':
			stack = append(stack, i+1)
		case '[':
			stack = append(stack, -1)
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case '"':
			j := i + 1
			for j < len(doc) && doc[j] != '"' {
				if doc[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(doc) {
				return
			}
			k := j + 1
			for k < len(doc) && strings.IndexByte(" \t\r\n", doc[k]) >= 0 {
				k++
			}
			if k < len(doc) && doc[k] == ':' && len(stack) > 0 && stack[len(stack)-1] >= 0 {
				keys = append(keys, [2]int{i + 1, j})
				objs = append(objs, stack[len(stack)-1])
			}
			i = j
		}
	}
	return
}

// mutateKeys rewrites one key of doc as a case-folding attacker would: its
// case changed, a letter replaced by one that folds to it (ſ for s, the
// Kelvin sign for k), a folded duplicate inserted, a character escaped, or
// two keys of one object swapped.
func mutateKeys(doc []byte, mut uint32) []byte {
	keys, objs := keySpans(doc)
	if len(keys) == 0 {
		return doc
	}
	k := int(mut>>3) % len(keys)
	a, b := keys[k][0], keys[k][1]
	key := string(doc[a:b])
	splice := func(at, end int, s string) []byte {
		return append(append(append([]byte{}, doc[:at]...), s...), doc[end:]...)
	}
	switch mut % 6 {
	case 0: // case of one letter
		for i, r := range key {
			if unicode.IsLetter(r) {
				flip := string(unicode.ToUpper(r))
				if unicode.IsUpper(r) {
					flip = string(unicode.ToLower(r))
				}
				return splice(a, b, key[:i]+flip+key[i+len(string(r)):])
			}
		}
	case 1: // a rune that folds to an ASCII letter
		r := strings.NewReplacer("s", "ſ", "S", "ſ", "k", "\u212a", "K", "\u212a")
		return splice(a, b, r.Replace(key))
	case 2: // a folded duplicate, first in the object
		return splice(objs[k], objs[k], fmt.Sprintf(`"%s":"attacker",`, strings.ToUpper(key)))
	case 3: // an exact duplicate, first in the object
		return splice(objs[k], objs[k], fmt.Sprintf(`"%s":"attacker",`, key))
	case 4: // an escaped character
		if key != "" {
			return splice(a, b, fmt.Sprintf(`\u%04x`, key[0])+key[1:])
		}
	case 5: // the upper-cased key alone
		return splice(a, b, strings.ToUpper(key))
	}
	return doc
}

// stockSeeds are the JSON documents of a real kit.
func stockSeeds(t testing.TB) (env, stmt, pred []byte) {
	dir := t.TempDir()
	kit := bundletest.Kit(t, signtest.NewKey(t, dir, "a").Signer)
	_, head := bundletest.Payload(t, kit)
	var s struct {
		Predicate json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(head.Payload, &s); err != nil {
		t.Fatal(err)
	}
	return head.EnvelopeRaw, head.Payload, s.Predicate
}

// FuzzStockView mutates the keys (case, folding, duplicates, escapes) and
// bytes of a real kit's envelope, statement and manifest. Whenever offkit's
// reading accepts a document, Python's json module must read the same
// value from it.
func FuzzStockView(f *testing.F) {
	env, stmt, pred := stockSeeds(f)
	for _, doc := range [][]byte{env, stmt, pred} {
		for mut := range uint32(48) {
			f.Add(doc, mut)
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte, mut uint32) {
		doc = mutateKeys(doc, mut)
		p := python(t)
		check := func(what string, view any) {
			b, err := json.Marshal(view)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.compare(doc, b); got != "same" {
				t.Fatalf("%s accepted %q, but Python reads it differently: %s", what, doc, got)
			}
		}
		// offkit's entry points for each document...
		if e, payload, err := manifest.ParseEnvelope(doc); err == nil {
			check("ParseEnvelope", struct {
				PayloadType string               `json:"payloadType"`
				Payload     string               `json:"payload"`
				Signatures  []manifest.Signature `json:"signatures"`
			}{e.PayloadType, base64.StdEncoding.EncodeToString(payload), e.Signatures})
		}
		if s, _, err := manifest.ParseStatement(doc); err == nil {
			check("ParseStatement", s)
		}
		if m, err := manifest.ParseManifest(doc); err == nil {
			check("ParseManifest", m)
		}
		// ...and the shared reading itself, into each closed type.
		var s manifest.Statement
		if strictjson.Unmarshal(doc, &s) == nil {
			check("strictjson.Unmarshal(Statement)", &s)
		}
		var m manifest.Manifest
		if strictjson.Unmarshal(doc, &m) == nil {
			check("strictjson.Unmarshal(Manifest)", &m)
		}
		var e manifest.Envelope
		if strictjson.Unmarshal(doc, &e) == nil {
			check("strictjson.Unmarshal(Envelope)", &e)
		}
	})
}

// TestStockViewDifferential is the attack the review found, checked in
// both directions: encoding/json alone reads a case-variant key into a
// field that Python does not see; offkit's reading refuses it.
func TestStockViewDifferential(t *testing.T) {
	p := python(t)
	_, stmt, _ := stockSeeds(t)
	evil := bytes.Replace(stmt, []byte(`"predicateType"`), []byte(`"predicateTyPe"`), 1)
	var naive manifest.Statement
	if err := json.Unmarshal(evil, &naive); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(&naive)
	if got := p.compare(evil, b); got == "same" {
		t.Fatalf("encoding/json and Python agree on a case-variant key: the differential this test guards is gone")
	}
	var strict manifest.Statement
	if err := strictjson.Unmarshal(evil, &strict); err == nil || !strings.Contains(err.Error(), "only by case") {
		t.Fatalf("strictjson accepted a case-variant key: %v", err)
	}
	if _, _, err := manifest.ParseStatement(evil); err == nil {
		t.Fatal("ParseStatement accepted a case-variant key")
	}
	// The comparison is not vacuous: the genuine documents are accepted and
	// read alike.
	env, _, pred := stockSeeds(t)
	if e, payload, err := manifest.ParseEnvelope(env); err != nil {
		t.Fatal(err)
	} else if b, _ := json.Marshal(struct {
		PayloadType string               `json:"payloadType"`
		Payload     string               `json:"payload"`
		Signatures  []manifest.Signature `json:"signatures"`
	}{e.PayloadType, base64.StdEncoding.EncodeToString(payload), e.Signatures}); p.compare(env, b) != "same" {
		t.Fatalf("the genuine envelope reads differently: %s", p.compare(env, b))
	}
	for _, doc := range [][]byte{stmt, pred} {
		var s manifest.Statement
		var m manifest.Manifest
		var view any = &s
		if err := strictjson.Unmarshal(doc, &s); err != nil {
			if err := strictjson.Unmarshal(doc, &m); err != nil {
				t.Fatalf("genuine document refused: %v", err)
			}
			view = &m
		}
		b, _ := json.Marshal(view)
		if got := p.compare(doc, b); got != "same" {
			t.Fatalf("genuine document reads differently: %s", got)
		}
	}
}
