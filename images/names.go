package images

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Limits of the names a kit carries.
const (
	// maxRepositoryLen bounds a repository path, as go-containerregistry
	// and most registries do.
	maxRepositoryLen = 255
	// maxTagLen bounds a tag (OCI distribution specification).
	maxTagLen = 128
)

// The OCI distribution specification's grammar for a repository path's
// components, and for tags. Go's regexp runs in time linear in the input.
var (
	pathComponentRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$`)
	tagRE           = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// CheckRepositoryPath checks that path is a repository path ("team/app",
// without a registry host) as the OCI distribution specification defines
// them: components of lower-case letters and digits, separated inside by
// one '.', one or two '_' or any number of '-', joined by '/'. So no
// component is empty, ".", ".." or upper-case, and the path neither starts
// nor ends with '/'. It returns an error wrapping ErrName otherwise.
func CheckRepositoryPath(path string) error {
	switch {
	case path == "":
		return fmt.Errorf("%w: empty repository path", ErrName)
	case len(path) > maxRepositoryLen:
		return fmt.Errorf("%w: repository path %.64q… is longer than %d bytes", ErrName, path, maxRepositoryLen)
	}
	for i, rest := 1, path; ; i++ {
		el, more, found := strings.Cut(rest, "/")
		if !pathComponentRE.MatchString(el) {
			return fmt.Errorf("%w: repository path %q: element %d, %q, is not lower-case letters and digits separated by '.', '_', '__' or '-'", ErrName, path, i, el)
		}
		if !found {
			return nil
		}
		rest = more
	}
}

// CheckRepository checks a repository as a kit's manifest records it: a
// repository path, after a registry host ("registry.example:5000/team/app")
// when the first element has a '.' or ':', as go-containerregistry reads
// names. It returns an error wrapping ErrName unless the host is a valid
// registry and the path passes CheckRepositoryPath.
func CheckRepository(repo string) error {
	host, path, ok := strings.Cut(repo, "/")
	if !ok || !strings.ContainsAny(host, ".:") {
		return CheckRepositoryPath(repo)
	}
	if _, err := name.NewRegistry(host, name.StrictValidation); err != nil {
		return fmt.Errorf("%w: repository %q: registry %q: %v", ErrName, repo, host, err)
	}
	if err := CheckRepositoryPath(path); err != nil {
		return fmt.Errorf("repository %q: %w", repo, err)
	}
	return nil
}

// CheckTag checks that tag is a tag as the OCI distribution specification
// defines them: a letter, digit or '_', then at most 127 letters, digits,
// '.', '_' or '-'. It returns an error wrapping ErrName otherwise.
func CheckTag(tag string) error {
	if len(tag) > maxTagLen || !tagRE.MatchString(tag) {
		return fmt.Errorf("%w: tag %.140q is not a letter, digit or '_' followed by at most %d letters, digits, '.', '_' or '-'", ErrName, tag, maxTagLen-1)
	}
	return nil
}

// checkPrintable refuses a reference that is only shown, such as an
// image's original one, if it is longer than maxSourceLen or holds control
// characters, which would reach a terminal as they are.
func checkPrintable(s string) error {
	switch {
	case len(s) > maxSourceLen:
		return fmt.Errorf("%w: %.64q… is longer than %d bytes", ErrName, s, maxSourceLen)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }):
		return fmt.Errorf("%w: %q has control characters", ErrName, s)
	}
	return nil
}
