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
	}
	return in
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
