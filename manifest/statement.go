package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	ita1 "github.com/in-toto/attestation/go/v1"
	"github.com/offkit/offkit/schemas"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/protobuf/types/known/structpb"
)

// Identifiers of the kit format. A kit without images is format v1; a kit
// that carries images is format v2 (docs/FORMAT.md, Versioning). Readers
// accept both.
const (
	FormatVersion   = 1
	FormatVersion2  = 2
	StatementType   = "https://in-toto.io/Statement/v1"
	PredicateType   = "https://offkit.dev/kit-manifest/v1"
	PredicateTypeV2 = "https://offkit.dev/kit-manifest/v2"
	PayloadType     = "application/vnd.in-toto+json"
)

// PredicateTypeFor returns the predicate type of a manifest of format
// version v, "" for a version offkit does not know.
func PredicateTypeFor(v int) string {
	switch v {
	case FormatVersion:
		return PredicateType
	case FormatVersion2:
		return PredicateTypeV2
	}
	return ""
}

// ImagesPath is where a v2 kit holds its OCI image layout, and the path of
// every image component.
const ImagesPath = "images"

// Roles of the artifacts carried with an image (ImageArtifact.Role).
const (
	RoleSignature   = "signature"
	RoleAttestation = "attestation"
	RoleReferrer    = "referrer"
)

// Mode strings a kit may carry: files are 0644 or, when the source had any
// executable bit, 0755. Directories are always 0755.
const (
	ModeFile = "0644"
	ModeExec = "0755"
)

// Manifest is the kit manifest: the predicate of the kit's in-toto
// Statement. It says what the kit is and lists every payload file.
type Manifest struct {
	FormatVersion int               `json:"formatVersion"`
	Name          string            `json:"name"`
	Version       string            `json:"version"`
	Description   string            `json:"description,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	Created       string            `json:"created"` // RFC 3339, UTC, whole seconds
	Tool          Tool              `json:"tool"`
	Components    []Component       `json:"components"`
	SBOM          FileRef           `json:"sbom"`             // the kit's SPDX document
	FileCount     int               `json:"fileCount"`        // payload files, all components and Images
	TotalSize     int64             `json:"totalSize"`        // payload bytes, all components and Images
	Images        *Images           `json:"images,omitempty"` // format v2 only
}

// Images is a v2 kit's OCI image layout: one layout at Path holding every
// image of its image components, each blob once.
type Images struct {
	Path  string `json:"path"`  // always ImagesPath
	Size  int64  `json:"size"`  // total bytes of Files
	Files []File `json:"files"` // every layout file, kit-root-relative, mode 0644, sorted bytewise
}

// Tool names the program that built the kit.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Component is one kit.yaml component as built.
type Component struct {
	Name        string    `json:"name"`
	Type        string    `json:"type"`
	Path        string    `json:"path"`
	Description string    `json:"description,omitempty"`
	Pending     bool      `json:"pending,omitempty"`
	SBOM        *FileRef  `json:"sbom,omitempty"` // the SPDX document provided for it
	Size        int64     `json:"size"`
	Files       []File    `json:"files"`
	Image       *ImageRef `json:"image,omitempty"` // set for image components (format v2)
}

// ImageRef is the image an image component carries. An image component has
// Type TypeImage, Path ImagesPath, Size 0 and no Files: its blobs are files
// of the manifest's Images, shared between images.
type ImageRef struct {
	Reference  string          `json:"reference"`           // the source as written in kit.yaml
	Repository string          `json:"repository"`          // with its registry host ("registry.example.org/team/app"); "" if the source names none
	Tag        string          `json:"tag,omitempty"`       // the tag the image was named by, if any
	Digest     Digest          `json:"digest"`              // the pinned manifest or index digest
	MediaType  string          `json:"mediaType"`           // of the pinned manifest or index
	Platforms  []string        `json:"platforms,omitempty"` // the platform filter applied to an index
	Artifacts  []ImageArtifact `json:"artifacts,omitempty"` // carried signatures, attestations and referrers
}

// ImageArtifact is a cosign signature or attestation, or an OCI 1.1
// referrer, carried with an image.
type ImageArtifact struct {
	Role    string `json:"role"`          // RoleSignature, RoleAttestation or RoleReferrer
	Subject Digest `json:"subject"`       // the manifest it belongs to
	Digest  Digest `json:"digest"`        // the artifact manifest's digest
	Tag     string `json:"tag,omitempty"` // "sha256-<hex>.sig" or ".att"; "" for referrers
}

// File is one payload file.
type File struct {
	Path   string `json:"path"` // relative to the kit root
	Size   int64  `json:"size"`
	Mode   string `json:"mode"` // ModeFile or ModeExec
	Digest Digest `json:"digest"`
}

// FileRef names a metadata file by path and digest.
type FileRef struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Digest Digest `json:"digest"`
}

// Root returns the kit's root directory name, "<name>-<version>".
func (m *Manifest) Root() string { return m.Name + "-" + m.Version }

// CreatedTime parses Created.
func (m *Manifest) CreatedTime() (time.Time, error) { return time.Parse(time.RFC3339, m.Created) }

// Marshal encodes m canonically.
func (m *Manifest) Marshal() ([]byte, error) { return marshalCanonical(m) }

// Check verifies the rules of a manifest that its schema cannot express:
// safe, unique, non-reserved paths; files inside their component; totals that
// add up; and, in format v2, image components and the image layout's files
// (docs/FORMAT.md, "The manifest predicate").
func (m *Manifest) Check() error {
	switch m.FormatVersion {
	case FormatVersion:
		if m.Images != nil {
			return malformed("manifest: a formatVersion 1 manifest may not have images")
		}
	case FormatVersion2:
		if m.Images == nil {
			return malformed("manifest: a formatVersion 2 manifest must have images")
		}
	default:
		return malformed("manifest formatVersion %d is not supported (want %d or %d)", m.FormatVersion, FormatVersion, FormatVersion2)
	}
	if _, err := m.CreatedTime(); err != nil {
		return malformed("manifest created %q is not an RFC 3339 time", m.Created)
	}
	// Files and the directories they imply, by fold key: a PathSet costs
	// time linear in the paths' bytes, however deep they are.
	n := 0
	for _, c := range m.Components {
		n += len(c.Files)
	}
	if m.Images != nil {
		n += len(m.Images.Files)
	}
	paths := NewPathSet(n)
	root := m.Root()
	addPath := func(p string) error { // p has passed CheckPath
		if len(root)+1+len(p) > MaxPathLen {
			return fmt.Errorf("%w: manifest: %q: its tar name, under the root %q, is longer than %d bytes", ErrUnsafePath, p, root, MaxPathLen)
		}
		if err := paths.add(p, false); err != nil {
			return fmt.Errorf("%w: manifest: %w", ErrUnsafePath, err)
		}
		return nil
	}
	names := map[string]bool{}
	var count, imageComps int
	var total int64
	for _, c := range m.Components {
		if names[c.Name] {
			return malformed("manifest: component %q is listed twice", c.Name)
		}
		names[c.Name] = true
		if err := CheckPath(c.Path); err != nil {
			return fmt.Errorf("manifest component %q: %w", c.Name, err)
		}
		if c.Pending && len(c.Files) > 0 {
			return malformed("manifest component %q is pending but has files", c.Name)
		}
		if c.Image != nil || c.Type == TypeImage {
			if err := c.checkImage(m.FormatVersion); err != nil {
				return err
			}
			imageComps++
			continue
		}
		var size int64
		for _, f := range c.Files {
			if err := CheckPath(f.Path); err != nil {
				return fmt.Errorf("manifest component %q: %w", c.Name, err)
			}
			if !Within(f.Path, c.Path) || IsReservedPath(f.Path) {
				return fmt.Errorf("%w: manifest component %q: file %q is outside its path %q", ErrUnsafePath, c.Name, f.Path, c.Path)
			}
			if err := addPath(f.Path); err != nil {
				return err
			}
			if f.Size < 0 {
				return malformed("manifest file %q has a negative size", f.Path)
			}
			size += f.Size
		}
		if size != c.Size {
			return malformed("manifest component %q: size %d is not the sum of its files (%d)", c.Name, c.Size, size)
		}
		count += len(c.Files)
		total += size
	}
	if m.Images != nil {
		if imageComps == 0 {
			return malformed("manifest: images, but no image component")
		}
		size, err := m.Images.check(addPath)
		if err != nil {
			return err
		}
		count += len(m.Images.Files)
		total += size
	}
	if count != m.FileCount || total != m.TotalSize {
		return malformed("manifest fileCount/totalSize (%d/%d) do not match its files (%d/%d)", m.FileCount, m.TotalSize, count, total)
	}
	return nil
}

// checkImage checks an image component: only in format v2, of type image,
// at ImagesPath, with an image and no files of its own.
func (c *Component) checkImage(version int) error {
	switch {
	case version != FormatVersion2:
		return malformed("manifest component %q: an image component needs formatVersion %d", c.Name, FormatVersion2)
	case c.Image == nil || c.Type != TypeImage:
		return malformed("manifest component %q: an image component has type %q and an image, and only it", c.Name, TypeImage)
	case c.Path != ImagesPath:
		return malformed("manifest component %q: an image component's path must be %q", c.Name, ImagesPath)
	case c.Pending || c.Size != 0 || len(c.Files) != 0:
		return malformed("manifest component %q: an image component has no files of its own (its blobs are in images)", c.Name)
	case c.Image.Digest.IsZero():
		return malformed("manifest component %q: image has no digest", c.Name)
	}
	for _, a := range c.Image.Artifacts {
		if a.Subject.IsZero() || a.Digest.IsZero() {
			return malformed("manifest component %q: image %s artifact has no digest or subject", c.Name, a.Role)
		}
	}
	return nil
}

// check checks the layout's files: under ImagesPath, mode 0644, unique,
// sorted bytewise, and adding up to Size. It returns their total size.
func (im *Images) check(addPath func(string) error) (int64, error) {
	if im.Path != ImagesPath {
		return 0, malformed("manifest images: path %q is not %q", im.Path, ImagesPath)
	}
	var size int64
	for i, f := range im.Files {
		if err := CheckPath(f.Path); err != nil {
			return 0, fmt.Errorf("manifest images: %w", err)
		}
		if !strings.HasPrefix(f.Path, ImagesPath+"/") {
			return 0, fmt.Errorf("%w: manifest images: file %q is outside %s/", ErrUnsafePath, f.Path, ImagesPath)
		}
		if i > 0 && f.Path <= im.Files[i-1].Path {
			return 0, malformed("manifest images: files are not sorted bytewise, or %q is listed twice", f.Path)
		}
		if f.Mode != ModeFile {
			return 0, malformed("manifest images: file %q has mode %s, not %s", f.Path, f.Mode, ModeFile)
		}
		if f.Size < 0 {
			return 0, malformed("manifest file %q has a negative size", f.Path)
		}
		if err := addPath(f.Path); err != nil {
			return 0, err
		}
		size += f.Size
	}
	if size != im.Size {
		return 0, malformed("manifest images: size %d is not the sum of its files (%d)", im.Size, size)
	}
	return size, nil
}

// AllFiles returns every payload file the manifest lists: the components'
// files, then the image layout's.
func (m *Manifest) AllFiles() []File {
	var out []File
	for _, c := range m.Components {
		out = append(out, c.Files...)
	}
	if m.Images != nil {
		out = append(out, m.Images.Files...)
	}
	return out
}

// Statement is an in-toto Statement v1 as carried in a kit: its subjects are
// every file SHA256SUMS lists plus SHA256SUMS itself, and its predicate is the
// kit Manifest.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// Subject is an in-toto ResourceDescriptor with a name and a sha256 digest.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// NewStatement builds the kit's Statement from its manifest and SHA256SUMS.
func NewStatement(m *Manifest, sums Sums) (*Statement, error) {
	pred, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	subj := make([]Subject, 0, len(sums)+1)
	for _, s := range sums {
		subj = append(subj, Subject{Name: s.Name, Digest: map[string]string{Algorithm: s.Digest.Hex()}})
	}
	subj = append(subj, Subject{Name: SumsName, Digest: map[string]string{Algorithm: SHA256(sums.Marshal()).Hex()}})
	sort.Slice(subj, func(i, j int) bool { return subj[i].Name < subj[j].Name })
	pt := PredicateTypeFor(m.FormatVersion)
	if pt == "" {
		return nil, malformed("manifest formatVersion %d is not supported", m.FormatVersion)
	}
	return &Statement{Type: StatementType, Subject: subj, PredicateType: pt, Predicate: pred}, nil
}

// Marshal encodes s canonically: this is the DSSE payload.
func (s *Statement) Marshal() ([]byte, error) { return marshalCanonical(s) }

// Subjects returns the subjects' digests by name.
func (s *Statement) Subjects() (map[string]Digest, error) {
	out := make(map[string]Digest, len(s.Subject))
	for _, sub := range s.Subject {
		if len(sub.Digest) != 1 {
			return nil, malformed("statement subject %q must have exactly one digest, sha256", sub.Name)
		}
		d, err := ParseHex(sub.Digest[Algorithm])
		if err != nil {
			return nil, fmt.Errorf("statement subject %q: %w", sub.Name, err)
		}
		if _, dup := out[sub.Name]; dup {
			return nil, malformed("statement subject %q is listed twice", sub.Name)
		}
		out[sub.Name] = d
	}
	return out, nil
}

// MaxStatementSize bounds a DSSE payload.
const MaxStatementSize = 48 << 20

// ParseStatement parses a DSSE payload strictly: it must be an in-toto
// Statement v1 (checked also by the reference implementation,
// github.com/in-toto/attestation) of PredicateType or PredicateTypeV2 whose
// predicate satisfies schemas/manifest.schema.json and Manifest.Check, and
// whose formatVersion matches the predicate type. The payload must be the
// statement offkit writes for that manifest, byte for byte (NewStatement
// with the manifest's SHA256SUMS, in canonical JSON): its subjects are then
// exactly the manifest's files, its SBOMs and SHA256SUMS, and no parser can
// read the bytes differently.
func ParseStatement(payload []byte) (*Statement, *Manifest, error) {
	if len(payload) > MaxStatementSize {
		return nil, nil, malformed("statement is larger than %d bytes", MaxStatementSize)
	}
	var s Statement
	if err := unmarshalStrict(payload, &s); err != nil {
		return nil, nil, fmt.Errorf("statement: %w", err)
	}
	if s.Type != StatementType {
		return nil, nil, malformed("statement _type %q is not %q", s.Type, StatementType)
	}
	if s.PredicateType != PredicateType && s.PredicateType != PredicateTypeV2 {
		return nil, nil, malformed("statement predicateType %q is not %q or %q", s.PredicateType, PredicateType, PredicateTypeV2)
	}
	if _, err := s.Subjects(); err != nil {
		return nil, nil, err
	}
	// The reference implementation's checks of the statement's envelope
	// fields; the predicate is checked below, against its schema.
	ref := &ita1.Statement{Type: s.Type, PredicateType: s.PredicateType, Predicate: &structpb.Struct{}}
	for _, sub := range s.Subject {
		ref.Subject = append(ref.Subject, &ita1.ResourceDescriptor{Name: sub.Name, Digest: sub.Digest})
	}
	if err := ref.Validate(); err != nil {
		return nil, nil, malformed("statement: %v", err)
	}
	m, err := ParseManifest(s.Predicate)
	if err != nil {
		return nil, nil, err
	}
	if want := PredicateTypeFor(m.FormatVersion); s.PredicateType != want {
		return nil, nil, malformed("statement predicateType %q is not %q, the type of a formatVersion %d manifest", s.PredicateType, want, m.FormatVersion)
	}
	want, err := NewStatement(m, m.Sums())
	if err != nil {
		return nil, nil, err
	}
	if err := canonical("statement", payload, want); err != nil {
		return nil, nil, fmt.Errorf("%w: its subjects must be the manifest's files, SBOMs and SHA256SUMS, in order", err)
	}
	return &s, m, nil
}

// Sums returns the SHA256SUMS of a kit with this manifest: every payload
// file, the kit SBOM and every component SBOM, sorted bytewise.
func (m *Manifest) Sums() Sums {
	var sums Sums
	for _, c := range m.Components {
		for _, f := range c.Files {
			sums = append(sums, Sum{Name: f.Path, Digest: f.Digest})
		}
		if c.SBOM != nil {
			sums = append(sums, Sum{Name: c.SBOM.Path, Digest: c.SBOM.Digest})
		}
	}
	if m.Images != nil {
		for _, f := range m.Images.Files {
			sums = append(sums, Sum{Name: f.Path, Digest: f.Digest})
		}
	}
	sums = append(sums, Sum{Name: m.SBOM.Path, Digest: m.SBOM.Digest})
	sums.Sort()
	return sums
}

// ParseManifest parses and checks a kit manifest predicate: the strict
// JSON reading, the schema, then Manifest.Check.
func ParseManifest(data []byte) (*Manifest, error) {
	if err := checkJSON(data); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	sch, err := schemas.Get(schemas.Manifest)
	if err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, malformed("manifest: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			fe := schemaError("manifest", ve, map[string]int{}).(*FieldError)
			return nil, fe
		}
		return nil, malformed("manifest: %v", err)
	}
	var m Manifest
	if err := unmarshalStrict(data, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	return &m, nil
}
