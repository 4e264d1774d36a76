package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestURLAttackCredentialsEchoed: a URL with credentials in it (pasted
// from a console, or handed over by whoever publishes the URL) is refused,
// and the refusal must not print the secret (promise 5): the error is what
// offkit prints to stderr and CI logs.
func TestURLAttackCredentialsEchoed(t *testing.T) {
	const secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
	for _, raw := range []string{
		"s3://AKIAIOSFODNN7EXAMPLE:" + secret + "@releases/concelier",
		"oci://robot:" + secret + "@registry.site:5000/releases/kit",
		"s3://releases/concelier?X-Amz-Signature=" + secret,
		"file:///srv/releases#" + secret,
		"s3://AKIA:" + secret + "@releases/a b\x7f", // also a parse error
	} {
		_, err := Open(context.Background(), raw, Options{})
		if err == nil {
			t.Errorf("%q: accepted", raw)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("BUG: refusing a URL with credentials prints them: %q (store/url.go parse returns &URLError{raw, ...} "+
				"and URLError.Error prints raw; print u.Redacted() with the query and fragment dropped)", err.Error())
		}
		_, _, _, err = OpenKit(context.Background(), raw+"/demo/1.2.3", Options{})
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("BUG: OpenKit of %q prints the credentials: %q", raw, err.Error())
		}
	}
}

// TestURLAttackTraversal: URLs whose name or version would leave the
// store, encoded or not, are refused before any store is opened. Defended.
func TestURLAttackTraversal(t *testing.T) {
	dir := t.TempDir()
	for _, raw := range []string{
		"file://" + dir + "/../etc/1.2.3",
		"file://" + dir + "/%2e%2e/demo/1.2.3",
		"file://" + dir + "/demo/%2e%2e",
		"file://" + dir + "/demo/1.2.3%2F..%2F..%2Fx",
		"file://" + dir + "/demo%2F..%2F../1.2.3",
		"file://" + dir + "/de%00mo/1.2.3",
		"file://" + dir + "/demo/1.2.3%0a",
		"file://evil.host" + dir + "/demo/1.2.3",
		"file:" + dir + "/demo/1.2.3",
		"s3://releases/x/../demo/1.2.3",
		"s3://releases/demo/1.2.3%2F..",
		"oci://127.0.0.1:5000/releases/kit:../../x",
		"oci://127.0.0.1:5000/releases/kit:1.2.3/../x",
		"oci://127.0.0.1:5000/releases/../kit:1.2.3",
		"oci://127.0.0.1:5000/releases/kit@sha256:" + strings.Repeat("a", 64),
	} {
		st, name, version, err := OpenKit(context.Background(), raw, Options{})
		if err == nil && st != nil {
			if d, ok := st.(*Dir); ok && !strings.HasPrefix(d.versionDir(name, version), dir+"/") {
				t.Errorf("%q: opened %s", raw, d.versionDir(name, version))
			}
			if _, ok := st.(*OCI); ok {
				if _, err := ociTag(version); err == nil && strings.ContainsAny(version, "/.") && strings.Contains(version, "..") {
					t.Errorf("%q: tag %q", raw, version)
				}
				continue
			}
			if CheckRelease(name, version) != nil {
				t.Errorf("%q: accepted name %q version %q", raw, name, version)
			}
			continue
		}
		var ue *URLError
		if err != nil && !errors.As(err, &ue) && !strings.Contains(err.Error(), "not") {
			t.Logf("%q: %v", raw, err)
		}
	}
}
