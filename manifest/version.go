package manifest

import "golang.org/x/mod/semver"

// CompareVersions compares two kit versions (semantic versions 2.0.0
// without a leading v) by semantic-version precedence: -1 if a < b, 0 if
// they are equal in precedence (build metadata is ignored), +1 if a > b.
// An invalid version sorts before every valid one.
func CompareVersions(a, b string) int { return semver.Compare("v"+a, "v"+b) }
