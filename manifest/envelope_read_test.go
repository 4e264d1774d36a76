package manifest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// endless yields prefix, then unit forever.
type endless struct {
	prefix []byte
	unit   []byte
	n      int64 // bytes read
	off    int
}

func (e *endless) Read(p []byte) (int, error) {
	w := 0
	for w < len(p) {
		if len(e.prefix) > 0 {
			k := copy(p[w:], e.prefix)
			e.prefix = e.prefix[k:]
			w += k
			continue
		}
		k := copy(p[w:], e.unit[e.off:])
		e.off = (e.off + k) % len(e.unit)
		w += k
	}
	e.n += int64(w)
	return w, nil
}

// TestReadEnvelopeLimitsWhileReading: an envelope that never ends is
// refused at its limit, having read about that much and allocated no more
// than the payload limit.
func TestReadEnvelopeLimitsWhileReading(t *testing.T) {
	sig := `{"keyid":"k","sig":"` + base64.StdEncoding.EncodeToString(make([]byte, 70)) + `"},`
	cases := []struct {
		name    string
		r       *endless
		want    string
		maxRead int64
	}{
		{"endless payload", &endless{prefix: []byte(envStart + PayloadType + envPayload), unit: []byte("QUFB")},
			"base64 longer than", int64(base64.StdEncoding.EncodedLen(MaxStatementSize)) + 128<<10},
		{"endless signatures", &endless{prefix: []byte(envStart + PayloadType + envPayload + "e30=" + envSigs), unit: []byte(sig)},
			"more than 64 signatures", 65*int64(len(sig)) + 128<<10},
		{"endless keyid", &endless{prefix: []byte(envStart + PayloadType + envPayload + "e30=" + envSigs + envKeyID), unit: []byte("k")},
			"longer than 1024 bytes", 2048 + 128<<10},
		{"endless sig", &endless{prefix: []byte(envStart + PayloadType + envPayload + "e30=" + envSigs + envKeyID + `k","sig":"`), unit: []byte("AAAA")},
			"base64 longer than", maxSigLen + 128<<10},
		{"endless payloadType", &endless{prefix: []byte(envStart), unit: []byte("a")},
			"longer than", 1024 + 128<<10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _, err := ReadEnvelope(c.r)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ReadEnvelope = %v, want ErrMalformed mentioning %q", err, c.want)
			}
			if c.r.n > c.maxRead {
				t.Errorf("read %d bytes before refusing, want at most %d", c.r.n, c.maxRead)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > MaxStatementSize+8<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
}

func TestReadEnvelope(t *testing.T) {
	payload := bytes.Repeat([]byte("statement "), 300000) // several 1 MiB pieces
	e := NewEnvelope(payload)
	e.Signatures = []Signature{{KeyID: "SHA256:abc", Sig: "MEUCIQ=="}, {KeyID: "", Sig: "AAAA"}}
	raw, err := MarshalEnvelope(e)
	if err != nil {
		t.Fatal(err)
	}
	got, p, err := ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Bytes(), payload) || p.Len() != len(payload) || len(got.Signatures) != 2 || got.Signatures[0] != e.Signatures[0] || got.Signatures[1] != e.Signatures[1] {
		t.Fatalf("ReadEnvelope = %+v, payload of %d bytes", got.Signatures, p.Len())
	}
	want := PAE(PayloadType, payload)
	var buf bytes.Buffer
	p2 := &Payload{}
	p2.append(payload)
	p2.WriteTo(&buf)
	if !bytes.Equal(buf.Bytes(), payload) {
		t.Fatal("WriteTo")
	}
	if d, w := p2.PAEDigest(PayloadType), SHA256(want); fmt.Sprintf("%x", d) != w.Hex() {
		t.Fatalf("PAEDigest = %x, want the SHA-256 of the PAE", d)
	}
	bad := map[string]string{
		"keys reordered":   strings.Replace(string(raw), `{"payloadType":"application/vnd.in-toto+json","payload":"`, `{"payload":"`, 1),
		"space":            strings.Replace(string(raw), `,"signatures"`, `, "signatures"`, 1),
		"no newline":       strings.TrimSuffix(string(raw), "\n"),
		"CRLF":             strings.TrimSuffix(string(raw), "\n") + "\r\n",
		"escaped keyid":    strings.Replace(string(raw), `SHA256:abc`, `SHA256\u003aabc`, 1),
		"case-variant key": strings.Replace(string(raw), `"keyid"`, `"keyID"`, 1),
		"trailing":         string(raw) + "{}",
		"empty sig":        strings.Replace(string(raw), `"sig":"AAAA"`, `"sig":""`, 1),
		"url-safe payload": strings.Replace(string(raw), `"payload":"c3`, `"payload":"-3`, 1),
		"bad padding bits": strings.Replace(string(raw), `"sig":"AAAA"`, `"sig":"AB=="`, 1),
		"empty payload":    `{"payloadType":"application/vnd.in-toto+json","payload":"","signatures":[]}` + "\n",
	}
	for name, in := range bad {
		if _, _, err := ReadEnvelope(strings.NewReader(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ReadEnvelope = %v, want ErrMalformed", name, err)
		}
	}
	// A reader's own error is returned as it is, not as malformed.
	broken := io.MultiReader(bytes.NewReader(raw[:100]), errReader{})
	if _, _, err := ReadEnvelope(broken); !errors.Is(err, errBroken) {
		t.Errorf("I/O error: %v", err)
	}
}

var errBroken = errors.New("broken disk")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }
