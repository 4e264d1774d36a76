#!/usr/bin/env bash
# The main job on the example kit (make demo): build, sign, verify, inspect,
# unpack all or nothing, the cutover policy gate; then the same checks with
# tools a fresh machine has (GNU tar, sha256sum, openssl, python3), and with
# the cosign CLI when it is installed (make interop installs it first and
# requires it).
#
#   scripts/demo.sh [--require-cosign]
#
# Writes to .cache/demo/. The kit's time is the last commit's, as a release
# pipeline would take it, so the kit is reproducible.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

REQUIRE_COSIGN=0
[[ "${1:-}" == --require-cosign ]] && REQUIRE_COSIGN=1
OFFKIT="${OFFKIT:-bin/offkit}"
DEMO=.cache/demo
export COSIGN_PASSWORD=offkit-demo-password TUF_ROOT="$PWD/$DEMO/tuf"
SOURCE_DATE_EPOCH="$(git log -1 --format=%ct 2>/dev/null || echo 1700000000)"
export SOURCE_DATE_EPOCH

run() { echo "+ $*"; "$@"; }
say() { echo "# $*"; }

rm -rf "$DEMO"
mkdir -p "$DEMO/site" "$DEMO/state" "$DEMO/extracted"
echo "+ SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH  # the last commit's time: a reproducible kit"

say "The release pipeline: a key pair, a signed kit, verified and inspected"
run "$OFFKIT" keygen --output-key-prefix "$DEMO/demo"
run "$OFFKIT" build testdata/example/kit.yaml -o "$DEMO/example.tar.zst" --key "$DEMO/demo.key"
run "$OFFKIT" verify "$DEMO/example.tar.zst" --key "$DEMO/demo.pub"
run "$OFFKIT" inspect "$DEMO/example.tar.zst"

say "The air-gapped site: unpack all or nothing, remembering the version accepted"
run "$OFFKIT" unpack "$DEMO/example.tar.zst" -C "$DEMO/site" --key "$DEMO/demo.pub" --state-dir "$DEMO/state"

say "The cutover gate: the example still has a pending component, so the policy refuses it (exit 4)"
status=0
run "$OFFKIT" verify "$DEMO/example.tar.zst" --key "$DEMO/demo.pub" --policy testdata/example/policy.yaml || status=$?
if [[ $status != 4 ]]; then
	echo "demo: expected exit 4 from the policy gate, got $status" >&2
	exit 1
fi
say "exit 4, as expected: not cutover-ready until object-store-seeds is delivered"

say "The same checks with stock tools: GNU tar, sha256sum, openssl and python3"
kit="$DEMO/example.tar.zst"
if ! command -v zstd >/dev/null; then
	# GNU tar needs the zstd program for .tar.zst; the same kit as gzip
	# checks the same way.
	say "zstd is not installed: checking the same kit built with --compression gzip"
	run "$OFFKIT" build testdata/example/kit.yaml -o "$DEMO/example.tar.gz" --key "$DEMO/demo.key" --compression gzip -q
	kit="$DEMO/example.tar.gz"
fi
run tar -xf "$kit" -C "$DEMO/extracted"
root="$DEMO/extracted/concelier-lnm-21.101.0"
(cd "$root" && run sha256sum --check --strict SHA256SUMS)
# SHA256SUMS.sig is the base64 of an ECDSA P-256 signature (DER) over
# SHA256SUMS, as cosign sign-blob writes it.
base64 -d "$root/SHA256SUMS.sig" >"$DEMO/sums.sig.der"
run openssl dgst -sha256 -verify "$DEMO/demo.pub" -signature "$DEMO/sums.sig.der" "$root/SHA256SUMS"
# manifest.dsse.json signs the DSSE pre-authentication encoding of its
# payload (FORMAT §9); the payload is the in-toto statement, whose subjects
# include SHA256SUMS itself.
python3 - "$root/manifest.dsse.json" "$DEMO" <<'PY'
import base64, json, sys
env = json.load(open(sys.argv[1]))
payload = base64.b64decode(env["payload"])
t = env["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)
open(sys.argv[2] + "/statement.pae", "wb").write(pae)
open(sys.argv[2] + "/statement.sig.der", "wb").write(base64.b64decode(env["signatures"][0]["sig"]))
open(sys.argv[2] + "/statement.json", "wb").write(payload)
PY
run openssl dgst -sha256 -verify "$DEMO/demo.pub" -signature "$DEMO/statement.sig.der" "$DEMO/statement.pae"
sums="$(sha256sum "$root/SHA256SUMS" | cut -d' ' -f1)"
echo "+ python3: the signed statement names SHA256SUMS by its digest $sums"
python3 - "$DEMO/statement.json" "$sums" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
subjects = {s["name"]: s["digest"]["sha256"] for s in st["subject"]}
if subjects.get("SHA256SUMS") != sys.argv[2]:
    sys.exit("demo: the statement does not name this SHA256SUMS")
print("OK: SHA256SUMS is subject %d of %d of the signed statement" % (list(subjects).index("SHA256SUMS") + 1, len(subjects)))
PY

COSIGN="$(command -v cosign || true)"
[[ -n "$COSIGN" || ! -x .cache/bin/cosign ]] || COSIGN="$PWD/.cache/bin/cosign"
if [[ -z "$COSIGN" ]]; then
	if [[ $REQUIRE_COSIGN == 1 ]]; then
		echo "demo: cosign is not installed (make tools installs it)" >&2
		exit 1
	fi
	say "The cosign CLI is not installed: skipped its checks. 'make interop' installs it (a few minutes) and runs them."
	exit 0
fi
say "And with the cosign CLI ($COSIGN)"
pub="$PWD/$DEMO/demo.pub"
(
	cd "$root"
	run "$COSIGN" verify-blob --key "$pub" --signature SHA256SUMS.sig --insecure-ignore-tlog SHA256SUMS 2>&1 | grep -v '^WARNING'
	run "$COSIGN" verify-blob-attestation --key "$pub" --signature manifest.dsse.json \
		--type https://offkit.dev/kit-manifest/v1 --insecure-ignore-tlog migrations/21-101/apply.sh 2>&1 | grep -v '^WARNING'
)
