package main

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"testing"

	"github.com/offkit/offkit/internal/version"
	"github.com/offkit/offkit/manifest"
)

// TestVersionJSON decodes 'offkit version --json': one JSON object and
// nothing after it, with exactly the documented fields.
func TestVersionJSON(t *testing.T) {
	r := runOffkit(t, t.TempDir(), nil, "version", "--json")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(r.stdout)))
	dec.DisallowUnknownFields()
	var v versionInfo
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("more than one JSON value in %q", r.stdout)
	}
	if v.SchemaVersion != "offkit.dev/version/v1" || v.Version != version.String() || v.Go == "" || v.Platform == "" {
		t.Errorf("got %+v", v)
	}
	want := []int{manifest.FormatVersion, manifest.FormatVersion2}
	if !slices.Equal(v.Formats.Read, want) || !slices.Equal(v.Formats.Write, want) {
		t.Errorf("formats = %+v, want read and write %v", v.Formats, want)
	}
}
