// Package testtool is the one place tests decide what to do when a real
// tool they run (cosign, crane, oras, versitygw, docker-registry, GNU tar,
// jq) is missing: skip, or fail when OFFKIT_REQUIRE_INTEROP=1 or CI is set,
// as make test and CI set them. It is test support: only tests import it.
package testtool

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Required reports whether a missing tool is a failure: OFFKIT_REQUIRE_INTEROP=1
// or CI is set.
func Required() bool {
	return os.Getenv("OFFKIT_REQUIRE_INTEROP") == "1" || os.Getenv("CI") != ""
}

// Missing skips t, or fails it when Required, saying why.
func Missing(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s; OFFKIT_REQUIRE_INTEROP=1 or CI is set, so this is a failure ('make tools' installs the test tools)", why)
	}
	t.Skipf("%s; test skipped (OFFKIT_REQUIRE_INTEROP=1 makes this a failure; 'make tools' installs the test tools)", why)
}

// Need returns the path of tool on PATH, or calls Missing.
func Need(t testing.TB, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		Missing(t, fmt.Sprintf("%s is not on PATH (%v)", tool, err))
	}
	return p
}
