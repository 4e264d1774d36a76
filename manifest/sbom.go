package manifest

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/offkit/offkit/internal/strictjson"
)

// MaxSBOMSize bounds every SPDX document a kit carries.
const MaxSBOMSize = 64 << 20

// NamespacePrefix starts the documentNamespace of every kit SPDX document.
const NamespacePrefix = "https://offkit.dev/spdx/"

// ComponentSBOMPath is where the SPDX document provided for a component is
// carried in the kit.
func ComponentSBOMPath(component string) string { return SBOMDir + "/" + component + ".spdx.json" }

// KitSBOM generates the kit's SPDX 2.3 document from its manifest: a package
// for the kit that CONTAINS a package per component, each of which CONTAINS
// its files with their SHA256; provided component SBOMs are files of the kit
// package that DESCRIBE (DESCRIBED_BY) their component. An image component's
// package is the image: its version and SHA256 checksum are the pinned
// digest, its purl pkg:oci/..., and it contains no files; the image layout's
// files are files of the kit package. Its created time is the manifest's and
// its namespace is derived from the kit's content, so the same kit always
// gives the same document.
func KitSBOM(m *Manifest) *spdx.Document {
	// The namespace digest covers every path and digest the document lists.
	var ns bytes.Buffer
	fmt.Fprintf(&ns, "%s\n", m.Root())
	kitPkg := common.ElementID("Package-kit")
	doc := &spdx.Document{
		SPDXVersion:    spdx.Version,
		DataLicense:    spdx.DataLicense,
		SPDXIdentifier: "DOCUMENT",
		DocumentName:   m.Root(),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: m.Tool.Name + "-" + m.Tool.Version}},
			Created:  m.Created,
		},
	}
	doc.Packages = append(doc.Packages, &spdx.Package{
		PackageName: m.Name, PackageSPDXIdentifier: kitPkg, PackageVersion: m.Version,
		PackageDownloadLocation: "NOASSERTION", FilesAnalyzed: true, IsFilesAnalyzedTagPresent: true,
		PackageComment: "offkit offline kit " + m.Root(), PrimaryPackagePurpose: "ARCHIVE",
	})
	rel := func(a, b common.ElementID, kind string) {
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", string(a)), RefB: common.MakeDocElementID("", string(b)), Relationship: kind,
		})
	}
	rel("DOCUMENT", kitPkg, "DESCRIBES")
	addFile := func(owner common.ElementID, path string, d Digest) common.ElementID {
		id := common.ElementID("File-" + SHA256([]byte(path)).Hex()[:24])
		doc.Files = append(doc.Files, &spdx.File{
			FileName: "./" + path, FileSPDXIdentifier: id,
			Checksums:         []common.Checksum{{Algorithm: common.SHA256, Value: d.Hex()}},
			FileCopyrightText: "NOASSERTION", LicenseConcluded: "NOASSERTION",
		})
		rel(owner, id, "CONTAINS")
		fmt.Fprintf(&ns, "%s  %s\n", d.Hex(), path)
		return id
	}
	for _, c := range m.Components {
		pid := common.ElementID("Package-" + c.Name)
		comment := fmt.Sprintf("offkit component of type %s at %s", c.Type, c.Path)
		if c.Pending {
			comment += " (pending: declared, not yet delivered)"
		}
		if c.Image != nil {
			doc.Packages = append(doc.Packages, imagePackage(c.Name, pid, c.Image))
		} else {
			doc.Packages = append(doc.Packages, &spdx.Package{
				PackageName: c.Name, PackageSPDXIdentifier: pid, PackageVersion: m.Version,
				PackageDownloadLocation: "NOASSERTION", FilesAnalyzed: true, IsFilesAnalyzedTagPresent: true,
				PackageComment: comment,
			})
		}
		rel(kitPkg, pid, "CONTAINS")
		for _, f := range c.Files {
			addFile(pid, f.Path, f.Digest)
		}
		if c.SBOM != nil {
			sid := addFile(kitPkg, c.SBOM.Path, c.SBOM.Digest)
			rel(pid, sid, "DESCRIBED_BY")
		}
	}
	if m.Images != nil {
		for _, f := range m.Images.Files {
			addFile(kitPkg, f.Path, f.Digest)
		}
	}
	doc.DocumentNamespace = NamespacePrefix + m.Root() + "-" + SHA256(ns.Bytes()).Hex()
	return doc
}

// imagePackage returns the SPDX package of an image component.
func imagePackage(name string, id common.ElementID, img *ImageRef) *spdx.Package {
	comment := "offkit image component: " + img.Reference
	if len(img.Platforms) > 0 {
		comment += " (platforms " + strings.Join(img.Platforms, ", ") + ")"
	}
	return &spdx.Package{
		PackageName: name, PackageSPDXIdentifier: id, PackageVersion: img.Digest.String(),
		PackageDownloadLocation: "NOASSERTION", FilesAnalyzed: false, IsFilesAnalyzedTagPresent: true,
		PackageChecksums: []common.Checksum{{Algorithm: common.SHA256, Value: img.Digest.Hex()}},
		PackageExternalReferences: []*spdx.PackageExternalReference{{
			Category: "PACKAGE-MANAGER", RefType: "purl", Locator: ImagePURL(name, img),
		}},
		PackageComment: comment, PrimaryPackagePurpose: "CONTAINER",
	}
}

// ImagePURL returns the package URL of an image, as the purl specification
// defines the oci type: pkg:oci/<name>@sha256%3A<hex>, where name is the
// last element of the repository (the component's name when there is
// none), with the qualifiers repository_url (the repository, registry host
// included) and tag, when known.
func ImagePURL(component string, img *ImageRef) string {
	name := component
	if img.Repository != "" {
		name = img.Repository[strings.LastIndexByte(img.Repository, '/')+1:]
	}
	u := "pkg:oci/" + purlEscape(strings.ToLower(name), false) + "@" + purlEscape(img.Digest.String(), false)
	var q []string
	if img.Repository != "" {
		q = append(q, "repository_url="+purlEscape(img.Repository, true))
	}
	if img.Tag != "" {
		q = append(q, "tag="+purlEscape(img.Tag, false))
	}
	if len(q) > 0 {
		u += "?" + strings.Join(q, "&")
	}
	return u
}

// purlEscape percent-encodes every byte but the unreserved characters of
// RFC 3986 (and '/', when slash is true).
func purlEscape(s string, slash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || (slash && c == '/') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// MarshalSBOM encodes an SPDX document as JSON (tools-golang's writer).
func MarshalSBOM(doc *spdx.Document) ([]byte, error) {
	var b bytes.Buffer
	if err := spdxjson.Write(doc, &b, spdxjson.Indent(" "), spdxjson.EscapeHTML(false)); err != nil {
		return nil, fmt.Errorf("encode SPDX: %w", err)
	}
	return b.Bytes(), nil
}

// sbomHeader is what offkit checks of a carried SPDX document: the fields
// SPDX makes mandatory.
type sbomHeader struct {
	SPDXVersion       string `json:"spdxVersion"`
	SPDXID            string `json:"SPDXID"`
	Name              string `json:"name"`
	DocumentNamespace string `json:"documentNamespace"`
	DataLicense       string `json:"dataLicense"`
	CreationInfo      *struct {
		Creators []string `json:"creators"`
		Created  string   `json:"created"`
	} `json:"creationInfo"`
}

// CheckSBOM checks a carried SPDX JSON document: the strict JSON reading
// against SPDX 2.3's types (no key may reach a field by case folding, as
// encoding/json-based readers would let it; SPDX is open to extensions,
// so unknown keys are allowed), and the fields SPDX makes mandatory:
// version SPDX-2.x, SPDXRef-DOCUMENT, name, namespace, data license and
// creation info with at least one creator. Its cost is linear in the
// document. The rest of the document is not interpreted: a reader that
// does (tools-golang's, ParseSBOM) may do so after this check.
func CheckSBOM(data []byte) error {
	if len(data) > MaxSBOMSize {
		return malformed("SPDX document is larger than %d bytes", MaxSBOMSize)
	}
	if err := jsonError(strictjson.Check(data, new(v2_3.Document), strictjson.AllowUnknownFields(), strictjson.KnownNames("documentDescribes", "hasFiles"))); err != nil {
		return fmt.Errorf("SPDX document: %w", err)
	}
	var h sbomHeader
	if err := unmarshalStrict(data, &h, strictjson.AllowUnknownFields()); err != nil {
		return fmt.Errorf("SPDX document: %w", err)
	}
	switch {
	case !strings.HasPrefix(h.SPDXVersion, "SPDX-2."):
		return malformed("SPDX document: spdxVersion %q is not SPDX-2.x", h.SPDXVersion)
	case h.SPDXID != "SPDXRef-DOCUMENT":
		return malformed("SPDX document: SPDXID is not SPDXRef-DOCUMENT")
	case h.Name == "":
		return malformed("SPDX document: name is missing")
	case h.DocumentNamespace == "":
		return malformed("SPDX document: documentNamespace is missing")
	case h.DataLicense != spdx.DataLicense:
		return malformed("SPDX document: dataLicense %q is not %s", h.DataLicense, spdx.DataLicense)
	case h.CreationInfo == nil || len(h.CreationInfo.Creators) == 0 || h.CreationInfo.Created == "":
		return malformed("SPDX document: creationInfo with creators and created is missing")
	}
	return nil
}

// ParseSBOM checks an SPDX JSON document (CheckSBOM) and parses it with
// tools-golang, for tools and tests. Readers of kits use CheckSBOM alone:
// tools-golang's reader builds a generic tree first and panics on some
// inputs (a null package).
func ParseSBOM(data []byte) (doc *spdx.Document, err error) {
	if err := CheckSBOM(data); err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			doc, err = nil, malformed("SPDX document: tools-golang cannot read it: %v", p)
		}
	}()
	doc, err = spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		return nil, malformed("SPDX document: %v", err)
	}
	return doc, nil
}

// CheckKitSBOM verifies that the kit's SPDX document agrees with the kit:
// it lists exactly the files of SHA256SUMS other than itself, each with the
// same SHA256, and a package for every component of the manifest; an image
// component's package has the image's digest as its SHA256 checksum.
func CheckKitSBOM(doc *spdx.Document, m *Manifest, sums Sums) error {
	want := sums.Map()
	delete(want, KitSBOMName)
	got := map[string]bool{}
	for _, f := range doc.Files {
		name, ok := strings.CutPrefix(f.FileName, "./")
		if !ok {
			return malformed("SBOM file %q does not start with ./", f.FileName)
		}
		d, listed := want[name]
		if !listed {
			return malformed("SBOM lists %q, which is not in %s", name, SumsName)
		}
		if got[name] {
			return malformed("SBOM lists %q twice", name)
		}
		got[name] = true
		var sha string
		for _, c := range f.Checksums {
			if c.Algorithm == common.SHA256 {
				sha = c.Value
			}
		}
		if sha != d.Hex() {
			return malformed("SBOM gives %q SHA256 %q, %s gives %s", name, sha, SumsName, d.Hex())
		}
	}
	if len(got) != len(want) {
		var missing []string
		for n := range want {
			if !got[n] {
				missing = append(missing, n)
			}
		}
		sort.Strings(missing)
		return malformed("SBOM does not list %d file(s) of %s, first %q", len(missing), SumsName, missing[0])
	}
	pkgs := map[string][]*spdx.Package{}
	for _, p := range doc.Packages {
		pkgs[p.PackageName] = append(pkgs[p.PackageName], p)
	}
	for _, c := range m.Components {
		if len(pkgs[c.Name]) == 0 {
			return malformed("SBOM has no package for component %q", c.Name)
		}
		if c.Image == nil {
			continue
		}
		found := false
		for _, p := range pkgs[c.Name] {
			for _, sum := range p.PackageChecksums {
				found = found || (sum.Algorithm == common.SHA256 && sum.Value == c.Image.Digest.Hex())
			}
		}
		if !found {
			return malformed("SBOM has no package for image component %q with its digest %s", c.Name, c.Image.Digest)
		}
	}
	return nil
}
