package store

import (
	"context"
	"strings"
	"testing"
)

// FuzzURL: whatever the string, parsing a store or kit URL does not panic;
// a kit URL that is accepted names a kit name and version that CheckRelease
// accepts (they become paths and keys), with no '.', '..' or empty element
// on the way; and an error never shows what follows an '@'.
func FuzzURL(f *testing.F) {
	for _, s := range []string{
		"file:///srv/releases/concelier-lnm/21.101.0",
		"s3://releases/concelier/concelier-lnm/21.101.0",
		"oci://registry.site:5000/releases/concelier-lnm:21.101.0_build.7",
		"s3://AKIA:secret@releases/x/app/1.0.0",
		"oci://robot:1234/secret@host/repo:1.0.0",
		"file:///a/../b/app/1.0.0",
		"s3://b/p/app/1.0.0?X-Amz-Signature=secret",
		"oci://h:5000/r@sha256:" + strings.Repeat("a", 64),
		"s3://b/%2e%2e/app/1.0.0",
		"file://localhost/srv/app/1.0.0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		name, version, err := KitPins(raw)
		if err == nil {
			if name != "" {
				if err := CheckRelease(name, version); err != nil {
					t.Fatalf("KitPins(%q) = %q, %q, which CheckRelease refuses: %v", raw, name, version, err)
				}
			}
			if version == "" || strings.ContainsAny(version, "/\x00") {
				t.Fatalf("KitPins(%q): version %q", raw, version)
			}
		}
		// Parsing only: a file:// store is opened, others need a server.
		if strings.HasPrefix(raw, "file://") {
			if _, _, _, err := OpenKit(context.Background(), raw, Options{}); err != nil {
				checkHidden(t, raw, err.Error())
			}
		}
		if err != nil {
			checkHidden(t, raw, err.Error())
		}
		checkHidden(t, raw, redact(raw))
	})
}

// checkHidden fails if msg shows the part of raw after an '@' (where a
// password or token would be).
func checkHidden(t *testing.T, raw, msg string) {
	t.Helper()
	if !strings.Contains(raw, "@") {
		return
	}
	before := raw[:strings.Index(raw, "@")]
	// What precedes the '@' after the scheme is the user information.
	if _, rest, ok := strings.Cut(before, "://"); ok && len(rest) >= 4 && strings.Contains(msg, rest) {
		t.Fatalf("%q: the message shows the user information %q: %s", raw, rest, msg)
	}
}
