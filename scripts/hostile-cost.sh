#!/usr/bin/env bash
# hostile-cost.sh — what `offkit verify` and `offkit inspect` spend on the
# largest hostile kits the format's limits allow (internal/hostile/largest).
#
#   scripts/hostile-cost.sh [OFFKIT_BINARY...]       (default: bin/offkit)
#   scripts/hostile-cost.sh --render RESULTS.tsv [RESULTS2.tsv]
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
# .cache/hostile-cost/results/*.tsv; --render prints the tables of saved
# results again, without measuring (a results file may be the rows of
# several runs, e.g. of a re-run with HOSTILE_COST_ONLY, concatenated).
#
# Environment:
#   HOSTILE_COST_TIMEOUT  seconds per run (default 300): TIMEOUT past it
#                         (then SIGTERM, and SIGKILL 5 s later; the CPU
#                         reported is what it had used, ">N")
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

render=()
if [[ ${1:-} == --render ]]; then
	shift
	render=("$@")
	if [[ ${#render[@]} -lt 1 || ${#render[@]} -gt 2 ]]; then
		echo "usage: $0 --render RESULTS.tsv [RESULTS2.tsv]" >&2
		exit 2
	fi
	set --
fi
bins=("$@")
if [[ ${#bins[@]} -eq 0 && ${#render[@]} -eq 0 ]]; then
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
if [[ ${#render[@]} -eq 0 ]]; then
stamp=$(cat internal/hostile/largest/*.go | sha256sum | cut -c1-16)
if [[ ! -f $DIR/kits.tsv || "$(cat "$DIR/.stamp" 2>/dev/null)" != "$stamp" ]]; then
	echo "hostile-cost: generating the kits into $DIR (a few minutes)..." >&2
	rm -f "$DIR"/*.tar.zst "$DIR/kits.tsv"
	go run ./internal/hostile/largest -o "$DIR" >&2
	echo "$stamp" >"$DIR/.stamp"
fi
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
		# --foreground: without it, a command that outlives SIGTERM is
		# killed with timeout itself, unreaped, and its CPU is lost.
		exec /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
			timeout --foreground -k 5 "$TIMEOUT" "$bin" "${args[@]}"
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
		cpu=">$cpu"
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

# table RESULTS TITLE: the table of one binary's results.
table() {
	local res=$1 title=$2
	echo
	echo "### $title"
	echo
	echo "CPU is user+sys seconds; RSS is peak, MiB. $(grep -m1 '^# ' "$res" | cut -c3-)"
	echo "Target (untrusted kits): refused within ${TARGET_RSS_MIB} MiB and ${TARGET_CPU_S} s CPU."
	echo
	echo "| kit | trusted | verify exit | wall s | CPU s | RSS MiB | target | inspect exit | wall s | CPU s | RSS MiB | verify says |"
	echo "|---|---|---|---:|---:|---:|---|---|---:|---:|---:|---|"
	grep -v '^#' "$res" | awk -F'\t' 'NR > 1 && $1 != "kit"' | {
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
}

# rows RESULTS: "N:kit/cmd<TAB>trusted<TAB>cmd<TAB>status<TAB>wall<TAB>cpu<TAB>rss"
# in order, the last row of each kit/cmd winning.
rows() {
	grep -v '^#' "$1" | awk -F'\t' -v OFS='\t' '$1 != "kit" { k = $1 "/" $3; if (!(k in r)) o[++n] = k; r[k] = k OFS $2 OFS $3 OFS $4 OFS $5 OFS $6 OFS $7 }
		END { for (i = 1; i <= n; i++) print i ":" r[o[i]] }'
}

# pair RESULTS1 RESULTS2 LABEL1 LABEL2: the two side by side.
pair() {
	local a=$3 b=$4
	echo
	echo "### Before and after: $a → $b"
	echo
	echo "| kit | trusted | cmd | exit ($a) | exit ($b) | CPU s ($a) | CPU s ($b) | RSS MiB ($a) | RSS MiB ($b) | wall s ($a) | wall s ($b) | target ($b) |"
	echo "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---|"
	awk -F'\t' -v OFS='\t' 'NR == FNR { sub(/^[0-9]+:/, ""); b[$1] = $4 OFS $5 OFS $6 OFS $7; next }
		{ sub(/^[0-9]+:/, ""); if ($1 in b) print $1, $2, $3, $4, $5, $6, $7, b[$1] }' <(rows "$2") <(rows "$1") |
		while IFS=$'\t' read -r key trusted cmd s1 w1 c1 r1 s2 w2 c2 r2; do
			tg=-
			[[ $cmd == verify ]] && tg=$(target "$s2" "$c2" "$r2" "$trusted")
			echo "| ${key%/*} | $trusted | $cmd | $s1 | $s2 | $c1 | $c2 | $r1 | $r2 | $w1 | $w2 | $tg |"
		done
}

if [[ ${#render[@]} -gt 0 ]]; then
	for r in "${render[@]}"; do
		table "$r" "$(grep -m1 '^#bin ' "$r" | cut -c6- || true)"
	done
	if [[ ${#render[@]} -eq 2 ]]; then
		pair "${render[0]}" "${render[1]}" "$(grep -m1 '^#label ' "${render[0]}" | cut -c8-)" "$(grep -m1 '^#label ' "${render[1]}" | cut -c8-)"
	fi
	exit 0
fi

results=() labels=()
for bin in "${bins[@]}"; do
	label=$(basename "$bin")
	if [[ ${#labels[@]} -gt 0 && " ${labels[*]} " == *" $label "* ]]; then
		label=$bin
	fi
	labels+=("$label")
	rev=$("$bin" version 2>/dev/null | head -n 1 || true)
	res="$DIR/results/$(date +%Y%m%dT%H%M%S)-${#labels[@]}-$(basename "$bin").tsv"
	{
		echo "#bin $bin${rev:+ ($rev)}"
		echo "#label $label"
		echo "# Host: $host, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start; timeout ${TIMEOUT} s, address space capped at ${MEM_MIB} MiB."
		printf 'kit\ttrusted\tcmd\tstatus\twall\tcpu\trss_mib\tdetail\n'
	} >"$res"
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
	echo "hostile-cost: results in $res" >&2
	results+=("$res")
	table "$res" "$bin${rev:+ ($rev)}"
done

if [[ ${#results[@]} -eq 2 ]]; then
	pair "${results[0]}" "${results[1]}" "${labels[0]}" "${labels[1]}"
fi
