package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// Options configure the stores a URL opens.
type Options struct {
	// Insecure allows plain HTTP and unverified TLS to an OCI registry
	// (loopback registries are plain HTTP already).
	Insecure bool
}

// IsURL reports whether s names a store rather than a local file: it
// starts with file://, s3:// or oci://.
func IsURL(s string) bool {
	for _, p := range []string{"file://", "s3://", "oci://"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// URLError is a URL offkit cannot use, with why.
type URLError struct {
	URL string
	Why string
}

func (e *URLError) Error() string { return fmt.Sprintf("%s: %s", redact(e.URL), e.Why) }

// Redact is redact for the command line, which echoes arguments that are
// not store URLs.
func Redact(raw string) string { return redact(raw) }

// redact drops a URL's user information, query and fragment, where
// credentials would be: an error shows where, never with what.
func redact(raw string) string {
	if strings.Contains(raw, "@") {
		const hidden = "(not shown: it holds an '@', which may be credentials)"
		if scheme, _, ok := strings.Cut(raw, ":"); ok && scheme != "" && strings.Trim(scheme, "abcdefghijklmnopqrstuvwxyz0123456789+.-") == "" {
			return scheme + ":... " + hidden
		}
		return "a URL " + hidden
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL offkit cannot parse)"
	}
	hidden := u.User != nil || u.RawQuery != "" || u.Fragment != ""
	u.User, u.RawQuery, u.Fragment, u.ForceQuery = nil, "", "", false
	if hidden {
		return u.String() + " (user, query and fragment not shown)"
	}
	return u.String()
}

// Open returns the store a URL names: file:///DIR, s3://BUCKET[/PREFIX] or
// oci://HOST[:PORT]/REPOSITORY.
func Open(ctx context.Context, raw string, o Options) (Store, error) {
	u, err := parse(raw)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "file":
		return nilIfErr(NewDir(u.Path))
	case "s3":
		return nilIfErr(NewS3(ctx, u.Host, strings.Trim(u.Path, "/")))
	case "oci":
		repo := u.Host + u.Path
		if strings.Contains(repo, "@") || strings.LastIndex(repo, ":") > strings.Index(repo, "/") {
			return nil, &URLError{raw, "a store is a repository, without a tag or digest"}
		}
		return nilIfErr(NewOCI(repo, o.Insecure))
	}
	return nil, &URLError{raw, "unknown scheme"}
}

// OpenKit returns the store holding the kit a URL names, and the kit's name
// and version: file:///DIR/NAME/VERSION, s3://BUCKET[/PREFIX]/NAME/VERSION,
// or oci://HOST[:PORT]/REPOSITORY:TAG (the name is then the kit's, "").
func OpenKit(ctx context.Context, raw string, o Options) (st Store, name, version string, err error) {
	k, err := splitKit(raw)
	if err != nil {
		return nil, "", "", err
	}
	if k.repo != "" {
		oci, err := NewOCI(k.repo, o.Insecure)
		if err != nil {
			return nil, "", "", err
		}
		return oci, "", k.tag, nil
	}
	st, err = Open(ctx, k.store, o)
	return st, k.name, k.version, err
}

// kitURL is a kit URL taken apart: the store's URL and the kit's name and
// version, or for oci:// the repository and tag.
type kitURL struct {
	store, name, version string
	repo, tag            string
}

// splitKit takes a kit URL apart, refusing one that cannot name a kit.
func splitKit(raw string) (*kitURL, error) {
	u, err := parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "oci" {
		repo := u.Host + u.Path
		i := strings.LastIndex(repo, ":")
		if i < strings.Index(repo, "/") {
			return nil, &URLError{raw, "name a kit by its tag: oci://HOST/REPOSITORY:TAG"}
		}
		if !ociTagRE.MatchString(repo[i+1:]) {
			return nil, &URLError{raw, "the tag is not an OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})"}
		}
		return &kitURL{repo: repo[:i], tag: repo[i+1:]}, nil
	}
	dir, version := path.Split(strings.TrimSuffix(u.Path, "/"))
	dir, name := path.Split(strings.TrimSuffix(dir, "/"))
	if err := CheckRelease(name, version); err != nil {
		return nil, &URLError{raw, "name a kit as .../NAME/VERSION: " + err.Error()}
	}
	base := *u
	base.Path = strings.TrimSuffix(dir, "/")
	if base.Scheme == "file" && base.Path == "" {
		base.Path = "/"
	}
	return &kitURL{store: base.String(), name: name, version: version}, nil
}

func parse(raw string) (*url.URL, error) {
	if strings.Contains(raw, "@") {
		// No bucket, registry host, repository or kit name has an '@':
		// it is user information (which url.Parse may even read as a host
		// and port, "user:1234/secret@host"), or a digest reference.
		return nil, &URLError{raw, "no '@' allowed: credentials come from the environment, and a kit is named by its tag"}
	}
	u, err := url.Parse(raw)
	if err != nil {
		why := err.Error()
		var ue *url.Error
		if errors.As(err, &ue) {
			why = ue.Err.Error() // without the URL, which may hold credentials
		}
		return nil, &URLError{raw, why}
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, &URLError{raw, "no user, query or fragment allowed (credentials come from the environment)"}
	}
	for _, e := range strings.Split(u.Path, "/") {
		if e == "." || e == ".." {
			return nil, &URLError{raw, "no . or .. path elements allowed"}
		}
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, &URLError{raw, "a file URL names a local directory: file:///DIR"}
		}
		if !strings.HasPrefix(u.Path, "/") {
			return nil, &URLError{raw, "a file URL needs an absolute path: file:///DIR"}
		}
	case "s3":
		if u.Host == "" {
			return nil, &URLError{raw, "no bucket: s3://BUCKET/PREFIX"}
		}
	case "oci":
		if u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return nil, &URLError{raw, "want oci://HOST[:PORT]/REPOSITORY"}
		}
	default:
		return nil, &URLError{raw, "unknown scheme (want file://, s3:// or oci://)"}
	}
	return u, nil
}

// nilIfErr returns a nil Store, not a Store holding a nil pointer, when
// err is set.
func nilIfErr[S Store](st S, err error) (Store, error) {
	if err != nil {
		return nil, err
	}
	return st, nil
}

// KitPins returns the name and version a kit URL names, without opening
// the store: a kit read from a URL must be the one the URL names, so they
// become verification pins. The name of an oci:// kit is "" (a tag names
// a version only); its version is the tag with '_' mapped back to '+'.
func KitPins(raw string) (name, version string, err error) {
	k, err := splitKit(raw)
	if err != nil {
		return "", "", err
	}
	if k.repo != "" {
		return "", strings.ReplaceAll(k.tag, "_", "+"), nil
	}
	return k.name, k.version, nil
}
