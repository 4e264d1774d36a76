#!/usr/bin/env bash
# hostile-cost.sh — what `offkit verify` and `offkit inspect` spend on the
# largest hostile kits the format's limits allow (internal/hostile/largest).
#
#   scripts/hostile-cost.sh [OFFKIT_BINARY...]       (default: bin/offkit)
#
# Generates the kits once into .cache/hostile-cost/ (regenerated when the
# generator's source changes), then, for each binary and each kit, runs
#
#   offkit verify KIT --key testdata/hostile/trusted.pub -q
#   offkit inspect KIT
#
# one at a time, under /usr/bin/time, a timeout and an address-space cap,
# and prints a markdown table per binary: exit status, wall time, CPU
# (user+sys) and peak RSS. With two binaries (before and after a change)
# it also prints them side by side. Raw results are kept in
# .cache/hostile-cost/results/*.tsv.
#
# Environment:
#   HOSTILE_COST_TIMEOUT  seconds per run (default 300): TIMEOUT past it
#   HOSTILE_COST_MEM_MIB  address-space cap per run, ulimit -v (default
#                         4096): a run that hits it is reported as >CAP
#   HOSTILE_COST_ONLY     regexp: measure only the kits whose name matches
#   HOSTILE_COST_CMDS     commands to run (default "verify inspect")
#   HOSTILE_COST_DIR      where the kits are (default .cache/hostile-cost)
#
# The target of the hardening it measures: every kit not signed by a
# trusted key is refused within 64 MiB peak RSS and 1 s of CPU; the
# "target" column says whether an untrusted kit's verify met it.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${HOSTILE_COST_DIR:-.cache/hostile-cost}
TIMEOUT=${HOSTILE_COST_TIMEOUT:-300}
MEM_MIB=${HOSTILE_COST_MEM_MIB:-4096}
ONLY=${HOSTILE_COST_ONLY:-}
CMDS=${HOSTILE_COST_CMDS:-verify inspect}
KEY=testdata/hostile/trusted.pub
TARGET_RSS_MIB=64
TARGET_CPU_S=1

bins=("$@")
if [[ ${#bins[@]} -eq 0 ]]; then
	bins=(bin/offkit)
fi
for b in "${bins[@]}"; do
	if [[ ! -x $b ]]; then
		echo "hostile-cost: $b is not an executable (build it with: make build)" >&2
		exit 2
	fi
done
if [[ ! -x /usr/bin/time ]]; then
	echo "hostile-cost: needs GNU time at /usr/bin/time" >&2
	exit 2
fi

# ---- the kits -----------------------------------------------------------
stamp=$(cat internal/hostile/largest/*.go | sha256sum | cut -c1-16)
if [[ ! -f $DIR/kits.tsv || "$(cat "$DIR/.stamp" 2>/dev/null)" != "$stamp" ]]; then
	echo "hostile-cost: generating the kits into $DIR (a few minutes)..." >&2
	rm -f "$DIR"/*.tar.zst "$DIR/kits.tsv"
	go run ./internal/hostile/largest -o "$DIR" >&2
	echo "$stamp" >"$DIR/.stamp"
fi

# ---- measuring ------------------------------------------------------------
mkdir -p "$DIR/results"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure BIN CMD KIT: prints "status<TAB>wall<TAB>cpu<TAB>rss_mib<TAB>detail"
measure() {
	local bin=$1 cmd=$2 kit=$3 rc=0
	local args=("$cmd" "$kit")
	if [[ $cmd == verify ]]; then
		args+=(--key "$KEY" -q)
	fi
	(
		ulimit -v $((MEM_MIB * 1024))
		exec /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
			timeout -k 10 "$TIMEOUT" "$bin" "${args[@]}"
	) >/dev/null 2>"$tmp/err" || rc=$?
	local wall user sys rss
	read -r wall user sys rss < <(tail -n 1 "$tmp/time")
	local cpu status detail
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
	rss=$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')
	detail=$(grep -m1 -E '^(offkit: error:|panic:|fatal error:)' "$tmp/err" | cut -c1-160 | tr '\t' ' ' || true)
	if [[ $rc -eq 124 || $rc -eq 137 ]]; then
		status=TIMEOUT
		wall=">$TIMEOUT"
	elif grep -qE 'out of memory|cannot allocate memory' "$tmp/err"; then
		status="OOM"
		rss=">$MEM_MIB"
	elif grep -q '^panic:' "$tmp/err"; then
		status="panic($rc)"
	else
		status=$rc
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "$status" "$wall" "$cpu" "$rss" "$detail"
}

# target STATUS CPU RSS TRUSTED: whether an untrusted kit's refusal met the target.
target() {
	local status=$1 cpu=$2 rss=$3 trusted=$4
	if [[ $trusted == yes ]]; then
		echo "-"
	elif [[ $status =~ ^[0-9]+$ && $status -ne 0 && $rss =~ ^[0-9]+$ ]] &&
		awk -v c="$cpu" -v r="$rss" -v tc="$TARGET_CPU_S" -v tr="$TARGET_RSS_MIB" 'BEGIN { exit !(c <= tc && r <= tr) }'; then
		echo "yes"
	else
		echo "**no**"
	fi
}

host="$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
results=()
for bin in "${bins[@]}"; do
	label=$(basename "$bin")
	rev=$("$bin" version 2>/dev/null | head -n 1 || true)
	res="$DIR/results/$(date +%Y%m%dT%H%M%S)-$label.tsv"
	printf 'kit\ttrusted\tcmd\tstatus\twall\tcpu\trss_mib\tdetail\n' >"$res"
	while IFS=$'\t' read -r name file _comp _raw _head trusted _rest; do
		[[ $name == name ]] && continue
		[[ -n $ONLY && ! $name =~ $ONLY ]] && continue
		for cmd in $CMDS; do
			echo "hostile-cost: $label $cmd $name ..." >&2
			m=$(measure "$bin" "$cmd" "$DIR/$file")
			printf '%s\t%s\t%s\t%s\n' "$name" "$trusted" "$cmd" "$m" >>"$res"
			echo "hostile-cost:   $(cut -f1-4 <<<"$m" | tr '\t' ' ')" >&2
		done
	done <"$DIR/kits.tsv"
	results+=("$res")

	echo
	echo "### $bin${rev:+ ($rev)}"
	echo
	echo "Host: $host; timeout ${TIMEOUT} s, address space capped at ${MEM_MIB} MiB. CPU is user+sys seconds; RSS is peak, MiB."
	echo "Target (untrusted kits): refused within ${TARGET_RSS_MIB} MiB and ${TARGET_CPU_S} s CPU."
	echo
	echo "| kit | trusted | verify exit | wall s | CPU s | RSS MiB | target | inspect exit | wall s | CPU s | RSS MiB | verify says |"
	echo "|---|---|---|---:|---:|---:|---|---|---:|---:|---:|---|"
	awk -F'\t' -v OFS='\t' 'NR > 1 { print }' "$res" | {
		declare -A row
		order=()
		while IFS=$'\t' read -r name trusted cmd status wall cpu rss detail; do
			[[ -v "row[$name.trusted]" ]] || order+=("$name")
			row[$name.trusted]=$trusted
			row[$name.$cmd]="$status | $wall | $cpu | $rss"
			row[$name.$cmd.status]=$status row[$name.$cmd.cpu]=$cpu row[$name.$cmd.rss]=$rss
			[[ $cmd == verify ]] && row[$name.detail]=${detail//|/\\|}
		done
		for name in "${order[@]}"; do
			t=${row[$name.trusted]}
			v=${row[$name.verify]:-  |  |  | }
			i=${row[$name.inspect]:-  |  |  | }
			tg=-
			[[ -v "row[$name.verify.status]" ]] && tg=$(target "${row[$name.verify.status]}" "${row[$name.verify.cpu]}" "${row[$name.verify.rss]}" "$t")
			echo "| $name | $t | $v | $tg | $i | ${row[$name.detail]:-} |"
		done
	}
done

if [[ ${#results[@]} -eq 2 ]]; then
	a=$(basename "${bins[0]}") b=$(basename "${bins[1]}")
	echo
	echo "### Before and after: ${bins[0]} → ${bins[1]}"
	echo
	echo "| kit | trusted | cmd | exit ($a) | exit ($b) | CPU s ($a) | CPU s ($b) | RSS MiB ($a) | RSS MiB ($b) | wall s ($a) | wall s ($b) | target ($b) |"
	echo "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---|"
	join -t $'\t' \
		<(awk -F'\t' -v OFS='\t' 'NR > 1 { print NR ":" $1 "/" $3, $2, $3, $4, $5, $6, $7 }' "${results[0]}" | sort -t $'\t' -k1,1) \
		<(awk -F'\t' -v OFS='\t' 'NR > 1 { print NR ":" $1 "/" $3, $4, $5, $6, $7 }' "${results[1]}" | sort -t $'\t' -k1,1) |
		sort -t : -k1,1n |
		while IFS=$'\t' read -r key trusted cmd s1 w1 c1 r1 s2 w2 c2 r2; do
			name=${key#*:}
			name=${name%/*}
			tg=-
			[[ $cmd == verify ]] && tg=$(target "$s2" "$c2" "$r2" "$trusted")
			echo "| $name | $trusted | $cmd | $s1 | $s2 | $c1 | $c2 | $r1 | $r2 | $w1 | $w2 | $tg |"
		done
fi
