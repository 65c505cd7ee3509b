#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The encrypted query (issue 18) against its anchor: the HE toolkit's secure-query sample
# re-implemented on Microsoft SEAL (with Intel HEXL) outside the repository, named by HEQ_SEAL
# (a driver printing heq_bench's JSON fields; docs/perf.md says how it was built). Without it only
# ccz is measured. Both sides on the same core (taskset -c $CPU), one thread each (the sample's
# OpenMP pragmas are inert: its build does not enable OpenMP), interleaved, REPEAT runs: records
# searched per second on the fifty states (the server's search, as the sample times it) and per
# query end to end (keys, query, the server's load, the database encrypted under the client's key
# for the faithful algorithm, search, decryption), wall clock and CPU time. Goals: ccz's fast
# algorithm >= 10x the SEAL sample, ccz running the sample's own algorithm (faithful: 15
# products per mask) >= 2x.
# Usage: bench/hequery/compare.sh [BUILD_DIR]   (REPEAT, CPU, KEYS from the environment)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
REPEAT=${REPEAT:-3}
CPU=${CPU:-1}
KEYS=${KEYS:-Oregon}
db=${CCZ_DATA:-$root/../shared/data}/he-toolkit/us_state_capitals.csv
[ -f "$db" ] || { echo "he-query: skipped: no $db"; exit 0; }
pin() { taskset -c "$CPU" "$@"; }
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mn() { printf '%s\n' "$@" | sort -g | head -1; }

echo "he-query: $(wc -l < "$db") entries, keys: $KEYS; one thread pinned to CPU $CPU; repeats: $REPEAT;" \
    "SEAL driver: ${HEQ_SEAL:-not given}; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
sides=(fast faithful)
[ -n "${HEQ_SEAL:-}" ] && sides+=(seal)
figs=(records_per_s_search records_per_cpu_s_search records_per_s_end_to_end records_per_cpu_s_end_to_end)
declare -A v=()
declare -A bytes=()
for _ in $(seq "$REPEAT"); do
    for side in "${sides[@]}"; do
        # shellcheck disable=SC2086
        if [ "$side" = seal ]; then
            out=$(pin "$HEQ_SEAL" "$db" $KEYS)
        else
            out=$(pin "$build/bench/hequery/heq_bench" "$db" "$side" 1 $KEYS)
        fi
        bad=$(jq -r '[.lookups[] | select(.key == "Oregon" and .value != "Salem")] | length' <<< "$out")
        [ "$bad" = 0 ] || { echo "he-query: $side answered wrong: $out" >&2; exit 1; }
        for f in "${figs[@]}"; do v[$side.$f]+="$(jq -r ".$f" <<< "$out") "; done
        v[$side.budget]+="$(jq -r '[.lookups[].budget] | min' <<< "$out") "
        v[$side.setup]+="$(jq -r '[.lookups[].setup_s] | add / length' <<< "$out") "
        bytes[$side]=$(jq -r '"\(.lookups[0].query_bytes) \(.lookups[0].answer_bytes)"' <<< "$out")
        jq -r --arg s "$side" '"  run: \($s): search \(.records_per_s_search) records/s (\(.records_per_cpu_s_search) " +
            "per CPU s), end to end \(.records_per_s_end_to_end) (\(.records_per_cpu_s_end_to_end) per CPU s); " +
            "search \(.lookups[0].search_s) s wall, \(.lookups[0].search_cpu_s) s CPU"' <<< "$out"
    done
    echo "  load average after the repeat: $(cut -d' ' -f1-3 /proc/loadavg)"
done
printf '\n%-44s %-20s %-20s %-20s\n' "records per second (min / median)" "ccz fast" "ccz faithful" \
    "SEAL sample"
for f in "${figs[@]}"; do
    row=()
    for side in fast faithful seal; do
        # shellcheck disable=SC2086
        if [ -n "${v[$side.$f]:-}" ]; then
            row+=("$(printf '%.3f / %.3f' "$(mn ${v[$side.$f]})" "$(med ${v[$side.$f]})")")
        else
            row+=("-")
        fi
    done
    printf '  %-42s %-20s %-20s %-20s\n' "$f" "${row[@]}"
done
for side in "${sides[@]}"; do
    # shellcheck disable=SC2086
    printf '  %-10s noise budget left (min) %s bits; database encryption (median) %.3f s;' \
        "$side" "$(mn ${v[$side.budget]})" "$(med ${v[$side.setup]})"
    read -r qb ab <<< "${bytes[$side]}"
    printf ' query %s B, answer %s B\n' "$qb" "$ab"
done
if [ -n "${HEQ_SEAL:-}" ]; then
    echo
    echo "ccz / SEAL sample, by medians (wall clock; CPU time)   goal"
    for side in fast faithful; do
        goal=10; [ "$side" = faithful ] && goal=2
        for what in search end_to_end; do
            # shellcheck disable=SC2086
            rw=$(awk -v a="$(med ${v[$side.records_per_s_$what]})" -v b="$(med ${v[seal.records_per_s_$what]})" \
                'BEGIN {printf "%.2f", a / b}')
            # shellcheck disable=SC2086
            rc=$(awk -v a="$(med ${v[$side.records_per_cpu_s_$what]})" \
                -v b="$(med ${v[seal.records_per_cpu_s_$what]})" 'BEGIN {printf "%.2f", a / b}')
            met=$(awk -v r="$rc" -v g="$goal" 'BEGIN {print (r >= g) ? "met" : "NOT met"}')
            printf '  %-10s %-12s %6sx; %6sx   >= %dx: %s\n' "$side" "$what" "$rw" "$rc" "$goal" "$met"
        done
    done
fi
