#!/usr/bin/env bash
# Idempotently install the tools the tests, the benchmark and the demo need:
#   - cosign (pinned) into ./.cache/bin via `go install` (used by interop tests/bench)
#   - zstd, /usr/bin/time and /usr/bin/docker-registry (the CNCF distribution
#     registry, for the images tests) and curl (S3 interop) via apt-get, only when missing
#   - crane, oras and versitygw (pinned) into ./.cache/bin, for the store tests
# Quiet when there is nothing to do; reports what it installs on stderr.
set -euo pipefail

COSIGN_VERSION="${COSIGN_VERSION:-v2.6.5}"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
BIN_DIR="$ROOT/.cache/bin"
mkdir -p "$BIN_DIR"

log() { printf 'tools.sh: %s\n' "$*" >&2; }

# Serialise concurrent runs (e.g. parallel make invocations).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$ROOT/.cache/tools.lock"
	flock 9
fi

# --- cosign -----------------------------------------------------------------
cosign_version() {
	# Read the module version embedded by `go install`; no need to execute it.
	go version -m "$1" 2>/dev/null |
		awk '$1 == "mod" && $2 == "github.com/sigstore/cosign/v2" { print $3 }'
}

if [[ ! -x "$BIN_DIR/cosign" || "$(cosign_version "$BIN_DIR/cosign")" != "$COSIGN_VERSION" ]]; then
	log "installing cosign $COSIGN_VERSION into .cache/bin (go install; this takes a few minutes)"
	GOBIN="$BIN_DIR" \
		go install "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION" >&2
	got="$(cosign_version "$BIN_DIR/cosign")"
	if [[ "$got" != "$COSIGN_VERSION" ]]; then
		log "error: installed cosign reports version '${got:-unknown}', want $COSIGN_VERSION"
		exit 1
	fi
fi

# --- apt packages -----------------------------------------------------------
apt_pkgs=()
command -v zstd >/dev/null 2>&1 || apt_pkgs+=(zstd)
[[ -x /usr/bin/time ]] || apt_pkgs+=(time)
[[ -x /usr/bin/docker-registry ]] || apt_pkgs+=(docker-registry)
command -v curl >/dev/null 2>&1 || apt_pkgs+=(curl)
command -v jq >/dev/null 2>&1 || apt_pkgs+=(jq)

if ((${#apt_pkgs[@]})); then
	if ! command -v apt-get >/dev/null 2>&1; then
		log "error: missing ${apt_pkgs[*]} and apt-get is not available; install them manually"
		exit 1
	fi
	SUDO=()
	if [[ "$(id -u)" != 0 ]]; then
		if command -v sudo >/dev/null 2>&1; then
			SUDO=(sudo)
		else
			log "error: missing ${apt_pkgs[*]}; need root (or sudo) to apt-get install"
			exit 1
		fi
	fi
	log "installing ${apt_pkgs[*]} via apt-get"
	"${SUDO[@]}" apt-get update -qq >&2
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >&2
fi

# --- crane and oras (store/oci_test.go: interop of the oci:// store) ---------
# crane is built from the go-containerregistry module go.mod pins; oras pinned.
ORAS_VERSION="${ORAS_VERSION:-v1.3.6}"
mod_version() {
	# $1 binary, $2 module path: the version `go version -m` reports for it.
	go version -m "$1" 2>/dev/null | awk -v m="$2" '($1 == "mod" || $1 == "dep") && $2 == m { print $3 }'
}
ggcr="github.com/google/go-containerregistry"
want="$(go list -m -f '{{.Version}}' "$ggcr")"
if [[ ! -x "$BIN_DIR/crane" || "$(mod_version "$BIN_DIR/crane" "$ggcr")" != "$want" ]]; then
	log "building crane ($ggcr $want, from go.mod) into .cache/bin"
	go build -o "$BIN_DIR/crane" "$ggcr/cmd/crane" >&2
fi
# go_install NAME MODULE PACKAGE VERSION: go install PACKAGE@VERSION into
# .cache/bin unless NAME there already reports MODULE at VERSION.
go_install() {
	local name="$1" mod="$2" pkg="$3" version="$4" got
	[[ -x "$BIN_DIR/$name" && "$(mod_version "$BIN_DIR/$name" "$mod")" == "$version" ]] && return 0
	log "installing $name $version into .cache/bin (go install; this takes a few minutes)"
	GOBIN="$BIN_DIR" go install "$pkg@$version" >&2
	got="$(mod_version "$BIN_DIR/$name" "$mod")"
	if [[ "$got" != "$version" ]]; then
		log "error: installed $name reports version '${got:-unknown}', want $version"
		exit 1
	fi
}
go_install oras oras.land/oras oras.land/oras/cmd/oras "$ORAS_VERSION"

# --- versitygw (store/s3_test.go, internal/s3test: a real S3 server) ---------
# VersityGW's posix backend serves S3 on loopback from a directory.
VERSITYGW_VERSION="${VERSITYGW_VERSION:-v1.8.0}"
go_install versitygw github.com/versity/versitygw github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION"
