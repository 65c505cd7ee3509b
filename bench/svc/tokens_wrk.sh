#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Attestation tokens as a service's throughput (issue 14): the attestation service pinned to
# CPU SERVER_CPU answers POST /v1/attest from wrk (CONNS keep-alive connections, one thread,
# pinned to CPU CLIENT_CPU, so the client's work is not the service's); beside it, on the same
# CPU, the bare verification and appraisal of the same evidence (svc_bench's loop). For sim
# evidence and for a real SGX quote with collateral cached by the service. REPEAT rounds,
# interleaved; prints each run, then min and median, and the ratio of medians.
# usage: bench/svc/tokens_wrk.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
ccz=$build/ccz
V=${CCZ_VECTORS:-$root/../shared/vectors}
REPEAT=${REPEAT:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-16}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
Q=$V/Phala-Network_dcap-qvl/sample/sgx_quote
C=$V/Phala-Network_dcap-qvl/sample/sgx_quote_collateral.json
AT=1752919277
command -v wrk >/dev/null || { echo "tokens_wrk: wrk is not installed (scripts/setup)"; exit 2; }
work=$(mktemp -d /tmp/ccz-tokens-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
"$ccz" sim init --dir plat >/dev/null
echo '{"allow_sim": true, "allow_debug": true, "accepted_tcb_statuses": ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"]}' > policy.json
CCZ_SIM_DIR=plat "$ccz" attest --tee sim --sim-dir plat -o ev.bin 2>/dev/null
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "tokens_wrk: port $1 never opened"; exit 1; }
serve() { # DATA_DIR PORT [extra options]; the pid in $spid
    local d=$1 p=$2; shift 2
    CCZ_LOG=warn taskset -c "$SERVER_CPU" "$ccz" attestation serve --listen 127.0.0.1:$p \
        --data-dir "$d" --sim-dir plat --policy policy.json "$@" > /dev/null 2>> serve.log &
    spid=$!
    pids+=($spid)
    wait_port "$p"
}
lua() { # EVIDENCE_FILE OUT
    printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[{"evidence":"%s"}]]\n' \
        "$(base64 -w0 "$1")" > "$2"
}
lua ev.bin sim.lua
lua "$Q" sgx.lua
p1=$(free_port); serve d1 "$p1"; s1=$spid
p2=$(free_port); serve d2 "$p2" --collateral "$C" --verify-at-insecure $AT; s2=$spid
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tokens() { # PID PORT LUA -> "rate cpu_us"
    local t0 t1 out n
    t0=$(cpu_ticks "$1")
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$3" "https://127.0.0.1:$2/v1/attest")
    t1=$(cpu_ticks "$1")
    ! grep -q Non-2xx <<< "$out" || { echo "tokens_wrk: refused tokens: $out" >&2; exit 1; }
    n=$(awk '/requests in/ {print $1}' <<< "$out")
    echo "$(awk '/Requests\/sec/ {print $2}' <<< "$out") $(awk -v d=$((t1 - t0)) -v n="$n" 'BEGIN { printf "%.1f", d * 10000 / n }')"
}
declare -A res
for r in $(seq "$REPEAT"); do
    out=$(taskset -c "$SERVER_CPU" "$build/bench/svc_bench" plat "$DURATION" "$Q" "$C" $AT 2>/dev/null)
    res[vsim]+="$(jq -r '"\(.sim_verify_per_s) \(.sim_verify_cpu_us)"' <<< "$out");"
    res[vsgx]+="$(jq -r '"\(.sgx_verify_per_s) \(.sgx_verify_cpu_us)"' <<< "$out");"
    res[tsim]+="$(tokens "$s1" "$p1" sim.lua);"
    res[tsgx]+="$(tokens "$s2" "$p2" sgx.lua);"
done
col() { tr ';' '\n' <<< "$2" | awk -v k="$1" 'NF {print $k}' | sort -g; }
med() { local n; n=$(col 1 "$1" | wc -l); col "$2" "$1" | sed -n "$(( (n + 1) / 2 ))p"; }
printf '%-40s %10s %10s %12s\n' figure "min/s" "median/s" "CPU us/op"
for k in vsim tsim vsgx tsgx; do
    case $k in
        vsim) l="bare verification, sim evidence" ;; tsim) l="tokens (wrk), sim evidence" ;;
        vsgx) l="bare verification, SGX quote" ;; tsgx) l="tokens (wrk), SGX quote, collateral cached" ;;
    esac
    printf '%-40s %10.0f %10.0f %12.1f\n' "$l" "$(col 1 "${res[$k]}" | head -1)" "$(med "${res[$k]}" 1)" "$(med "${res[$k]}" 2)"
done
for e in sim sgx; do
    awk -v t="$(med "${res[t$e]}" 1)" -v v="$(med "${res[v$e]}" 1)" -v tc="$(med "${res[t$e]}" 2)" -v vc="$(med "${res[v$e]}" 2)" -v e=$e \
        'BEGIN { printf "%s: tokens / bare verification = %.2fx by rate, %.2fx by CPU time\n", e, t / v, vc / tc }'
done
