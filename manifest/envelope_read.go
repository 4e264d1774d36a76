package manifest

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

// Parts of the one form offkit writes manifest.dsse.json in: Go's compact
// encoding of a dsse.Envelope, then a newline (docs/FORMAT.md §9).
const (
	envStart   = `{"payloadType":"`
	envPayload = `","payload":"`
	envSigs    = `","signatures":[`
	envKeyID   = `{"keyid":"`
	envSig     = `","sig":"`
	envSigEnd  = `"}`
	envEnd     = "]}\n"
	maxKeyID   = 1024 // bytes of one signature's keyid
	maxPayload = MaxStatementSize
)

// Payload is a DSSE payload as read from an envelope: the statement's
// bytes, held in pieces so that reading a large one never needs a second
// contiguous copy before its signatures are checked.
type Payload struct {
	chunks [][]byte
	n      int
	joined []byte
}

const payloadChunk = 1 << 20

func (p *Payload) append(b []byte) {
	for len(b) > 0 {
		if len(p.chunks) == 0 || len(p.chunks[len(p.chunks)-1]) == payloadChunk {
			p.chunks = append(p.chunks, make([]byte, 0, payloadChunk))
		}
		c := &p.chunks[len(p.chunks)-1]
		k := min(len(b), payloadChunk-len(*c))
		*c = append(*c, b[:k]...)
		b = b[k:]
		p.n += k
	}
}

// Len returns the payload's length in bytes.
func (p *Payload) Len() int { return p.n }

// PAEDigest returns the SHA-256 of the payload's DSSE pre-authentication
// encoding: what an ECDSA or RSA signature over the envelope signs.
func (p *Payload) PAEDigest(payloadType string) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "DSSEv1 %d %s %d ", len(payloadType), payloadType, p.n)
	p.WriteTo(h)
	return h.Sum(nil)
}

// WriteTo writes the payload to w.
func (p *Payload) WriteTo(w io.Writer) (int64, error) {
	if p.joined != nil {
		n, err := w.Write(p.joined)
		return int64(n), err
	}
	var n int64
	for _, c := range p.chunks {
		k, err := w.Write(c)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Bytes returns the payload in one slice, joining its pieces the first
// time it is called.
func (p *Payload) Bytes() []byte {
	if p.joined == nil {
		p.joined = make([]byte, 0, p.n)
		for i, c := range p.chunks {
			p.joined = append(p.joined, c...)
			p.chunks[i] = nil // collectable as soon as it is copied
		}
		p.chunks = nil
	}
	return p.joined
}

// ReadEnvelope reads manifest.dsse.json from r as a stream and returns its
// signatures and its decoded payload. The envelope's Payload field is left
// empty: the payload is returned decoded, and may be up to
// MaxStatementSize bytes.
//
// Only the form offkit writes is accepted, byte for byte: Go's compact
// encoding of the envelope's three fields in order, payloadType
// application/vnd.in-toto+json, standard padded base64, at most
// MaxSignatures signatures, each a keyid of printable ASCII (no quote or
// backslash) and a standard base64 sig of at most 16 KiB, then one
// newline. Every other spelling of the same JSON value is refused, so the
// envelope means the same thing to every JSON parser, and the limits hold
// while reading: memory is the payload's size, never what the input
// claims.
func ReadEnvelope(r io.Reader) (*Envelope, *Payload, error) {
	er := envReader{r: bufio.NewReaderSize(r, 64<<10)}
	e, p, err := er.read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", EnvelopeName, err)
	}
	return e, p, nil
}

type envReader struct {
	r   *bufio.Reader
	off int64
}

func (er *envReader) fail(format string, args ...any) error {
	return malformed("byte %d: %s (offkit reads envelopes only in the form it writes, docs/FORMAT.md §9)", er.off, fmt.Sprintf(format, args...))
}

func (er *envReader) ioErr(err error) error {
	if errors.Is(err, io.EOF) {
		return er.fail("unexpected end")
	}
	return err
}

// expect reads lit exactly.
func (er *envReader) expect(lit string) error {
	for i := 0; i < len(lit); i++ {
		c, err := er.r.ReadByte()
		if err != nil {
			return er.ioErr(err)
		}
		if c != lit[i] {
			return er.fail("found %q where %q belongs", c, lit[i:])
		}
		er.off++
	}
	return nil
}

func isB64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}

// base64 reads standard padded base64 up to the closing quote, at most
// max characters, decoding it into emit in large blocks.
func (er *envReader) base64(max int, emit func([]byte)) (int, error) {
	var quad [4 << 10]byte // base64 not yet decoded: a multiple of 4 when flushed
	var out [3 << 10]byte
	nq, total, pad := 0, 0, 0
	flush := func() error {
		n, err := base64.StdEncoding.Strict().Decode(out[:], quad[:nq])
		if err != nil {
			return er.fail("bad base64: %v", err)
		}
		emit(out[:n])
		nq = 0
		return nil
	}
	for {
		if _, err := er.r.Peek(1); err != nil {
			return 0, er.ioErr(err)
		}
		avail := er.r.Buffered()
		chunk, _ := er.r.Peek(avail)
		i := 0
		for ; i < len(chunk); i++ {
			c := chunk[i]
			switch {
			case c == '"':
				er.r.Discard(i)
				er.off += int64(i)
				if total%4 != 0 {
					return 0, er.fail("base64 length %d is not a multiple of 4", total)
				}
				if nq > 0 {
					if err := flush(); err != nil {
						return 0, err
					}
				}
				return total, nil
			case c == '=':
				if pad++; pad > 2 {
					return 0, er.fail("bad base64 padding")
				}
			case isB64(c) && pad == 0:
			default:
				return 0, er.fail("character %q in base64", c)
			}
			if total++; total > max {
				return 0, er.fail("base64 longer than %d characters", max)
			}
			quad[nq] = c
			if nq++; nq == len(quad) {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
		er.r.Discard(i)
		er.off += int64(i)
	}
}

// text reads a string of printable ASCII without escapes (a payloadType
// or keyid) up to its closing quote.
func (er *envReader) text(max int) (string, error) {
	var b []byte
	for {
		c, err := er.r.ReadByte()
		if err != nil {
			return "", er.ioErr(err)
		}
		if c == '"' {
			er.r.UnreadByte()
			return string(b), nil
		}
		if c < 0x20 || c > 0x7e || c == '\\' {
			return "", er.fail("character %q is not printable ASCII without escapes", c)
		}
		if len(b) == max {
			return "", er.fail("string longer than %d bytes", max)
		}
		b = append(b, c)
		er.off++
	}
}

func (er *envReader) read() (*Envelope, *Payload, error) {
	if err := er.expect(envStart); err != nil {
		return nil, nil, err
	}
	if pt, err := er.text(len(PayloadType) + 64); err != nil {
		return nil, nil, err
	} else if pt != PayloadType {
		return nil, nil, malformed("payloadType %q is not %q", pt, PayloadType)
	}
	if err := er.expect(envPayload); err != nil {
		return nil, nil, err
	}
	p := &Payload{}
	if _, err := er.base64(base64.StdEncoding.EncodedLen(maxPayload), p.append); err != nil {
		return nil, nil, err
	}
	if p.n == 0 {
		return nil, nil, er.fail("empty payload")
	}
	if err := er.expect(envSigs); err != nil {
		return nil, nil, err
	}
	e := &Envelope{PayloadType: PayloadType, Signatures: []Signature{}}
	if c, err := er.r.Peek(1); err != nil {
		return nil, nil, er.ioErr(err)
	} else if c[0] != ']' {
		for {
			if len(e.Signatures) == MaxSignatures {
				return nil, nil, er.fail("more than %d signatures", MaxSignatures)
			}
			if err := er.expect(envKeyID); err != nil {
				return nil, nil, err
			}
			id, err := er.text(maxKeyID)
			if err != nil {
				return nil, nil, err
			}
			if err := er.expect(envSig); err != nil {
				return nil, nil, err
			}
			var sig []byte
			n, err := er.base64(maxSigLen, func(b []byte) { sig = append(sig, b...) })
			if err != nil {
				return nil, nil, err
			}
			if n == 0 {
				return nil, nil, er.fail("signature %d is empty", len(e.Signatures)+1)
			}
			e.Signatures = append(e.Signatures, Signature{KeyID: id, Sig: base64.StdEncoding.EncodeToString(sig)})
			if err := er.expect(envSigEnd); err != nil {
				return nil, nil, err
			}
			c, err := er.r.Peek(1)
			if err != nil {
				return nil, nil, er.ioErr(err)
			}
			if c[0] != ',' {
				break
			}
			er.expect(",")
		}
	}
	if err := er.expect(envEnd); err != nil {
		return nil, nil, err
	}
	if _, err := er.r.ReadByte(); err == nil {
		return nil, nil, er.fail("data after the envelope")
	} else if !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	return e, p, nil
}
