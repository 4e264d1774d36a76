#!/usr/bin/env bash
# Benchmark offkit build/verify against the equivalent manual pipeline
# (sha256sum + tar + zstd, and zstd + tar + sha256sum --check + cosign).
#
# Usage: scripts/bench.sh            (normally via `make bench`)
# Env:
#   BENCH_SIZE  sample size for internal/gensample (default 1GiB; e.g. 64MiB)
#   BENCH_SEED  sample seed (default 1)
#   BENCH_RUNS  runs per measurement; the best wall time is reported (default 3)
#   BENCH_GO    set to 0 to skip the Go benchmarks at the end
#   BENCH_IMAGES      set to 0 to skip the container image measurements
#   BENCH_IMAGE_SIZE  size of the generated image's big layer for
#                     internal/genimage (default 1GiB; e.g. 64MiB)
#   BENCH_PUBLISH     set to 0 to skip publish/pull through S3 and a directory
#   BENCH_MANY        set to 0 to skip the many-file samples (-shape many, and
#                     -shape tiny with BENCH_TINY_FILES files, default 200000)
#   BENCH_ONLY  set to "images", "publish" or "many" to run only those measurements
#   OFFKIT      offkit binary (default bin/offkit)
#   COSIGN      cosign binary (default .cache/bin/cosign)
#
# The sample is cached under .cache/bench/sample/<size>-seed<seed>/ and reused,
# the image layout under .cache/bench/image/<size>-seed<seed>/layout/.
# Page cache cannot be dropped here, so every measurement runs warm: the sample
# is read once before timing, and the best of BENCH_RUNS is taken.
# Peak RSS is GNU time's %M: the largest single process of a pipeline.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"

BENCH_SIZE="${BENCH_SIZE:-1GiB}"
BENCH_SEED="${BENCH_SEED:-1}"
BENCH_RUNS="${BENCH_RUNS:-3}"
BENCH_GO="${BENCH_GO:-1}"
BENCH_IMAGES="${BENCH_IMAGES:-1}"
BENCH_IMAGE_SIZE="${BENCH_IMAGE_SIZE:-1GiB}"
BENCH_ONLY="${BENCH_ONLY:-}"
BENCH_PUBLISH="${BENCH_PUBLISH:-1}"
BENCH_MANY="${BENCH_MANY:-1}"
OFFKIT="${OFFKIT:-$ROOT/bin/offkit}"
COSIGN="${COSIGN:-$ROOT/.cache/bin/cosign}"
TIME=/usr/bin/time
KIT_ROOT=bench-1.0.0 # <name>-<version> from the generated kit.yaml

die() { printf 'bench.sh: %s\n' "$*" >&2; exit 1; }
note() { printf 'bench.sh: %s\n' "$*" >&2; }

[[ -x "$OFFKIT" ]] || die "offkit binary not found at $OFFKIT (run: make build)"
[[ -x "$COSIGN" ]] || die "cosign not found at $COSIGN (run: make tools)"
[[ -x "$TIME" ]] || die "$TIME not found (run: make tools)"
command -v zstd >/dev/null || die "zstd not found (run: make tools)"
[[ "$BENCH_RUNS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
[[ -z "$BENCH_ONLY" || "$BENCH_ONLY" == images || "$BENCH_ONLY" == publish || "$BENCH_ONLY" == many ]] || die "BENCH_ONLY must be empty, \"images\", \"publish\" or \"many\""
[[ "$BENCH_ONLY" != images || "$BENCH_IMAGES" != 0 ]] || die "BENCH_ONLY=images with BENCH_IMAGES=0 measures nothing"
[[ "$BENCH_ONLY" != publish && "$BENCH_ONLY" != many ]] || BENCH_IMAGES=0
[[ "$BENCH_ONLY" != images && "$BENCH_ONLY" != many ]] || BENCH_PUBLISH=0
[[ "$BENCH_ONLY" != images && "$BENCH_ONLY" != publish ]] || BENCH_MANY=0
if [[ "$BENCH_IMAGES" != 0 ]]; then
	[[ -x /usr/bin/docker-registry ]] || die "/usr/bin/docker-registry not found (run: make tools)"
	command -v curl >/dev/null || die "curl not found"
fi

mkdir -p "$ROOT/.cache/bench/sample"

# --- sample -----------------------------------------------------------------
if [[ "$BENCH_ONLY" != images ]]; then
GEN_HASH="$(cat internal/gensample/*.go | sha256sum | cut -c1-16)"
SAMPLE="$ROOT/.cache/bench/sample/${BENCH_SIZE//[^A-Za-z0-9.]/_}-seed${BENCH_SEED}"
if [[ ! -f "$SAMPLE/.complete" || "$(cat "$SAMPLE/.complete")" != "$GEN_HASH" ]]; then
	note "generating $BENCH_SIZE sample (seed $BENCH_SEED) in ${SAMPLE#"$ROOT"/}"
	rm -rf "$SAMPLE" "$SAMPLE.tmp"
	go run ./internal/gensample -o "$SAMPLE.tmp" -size "$BENCH_SIZE" -seed "$BENCH_SEED"
	echo "$GEN_HASH" >"$SAMPLE.tmp/.complete"
	mv "$SAMPLE.tmp" "$SAMPLE"
fi
PAYLOAD_BYTES="$(find "$SAMPLE/data" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')"
PAYLOAD_FILES="$(find "$SAMPLE/data" -type f | wc -l)"
fi

WORK="$(mktemp -d "$ROOT/.cache/bench/work.XXXXXX")"
# The images section may start a registry (its pid in $WORK/registry.pid).
trap 'registry_stop; s3_stop; rm -rf "$WORK"' EXIT
# shellcheck source=scripts/bench_publish.sh
source "$ROOT/scripts/bench_publish.sh"
# shellcheck source=scripts/bench_many.sh
source "$ROOT/scripts/bench_many.sh"
registry_stop() {
	local f="${BENCH_WORK:-$WORK}/registry.pid" pid
	[[ -f "$f" ]] || return 0
	pid="$(cat "$f")"
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$f"
}

export COSIGN_PASSWORD="offkit-bench"
export BENCH_SAMPLE="${SAMPLE:-}" BENCH_WORK="$WORK" BENCH_OFFKIT="$OFFKIT" BENCH_COSIGN="$COSIGN" BENCH_KIT_ROOT="$KIT_ROOT"

note "keygen"
"$OFFKIT" keygen --output-key-prefix "$WORK/bench" >"$WORK/keygen.log" 2>&1 ||
	{ cat "$WORK/keygen.log" >&2; die "offkit keygen failed"; }

if [[ "$BENCH_ONLY" != images ]]; then
note "warm-up read of the sample ($PAYLOAD_FILES files, $PAYLOAD_BYTES bytes)"
# Not `tar -cf /dev/null`: GNU tar skips reading file data when writing there.
(cd "$SAMPLE" && find data -type f -print0 | xargs -0 cat >/dev/null)
fi

# --- measurement ------------------------------------------------------------
declare -a OPS=()
declare -A SECS=() RSS=()

# Setups of measurements that write a tree end with sync, so that one run's
# write-back does not slow the next.
# measure NAME SETUP SCRIPT: runs SETUP (untimed) then SCRIPT under bash,
# BENCH_RUNS times; keeps the best wall time and the highest peak RSS.
measure() {
	local name="$1" setup="$2" script="$3" i t0 t1 secs rss best="" maxrss=0
	for ((i = 1; i <= BENCH_RUNS; i++)); do
		bash -euo pipefail -c "$setup"
		t0="$EPOCHREALTIME"
		if ! "$TIME" -f '%e %M' -o "$WORK/time.txt" bash -euo pipefail -c "$script" >"$WORK/op.log" 2>&1; then
			tail -n 30 "$WORK/op.log" >&2
			die "$name failed (run $i)"
		fi
		t1="$EPOCHREALTIME"
		secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
		rss="$(awk 'END { print $2 }' "$WORK/time.txt")"
		note "$(printf '%-16s run %d: %ss, %s KiB' "$name" "$i" "$secs" "$rss")"
		if [[ -z "$best" ]] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then best="$secs"; fi
		if ((rss > maxrss)); then maxrss="$rss"; fi
	done
	OPS+=("$name")
	SECS[$name]="$best"
	RSS[$name]="$maxrss"
}

# --- container images: definitions ---------------------------------------------
# A generated OCI layout with one image (a small layer and one incompressible
# layer of BENCH_IMAGE_SIZE bytes) goes through offkit build, verify, unpack
# and images push to a real registry (/usr/bin/docker-registry on loopback),
# against cp -r of the layout. Peak RSS must not grow with the image size:
# blobs are streamed, never held whole.
IMAGE_REF=team/big:v1

# registry_start starts the registry on $BENCH_REG_HOST with its storage in
# $BENCH_WORK/registry/storage (the config is internal/registrytest's) and
# waits until /v2/ answers. It runs in measurement setups too, so it keeps its
# state in files.
registry_start() {
	local dir="$BENCH_WORK/registry" pid
	mkdir -p "$dir/storage"
	cat >"$dir/config.yml" <<-YAML
		version: 0.1
		log:
		  level: warn
		  accesslog:
		    disabled: true
		storage:
		  filesystem:
		    rootdirectory: "$dir/storage"
		  delete:
		    enabled: true
		  maintenance:
		    uploadpurging:
		      enabled: false
		http:
		  addr: "$BENCH_REG_HOST"
		  secret: offkit-bench
	YAML
	env -i PATH=/usr/bin:/bin /usr/bin/docker-registry serve "$dir/config.yml" >>"$dir/log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$BENCH_WORK/registry.pid"
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || { rm -f "$BENCH_WORK/registry.pid"; return 1; }
		curl -fsS -o /dev/null --max-time 1 "http://$BENCH_REG_HOST/v2/" 2>/dev/null && return 0
		sleep 0.1
	done
	registry_stop
	return 1
}
export -f registry_start registry_stop

images_measure() {
	local gen_hash name rel port i
	gen_hash="$(cat internal/genimage/*.go | sha256sum | cut -c1-16)"
	IMAGE="$ROOT/.cache/bench/image/${BENCH_IMAGE_SIZE//[^A-Za-z0-9.]/_}-seed${BENCH_SEED}"
	if [[ ! -f "$IMAGE/.complete" || "$(cat "$IMAGE/.complete")" != "$gen_hash" ]]; then
		note "generating $BENCH_IMAGE_SIZE image layout (seed $BENCH_SEED) in ${IMAGE#"$ROOT"/}"
		rm -rf "$IMAGE" "$IMAGE.tmp"
		mkdir -p "$IMAGE.tmp"
		go run ./internal/genimage -o "$IMAGE.tmp/layout" -size "$BENCH_IMAGE_SIZE" -seed "$BENCH_SEED" -ref "$IMAGE_REF" -q
		echo "$gen_hash" >"$IMAGE.tmp/.complete"
		mv "$IMAGE.tmp" "$IMAGE"
	fi
	IMAGE_BYTES="$(find "$IMAGE/layout" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')"
	IMAGE_BLOBS="$(find "$IMAGE/layout/blobs" -type f | wc -l)"
	export BENCH_IMAGE="$IMAGE"

	# kit.yaml names the layout relative to itself, as a kit source tree would.
	mkdir -p "$WORK/imgkit"
	rel="$(realpath --relative-to="$WORK/imgkit" "$IMAGE/layout")"
	printf 'name: big\nversion: 1.0.0\ncomponents:\n  - name: big\n    image: oci:%s:%s\n' "$rel" "$IMAGE_REF" >"$WORK/imgkit/kit.yaml"

	note "warm-up read of the image layout ($IMAGE_BLOBS blobs, $IMAGE_BYTES bytes)"
	find "$IMAGE/layout" -type f -print0 | xargs -0 cat >/dev/null

	local -a saved_ops=("${OPS[@]}")
	OPS=()
	measure "image cp -r" \
		'rm -rf "$BENCH_WORK/imgcp"; sync' \
		'cp -r "$BENCH_IMAGE/layout" "$BENCH_WORK/imgcp"'
	measure "image cp -r + sync" \
		'rm -rf "$BENCH_WORK/imgcp"; sync' \
		'cp -r "$BENCH_IMAGE/layout" "$BENCH_WORK/imgcp"; sync -f "$BENCH_WORK/imgcp"'
	rm -rf "$WORK/imgcp"

	measure "image build" \
		'rm -f "$BENCH_WORK/img.tar.zst"' \
		'"$BENCH_OFFKIT" build "$BENCH_WORK/imgkit/kit.yaml" -o "$BENCH_WORK/img.tar.zst" --key "$BENCH_WORK/bench.key"'
	IMAGE_KIT_BYTES="$(stat -c %s "$WORK/img.tar.zst")"

	measure "image verify" \
		':' \
		'"$BENCH_OFFKIT" verify "$BENCH_WORK/img.tar.zst" --key "$BENCH_WORK/bench.pub"'

	measure "image unpack" \
		'rm -rf "$BENCH_WORK/imgu"; mkdir -p "$BENCH_WORK/imgu"; sync' \
		'"$BENCH_OFFKIT" unpack "$BENCH_WORK/img.tar.zst" -C "$BENCH_WORK/imgu" --key "$BENCH_WORK/bench.pub"'
	rm -rf "$WORK/imgu"

	# A free loopback port: nothing answers on it, and the registry starts.
	export BENCH_REG_HOST=""
	for ((i = 0; i < 10; i++)); do
		port=$((20000 + RANDOM % 40000))
		if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
		BENCH_REG_HOST="127.0.0.1:$port"
		registry_start && break
		BENCH_REG_HOST=""
	done
	[[ -n "$BENCH_REG_HOST" ]] || { tail -n 30 "$WORK/registry/log" >&2 2>/dev/null; die "could not start /usr/bin/docker-registry"; }

	# images push verifies the kit into a temporary directory under $TMPDIR
	# first; keep it in the work directory. Every push run gets an empty
	# registry, so every blob is really sent.
	local push='TMPDIR="$BENCH_WORK" "$BENCH_OFFKIT" images push "$BENCH_WORK/img.tar.zst" --to "$BENCH_REG_HOST/site" --key "$BENCH_WORK/bench.pub"'
	measure "image push" \
		'registry_stop; rm -rf "$BENCH_WORK/registry/storage"; sync
		 registry_start || { tail -n 30 "$BENCH_WORK/registry/log" >&2; exit 1; }' \
		"$push"
	IMAGE_PUSH_RESULT="$(grep -o '[0-9]* blob(s) pushed, [0-9]* already there' "$WORK/op.log" || true)"
	[[ "$IMAGE_PUSH_RESULT" =~ ^[1-9][0-9]*\ blob\(s\)\ pushed,\ 0\ already ]] ||
		{ cat "$WORK/op.log" >&2; die "image push to an empty registry did not push every blob"; }

	# Pushing again is harmless: the registry has every blob.
	measure "image re-push" ':' "$push"
	IMAGE_REPUSH_RESULT="$(grep -o '[0-9]* blob(s) pushed, [0-9]* already there' "$WORK/op.log" || true)"
	[[ "$IMAGE_REPUSH_RESULT" =~ ^0\ blob\(s\)\ pushed ]] ||
		{ cat "$WORK/op.log" >&2; die "image re-push sent blobs again"; }
	registry_stop
	rm -rf "$WORK/registry"

	IMAGE_OPS=("${OPS[@]}")
	OPS=("${saved_ops[@]}")
}

images_report() {
	echo
	printf 'image: oci:%s:%s, big layer %s (seed %s), %d layout bytes (%.1f MiB) in %d blobs; kit %d bytes; best of %d runs\n' \
		"${IMAGE#"$ROOT"/}/layout" "$IMAGE_REF" "$BENCH_IMAGE_SIZE" "$BENCH_SEED" "$IMAGE_BYTES" \
		"$(awk -v b="$IMAGE_BYTES" 'BEGIN { print b / 1048576 }')" "$IMAGE_BLOBS" "$IMAGE_KIT_BYTES" "$BENCH_RUNS"
	printf 'push to an empty registry: %s; again: %s\n\n' "$IMAGE_PUSH_RESULT" "$IMAGE_REPUSH_RESULT"
	printf '%-20s %10s %10s %14s\n' operation seconds 'MB/s' 'peak RSS MiB'
	printf '%-20s %10s %10s %14s\n' -------------------- ---------- ---------- --------------
	for op in "${IMAGE_OPS[@]}"; do
		awk -v op="$op" -v s="${SECS[$op]}" -v b="$IMAGE_BYTES" -v r="${RSS[$op]}" \
			'BEGIN { printf "%-20s %10.3f %10.1f %14.1f\n", op, s, (s > 0 ? b / 1e6 / s : 0), r / 1024 }'
	done
}

if [[ "$BENCH_ONLY" == images ]]; then
	images_measure
	images_report
	exit 0
fi
if [[ "$BENCH_ONLY" == many ]]; then
	many_measure many -shape many -size "$BENCH_SIZE"
	many_measure tiny -shape tiny -files "$BENCH_TINY_FILES"
	many_report
	exit 0
fi
if [[ "$BENCH_ONLY" == publish ]]; then
	note "publish: building the sample kit and a one-file 1 GiB kit (not measured)"
	"$OFFKIT" build "$SAMPLE/kit.yaml" -o "$WORK/kit.tar.zst" --key "$WORK/bench.key" -q >/dev/null 2>&1 || die "build failed"
	mkdir -p "$WORK/one/src"
	head -c 1073741824 /dev/urandom >"$WORK/one/src/big.bin"
	printf 'name: one\nversion: 1.0.0\ncomponents:\n  - name: big\n    from: src/big.bin\n    path: big.bin\n' >"$WORK/one/kit.yaml"
	"$OFFKIT" build "$WORK/one/kit.yaml" -o "$WORK/one.tar.zst" --key "$WORK/bench.key" -q >/dev/null 2>&1 || die "build failed"
	rm -rf "$WORK/one/src"
	publish_measure "$WORK/kit.tar.zst" sample
	publish_measure "$WORK/one.tar.zst" one-file
	s3_stop
	publish_report
	exit 0
fi

measure "manual build" \
	'rm -rf "$BENCH_WORK/manual"; mkdir -p "$BENCH_WORK/manual"' \
	'cd "$BENCH_SAMPLE"
	 find data -type f -print0 | sort -z | xargs -0 sha256sum >"$BENCH_WORK/manual/SHA256SUMS"
	 tar --sort=name -cf - -C "$BENCH_SAMPLE" data | zstd -T2 -3 -q -o "$BENCH_WORK/manual/out.tar.zst"'
MANUAL_KIT_BYTES="$(stat -c %s "$WORK/manual/out.tar.zst")"
rm -rf "$WORK/manual"

measure "offkit build" \
	'rm -f "$BENCH_WORK/kit.tar.zst"' \
	'"$BENCH_OFFKIT" build "$BENCH_SAMPLE/kit.yaml" -o "$BENCH_WORK/kit.tar.zst" --key "$BENCH_WORK/bench.key"'
KIT_BYTES="$(stat -c %s "$WORK/kit.tar.zst")"

measure "manual verify" \
	'rm -rf "$BENCH_WORK/x"; mkdir -p "$BENCH_WORK/x"; sync' \
	'zstd -dc "$BENCH_WORK/kit.tar.zst" | tar -x -C "$BENCH_WORK/x"
	 cd "$BENCH_WORK/x/$BENCH_KIT_ROOT"
	 sha256sum --check --strict --quiet SHA256SUMS
	 "$BENCH_COSIGN" verify-blob --key "$BENCH_WORK/bench.pub" --signature SHA256SUMS.sig --insecure-ignore-tlog SHA256SUMS'
rm -rf "$WORK/x"

measure "offkit verify" \
	':' \
	'"$BENCH_OFFKIT" verify "$BENCH_WORK/kit.tar.zst" --key "$BENCH_WORK/bench.pub"'

measure "offkit unpack" \
	'rm -rf "$BENCH_WORK/u"; mkdir -p "$BENCH_WORK/u"; sync' \
	'"$BENCH_OFFKIT" unpack "$BENCH_WORK/kit.tar.zst" -C "$BENCH_WORK/u" --key "$BENCH_WORK/bench.pub"'

measure "unpack --no-sync" \
	'rm -rf "$BENCH_WORK/u"; mkdir -p "$BENCH_WORK/u"; sync' \
	'"$BENCH_OFFKIT" unpack "$BENCH_WORK/kit.tar.zst" -C "$BENCH_WORK/u" --key "$BENCH_WORK/bench.pub" --no-sync'
rm -rf "$WORK/u"

measure "zstd -dc" \
	':' \
	'zstd -dc "$BENCH_WORK/kit.tar.zst" >/dev/null'

measure "tar --zstd -x" \
	'rm -rf "$BENCH_WORK/x"; mkdir -p "$BENCH_WORK/x"; sync' \
	'tar --zstd -xf "$BENCH_WORK/kit.tar.zst" -C "$BENCH_WORK/x"'
rm -rf "$WORK/x"

measure "tar -x + sync" \
	'rm -rf "$BENCH_WORK/x"; mkdir -p "$BENCH_WORK/x"; sync' \
	'tar --zstd -xf "$BENCH_WORK/kit.tar.zst" -C "$BENCH_WORK/x"; sync -f "$BENCH_WORK/x"'
rm -rf "$WORK/x"

# --- verify against zstd -dc, interleaved -----------------------------------------
# This VM's CPU speed drifts between runs, and the best of each measured
# apart can come from different phases: also time verify and zstd -dc in
# alternation, and report the median of the per-pair throughput ratios.
note "offkit verify against zstd -dc, interleaved ($((BENCH_RUNS + 2)) pairs)"
PAIR_RATIOS=()
for ((i = 1; i <= BENCH_RUNS + 2; i++)); do
	t0="$EPOCHREALTIME"; zstd -dc "$WORK/kit.tar.zst" >/dev/null; t1="$EPOCHREALTIME"
	"$OFFKIT" verify "$WORK/kit.tar.zst" --key "$WORK/bench.pub" -q >/dev/null 2>&1 || die "offkit verify failed"
	t2="$EPOCHREALTIME"
	PAIR_RATIOS+=("$(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "%.0f", 100 * (b - a) / (c - b) }')")
done
PAIR_MEDIAN="$(printf '%s\n' "${PAIR_RATIOS[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"

# --- flat memory --------------------------------------------------------------
# Peak RSS of verify and unpack on a kit of one 1 GiB file against the small
# example kit: it must not grow with the payload (only the head, which grows
# with the number of files, is held in memory).
note "flat memory: one-file 1 GiB kit against testdata/example"
mkdir -p "$WORK/one/src" "$WORK/one/u" "$WORK/one/u2"
head -c 1073741824 /dev/urandom >"$WORK/one/src/big.bin"
printf 'name: one\nversion: 1.0.0\ncomponents:\n  - name: big\n    from: src/big.bin\n    path: big.bin\n' >"$WORK/one/kit.yaml"
"$OFFKIT" build "$WORK/one/kit.yaml" -o "$WORK/one.tar.zst" --key "$WORK/bench.key" -q >/dev/null 2>&1
"$OFFKIT" build testdata/example/kit.yaml -o "$WORK/small.tar.zst" --key "$WORK/bench.key" -q >/dev/null 2>&1
rm -rf "$WORK/one/src"
rss() { "$TIME" -f '%M' -o "$WORK/rss.txt" "$@" >/dev/null 2>&1 || die "$* failed"; awk 'END { printf "%.1f", $1 / 1024 }' "$WORK/rss.txt"; }
FLAT_VERIFY_BIG="$(rss "$OFFKIT" verify "$WORK/one.tar.zst" --key "$WORK/bench.pub")"
FLAT_VERIFY_SMALL="$(rss "$OFFKIT" verify "$WORK/small.tar.zst" --key "$WORK/bench.pub")"
FLAT_UNPACK_BIG="$(rss "$OFFKIT" unpack "$WORK/one.tar.zst" -C "$WORK/one/u" --key "$WORK/bench.pub")"
FLAT_UNPACK_SMALL="$(rss "$OFFKIT" unpack "$WORK/small.tar.zst" -C "$WORK/one/u2" --key "$WORK/bench.pub")"
rm -rf "$WORK/one"

# --- publish and pull ----------------------------------------------------------
if [[ "$BENCH_PUBLISH" != 0 ]]; then
	publish_measure "$WORK/kit.tar.zst" sample
	publish_measure "$WORK/one.tar.zst" one-file
	s3_stop
	rm -rf "$WORK/s3"
fi
rm -f "$WORK/one.tar.zst"

# --- many files ---------------------------------------------------------------
if [[ "$BENCH_MANY" != 0 ]]; then
	many_measure many -shape many -size "$BENCH_SIZE"
	many_measure tiny -shape tiny -files "$BENCH_TINY_FILES"
fi

# --- container images ------------------------------------------------------
if [[ "$BENCH_IMAGES" != 0 ]]; then
	images_measure
fi

# --- report -----------------------------------------------------------------
echo
printf 'sample: %s, %d files, %d payload bytes (%.1f MiB), seed %s; best of %d runs\n' \
	"$BENCH_SIZE" "$PAYLOAD_FILES" "$PAYLOAD_BYTES" "$(awk -v b="$PAYLOAD_BYTES" 'BEGIN { print b / 1048576 }')" \
	"$BENCH_SEED" "$BENCH_RUNS"
printf 'archives: manual out.tar.zst %d bytes, offkit kit.tar.zst %d bytes\n\n' "$MANUAL_KIT_BYTES" "$KIT_BYTES"
printf '%-16s %10s %10s %14s\n' operation seconds 'MB/s' 'peak RSS MiB'
printf '%-16s %10s %10s %14s\n' ---------------- ---------- ---------- --------------
for op in "${OPS[@]}"; do
	awk -v op="$op" -v s="${SECS[$op]}" -v b="$PAYLOAD_BYTES" -v r="${RSS[$op]}" \
		'BEGIN { printf "%-16s %10.3f %10.1f %14.1f\n", op, s, (s > 0 ? b / 1e6 / s : 0), r / 1024 }'
done
echo
ratio() { awk -v m="${SECS[$1]}" -v o="${SECS[$2]}" 'BEGIN { printf "%.2f", (o > 0 ? m / o : 0) }'; }
printf 'throughput ratio offkit build  / manual build : %sx\n' "$(ratio "manual build" "offkit build")"
printf 'throughput ratio offkit verify / manual verify: %sx\n' "$(ratio "manual verify" "offkit verify")"
printf 'offkit verify throughput / zstd -dc           : %s%%\n' "$(awk -v z="${SECS[zstd -dc]}" -v v="${SECS[offkit verify]}" 'BEGIN { printf "%.0f", (v > 0 ? 100 * z / v : 0) }')"
printf 'offkit verify / zstd -dc, interleaved pairs  : median %s%% (pairs: %s)\n' "$PAIR_MEDIAN" "${PAIR_RATIOS[*]}"
printf 'time offkit unpack / tar --zstd -x           : %sx (--no-sync %sx; against tar -x + sync %sx)\n' \
	"$(ratio "offkit unpack" "tar --zstd -x")" "$(ratio "unpack --no-sync" "tar --zstd -x")" "$(ratio "offkit unpack" "tar -x + sync")"

printf 'peak RSS MiB, one 1 GiB file / example kit: verify %s / %s, unpack %s / %s\n' \
	"$FLAT_VERIFY_BIG" "$FLAT_VERIFY_SMALL" "$FLAT_UNPACK_BIG" "$FLAT_UNPACK_SMALL"

if [[ "$BENCH_MANY" != 0 ]]; then
	many_report
fi
if [[ "$BENCH_PUBLISH" != 0 ]]; then
	publish_report
fi
if [[ "$BENCH_IMAGES" != 0 ]]; then
	images_report
fi

# --- Go benchmarks ----------------------------------------------------------
if [[ "$BENCH_GO" != 0 ]]; then
	echo
	bench_list="$(go test -list '^Benchmark' ./...)"
	if grep -q '^Benchmark' <<<"$bench_list"; then
		echo "go test -run '^\$' -bench . -benchmem ./..."
		go test -run '^$' -bench . -benchmem ./...
	else
		echo "no Go benchmarks found; skipped"
	fi
fi
