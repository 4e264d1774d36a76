package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/sign"
)

// The limits of docs/FORMAT.md §15, as the format states them. They are
// spelled out here rather than taken from the manifest and bundle packages
// so that a change of the code's limits does not silently change the kits
// this program writes: the kits model the format, not the implementation.
const (
	MiB             = 1 << 20
	maxSumsSize     = 64 * MiB
	maxEnvelopeSize = 64 * MiB
	maxSignatures   = 64
	maxSigLen       = 16 << 10 // one DSSE sig, base64 characters
	maxStatement    = 48 * MiB
	maxSBOMSize     = 64 * MiB
	maxSumsSigSize  = 16 << 10
	maxHeadSize     = 256 * MiB
	maxSBOMs        = 1 + 1024
	maxPathLen      = 4095 // a kit path, and the tar name <root>/<path>
	maxJSONDepth    = 64
	chunkSize       = 4 * MiB
	maxManifestSize = 4 * MiB // images.MaxManifestSize: index.json and each manifest
	maxComponents   = 1024
	maxArtifacts    = 4096 // per image, in the manifest schema
)

// Names of the kit made here.
const (
	kitName    = "demo"
	kitVersion = "1.2.3"
	root       = kitName + "-" + kitVersion
)

// epoch is every entry's mtime and the manifest's created time.
var epoch = time.Unix(1700000000, 0).UTC()

const (
	modeFile = "0644"
	modeExec = "0755"

	statementType   = "https://in-toto.io/Statement/v1"
	predicateTypeV1 = "https://offkit.dev/kit-manifest/v1"
	predicateTypeV2 = "https://offkit.dev/kit-manifest/v2"
	payloadType     = "application/vnd.in-toto+json"
	kitSBOMPath     = "sbom/kit.spdx.json"
	sumsName        = "SHA256SUMS"
	envelopeName    = "manifest.dsse.json"
)

// ---- documents (FORMAT §9–§11), local copies of the wire form ----------

type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Mode   string `json:"mode"`
	Digest string `json:"digest"`
}

type FileRef struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Digest string `json:"digest"`
}

type Component struct {
	Name        string    `json:"name"`
	Type        string    `json:"type"`
	Path        string    `json:"path"`
	Description string    `json:"description,omitempty"`
	Pending     bool      `json:"pending,omitempty"`
	SBOM        *FileRef  `json:"sbom,omitempty"`
	Size        int64     `json:"size"`
	Files       []File    `json:"files"`
	Image       *ImageRef `json:"image,omitempty"`
}

type ImageRef struct {
	Reference  string     `json:"reference"`
	Repository string     `json:"repository"`
	Tag        string     `json:"tag,omitempty"`
	Digest     string     `json:"digest"`
	MediaType  string     `json:"mediaType"`
	Platforms  []string   `json:"platforms,omitempty"`
	Artifacts  []Artifact `json:"artifacts,omitempty"`
}

type Artifact struct {
	Role    string `json:"role"`
	Subject string `json:"subject"`
	Digest  string `json:"digest"`
	Tag     string `json:"tag,omitempty"`
}

type Images struct {
	Path  string `json:"path"`
	Size  int64  `json:"size"`
	Files []File `json:"files"`
}

type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type Manifest struct {
	FormatVersion int               `json:"formatVersion"`
	Name          string            `json:"name"`
	Version       string            `json:"version"`
	Description   string            `json:"description,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	Created       string            `json:"created"`
	Tool          Tool              `json:"tool"`
	Components    []Component       `json:"components"`
	SBOM          FileRef           `json:"sbom"`
	FileCount     int               `json:"fileCount"`
	TotalSize     int64             `json:"totalSize"`
	Images        *Images           `json:"images,omitempty"`
}

type subjectDigest struct {
	SHA256 string `json:"sha256"`
}

type Subject struct {
	Name   string        `json:"name"`
	Digest subjectDigest `json:"digest"`
}

type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

type Signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

type Envelope struct {
	PayloadType string      `json:"payloadType"`
	Payload     string      `json:"payload"`
	Signatures  []Signature `json:"signatures"`
}

// marshal encodes v as offkit's writer does: compact, no HTML escaping.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func digestOf(b []byte) string  { return "sha256:" + sha256Hex(b) }

var emptyDigest = digestOf(nil)

// pae is DSSE's pre-authentication encoding.
func pae(typ string, payload []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "DSSEv1 %d %s %d ", len(typ), typ, len(payload))
	b.Write(payload)
	return b.Bytes()
}

// ---- signers ------------------------------------------------------------

type signer interface {
	KeyID() string
	Sign(msg []byte) []byte
}

// ecSigner is an untrusted ECDSA P-256 key, derived from a seed so that
// the same key signs every run (the signatures themselves are randomised).
type ecSigner struct {
	k  *ecdsa.PrivateKey
	id string
}

func untrustedKey(seed string) *ecSigner {
	d := sha256.Sum256([]byte("offkit hostile/largest untrusted key " + seed))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		panic(err)
	}
	id, err := sign.KeyID(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	return &ecSigner{k: k, id: id}
}

func (s *ecSigner) KeyID() string { return s.id }
func (s *ecSigner) Sign(msg []byte) []byte {
	h := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, s.k, h[:])
	if err != nil {
		panic(err)
	}
	return sig
}

// cosignSigner is the trusted test key, testdata/hostile/trusted.key.
type cosignSigner struct{ s *sign.Signer }

func (c cosignSigner) KeyID() string { return c.s.KeyID() }
func (c cosignSigner) Sign(msg []byte) []byte {
	sig, err := c.s.Sign(context.Background(), msg)
	if err != nil {
		panic(err)
	}
	return sig
}

// fakeSigner makes signatures of a typical length without signing, to
// size a head quickly while searching for the largest one that fits.
type fakeSigner struct{ id string }

func (f fakeSigner) KeyID() string      { return f.id }
func (f fakeSigner) Sign([]byte) []byte { return make([]byte, 72) }

// ---- the kit ------------------------------------------------------------

// pfile is one payload file.
type pfile struct {
	path string
	data []byte
	mode string
}

// kit is a kit in the making: a manifest, its payload and its SBOMs, and
// hooks that make it hostile. build derives everything else (sizes,
// counts, the kit SBOM, SHA256SUMS, the statement, the envelope and the
// SHA256SUMS signatures) consistently, as offkit's writer would, so that
// a reader gets as far as the hooks allow.
type kit struct {
	m       Manifest
	payload []pfile
	sboms   map[string][]byte // component SBOMs, by path
	signers []signer

	// kitSBOM, if set, makes the kit SBOM from the finished manifest
	// instead of minimalKitSBOM.
	kitSBOM func(m *Manifest, sboms map[string][]byte) []byte
	// sums edits SHA256SUMS; the statement's SHA256SUMS subject then has
	// the edited file's digest.
	sums func([]byte) []byte
	// predicate edits the encoded manifest; statement the encoded statement.
	predicate func([]byte) []byte
	statement func([]byte) []byte
	// before, if set, is written before the kit's first zstd frame.
	before []byte
}

func newKit(format int) *kit {
	m := Manifest{
		FormatVersion: format, Name: kitName, Version: kitVersion,
		Description: "hostile: the largest kit within a limit of docs/FORMAT.md",
		Created:     epoch.Format(time.RFC3339), Tool: Tool{Name: "offkit-hostile-largest", Version: "1"},
	}
	return &kit{m: m, sboms: map[string][]byte{}}
}

// component adds a component and returns it.
func (k *kit) component(name, typ, p string) *Component {
	k.m.Components = append(k.m.Components, Component{Name: name, Type: typ, Path: p, Files: []File{}})
	return &k.m.Components[len(k.m.Components)-1]
}

// add lists a file in component c (the last one added, or by name) and
// puts it in the payload. Files must be added in bytewise order.
func (k *kit) add(comp string, p string, data []byte, mode string) {
	c := k.comp(comp)
	c.Files = append(c.Files, File{Path: p, Size: int64(len(data)), Mode: mode, Digest: digestOf(data)})
	k.payload = append(k.payload, pfile{p, data, mode})
}

func (k *kit) comp(name string) *Component {
	for i := range k.m.Components {
		if k.m.Components[i].Name == name {
			return &k.m.Components[i]
		}
	}
	panic("no component " + name)
}

// head is a kit's metadata, encoded.
type head struct {
	envelope  []byte
	statement []byte
	sums      []byte
	sumsSigs  [][]byte
	sboms     []named // sorted by path
}

type named struct {
	path string
	data []byte
}

func (h *head) size() int64 {
	n := int64(len(h.envelope) + len(h.sums))
	for _, s := range h.sumsSigs {
		n += int64(len(s))
	}
	for _, s := range h.sboms {
		n += int64(len(s.data))
	}
	return n
}

// limitScale scales the byte limits fits checks (-scale, for tests).
var limitScale = 1.0

func scaled(n int) int { return int(float64(n) * limitScale) }

// fits reports the first limit of FORMAT §15 the head exceeds.
func (h *head) fits() error {
	switch {
	case len(h.statement) > scaled(maxStatement):
		return fmt.Errorf("statement %d > %d", len(h.statement), scaled(maxStatement))
	case len(h.envelope) > scaled(maxEnvelopeSize):
		return fmt.Errorf("envelope %d > %d", len(h.envelope), scaled(maxEnvelopeSize))
	case len(h.sums) > scaled(maxSumsSize):
		return fmt.Errorf("SHA256SUMS %d > %d", len(h.sums), scaled(maxSumsSize))
	case len(h.sumsSigs) > maxSignatures:
		return fmt.Errorf("%d signatures > %d", len(h.sumsSigs), maxSignatures)
	case len(h.sboms) > maxSBOMs:
		return fmt.Errorf("%d SBOMs > %d", len(h.sboms), maxSBOMs)
	case h.size() > int64(scaled(maxHeadSize)):
		return fmt.Errorf("head %d > %d", h.size(), scaled(maxHeadSize))
	}
	for _, s := range h.sboms {
		if len(s.data) > scaled(maxSBOMSize) {
			return fmt.Errorf("%s %d > %d", s.path, len(s.data), scaled(maxSBOMSize))
		}
	}
	return nil
}

// build encodes the head. With fake, signatures are placeholders of a
// typical size (for sizing); the kit's manifest is finished in place.
func (k *kit) build(fake bool) *head {
	m := &k.m
	m.FileCount, m.TotalSize = 0, 0
	for i := range m.Components {
		c := &m.Components[i]
		c.Size = 0
		for _, f := range c.Files {
			c.Size += f.Size
		}
		m.FileCount += len(c.Files)
		m.TotalSize += c.Size
		if c.SBOM != nil {
			b := k.sboms[c.SBOM.Path]
			c.SBOM.Size, c.SBOM.Digest = int64(len(b)), digestOf(b)
		}
	}
	if m.Images != nil {
		m.Images.Size = 0
		for _, f := range m.Images.Files {
			m.Images.Size += f.Size
		}
		m.FileCount += len(m.Images.Files)
		m.TotalSize += m.Images.Size
	}
	var kitSBOM []byte
	if k.kitSBOM != nil {
		kitSBOM = k.kitSBOM(m, k.sboms)
	} else {
		kitSBOM = canonicalKitSBOM(m)
	}
	m.SBOM = FileRef{Path: kitSBOMPath, Size: int64(len(kitSBOM)), Digest: digestOf(kitSBOM)}
	h := &head{}
	h.sboms = append(h.sboms, named{kitSBOMPath, kitSBOM})
	for p, b := range k.sboms {
		h.sboms = append(h.sboms, named{p, b})
	}
	sort.Slice(h.sboms, func(i, j int) bool { return h.sboms[i].path < h.sboms[j].path })

	// SHA256SUMS: every payload file and every SBOM.
	type line struct{ name, hex string }
	var lines []line
	for _, f := range allFiles(m) {
		lines = append(lines, line{f.Path, strings.TrimPrefix(f.Digest, "sha256:")})
	}
	for _, s := range h.sboms {
		lines = append(lines, line{s.path, sha256Hex(s.data)})
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].name < lines[j].name })
	var sb bytes.Buffer
	for _, l := range lines {
		sb.WriteString(l.hex)
		sb.WriteString("  ")
		sb.WriteString(l.name)
		sb.WriteByte('\n')
	}
	h.sums = sb.Bytes()
	if k.sums != nil {
		h.sums = k.sums(h.sums)
	}

	// The statement: a subject per line, and SHA256SUMS itself.
	st := Statement{Type: statementType, PredicateType: predicateTypeV1}
	if m.FormatVersion == 2 {
		st.PredicateType = predicateTypeV2
	}
	st.Subject = make([]Subject, 0, len(lines)+1)
	for _, l := range lines {
		st.Subject = append(st.Subject, Subject{l.name, subjectDigest{l.hex}})
	}
	st.Subject = append(st.Subject, Subject{sumsName, subjectDigest{sha256Hex(h.sums)}})
	sort.Slice(st.Subject, func(i, j int) bool { return st.Subject[i].Name < st.Subject[j].Name })
	st.Predicate = marshal(m)
	if k.predicate != nil {
		st.Predicate = k.predicate(st.Predicate)
	}
	h.statement = marshal(&st)
	if k.statement != nil {
		h.statement = k.statement(h.statement)
	}

	env := Envelope{PayloadType: payloadType, Payload: base64.StdEncoding.EncodeToString(h.statement), Signatures: []Signature{}}
	var msg []byte
	if !fake && len(k.signers) > 0 {
		msg = pae(payloadType, h.statement)
	}
	for i, s := range k.signers {
		if fake {
			s = fakeSigner{s.KeyID()}
		}
		env.Signatures = append(env.Signatures, Signature{KeyID: s.KeyID(), Sig: base64.StdEncoding.EncodeToString(s.Sign(msg))})
		h.sumsSigs = append(h.sumsSigs, []byte(base64.StdEncoding.EncodeToString(s.Sign(h.sums))))
		_ = i
	}
	h.envelope = append(marshal(&env), '\n')
	return h
}

func allFiles(m *Manifest) []File {
	var out []File
	for _, c := range m.Components {
		out = append(out, c.Files...)
	}
	if m.Images != nil {
		out = append(out, m.Images.Files...)
	}
	return out
}

// ---- SBOMs (FORMAT §12) -------------------------------------------------

// spdxHead starts an SPDX 2.3 document with the fields ParseSBOM requires.
func spdxHead(b *bytes.Buffer, name, namespace string) {
	fmt.Fprintf(b, `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":%q,"documentNamespace":%q,`+
		`"creationInfo":{"created":"2023-11-14T22:13:20Z","creators":["Tool: offkit-hostile-largest-1"]}`, name, namespace)
}

// minimalKitSBOM is the smallest kit SBOM that CheckKitSBOM accepts: a
// package per component (an image component's with its digest) and a file
// per payload file and component SBOM, compact, without relationships.
// extra, if set, writes more elements at the end of "packages".
func minimalKitSBOM(m *Manifest, extra func(b *bytes.Buffer)) []byte {
	var b bytes.Buffer
	spdxHead(&b, root, "https://offkit.dev/spdx/"+root+"-hostile")
	b.WriteString(`,"files":[`)
	n := 0
	file := func(p, d string) {
		if n > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"fileName":"./%s","SPDXID":"SPDXRef-File-%s","checksums":[{"algorithm":"SHA256","checksumValue":"%s"}],"licenseConcluded":"NOASSERTION","copyrightText":"NOASSERTION"}`,
			p, sha256Hex([]byte(p))[:24], strings.TrimPrefix(d, "sha256:"))
		n++
	}
	for _, c := range m.Components {
		for _, f := range c.Files {
			file(f.Path, f.Digest)
		}
		if c.SBOM != nil {
			file(c.SBOM.Path, c.SBOM.Digest)
		}
	}
	if m.Images != nil {
		for _, f := range m.Images.Files {
			file(f.Path, f.Digest)
		}
	}
	fmt.Fprintf(&b, `],"packages":[{"name":%q,"SPDXID":"SPDXRef-Package-kit","versionInfo":%q,"downloadLocation":"NOASSERTION"}`, m.Name, m.Version)
	for _, c := range m.Components {
		fmt.Fprintf(&b, `,{"name":%q,"SPDXID":"SPDXRef-Package-%s","downloadLocation":"NOASSERTION"`, c.Name, c.Name)
		if c.Image != nil {
			fmt.Fprintf(&b, `,"filesAnalyzed":false,"checksums":[{"algorithm":"SHA256","checksumValue":"%s"}]`, strings.TrimPrefix(c.Image.Digest, "sha256:"))
		}
		b.WriteByte('}')
	}
	if extra != nil {
		extra(&b)
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

// ---- writing ------------------------------------------------------------

// chunker cuts a tar stream into ChunkSize chunks and compresses each as
// one zstd frame with its content size and a checksum, as offkit does.
type chunker struct {
	w   io.Writer
	enc *zstd.Encoder
	buf []byte
	out []byte
	raw int64 // tar bytes
	n   int64 // compressed bytes
	err error
}

func newChunker(w io.Writer) *chunker {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(true), zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		panic(err)
	}
	return &chunker{w: w, enc: enc, buf: make([]byte, 0, chunkSize)}
}

func (c *chunker) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), chunkSize-len(c.buf))
		c.buf = append(c.buf, p[:k]...)
		p = p[k:]
		if len(c.buf) == chunkSize {
			c.cut()
		}
	}
	return n, c.err
}

// cut compresses what is buffered as one frame: at every ChunkSize, and
// where the head ends, so that the payload starts a frame of its own.
func (c *chunker) cut() {
	if len(c.buf) == 0 || c.err != nil {
		return
	}
	c.raw += int64(len(c.buf))
	c.out = c.enc.EncodeAll(c.buf, c.out[:0])
	n, err := c.w.Write(c.out)
	c.n += int64(n)
	c.err = err
	c.buf = c.buf[:0]
}

// hdr is the canonical header of a kit entry (bundle.header): PAX format,
// owner 0/0 without names, the kit's mtime, 0644/0755, directories 0755.
func hdr(name string, size int64, mode string) *tar.Header {
	h := &tar.Header{Name: name, Size: size, Mode: 0o644, ModTime: epoch, Format: tar.FormatPAX, Typeflag: tar.TypeReg}
	switch {
	case strings.HasSuffix(name, "/"):
		h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
	case mode == modeExec:
		h.Mode = 0o755
	}
	return h
}

// result describes a kit written.
type result struct {
	compressed, raw int64
	head            int64 // head file content
}

// write builds the kit and writes it, zstd-compressed, to path.
func (k *kit) write(file string) (result, error) {
	h := k.build(false)
	if err := h.fits(); err != nil {
		return result{}, fmt.Errorf("over a limit: %w", err)
	}
	f, err := os.Create(file)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	var pre int64
	if len(k.before) > 0 {
		if _, err := f.Write(k.before); err != nil {
			return result{}, err
		}
		pre = int64(len(k.before))
	}
	c := newChunker(f)
	tw := tar.NewWriter(c)
	put := func(name string, data []byte, mode string) {
		if err := tw.WriteHeader(hdr(name, int64(len(data)), mode)); err != nil {
			panic(fmt.Sprintf("%s: %v", name, err))
		}
		if _, err := tw.Write(data); err != nil {
			panic(err)
		}
	}
	pfx := root + "/"
	put(pfx, nil, "")
	put(pfx+envelopeName, h.envelope, modeFile)
	put(pfx+sumsName, h.sums, modeFile)
	for i, s := range h.sumsSigs {
		put(pfx+sumsSigName(i), s, modeFile)
	}
	put(pfx+"sbom/", nil, "")
	for _, s := range h.sboms {
		put(pfx+s.path, s.data, modeFile)
	}
	if err := tw.Flush(); err != nil {
		return result{}, err
	}
	c.cut()

	// The payload: files and the directories they imply, sorted bytewise
	// by full entry name.
	type ent struct {
		name string
		f    *pfile
	}
	var es []ent
	dirs := map[string]bool{}
	for i := range k.payload {
		p := &k.payload[i]
		es = append(es, ent{pfx + p.path, p})
		for d := path.Dir(p.path); d != "."; d = path.Dir(d) {
			if dirs[d] {
				break
			}
			dirs[d] = true
		}
	}
	for d := range dirs {
		es = append(es, ent{pfx + d + "/", nil})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].name < es[j].name })
	for _, e := range es {
		if e.f == nil {
			put(e.name, nil, "")
		} else {
			put(e.name, e.f.data, e.f.mode)
		}
	}
	if err := tw.Close(); err != nil {
		return result{}, err
	}
	c.cut()
	if c.err != nil {
		return result{}, c.err
	}
	return result{compressed: pre + c.n, raw: c.raw, head: h.size()}, f.Close()
}

func sumsSigName(i int) string {
	if i == 0 {
		return "SHA256SUMS.sig"
	}
	return "SHA256SUMS." + strconv.Itoa(i+1) + ".sig"
}

// largest returns the largest n in [lo, hi] for which fits(n) holds,
// given that it holds for lo and is monotone.
func largest(lo, hi int, fits func(n int) bool) int {
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// canonicalKitSBOM is the kit SBOM readers require: the one offkit writes
// for the manifest (FORMAT §12.2), made by offkit's own generator from this
// program's copy of the manifest.
func canonicalKitSBOM(m *Manifest) []byte {
	mc := *m
	mc.SBOM = FileRef{Path: kitSBOMPath, Digest: emptyDigest} // not part of the SBOM
	b, err := json.Marshal(&mc)
	if err != nil {
		panic(err)
	}
	var mm manifest.Manifest
	if err := json.Unmarshal(b, &mm); err != nil {
		panic(err)
	}
	out, err := manifest.MarshalSBOM(manifest.KitSBOM(&mm))
	if err != nil {
		panic(err)
	}
	return out
}
