package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"time"

	ita1 "github.com/in-toto/attestation/go/v1"
	"github.com/offkit/offkit/schemas"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/protobuf/types/known/structpb"
)

// Identifiers of kit format v1.
const (
	FormatVersion = 1
	StatementType = "https://in-toto.io/Statement/v1"
	PredicateType = "https://offkit.dev/kit-manifest/v1"
	PayloadType   = "application/vnd.in-toto+json"
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
	SBOM          FileRef           `json:"sbom"`      // the kit's SPDX document
	FileCount     int               `json:"fileCount"` // payload files, all components
	TotalSize     int64             `json:"totalSize"` // payload bytes, all components
}

// Tool names the program that built the kit.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Component is one kit.yaml component as built.
type Component struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Path        string   `json:"path"`
	Description string   `json:"description,omitempty"`
	Pending     bool     `json:"pending,omitempty"`
	SBOM        *FileRef `json:"sbom,omitempty"` // the SPDX document provided for it
	Size        int64    `json:"size"`
	Files       []File   `json:"files"`
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
// add up.
func (m *Manifest) Check() error {
	if m.FormatVersion != FormatVersion {
		return malformed("manifest formatVersion %d is not supported (want %d)", m.FormatVersion, FormatVersion)
	}
	if _, err := m.CreatedTime(); err != nil {
		return malformed("manifest created %q is not an RFC 3339 time", m.Created)
	}
	seen := map[string]string{} // fold key -> path, of files and their directories
	isDir := map[string]bool{}
	names := map[string]bool{}
	var count int
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
		var size int64
		for _, f := range c.Files {
			if err := CheckPath(f.Path); err != nil {
				return fmt.Errorf("manifest component %q: %w", c.Name, err)
			}
			if !Within(f.Path, c.Path) || IsReservedPath(f.Path) {
				return fmt.Errorf("%w: manifest component %q: file %q is outside its path %q", ErrUnsafePath, c.Name, f.Path, c.Path)
			}
			if other, dup := seen[FoldKey(f.Path)]; dup {
				return fmt.Errorf("%w: manifest: %q collides with %q", ErrUnsafePath, f.Path, other)
			}
			seen[FoldKey(f.Path)] = f.Path
			for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
				k := FoldKey(d)
				if other, ok := seen[k]; ok && (other != d || !isDir[k]) {
					return fmt.Errorf("%w: manifest: directory %q collides with %q", ErrUnsafePath, d, other)
				}
				seen[k], isDir[k] = d, true
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
	if count != m.FileCount || total != m.TotalSize {
		return malformed("manifest fileCount/totalSize (%d/%d) do not match its files (%d/%d)", m.FileCount, m.TotalSize, count, total)
	}
	return nil
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
	return &Statement{Type: StatementType, Subject: subj, PredicateType: PredicateType, Predicate: pred}, nil
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
// github.com/in-toto/attestation) of PredicateType whose predicate satisfies
// schemas/manifest.schema.json and Manifest.Check.
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
	if s.PredicateType != PredicateType {
		return nil, nil, malformed("statement predicateType %q is not %q", s.PredicateType, PredicateType)
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
	m, err := parseManifest(s.Predicate, false) // unmarshalStrict checked it all
	if err != nil {
		return nil, nil, err
	}
	return &s, m, nil
}

// ParseManifest parses and checks a kit manifest predicate.
func ParseManifest(data []byte) (*Manifest, error) { return parseManifest(data, true) }

// parseManifest parses a manifest; dupCheck is false when the caller has
// already checked data for duplicate keys and depth.
func parseManifest(data []byte, dupCheck bool) (*Manifest, error) {
	if dupCheck {
		if err := checkJSON(data); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
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
	if err := decodeStrict(data, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	return &m, nil
}
