// Package hostile generates hostile kits: kits that offkit verify and offkit
// unpack must refuse as not intact (exit 3) before anything lands in the
// unpack directory. Each case carries one attack, and nothing else is wrong
// with it: every kit is signed by a fixed trusted test key, committed as
// testdata/hostile/trusted.key (password Password) and trusted.pub, so that
// a correct signature over the head is present and an attack is never
// "caught" merely because a kit is unsigned or its signer is not trusted.
// Where the writer would refuse to build an attack (colliding or unsafe
// paths, oversized metadata), the head is forged here, consistently, and
// signed with the same key.
//
// The kits are committed under testdata/hostile with an index,
// cases.json, and a control kit, good.tar.zst, that verifies. Regenerate
// them with
//
//	go test ./internal/hostile -run TestGenerate -update
//
// Signatures are ECDSA and so randomized: regenerating changes the bytes of
// every head, never the outcome. cmd/offkit's hostile test runs the real
// command on every committed file.
package hostile

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/bundle/bundletest"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign"
)

// Files in the test data directory besides the hostile kits.
const (
	Password = "hostile"     // of KeyFile
	KeyFile  = "trusted.key" // the trusted test key that signs every kit
	PubFile  = "trusted.pub"
	GoodFile = "good.tar.zst" // the control: an untouched kit that verifies
	Index    = "cases.json"
)

// ExitNotIntact is the exit status of offkit verify and unpack for a kit
// that is not intact or not well-formed.
const ExitNotIntact = 3

// Case is one hostile kit.
type Case struct {
	Name        string `json:"name"`
	File        string `json:"file"`
	Want        int    `json:"want"`  // exit status of offkit verify and offkit unpack
	Match       string `json:"match"` // regexp the error (stderr) must match
	Description string `json:"description"`
	// KnownBug, if set, describes how offkit currently mishandles the case:
	// tests log the failure instead of failing. Clear it once fixed.
	KnownBug string `json:"knownBug,omitempty"`
	Kit      []byte `json:"-"`
}

// IndexFile is the form of cases.json.
type IndexFile struct {
	Comment string `json:"comment"`
	Key     string `json:"trustedKey"` // public key file
	Good    string `json:"good"`       // control kit
	Cases   []Case `json:"cases"`
}

// LoadIndex reads dir/cases.json.
func LoadIndex(dir string) (*IndexFile, error) {
	b, err := os.ReadFile(filepath.Join(dir, Index))
	if err != nil {
		return nil, err
	}
	var ix IndexFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ix); err != nil {
		return nil, fmt.Errorf("%s: %w", Index, err)
	}
	return &ix, nil
}

// LoadKey loads the trusted signing key from dir.
func LoadKey(dir string) (*sign.Signer, error) {
	return sign.LoadPrivateKey(filepath.Join(dir, KeyFile), []byte(Password))
}

// Root is the root directory of every kit made here (bundletest's spec).
const Root = "demo-1.2.3"

// gen holds what the cases are made from.
type gen struct {
	t     testing.TB
	key   *sign.Signer
	kit   []byte            // the good kit, signed by key
	files map[string][]byte // its payload, by path
	head  *bundle.Head      // its head
	other *sign.Signer      // an untrusted key
	name  string            // the case being made, for messages
}

// Good returns the control kit: bundletest's kit, signed by key.
func Good(t testing.TB, key *sign.Signer) []byte {
	t.Helper()
	return bundletest.Kit(t, key)
}

// Cases makes every hostile kit, signed by key (the trusted key).
func Cases(t testing.TB, key *sign.Signer) []Case {
	t.Helper()
	g := &gen{t: t, key: key, kit: Good(t, key)}
	g.files, g.head = bundletest.Payload(t, g.kit)
	priv, _, err := sign.GenerateKeyPair([]byte("x"))
	g.must(err)
	p := filepath.Join(t.TempDir(), "other.key")
	g.must(os.WriteFile(p, priv, 0o600))
	g.other, err = sign.LoadPrivateKey(p, []byte("x"))
	g.must(err)

	var out []Case
	seen := map[string]bool{}
	for _, s := range specs() {
		if seen[s.name] {
			t.Fatalf("case %s defined twice", s.name)
		}
		seen[s.name] = true
		ext := ".tar.zst"
		switch {
		case strings.HasPrefix(s.name, "gzip-"):
			ext = ".tar.gz"
		case strings.HasPrefix(s.name, "none-"):
			ext = ".tar"
		}
		c := Case{Name: s.name, File: s.name + ext, Want: ExitNotIntact, Match: s.match, Description: s.desc, KnownBug: s.knownBug}
		g.name = s.name
		c.Kit = s.make(g)
		out = append(out, c)
	}
	return out
}

func (g *gen) must(err error) {
	g.t.Helper()
	if err != nil {
		g.t.Fatalf("%s: %v", g.name, err)
	}
}

// ---- tar and compression ----------------------------------------------

// hdr is the canonical header of a kit entry, as offkit's writer makes it.
func hdr(name string, size int64, mode string) *tar.Header {
	h := &tar.Header{Name: name, Size: size, Mode: 0o644, ModTime: bundletest.Epoch, Format: tar.FormatPAX, Typeflag: tar.TypeReg}
	switch {
	case strings.HasSuffix(name, "/"):
		h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
	case mode == manifest.ModeExec:
		h.Mode = 0o755
	}
	return h
}

type entry = bundletest.Entry

func file(name string, data []byte, mode string) *entry {
	return &entry{Header: hdr(name, int64(len(data)), mode), Data: data}
}

func dir(name string) *entry { return &entry{Header: hdr(name, 0, "")} }

// tarStream writes entries as a tar stream; with trailer, it ends with the
// end-of-archive marker.
func (g *gen) tarStream(es []*entry, trailer bool) []byte {
	g.t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range es {
		h := *e.Header
		if h.Typeflag != tar.TypeDir {
			h.Size = int64(len(e.Data))
		}
		g.must(tw.WriteHeader(&h))
		_, err := tw.Write(e.Data)
		g.must(err)
	}
	if trailer {
		g.must(tw.Close())
	} else {
		g.must(tw.Flush())
	}
	return b.Bytes()
}

// zst compresses raw as offkit does: one zstd frame per ChunkSize bytes,
// each with its content size (so a window of at most the chunk) and a
// checksum.
func zst(raw []byte) []byte {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(true), zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic(err)
	}
	var out []byte
	for len(raw) > 0 {
		n := min(len(raw), bundle.ChunkSize)
		out = enc.EncodeAll(raw[:n], out)
		raw = raw[n:]
	}
	return out
}

// entries returns the good kit's entries.
func (g *gen) entries() []*entry { return bundletest.Entries(g.t, g.kit) }

// raw returns the good kit's tar stream.
func (g *gen) raw() []byte { return bundletest.Raw(g.t, g.kit) }

// rewrite applies edit to the good kit's entries and packs them again.
func (g *gen) rewrite(edit func([]*entry) []*entry) []byte {
	return zst(g.tarStream(edit(g.entries()), true))
}

// editRaw applies edit to a copy of the good kit's tar stream.
func (g *gen) editRaw(edit func(raw []byte) []byte) []byte {
	return zst(edit(g.raw()))
}

// block returns the header block of the entry named name (relative to the
// root) in raw.
func (g *gen) block(raw []byte, name string) bundletest.Block {
	for _, b := range bundletest.Blocks(raw) {
		if b.Name == Root+"/"+name {
			return b
		}
	}
	g.t.Fatalf("%s: no entry %s", g.name, name)
	return bundletest.Block{}
}

// find returns the entry name (relative to the root) of es.
func (g *gen) find(es []*entry, name string) *entry {
	e := bundletest.Find(es, name)
	if e == nil {
		g.t.Fatalf("%s: no entry %s", g.name, name)
	}
	return e
}

// index returns the position of the entry name (relative to the root).
func index(es []*entry, name string) int {
	for i, e := range es {
		if e.Header.Name == Root+"/"+name {
			return i
		}
	}
	panic("no entry " + name)
}

// ---- forged heads -----------------------------------------------------

// forge builds a kit from a manifest and payload of its own, with a
// consistent head signed by the trusted key (or signer): the writer's
// work, without the writer's refusals. Each hook, if set, edits one thing
// on the way.
type forge struct {
	m      *manifest.Manifest
	files  map[string][]byte // payload in the tar, by path
	sboms  map[string][]byte // component SBOMs, by path
	signer manifest.Signer

	sums     func([]byte) []byte // SHA256SUMS, before it is signed
	payload  func([]byte) []byte // the statement, before it is signed
	envelope func([]byte) []byte // manifest.dsse.json, after signing
	sumsSig  func([]byte) []byte // SHA256SUMS.sig
	entries  func([]*entry) []*entry
	trailer  func([]byte) []byte // the whole tar stream
}

// forge returns a forge holding a copy of the good kit's manifest, payload
// and SBOMs.
func (g *gen) forge() *forge {
	b, err := json.Marshal(g.head.Manifest)
	g.must(err)
	var m manifest.Manifest
	g.must(json.Unmarshal(b, &m))
	f := &forge{m: &m, files: map[string][]byte{}, sboms: map[string][]byte{}, signer: g.key}
	for p, d := range g.files {
		f.files[p] = bytes.Clone(d)
	}
	for p, d := range g.head.SBOMs {
		if p != manifest.KitSBOMName {
			f.sboms[p] = bytes.Clone(d)
		}
	}
	return f
}

// add lists a file in component comp and puts it in the payload.
func (f *forge) add(comp, p string, data []byte, mode string) {
	for i := range f.m.Components {
		c := &f.m.Components[i]
		if c.Name == comp {
			c.Files = append(c.Files, manifest.File{Path: p, Size: int64(len(data)), Mode: mode, Digest: manifest.SHA256(data)})
			sort.Slice(c.Files, func(a, b int) bool { return c.Files[a].Path < c.Files[b].Path })
			f.files[p] = data
			return
		}
	}
	panic("no component " + comp)
}

// build makes the kit's tar stream.
func (f *forge) build(g *gen) []byte {
	g.t.Helper()
	ctx := context.Background()
	m := f.m
	m.FileCount, m.TotalSize = 0, 0
	modes := map[string]string{}
	for i := range m.Components {
		c := &m.Components[i]
		c.Size = 0
		for _, fl := range c.Files {
			c.Size += fl.Size
			modes[fl.Path] = fl.Mode
		}
		m.FileCount += len(c.Files)
		m.TotalSize += c.Size
		if c.SBOM != nil {
			b := f.sboms[c.SBOM.Path]
			c.SBOM.Size, c.SBOM.Digest = int64(len(b)), manifest.SHA256(b)
		}
	}
	kitSBOM, err := manifest.MarshalSBOM(manifest.KitSBOM(m))
	g.must(err)
	m.SBOM = manifest.FileRef{Path: manifest.KitSBOMName, Size: int64(len(kitSBOM)), Digest: manifest.SHA256(kitSBOM)}
	sboms := map[string][]byte{manifest.KitSBOMName: kitSBOM}
	for p, b := range f.sboms {
		sboms[p] = b
	}
	var sums manifest.Sums
	for _, c := range m.Components {
		for _, fl := range c.Files {
			sums = append(sums, manifest.Sum{Name: fl.Path, Digest: fl.Digest})
		}
	}
	for p, b := range sboms {
		sums = append(sums, manifest.Sum{Name: p, Digest: manifest.SHA256(b)})
	}
	sums.Sort()
	sumsRaw := sums.Marshal()
	if f.sums != nil {
		sumsRaw = f.sums(sumsRaw)
	}
	stmt, err := manifest.NewStatement(m, sums)
	g.must(err)
	for i := range stmt.Subject {
		if stmt.Subject[i].Name == manifest.SumsName {
			stmt.Subject[i].Digest = map[string]string{manifest.Algorithm: manifest.SHA256(sumsRaw).Hex()}
		}
	}
	payload, err := stmt.Marshal()
	g.must(err)
	if f.payload != nil {
		payload = f.payload(payload)
	}
	env := manifest.NewEnvelope(payload)
	g.must(manifest.SignEnvelope(ctx, env, f.signer))
	envRaw, err := manifest.MarshalEnvelope(env)
	g.must(err)
	if f.envelope != nil {
		envRaw = f.envelope(envRaw)
	}
	sig, err := f.signer.Sign(ctx, sumsRaw)
	g.must(err)
	sumsSig := sign.EncodeSignature(sig)
	if f.sumsSig != nil {
		sumsSig = f.sumsSig(sumsSig)
	}

	pre := Root + "/"
	es := []*entry{
		dir(pre),
		file(pre+manifest.EnvelopeName, envRaw, manifest.ModeFile),
		file(pre+manifest.SumsName, sumsRaw, manifest.ModeFile),
		file(pre+manifest.SumsSigName, sumsSig, manifest.ModeFile),
		dir(pre + manifest.SBOMDir + "/"),
	}
	var names []string
	for p := range sboms {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		es = append(es, file(pre+p, sboms[p], manifest.ModeFile))
	}
	// The payload: files and the directories they imply, sorted bytewise.
	byName := map[string]*entry{}
	for p, d := range f.files {
		mode := modes[p]
		if mode == "" {
			mode = manifest.ModeFile
		}
		byName[pre+p] = file(pre+p, d, mode)
		for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
			byName[pre+d+"/"] = dir(pre + d + "/")
		}
	}
	names = names[:0]
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		es = append(es, byName[n])
	}
	if f.entries != nil {
		es = f.entries(es)
	}
	raw := g.tarStream(es, true)
	if f.trailer != nil {
		raw = f.trailer(raw)
	}
	return raw
}

// kit builds the forged kit, zstd-compressed.
func (f *forge) kit(g *gen) []byte { return zst(f.build(g)) }

// ---- zstd frames ------------------------------------------------------

// frames returns the offsets at which the zstd frames of b start, and
// len(b).
func frames(b []byte) []int {
	var offs []int
	for off := 0; off < len(b); {
		offs = append(offs, off)
		p := off + 4
		fhd := b[p]
		p++
		single := fhd&0x20 != 0
		if !single {
			p++ // window descriptor
		}
		p += []int{0, 1, 2, 4}[fhd&3]
		fcs := []int{0, 2, 4, 8}[fhd>>6]
		if fcs == 0 && single {
			fcs = 1
		}
		p += fcs
		for {
			bh := int(b[p]) | int(b[p+1])<<8 | int(b[p+2])<<16
			p += 3
			size := bh >> 3
			if (bh>>1)&3 == 1 { // RLE
				size = 1
			}
			p += size
			if bh&1 != 0 {
				break
			}
		}
		if fhd&4 != 0 {
			p += 4
		}
		off = p
	}
	return append(offs, len(b))
}

// ---- JSON and signatures ----------------------------------------------

// statement returns the good kit's statement bytes.
func (g *gen) statement() []byte { return bytes.Clone(g.head.Payload) }

// sign returns an envelope of payload signed by s, encoded.
func (g *gen) envelope(payload []byte, s manifest.Signer) []byte {
	env := manifest.NewEnvelope(payload)
	g.must(manifest.SignEnvelope(context.Background(), env, s))
	b, err := manifest.MarshalEnvelope(env)
	g.must(err)
	return b
}

// replaceOnce replaces the one occurrence of old in b.
func (g *gen) replaceOnce(b []byte, old, repl string) []byte {
	g.t.Helper()
	if n := bytes.Count(b, []byte(old)); n != 1 {
		g.t.Fatalf("%s: %q occurs %d times, want once", g.name, old, n)
	}
	return bytes.Replace(b, []byte(old), []byte(repl), 1)
}

// withEnvelope returns the good kit with its envelope replaced by env.
func (g *gen) withEnvelope(env []byte) []byte {
	return g.rewrite(func(es []*entry) []*entry {
		g.find(es, manifest.EnvelopeName).Data = env
		return es
	})
}

// payloadB64 returns the base64 payload of an encoded envelope, and its
// offset in it.
func payloadB64(env []byte) (string, int) {
	const key = `"payload":"`
	i := bytes.Index(env, []byte(key)) + len(key)
	j := i + bytes.IndexByte(env[i:], '"')
	return string(env[i:j]), i
}

// flipInBase64 flips one bit of one character of the base64 text b64 so
// that the text stays valid base64 and exactly one byte of what it decodes
// to changes, within [from, to), from one lower-case letter to another. It
// returns the character's offset in b64 and its new value.
func flipInBase64(b64 string, from, to int) (int, byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	dec, _ := base64.StdEncoding.DecodeString(b64)
	isLower := func(c byte) bool { return c >= 'a' && c <= 'z' }
	for i := from * 4 / 3; i < len(b64); i++ {
		for bit := byte(1); bit < 0x80; bit <<= 1 {
			c := b64[i] ^ bit
			if strings.IndexByte(alphabet, c) < 0 {
				continue
			}
			d2, err := base64.StdEncoding.Strict().DecodeString(b64[:i] + string(c) + b64[i+1:])
			if err != nil || len(d2) != len(dec) {
				continue
			}
			diff := -1
			for k := range dec {
				if dec[k] != d2[k] {
					if diff != -1 {
						diff = -2
						break
					}
					diff = k
				}
			}
			if diff >= from && diff < to && isLower(dec[diff]) && isLower(d2[diff]) {
				return i, c
			}
		}
	}
	panic("no single-bit flip found")
}
