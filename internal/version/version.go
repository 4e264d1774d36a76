// Package version reports offkit's version: stamped at build time with
// -ldflags "-X github.com/offkit/offkit/internal/version.Version=...", else
// taken from the module's build information.
package version

import "runtime/debug"

// Version is set by the linker; empty means "ask the build info".
var Version = ""

// String returns the version, "dev" when nothing better is known.
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
