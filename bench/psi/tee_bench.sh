#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TEE PSI (issue 16): 3 parties x N items of 16-32 bytes (half of each set shared by all three)
# through 'ccz psi serve' over loopback two-way RA-gRPC on the simulated TEE. Each run starts a
# fresh server and times the three 'ccz psi join' processes from launch to the last result:
# wall time, the server's CPU time and peak resident memory (VmHWM) against the raw item bytes,
# and the parties' CPU time. Goal: under 5 s wall, peak server memory under 3x the raw data.
#   bench/psi/tee_bench.sh [BUILD_DIR] [N]      (REPEAT runs, default 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-1000000}
REPEAT=${REPEAT:-3}
ccz=$build/ccz
work=$(mktemp -d "${TMPDIR:-/tmp}/ccz-psi-bench-XXXXXX")
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
export CCZ_SIM_DIR=$work/sim
"$ccz" sim init > /dev/null
m=$("$ccz" sim measure "$ccz")
echo "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"$m\"}]}" > "$work/policy.json"
/usr/bin/python3 - "$work" "$n" <<'PY'
import random, sys
work, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(16)
alpha = "abcdefghijklmnopqrstuvwxyz0123456789"
item = lambda: "".join(rng.choice(alpha) for _ in range(rng.randrange(16, 33)))
common = [item() for _ in range(n // 2)]
raw = 0
for k in range(3):
    s = common + [item() for _ in range(n - n // 2)]
    rng.shuffle(s)
    raw += sum(len(x) for x in s)
    open("%s/set%d.txt" % (work, k + 1), "w").write("\n".join(s) + "\n")
open("%s/raw" % work, "w").write(str(raw))
PY
raw=$(cat "$work/raw")
tick=$(getconf CLK_TCK)
walls=() scpu=() peaks=() pcpu=()
for r in $(seq "$REPEAT"); do
    "$ccz" psi serve --listen 127.0.0.1:0 --parties 3 --tee sim --policy "$work/policy.json" \
        --timeout 120000 --max-memory 4096 2> "$work/server.log" &
    server=$!
    port=
    for _ in $(seq 200); do
        port=$(sed -n 's/.*on port \([0-9]*\).*/\1/p' "$work/server.log" | head -1)
        [ -n "$port" ] && break
        sleep 0.05
    done
    t0=$(date +%s%N)
    pids=()
    for k in 1 2 3; do
        /usr/bin/time -f "%U %S" -o "$work/time$k" "$ccz" psi join 127.0.0.1:$port --tee sim \
            --policy "$work/policy.json" --name "p$k" --data "$work/set$k.txt" \
            --out "$work/out$k.txt" 2> "$work/join$k.log" &
        pids+=($!)
    done
    wait "${pids[@]}"
    t1=$(date +%s%N)
    got=$(wc -l < "$work/out1.txt")
    [ "$got" = $((n / 2)) ] || { echo "run $r: $got items in the intersection, expected $((n / 2))" >&2; exit 1; }
    read -r ut st < <(awk '{print $14, $15}' "/proc/$server/stat")
    peak=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
    kill $server; wait $server 2>/dev/null || true; server=
    walls+=("$(( (t1 - t0) / 1000000 ))")
    scpu+=("$(( (ut + st) * 1000 / tick ))")
    peaks+=("$peak")
    pcpu+=("$(cat "$work/time1" "$work/time2" "$work/time3" | awk '{s += $1 + $2} END {printf "%d", s * 1000}')")
done
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%d %d", a[1], a[int((NR+1)/2)]}'; }
read -r w_min w_med <<< "$(stats "${walls[@]}")"
read -r c_min c_med <<< "$(stats "${scpu[@]}")"
read -r p_min p_med <<< "$(stats "${peaks[@]}")"
read -r q_min q_med <<< "$(stats "${pcpu[@]}")"
printf 'TEE PSI, 3 parties x %d items (16-32 bytes; %d shared), %.1f MB raw, %d runs (SIMULATED TEE)\n' \
    "$n" $((n / 2)) "$(awk -v r="$raw" 'BEGIN {print r / 1e6}')" "$REPEAT"
printf '  %-34s %8s %8s\n' "" min median
printf '  %-34s %8.2f %8.2f\n' "wall, launch to last result (s)" \
    "$(awk -v v="$w_min" 'BEGIN {print v / 1000}')" "$(awk -v v="$w_med" 'BEGIN {print v / 1000}')"
printf '  %-34s %8.2f %8.2f\n' "server CPU (s)" \
    "$(awk -v v="$c_min" 'BEGIN {print v / 1000}')" "$(awk -v v="$c_med" 'BEGIN {print v / 1000}')"
printf '  %-34s %8.2f %8.2f\n' "parties' CPU, the three (s)" \
    "$(awk -v v="$q_min" 'BEGIN {print v / 1000}')" "$(awk -v v="$q_med" 'BEGIN {print v / 1000}')"
printf '  %-34s %8.1f %8.1f\n' "server peak RSS (MB)" \
    "$(awk -v v="$p_min" 'BEGIN {print v * 1024 / 1e6}')" "$(awk -v v="$p_med" 'BEGIN {print v * 1024 / 1e6}')"
printf '  %-34s %8.2f %8.2f\n' "peak RSS / raw data" \
    "$(awk -v v="$p_min" -v r="$raw" 'BEGIN {print v * 1024 / r}')" "$(awk -v v="$p_med" -v r="$raw" 'BEGIN {print v * 1024 / r}')"
