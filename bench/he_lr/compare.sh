#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Encrypted logistic-regression inference (issue 18) against its anchor: CCZoo's lr_infer_he_sgx
# sample re-implemented on Microsoft SEAL (with Intel HEXL) outside the repository, named by
# LR_SEAL (a driver: lr_seal EVAL.csv MODEL.csv, one JSON object; docs/perf.md says how it was
# built). Without it only ccz is measured. CCZoo's 2,000 x 80 data set and model, the toolkit's
# chain (60,45,45,45,45,60, scale 2^45) on both sides, and ccz's 128-bit-secure default beside
# them. ccz runs as the solution does: 'ccz he lr serve' on the SIMULATED TEE and 'ccz he lr
# infer' over loopback two-way RA-gRPC, both pinned to the same core with one thread; the SEAL
# port in one process, its gRPC calls replaced by the sample's SEAL serialization (zstd) into
# memory (so it pays no network or TLS). Interleaved, REPEAT runs. Figures: end to end as the
# issue defines it (encode and encrypt, infer, decrypt and decode; wall clock), and the CPU time
# of everything (keys, InitCtx, inference; ccz's two processes summed, their start-up and CSV
# parsing included). Goal: >= 2x end to end. Also the bytes on the wire against CCZoo's
# published sizes (public key 709,085 B, relinearization keys 3,545,129 B after zstd).
# Usage: bench/he_lr/compare.sh [BUILD_DIR]   (REPEAT, CPU from the environment)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
REPEAT=${REPEAT:-3}
CPU=${CPU:-1}
ccz=$build/ccz
data=${CCZ_DATA:-$root/../shared/data}/cczoo/lr_infer_he_sgx/datasets
eval_csv=$data/lrtest_mid_eval.csv
model_csv=$data/lrtest_mid_lrmodel.csv
if [ ! -f "$eval_csv" ] || [ ! -f "$model_csv" ]; then echo "he-lr: skipped: no CCZoo data in $data"; exit 0; fi
pin() { taskset -c "$CPU" "$@"; }
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mn() { printf '%s\n' "$@" | sort -g | head -1; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

work=$(mktemp -d "${TMPDIR:-/tmp}/ccz-he-lr-bench-XXXXXX")
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
export CCZ_SIM_DIR=${CCZ_SIM_DIR:-$work/sim}
"$ccz" sim info > /dev/null 2>&1 || "$ccz" sim init > /dev/null
m=$("$ccz" sim measure "$ccz")
echo "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"$m\"}]}" > "$work/policy.json"
# taskset directly (not the function): $! must be the server itself, for its CPU time and to stop it
taskset -c "$CPU" "$ccz" he lr serve --model "$model_csv" --listen 127.0.0.1:0 --tee sim \
    --insecure-params --threads 1 2> "$work/server.log" > /dev/null &
server=$!
port=
for _ in $(seq 400); do
    port=$(sed -n 's/.*serving inference.Inference on port \([0-9]*\).*/\1/p' "$work/server.log")
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { cat "$work/server.log" >&2; exit 1; }

echo "he-lr: 2,000 x 80, one thread each pinned to CPU $CPU; repeats: $REPEAT; SEAL driver:" \
    "${LR_SEAL:-not given}; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A v=()
ccz_run() { # NAME [infer options]: one client run; figures into v[NAME.*]
    local name=$1; shift
    local t0 log=$work/$name.log
    t0=$(ticks "$server")
    pin /usr/bin/time -f 'cpu %U %S' "$ccz" he lr infer "127.0.0.1:$port" --data "$eval_csv" \
        --policy "$work/policy.json" --threads 1 "$@" > "$work/$name.out" 2> "$log" ||
        { cat "$log" >&2; exit 1; }
    local st; st=$(( $(ticks "$server") - t0 ))
    local acc; acc=$(sed -n 's/^accuracy: //p' "$work/$name.out")
    [ "$acc" = 0.944 ] || { echo "he-lr: $name: accuracy '$acc'" >&2; exit 1; }
    local l; l=$(grep 'end to end' "$log")
    v[$name.e2e]+="$(sed -n 's/.*end to end (encrypt, infer, decrypt) \([0-9.]*\) s.*/\1/p' <<< "$l") "
    v[$name.enc]+="$(sed -n 's/.*encrypt \([0-9.]*\) s, InitCtx.*/\1/p' <<< "$l") "
    v[$name.infer]+="$(sed -n 's/.*Infer \([0-9.]*\) s.*/\1/p' <<< "$l") "
    v[$name.dec]+="$(sed -n 's/.*decrypt \([0-9.]*\) s; end.*/\1/p' <<< "$l") "
    v[$name.cpu]+="$(awk -v s="$st" -v hz="$hz" '/^cpu / {printf "%.3f", $2 + $3 + s / hz}' "$log") "
    v[$name.bytes]=$(grep 'sent parameters' "$log" | sed 's/^ccz he lr: //')
}
for _ in $(seq "$REPEAT"); do
    ccz_run toolkit --insecure-params
    ccz_run secure
    if [ -n "${LR_SEAL:-}" ]; then
        out=$(pin "$LR_SEAL" "$eval_csv" "$model_csv")
        [ "$(jq -r .accuracy <<< "$out")" = 0.944 ] || { echo "he-lr: SEAL: $out" >&2; exit 1; }
        v[seal.e2e]+="$(jq -r .end_to_end_s <<< "$out") "
        v[seal.enc]+="$(jq -r .encrypt_s <<< "$out") "
        v[seal.infer]+="$(jq -r .infer_s <<< "$out") "
        v[seal.dec]+="$(jq -r .decrypt_s <<< "$out") "
        v[seal.cpu]+="$(jq -r .total_cpu_s <<< "$out") "
        seal_out=$out
    fi
    echo "  load average after the repeat: $(cut -d' ' -f1-3 /proc/loadavg)"
done
printf '\n%-46s %-18s %-18s %-18s %-18s %-18s\n' "seconds (min / median)" "end to end" encrypt \
    infer decrypt "CPU, everything"
for side in toolkit secure seal; do
    [ -n "${v[$side.e2e]:-}" ] || continue
    row=()
    for f in e2e enc infer dec cpu; do
        # shellcheck disable=SC2086
        row+=("$(printf '%.3f / %.3f' "$(mn ${v[$side.$f]})" "$(med ${v[$side.$f]})")")
    done
    case $side in
        toolkit) name="ccz, the toolkit's chain (--insecure-params)" ;;
        secure) name="ccz, 128-bit-secure preset (default)" ;;
        seal) name="SEAL port of the sample (toolkit's chain)" ;;
    esac
    printf '  %-44s %-18s %-18s %-18s %-18s %-18s\n' "$name" "${row[@]}"
done
echo
echo "bytes, ccz (toolkit's chain): ${v[toolkit.bytes]}"
echo "bytes, ccz (secure preset):   ${v[secure.bytes]}"
if [ -n "${LR_SEAL:-}" ]; then
    jq -r '"bytes, SEAL port (zstd):     parameters \(.params_bytes) B, public key \(.pk_bytes) B " +
        "(uncompressed \(.pk_bytes_raw)), relinearization keys \(.rlk_bytes) B (uncompressed " +
        "\(.rlk_bytes_raw)), data \(.data_bytes) B; received \(.result_bytes) B"' <<< "$seal_out"
fi
echo "CCZoo publishes: public key 709,085 B, relinearization keys 3,545,129 B (after zstd)"
if [ -n "${LR_SEAL:-}" ]; then
    echo
    for side in toolkit secure; do
        # shellcheck disable=SC2086
        rw=$(awk -v a="$(med ${v[seal.e2e]})" -v b="$(med ${v[$side.e2e]})" 'BEGIN {printf "%.2f", a / b}')
        # shellcheck disable=SC2086
        rc=$(awk -v a="$(med ${v[seal.cpu]})" -v b="$(med ${v[$side.cpu]})" 'BEGIN {printf "%.2f", a / b}')
        met=$(awk -v r="$rw" 'BEGIN {print (r >= 2) ? "met" : "NOT met"}')
        printf 'SEAL / ccz (%s), by medians: end to end %sx (goal >= 2x: %s); CPU of everything %sx\n' \
            "$side" "$rw" "$met" "$rc"
    done
fi
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
server=
