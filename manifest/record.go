package manifest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	ita1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// Identifiers of the release record (docs/FORMAT.md, "Release records"): an
// in-toto Statement v1 whose predicate is a SLSA Verification Summary v1.
const (
	RecordPredicateType = "https://slsa.dev/verification_summary/v1"
	RecordVerifierID    = "https://offkit.dev/verifier"
	RecordVerifierName  = "offkit" // the one key of verifier.version
	RecordSLSAVersion   = "1.1"    // the VSA minor version whose fields a record uses (verifier.version)
	RecordExtension     = "https://offkit.dev/release-record/v1"
	RecordPolicyKeys    = "https://offkit.dev/policy/keys/v1" // policy.uri when trust was given as keys, not a policy file
	RecordLevel         = "OFFKIT_VERIFIED"                   // verifiedLevels of a record that PASSED
	RecordAttestation   = EnvelopeName                        // the input attestation's uri, relative to the kit
	RecordSuffix        = ".release.json"                     // a record's file name is <name>-<version>.release.json
	ResultPassed        = "PASSED"
	ResultFailed        = "FAILED"
	MaxRecordSize       = 4 << 20 // bytes of a record file, signed or not
	maxRecordList       = 4096    // keys, signers or images in one record
)

// RecordName returns the file name of the release record of kit name at
// version: "<name>-<version>.release.json".
func RecordName(name, version string) string { return name + "-" + version + RecordSuffix }

// RecordInput is everything a release record says, typed. NewRecord
// writes it; ParseRecord returns it.
type RecordInput struct {
	KitFile   string // the kit's file name, the statement's one subject ("concelier-lnm-21.101.0.tar.zst")
	KitDigest Digest // SHA-256 of the kit file's bytes
	KitSize   int64  // the kit file's size in bytes

	ResourceURI     string    // where the kit was verified or published: an absolute URI
	VerifierVersion string    // offkit's version ("v1.2.3")
	TimeVerified    time.Time // written in UTC, whole seconds
	Passed          bool      // verificationResult PASSED, else FAILED

	// Policy is the trust policy file used, nil when trust was given as
	// keys (then policy.uri is RecordPolicyKeys).
	Policy *RecordPolicy

	Name          string // the kit manifest's name
	Version       string // the kit manifest's version
	FormatVersion int    // the kit manifest's formatVersion
	Statement     Digest // SHA-256 of the kit's DSSE payload (its in-toto statement)
	Threshold     int    // trusted signatures the verification required
	Keys          []RecordKey
	Signers       []string      // key IDs of the trusted signatures that verified
	Images        []RecordImage // the kit's image components, in manifest order
}

// RecordPolicy names a trust policy file.
type RecordPolicy struct {
	URI    string // as the verifier was given it
	Digest Digest // SHA-256 of its bytes
}

// RecordKey is one trusted public key.
type RecordKey struct {
	KeyID string
	PEM   Digest // SHA-256 of the public key file's bytes
}

// RecordImage is one image component of the kit.
type RecordImage struct {
	Component string
	Reference string
	Digest    Digest
}

// Record is a parsed release record.
type Record struct {
	RecordInput
	Statement *RecordStatement // as decoded
	Payload   []byte           // the statement's bytes: what the signatures sign
	Envelope  *Envelope        // the DSSE envelope of a signed record, nil if unsigned
}

// RecordStatement is the JSON form of a release record's statement.
type RecordStatement struct {
	Type          string              `json:"_type"`
	Subject       []Subject           `json:"subject"`
	PredicateType string              `json:"predicateType"`
	Predicate     VerificationSummary `json:"predicate"`
}

// VerificationSummary is a SLSA Verification Summary v1 predicate with
// offkit's extension field.
type VerificationSummary struct {
	Verifier           RecordVerifier       `json:"verifier"`
	TimeVerified       string               `json:"timeVerified"`
	ResourceURI        string               `json:"resourceUri"`
	Policy             ResourceDescriptor   `json:"policy"`
	InputAttestations  []ResourceDescriptor `json:"inputAttestations"`
	VerificationResult string               `json:"verificationResult"`
	VerifiedLevels     []string             `json:"verifiedLevels"`
	SLSAVersion        string               `json:"slsaVersion"`
	Offkit             RecordRelease        `json:"https://offkit.dev/release-record/v1"`
}

// RecordVerifier is the predicate's verifier.
type RecordVerifier struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version"`
}

// ResourceDescriptor is the part of an in-toto ResourceDescriptor a record
// uses.
type ResourceDescriptor struct {
	URI       string            `json:"uri"`
	Digest    map[string]string `json:"digest,omitempty"`
	MediaType string            `json:"mediaType,omitempty"`
}

// RecordRelease is offkit's extension field of the predicate.
type RecordRelease struct {
	Name          string            `json:"name"`
	Version       string            `json:"version"`
	FormatVersion int               `json:"formatVersion"`
	Size          int64             `json:"size"`
	Statement     map[string]string `json:"statement"` // {"sha256": hex}
	Threshold     int               `json:"threshold"`
	Keys          []RecordKeyJSON   `json:"keys"`
	Signers       []string          `json:"signers"`
	Images        []RecordImageJSON `json:"images"`
}

// RecordKeyJSON is the JSON form of a RecordKey.
type RecordKeyJSON struct {
	KeyID  string `json:"keyid"`
	SHA256 string `json:"sha256"` // hex, of the PEM file
}

// RecordImageJSON is the JSON form of a RecordImage.
type RecordImageJSON struct {
	Component string `json:"component"`
	Reference string `json:"reference"`
	Digest    Digest `json:"digest"` // "sha256:<hex>"
}

// NewRecord returns the release record's statement for in, in canonical
// JSON: the same input gives the same bytes, whatever the order of its keys
// and signers (they are sorted) and the zone of its time.
func NewRecord(in RecordInput) ([]byte, error) {
	st, err := in.statement()
	if err != nil {
		return nil, err
	}
	return marshalCanonical(st)
}

func recErr(format string, args ...any) error {
	return malformed("release record: "+format, args...)
}

func digestSet(d Digest) map[string]string { return map[string]string{Algorithm: d.Hex()} }

// checkName refuses a name or key ID that is empty, over MaxPathLen bytes,
// or holds a control character.
func checkName(what, s string) error {
	if s == "" || len(s) > MaxPathLen {
		return recErr("%s %q is empty or longer than %d bytes", what, s, MaxPathLen)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return recErr("%s %q holds a control character", what, s)
		}
	}
	return nil
}

// checkURI requires an absolute URI (RFC 3986: a scheme).
func checkURI(what, s string) error {
	if err := checkName(what, s); err != nil {
		return err
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return recErr("%s %q is not an absolute URI", what, s)
	}
	return nil
}

func (in *RecordInput) statement() (*RecordStatement, error) {
	if err := checkName("kit file name", in.KitFile); err != nil {
		return nil, err
	}
	if strings.ContainsAny(in.KitFile, `/\`) || in.KitFile == "." || in.KitFile == ".." {
		return nil, recErr("kit file name %q is not a file name", in.KitFile)
	}
	if in.KitDigest.IsZero() || in.Statement.IsZero() {
		return nil, recErr("kit %q: the kit's or its statement's digest is missing", in.KitFile)
	}
	if in.KitSize < 0 {
		return nil, recErr("kit %q: negative size %d", in.KitFile, in.KitSize)
	}
	if err := checkURI("resourceUri", in.ResourceURI); err != nil {
		return nil, err
	}
	if err := checkName("verifier version", in.VerifierVersion); err != nil {
		return nil, err
	}
	if in.TimeVerified.IsZero() {
		return nil, recErr("timeVerified is missing")
	}
	if y := in.TimeVerified.UTC().Year(); y < 1 || y > 9999 {
		return nil, recErr("timeVerified year %d is outside 1-9999", y)
	}
	for _, c := range []struct{ what, s string }{{"name", in.Name}, {"version", in.Version}} {
		if err := checkName("kit "+c.what, c.s); err != nil {
			return nil, err
		}
	}
	if PredicateTypeFor(in.FormatVersion) == "" {
		return nil, recErr("kit formatVersion %d is not supported", in.FormatVersion)
	}
	if len(in.Keys) > maxRecordList || len(in.Signers) > maxRecordList || len(in.Images) > maxRecordList {
		return nil, recErr("more than %d keys, signers or images", maxRecordList)
	}
	if in.Threshold < 1 || in.Threshold > len(in.Keys) {
		return nil, recErr("threshold %d is not between 1 and the %d trusted keys", in.Threshold, len(in.Keys))
	}
	keys := slices.Clone(in.Keys)
	slices.SortFunc(keys, func(a, b RecordKey) int { return strings.Compare(a.KeyID, b.KeyID) })
	rel := RecordRelease{
		Name: in.Name, Version: in.Version, FormatVersion: in.FormatVersion, Size: in.KitSize,
		Statement: digestSet(in.Statement), Threshold: in.Threshold,
		Keys: make([]RecordKeyJSON, 0, len(keys)), Signers: slices.Sorted(slices.Values(in.Signers)),
		Images: make([]RecordImageJSON, 0, len(in.Images)),
	}
	for i, k := range keys {
		if err := checkName("key ID", k.KeyID); err != nil {
			return nil, err
		}
		if i > 0 && k.KeyID == keys[i-1].KeyID {
			return nil, recErr("key %q is listed twice", k.KeyID)
		}
		if k.PEM.IsZero() {
			return nil, recErr("key %q has no digest", k.KeyID)
		}
		rel.Keys = append(rel.Keys, RecordKeyJSON{KeyID: k.KeyID, SHA256: k.PEM.Hex()})
	}
	for i, s := range rel.Signers {
		if i > 0 && s == rel.Signers[i-1] {
			return nil, recErr("signer %q is listed twice", s)
		}
		if _, ok := slices.BinarySearchFunc(keys, s, func(k RecordKey, id string) int { return strings.Compare(k.KeyID, id) }); !ok {
			return nil, recErr("signer %q is not one of the trusted keys", s)
		}
	}
	if in.Passed && len(rel.Signers) < in.Threshold {
		return nil, recErr("PASSED with %d trusted signers, fewer than the threshold %d", len(rel.Signers), in.Threshold)
	}
	for _, im := range in.Images {
		if err := checkName("image component", im.Component); err != nil {
			return nil, err
		}
		if err := checkName("image reference", im.Reference); err != nil {
			return nil, err
		}
		if im.Digest.IsZero() {
			return nil, recErr("image component %q has no digest", im.Component)
		}
		rel.Images = append(rel.Images, RecordImageJSON(im))
	}
	policy := ResourceDescriptor{URI: RecordPolicyKeys}
	if in.Policy != nil {
		if err := checkName("policy uri", in.Policy.URI); err != nil {
			return nil, err
		}
		if in.Policy.URI == RecordPolicyKeys || in.Policy.Digest.IsZero() {
			return nil, recErr("policy %q: a policy file has its own uri and a digest", in.Policy.URI)
		}
		policy = ResourceDescriptor{URI: in.Policy.URI, Digest: digestSet(in.Policy.Digest)}
	}
	result, levels := ResultPassed, []string{RecordLevel}
	if !in.Passed {
		result, levels = ResultFailed, []string{ResultFailed}
	}
	return &RecordStatement{
		Type:          StatementType,
		Subject:       []Subject{{Name: in.KitFile, Digest: digestSet(in.KitDigest)}},
		PredicateType: RecordPredicateType,
		Predicate: VerificationSummary{
			Verifier:           RecordVerifier{ID: RecordVerifierID, Version: map[string]string{RecordVerifierName: in.VerifierVersion}},
			TimeVerified:       in.TimeVerified.UTC().Truncate(time.Second).Format(time.RFC3339),
			ResourceURI:        in.ResourceURI,
			Policy:             policy,
			InputAttestations:  []ResourceDescriptor{{URI: RecordAttestation, Digest: digestSet(in.Statement), MediaType: PayloadType}},
			VerificationResult: result,
			VerifiedLevels:     levels,
			SLSAVersion:        RecordSLSAVersion,
			Offkit:             rel,
		},
	}, nil
}

// SignRecord wraps a record's statement (NewRecord) in a DSSE envelope
// signed by each signer, encoded as the kit's manifest.dsse.json is
// (MarshalEnvelope).
func SignRecord(ctx context.Context, stmt []byte, signers ...Signer) ([]byte, error) {
	if len(signers) == 0 {
		return nil, fmt.Errorf("sign release record: no signer (an unsigned record is the statement itself)")
	}
	if _, err := parseRecordStatement(stmt); err != nil {
		return nil, fmt.Errorf("sign release record: %w", err)
	}
	e := NewEnvelope(stmt)
	for _, s := range signers {
		if err := SignEnvelope(ctx, e, s); err != nil {
			return nil, fmt.Errorf("sign release record with %s: %w", s.KeyID(), err)
		}
	}
	return MarshalEnvelope(e)
}

// ParseRecord parses a release record file: the bare statement NewRecord
// writes (unsigned), or the envelope SignRecord writes around it, in
// exactly those forms. It checks the form, not the signatures: verify them
// with package sign over the returned Envelope and Payload.
func ParseRecord(data []byte) (*Record, error) {
	if len(data) > MaxRecordSize {
		return nil, recErr("larger than %d bytes", MaxRecordSize)
	}
	if !bytes.HasPrefix(data, []byte(envStart)) {
		return parseRecordStatement(data)
	}
	er := envReader{r: bufio.NewReaderSize(bytes.NewReader(data), 64<<10)}
	e, p, err := er.read()
	if err != nil {
		return nil, fmt.Errorf("release record envelope: %w", err)
	}
	if len(e.Signatures) == 0 {
		return nil, recErr("the envelope has no signature (an unsigned record is the statement itself)")
	}
	r, err := parseRecordStatement(p.Bytes())
	if err != nil {
		return nil, err
	}
	e.Payload = base64.StdEncoding.EncodeToString(r.Payload)
	r.Envelope = e
	return r, nil
}

// parseRecordStatement parses a record's statement strictly and requires
// it to be NewRecord's bytes for the values it holds.
func parseRecordStatement(p []byte) (*Record, error) {
	if len(p) > MaxRecordSize {
		return nil, recErr("statement is larger than %d bytes", MaxRecordSize)
	}
	var st RecordStatement
	if err := unmarshalStrict(p, &st); err != nil {
		return nil, fmt.Errorf("release record: %w", err)
	}
	if st.Type != StatementType {
		return nil, recErr("_type %q is not %q", st.Type, StatementType)
	}
	if st.PredicateType != RecordPredicateType {
		return nil, recErr("predicateType %q is not %q", st.PredicateType, RecordPredicateType)
	}
	if len(st.Subject) != 1 {
		return nil, recErr("%d subjects, want exactly one, the kit file", len(st.Subject))
	}
	ref := &ita1.Statement{Type: st.Type, PredicateType: st.PredicateType, Predicate: &structpb.Struct{},
		Subject: []*ita1.ResourceDescriptor{{Name: st.Subject[0].Name, Digest: st.Subject[0].Digest}}}
	if err := ref.Validate(); err != nil {
		return nil, recErr("statement: %v", err)
	}
	pr := &st.Predicate
	in := RecordInput{
		KitFile:         st.Subject[0].Name,
		KitSize:         pr.Offkit.Size,
		ResourceURI:     pr.ResourceURI,
		VerifierVersion: pr.Verifier.Version[RecordVerifierName],
		Name:            pr.Offkit.Name,
		Version:         pr.Offkit.Version,
		FormatVersion:   pr.Offkit.FormatVersion,
		Threshold:       pr.Offkit.Threshold,
		Signers:         pr.Offkit.Signers,
	}
	var err error
	if in.KitDigest, err = oneDigest("subject "+in.KitFile, st.Subject[0].Digest); err != nil {
		return nil, err
	}
	if in.Statement, err = oneDigest("statement", pr.Offkit.Statement); err != nil {
		return nil, err
	}
	if in.TimeVerified, err = time.Parse(time.RFC3339, pr.TimeVerified); err != nil {
		return nil, recErr("timeVerified %q is not an RFC 3339 time", pr.TimeVerified)
	}
	switch pr.VerificationResult {
	case ResultPassed:
		in.Passed = true
	case ResultFailed:
	default:
		return nil, recErr("verificationResult %q is not %q or %q", pr.VerificationResult, ResultPassed, ResultFailed)
	}
	if pr.Policy.URI != RecordPolicyKeys || pr.Policy.Digest != nil {
		in.Policy = &RecordPolicy{URI: pr.Policy.URI}
		if in.Policy.Digest, err = oneDigest("policy", pr.Policy.Digest); err != nil {
			return nil, err
		}
	}
	if len(pr.Offkit.Keys) > maxRecordList || len(pr.Offkit.Images) > maxRecordList {
		return nil, recErr("more than %d keys or images", maxRecordList)
	}
	for _, k := range pr.Offkit.Keys {
		d, err := ParseHex(k.SHA256)
		if err != nil {
			return nil, fmt.Errorf("release record: key %q: %w", k.KeyID, err)
		}
		in.Keys = append(in.Keys, RecordKey{KeyID: k.KeyID, PEM: d})
	}
	for _, im := range pr.Offkit.Images {
		in.Images = append(in.Images, RecordImage(im))
	}
	want, err := in.statement()
	if err != nil {
		return nil, err
	}
	if err := canonical("release record", p, want); err != nil {
		return nil, fmt.Errorf("%w: its fields must be those NewRecord writes for its values, in order", err)
	}
	return &Record{RecordInput: in, Statement: &st, Payload: p}, nil
}

// oneDigest reads a DigestSet that must be exactly {"sha256": <hex>}.
func oneDigest(what string, set map[string]string) (Digest, error) {
	if len(set) != 1 {
		return Digest{}, recErr("%s must have exactly one digest, sha256", what)
	}
	d, err := ParseHex(set[Algorithm])
	if err != nil {
		return Digest{}, fmt.Errorf("release record: %s: %w", what, err)
	}
	return d, nil
}
