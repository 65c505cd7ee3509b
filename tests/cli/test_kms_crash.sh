#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The KMS killed (SIGKILL) under load loses nothing it acknowledged: tests/svc/kms_load.py runs
# CreateKey + Encrypt in a loop and journals (fsync'd) every answer 200; 1-3 s (random) after
# the first acknowledged key the KMS is killed, restarted on the same data directory or
# database, and every journalled key must be listed (ListKey) and every journalled ciphertext
# must Decrypt to its plaintext. With SQLite, and with PostgreSQL (a throwaway server,
# tests/store/pg_server.sh) when its server binaries are there (CI=true: they must be).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
if ! /usr/bin/python3 -c 'import requests, cryptography' 2>/dev/null; then
    why="python3-requests or python3-cryptography absent"
    [ "${CI:-}" != true ] || { echo "FAIL: $why, and CI=true forbids skipping for it"; exit 1; }
    echo "skipped: $why"
    exit 77
fi

pg=
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    if [ -n "$pg" ]; then
        bash "$here/../store/pg_server.sh" stop "$pg" || true
        rm -rf "$pg"
    fi
    rm -rf "$T"
}
trap cleanup EXIT

P=$T/plat
"$CCZ" sim init --dir "$P" >/dev/null || { echo "FAIL: sim init"; exit 1; }
# an ordinary certificate, as eHSM's SDKs (and the driver, through requests) expect
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$T/tls.key" -out "$T/tls.crt" 2>/dev/null ||
    { echo "FAIL: openssl req"; exit 1; }

# serve NAME ARGS...: the KMS in the background (data dir $T/NAME), waits until it serves; each
# start has its own log, $T/NAME.N.log
starts=0
serve() {
    local name=$1; shift
    starts=$((starts + 1))
    local log=$T/$name.$starts.log
    : > "$log" # not the last server's log: its port is not this one's
    "$CCZ" kms serve --listen 127.0.0.1:0 --tee sim --sim-dir "$P" --tls-cert "$T/tls.crt" \
        --tls-key "$T/tls.key" --data-dir "$T/$name" "$@" 2> "$log" &
    KMS_PID=$!
    pids+=("$KMS_PID")
    PORT=
    for _ in $(seq 1 150); do
        PORT=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$log")
        [ -n "$PORT" ] && return 0
        kill -0 "$KMS_PID" 2>/dev/null || break
        sleep 0.1
    done
    fail "the KMS ($name) did not start: $(cat "$log")"
    return 1
}

# crash NAME ARGS...: load, kill -9, restart, verify
crash() {
    local name=$1; shift
    local t0=$SECONDS
    serve "$name" "$@" || return
    run 0 "$CCZ" kms enroll "127.0.0.1:$PORT" --admin-token "$(cat "$T/$name/admin-token")" \
        --cacert "$T/tls.crt"
    local appid apikey
    appid=$(printf '%s' "$out" | jq -r .appid) apikey=$(printf '%s' "$out" | jq -r .apikey)
    local drv=(/usr/bin/python3 "$here/../svc/kms_load.py" --cacert "$T/tls.crt" --appid "$appid"
               --apikey "$apikey" --journal "$T/$name.journal")
    "${drv[@]}" "https://127.0.0.1:$PORT" load > "$T/$name.load" 2>&1 &
    local driver=$!
    # the kill comes 1-3 s after the first acknowledged key, not after the driver's start: under
    # ASan on a loaded machine the first key can take longer than that, and a kill before it
    # leaves nothing to verify
    for _ in $(seq 1 300); do
        [ -s "$T/$name.journal" ] && break
        kill -0 "$driver" 2>/dev/null || break
        sleep 0.1
    done
    local ms=$((1000 + RANDOM % 2001))
    sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
    kill -9 "$KMS_PID"
    wait "$KMS_PID" 2>/dev/null
    wait "$driver" || fail "$name: the load driver exited $?: $(cat "$T/$name.load")"
    local load
    load=$(cat "$T/$name.load")
    case "$load" in
        *"stopped by the time limit"*) fail "$name: the load ended before the KMS was killed";;
        *"stopped by"*) ;;
        *) fail "$name: the load driver said: $load";;
    esac
    serve "$name" "$@" || return # on another port
    run 0 "${drv[@]}" "https://127.0.0.1:$PORT" verify
    local keys
    keys=$(printf '%s' "$out" | sed -n 's/^verify: \([0-9]*\) keys acknowledged.*/\1/p')
    [ -n "$keys" ] && [ "$keys" -gt 0 ] || fail "$name: no key acknowledged before the kill: $load"
    contains "$out" "verify: $keys keys acknowledged, $keys verified"
    local summary=$out
    # the check itself notices a loss: a journal with a key the KMS never made fails
    cp "$T/$name.journal" "$T/$name.lost"
    echo '{"keyid": "00000000-0000-4000-8000-000000000000"}' >> "$T/$name.lost"
    local lost=("${drv[@]}")
    lost[${#lost[@]} - 1]=$T/$name.lost
    run 1 "${lost[@]}" "https://127.0.0.1:$PORT" verify
    contains "$out" "FAIL: acknowledged key 00000000-0000-4000-8000-000000000000 is not in ListKey"
    kill -TERM "$KMS_PID"
    wait "$KMS_PID" || fail "$name: the restarted KMS exited $? after SIGTERM"
    echo "$name (killed ${ms} ms after its first key): ${load#load: }"
    echo "$name: ${summary#verify: } in $((SECONDS - t0)) s"
}

crash sqlite

if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    pg=$(mktemp -d /tmp/ccz-pg.XXXXXX) # reachable by the postgres user: not under $T
    if uri=$(bash "$here/../store/pg_server.sh" start "$pg"); then
        crash postgresql --db "$uri"
    else
        fail "PostgreSQL did not start"
    fi
else
    why="PostgreSQL 15 server binaries absent (apt-get install postgresql)"
    [ "${CI:-}" != true ] || fail "$why, and CI=true forbids skipping the PostgreSQL part"
    echo "PostgreSQL part skipped: $why"
fi
finish
