package manifest

import (
	"errors"
	"strings"
	"testing"
)

const sbomHead = `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"x","documentNamespace":"https://example.org/x","creationInfo":{"creators":["Tool: x"],"created":"2023-11-14T22:13:20Z"}`

// TestCheckSBOMHostile: documents the red-team pass found costly or
// crashing in tools-golang's reader are checked in linear time, and
// ParseSBOM turns the library's panic into an error.
func TestCheckSBOMHostile(t *testing.T) {
	nullPackage := sbomHead + `,"packages":[null]}`
	if err := CheckSBOM([]byte(nullPackage)); err != nil {
		t.Fatalf("CheckSBOM(null package) = %v", err)
	}
	if _, err := ParseSBOM([]byte(nullPackage)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("ParseSBOM(null package) = %v, want ErrMalformed, not a panic", err)
	}
	// A MiB of null relationships: tools-golang takes seconds on it.
	nulls := sbomHead + `,"relationships":[null` + strings.Repeat(",null", 200000) + `]}`
	if err := CheckSBOM([]byte(nulls)); err != nil {
		t.Fatalf("CheckSBOM(null relationships) = %v", err)
	}
	for name, doc := range map[string]string{
		"case-variant field": strings.Replace(sbomHead, `"name"`, `"Name"`, 1) + "}",
		"folded duplicate":   sbomHead + `,"NAME":"y"}`,
		"missing creators":   strings.Replace(sbomHead, `"creators":["Tool: x"],`, "", 1) + "}",
		"SPDX 3":             strings.Replace(sbomHead, "SPDX-2.3", "SPDX-3.0", 1) + "}",
		"another SPDXID":     strings.Replace(sbomHead, "SPDXRef-DOCUMENT", "SPDXRef-X", 1) + "}",
		"extension folds":    sbomHead + `,"DocumentDescribes":[]}`,
	} {
		if err := CheckSBOM([]byte(doc)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: CheckSBOM = %v, want ErrMalformed", name, err)
		}
	}
	if err := CheckSBOM([]byte(sbomHead + `,"x-extension":{"any":1}}`)); err != nil {
		t.Errorf("an unknown extension field: %v", err)
	}
}
