# Sourced by scripts/bench.sh: kits of many files (issue 10), beside the
# mixed sample: the seed bundle's shape (-shape many: ~46,000 files in
# BENCH_SIZE) and N tiny files (-shape tiny -files BENCH_TINY_FILES, 1-4 KiB
# each). Each is measured against its plain-tools baseline: build against
# sha256sum + tar | zstd -T2 -3, verify against zstd -dc > /dev/null, unpack
# against tar --zstd -x; inspect alone.
#
# many_measure LABEL GENSAMPLE-ARGS...   generate (cached) and measure
# many_report                             print the tables

BENCH_TINY_FILES="${BENCH_TINY_FILES:-200000}"
declare -a MANY_LABELS=()
declare -A MANY_FILES=() MANY_BYTES=() MANY_NOTE=()

many_measure() {
	local label="$1" dir gen_hash
	shift
	gen_hash="$(cat internal/gensample/*.go | sha256sum | cut -c1-16)"
	dir="$ROOT/.cache/bench/sample/${label}-$(echo "$*" | tr -c 'A-Za-z0-9' _)-seed${BENCH_SEED}"
	if [[ ! -f "$dir/.complete" || "$(cat "$dir/.complete")" != "$gen_hash" ]]; then
		note "generating the $label sample ($*)"
		rm -rf "$dir" "$dir.tmp"
		go run ./internal/gensample -o "$dir.tmp" -seed "$BENCH_SEED" -q "$@"
		echo "$gen_hash" >"$dir.tmp/.complete"
		mv "$dir.tmp" "$dir"
	fi
	MANY_LABELS+=("$label")
	MANY_FILES[$label]="$(find "$dir/data" -type f | wc -l)"
	MANY_BYTES[$label]="$(find "$dir/data" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')"
	note "$label sample: ${MANY_FILES[$label]} files, ${MANY_BYTES[$label]} bytes; warm-up read"
	(cd "$dir" && find data -type f -print0 | xargs -0 cat >/dev/null)
	export MDIR="$dir" MKIT="$BENCH_WORK/$label.tar.zst"

	measure "$label:manual build" \
		'rm -rf "$BENCH_WORK/manual"; mkdir -p "$BENCH_WORK/manual"' \
		'cd "$MDIR"
		 find data -type f -print0 | sort -z | xargs -0 sha256sum >"$BENCH_WORK/manual/SHA256SUMS"
		 tar --sort=name -cf - -C "$MDIR" data | zstd -T2 -3 -q -o "$BENCH_WORK/manual/out.tar.zst"'
	rm -rf "$WORK/manual"
	# A kit over a limit of the format is refused at build: record it.
	if ! "$OFFKIT" build "$dir/kit.yaml" -o "$MKIT" --key "$WORK/bench.key" -q >"$WORK/many-build.log" 2>&1; then
		MANY_NOTE[$label]="offkit build refused it: $(grep -o 'kit exceeds a limit.*' "$WORK/many-build.log" | head -1)"
		note "$label: ${MANY_NOTE[$label]}"
		return 0
	fi
	measure "$label:offkit build" \
		'rm -f "$MKIT"' \
		'"$BENCH_OFFKIT" build "$MDIR/kit.yaml" -o "$MKIT" --key "$BENCH_WORK/bench.key" -q'
	measure "$label:zstd -dc" ':' 'zstd -dc "$MKIT" >/dev/null'
	measure "$label:offkit verify" ':' '"$BENCH_OFFKIT" verify "$MKIT" --key "$BENCH_WORK/bench.pub" -q'
	measure "$label:offkit inspect" ':' '"$BENCH_OFFKIT" inspect "$MKIT" >/dev/null'
	measure "$label:tar --zstd -x" \
		'rm -rf "$BENCH_WORK/x"; mkdir -p "$BENCH_WORK/x"; sync' \
		'tar --zstd -xf "$MKIT" -C "$BENCH_WORK/x"'
	measure "$label:offkit unpack" \
		'rm -rf "$BENCH_WORK/x"; mkdir -p "$BENCH_WORK/x"; sync' \
		'"$BENCH_OFFKIT" unpack "$MKIT" -C "$BENCH_WORK/x" --key "$BENCH_WORK/bench.pub" -q --no-sync'
	rm -rf "$WORK/x" "$MKIT"
}

many_report() {
	local label op s
	for label in "${MANY_LABELS[@]}"; do
		echo
		printf '%s sample: %d files, %d bytes (%.1f MiB); best of %d runs\n' "$label" "${MANY_FILES[$label]}" "${MANY_BYTES[$label]}" \
			"$(awk -v b="${MANY_BYTES[$label]}" 'BEGIN { print b / 1048576 }')" "$BENCH_RUNS"
		[[ -z "${MANY_NOTE[$label]:-}" ]] || echo "${MANY_NOTE[$label]}"
		printf '%-16s %10s %10s %14s %12s\n' operation seconds 'MB/s' 'peak RSS MiB' 'µs per file'
		for op in "manual build" "offkit build" "zstd -dc" "offkit verify" "offkit inspect" "tar --zstd -x" "offkit unpack"; do
			s="${SECS[$label:$op]:-}"
			[[ -n "$s" ]] || continue
			awk -v op="$op" -v s="$s" -v b="${MANY_BYTES[$label]}" -v r="${RSS[$label:$op]}" -v f="${MANY_FILES[$label]}" \
				'BEGIN { printf "%-16s %10.3f %10.1f %14.1f %12.1f\n", op, s, (s > 0 ? b / 1e6 / s : 0), r / 1024, 1e6 * s / f }'
		done
		if [[ -n "${SECS[$label:offkit verify]:-}" ]]; then
			r() { awk -v a="${SECS[$label:$1]}" -v b="${SECS[$label:$2]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
			printf 'build: %sx the manual procedure; verify: %s%% of zstd -dc; unpack: %sx the time of tar --zstd -x\n' \
				"$(r "manual build" "offkit build")" \
				"$(awk -v z="${SECS[$label:zstd -dc]}" -v v="${SECS[$label:offkit verify]}" 'BEGIN { printf "%.0f", (v > 0 ? 100 * z / v : 0) }')" \
				"$(r "offkit unpack" "tar --zstd -x")"
		fi
	done
}
