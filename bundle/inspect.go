package bundle

import (
	"github.com/offkit/offkit/manifest"
)

// InspectionVersion identifies the JSON form of Inspection.
const InspectionVersion = "offkit.dev/inspect/v1"

// Inspection summarises a kit's head for auditors. Nothing in it is
// verified against a key: signers are listed as the kit claims them.
type Inspection struct {
	SchemaVersion string               `json:"schemaVersion"`
	Root          string               `json:"root"`
	Compression   string               `json:"compression"`
	Manifest      *manifest.Manifest   `json:"manifest"`
	Signatures    []InspectedSignature `json:"signatures"`
	SBOMs         []manifest.FileRef   `json:"sboms"`
	Subjects      int                  `json:"subjects"`
	Images        []InspectedImage     `json:"images,omitempty"` // format v2: the image components
}

// InspectedImage is one image component: the image it pins and what the
// kit carries with it, as the manifest claims.
type InspectedImage struct {
	Component    string          `json:"component"`
	Reference    string          `json:"reference"`
	Repository   string          `json:"repository,omitempty"`
	Tag          string          `json:"tag,omitempty"`
	Digest       manifest.Digest `json:"digest"`
	MediaType    string          `json:"mediaType"`
	Platforms    []string        `json:"platforms,omitempty"` // the platform filter applied to an index
	Signatures   int             `json:"signatures"`          // cosign signatures carried
	Attestations int             `json:"attestations"`        // cosign attestations carried
	Referrers    int             `json:"referrers"`           // OCI 1.1 referrers carried
}

// InspectedSignature is one signature as the kit claims it.
type InspectedSignature struct {
	Index         int    `json:"index"`
	KeyID         string `json:"keyid"`
	SumsSignature string `json:"sumsSignature"`
}

// Inspect summarises the head.
func (h *Head) Inspect() *Inspection {
	in := &Inspection{
		SchemaVersion: InspectionVersion, Root: h.Root, Compression: string(h.Compression),
		Manifest: h.Manifest, Signatures: []InspectedSignature{}, Subjects: len(h.Statement.Subject),
	}
	for i, s := range h.Envelope.Signatures {
		in.Signatures = append(in.Signatures, InspectedSignature{Index: i + 1, KeyID: s.KeyID, SumsSignature: manifest.SumsSigNameFor(i)})
	}
	in.SBOMs = append(in.SBOMs, h.Manifest.SBOM)
	for _, c := range h.Manifest.Components {
		if c.SBOM != nil {
			in.SBOMs = append(in.SBOMs, *c.SBOM)
		}
		if c.Image != nil {
			in.Images = append(in.Images, inspectImage(c.Name, c.Image))
		}
	}
	return in
}

func inspectImage(component string, r *manifest.ImageRef) InspectedImage {
	im := InspectedImage{
		Component: component, Reference: r.Reference, Repository: r.Repository, Tag: r.Tag,
		Digest: r.Digest, MediaType: r.MediaType, Platforms: r.Platforms,
	}
	for _, a := range r.Artifacts {
		switch a.Role {
		case manifest.RoleSignature:
			im.Signatures++
		case manifest.RoleAttestation:
			im.Attestations++
		case manifest.RoleReferrer:
			im.Referrers++
		}
	}
	return im
}

// File returns the content of a metadata file of the head by its name in
// the kit ("SHA256SUMS", "manifest.dsse.json", "sbom/kit.spdx.json", ...),
// or nil.
func (h *Head) File(name string) []byte {
	switch name {
	case manifest.SumsName:
		return h.SumsRaw
	case manifest.EnvelopeName:
		return h.EnvelopeRaw
	}
	if i, ok := manifest.SumsSigIndex(name); ok && i < len(h.SumsSigs) {
		return h.SumsSigs[i]
	}
	return h.SBOMs[name]
}

// ResultVersion identifies the JSON form of Result.
const ResultVersion = "offkit.dev/result/v1"

// Result is what build and sign report: the kit written and what it holds.
type Result struct {
	SchemaVersion string      `json:"schemaVersion"`
	Operation     string      `json:"operation"` // "build" or "sign"
	Output        string      `json:"output"`
	Kit           *Inspection `json:"kit"`
}

// Result summarises the head of a kit just written to output.
func (h *Head) Result(op, output string) *Result {
	return &Result{SchemaVersion: ResultVersion, Operation: op, Output: output, Kit: h.Inspect()}
}
