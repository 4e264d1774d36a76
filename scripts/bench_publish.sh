# Sourced by scripts/bench.sh: publishing and pulling kits through a real S3
# server (VersityGW's posix backend on loopback, as the tests run it) and a
# directory store, against the plain-tools baseline a pipeline without
# offkit runs: `offkit verify` then an upload with the same AWS SDK, part size
# and parallelism (internal/s3bench), and a plain download.
#
# publish_measure KIT LABEL   measures KIT, reported under LABEL
# publish_report              prints the table

VERSITYGW="${VERSITYGW:-$ROOT/.cache/bin/versitygw}"
declare -a PUB_LABELS=()
declare -A PUB_KIT_BYTES=() PUB_OPS=() PUB_INSPECT_FETCHED=()

# s3_start starts VersityGW on a free loopback port, its buckets in
# $BENCH_WORK/s3, and points the AWS SDK's environment at it.
s3_start() {
	local port pid
	mkdir -p "$BENCH_WORK/s3"
	for _ in $(seq 10); do
		port=$((20000 + RANDOM % 40000))
		if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
		env -i PATH=/usr/bin:/bin HOME="$BENCH_WORK" "$VERSITYGW" --access bench-access --secret bench-secret \
			--region us-east-1 --port "127.0.0.1:$port" --quiet posix "$BENCH_WORK/s3" >>"$BENCH_WORK/s3.log" 2>&1 </dev/null &
		pid=$!
		echo "$pid" >"$BENCH_WORK/s3.pid"
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
				export AWS_ACCESS_KEY_ID=bench-access AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1 \
					AWS_ENDPOINT_URL_S3="http://127.0.0.1:$port" AWS_CONFIG_FILE=/dev/null \
					AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
				return 0
			fi
			sleep 0.1
		done
		s3_stop
	done
	tail -n 30 "$BENCH_WORK/s3.log" >&2
	die "could not start versitygw"
}

s3_stop() {
	local f="$BENCH_WORK/s3.pid"
	[[ -f "$f" ]] || return 0
	kill -KILL "$(cat "$f")" 2>/dev/null || true
	rm -f "$f"
}

# pmeasure LABEL NAME SETUP SCRIPT: measure, keyed by label.
pmeasure() {
	measure "$1:$2" "$3" "$4"
	PUB_OPS[$1]+="$2"$'\n'
}

publish_measure() {
	local kit="$1" label="$2" name version key
	[[ -x "$VERSITYGW" ]] || die "versitygw not found at $VERSITYGW (run: make tools)"
	[[ -f "$BENCH_WORK/s3.pid" ]] || s3_start
	[[ -x "$BENCH_WORK/s3bench" ]] || go build -o "$BENCH_WORK/s3bench" ./internal/s3bench
	[[ -d "$BENCH_WORK/s3/releases" ]] || "$BENCH_WORK/s3bench" mb releases
	PUB_LABELS+=("$label")
	PUB_KIT_BYTES[$label]="$(stat -c %s "$kit")"
	# The kit's name and version, as publish files it.
	local inspection
	inspection="$("$OFFKIT" inspect "$kit" --json)"
	name="$(awk -F'"' '$2 == "name" { print $4; exit }' <<<"$inspection")"
	version="$(awk -F'"' '$2 == "version" { print $4; exit }' <<<"$inspection")"
	key="$name/$version/$name-$version.tar.zst"
	export PKIT="$kit" PKEY="$key" PURL="s3://releases/$label/$name/$version" PLABEL="$label"
	note "publish: $label kit ($name $version, ${PUB_KIT_BYTES[$label]} bytes)"
	# Baselines: the upload alone, and what a pipeline without offkit does.
	pmeasure "$label" "s3bench put" \
		'rm -rf "$BENCH_WORK/s3/releases/base"' \
		'"$BENCH_WORK/s3bench" put "$PKIT" releases "base/$PKEY"'
	pmeasure "$label" "verify + put" \
		'rm -rf "$BENCH_WORK/s3/releases/base"' \
		'"$BENCH_OFFKIT" verify "$PKIT" --key "$BENCH_WORK/bench.pub" -q
		 "$BENCH_WORK/s3bench" put "$PKIT" releases "base/$PKEY"'
	pmeasure "$label" "offkit publish" \
		'rm -rf "$BENCH_WORK/s3/releases/$PLABEL"' \
		'"$BENCH_OFFKIT" publish "$PKIT" --to "s3://releases/$PLABEL" --key "$BENCH_WORK/bench.pub" -q'
	pmeasure "$label" "publish again" \
		':' \
		'"$BENCH_OFFKIT" publish "$PKIT" --to "s3://releases/$PLABEL" --key "$BENCH_WORK/bench.pub" -q | grep -q "^Already published"'
	pmeasure "$label" "s3bench get" \
		'rm -f "$BENCH_WORK/got.tar.zst"' \
		'"$BENCH_WORK/s3bench" get releases "base/$PKEY" "$BENCH_WORK/got.tar.zst"'
	pmeasure "$label" "offkit pull" \
		'rm -f "$BENCH_WORK/got.tar.zst"' \
		'"$BENCH_OFFKIT" pull "$PURL" -o "$BENCH_WORK/got.tar.zst" --key "$BENCH_WORK/bench.pub" -q'
	cmp -s "$kit" "$BENCH_WORK/got.tar.zst" || die "pulled kit differs from $kit"
	rm -f "$BENCH_WORK/got.tar.zst"
	pmeasure "$label" "get > /dev/null" \
		':' \
		'"$BENCH_WORK/s3bench" get releases "base/$PKEY" - >/dev/null'
	pmeasure "$label" "verify URL" \
		':' \
		'"$BENCH_OFFKIT" verify "$PURL" --key "$BENCH_WORK/bench.pub" -q'
	pmeasure "$label" "inspect URL" \
		':' \
		'"$BENCH_OFFKIT" inspect "$PURL" >/dev/null'
	# A directory store, against cp of the kit.
	pmeasure "$label" "cp to dir" \
		'rm -rf "$BENCH_WORK/dir"; mkdir -p "$BENCH_WORK/dir"; sync' \
		'cp "$PKIT" "$BENCH_WORK/dir/"; sync -f "$BENCH_WORK/dir"'
	pmeasure "$label" "publish file://" \
		'rm -rf "$BENCH_WORK/dir"; mkdir -p "$BENCH_WORK/dir"; sync' \
		'"$BENCH_OFFKIT" publish "$PKIT" --to "file://$BENCH_WORK/dir" --key "$BENCH_WORK/bench.pub" -q'
	rm -rf "$BENCH_WORK/dir" "$BENCH_WORK/s3/releases/base"
}

publish_report() {
	local label op s
	echo
	echo "publish and pull: VersityGW (posix) on loopback; SDK baseline: internal/s3bench, 8 MiB parts, 4 in flight, as offkit; best of $BENCH_RUNS runs"
	for label in "${PUB_LABELS[@]}"; do
		echo
		printf '%s kit: %d bytes (%.1f MiB)\n' "$label" "${PUB_KIT_BYTES[$label]}" "$(awk -v b="${PUB_KIT_BYTES[$label]}" 'BEGIN { print b / 1048576 }')"
		printf '%-18s %10s %10s %14s\n' operation seconds 'MB/s' 'peak RSS MiB'
		printf '%-18s %10s %10s %14s\n' ------------------ ---------- ---------- --------------
		while IFS= read -r op; do
			[[ -n "$op" ]] || continue
			s="${SECS[$label:$op]}"
			awk -v op="$op" -v s="$s" -v b="${PUB_KIT_BYTES[$label]}" -v r="${RSS[$label:$op]}" \
				'BEGIN { printf "%-18s %10.3f %10.1f %14.1f\n", op, s, (s > 0 ? b / 1e6 / s : 0), r / 1024 }'
		done <<<"${PUB_OPS[$label]}"
		r() { awk -v a="${SECS[$label:$1]}" -v b="${SECS[$label:$2]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
		printf 'time publish / (verify + put): %sx; publish / put alone: %sx; pull / get: %sx; verify URL / get > /dev/null: %sx\n' \
			"$(r "offkit publish" "verify + put")" "$(r "offkit publish" "s3bench put")" "$(r "offkit pull" "s3bench get")" "$(r "verify URL" "get > /dev/null")"
	done
}
