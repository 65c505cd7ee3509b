# SPDX-License-Identifier: Apache-2.0
# Helpers for the CLI tests: each check names what it expected; the script fails at the end
# when any check failed. Needs $CCZ (the ccz binary), jq and openssl.
set -u
failures=0
T=$(mktemp -d "${TMPDIR:-/tmp}/ccz-cli-XXXXXX")
trap 'rm -rf "$T"' EXIT
export CCZ_SIM_DIR="$T/default-sim"

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# need_vectors: sets $V to the shared vectors; when they are absent, skips (77) before any
# check, or fails under CI=true (where missing vectors are a failure, not a skip).
need_vectors() {
    V=${CCZ_VECTORS:-$CCZ_SOURCE_DIR/../shared/vectors}
    [ -d "$V" ] && return 0
    echo "no vectors at $V (set CCZ_VECTORS)"
    [ "${CI:-}" != true ] || { echo "FAIL: CI=true: missing vectors are a failure"; exit 1; }
    exit 77
}

# run EXPECTED_EXIT cmd...: runs, keeps stdout in $out and stderr in $err
run() {
    local want=$1; shift
    out=$("$@" 2>"$T/stderr"); code=$?
    err=$(cat "$T/stderr")
    [ "$code" = "$want" ] || fail "'$*' exited $code, expected $want; stderr: $err"
}

# jqis FILTER EXPECTED: compares jq -r FILTER of $out
jqis() {
    local got
    got=$(printf '%s' "$out" | jq -r "$1" 2>&1)
    [ "$got" = "$2" ] || fail "$1 is '$got', expected '$2'"
}

contains() { case "$1" in *"$2"*) ;; *) fail "'$1' does not contain '$2'";; esac; }

# refused ARGS... -- MESSAGE: ccz ARGS is a usage error (exit 2) saying "ccz: MESSAGE" (within
# 30 s: a server that takes the command line instead serves until then, and exits 124)
refused() {
    local args=()
    while [ "$1" != -- ]; do args+=("$1"); shift; done
    run 2 timeout 30 "$CCZ" "${args[@]}"
    contains "$err" "ccz: $2"
}

# flip FILE OFFSET: XOR one byte with 0x01
flip() {
    local b
    b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# sim_endpoint: a sim platform in $P ($T/plat), the ccz binary's measurement in $M, a policy
# that accepts exactly it in $T/accept.json, and EP=(the options of an endpoint attested there).
sim_endpoint() {
    P=$T/plat
    "$CCZ" sim init --dir "$P" > /dev/null || fail "ccz sim init --dir $P"
    M=$("$CCZ" sim measure "$CCZ")
    echo "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"$M\"}]}" > "$T/accept.json"
    EP=(--tee sim --sim-dir "$P" --policy "$T/accept.json")
}

# port_from LOG [SECONDS] [PID]: waits (60 s by default) for a server started with port 0 to
# write "... on port N" to LOG; N in $PORT. Returns 1 when it did not (or PID ended first).
port_from() {
    local log=$1 tries=$(( ${2:-60} * 20 )) pid=${3:-}
    PORT=
    for _ in $(seq "$tries"); do
        PORT=$(sed -n 's/.* on port \([0-9]*\).*/\1/p' "$log" 2>/dev/null | head -1)
        [ -n "$PORT" ] && return 0
        [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# quiet_port: a free port on 127.0.0.1 below the kernel's ephemeral range, in $PORT, for a
# server that is killed and started again on the same port: no connect() and no port-0 listener
# of another test is given it in between.
quiet_port() {
    PORT=$(/usr/bin/python3 - <<'PY'
import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
if lo < 12000:
    lo = 32768
for _ in range(500):
    p = random.randrange(lo - 10000, lo)
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            continue
    print(p)
    break
PY
)
    [ -n "$PORT" ]
}

# missing WHY...: a prerequisite is absent: the test is skipped (77), or fails under CI=true, where
# scripts/setup has installed everything and a skip would hide a broken machine.
missing() {
    echo "$*"
    [ "${CI:-}" != true ] || { echo "FAIL: CI=true: a missing prerequisite is a failure"; exit 1; }
    exit 77
}

# need_python MODULE...: /usr/bin/python3 (Debian's packages) imports each, or missing.
need_python() {
    local m
    for m; do
        /usr/bin/python3 -c "import $m" 2> /dev/null ||
            missing "python3 cannot import $m (scripts/setup installs Debian's package for it)"
    done
}

# need_fashion_mnist: D and IMG, Fashion-MNIST's test images (Debian's dataset-fashion-mnist).
need_fashion_mnist() {
    D=/usr/share/datasets/fashion-mnist
    IMG=$D/t10k-images-idx3-ubyte.gz
    [ -f "$IMG" ] ||
        missing "Fashion-MNIST is missing at $D (scripts/setup installs dataset-fashion-mnist)"
}

# await FILE [PATTERN] [SECS] [PID]: waits until FILE holds a line matching PATTERN (without
# one: until it is not empty), for up to SECS (default 60: the sanitizer pass on a loaded
# machine can take seconds to start a server) or until PID has exited; 1 when it did not come.
await() {
    local f=$1 pat=${2:-} tries=$(( ${3:-60} * 20 )) pid=${4:-}
    for _ in $(seq "$tries"); do
        if [ -n "$pat" ]; then
            grep -q -- "$pat" "$f" 2> /dev/null && return 0
        else
            [ -s "$f" ] && return 0
        fi
        [ -z "$pid" ] || kill -0 "$pid" 2> /dev/null || return 1
        sleep 0.05
    done
    return 1
}

# reap PID [SECONDS]: the exit status of a background process that ends by itself (a --once
# listener, a server sent SIGTERM); one still running after SECONDS (60) is killed, the check
# fails, and the status is 124. A bare `wait` would hold the test until its time limit.
reap() {
    local pid=$1 tries=$(( ${2:-60} * 20 ))
    for _ in $(seq "$tries"); do
        kill -0 "$pid" 2> /dev/null || { wait "$pid"; return; }
        sleep 0.05
    done
    local name # while the process is still there to be named
    name=$(basename "$(readlink "/proc/$pid/exe" 2> /dev/null || echo '?')")
    kill -KILL "$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
    fail "process $pid ($name) did not end within ${2:-60} s"
    return 124
}

finish() {
    if [ "$failures" -gt 0 ]; then echo "$failures checks failed"; exit 1; fi
    echo "all checks passed"
}
